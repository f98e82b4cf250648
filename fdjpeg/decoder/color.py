"""The decompressor's colour conversion (jdcolor.c) and the output-mode conversions Pillow applies.

YCbCr -> RGB uses libjpeg's fixed-point tables (or the same formulas per sample); the 16.16 constants
are in base/fixedpoint.py. RGB -> YCbCr, the compressor's direction, is encoder/color.py.
"""

from __future__ import annotations

import numpy as np

from ..base.fixedpoint import FIX, ONE_HALF, SCALEBITS
from ..base.jit import kernel

# ---------------------------------------------------------------------------------------------------
# Decoder side (jdcolor.c): YCbCr -> RGB through libjpeg's precomputed tables, YCCK -> CMYK, and the
# output conventions Pillow adds on top (CMYK samples inverted, JpegImagePlugin's "CMYK;I" rawmode).
#
#   R = clamp(Y + Cr_r[Cr]),  Cr_r[i] = (FIX(1.40200) * (i - 128) + ONE_HALF) >> 16
#   G = clamp(Y + ((Cb_g[Cb] + Cr_g[Cr]) >> 16)),
#       Cb_g[i] = -FIX(0.34414) * (i - 128) + ONE_HALF,  Cr_g[i] = -FIX(0.71414) * (i - 128)
#   B = clamp(Y + Cb_b[Cb]),  Cb_b[i] = (FIX(1.77200) * (i - 128) + ONE_HALF) >> 16
# clamp is libjpeg's sample_range_limit table (0..255). YCCK -> CMYK applies the same to Y, Cb, Cr and
# stores 255 - R, 255 - G, 255 - B, passing K through (ycck_cmyk_convert).
# ---------------------------------------------------------------------------------------------------


def _ycc_rgb_tables() -> np.ndarray:
    x = np.arange(256, dtype=np.int64) - 128
    tables = np.empty((4, 256), dtype=np.int64)
    tables[0] = (FIX(1.40200) * x + ONE_HALF) >> SCALEBITS  # Cr -> R
    tables[1] = (FIX(1.77200) * x + ONE_HALF) >> SCALEBITS  # Cb -> B
    tables[2] = -FIX(0.71414) * x  # Cr -> G, scaled by 2**16
    tables[3] = -FIX(0.34414) * x + ONE_HALF  # Cb -> G, scaled, with the rounding half folded in
    tables.setflags(write=False)
    return tables


#: Rows: Cr_r, Cb_b, Cr_g, Cb_g (jdcolor.c build_ycc_rgb_table), indexed by the 8-bit sample.
YCC_RGB_TABLES = _ycc_rgb_tables()


@kernel
def _ycc_to_rgb(y, cb, cr, tables, out, first, invert):
    """Convert planes to out[..., first:first+3]; with ``invert`` store 255 - v (the YCCK path)."""
    h, w = out.shape[0], out.shape[1]
    for i in range(h):
        for j in range(w):
            yy = np.int64(y[i, j])
            b_ = np.int64(cb[i, j])
            r_ = np.int64(cr[i, j])
            r = min(max(yy + tables[0, r_], 0), 255)
            g = min(max(yy + ((tables[3, b_] + tables[2, r_]) >> SCALEBITS), 0), 255)
            b = min(max(yy + tables[1, b_], 0), 255)
            if invert:
                r = 255 - r
                g = 255 - g
                b = 255 - b
            out[i, j, first] = r
            out[i, j, first + 1] = g
            out[i, j, first + 2] = b


# The same conversion by arithmetic: every table entry is its formula, so computing the formula per
# sample gives identical values, and LLVM vectorizes arithmetic where it cannot vectorize table lookups.
# The G term folds both tables and the rounding half into one constant:
#   Cb_g[cb] + Cr_g[cr] = -22554 cb - 46802 cr + (22554 + 46802) * 128 + ONE_HALF.
_FIX_1_40200 = 91881
_FIX_1_77200 = 116130
_FIX_0_71414 = 46802
_FIX_0_34414 = 22554
_G_OFFSET = (_FIX_0_34414 + _FIX_0_71414) * 128 + ONE_HALF


@kernel
def _ycc_rgb_row(yr, cbr, crr, orow, n):
    """One row: uint8 samples yr/cbr/crr[0:n] -> orow[0:3n] interleaved RGB (jdcolor.c ycc_rgb_convert)."""
    i32 = np.int32
    for x in range(n):
        yy = i32(yr[x])
        cb = i32(cbr[x])
        cr = i32(crr[x])
        r = i32(yy + i32(i32(i32(_FIX_1_40200 * i32(cr - 128)) + ONE_HALF) >> SCALEBITS))
        g = i32(yy + i32(i32(i32(_G_OFFSET - i32(_FIX_0_34414 * cb)) - i32(_FIX_0_71414 * cr)) >> SCALEBITS))
        b = i32(yy + i32(i32(i32(_FIX_1_77200 * i32(cb - 128)) + ONE_HALF) >> SCALEBITS))
        orow[3 * x] = np.uint8(min(max(r, 0), 255))
        orow[3 * x + 1] = np.uint8(min(max(g, 0), 255))
        orow[3 * x + 2] = np.uint8(min(max(b, 0), 255))


@kernel
def _ycc_rgb_planes(y, cb, cr, out):
    """Planes (at least out's height and width) -> out (H, W, 3) C-contiguous RGB, by arithmetic."""
    h, w = out.shape[0], out.shape[1]
    flat = out.reshape(h, w * 3)
    for i in range(h):
        _ycc_rgb_row(y[i], cb[i], cr[i], flat[i], w)


