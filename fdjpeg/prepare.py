"""The compressor's front end in one parallel pass (libjpeg's jcprepct + jcsample + jcdctmgr + jccoefct):
pixels -> quantized blocks stored in transmission (MCU) order, one iMCU row ("strip") per task.

Each strip converts its rows to YCbCr, replicates edges, downsamples, transforms and quantizes into
small strip-local buffers that stay in cache, so the only full-size array is the output. The
arithmetic is that of the stage kernels (color.py, sampling.py, dct.py; spec/codec.md section 2),
including libjpeg's vertical edge rule: full-resolution rows are replicated only up to a whole row
group, and the last *downsampled* row is what fills the rest of the block grid.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel, parallel_kernel, prange
from .color import CBCR_OFFSET, FIX_0_08131, FIX_0_11400, FIX_0_16874, FIX_0_29900, FIX_0_33126, FIX_0_41869
from .color import FIX_0_50000, FIX_0_58700, ONE_HALF, SCALEBITS
from .dct import _fdct_quantize_batched


@kernel
def _convert_row(img, y, out, i, width, padded):
    """Row y of the image -> out[:, i, :padded] (Y, Cb, Cr or gray), replicating column width-1."""
    nch = img.shape[2]
    src = img[y].reshape(width * nch)  # flat row: LLVM vectorizes the loop below
    if nch == 3:
        o0 = out[0, i]
        o1 = out[1, i]
        o2 = out[2, i]
        for x in range(width):
            r = np.int32(src[3 * x])
            g = np.int32(src[3 * x + 1])
            b = np.int32(src[3 * x + 2])
            o0[x] = np.uint8((FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * b + ONE_HALF) >> SCALEBITS)
            o1[x] = np.uint8((-FIX_0_16874 * r - FIX_0_33126 * g + FIX_0_50000 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS)
            o2[x] = np.uint8((FIX_0_50000 * r - FIX_0_41869 * g - FIX_0_08131 * b + CBCR_OFFSET + ONE_HALF - 1) >> SCALEBITS)
    else:
        o0 = out[0, i]
        for x in range(width):
            o0[x] = src[x]
    for c in range(out.shape[0]):
        row = out[c, i]
        last = row[width - 1]
        for x in range(width, padded):
            row[x] = last


@kernel
def _downsample_row(full, c, r0, hexp, vexp, dst):
    """One downsampled row from full[c, r0:r0+vexp, :] (jcsample.c arithmetic)."""
    n = dst.shape[0]
    if hexp == 1 and vexp == 1:
        src = full[c, r0]
        for j in range(n):
            dst[j] = src[j]
    elif hexp == 2 and vexp == 1:
        src = full[c, r0]
        bias = 0
        for j in range(n):
            dst[j] = (np.int32(src[2 * j]) + np.int32(src[2 * j + 1]) + bias) >> 1
            bias ^= 1
    elif hexp == 2 and vexp == 2:
        a = full[c, r0]
        b = full[c, r0 + 1]
        bias = 1
        for j in range(n):
            s = np.int32(a[2 * j]) + np.int32(a[2 * j + 1]) + np.int32(b[2 * j]) + np.int32(b[2 * j + 1])
            dst[j] = (s + bias) >> 2
            bias ^= 3
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


@parallel_kernel(work=lambda *args: args[-1].shape[0])  # the blocks of ``out``
def _prepare_strips(img, height, width, geom, divisors, mcus_x, mcus_y, blocks_per_mcu, max_v, padded_width, out):
    """Quantized blocks of every strip into ``out`` (n_mcu * blocks_per_mcu, 64), MCU order.

    geom[c] = (h, v, width_in_blocks, height_in_blocks, h_expand, v_expand, offset of c's first block
    in the MCU); a single-component (non-interleaved) frame passes h = v = 1 and its real block grid.
    """
    ncomp = geom.shape[0]
    rows = 8 * max_v
    group_rows = -(-height // max_v) * max_v  # full-resolution rows padded to a whole row group
    for s in prange(mcus_y):
        y0 = s * rows
        full = np.empty((ncomp, rows, padded_width), np.uint8)
        for i in range(rows):
            _convert_row(img, min(y0 + i, height - 1), full, i, width, padded_width)
        for c in range(ncomp):
            h, v, bx, by, hexp, vexp, off = geom[c, 0], geom[c, 1], geom[c, 2], geom[c, 3], geom[c, 4], geom[c, 5], geom[c, 6]
            down = np.empty((8 * v, bx * 8), np.uint8)
            valid = group_rows // vexp  # downsampled rows made from real row groups
            for dr in range(8 * v):
                d = min(s * 8 * v + dr, valid - 1)
                _downsample_row(full, c, d * vexp - y0, hexp, vexp, down[dr])
            coefs = np.empty((v, bx, 64), np.int16)
            _fdct_quantize_batched(down, divisors[c], coefs)
            for vv in range(v):
                row = s * v + vv
                for xb in range(mcus_x * h):
                    k = (s * mcus_x + xb // h) * blocks_per_mcu + off + vv * h + xb % h
                    blk = out[k]
                    if row < by and xb < bx:
                        blk[:] = coefs[vv, xb]
                        continue
                    # Dummy block (jccoefct.c): AC zero; DC copied from the left neighbour, or for a
                    # dummy row from the last block of the row above in the same MCU.
                    for i in range(1, 64):
                        blk[i] = 0
                    if row < by:
                        blk[0] = out[k - 1, 0]
                    else:
                        blk[0] = out[(s * mcus_x + xb // h) * blocks_per_mcu + off + (vv - 1) * h + h - 1, 0]
