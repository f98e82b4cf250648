"""Upsampling as libjpeg-turbo's decoder does it (jdsample.c, with the context rows of jdmainct.c).
The compressor's direction, edge replication and downsampling, is encoder/downsample.py.

Each component is expanded to the full (height, width) by the method _jinit_upsampler selects from
the ratio of the largest sampling factors to the component's own (h_expand, v_expand):
  (1, 1)                          fullsize: the plane as is;
  (2, 1), downsampled width > 2   h2v1 fancy: triangle filter, 3/4 nearer + 1/4 further sample,
                                  rounding bias alternating +1 / +2;
  (2, 1), width <= 2              h2v1 box (replication);
  (1, 2)                          h1v2 fancy: the same filter vertically, bias +1 above / +2 below;
  (2, 2), downsampled width > 2   h2v2 fancy: the separable 9/16, 3/16, 3/16, 1/16 filter over
                                  column sums 3*nearer row + further row, bias +8 / +7;
  (2, 2), width <= 2              h2v2 box;
  any other integral ratio        int_upsample: box replication;
  a non-integral ratio            not supported (libjpeg: "Fractional sampling not implemented").
The filters see the component's real samples only: columns beyond its downsampled width and rows
beyond its downsampled height are replaced by the last real column/row (jdsample.c duplicates the
last column; jdmainct.c's set_bottom_pointers duplicates the last row), and the row above the
first is the first row itself (make_funny_pointers).
"""

from __future__ import annotations

import numpy as np

from ..base.jit import kernel

#: Method codes of _upsample_row, by upsample_method() name.
METHOD_CODES = {"fullsize": 0, "h2v1_fancy": 1, "h1v2_fancy": 2, "h2v2_fancy": 3, "h2v1": 4, "h2v2": 4, "int": 4}


@kernel
def _fancy_pair(c, n, width, j, bias_even, bias_odd, shift, out):
    """Outputs 2j and 2j+1 of a horizontal triangle filter over c[0:n] (3/4 nearer + 1/4 further
    sample), the edge sample standing in for its missing neighbour; nothing at or beyond ``width``."""
    near = np.int32(c[j]) * 3
    if 2 * j < width:
        out[2 * j] = (near + np.int32(c[max(j - 1, 0)]) + bias_even) >> shift
    if 2 * j + 1 < width:
        out[2 * j + 1] = (near + np.int32(c[min(j + 1, n - 1)]) + bias_odd) >> shift


@kernel
def _fancy_row(c, n, width, bias_even, bias_odd, shift, out):
    """_fancy_pair for every pair that reaches into out[0:width]; the interior runs without the edge
    tests, so that LLVM vectorizes it."""
    jmax = (width - 1) >> 1
    hi = min(jmax - 1, n - 2)  # interior j: both neighbours exist and both outputs are inside width
    _fancy_pair(c, n, width, np.int64(0), bias_even, bias_odd, shift, out)
    # int16 arithmetic (every sum is below 4096): twice the lanes of int32.
    i16 = np.int16
    be = i16(bias_even)
    bo = i16(bias_odd)
    for j in range(1, hi + 1):
        near = i16(i16(c[j]) * i16(3))
        out[2 * j] = np.uint8(i16(i16(i16(near + i16(c[j - 1])) + be) >> shift))
        out[2 * j + 1] = np.uint8(i16(i16(i16(near + i16(c[j + 1])) + bo) >> shift))
    for j in range(max(hi + 1, 1), jmax + 1):
        _fancy_pair(c, n, width, j, bias_even, bias_odd, shift, out)


