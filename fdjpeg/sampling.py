"""Chroma downsampling as libjpeg does it (jcsample.c).

The encoder first replicates the right and bottom edges of each full-resolution plane out to the
component's block grid (``pad_plane``), then reduces it:
  * 2x1 (h2v1): (a + b + bias) >> 1 with bias alternating 0,1,0,1... along each row;
  * 2x2 (h2v2): (a + b + c + d + bias) >> 2 with bias alternating 1,2,1,2...;
  * any other integral ratio (int_downsample): (sum + n/2) // n over the n-pixel box.
The alternating bias avoids a systematic drift towards larger values (libjpeg's comment in jcsample.c).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


def pad_plane(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Replicate the last row/column of ``plane`` out to (rows, cols) (libjpeg's expand_right/bottom_edge)."""
    h, w = plane.shape
    if h == rows and w == cols:
        return np.ascontiguousarray(plane)
    return np.pad(plane[:rows, :cols], ((0, max(rows - h, 0)), (0, max(cols - w, 0))), mode="edge")


@kernel
def _h2v1_downsample(src, out):
    rows, ocols = out.shape
    for i in range(rows):
        bias = 0
        for j in range(ocols):
            out[i, j] = (np.int32(src[i, 2 * j]) + np.int32(src[i, 2 * j + 1]) + bias) >> 1
            bias ^= 1


@kernel
def _h2v2_downsample(src, out):
    orows, ocols = out.shape
    for i in range(orows):
        bias = 1
        for j in range(ocols):
            s = (
                np.int32(src[2 * i, 2 * j])
                + np.int32(src[2 * i, 2 * j + 1])
                + np.int32(src[2 * i + 1, 2 * j])
                + np.int32(src[2 * i + 1, 2 * j + 1])
            )
            out[i, j] = (s + bias) >> 2
            bias ^= 3


@kernel
def _int_downsample(src, out, h_expand, v_expand):
    orows, ocols = out.shape
    numpix = h_expand * v_expand
    numpix2 = numpix // 2
    for i in range(orows):
        for j in range(ocols):
            s = np.int32(0)
            for v in range(v_expand):
                for h in range(h_expand):
                    s += np.int32(src[i * v_expand + v, j * h_expand + h])
            out[i, j] = (s + numpix2) // numpix


def downsample(src: np.ndarray, h_expand: int, v_expand: int) -> np.ndarray:
    """Reduce a padded uint8 plane by integral factors (h_expand, v_expand) with libjpeg's rounding.

    ``src`` must already be padded to a multiple of the factors.
    """
    rows, cols = src.shape
    out = np.empty((rows // v_expand, cols // h_expand), np.uint8)
    if h_expand == 1 and v_expand == 1:
        out[:] = src
    elif h_expand == 2 and v_expand == 1:
        _h2v1_downsample(src, out)
    elif h_expand == 2 and v_expand == 2:
        _h2v2_downsample(src, out)
    else:
        _int_downsample(src, out, h_expand, v_expand)
    return out


# ---------------------------------------------------------------------------------------------------
# Upsampling as libjpeg-turbo's decoder does it (jdsample.c, with the context rows of jdmainct.c).
#
# Each component is expanded to the full (height, width) by the method _jinit_upsampler selects from
# the ratio of the largest sampling factors to the component's own (h_expand, v_expand):
#   (1, 1)                          fullsize: the plane as is;
#   (2, 1), downsampled width > 2   h2v1 fancy: triangle filter, 3/4 nearer + 1/4 further sample,
#                                   rounding bias alternating +1 / +2;
#   (2, 1), width <= 2              h2v1 box (replication);
#   (1, 2)                          h1v2 fancy: the same filter vertically, bias +1 above / +2 below;
#   (2, 2), downsampled width > 2   h2v2 fancy: the separable 9/16, 3/16, 3/16, 1/16 filter over
#                                   column sums 3*nearer row + further row, bias +8 / +7;
#   (2, 2), width <= 2              h2v2 box;
#   any other integral ratio        int_upsample: box replication;
#   a non-integral ratio            not supported (libjpeg: "Fractional sampling not implemented").
# The filters see the component's real samples only: columns beyond its downsampled width and rows
# beyond its downsampled height are replaced by the last real column/row (jdsample.c duplicates the
# last column; jdmainct.c's set_bottom_pointers duplicates the last row), and the row above the
# first is the first row itself (make_funny_pointers).
# ---------------------------------------------------------------------------------------------------


@kernel
def _h2v1_fancy_upsample(src, dw, out):
    rows, cols = out.shape
    for i in range(rows):
        for x in range(cols):
            j = x >> 1
            near = np.int32(src[i, j]) * 3
            if x & 1:
                far = np.int32(src[i, min(j + 1, dw - 1)])
                out[i, x] = (near + far + 2) >> 2
            else:
                far = np.int32(src[i, max(j - 1, 0)])
                out[i, x] = (near + far + 1) >> 2


@kernel
def _h1v2_fancy_upsample(src, dh, out):
    rows, cols = out.shape
    for y in range(rows):
        i = y >> 1
        if y & 1:
            far_row = min(i + 1, dh - 1)
            bias = 2
        else:
            far_row = max(i - 1, 0)
            bias = 1
        for x in range(cols):
            out[y, x] = (np.int32(src[i, x]) * 3 + np.int32(src[far_row, x]) + bias) >> 2


@kernel
def _h2v2_fancy_upsample(src, dw, dh, out):
    rows, cols = out.shape
    for y in range(rows):
        i = y >> 1
        far_row = min(i + 1, dh - 1) if y & 1 else max(i - 1, 0)
        for x in range(cols):
            j = x >> 1
            this = np.int32(src[i, j]) * 3 + np.int32(src[far_row, j])
            if x & 1:
                k = min(j + 1, dw - 1)
                other = np.int32(src[i, k]) * 3 + np.int32(src[far_row, k])
                out[y, x] = (this * 3 + other + 7) >> 4
            else:
                k = max(j - 1, 0)
                other = np.int32(src[i, k]) * 3 + np.int32(src[far_row, k])
                out[y, x] = (this * 3 + other + 8) >> 4


@kernel
def _int_upsample(src, h_expand, v_expand, out):
    rows, cols = out.shape
    for y in range(rows):
        i = y // v_expand
        for x in range(cols):
            out[y, x] = src[i, x // h_expand]


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
    if method == "h2v1_fancy":
        _h2v1_fancy_upsample(src, downsampled_width, out)
    elif method == "h1v2_fancy":
        _h1v2_fancy_upsample(src, downsampled_height, out)
    elif method == "h2v2_fancy":
        _h2v2_fancy_upsample(src, downsampled_width, downsampled_height, out)
    else:
        _int_upsample(src, h_expand, v_expand, out)
    return out