@kernel
def _interleave(channel, plane, out, invert):
    h, w = out.shape[0], out.shape[1]
    for i in range(h):
        for j in range(w):
            v = plane[i, j]
            out[i, j, channel] = 255 - v if invert else v


def ycbcr_to_rgb(y: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """Full-resolution uint8 Y, Cb, Cr planes -> uint8 (H, W, 3) RGB exactly as libjpeg-turbo decodes."""
    out = np.empty(y.shape + (3,), np.uint8)
    _ycc_rgb_planes(np.ascontiguousarray(y), np.ascontiguousarray(cb), np.ascontiguousarray(cr), out)
    return out


def planes_to_output(planes, colorspace: str) -> np.ndarray:
    """Full-resolution component planes -> the array Pillow returns for the file.

    "L": (H, W); "YCbCr" -> RGB and "RGB" (no transform): (H, W, 3); "CMYK" and "YCCK": (H, W, 4) CMYK
    with every sample inverted (255 - v), as Pillow stores JPEG CMYK (it always unpacks "CMYK;I", the
    Adobe convention, whatever markers the file has).
    """
    if colorspace == "L":
        return np.ascontiguousarray(planes[0])
    h, w = planes[0].shape
    if colorspace == "YCbCr":
        out = np.empty((h, w, 3), np.uint8)
        _ycc_to_rgb(planes[0], planes[1], planes[2], YCC_RGB_TABLES, out, 0, False)
        return out
    if colorspace == "RGB":
        out = np.empty((h, w, 3), np.uint8)
        for c in range(3):
            _interleave(c, planes[c], out, False)
        return out
    if colorspace == "CMYK":
        out = np.empty((h, w, 4), np.uint8)
        for c in range(4):
            _interleave(c, planes[c], out, True)
        return out
    if colorspace == "YCCK":
        out = np.empty((h, w, 4), np.uint8)
        # libjpeg stores 255 - RGB for C, M, Y; Pillow inverts again, so C' = RGB's R, and so on.
        _ycc_to_rgb(planes[0], planes[1], planes[2], YCC_RGB_TABLES, out, 0, False)
        _interleave(3, planes[3], out, True)
        return out
    raise ValueError(f"unknown colorspace {colorspace!r}")


# ---------------------------------------------------------------------------------------------------
# Output mode conversions, as Pillow's Image.convert computes them (libImaging/Convert.c).
#   RGB -> L:    L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16   (ITU-R 601-2 luma, 16.16 fixed point)
#   CMYK -> RGB: nk = 255 - K;  R = clip(nk - MULDIV255(C, nk)), ...,  MULDIV255(a, b) = t=a*b+128, ((t>>8)+t)>>8
#   L -> RGB:    replicate;  CMYK -> L: via RGB (Pillow has no direct converter and goes through RGB).
# ---------------------------------------------------------------------------------------------------


@kernel
def _rgb_to_l(rgb, out):
    h, w = out.shape
    for i in range(h):
        for j in range(w):
            v = np.int64(rgb[i, j, 0]) * 19595 + np.int64(rgb[i, j, 1]) * 38470 + np.int64(rgb[i, j, 2]) * 7471
            out[i, j] = (v + 0x8000) >> 16


@kernel
def _cmyk_to_rgb(cmyk, out):
    h, w = out.shape[0], out.shape[1]
    for i in range(h):
        for j in range(w):
            nk = 255 - np.int64(cmyk[i, j, 3])
            for c in range(3):
                t = np.int64(cmyk[i, j, c]) * nk + 128
                v = nk - (((t >> 8) + t) >> 8)
                out[i, j, c] = min(max(v, 0), 255)


def rgb_to_luma(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("L")`` of an RGB image."""
    out = np.empty(rgb.shape[:2], np.uint8)
    _rgb_to_l(np.ascontiguousarray(rgb), out)
    return out


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("RGB")`` of a CMYK image (its stored, inverted-Adobe samples)."""
    out = np.empty(cmyk.shape[:2] + (3,), np.uint8)
    _cmyk_to_rgb(np.ascontiguousarray(cmyk), out)
    return out


def convert_mode(pixels: np.ndarray, mode: str | None) -> np.ndarray:
    """Apply Pillow's ``Image.convert(mode)`` to a decoded array (2-D = L, 3 channels = RGB, 4 = CMYK)."""
    if mode is None:
        return pixels
    if mode not in ("RGB", "L"):
        raise ValueError(f"mode must be None, 'RGB' or 'L', got {mode!r}")
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if channels == 4:
        pixels = cmyk_to_rgb(pixels)
        channels = 3
    if mode == "RGB":
        if channels == 1:
            return np.repeat(pixels[:, :, None], 3, axis=2)
        return pixels
    if channels == 3:
        return rgb_to_luma(pixels)
    return pixels


def convert_high_precision(pixels: np.ndarray, mode: str | None) -> np.ndarray:
    """``mode`` for 12-bit and lossless output: only the conversions that change no sample value
    (Pillow's formulas are defined for 8-bit images)."""
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if mode is None or (mode == "L" and channels == 1) or (mode == "RGB" and channels == 3):
        return pixels
    if mode == "RGB" and channels == 1:
        return np.repeat(pixels[:, :, None], 3, axis=2)
    raise ValueError(
        f"mode={mode!r} is not supported for a {channels}-channel {pixels.dtype} image "
        "(12-bit and lossless files decode to their own channels only)"
    )