@kernel
def _upsample_row(src, method, h_expand, v_expand, dw, dh, y, width, cs, out):
    """Output row ``y`` of one component expanded to full resolution, into out[0:width] (uint8).

    ``src`` holds the component's samples (at least dh rows of dw), ``method`` a METHOD_CODES value and
    ``cs`` an int16 scratch row of at least dw entries (the h2v2 column sums, at most 1020).
    """
    if method == 0:  # fullsize
        row = src[y]
        for x in range(width):
            out[x] = row[x]
    elif method == 1:  # h2v1 fancy: (3 s[j] + s[j-1] + 1) >> 2, (3 s[j] + s[j+1] + 2) >> 2
        # Widened to int16 first: on a uint8 row LLVM chose 64-bit lanes (vpmadd52luq) for the filter;
        # on int16 it runs the int16 lanes of the h2v2 case (jdsample-avx2.asm's vpmullw/vpaddw width).
        row = src[y]
        for j in range(dw):
            cs[j] = np.int16(row[j])
        _fancy_row(cs, dw, width, 1, 2, 2, out)
    elif method == 2:  # h1v2 fancy: (3 s[i] + s[i-1] + 1) >> 2 above, (3 s[i] + s[i+1] + 2) >> 2 below
        i = y >> 1
        if y & 1:
            far = src[min(i + 1, dh - 1)]
            bias = 2
        else:
            far = src[max(i - 1, 0)]
            bias = 1
        near = src[i]
        b16 = np.int16(bias)
        for x in range(width):
            out[x] = np.uint8(
                np.int16(np.int16(np.int16(np.int16(near[x]) * np.int16(3)) + np.int16(far[x])) + b16) >> 2
            )
    elif method == 3:  # h2v2 fancy: column sums 3 s[i] + s[i-+1], then the h2v1 filter with +8 / +7
        i = y >> 1
        near = src[i]
        far = src[min(i + 1, dh - 1)] if y & 1 else src[max(i - 1, 0)]
        for j in range(dw):
            cs[j] = np.int16(np.int16(np.int16(near[j]) * np.int16(3)) + np.int16(far[j]))
        _fancy_row(cs, dw, width, 8, 7, 4, out)
    else:  # box: h2v1 / h2v2 of width <= 2 and int_upsample replicate samples
        row = src[y // v_expand]
        for x in range(width):
            out[x] = row[x // h_expand]


def upsample_method(h_expand: int, v_expand: int, downsampled_width: int) -> str:
    """The name of the jdsample.c method libjpeg-turbo selects (fancy upsampling on, no DCT scaling)."""
    if (h_expand, v_expand) == (1, 1):
        return "fullsize"
    if (h_expand, v_expand) == (2, 1):
        return "h2v1_fancy" if downsampled_width > 2 else "h2v1"
    if (h_expand, v_expand) == (1, 2):
        return "h1v2_fancy"
    if (h_expand, v_expand) == (2, 2):
        return "h2v2_fancy" if downsampled_width > 2 else "h2v2"
    return "int"


def upsample(
    plane: np.ndarray,
    h_expand: int,
    v_expand: int,
    width: int,
    height: int,
    downsampled_width: int,
    downsampled_height: int,
) -> np.ndarray:
    """Expand one decoded component to (height, width) exactly as libjpeg-turbo's decoder does.

    ``plane`` is the component's IDCT output (at least downsampled_height x downsampled_width; any
    block padding beyond that is ignored); the downsampled size is ceil(image size * factor / max factor).
    Returns a new uint8 (height, width) array, or a view of ``plane`` for fullsize components.
    """
    if h_expand < 1 or v_expand < 1:
        raise ValueError(f"expansion factors must be positive integers, got {h_expand}x{v_expand}")
    if plane.shape[0] < downsampled_height or plane.shape[1] < downsampled_width:
        raise ValueError(
            f"plane {plane.shape} is smaller than the downsampled size {downsampled_height}x{downsampled_width}"
        )
    if downsampled_width * h_expand < width or downsampled_height * v_expand < height:
        raise ValueError(
            f"{downsampled_height}x{downsampled_width} samples expanded {h_expand}x{v_expand} cannot cover {height}x{width}"
        )
    method = upsample_method(h_expand, v_expand, downsampled_width)
    if method == "fullsize":
        return plane[:height, :width]
    src = np.ascontiguousarray(plane)
    out = np.empty((height, width), np.uint8)
    _upsample_plane(src, METHOD_CODES[method], h_expand, v_expand, downsampled_width, downsampled_height, out)
    return out


@kernel
def _upsample_plane(src, method, h_expand, v_expand, dw, dh, out):
    cs = np.empty(max(dw, 1), np.int16)
    for y in range(out.shape[0]):
        _upsample_row(src, method, h_expand, v_expand, dw, dh, y, out.shape[1], cs, out[y])
