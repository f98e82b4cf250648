"""The vector-IR sample kernels (encoder/sample_vec.py, issue 16) against jccolor.c's and jcsample.c's
formulas: every one of the 2**24 RGB triples through the vector path and through the scalar tail, rows
of widths 1..70 (vector groups plus tails), every downsampling factor with edge replication, the
generic (non-x86) pmaddwd formulation, and the fused front end on images wide enough for the vector
paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fdjpeg.base.fixedpoint import (
    CBCR_OFFSET,
    FIX_0_08131,
    FIX_0_11400,
    FIX_0_16874,
    FIX_0_29900,
    FIX_0_33126,
    FIX_0_41869,
    FIX_0_50000,
    FIX_0_58700,
    ONE_HALF,
)
from fdjpeg.base.layout import SUBSAMPLING, FrameLayout
from fdjpeg.encoder.color import rgb_to_ycbcr
from fdjpeg.encoder.compress import image_to_coefficients
from fdjpeg.encoder.downsample import downsample, pad_plane
from fdjpeg.encoder.fdct import forward_dct_quantize
from fdjpeg.encoder.sample_vec import COLOR_N
from fdjpeg.testing import images, quant_tables


def _ycc_reference(rgb):
    """jccolor.c rgb_ycc_convert in int64 NumPy."""
    r, g, b = (rgb[..., k].astype(np.int64) for k in range(3))
    c = CBCR_OFFSET + ONE_HALF - 1
    y = (FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> 16
    cb = (-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + c) >> 16
    cr = (FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + c) >> 16
    return y, cb, cr


def _all_triples(width):
    """Every RGB triple once, as an image of the given width (the last row completed with triple 0)."""
    n = 1 << 24
    rows = -(-n // width)
    v = np.zeros(rows * width, np.uint32)
    v[:n] = np.arange(n, dtype=np.uint32)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8)
    return rgb.reshape(rows, width, 3)


def _check_exhaustive(width):
    img = _all_triples(width)
    got = rgb_to_ycbcr(img)
    for i in range(0, img.shape[0], 256):  # the int64 reference a slab at a time
        ref = _ycc_reference(img[i : i + 256])
        for g, r, name in zip(got, ref, "Y Cb Cr".split()):
            assert np.array_equal(g[i : i + 256], r), name


def test_every_rgb_triple_vector_path():
    _check_exhaustive(64 * COLOR_N)  # whole vector groups only


def test_every_rgb_triple_scalar_tail():
    _check_exhaustive(COLOR_N - 1)  # too narrow for a vector group: the scalar loop only


@given(width=st.integers(1, 70), height=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_colour_rows_of_any_width(width, height, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    img[rng.random((height, width)) < 0.2] = rng.choice([0, 255], 3)  # extremes
    for g, r in zip(rgb_to_ycbcr(img), _ycc_reference(img)):
        assert np.array_equal(g, r)


@pytest.mark.parametrize("variant", [False, "sse2", "avx2", "avx512bw"])
def test_pmaddwd_variants(variant):
    """Each vpmaddwd variant the target has, and the fallback for targets without it (even/odd products),
    compiled and run here on 2**21 triples (extremes of every channel included)."""
    from numba import njit

    from fdjpeg.base.vecir import _target_features
    from fdjpeg.encoder.sample_vec import _make_rgb_ycc

    if variant:
        from numba.core.registry import cpu_target

        if variant not in _target_features(cpu_target.target_context):
            pytest.skip(f"this CPU has no {variant}")
    vec = _make_rgb_ycc(COLOR_N, native=variant)

    @njit
    def run(src, y, cb, cr):
        for x in range(0, y.shape[0], COLOR_N):
            vec(src, 3 * x, y, cb, cr, x)

    img = _all_triples(COLOR_N * 1024)[list(range(0, 256, 8)) + [255]]  # rows of 65536 pixels: R = 0, 8, ..., 248, 255
    flat = img.reshape(-1)
    n = flat.shape[0] // 3
    y, cb, cr = (np.empty(n, np.uint8) for _ in range(3))
    run(flat, y, cb, cr)
    for g, r in zip((y, cb, cr), _ycc_reference(img)):
        assert np.array_equal(g, r.reshape(-1))


def _down_reference(plane, hexp, vexp):
    """jcsample.c: h2v1 bias 0, 1; h2v2 bias 1, 2; otherwise (sum + n/2) // n."""
    rows, cols = plane.shape
    s = plane.astype(np.int64).reshape(rows // vexp, vexp, cols // hexp, hexp).sum((1, 3))
    if (hexp, vexp) == (2, 1):
        bias = np.arange(s.shape[1]) % 2
    elif (hexp, vexp) == (2, 2):
        bias = 1 + np.arange(s.shape[1]) % 2
    else:
        bias = np.full(s.shape[1], hexp * vexp // 2)
    return (s + bias) // (hexp * vexp)


@given(
    width=st.integers(1, 140),
    height=st.integers(1, 9),
    factors=st.sampled_from([(1, 1), (2, 1), (2, 2), (1, 2), (4, 1), (4, 2), (3, 1), (4, 4)]),
    seed=st.integers(0, 2**32 - 1),
)
def test_downsample_with_edge_replication(width, height, factors, seed):
    hexp, vexp = factors
    rng = np.random.default_rng(seed)
    plane = rng.integers(0, 256, (height, width), dtype=np.uint8)
    plane[rng.random(plane.shape) < 0.3] = 255
    out_cols = -(-width // hexp)
    full = pad_plane(plane, -(-height // vexp) * vexp, out_cols * hexp)
    assert np.array_equal(downsample(full, hexp, vexp), _down_reference(full, hexp, vexp))


def _reference_front_end(image, q, subsampling):
    """test_encoder_stages._stage_by_stage with the NumPy formulas above for colour and downsampling."""
    height, width = image.shape[:2]
    layout = FrameLayout(width, height, (SUBSAMPLING[subsampling], (1, 1), (1, 1)))
    out = []
    for c, plane in enumerate(_ycc_reference(image)):
        h, v = layout.sampling[c]
        hexp, vexp = layout.max_h // h, layout.max_v // v
        by, bx = layout.blocks(c)
        full = pad_plane(plane.astype(np.uint8), -(-height // layout.max_v) * layout.max_v, bx * 8 * hexp)
        down = _down_reference(full, hexp, vexp).astype(np.uint8)
        out.append(forward_dct_quantize(pad_plane(down, by * 8, bx * 8), q))
    return out


@given(
    image=images(min_side=60, max_side=140, channels=(3,)),
    subsampling=st.sampled_from(list(SUBSAMPLING)),
    q=quant_tables(max_value=2),  # fine quantization: a one-level change of a sample shows
)
def test_fused_front_end_wide_images(image, subsampling, q):
    """Widths where the fused front end's rows take the vector kernels (and their tails), against the
    NumPy formulas for colour and downsampling."""
    coefs = image_to_coefficients(image, [q], subsampling)
    for c, ref in enumerate(_reference_front_end(image, q, subsampling)):
        by, bx = ref.shape[:2]
        assert np.array_equal(coefs.components[c][:by, :bx].reshape(by, bx, 64), ref), f"component {c}"
