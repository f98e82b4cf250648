"""The decoder's public face: ``decode()`` and the reusable ``coefficients_to_pixels()`` stage, which
only orchestrate the stages.

Pixel reconstruction follows libjpeg-turbo's default decompression exactly, as Pillow runs it:
dequantization and the islow IDCT (idct.py; with inter-block smoothing for incomplete progressive
files, smoothing.py), then fancy upsampling with edge replication (upsample.py) fused with
fixed-point colour conversion (color.py) in compose.py. Parsing and entropy decoding live in
reader.py and the modules it uses.

Output arrays (what ``np.asarray(PIL.Image.open(f))`` gives for the same file):
  * grayscale files: uint8 (H, W);
  * YCbCr and RGB files: uint8 (H, W, 3) RGB;
  * CMYK and YCCK files: uint8 (H, W, 4) CMYK, stored inverted (255 = no ink) as Pillow stores JPEG
    CMYK -- it always assumes the Adobe convention. ``mode="RGB"`` converts with Pillow's formula.
"""

from __future__ import annotations

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.errors import JPEGError, UnsupportedJPEG
from ..base.io import load_bytes
from ..base.layout import ceil_div, component_blocks
from ..base.limits import MAX_PIXELS, MAX_SCANS
from ..base.requantize import requantize_coefficients
from .color import convert_high_precision, convert_mode
from .compose import compose, validate_for_pixels
from .idct import _check_arithmetic, _idct_planes_parallel, idct_multipliers, idct_tasks
from .idct12 import coefficients_to_pixels12
from .idct_scaled import reconstruct, scale_denominator
from .lossless import decode_lossless, maybe_lossless
from .orientation import apply_orientation, exif_orientation
from .pipeline import read_pixels
from .reader import read_coefficients
from .smoothing import _idct_islow_plane_smoothed, smoothing_state


def coefficients_to_pixels(coefs: JPEGCoefficients, *, arithmetic: str = "simd") -> np.ndarray:
    """Reconstruct the image from quantized coefficients exactly as libjpeg-turbo's default decode.

    ``arithmetic`` selects the IDCT's overflow behaviour for hostile coefficients: "simd" (default,
    libjpeg-turbo's x86-64 SSE2/AVX2 code, which Pillow uses), "c" (jidctint.c) or "c16" (jidctint.c
    in a SIMD-enabled build run without SIMD); see idct_islow.py. Raises
    ``UnsupportedJPEG`` for sampling ratios libjpeg cannot upsample and for component counts with no
    defined colour space.
    """
    simd = _check_arithmetic(arithmetic)
    validate_for_pixels(coefs)
    width, height = int(coefs.width), int(coefs.height)
    hmax, vmax = coefs.max_sampling
    if getattr(coefs, "precision", 8) == 12:  # 12-bit frames: their own pipeline (idct12.py)
        return coefficients_to_pixels12(coefs)
    smoothing = smoothing_state(coefs)
    total_imcu_rows = ceil_div(height, 8 * vmax)
    planes, cfs, nbxs, mults, block_rows = [], [], [], [], []
    for ci, (h, v) in enumerate(coefs.sampling):
        bh, bw = component_blocks(width, height, h, v, hmax, vmax)
        blocks = coefs.components[ci]
        if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
            raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
        blocks = np.ascontiguousarray(blocks, dtype=np.int16)
        quantval = np.ascontiguousarray(np.asarray(coefs.quant_tables[ci]).reshape(64).astype(np.int64))
        mult = idct_multipliers(quantval, arithmetic)
        plane = np.empty((bh * 8, bw * 8), np.uint8)
        if smoothing is not None:
            cur, prev, last_good = smoothing
            _idct_islow_plane_smoothed(
                blocks, quantval, mult, plane, cur[ci], prev[ci], last_good, v, total_imcu_rows, simd
            )
        cfs.append(blocks.reshape(-1, 64))
        nbxs.append(blocks.shape[1])
        mults.append(mult)
        block_rows.append(bh)
        planes.append(plane)
    if smoothing is None:
        tasks = idct_tasks(block_rows)
        # Threads only from 4096 blocks on (base/jit.PARALLEL_MIN_BLOCKS); smaller images stay on this thread.
        _idct_planes_parallel(tuple(cfs), np.array(nbxs, np.int64), tuple(mults), tuple(planes), tasks, simd)
    return compose(planes, coefs.sampling, width, height, coefs.colorspace)


