"""Colour conversion between RGB and YCbCr with libjpeg's fixed-point arithmetic (jccolor.c / jdcolor.c).

Constants are the JFIF/CCIR 601 coefficients scaled by 2**16 and rounded (libjpeg's ``FIX(x)``):
    Y  =  0.29900 R + 0.58700 G + 0.11400 B
    Cb = -0.16874 R - 0.33126 G + 0.50000 B + 128
    Cr =  0.50000 R - 0.41869 G - 0.08131 B + 128
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

SCALEBITS = 16
ONE_HALF = 1 << (SCALEBITS - 1)
CBCR_OFFSET = 128 << SCALEBITS


def FIX(x: float) -> int:
    """libjpeg's ``FIX``: a coefficient in 16.16 fixed point, rounded to nearest."""
    return int(x * (1 << SCALEBITS) + 0.5)


FIX_0_29900 = FIX(0.29900)
FIX_0_58700 = FIX(0.58700)
FIX_0_11400 = FIX(0.11400)
FIX_0_16874 = FIX(0.16874)
FIX_0_33126 = FIX(0.33126)
FIX_0_50000 = FIX(0.50000)
FIX_0_41869 = FIX(0.41869)
FIX_0_08131 = FIX(0.08131)


@kernel
def _rgb_to_ycc(rgb, y, cb, cr):
    """jccolor.c ``rgb_ycc_convert``: uint8 (H, W, 3) -> three uint8 (H, W) planes.

    Cb/Cr add ``ONE_HALF - 1`` rather than ``ONE_HALF``: libjpeg's rounding that keeps the
    results within 0..255 without clamping.
    """
    h, w = rgb.shape[0], rgb.shape[1]
    for i in range(h):
        for j in range(w):
            r = np.int32(rgb[i, j, 0])
            g = np.int32(rgb[i, j, 1])
            b = np.int32(rgb[i, j, 2])
            y[i, j] = (FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> SCALEBITS
            cb[i, j] = (-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS
            cr[i, j] = (FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS


def rgb_to_ycbcr(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert a uint8 (H, W, 3) RGB image to (Y, Cb, Cr) uint8 planes exactly as libjpeg-turbo does."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    y = np.empty((h, w), np.uint8)
    cb = np.empty((h, w), np.uint8)
    cr = np.empty((h, w), np.uint8)
    _rgb_to_ycc(rgb, y, cb, cr)
    return y, cb, cr
