"""The vector-IR transform kernels (encoder/fdct_vec.py, decoder/idct_vec.py, issue 16) against the one-block
references: jfdctint + jcdctmgr quantization (fdct._fdct_quantize_block) and the AVX2 islow IDCT model
(idct_islow._idct_rows_exact with simd=True), on random blocks including extreme values, the sparsity
patterns that select each IDCT variant, and random quantization tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fdjpeg.base.jit import kernel
from fdjpeg.decoder.idct_islow import _idct_rows_exact
from fdjpeg.decoder.idct_lanes import _idct_rows_lanes
from fdjpeg.decoder.idct_vec import nonzero_mask4
from fdjpeg.encoder.fdct import _fdct_quantize_batched, _fdct_quantize_block, quant_divisors

_PLANES = ["noise", "binary", "basis", "flat0", "flat255", "smooth"]


def _plane(rng, kind, rows, cols):
    shape = (rows * 8, cols * 8)
    if kind == "noise":
        return rng.integers(0, 256, shape).astype(np.uint8)
    if kind == "binary":
        return rng.choice([0, 255], shape).astype(np.uint8)
    if kind == "basis":  # each block the sign pattern of a random DCT basis function: the largest coefficients
        yy, xx = np.mgrid[0:8, 0:8]
        out = np.empty(shape, np.uint8)
        for by in range(rows):
            for bx in range(cols):
                u, v = rng.integers(0, 8, 2)
                basis = np.cos((2 * xx + 1) * u * np.pi / 16) * np.cos((2 * yy + 1) * v * np.pi / 16)
                blk = np.where(basis >= 0, 255, 0)
                out[by * 8 : by * 8 + 8, bx * 8 : bx * 8 + 8] = blk if rng.random() < 0.5 else 255 - blk
        return out
    if kind == "flat0":
        return np.zeros(shape, np.uint8)
    if kind == "flat255":
        return np.full(shape, 255, np.uint8)
    y = np.arange(shape[0]) * rng.integers(0, 9)
    return (np.add.outer(y, np.arange(shape[1]) * rng.integers(0, 9)) % 256).astype(np.uint8)


@pytest.mark.parametrize("kind", _PLANES)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 3),
    cols=st.integers(1, 13),
    qmax=st.sampled_from([1, 2, 16, 255, 8191, 12287]),
)
def test_fdct_vector_kernel_equals_one_block_reference(kind, seed, rows, cols, qmax):
    """Four blocks per vector call and the one-block tail (cols not a multiple of 4), for every table
    the 16-bit quantization takes (quantizers up to 12287), give jfdctint + jcdctmgr's coefficients."""
    rng = np.random.default_rng(seed)
    plane = _plane(rng, kind, rows, cols)
    divisors = quant_divisors(rng.integers(1, qmax + 1, 64))
    got = np.full((rows, cols, 64), 12345, np.int16)
    _fdct_quantize_batched(plane, divisors, got)
    ws = np.empty(64, np.int32)
    ref = np.empty(64, np.int16)
    for by in range(rows):
        for bx in range(cols):
            _fdct_quantize_block(plane, by * 8, bx * 8, divisors, ws, ref)
            assert np.array_equal(got[by, bx], ref), (by, bx)


_COEFS = ["ordinary", "low", "low-rows", "low-cols", "dc-only", "dc-ac1", "dc-rows", "extreme", "threshold", "mixed"]
_COEFS += ["zero"]


