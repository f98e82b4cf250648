"""Edge replication and chroma downsampling as libjpeg's compressor does them (jcsample.c, jcprepct.c).

The encoder first replicates the right and bottom edges of each full-resolution plane out to the
component's block grid (``pad_plane``), then reduces it:
  * 2x1 (h2v1): (a + b + bias) >> 1 with bias alternating 0,1,0,1... along each row;
  * 2x2 (h2v2): (a + b + c + d + bias) >> 2 with bias alternating 1,2,1,2...;
  * any other integral ratio (int_downsample): (sum + n/2) // n over the n-pixel box.
The alternating bias avoids a systematic drift towards larger values (libjpeg's comment in jcsample.c).
``_downsample_row`` is the one implementation; the fused front end (prepare.py) calls it per row.
"""

from __future__ import annotations

import numpy as np

from ..base.jit import kernel
from .sample_vec import DOWN_N, h2v1_vec, h2v2_vec


def pad_plane(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Replicate the last row/column of ``plane`` out to (rows, cols) (libjpeg's expand_right/bottom_edge)."""
    h, w = plane.shape
    if h == rows and w == cols:
        return np.ascontiguousarray(plane)
    return np.pad(plane[:rows, :cols], ((0, max(rows - h, 0)), (0, max(cols - w, 0))), mode="edge")


@kernel
def _downsample_row(full, c, r0, hexp, vexp, dst):
    """One downsampled row dst[0:n] from full[c, r0:r0+vexp, :] (jcsample.c arithmetic)."""
    n = dst.shape[0]
    i16 = np.int16
    if hexp == 1 and vexp == 1:
        src = full[c, r0]
        for j in range(n):
            dst[j] = src[j]
    elif hexp == 2 and vexp == 1:
        # int16 lanes, as jcsample-avx2.asm (vpmaddubsw pair sums + vpaddw bias): every sum is below 512.
        # Two outputs per iteration, so the alternating bias is a constant (a loop-carried toggle or a
        # bias computed from j kept LLVM from vectorizing, or made it use int64 lanes).
        src = full[c, r0]
        k0 = 0  # whole groups of DOWN_N outputs (an even count: the bias pattern restarts) in vector IR
        while 2 * k0 + DOWN_N <= n:
            h2v1_vec(src, 4 * k0, dst, 2 * k0)
            k0 += DOWN_N // 2
        for k in range(k0, n >> 1):
            j = 2 * k
            dst[j] = np.uint8(i16(i16(i16(src[2 * j]) + i16(src[2 * j + 1])) >> i16(1)))
            dst[j + 1] = np.uint8(i16(i16(i16(i16(src[2 * j + 2]) + i16(src[2 * j + 3])) + i16(1)) >> i16(1)))
        if n & 1:
            j = n - 1
            dst[j] = np.uint8(i16(i16(i16(src[2 * j]) + i16(src[2 * j + 1])) >> i16(1)))
    elif hexp == 2 and vexp == 2:
        # int16 lanes likewise: the four-sample sums are below 1024; bias 1, 2, 1, 2, ...
        a = full[c, r0]
        b = full[c, r0 + 1]
        k0 = 0
        o0 = c * full.strides[0] + r0 * full.strides[1]  # uint8, unit inner stride: flat offsets
        o1 = o0 + full.strides[1]
        while 2 * k0 + DOWN_N <= n:
            h2v2_vec(full, o0 + 4 * k0, o1 + 4 * k0, dst, 2 * k0)
            k0 += DOWN_N // 2
        for k in range(k0, n >> 1):
            j = 2 * k
            s0 = i16(i16(i16(a[2 * j]) + i16(a[2 * j + 1])) + i16(i16(b[2 * j]) + i16(b[2 * j + 1])))
            s1 = i16(i16(i16(a[2 * j + 2]) + i16(a[2 * j + 3])) + i16(i16(b[2 * j + 2]) + i16(b[2 * j + 3])))
            dst[j] = np.uint8(i16(i16(s0 + i16(1)) >> i16(2)))
            dst[j + 1] = np.uint8(i16(i16(s1 + i16(2)) >> i16(2)))
        if n & 1:
            j = n - 1
            s0 = i16(i16(i16(a[2 * j]) + i16(a[2 * j + 1])) + i16(i16(b[2 * j]) + i16(b[2 * j + 1])))
            dst[j] = np.uint8(i16(i16(s0 + i16(1)) >> i16(2)))
    else:
        numpix = hexp * vexp
        half = numpix // 2
        for j in range(n):
            s = np.int32(0)
            for v in range(vexp):
                src = full[c, r0 + v]
                for h in range(hexp):
                    s += np.int32(src[j * hexp + h])
            dst[j] = (s + half) // numpix


@kernel
def _downsample_plane(src, h_expand, v_expand, out):
    planes = src.reshape(1, src.shape[0], src.shape[1])
    for i in range(out.shape[0]):
        _downsample_row(planes, 0, i * v_expand, h_expand, v_expand, out[i])


def downsample(src: np.ndarray, h_expand: int, v_expand: int) -> np.ndarray:
    """Reduce a padded uint8 plane by integral factors (h_expand, v_expand) with libjpeg's rounding.

    ``src`` must already be padded to a multiple of the factors.
    """
    src = np.ascontiguousarray(src, dtype=np.uint8)
    rows, cols = src.shape
    out = np.empty((rows // v_expand, cols // h_expand), np.uint8)
    _downsample_plane(src, np.int64(h_expand), np.int64(v_expand), out)
    return out
