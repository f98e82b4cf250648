"""Feature distillation as codec features (Liu et al., CVPR 2019; spec/feature-distillation.md).

* ``requantize(jpeg, tables)`` -- the one-pass defense in the coefficient domain: every coefficient is
  dequantized with the file's table, re-quantized with the crafted table and stored with it, giving a
  standard baseline file that any decoder turns into the defended image (no pixel round trip).
* ``requantize_coefficients`` -- the same on ``JPEGCoefficients``; ``decode(..., defense=tables)``
  uses it, so ``decode(requantize(d, t)) == decode(d, defense=t)`` exactly.
* ``distill(images, tables)`` -- the defense as a pixel -> pixel transform for DNN preprocessing,
  exactly ``decode(encode(x, tables, subsampling=...))`` without entropy coding, parallel over a batch.
"""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np

from ._jit import kernel, parallel_kernel, prange
from .coefficients import JPEGCoefficients, write_coefficients
from .color import _rgb_to_ycc, _ycc_rgb_planes
from .dct import _fdct_idct_plane, quant_divisors

#: Sample rows per parallel task of _distill_444_image (whole block rows).
_STRIP_ROWS = 32

#: Batches with fewer images than threads, of images at least this large, are split into strips.
_STRIP_MIN_PIXELS = 1 << 18

#: Re-quantized coefficients are clamped to what 8-bit baseline Huffman coding can carry.
MAX_AC = 1023
MIN_DC, MAX_DC = -1024, 1023


def component_tables(tables, ncomp: int) -> list[np.ndarray]:
    """Validated tables per component: one table for all, or (luma, chroma) = component 0, the rest."""
    from .encoder import validate_fd_tables

    tabs = validate_fd_tables(tables)
    return [tabs[0] if c == 0 or len(tabs) == 1 else tabs[1] for c in range(ncomp)]