def decode(
    data,
    *,
    mode: str | None = None,
    max_pixels: int | None = MAX_PIXELS,
    max_scans: int | None = MAX_SCANS,
    defense=None,
    scale=None,
    apply_exif_orientation: bool = False,
) -> np.ndarray:
    """Decode a baseline, extended, progressive or lossless JPEG to the pixels libjpeg-turbo returns
    (for 8-bit DCT files: what Pillow returns).

    12-bit DCT files (P = 12) decode to uint16 samples 0..4095 (libjpeg-turbo's 12-bit pipeline,
    idct12.py); lossless files (SOF3, P = 2..16) to their samples as stored, uint8 for P <= 8 and
    uint16 above, one channel per component with no colour conversion (lossless.py); for
    those, ``mode`` may only add nothing (or replicate gray to RGB), ``defense`` is refused and
    ``scale`` must be 1.

    ``data``: bytes, bytearray, memoryview, a path, or a binary file object.
    ``mode``: None (the file's own: (H, W) gray, (H, W, 3) RGB or (H, W, 4) CMYK, see the module
    docstring), "RGB" or "L" -- converted as ``PIL.Image.convert`` does; "BGR" (RGB with the channels
    reversed, OpenCV's order); "YCbCr" (YCbCr files only: the upsampled Y, Cb, Cr samples without colour
    conversion, libjpeg's JCS_YCbCr output, what Pillow gives after ``draft("YCbCr", ...)``).
    ``max_pixels``: refuse (``JPEGError``, before any large allocation) images with more pixels;
    None disables the guard. Default: Pillow's MAX_IMAGE_PIXELS. ``max_scans``: refuse files with more
    scans (a bound on decoding time; None: no limit).
    ``defense``: feature-distillation tables (one 8x8 table or (luma, chroma)) for the one-pass
    defense: coefficients are dequantized with the file's tables, re-quantized with these and
    reconstructed with them (spec/feature-distillation.md section 4); equals
    ``decode(requantize(data, defense))``.
    ``scale``: None or 1 (full size), 1/2, 1/4 or 1/8 (numbers or "1/2"-style strings): libjpeg's
    reduced-size IDCT, ceil(W * scale) x ceil(H * scale) pixels identical to ``djpeg -scale`` and
    Pillow's ``draft`` (idct_scaled.py, spec/scaled-decoding.md).
    ``apply_exif_orientation``: rotate/flip the result by the EXIF Orientation tag as Pillow's
    ``ImageOps.exif_transpose`` does (damaged EXIF: a ``JPEGWarning`` and no change; orientation.py).
    """
    if mode not in (None, "RGB", "L", "BGR", "YCbCr"):
        raise ValueError(f"mode must be None, 'RGB', 'L', 'BGR' or 'YCbCr', got {mode!r}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer))):
        raise TypeError(f"max_pixels must be an int or None, got {max_pixels!r}")
    if not isinstance(apply_exif_orientation, (bool, np.bool_)):
        raise TypeError(f"apply_exif_orientation must be a bool, got {apply_exif_orientation!r}")
    denom = scale_denominator(scale)
    raw = load_bytes(data)

    def oriented(pixels):
        if apply_exif_orientation:
            return apply_orientation(pixels, exif_orientation(raw))
        return pixels

    if maybe_lossless(raw):  # SOF3: T.81 Annex H, lossless.py
        samples = decode_lossless(raw, max_pixels, max_scans)
        if samples is not None:
            if defense is not None:
                raise UnsupportedJPEG("the feature-distillation defense needs DCT coefficients; this file is lossless")
            if denom != 1:
                raise UnsupportedJPEG(f"scale={scale!r}: lossless files decode at full size only")
            return oriented(convert_high_precision(samples, mode))
    if defense is None and denom == 1 and mode != "YCbCr":
        # One sequential scan: pixels made band by band as the scan is decoded (pipeline.py); else coefficients.
        coefs = read_pixels(raw, max_pixels, max_scans)
        if isinstance(coefs, np.ndarray):
            return oriented(_finish(coefs, mode))
    else:
        coefs = read_coefficients(raw, max_pixels=max_pixels, max_scans=max_scans)
    if coefs.precision != 8:
        if defense is not None:
            raise UnsupportedJPEG("the feature-distillation defense supports 8-bit files only; this one is 12-bit")
        if denom != 1:
            raise UnsupportedJPEG(f"scale={scale!r}: 12-bit files decode at full size only")
        return oriented(convert_high_precision(coefficients_to_pixels(coefs), mode))
    if defense is not None:
        coefs = requantize_coefficients(coefs, defense)
    if mode == "YCbCr" and coefs.colorspace != "YCbCr":
        raise UnsupportedJPEG(f"mode='YCbCr' needs a YCbCr file; this one is {coefs.colorspace}")
    if denom == 1 and mode != "YCbCr":
        pixels = coefficients_to_pixels(coefs)
    else:
        pixels = reconstruct(coefs, denom, raw_ycc=mode == "YCbCr")
    if mode == "YCbCr":
        return oriented(pixels)
    return oriented(_finish(pixels, mode))


def _finish(pixels: np.ndarray, mode: str | None) -> np.ndarray:
    """The reconstructed pixels in the requested ``mode`` (None, "RGB", "L" or "BGR")."""
    if mode == "BGR":
        return np.ascontiguousarray(convert_mode(pixels, "RGB")[:, :, ::-1])
    return convert_mode(pixels, mode)
