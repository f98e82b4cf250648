"""The islow IDCT: against a slow float reference (bounded error), and bit-exact against libjpeg-turbo
through Pillow, for ordinary and for hostile (overflowing) coefficients, in each of its arithmetics.
The batched fast paths (IDCT and FDCT) equal their one-block-at-a-time reference kernels."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image

from fdjpeg.coefficients import JPEGCoefficients
from fdjpeg.dct import (
    _fdct_idct_plane,
    _fdct_quantize_block,
    _fdct_quantize_plane,
    _idct_islow_plane,
    _idct_planes,
    _idct_planes_parallel,
    _idct_rows_exact,
    dct_matrix,
    forward_dct_quantize,
    idct_float_reference,
    idct_multipliers,
    idct_tasks,
    inverse_dct_dequantize,
    quant_divisors,
)
from fdjpeg.decoder import coefficients_to_pixels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jpeg_craft import craft_jpeg  # noqa: E402


def _float_idct_pixels(coefs, q):
    """Reference decode of (by, bx, 8, 8) quantized coefficients: float IDCT, +128, round half up, clamp."""
    by, bx = coefs.shape[:2]
    out = np.empty((by * 8, bx * 8))
    for i in range(by):
        for j in range(bx):
            out[i * 8:i * 8 + 8, j * 8:j * 8 + 8] = idct_float_reference(coefs[i, j] * q) + 128
    return np.clip(np.floor(out + 0.5 + 1e-9), 0, 255)  # libjpeg rounds exact halves up


def test_float_reference_inverts_dct_matrix():
    c = dct_matrix()
    x = np.random.default_rng(0).normal(size=(8, 8))
    assert np.allclose(idct_float_reference(c @ x @ c.T), x)


@given(
    seed=st.integers(0, 2**32 - 1),
    qmax=st.sampled_from([1, 2, 16, 64, 255]),
    kind=st.sampled_from(["noise", "gradient", "flat"]),
)
def test_islow_idct_close_to_float_reference(seed, qmax, kind):
    """For coefficients of real 8-bit blocks the integer IDCT is within 1 of the exact float IDCT
    (the IEEE 1180 peak-error bound the islow algorithm is designed for)."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        px = rng.integers(0, 256, (32, 32))
    elif kind == "gradient":
        px = np.add.outer(np.arange(32) * rng.integers(0, 8), np.arange(32) * rng.integers(0, 8)) % 256
    else:
        px = np.full((32, 32), rng.integers(0, 256))
    q = rng.integers(1, qmax + 1, (8, 8))
    coefs = forward_dct_quantize(px.astype(np.uint8), q).reshape(4, 4, 8, 8)
    got = inverse_dct_dequantize(coefs, q).astype(np.int64)
    ref = _float_idct_pixels(coefs, q)
    assert np.abs(got - ref).max() <= 1


def test_islow_idct_mean_error_is_small():
    """Aggregated over many blocks of random pixels (IEEE 1180 style), the integer IDCT rarely
    differs from the rounded float IDCT at all."""
    rng = np.random.default_rng(1180)
    q = np.ones((8, 8), np.int64)
    coefs = forward_dct_quantize(rng.integers(0, 256, (256, 256)).astype(np.uint8), q).reshape(32, 32, 8, 8)
    err = np.abs(inverse_dct_dequantize(coefs, q).astype(np.int64) - _float_idct_pixels(coefs, q))
    assert err.max() <= 1 and err.mean() < 0.02


def test_dc_only_block_is_flat():
    coefs = np.zeros((1, 1, 8, 8), np.int16)
    for dc in range(-130, 131, 7):
        coefs[0, 0, 0, 0] = dc
        out = inverse_dct_dequantize(coefs, np.full((8, 8), 8))
        assert np.all(out == np.clip(dc + 128, 0, 255))


def test_arithmetics_agree_on_ordinary_coefficients():
    """Coefficients of real 8-bit blocks never reach the overflow paths, so all arithmetics agree."""
    rng = np.random.default_rng(7)
    q = rng.integers(1, 100, (8, 8))
    coefs = forward_dct_quantize(rng.integers(0, 256, (48, 48)).astype(np.uint8), q).reshape(6, 6, 8, 8)
    ref = inverse_dct_dequantize(coefs, q, arithmetic="simd")
    for arithmetic in ("c", "c16"):
        assert np.array_equal(inverse_dct_dequantize(coefs, q, arithmetic=arithmetic), ref)


def test_idct_multipliers():
    q = np.array([1, 255, 32767, 32768, 65535] + [1] * 59)
    assert list(idct_multipliers(q, "simd")[:5]) == [1, 255, 32767, 32768, 65535]
    assert list(idct_multipliers(q, "c16")[:5]) == [1, 255, 32767, -32768, -1]
    with pytest.raises(ValueError, match="arithmetic"):
        inverse_dct_dequantize(np.zeros((1, 1, 8, 8)), q, arithmetic="float")