@kernel
def _requantize_blocks(blocks, q_file, q_new, out):
    """out = clamp(round_half_up(|coef * Qfile| / Qnew) * sign) per coefficient; blocks (n, 64) natural order.

    Zero coefficients (most of them) skip the integer division, which dominates the cost."""
    for b in range(blocks.shape[0]):
        for i in range(64):
            c = blocks[b, i]
            if c == 0:
                out[b, i] = 0
                continue
            v = np.int64(c) * q_file[i]
            d = q_new[i]
            m = (abs(v) + d // 2) // d
            r = -m if v < 0 else m
            if i == 0:
                r = min(max(r, MIN_DC), MAX_DC)
            else:
                r = min(max(r, -MAX_AC), MAX_AC)
            out[b, i] = r


_REQUANTIZE_TASK_BLOCKS = 4096


@parallel_kernel(work=lambda blocks, *args: blocks.shape[0] if blocks.shape[0] > _REQUANTIZE_TASK_BLOCKS else 0)
def _requantize_blocks_parallel(blocks, q_file, q_new, out):
    """_requantize_blocks over the threads, _REQUANTIZE_TASK_BLOCKS blocks per task."""
    n = blocks.shape[0]
    for t in prange((n + _REQUANTIZE_TASK_BLOCKS - 1) // _REQUANTIZE_TASK_BLOCKS):
        b0 = t * _REQUANTIZE_TASK_BLOCKS
        b1 = min(b0 + _REQUANTIZE_TASK_BLOCKS, n)
        _requantize_blocks(blocks[b0:b1], q_file, q_new, out[b0:b1])


def requantize_coefficients(coefs: JPEGCoefficients, tables) -> JPEGCoefficients:
    """The one-pass defense on coefficients: dequantize with the file's tables, re-quantize with
    ``tables`` (round half away from zero, clamped to the baseline range) and attach ``tables``."""
    new_tables = component_tables(tables, len(coefs.components))
    comps = []
    for blocks, q_file, q_new in zip(coefs.components, coefs.quant_tables, new_tables):
        flat = np.ascontiguousarray(blocks, dtype=np.int16).reshape(-1, 64)
        out = np.empty_like(flat)
        _requantize_blocks_parallel(flat, np.asarray(q_file, np.int64).reshape(64),
                                    np.asarray(q_new, np.int64).reshape(64), out)
        comps.append(out.reshape(blocks.shape))
    return replace(coefs, components=comps, quant_tables=[t.copy() for t in new_tables], coef_bits=None)


def requantize(data, tables, *, optimize: bool = True, keep_metadata: bool = True) -> bytes:
    """Rewrite a JPEG (baseline or progressive) with the crafted ``tables`` in the coefficient domain.

    The result is a standard baseline file (one interleaved scan; optimal Huffman tables unless
    ``optimize=False``) whose DQT is ``tables``; any decoder reconstructs the defended image from it.
    Sampling, size, component ids and (with ``keep_metadata``) EXIF/ICC/comment are kept.
    """
    from .reader import read_coefficients

    return write_coefficients(requantize_coefficients(read_coefficients(data), tables), optimize=optimize,
                              keep_metadata=keep_metadata)


# --------------------------------------------------------------------------------------------------
# distill: the pixel -> pixel transform


@kernel
def _pad_edges(plane, h, w):
    """Replicate row h-1 and column w-1 of plane[:h, :w] over the rest of the (padded) plane."""
    for i in range(h):
        for j in range(w, plane.shape[1]):
            plane[i, j] = plane[i, w - 1]
    for i in range(h, plane.shape[0]):
        for j in range(plane.shape[1]):
            plane[i, j] = plane[h - 1, j]


@parallel_kernel(work=lambda batch, *args: batch.size // 64 if batch.shape[0] > 1 else 0)  # one image per task
def _distill_444_batch(batch, div_luma, div_chroma, q_luma, q_chroma, out):
    """decode(encode(x)) for 4:4:4 colour or grayscale images of one size, one image per thread.

    batch/out: (N, H, W, C) uint8 with C = 3 (YCbCr coding) or 1 (grayscale).
    """
    n, h, w, nch = batch.shape
    hp = -(-h // 8) * 8
    wp = -(-w // 8) * 8
    for k in prange(n):
        planes = np.empty((nch, hp, wp), np.uint8)
        if nch == 3:
            _rgb_to_ycc(batch[k], planes[0, :h, :w], planes[1, :h, :w], planes[2, :h, :w])
        else:
            planes[0, :h, :w] = batch[k, :, :, 0]
        for c in range(nch):
            _pad_edges(planes[c], h, w)
            if c == 0:
                _fdct_idct_plane(planes[c], div_luma, q_luma)
            else:
                _fdct_idct_plane(planes[c], div_chroma, q_chroma)
        if nch == 3:
            _ycc_rgb_planes(planes[0], planes[1], planes[2], out[k])
        else:
            out[k, :, :, 0] = planes[0, :h, :w]


@parallel_kernel(work=lambda img, *args: img.size // 64)
def _distill_444_image(img, div_luma, div_chroma, q_luma, q_chroma, out):
    """_distill_444_batch for one large image (H, W, C), strips of _STRIP_ROWS sample rows spread over
    the threads. Each strip is whole block rows, so padding and blocks never cross strips: the bottom
    padding rows share the last strip with row H - 1."""
    h, w, nch = img.shape
    hp = -(-h // 8) * 8
    wp = -(-w // 8) * 8
    planes = np.empty((nch, hp, wp), np.uint8)
    for t in prange((hp + _STRIP_ROWS - 1) // _STRIP_ROWS):
        y0 = t * _STRIP_ROWS
        y1 = min(y0 + _STRIP_ROWS, hp)
        ye = min(y1, h)
        if nch == 3:
            _rgb_to_ycc(img[y0:ye], planes[0, y0:ye, :w], planes[1, y0:ye, :w], planes[2, y0:ye, :w])
        else:
            planes[0, y0:ye, :w] = img[y0:ye, :, 0]
        for c in range(nch):
            strip = planes[c, y0:y1]
            _pad_edges(strip, ye - y0, w)
            if c == 0:
                _fdct_idct_plane(strip, div_luma, q_luma)
            else:
                _fdct_idct_plane(strip, div_chroma, q_chroma)
        if nch == 3:
            _ycc_rgb_planes(planes[0, y0:ye], planes[1, y0:ye], planes[2, y0:ye], out[y0:ye])
        else:
            out[y0:ye, :, 0] = planes[0, y0:ye, :w]


def _distill_one_general(img: np.ndarray, tabs, subsampling: str) -> np.ndarray:
    """Any subsampling: the encoder's coefficient stage followed by the decoder's pixel stage."""
    from .decoder import coefficients_to_pixels
    from .encoder import image_to_coefficients

    layout, blocks, tq = image_to_coefficients(img, tabs, subsampling)
    coefs = JPEGCoefficients(
        layout.width, layout.height, [b.reshape(b.shape[0], b.shape[1], 8, 8) for b in blocks],
        [tabs[t] for t in tq], list(layout.sampling), [1] if img.ndim == 2 else [1, 2, 3],
        "L" if img.ndim == 2 else "YCbCr",
    )  # fmt: skip
    return coefficients_to_pixels(coefs)


def _to_uint8_batch(images, channels_first: bool):
    """-> (uint8 NHWC batch, whether the input was float). Accepts one image or a batch, uint8 or float in [0, 1]."""
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        is_float = False
    elif arr.dtype.kind == "f":
        is_float = True
    else:
        raise TypeError(f"images must be uint8 or float in [0, 1], got {arr.dtype}")
    if channels_first:
        if arr.ndim == 3:
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[1] not in (1, 3):
            raise ValueError(f"channels_first images must be (C, H, W) or (N, C, H, W) with C in (1, 3), got {np.shape(images)}")
        arr = arr.transpose(0, 2, 3, 1)
    else:
        if arr.ndim == 2:
            arr = arr[None, :, :, None]
        elif arr.ndim == 3 and arr.shape[2] in (1, 3):
            arr = arr[None]
        elif arr.ndim == 3:
            raise ValueError(f"ambiguous shape {arr.shape}: pass one image as (H, W) / (H, W, 3) or a batch as (N, H, W, C)")
        if arr.ndim != 4 or arr.shape[3] not in (1, 3):
            raise ValueError(f"images must be (H, W), (H, W, 3) or (N, H, W, C) with C in (1, 3), got {np.shape(images)}")
    if 0 in arr.shape:
        raise ValueError(f"empty images: shape {np.shape(images)}")
    from .encoder import check_dimensions

    check_dimensions(arr.shape[2], arr.shape[1], "image")  # as encode: distill is decode(encode(x))
    if is_float:
        if not np.isfinite(arr).all():
            raise ValueError("float images must be finite (in [0, 1])")
        scaled = np.rint(arr * 255.0)
        lo, hi = float(scaled.min()), float(scaled.max())
        if lo < 0 or hi > 255:  # never clip silently: 0..255 floats or normalized input are caller errors
            raise ValueError(f"float images must be in [0, 1], got values in [{arr.min():g}, {arr.max():g}]; "
                             "pass uint8 for 0..255 data (or divide by 255) and undo any mean/std normalization")
        u8 = scaled.astype(np.uint8)
    else:
        u8 = arr
    return np.ascontiguousarray(u8), is_float


def distill(images, tables, *, subsampling: str = "4:4:4", channels_first: bool = False):
    """Feature distillation as a pixel -> pixel transform: exactly ``decode(encode(x, tables,
    subsampling=subsampling))`` for uint8 input, without entropy coding, parallel over a batch.

    images: one image (H, W) / (H, W, 3), or a batch (N, H, W, C) with C in (1, 3); uint8, or float
        in [0, 1] (NHWC, or NCHW with ``channels_first=True``). Floats are rounded to 8 bits first
        (x -> round(255 x)) and returned as the same dtype, layout and range (value / 255); a float
        outside [0, 1] (beyond rounding) raises ValueError rather than being clipped.
    tables: one 8x8 table for every component or (luma, chroma), 1..255, e.g. tables.preset("paper");
        required (None raises TypeError: there is no default defense).
    subsampling: "4:4:4" by default (so ``distill(x, t) == decode(encode(x, t, subsampling="4:4:4"))``;
        ``encode`` itself defaults to 4:2:0 for colour).
    """
    from .encoder import SUBSAMPLING, validate_fd_tables

    tabs = validate_fd_tables(tables)
    if subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)}, got {subsampling!r}")
    src = images
    batch, is_float = _to_uint8_batch(images, channels_first)
    nch = batch.shape[3]
    if nch == 1 or subsampling == "4:4:4":
        luma, chroma = tabs[0], tabs[-1]
        args = (quant_divisors(luma), quant_divisors(chroma), np.asarray(luma, np.int64).reshape(64),
                np.asarray(chroma, np.int64).reshape(64))
        out = np.empty_like(batch)
        n, h, w = batch.shape[:3]
        if h * w >= _STRIP_MIN_PIXELS and n < numba.get_num_threads():  # (no thread pool start for small images)
            for k in range(n):  # too few images to keep the threads busy: split each one
                _distill_444_image(batch[k], *args, out[k])
        else:
            _distill_444_batch(batch, *args, out)
    else:
        out = np.stack([_distill_one_general(img, tabs, subsampling) for img in batch])
    if channels_first:
        out = out.transpose(0, 3, 1, 2)
    result = np.ascontiguousarray(out.reshape(np.shape(src)))
    if is_float:
        return (result / 255.0).astype(np.asarray(src).dtype)
    return result
