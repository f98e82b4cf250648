"""The decoder's vector-IR colour kernels (decoder/color_vec.py, issue 16) against the scalar path they
replace: jdcolor.c's tables (color.py) for every one of the 2**24 (Y, Cb, Cr) triples, through both
kernels (h2v2-fancy-upsampled chroma and full-size chroma); every x86 variant the CPU has of the three
named instructions and their generic formulations; and compose() on random planes of any size against
upsample() + planes_to_output(), the row-by-row scalar reference, with contiguous and strided planes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from fdjpeg.decoder.color import YCC_RGB_TABLES, planes_to_output
from fdjpeg.decoder.color_vec import VEC_N, _make_full, _make_h2v2
from fdjpeg.decoder.compose import _ycc_full_row, _ycc_h2v2_row, compose
from fdjpeg.decoder.upsample import upsample


def _reference(y, cb, cr):
    """jdcolor.c ycc_rgb_convert through its tables (int64 NumPy, broadcasting)."""
    t = YCC_RGB_TABLES
    y = y.astype(np.int64)
    r = y + t[0][cr]
    g = y + ((t[3][cb] + t[2][cr]) >> 16)
    b = y + t[1][cb]
    return np.stack(np.broadcast_arrays(r, g, b), -1).clip(0, 255).astype(np.uint8)


#: A row whose pixels 2 .. 257 hold Y = 0 .. 255 (the h2v2 kernel's vector groups start at pixel 2).
_H2V2_W = 260
_Y_H2V2 = np.clip(np.arange(_H2V2_W) - 2, 0, 255).astype(np.uint8)


@njit
def _all_h2v2(yrow, out):
    """Row k = 256 cb + cr: constant chroma rows (so every upsampled sample is that value)."""
    w = yrow.shape[0]
    dw = (w + 1) // 2
    cbr = np.empty(dw, np.uint8)
    crr = np.empty(dw, np.uint8)
    s1 = np.empty(w, np.uint8)
    s2 = np.empty(w, np.uint8)
    for k in range(out.shape[0]):
        cbr[:] = k >> 8
        crr[:] = k & 255
        _ycc_h2v2_row(yrow, cbr, cbr, crr, crr, out[k], w, dw, s1, s2)


@njit
def _all_full(yrow, out):
    w = yrow.shape[0]
    cbr = np.empty(w, np.uint8)
    crr = np.empty(w, np.uint8)
    for k in range(out.shape[0]):
        cbr[:] = k >> 8
        crr[:] = k & 255
        _ycc_full_row(yrow, cbr, crr, out[k], w)


def _pairs():
    k = np.arange(1 << 16)
    return (k >> 8)[:, None], (k & 255)[:, None]


def test_every_ycbcr_triple_h2v2_kernel():
    out = np.empty((1 << 16, 3 * _H2V2_W), np.uint8)
    _all_h2v2(_Y_H2V2, out)
    cb, cr = _pairs()
    assert np.array_equal(out.reshape(1 << 16, _H2V2_W, 3), _reference(_Y_H2V2[None, :], cb, cr))


def test_every_ycbcr_triple_full_kernel():
    yrow = np.arange(256, dtype=np.uint8)
    out = np.empty((1 << 16, 3 * 256), np.uint8)
    _all_full(yrow, out)
    cb, cr = _pairs()
    assert np.array_equal(out.reshape(1 << 16, 256, 3), _reference(yrow[None, :], cb, cr))


def _h2v2_reference(yrow, near, far, width):
    """jdsample.c h2v2_fancy_upsample of one chroma row pair (columns duplicated at both ends)."""
    cs = 3 * near.astype(np.int64) + far
    left = np.concatenate([cs[:1], cs[:-1]])
    right = np.concatenate([cs[1:], cs[-1:]])
    up = np.empty(2 * cs.shape[0], np.int64)
    up[0::2] = (3 * cs + left + 8) >> 4
    up[1::2] = (3 * cs + right + 7) >> 4
    return up[:width]


@pytest.mark.parametrize("variant", [False, "sse2", "ssse3", "avx2", "avx512bw"])
def test_x86_variants(variant):
    """Each x86 variant the target has of vpmaddwd / vpmulhrsw / vpackuswb (a feature name selects only
    that one; the others take their generic formulation, as False does for all three), both kernels,
    on random rows with saturating extremes, and on every (Cb, Cr) pair at a few Y values."""
    if variant:
        from numba.core.registry import cpu_target

        from fdjpeg.base.vecir import _target_features

        if variant not in _target_features(cpu_target.target_context):
            pytest.skip(f"this CPU has no {variant}")
    h2v2, full = _make_h2v2(VEC_N, native=variant), _make_full(VEC_N, native=variant)

    @njit
    def run(yr, cbn, cbf, crn, crf, out_h, out_f):
        for x in range(2, yr.shape[0] - VEC_N + 1, VEC_N):
            h2v2(yr, cbn, cbf, crn, crf, out_h, x)
        for x in range(0, yr.shape[0] - VEC_N + 1, VEC_N):
            full(yr, cbn, crn, out_f, x)

    rng = np.random.default_rng(7)
    n = 2 + VEC_N * 1024
    groups = (n - 2) // VEC_N * VEC_N
    for extreme in (False, True):
        yr, cbn, cbf, crn, crf = (rng.integers(0, 256, n, dtype=np.uint8) for _ in range(5))
        if extreme:  # every saturation: Y at its ends with chroma at its ends
            yr, cbn, cbf, crn, crf = (rng.choice(np.array([0, 1, 254, 255], np.uint8), n) for _ in range(5))
        out_h = np.zeros(3 * n, np.uint8)
        out_f = np.zeros(3 * n, np.uint8)
        run(yr, cbn, cbf, crn, crf, out_h, out_f)
        cb = _h2v2_reference(yr, cbn, cbf, 2 * n)[:n]
        cr = _h2v2_reference(yr, crn, crf, 2 * n)[:n]
        sl = slice(2, 2 + groups)
        assert np.array_equal(out_h.reshape(n, 3)[sl], _reference(yr[sl], cb[sl], cr[sl]))
        full_px = n // VEC_N * VEC_N
        assert np.array_equal(out_f.reshape(n, 3)[:full_px], _reference(yr, cbn, crn)[:full_px])
    cbs, crs = (c[:, 0].astype(np.uint8) for c in _pairs())  # every (Cb, Cr) pair, full-size kernel
    for yv in (0, 77, 128, 255):
        yr = np.full(cbs.shape[0], yv, np.uint8)
        out_f = np.zeros(3 * yr.shape[0], np.uint8)
        run(yr, cbs, cbs, crs, crs, np.zeros(3 * yr.shape[0], np.uint8), out_f)
        assert np.array_equal(out_f.reshape(-1, 3), _reference(yr, cbs, crs))


def _scalar_compose(planes, sampling, width, height):
    hmax = max(h for h, _ in sampling)
    vmax = max(v for _, v in sampling)
    full = []
    for p, (h, v) in zip(planes, sampling):
        dw, dh = -(-width * h // hmax), -(-height * v // vmax)
        full.append(upsample(np.ascontiguousarray(p), hmax // h, vmax // v, width, height, dw, dh))
    return planes_to_output(full, "YCbCr")


@given(
    width=st.integers(1, 300),
    height=st.integers(1, 6),
    sampling=st.sampled_from([((2, 2), (1, 1), (1, 1)), ((1, 1), (1, 1), (1, 1)), ((2, 1), (1, 1), (1, 1))]),
    strided=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_compose_against_scalar_rows(width, height, sampling, strided, seed):
    """compose() (vector kernels where the row allows, scalar ends) equals upsampling + table colour
    conversion; strided planes take the scalar path and give the same pixels."""
    rng = np.random.default_rng(seed)
    hmax, vmax = 2 if sampling[0][0] == 2 else 1, 2 if sampling[0][1] == 2 else 1
    planes = []
    for h, v in sampling:
        dh, dw = -(-height * v // vmax), -(-width * h // hmax)
        p = rng.integers(0, 256, (dh, 2 * dw if strided else dw), dtype=np.uint8)
        p[rng.random(p.shape) < 0.2] = rng.choice([0, 255])
        planes.append(p[:, ::2] if strided else p)
    got = compose(planes, sampling, width, height, "YCbCr")
    assert np.array_equal(got, _scalar_compose(planes, sampling, width, height))