def _coefficients(rng, kind, n):
    """n blocks (n, 64) int16 and a table (64,) int64 of the given kind."""
    c = np.zeros((n, 8, 8), np.int64)
    q = rng.integers(1, 256, 64)
    if kind in ("ordinary", "low", "low-rows", "low-cols", "mixed"):
        # samples mostly inside 0..255 (saturated outputs would hide errors)
        q = rng.integers(1, 9, 64)
        c = np.round(rng.normal(0, 12, (n, 8, 8)) / (1 + np.add.outer(np.arange(8), np.arange(8)))).astype(np.int64)
        c[:, 0, 0] = rng.integers(-600, 600, n) // q[0]
        if kind in ("low", "low-rows"):
            c[:, 4:, :] = 0
        if kind in ("low", "low-cols"):
            c[:, :, 4:] = 0
        if kind == "mixed":  # one hostile block among ordinary ones: its group fails the range test
            c[rng.integers(0, n)] = rng.integers(-32767, 32768, (8, 8))
            q = rng.integers(1, 65536, 64)
    elif kind == "dc-only":
        c[:, 0, 0] = rng.integers(-32767, 32768, n)
        q = rng.integers(1, rng.choice([256, 65536]), 64)
    elif kind == "dc-ac1":  # DC and one AC coefficient: not DC-only
        q = rng.integers(1, 9, 64)
        c[:, 0, 0] = rng.integers(-600, 600, n) // q[0]
        c[:, 0, 1] = rng.integers(-20, 21, n)
    elif kind == "dc-rows":
        c[:, 0, :] = rng.integers(-2000, 2001, (n, 8))
        q = rng.integers(1, rng.choice([8, 256, 65536]), 64)
    elif kind == "extreme":
        c = rng.choice([-32768, -32767, -1, 0, 1, 32767], (n, 8, 8))
        q = rng.choice([1, 2, 255, 32767, 65535], 64)
    elif kind == "threshold":  # dequantized values and pass-1 outputs around the fast path's +-16384 limit
        c = rng.integers(-20000, 20001, (n, 8, 8)) // q.reshape(8, 8)
        c[rng.random((n, 8, 8)) < rng.random()] = 0
    return c.reshape(n, 64).astype(np.int16), q.astype(np.int64)


@pytest.mark.parametrize("kind", _COEFS)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 3),
    cols=st.integers(1, 13),
    pad=st.integers(0, 5),
    first=st.integers(0, 1),
)
def test_idct_vector_kernels_equal_avx2_model(kind, seed, rows, cols, pad, first):
    """_idct_rows_lanes (groups of four: DC-only shortcut, rows/columns 4..7 zero variants, the general
    kernel, per-block retry and the reference path for out-of-range blocks; one-block tail) gives the
    AVX2 islow model's samples, for block rows [first, rows) of a padded grid."""
    rng = np.random.default_rng(seed)
    nbx_pad = cols + pad
    cf, q = _coefficients(rng, kind, rows * nbx_pad)
    if kind in ("low", "dc-only", "dc-ac1") and rng.random() < 0.5:
        cf[:] = cf[0]  # every block alike, so every group takes the same path
    first = min(first, rows - 1)
    got = np.full(((rows - first) * 8, cols * 8), 7, np.uint8)
    ref = got.copy()
    _idct_rows_lanes(cf, nbx_pad, q, got, first, rows, first)
    _idct_rows_exact(cf, nbx_pad, q, ref, first, rows, first, True)
    assert np.array_equal(got, ref)


@kernel
def _mask_of(cf, off):
    return nonzero_mask4(cf, off)


@given(seed=st.integers(0, 2**32 - 1), density=st.sampled_from([0.0, 0.02, 0.3]))
def test_nonzero_mask_bit_i_is_position_i(seed, density):
    rng = np.random.default_rng(seed)
    cf = np.where(rng.random((6, 64)) < density, rng.choice([-32768, -1, 1, 255], (6, 64)), 0).astype(np.int16)
    for k in range(3):
        want = sum(1 << i for i in range(64) if cf[k : k + 4, i].any())
        assert int(_mask_of(cf, k * 64)) == want


@pytest.mark.parametrize(
    "row_pair", [((255,) * 8, (0,) * 8), ((255, 0, 0, 255, 255, 0, 0, 255), (0, 255, 255, 0, 0, 255, 255, 0))]
)
def test_fdct_pass2_sums_at_their_extremes(row_pair):
    """Every block whose rows are one of two opposite patterns, in all 256 arrangements: the pass-1 values
    of u = 0 (constant rows) or u = 4 take their extremes in every sign pattern down a column, so every
    pass-2 sum the vector kernel narrows to 16 bits reaches its largest magnitude (32640)."""
    a, b = (np.array(r, np.uint8) for r in row_pair)
    plane = np.empty((8, 256 * 8), np.uint8)
    for p in range(256):
        for r in range(8):
            plane[r, p * 8 : p * 8 + 8] = a if p >> r & 1 else b
    for table in (np.ones(64, np.int64), np.arange(1, 65)):
        divisors = quant_divisors(table)
        got = np.zeros((1, 256, 64), np.int16)
        _fdct_quantize_batched(plane, divisors, got)
        ws = np.empty(64, np.int32)
        ref = np.empty(64, np.int16)
        for p in range(256):
            _fdct_quantize_block(plane, 0, p * 8, divisors, ws, ref)
            assert np.array_equal(got[0, p], ref), p
