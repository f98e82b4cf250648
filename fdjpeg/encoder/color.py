"""The compressor's colour conversion, RGB -> YCbCr with libjpeg's fixed-point arithmetic (jccolor.c).

The constants (16.16 fixed point) are in base/fixedpoint.py. Cb/Cr add ``ONE_HALF - 1`` rather than
``ONE_HALF``: libjpeg's rounding that keeps the results within 0..255 without clamping.
"""

from __future__ import annotations

import numpy as np

from ..base.fixedpoint import (
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
    SCALEBITS,
)
from ..base.jit import kernel
from .sample_vec import COLOR_N, rgb_ycc_vec


@kernel
def _rgb_ycc_row(src, yr, cbr, crr, width):
    """jccolor.c ``rgb_ycc_convert`` for one row: src[0:3*width] interleaved RGB (uint8) -> yr, cbr,
    crr[0:width]. Whole groups of COLOR_N pixels go to the vector kernel (sample_vec.py), the rest of the
    row to the scalar loop below, which is the reference formula.

    int32 lanes, as libjpeg-turbo's jccolext-avx2.asm accumulates (vpmaddwd of 16-bit samples and
    constants into 32-bit sums): every sum is below 2**24, so int32 is exact. Each constant is cast to
    int32 here; a bare Python int would make Numba compute the whole row in int64 lanes."""
    i32 = np.int32
    cy_r = i32(FIX_0_29900)
    cy_g = i32(FIX_0_58700)
    cy_b = i32(FIX_0_11400)
    cb_r = i32(-FIX_0_16874)
    cb_g = i32(-FIX_0_33126)
    c_half = i32(FIX_0_50000)
    cr_g = i32(-FIX_0_41869)
    cr_b = i32(-FIX_0_08131)
    y_rnd = i32(ONE_HALF)
    c_rnd = i32(CBCR_OFFSET + ONE_HALF - 1)
    x0 = 0
    while x0 + COLOR_N <= width:
        rgb_ycc_vec(src, 3 * x0, yr, cbr, crr, x0)
        x0 += COLOR_N
    for x in range(x0, width):
        r = i32(src[3 * x])
        g = i32(src[3 * x + 1])
        b = i32(src[3 * x + 2])
        yr[x] = np.uint8(i32(i32(i32(i32(cy_r * r) + i32(cy_g * g)) + i32(i32(cy_b * b) + y_rnd)) >> SCALEBITS))
        cbr[x] = np.uint8(i32(i32(i32(i32(cb_r * r) + i32(cb_g * g)) + i32(i32(c_half * b) + c_rnd)) >> SCALEBITS))
        crr[x] = np.uint8(i32(i32(i32(i32(c_half * r) + i32(cr_g * g)) + i32(i32(cr_b * b) + c_rnd)) >> SCALEBITS))


@kernel
def _rgb_to_ycc(rgb, y, cb, cr):
    """uint8 (H, W, 3) -> three uint8 (H, W) planes, row by row (_rgb_ycc_row)."""
    h, w = rgb.shape[0], rgb.shape[1]
    flat = rgb.reshape(h, w * 3)
    for i in range(h):
        _rgb_ycc_row(flat[i], y[i], cb[i], cr[i], w)


def rgb_to_ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert a uint8 (H, W, 3) RGB image to (Y, Cb, Cr) uint8 planes exactly as libjpeg-turbo does."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    y = np.empty((h, w), np.uint8)
    cb = np.empty((h, w), np.uint8)
    cr = np.empty((h, w), np.uint8)
    _rgb_to_ycc(rgb, y, cb, cr)
    return y, cb, cr
