"""The pixel round trip at the core of ``distill``: FDCT, quantization, dequantization and IDCT of 32
blocks in one batch, exactly ``_fdct_quantize_plane`` followed by ``_idct_islow_plane(..., simd=True)``
(a JPEG encode/decode of one plane without entropy coding).

The round trip of distill: FDCT, quantization, dequantization and IDCT of _GROUP blocks in one batch,
all in the [position][block] layout of _fdct_lanes (no interleaving shuffles, unlike the decoder's
IDCT batches, whose coefficients arrive block by block). Exact for the same reasons as _fdct_lanes
and _idct_group; blocks failing the IDCT's range test go to the reference path.
"""

from __future__ import annotations

import numpy as np

from ..base.fixedpoint import GROUP as _GROUP
from ..base.jit import kernel
from ..decoder.idct_islow import _idct_islow_block
from ..decoder.idct_lanes import _idct_butterfly
from ..encoder.fdct import _fdct_lanes, _fdct_quantize_block


@kernel
def _roundtrip_group(pixw, ws, co, deq, words, acc, divisors, q, narrow):
    """pixw[r * _GROUP + g]: row r of block g, 8 samples packed little-endian -> words (same layout):
    the decoded rows. co keeps the quantized coefficients (for the reference path), acc[g] the range
    test of block g (see _idct_group)."""
    i32 = np.int32
    u32 = np.uint32
    u64 = np.uint64
    G = _GROUP
    _fdct_lanes(pixw, ws, co)
    # Quantization (jcdctmgr.c's reciprocal form), dequantization, and the IDCT's input range test.
    for g in range(G):
        acc[g] = 0
    for k in range(64):
        mult = i32(q[k])
        if narrow:
            rc = u32(divisors[0, k])
            cr = u32(divisors[1, k])
            sh = u32(divisors[2, k])
            for g in range(G):
                x = co[k * G + g]
                m = i32(u32(u32(u32(abs(x)) + cr) * rc) >> sh)
                c = i32(-m if x < 0 else m)
                co[k * G + g] = c
                v = i32(c * mult)
                deq[k * G + g] = v
                acc[g] = i32(acc[g] | i32(v + 16384))
        else:
            rc64 = np.int64(divisors[0, k])
            cr64 = np.int64(divisors[1, k])
            sh64 = np.int64(divisors[2, k])
            for g in range(G):
                x = np.int64(co[k * G + g])
                m = ((abs(x) + cr64) * rc64) >> sh64
                c = i32(-m if x < 0 else m)
                co[k * G + g] = c
                v = i32(c * mult)
                deq[k * G + g] = v
                acc[g] = i32(acc[g] | i32(v + 16384))
    # IDCT pass 1: columns.
    for c in range(8):
        for g in range(G):
            p = c * G + g
            i0 = deq[p]
            i1 = deq[p + 8 * G]
            i2 = deq[p + 16 * G]
            i3 = deq[p + 24 * G]
            i4 = deq[p + 32 * G]
            i5 = deq[p + 40 * G]
            i6 = deq[p + 48 * G]
            i7 = deq[p + 56 * G]
            t10, t11, t12, t13, o0, o1, o2, o3 = _idct_butterfly(i0, i1, i2, i3, i4, i5, i6, i7)
            w0 = i32(i32(i32(t10 + o3) + 1024) >> 11)
            w1 = i32(i32(i32(t11 + o2) + 1024) >> 11)
            w2 = i32(i32(i32(t12 + o1) + 1024) >> 11)
            w3 = i32(i32(i32(t13 + o0) + 1024) >> 11)
            w4 = i32(i32(i32(t13 - o0) + 1024) >> 11)
            w5 = i32(i32(i32(t12 - o1) + 1024) >> 11)
            w6 = i32(i32(i32(t11 - o2) + 1024) >> 11)
            w7 = i32(i32(i32(t10 - o3) + 1024) >> 11)
            ws[p] = w0
            ws[p + 8 * G] = w1
            ws[p + 16 * G] = w2
            ws[p + 24 * G] = w3
            ws[p + 32 * G] = w4
            ws[p + 40 * G] = w5
            ws[p + 48 * G] = w6
            ws[p + 56 * G] = w7
            a = i32(i32(i32(w0 + 16384) | i32(w1 + 16384)) | i32(i32(w2 + 16384) | i32(w3 + 16384)))
            b = i32(i32(i32(w4 + 16384) | i32(w5 + 16384)) | i32(i32(w6 + 16384) | i32(w7 + 16384)))
            acc[g] = i32(acc[g] | i32(a | b))
    # IDCT pass 2: rows, packed into words.
    for r in range(8):
        for g in range(G):
            p = r * 8 * G + g
            i0 = ws[p]
            i1 = ws[p + G]
            i2 = ws[p + 2 * G]
            i3 = ws[p + 3 * G]
            i4 = ws[p + 4 * G]
            i5 = ws[p + 5 * G]
            i6 = ws[p + 6 * G]
            i7 = ws[p + 7 * G]
            t10, t11, t12, t13, o0, o1, o2, o3 = _idct_butterfly(i0, i1, i2, i3, i4, i5, i6, i7)
            x0 = u64(min(max(i32(i32(t10 + o3) + 131072) >> 18, -128), 127) + 128)
            x1 = u64(min(max(i32(i32(t11 + o2) + 131072) >> 18, -128), 127) + 128)
            x2 = u64(min(max(i32(i32(t12 + o1) + 131072) >> 18, -128), 127) + 128)
            x3 = u64(min(max(i32(i32(t13 + o0) + 131072) >> 18, -128), 127) + 128)
            x4 = u64(min(max(i32(i32(t13 - o0) + 131072) >> 18, -128), 127) + 128)
            x5 = u64(min(max(i32(i32(t12 - o1) + 131072) >> 18, -128), 127) + 128)
            x6 = u64(min(max(i32(i32(t11 - o2) + 131072) >> 18, -128), 127) + 128)
            x7 = u64(min(max(i32(i32(t10 - o3) + 131072) >> 18, -128), 127) + 128)
            words[r * G + g] = (
                x0
                | (x1 << u64(8))
                | (x2 << u64(16))
                | (x3 << u64(24))
                | (x4 << u64(32))
                | (x5 << u64(40))
                | (x6 << u64(48))
                | (x7 << u64(56))
            )


