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
