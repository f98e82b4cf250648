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


@kernel
def _rgb_ycc_row(src, yr, cbr, crr, width):
    """jccolor.c ``rgb_ycc_convert`` for one row: src[0:3*width] interleaved RGB (uint8) -> yr, cbr,
    crr[0:width]. (A flat row and explicit casts let LLVM vectorize it.)"""
    for x in range(width):
        r = np.int32(src[3 * x])
        g = np.int32(src[3 * x + 1])
        b = np.int32(src[3 * x + 2])
        yr[x] = np.uint8((FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> SCALEBITS)
        cbr[x] = np.uint8(
            (-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS
        )
        crr[x] = np.uint8(
            (FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS
        )


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