@kernel
def _fdct_idct_plane(plane, divisors, q):
    """In place, every 8x8 block of a uint8 plane through FDCT, quantization (``divisors``),
    dequantization (``q``) and the "simd" IDCT: exactly _fdct_quantize_plane followed by
    _idct_islow_plane(..., simd=True) -- a JPEG encode/decode round trip without entropy coding, the
    core of distill -- with the coefficients never leaving the batch (_roundtrip_group)."""
    rows, cols = plane.shape[0], plane.shape[1]
    nby, nbx = rows // 8, cols // 8
    nblocks = nby * nbx
    if nblocks == 0:
        return
    blk = np.empty(64, np.int64)
    scratch = np.empty(128, np.int64)
    if cols % 8 != 0:  # (no 8-sample words) one block at a time, by the reference kernels
        ws = np.empty(64, np.int32)
        coef = np.empty(64, np.int16)
        for by in range(nby):
            for bx in range(nbx):
                _fdct_quantize_block(plane, by * 8, bx * 8, divisors, ws, coef)
                for k in range(64):
                    blk[k] = coef[k]
                _idct_islow_block(blk, q, plane, by * 8, bx * 8, np.bool_(True), scratch)
        return
    G = _GROUP
    plane64 = plane.view(np.uint64)
    # 32-bit quantization whenever the products fit (as in _fdct_quantize_batched). Dequantized values
    # (|coefficient| * Q <= 1025 + Q) always fit int32; beyond +-16383 the range test takes over.
    narrow = True
    for k in range(64):
        if divisors[1, k] >= 49152 or divisors[0, k] > 65536:
            narrow = False
    pixw = np.zeros(8 * G, np.uint64)
    ws = np.empty(64 * G, np.int32)
    co = np.empty(64 * G, np.int32)
    deq = np.empty(64 * G, np.int32)
    words = np.empty(8 * G, np.uint64)
    acc = np.empty(G, np.int32)
    lane_r = np.empty(G, np.int64)  # top sample row and word column of each block of the batch
    lane_c = np.empty(G, np.int64)
    by = 0
    bx = 0
    for b0 in range(0, nblocks, G):
        cnt = min(G, nblocks - b0)
        for g in range(cnt):
            lane_r[g] = by * 8
            lane_c[g] = bx
            for r in range(8):
                pixw[r * G + g] = plane64[by * 8 + r, bx]
            bx += 1
            if bx == nbx:
                bx = 0
                by += 1
        _roundtrip_group(pixw, ws, co, deq, words, acc, divisors, q, narrow)
        for g in range(cnt):
            if (acc[g] >> 15) != 0:
                for k in range(64):
                    blk[k] = co[k * G + g]
                _idct_islow_block(blk, q, plane, lane_r[g], lane_c[g] * 8, np.bool_(True), scratch)
            else:
                for r in range(8):
                    plane64[lane_r[g] + r, lane_c[g]] = words[r * G + g]
