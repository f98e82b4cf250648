"""Feature distillation as a pixel transform for DNN preprocessing: the shared core of the optional
integrations ``fdjpeg.torch`` and ``fdjpeg.art`` (plain NumPy; neither torch nor ART is imported here).

Two placements (spec/feature-distillation.md section 4), both exact codec operations:

* ``"distill"`` -- ``decode(encode(x, tables))``: what a receiver sees from a file that was encoded
  with the crafted tables at the source (the first half of the two-pass defense), and what
  ``fdjpeg.distill`` computes.
* ``"one-pass"`` -- the decoder-side defense for an image that *arrives compressed*. Raw pixels (an
  attacker's PNG, a decoded frame) are taken to arrive as a quality-100 4:4:4 baseline JPEG (all
  steps 1), and the one-pass defense is applied to that file: dequantize with the file's table,
  re-quantize with ``tables``, dequantize, IDCT -- i.e. exactly
  ``decode(encode(x, quality=100, subsampling="4:4:4"), defense=tables)``, computed in the
  coefficient domain without entropy coding. It differs from ``"distill"`` only by the extra
  rounding of every coefficient to an integer before the re-quantization.
"""

from __future__ import annotations

import os

import numpy as np

from ._jit import parallel_kernel, prange
from .color import _rgb_to_ycc, _ycc_rgb_planes
from .dct import _fdct_quantize_plane, _idct_islow_plane, quant_divisors
from .distill import _pad_edges, _requantize_blocks

PLACEMENTS = ("distill", "one-pass")


def resolve_tables(tables):
    """A preset name (``tables.PRESETS``: "robust", "released", "paper"), ``"q<N>"`` for the standard quality-N tables, a path to a
    JSON tables file, one 8x8 table or (luma, chroma) -> the validated list of 1 or 2 uint16 tables."""
    from . import tables as fdtables
    from .encoder import validate_fd_tables

    if isinstance(tables, str) and tables in fdtables.PRESETS:
        tables = fdtables.preset(tables)
    elif isinstance(tables, str) and tables[:1] == "q" and tables[1:].isdigit():
        tables = fdtables.standard(int(tables[1:]))
    elif isinstance(tables, (str, os.PathLike)):
        tables = fdtables.load(tables)
    return validate_fd_tables(tables)


def _one_pass_uint8(image: np.ndarray, tabs) -> np.ndarray:
    """One uint8 (H, W) or (H, W, 3) image: quality-100 4:4:4 coefficients, re-quantized with ``tabs``, decoded.
    The slow reference of ``one_pass`` (the codec's own stages, no fused kernel); the tests compare them."""
    from .coefficients import JPEGCoefficients
    from .decoder import coefficients_to_pixels
    from .distill import requantize_coefficients
    from .encoder import image_to_coefficients

    ones = np.ones((8, 8), np.uint16)
    layout, blocks, tq = image_to_coefficients(image, [ones], "4:4:4")
    coefs = JPEGCoefficients(
        layout.width, layout.height, [b.reshape(b.shape[0], b.shape[1], 8, 8) for b in blocks],
        [ones for _ in tq], list(layout.sampling), [1] if image.ndim == 2 else [1, 2, 3],
        "L" if image.ndim == 2 else "YCbCr",
    )  # fmt: skip
    return coefficients_to_pixels(requantize_coefficients(coefs, tabs))


@parallel_kernel(work=lambda batch, *args: batch.size // 64 if batch.shape[0] > 1 else 0)  # one image per task
def _one_pass_444_batch(batch, div_ones, ones, q_luma, q_chroma, out):
    """One-pass defense of raw 4:4:4 (or grey) images, one image per thread: encoder stages with all
    steps 1, re-quantization with the crafted table, decoder stages (distill._distill_444_batch's layout)."""
    n, h, w, nch = batch.shape
    hp = -(-h // 8) * 8
    wp = -(-w // 8) * 8
    for k in prange(n):
        planes = np.empty((nch, hp, wp), np.uint8)
        if nch == 3:
            _rgb_to_ycc(batch[k], planes[0, :h, :w], planes[1, :h, :w], planes[2, :h, :w])
        else:
            planes[0, :h, :w] = batch[k, :, :, 0]
        coefs = np.empty((hp // 8, wp // 8, 64), np.int16)
        flat = coefs.reshape(-1, 64)
        for c in range(nch):
            _pad_edges(planes[c], h, w)
            _fdct_quantize_plane(planes[c], div_ones, coefs)
            q = q_luma if c == 0 else q_chroma
            _requantize_blocks(flat, ones, q, flat)  # in place: steps 1 -> the crafted table
            _idct_islow_plane(coefs.reshape(hp // 8, wp // 8, 8, 8), q, planes[c], True)
        if nch == 3:
            _ycc_rgb_planes(planes[0], planes[1], planes[2], out[k])
        else:
            out[k, :, :, 0] = planes[0, :h, :w]


def one_pass(images, tables, *, channels_first: bool = False):
    """The one-pass defense on raw pixels (see the module docstring); same input conventions and
    output dtype/layout as ``fdjpeg.distill`` (uint8, or float in [0, 1] rounded to 8 bits first)."""
    from .distill import _to_uint8_batch

    tabs = resolve_tables(tables)
    src = np.asarray(images)
    batch, is_float = _to_uint8_batch(images, channels_first)
    out = np.empty_like(batch)
    luma, chroma = tabs[0], tabs[-1]
    ones = np.ones(64, np.int64)
    _one_pass_444_batch(batch, quant_divisors(ones), ones, np.asarray(luma, np.int64).reshape(64),
                        np.asarray(chroma, np.int64).reshape(64), out)
    if channels_first:
        out = out.transpose(0, 3, 1, 2)
    result = np.ascontiguousarray(out.reshape(src.shape))
    if is_float:
        return (result / 255.0).astype(src.dtype)
    return result


def apply(images, tables, *, placement: str = "distill", subsampling: str = "4:4:4", channels_first: bool = False):
    """Feature distillation of a batch with either placement; float in [0, 1] or uint8, NHWC or NCHW."""
    from .distill import distill

    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
    tabs = resolve_tables(tables)
    if placement == "one-pass":
        if subsampling != "4:4:4":
            raise ValueError("the one-pass placement takes raw pixels as a 4:4:4 file; subsampling must be '4:4:4'")
        return one_pass(images, tabs, channels_first=channels_first)
    return distill(images, tabs if len(tabs) == 2 else tabs[0], subsampling=subsampling, channels_first=channels_first)
