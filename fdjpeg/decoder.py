"""The decoder's public face: ``decode()`` and the reusable ``coefficients_to_pixels()`` stage.

Pixel reconstruction follows libjpeg-turbo's default decompression exactly, as Pillow runs it:
dequantization and the islow IDCT (dct.py; with inter-block smoothing for incomplete progressive
files, smoothing.py), fancy upsampling with edge replication (sampling.py), fixed-point colour
conversion (color.py). Parsing and entropy decoding live in reader.py and the modules it uses.

Output arrays (what ``np.asarray(PIL.Image.open(f))`` gives for the same file):
  * grayscale files: uint8 (H, W);
  * YCbCr and RGB files: uint8 (H, W, 3) RGB;
  * CMYK and YCCK files: uint8 (H, W, 4) CMYK, stored inverted (255 = no ink) as Pillow stores JPEG
    CMYK -- it always assumes the Adobe convention. ``mode="RGB"`` converts with Pillow's formula.
"""

from __future__ import annotations

import os

import numpy as np

from .coefficients import JPEGCoefficients
from .color import convert_mode, planes_to_output
from .dct import _check_arithmetic, _idct_islow_plane, idct_multipliers
from .errors import JPEGError, UnsupportedJPEG
from .sampling import upsample
from .smoothing import _idct_islow_plane_smoothed, smoothing_state

#: Pillow's decompression-bomb threshold, ``PIL.Image.MAX_IMAGE_PIXELS`` = 1024 * 1024 * 1024 // 4 // 3.
MAX_PIXELS = 89_478_485

#: Number of components each colour space must have (libjpeg's jdcolor.c checks).
_COMPONENTS = {"L": 1, "YCbCr": 3, "RGB": 3, "CMYK": 4, "YCCK": 4}


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def coefficients_to_pixels(coefs: JPEGCoefficients, *, arithmetic: str = "simd") -> np.ndarray:
    """Reconstruct the image from quantized coefficients exactly as libjpeg-turbo's default decode.

    ``arithmetic`` selects the IDCT's overflow behaviour for hostile coefficients: "simd" (default,
    libjpeg-turbo's x86-64 SSE2/AVX2 code, which Pillow uses), "c" (jidctint.c) or "c16" (jidctint.c
    in a SIMD-enabled build run without SIMD); see dct.py. Raises
    ``UnsupportedJPEG`` for sampling ratios libjpeg cannot upsample and for component counts with no
    defined colour space.
    """
    simd = _check_arithmetic(arithmetic)
    width, height = int(coefs.width), int(coefs.height)
    ncomp = len(coefs.components)
    if coefs.colorspace not in _COMPONENTS:
        raise UnsupportedJPEG(f"unsupported colour space {coefs.colorspace!r} ({ncomp} components)")
    if _COMPONENTS[coefs.colorspace] != ncomp:
        raise UnsupportedJPEG(f"colour space {coefs.colorspace} needs {_COMPONENTS[coefs.colorspace]} components, file has {ncomp}")
    if width < 1 or height < 1:
        raise JPEGError(f"empty image ({width}x{height})")
    hmax, vmax = coefs.max_sampling
    # jdsample.c: every component must divide the largest sampling factors (checked before any work).
    for ci, (h, v) in enumerate(coefs.sampling):
        if not (1 <= h <= 4 and 1 <= v <= 4):
            raise JPEGError(f"component {ci}: sampling factors {h}x{v} outside 1..4")
        if hmax % h or vmax % v:
            raise UnsupportedJPEG(
                f"fractional upsampling: component {ci} has sampling {h}x{v} but the maximum is {hmax}x{vmax}"
            )

    smoothing = smoothing_state(coefs)
    total_imcu_rows = _ceil_div(height, 8 * vmax)
    planes = []
    for ci, (h, v) in enumerate(coefs.sampling):
        dw = _ceil_div(width * h, hmax)
        dh = _ceil_div(height * v, vmax)
        bw, bh = _ceil_div(dw, 8), _ceil_div(dh, 8)
        blocks = coefs.components[ci]
        if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
            raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
        blocks = np.ascontiguousarray(blocks, dtype=np.int16)
        quantval = np.ascontiguousarray(np.asarray(coefs.quant_tables[ci]).reshape(64).astype(np.int64))
        mult = idct_multipliers(quantval, arithmetic)
        plane = np.empty((bh * 8, bw * 8), np.uint8)
        if smoothing is None:
            _idct_islow_plane(blocks, mult, plane, simd)
        else:
            cur, prev, last_good = smoothing
            _idct_islow_plane_smoothed(
                blocks, quantval, mult, plane, cur[ci], prev[ci], last_good, v, total_imcu_rows, simd
            )
        planes.append(upsample(plane, hmax // h, vmax // v, width, height, dw, dh))
    return planes_to_output(planes, coefs.colorspace)


def _read_input(data) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    if hasattr(data, "read"):
        out = data.read()
        if not isinstance(out, (bytes, bytearray)):
            raise TypeError(f"file object must be opened in binary mode (read() returned {type(out).__name__})")
        return bytes(out)
    raise TypeError(f"data must be bytes, a path or a binary file object, got {type(data).__name__}")


def decode(data, *, mode: str | None = None, max_pixels: int | None = MAX_PIXELS, defense=None) -> np.ndarray:
    """Decode a baseline or progressive Huffman JPEG to the pixels libjpeg-turbo (via Pillow) returns.

    ``data``: bytes, bytearray, memoryview, a path, or a binary file object.
    ``mode``: None (the file's own: (H, W) gray, (H, W, 3) RGB or (H, W, 4) CMYK, see the module
    docstring), "RGB" or "L" -- converted as ``PIL.Image.convert`` does.
    ``max_pixels``: refuse (``JPEGError``, before any large allocation) images with more pixels;
    None disables the guard. Default: Pillow's MAX_IMAGE_PIXELS.
    ``defense``: feature-distillation tables (one 8x8 table or (luma, chroma)) for the one-pass
    defense: coefficients are dequantized with the file's tables, re-quantized with these and
    reconstructed with them (spec/feature-distillation.md section 4); equals
    ``decode(requantize(data, defense))``.
    """
    if mode not in (None, "RGB", "L"):
        raise ValueError(f"mode must be None, 'RGB' or 'L', got {mode!r}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer))):
        raise TypeError(f"max_pixels must be an int or None, got {max_pixels!r}")
    from .reader import read_coefficients

    coefs = read_coefficients(_read_input(data), max_pixels=max_pixels)
    if defense is not None:
        from .distill import requantize_coefficients

        coefs = requantize_coefficients(coefs, defense)
    return convert_mode(coefficients_to_pixels(coefs), mode)
