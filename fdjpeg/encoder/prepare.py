"""The compressor's front end in one parallel pass (libjpeg's jcprepct + jcsample + jcdctmgr + jccoefct):
pixels -> quantized blocks stored in transmission (MCU) order, one iMCU row ("strip") per task.

Each strip converts its rows to YCbCr, replicates edges, downsamples, transforms and quantizes into
small strip-local buffers that stay in cache, so the only full-size array is the output. The
arithmetic is the stage kernels' own (color.py, downsample.py, fdct.py; spec/codec.md section 2),
including libjpeg's vertical edge rule: full-resolution rows are replicated only up to a whole row
group, and the last *downsampled* row is what fills the rest of the block grid.
"""

from __future__ import annotations

import numpy as np

from ..base.jit import kernel, parallel_kernel, prange
from .color import _rgb_ycc_row
from .downsample import _downsample_row
from .fdct import _fdct_quantize_batched


@kernel
def _convert_row(img, y, out, i, width, padded):
    """Row y of the image -> out[:, i, :padded] (Y, Cb, Cr or gray), replicating column width-1."""
    nch = img.shape[2]
    src = img[y].reshape(width * nch)  # flat row: LLVM vectorizes the conversion
    if nch == 3:
        _rgb_ycc_row(src, out[0, i], out[1, i], out[2, i], width)
    else:
        o0 = out[0, i]
        for x in range(width):
            o0[x] = src[x]
    for c in range(out.shape[0]):
        row = out[c, i]
        last = row[width - 1]
        for x in range(width, padded):
            row[x] = last


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
            h, v, bx, by, hexp, vexp, off = (
                geom[c, 0],
                geom[c, 1],
                geom[c, 2],
                geom[c, 3],
                geom[c, 4],
                geom[c, 5],
                geom[c, 6],
            )
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
                        # An explicit loop, not blk[:] = ...: Numba's slice assignment cost ~15 ns a
                        # block more (2.3 ms of a 6.3 MP encode).
                        cb = coefs[vv, xb]
                        for i in range(64):
                            blk[i] = cb[i]
                        continue
                    # Dummy block (jccoefct.c): AC zero; DC copied from the left neighbour, or for a
                    # dummy row from the last block of the row above in the same MCU.
                    for i in range(1, 64):
                        blk[i] = 0
                    if row < by:
                        blk[0] = out[k - 1, 0]
                    else:
                        blk[0] = out[(s * mcus_x + xb // h) * blocks_per_mcu + off + (vv - 1) * h + h - 1, 0]