# ---- bit-exactness with libjpeg-turbo ------------------------------------------------------------


def _hostile_case(rng, kind: str, width=40, height=24) -> JPEGCoefficients:
    """A grayscale image whose coefficients overflow the IDCT's 16-bit (SIMD) or 32-bit (C) paths."""
    shape = (-(-height // 8), -(-width // 8), 8, 8)
    if kind == "full":
        q = rng.integers(1, 65536, (8, 8))
        c = rng.integers(-32767, 32768, shape)  # AC magnitude categories stop at 15 bits
        c[rng.random(shape) < 0.4] = 0
    elif kind == "dc-rows":  # AC rows 1..7 zero: the AVX2 kernel's per-block shortcut
        q = rng.integers(1, 65536, (8, 8))
        c = np.zeros(shape, np.int64)
        c[:, :, 0, :] = rng.integers(-32767, 32768, shape[:2] + (8,))
    elif kind == "dc-only":  # all AC zero: the fast path's DC shortcut, with 16-bit wraparound
        q = rng.integers(1, 65536, (8, 8))
        c = np.zeros(shape, np.int64)
        c[:, :, 0, 0] = rng.integers(-32767, 32768, shape[:2])
    elif kind == "threshold":  # dequantized values and pass-1 outputs around the fast path's +-16384 limit
        q = rng.integers(1, 256, (8, 8))
        c = rng.integers(-20000, 20001, shape) // q
        c[rng.random(shape) < rng.random()] = 0
    elif kind == "saturating":  # 8-bit tables, values that clip in pass 2 only
        q = rng.integers(1, 256, (8, 8))
        c = rng.integers(-2047, 2048, shape)
        c[rng.random(shape) < 0.7] = 0
    else:  # ordinary
        q = rng.integers(1, 100, (8, 8))
        c = np.round(rng.normal(0, 30, shape) / (1 + np.add.outer(np.arange(8), np.arange(8)))).astype(np.int64)
    # DC differences must fit the 15-bit DC categories the entropy coder can carry.
    c[:, :, 0, 0] //= 2
    return JPEGCoefficients(
        width=width, height=height, components=[c.astype(np.int16)], quant_tables=[q.astype(np.uint16)],
        sampling=[(1, 1)], component_ids=[1], colorspace="L",
    )


_KINDS = ["full", "dc-rows", "dc-only", "threshold", "saturating", "ordinary"]


@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(_KINDS))
def test_simd_arithmetic_matches_pillow(seed, kind):
    """Pillow's libjpeg-turbo runs the x86-64 SIMD IDCT; for any int16 coefficients and any 16-bit
    quantizers its output is reproduced bit for bit (this is where it differs from jidctint.c)."""
    coefs = _hostile_case(np.random.default_rng(seed), kind)
    ref = np.asarray(Image.open(io.BytesIO(craft_jpeg(coefs))))
    assert np.array_equal(coefficients_to_pixels(coefs), ref)


_PILLOW_DECODE_SCRIPT = (
    "import sys, numpy as np\nfrom PIL import Image\n"
    "for p in sys.argv[1:]:\n    np.save(p + '.npy', np.asarray(Image.open(p)))\n"
)


@pytest.mark.parametrize(
    "env, arithmetic",
    [({"JSIMD_FORCENONE": "1"}, "c16"), ({"JSIMD_FORCESSE2": "1"}, "simd")],
    ids=["no-simd-c16", "sse2-simd"],
)
def test_other_libjpeg_turbo_paths(tmp_path, env, arithmetic):
    """libjpeg-turbo's runtime switches select its C IDCT (in a SIMD build: 16-bit multipliers) or the
    SSE2 kernel; each is matched by the corresponding arithmetic."""
    rng = np.random.default_rng(11)
    cases = []
    for i in range(18):
        coefs = _hostile_case(rng, _KINDS[i % len(_KINDS)])
        path = tmp_path / f"{i}.jpg"
        path.write_bytes(craft_jpeg(coefs))
        cases.append((path, coefs))
    subprocess.run(
        [sys.executable, "-c", _PILLOW_DECODE_SCRIPT, *map(str, (p for p, _ in cases))],
        env={**os.environ, **env}, check=True,
    )
    for path, coefs in cases:
        ref = np.load(str(path) + ".npy")
        assert np.array_equal(coefficients_to_pixels(coefs, arithmetic=arithmetic), ref), path.name


# ---- batched fast paths against the one-block reference kernels ------------------------------------


def _reference_idct(blocks, mult, simd):
    """The one-block-at-a-time reference path (dct._idct_islow_block per block)."""
    out = np.zeros((blocks.shape[0] * 8, blocks.shape[1] * 8), np.uint8)
    _idct_rows_exact(blocks.reshape(-1, 64), blocks.shape[1], mult, out, 0, blocks.shape[0], 0, simd)
    return out


@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(_KINDS), rows=st.integers(1, 5),
       cols=st.integers(1, 70), pad=st.integers(0, 2))
