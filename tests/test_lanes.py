"""The narrow-lane kernels (issue 16, part 1) against plain int64 formulas of libjpeg's arithmetic:
RGB -> YCbCr (jccolor.c), h2v1/h2v2 downsampling (jcsample.c), the 16-bit high multiply and the
two-multiply quantization (jcdctmgr.c / jquanti-avx2.asm), h2v1 fancy upsampling (jdsample.c)."""

from __future__ import annotations

import numpy as np
import pytest

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
from fdjpeg.base.jit import kernel
from fdjpeg.base.lanes import mulhi_u16
from fdjpeg.decoder.upsample import upsample
from fdjpeg.encoder.color import rgb_to_ycbcr
from fdjpeg.encoder.downsample import downsample
from fdjpeg.encoder.fdct import _fdct_quantize_block, forward_dct_quantize, quant_divisors


@kernel
def _mulhi_all(a, b, out):
    for i in range(a.shape[0]):
        out[i] = mulhi_u16(a[i], b[i])


def test_mulhi_u16_is_the_high_half_of_the_product():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.integers(0, 65536, 200000), [0, 1, 65535, 65535, 32768]]).astype(np.uint16)
    b = np.concatenate([rng.integers(0, 65536, 200000), [65535, 65535, 65535, 0, 32768]]).astype(np.uint16)
    out = np.empty_like(a)
    _mulhi_all(a, b, out)
    assert (out == (a.astype(np.int64) * b.astype(np.int64)) >> 16).all()


def test_rgb_to_ycbcr_every_colour():
    v = np.arange(1 << 24, dtype=np.int64)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    y, cb, cr = rgb_to_ycbcr(rgb)
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    assert (y == (FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> 16).all()
    c = CBCR_OFFSET + ONE_HALF - 1
    assert (cb == (-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + c) >> 16).all()
    assert (cr == (FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + c) >> 16).all()


@pytest.mark.parametrize("width", [2, 4, 6, 10, 34, 130, 1002])
def test_downsample_alternating_bias(width):
    rng = np.random.default_rng(width)
    for x in (rng.integers(0, 256, (8, width)), np.full((8, width), 255), np.zeros((8, width))):
        x = x.astype(np.uint8)
        a = x.astype(np.int64)
        bias = np.arange(width // 2) & 1
        assert (downsample(x, 2, 1) == (a[:, 0::2] + a[:, 1::2] + bias) >> 1).all()
        h2v2 = (a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2] + 1 + bias) >> 2
        assert (downsample(x, 2, 2) == h2v2).all()


def _extreme_planes():
    yy, xx = np.mgrid[0:8, 0:8]
    for u in range(8):
        for v in range(8):
            basis = np.cos((2 * xx + 1) * u * np.pi / 16) * np.cos((2 * yy + 1) * v * np.pi / 16)
            p = np.tile(np.where(basis >= 0, 255, 0).astype(np.uint8), (2, 4))
            yield p
            yield 255 - p


@pytest.mark.parametrize("q", [1, 2, 3, 7, 16, 99, 255, 8191, 8192, 32767, 65535])
def test_quantization_narrow_and_wide_paths_equal_the_one_block_reference(q):
    """The batched kernel (16-bit quantization when the table allows, int64 otherwise) against the
    one-block int64 kernel, on the blocks with the largest coefficients."""
    rng = np.random.default_rng(q)
    table = np.full(64, q)
    table[::3] = rng.integers(1, min(q, 255) + 1, 22)
    divisors = quant_divisors(table)
    planes = list(_extreme_planes()) + [rng.integers(0, 256, (16, 32)).astype(np.uint8)]
    ws = np.empty(64, np.int32)
    ref = np.empty(64, np.int16)
    for p in planes:
        got = forward_dct_quantize(p, table)
        for by in range(p.shape[0] // 8):
            for bx in range(p.shape[1] // 8):
                _fdct_quantize_block(p, by * 8, bx * 8, divisors, ws, ref)
                assert (got[by, bx] == ref).all()


def test_h2v1_fancy_upsampling():
    rng = np.random.default_rng(5)
    for dw in (3, 4, 5, 17, 64, 333):
        plane = rng.integers(0, 256, (4, dw)).astype(np.uint8)
        plane[0] = 255
        for width in (2 * dw - 1, 2 * dw):
            s = plane.astype(np.int64)
            left = np.concatenate([s[:, :1], s[:, :-1]], 1)
            right = np.concatenate([s[:, 1:], s[:, -1:]], 1)
            want = np.empty((4, 2 * dw), np.int64)
            want[:, 0::2] = (3 * s + left + 1) >> 2
            want[:, 1::2] = (3 * s + right + 2) >> 2
            assert (upsample(plane, 2, 1, width, 4, dw, 4) == want[:, :width]).all()