def test_batched_idct_equals_reference_path(seed, kind, rows, cols, pad):
    """The batched IDCT (fast int32 path where the range test allows, the reference path for the rest,
    DC-only blocks apart) gives the reference path's samples in every arithmetic; padding blocks of the
    coefficient array are not reconstructed; the parallel driver gives the same."""
    rng = np.random.default_rng(seed)
    case = _hostile_case(rng, kind, width=cols * 8, height=rows * 8)
    blocks = np.zeros((rows + pad, cols + pad, 8, 8), np.int16)
    blocks[:rows, :cols] = case.components[0]
    blocks[rows:] = 99
    blocks[:, cols:] = -99
    q = case.quant_tables[0]
    for arithmetic in ("simd", "c", "c16"):
        simd = arithmetic == "simd"
        mult = idct_multipliers(q, arithmetic)
        ref = _reference_idct(blocks, mult, simd)[: rows * 8, : cols * 8]
        out = np.zeros((rows * 8, cols * 8), np.uint8)
        _idct_islow_plane(blocks, mult, out, simd)
        assert np.array_equal(out, ref), arithmetic
        for fn in (_idct_planes, _idct_planes_parallel.parallel):  # the decoder's drivers, two planes at once
            outs = (np.zeros((rows * 8, cols * 8), np.uint8), np.zeros((rows * 8, cols * 8), np.uint8))
            tasks = idct_tasks([rows, rows], rows_per_task=2)
            fn((blocks.reshape(-1, 64),) * 2, np.array([cols + pad] * 2), (mult, mult), outs, tasks, simd)
            assert np.array_equal(outs[0], ref) and np.array_equal(outs[1], ref), (fn.__name__, arithmetic)


@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6), cols=st.integers(1, 12),
       qmax=st.sampled_from([1, 2, 30, 255, 12287, 65535]), kind=st.sampled_from(["noise", "binary", "smooth"]))
def test_batched_fdct_equals_per_block(seed, rows, cols, qmax, kind):
    """The batched FDCT + quantization (32-bit quantization for small tables, 64-bit for large ones)
    equals jcdctmgr/jfdctint one block at a time."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        plane = rng.integers(0, 256, (rows * 8, cols * 8))
    elif kind == "binary":
        plane = rng.choice([0, 255], (rows * 8, cols * 8))
    else:
        plane = np.add.outer(np.arange(rows * 8) * rng.integers(0, 9), np.arange(cols * 8) * rng.integers(0, 9)) % 256
    plane = plane.astype(np.uint8)
    divisors = quant_divisors(rng.integers(1, qmax + 1, 64))
    got = np.zeros((rows, cols, 64), np.int16)
    _fdct_quantize_plane(plane, divisors, got)
    ws = np.empty(64, np.int32)
    for by in range(rows):
        for bx in range(cols):
            ref = np.zeros(64, np.int16)
            _fdct_quantize_block(plane, by * 8, bx * 8, divisors, ws, ref)
            assert np.array_equal(got[by, bx], ref)


@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 6), cols=st.integers(1, 12), extra=st.sampled_from([0, 0, 3]),
       qmax=st.sampled_from([1, 2, 30, 255, 12287, 65535]), kind=st.sampled_from(["noise", "binary", "smooth"]))
def test_distill_round_trip_equals_fdct_then_idct(seed, rows, cols, extra, qmax, kind):
    """distill's fused round trip (_fdct_idct_plane) equals the batched FDCT followed by the "simd" IDCT,
    including planes whose width is not a multiple of 8 (then it runs the two separately)."""
    rng = np.random.default_rng(seed)
    shape = (rows * 8, cols * 8 + extra)
    if kind == "noise":
        plane = rng.integers(0, 256, shape)
    elif kind == "binary":
        plane = rng.choice([0, 255], shape)
    else:
        plane = np.add.outer(np.arange(shape[0]) * rng.integers(0, 9), np.arange(shape[1]) * rng.integers(0, 9)) % 256
    plane = plane.astype(np.uint8)
    table = rng.integers(1, qmax + 1, 64)
    divisors, q = quant_divisors(table), table.astype(np.int64)
    coefs = np.zeros((rows, cols, 64), np.int16)
    _fdct_quantize_plane(np.ascontiguousarray(plane[:, : cols * 8]), divisors, coefs)
    expect = plane.copy()
    expect[:, : cols * 8] = _reference_idct(coefs.reshape(rows, cols, 8, 8), q, True)
    got = plane.copy()
    _fdct_idct_plane(got, divisors, q)
    assert np.array_equal(got, expect)
