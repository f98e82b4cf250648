"""The 8x8 DCT: libjpeg's accurate integer ("islow") forward transform and quantization (jfdctint.c,
jcdctmgr.c), plus a slow float reference.

The islow FDCT is the Loeffler-Ligtenberg-Moschytz algorithm in 13-bit fixed point with 2 extra bits
kept between the row and column passes (CONST_BITS = 13, PASS1_BITS = 2). Its output is the
orthonormal 2-D DCT of the level-shifted block scaled by 8, which is why quantization divides by
8*Q. Quantization uses libjpeg-turbo's reciprocal multiplication (``compute_reciprocal``), whose
results equal rounding |x| / (8Q) half-up with libjpeg's correction term.
"""

from __future__ import annotations

import functools

import numpy as np

from ..base.fixedpoint import (
    CONST_BITS,
    FIX_0_298631336,
    FIX_0_390180644,
    FIX_0_541196100,
    FIX_0_765366865,
    FIX_0_899976223,
    FIX_1_175875602,
    FIX_1_501321110,
    FIX_1_847759065,
    FIX_1_961570560,
    FIX_2_053119869,
    FIX_2_562915447,
    FIX_3_072711026,
    PASS1_BITS,
)
from ..base.fixedpoint import GROUP as _GROUP
from ..base.jit import kernel
from ..base.lanes import mulhi_u16
from .fdct_vec import fdct_quantize_vec1, fdct_quantize_vec4


@kernel
def _fdct_islow(ws):
    """In-place islow FDCT of one block held as 64 int32 values in natural order (jfdctint.c)."""
    # Pass 1: rows. Results are scaled up by sqrt(8) and by 2**PASS1_BITS.
    for r in range(8):
        o = r * 8
        tmp0 = ws[o + 0] + ws[o + 7]
        tmp7 = ws[o + 0] - ws[o + 7]
        tmp1 = ws[o + 1] + ws[o + 6]
        tmp6 = ws[o + 1] - ws[o + 6]
        tmp2 = ws[o + 2] + ws[o + 5]
        tmp5 = ws[o + 2] - ws[o + 5]
        tmp3 = ws[o + 3] + ws[o + 4]
        tmp4 = ws[o + 3] - ws[o + 4]

        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2

        ws[o + 0] = (tmp10 + tmp11) << PASS1_BITS
        ws[o + 4] = (tmp10 - tmp11) << PASS1_BITS

        z1 = (tmp12 + tmp13) * FIX_0_541196100
        n = CONST_BITS - PASS1_BITS
        rnd = 1 << (n - 1)
        ws[o + 2] = (z1 + tmp13 * FIX_0_765366865 + rnd) >> n
        ws[o + 6] = (z1 - tmp12 * FIX_1_847759065 + rnd) >> n

        # Odd part (Figure 8 of the LL&M paper; the paper omits a factor of sqrt(2)).
        z1 = tmp4 + tmp7
        z2 = tmp5 + tmp6
        z3 = tmp4 + tmp6
        z4 = tmp5 + tmp7
        z5 = (z3 + z4) * FIX_1_175875602

        tmp4 = tmp4 * FIX_0_298631336
        tmp5 = tmp5 * FIX_2_053119869
        tmp6 = tmp6 * FIX_3_072711026
        tmp7 = tmp7 * FIX_1_501321110
        z1 = z1 * -FIX_0_899976223
        z2 = z2 * -FIX_2_562915447
        z3 = z3 * -FIX_1_961570560 + z5
        z4 = z4 * -FIX_0_390180644 + z5

        ws[o + 7] = (tmp4 + z1 + z3 + rnd) >> n
        ws[o + 5] = (tmp5 + z2 + z4 + rnd) >> n
        ws[o + 3] = (tmp6 + z2 + z3 + rnd) >> n
        ws[o + 1] = (tmp7 + z1 + z4 + rnd) >> n

    # Pass 2: columns. Removes the PASS1_BITS scaling; the output stays scaled up by 8.
    for c in range(8):
        tmp0 = ws[c + 0] + ws[c + 56]
        tmp7 = ws[c + 0] - ws[c + 56]
        tmp1 = ws[c + 8] + ws[c + 48]
        tmp6 = ws[c + 8] - ws[c + 48]
        tmp2 = ws[c + 16] + ws[c + 40]
        tmp5 = ws[c + 16] - ws[c + 40]
        tmp3 = ws[c + 24] + ws[c + 32]
        tmp4 = ws[c + 24] - ws[c + 32]

        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2

        rnd1 = 1 << (PASS1_BITS - 1)
        ws[c + 0] = (tmp10 + tmp11 + rnd1) >> PASS1_BITS
        ws[c + 32] = (tmp10 - tmp11 + rnd1) >> PASS1_BITS

        n = CONST_BITS + PASS1_BITS
        rnd = 1 << (n - 1)
        z1 = (tmp12 + tmp13) * FIX_0_541196100
        ws[c + 16] = (z1 + tmp13 * FIX_0_765366865 + rnd) >> n
        ws[c + 48] = (z1 - tmp12 * FIX_1_847759065 + rnd) >> n

        z1 = tmp4 + tmp7
        z2 = tmp5 + tmp6
        z3 = tmp4 + tmp6
        z4 = tmp5 + tmp7
        z5 = (z3 + z4) * FIX_1_175875602

        tmp4 = tmp4 * FIX_0_298631336
        tmp5 = tmp5 * FIX_2_053119869
        tmp6 = tmp6 * FIX_3_072711026
        tmp7 = tmp7 * FIX_1_501321110
        z1 = z1 * -FIX_0_899976223
        z2 = z2 * -FIX_2_562915447
        z3 = z3 * -FIX_1_961570560 + z5
        z4 = z4 * -FIX_0_390180644 + z5

        ws[c + 56] = (tmp4 + z1 + z3 + rnd) >> n
        ws[c + 40] = (tmp5 + z2 + z4 + rnd) >> n
        ws[c + 24] = (tmp6 + z2 + z3 + rnd) >> n
        ws[c + 8] = (tmp7 + z1 + z4 + rnd) >> n


def quant_divisors(qtable) -> np.ndarray:
    """libjpeg-turbo's ``compute_reciprocal`` for the islow DCT (divisor = 8*Q, 16-bit DCTELEM).

    Returns a new (3, 64) int64 array: reciprocal, correction (rounding) and shift, natural order.
    Memoized on the table's values (a 224x224 encode would otherwise spend a fifth of its time here).
    """
    q = np.asarray(qtable, dtype=np.int64).reshape(64)
    return _quant_divisors_cached(q.tobytes()).copy()


@functools.lru_cache(maxsize=64)
def _quant_divisors_cached(table_bytes: bytes) -> np.ndarray:
    q = np.frombuffer(table_bytes, dtype=np.int64)
    out = np.zeros((3, 64), dtype=np.int64)
    for i in range(64):
        divisor = int(q[i]) << 3
        b = divisor.bit_length() - 1
        r = 16 + b
        fq, fr = divmod(1 << r, divisor)
        c = divisor // 2
        if fr == 0:  # power of two: fq would need 17 bits, so halve it
            fq >>= 1
            r -= 1
        elif fr <= divisor // 2:
            c += 1
        else:
            fq += 1
        out[0, i], out[1, i], out[2, i] = fq, c, r
    return out


@kernel
def _fdct_quantize_block(src, r0, c0, divisors, ws, out):
    """Level-shift, FDCT and quantize the 8x8 block src[r0:r0+8, c0:c0+8] (uint8) into out[0:64]
    (int16, natural order); ``ws`` is a caller-owned int32 scratch of 64 entries."""
    for r in range(8):
        row = src[r0 + r]
        for c in range(8):
            ws[r * 8 + c] = np.int32(row[c0 + c]) - 128
    _fdct_islow(ws)
    for i in range(64):
        x = np.int64(ws[i])
        m = ((abs(x) + divisors[1, i]) * divisors[0, i]) >> divisors[2, i]
        out[i] = -m if x < 0 else m


@kernel
def _fdct_quantize_plane(plane, divisors, out):
    """Level-shift, FDCT and quantize every 8x8 block of a uint8 plane into out[by, bx, 64] (int16)."""
    nby, nbx = out.shape[0], out.shape[1]
    if plane.shape[1] % 8 == 0:
        _fdct_quantize_batched(plane, divisors, out)
        return
    ws = np.empty(64, dtype=np.int32)
    for by in range(nby):
        for bx in range(nbx):
            _fdct_quantize_block(plane, by * 8, bx * 8, divisors, ws, out[by, bx])


# The same transform and quantization batched: _GROUP blocks at a time, every array laid out as
# [position][block] -- index (row * 8 + column) * _GROUP + g -- so that each pass and the quantization
# is a loop over the block index g with contiguous loads and stores, which LLVM vectorizes, and the
# quantizers are per-loop scalars. The islow FDCT cannot overflow 32 bits for 8-bit samples, so int32
# arithmetic is exact. (fd/roundtrip.py continues from here to the IDCT for distill.)


@kernel
def _fdct_butterfly(d0, d1, d2, d3, d4, d5, d6, d7):
    """One 1-D pass of jfdctint.c's islow FDCT on int32 lanes, before descaling: outputs 0..7 in
    frequency order; 0 and 4 are plain sums, the others carry CONST_BITS of fraction. (int32 is exact:
    the islow FDCT cannot overflow it for 8-bit samples.)"""
    i32 = np.int32
    tmp0 = i32(d0 + d7)
    tmp7 = i32(d0 - d7)
    tmp1 = i32(d1 + d6)
    tmp6 = i32(d1 - d6)
    tmp2 = i32(d2 + d5)
    tmp5 = i32(d2 - d5)
    tmp3 = i32(d3 + d4)
    tmp4 = i32(d3 - d4)
    tmp10 = i32(tmp0 + tmp3)
    tmp13 = i32(tmp0 - tmp3)
    tmp11 = i32(tmp1 + tmp2)
    tmp12 = i32(tmp1 - tmp2)
    z1 = i32(i32(tmp12 + tmp13) * FIX_0_541196100)
    y2 = i32(z1 + i32(tmp13 * FIX_0_765366865))
    y6 = i32(z1 - i32(tmp12 * FIX_1_847759065))
    z1 = i32(tmp4 + tmp7)
    z2 = i32(tmp5 + tmp6)
    z3 = i32(tmp4 + tmp6)
    z4 = i32(tmp5 + tmp7)
    z5 = i32(i32(z3 + z4) * FIX_1_175875602)
    tmp4 = i32(tmp4 * FIX_0_298631336)
    tmp5 = i32(tmp5 * FIX_2_053119869)
    tmp6 = i32(tmp6 * FIX_3_072711026)
    tmp7 = i32(tmp7 * FIX_1_501321110)
    z1 = i32(z1 * -FIX_0_899976223)
    z2 = i32(z2 * -FIX_2_562915447)
    z3 = i32(i32(z3 * -FIX_1_961570560) + z5)
    z4 = i32(i32(z4 * -FIX_0_390180644) + z5)
    y7 = i32(i32(tmp4 + z1) + z3)
    y5 = i32(i32(tmp5 + z2) + z4)
    y3 = i32(i32(tmp6 + z2) + z3)
    y1 = i32(i32(tmp7 + z1) + z4)
    return i32(tmp10 + tmp11), y1, y2, y3, i32(tmp10 - tmp11), y5, y6, y7


@kernel
def _fdct_lanes(pixw, ws, co):
    """The islow FDCT of _GROUP blocks in the [position][block] layout: pixw[r * _GROUP + g], row r of
    block g as 8 packed samples -> co[(v * 8 + u) * _GROUP + g], coefficient (v, u) (int32, scaled by 8
    as jfdctint leaves it); ws is int32 scratch of 64 * _GROUP."""
    i32 = np.int32
    u64 = np.uint64
    G = _GROUP
    rnd1 = 1 << (CONST_BITS - PASS1_BITS - 1)
    rnd2 = 1 << (CONST_BITS + PASS1_BITS - 1)
    # FDCT pass 1: rows (jfdctint.c), level shift included.
    for r in range(8):
        for g in range(G):
            w = pixw[r * G + g]
            d0 = i32(i32(w & u64(255)) - 128)
            d1 = i32(i32((w >> u64(8)) & u64(255)) - 128)
            d2 = i32(i32((w >> u64(16)) & u64(255)) - 128)
            d3 = i32(i32((w >> u64(24)) & u64(255)) - 128)
            d4 = i32(i32((w >> u64(32)) & u64(255)) - 128)
            d5 = i32(i32((w >> u64(40)) & u64(255)) - 128)
            d6 = i32(i32((w >> u64(48)) & u64(255)) - 128)
            d7 = i32(i32(w >> u64(56)) - 128)
            y0, y1, y2, y3, y4, y5, y6, y7 = _fdct_butterfly(d0, d1, d2, d3, d4, d5, d6, d7)
            p = r * 8 * G + g
            ws[p] = i32(y0 << PASS1_BITS)
            ws[p + 4 * G] = i32(y4 << PASS1_BITS)
            ws[p + 2 * G] = i32(i32(y2 + rnd1) >> (CONST_BITS - PASS1_BITS))
            ws[p + 6 * G] = i32(i32(y6 + rnd1) >> (CONST_BITS - PASS1_BITS))
            ws[p + 7 * G] = i32(i32(y7 + rnd1) >> (CONST_BITS - PASS1_BITS))
            ws[p + 5 * G] = i32(i32(y5 + rnd1) >> (CONST_BITS - PASS1_BITS))
            ws[p + 3 * G] = i32(i32(y3 + rnd1) >> (CONST_BITS - PASS1_BITS))
            ws[p + G] = i32(i32(y1 + rnd1) >> (CONST_BITS - PASS1_BITS))
    # FDCT pass 2: columns.
    for u in range(8):
        for g in range(G):
            p = u * G + g
            y0, y1, y2, y3, y4, y5, y6, y7 = _fdct_butterfly(
                i32(ws[p]),
                i32(ws[p + 8 * G]),
                i32(ws[p + 16 * G]),
                i32(ws[p + 24 * G]),
                i32(ws[p + 32 * G]),
                i32(ws[p + 40 * G]),
                i32(ws[p + 48 * G]),
                i32(ws[p + 56 * G]),
            )
            co[p] = i32(i32(y0 + (1 << (PASS1_BITS - 1))) >> PASS1_BITS)
            co[p + 32 * G] = i32(i32(y4 + (1 << (PASS1_BITS - 1))) >> PASS1_BITS)
            co[p + 16 * G] = i32(i32(y2 + rnd2) >> (CONST_BITS + PASS1_BITS))
            co[p + 48 * G] = i32(i32(y6 + rnd2) >> (CONST_BITS + PASS1_BITS))
            co[p + 56 * G] = i32(i32(y7 + rnd2) >> (CONST_BITS + PASS1_BITS))
            co[p + 40 * G] = i32(i32(y5 + rnd2) >> (CONST_BITS + PASS1_BITS))
            co[p + 24 * G] = i32(i32(y3 + rnd2) >> (CONST_BITS + PASS1_BITS))
            co[p + 8 * G] = i32(i32(y1 + rnd2) >> (CONST_BITS + PASS1_BITS))


@kernel
def _fdct_quantize_batched(plane, divisors, out):
    """_fdct_quantize_plane for a C-contiguous plane whose width is a multiple of 8: one block at a time
    in vector registers (fdct_vec.py) when the quantizers allow 16-bit quantization (every table of
    8-bit quantizers), else _fdct_quantize_groups."""
    nby, nbx = out.shape[0], out.shape[1]
    narrow = plane.strides[1] == 1
    for k in range(64):
        if divisors[1, k] >= 49152 or divisors[0, k] >= 65536 or not 17 <= divisors[2, k] <= 32:
            narrow = False
    if not narrow:
        _fdct_quantize_groups(plane, divisors, out)
        return
    qrc = np.empty(64, np.uint16)
    qcr = np.empty(64, np.uint16)
    qsc = np.empty(64, np.uint16)
    for k in range(64):
        # (|x| + corr) * recip >> shift as ((|x| + corr) * recip >> 16) >> (shift - 16); shift 32 gives 0
        # for every 16-bit |x| + corr, so its reciprocal becomes 0 (a shift by 16 is undefined in 16 bits).
        qrc[k] = divisors[0, k] if divisors[2, k] < 32 else 0
        qcr[k] = divisors[1, k]
        qsc[k] = divisors[2, k] - 16 if divisors[2, k] < 32 else 0
    stride = plane.strides[0]
    flat = out.reshape(nby * nbx * 64)
    for by in range(nby):
        for bx in range(0, nbx - 3, 4):
            fdct_quantize_vec4(plane, by * 8 * stride + bx * 8, stride, qrc, qcr, qsc, flat, (by * nbx + bx) * 64)
        for bx in range(nbx - nbx % 4, nbx):
            fdct_quantize_vec1(plane, by * 8 * stride + bx * 8, stride, qrc, qcr, qsc, flat, (by * nbx + bx) * 64)


@kernel
def _fdct_quantize_groups(plane, divisors, out):
    """_fdct_quantize_batched with _fdct_lanes on batches of _GROUP blocks, then quantization, one
    coefficient position at a time for the batch (32-bit or, for large quantizers, 64-bit)."""
    u16 = np.uint16
    nby, nbx = out.shape[0], out.shape[1]
    nblocks = nby * nbx
    if nblocks == 0:
        return
    G = _GROUP
    plane64 = plane.view(np.uint64)
    flat = out.reshape(nblocks, 64)
    # int16 lanes from the FDCT's output on, as libjpeg-turbo's jfdctint-avx2.asm + jquanti-avx2.asm:
    # the inter-pass workspace and the coefficients are 16-bit (pass-1 values are within +-4096 + 1,
    # coefficients within +-8192 + 1 for 8-bit samples: the orthonormal DCT's bound, scaled by 4*sqrt(8)
    # and 8), and quantization is two unsigned 16-bit high multiplies (vpmulhuw):
    #   m = ((|x| + corr) * recip >> 16) * 2**(32 - shift) >> 16  ==  (|x| + corr) * recip >> shift
    # whenever |x| + corr and recip fit 16 unsigned bits and 17 <= shift <= 32: corrections below
    # 2**16 - 2**14 and quantizers below 2**13, true of every table <= 255; other tables take the exact
    # int64 path.
    narrow = True
    for k in range(64):
        if divisors[1, k] >= 49152 or divisors[0, k] >= 65536 or not 17 <= divisors[2, k] <= 32:
            narrow = False
    pixw = np.zeros(8 * G, np.uint64)
    ws = np.empty(64 * G, np.int16)
    co = np.empty(64 * G, np.int16)
    qo = np.empty(64 * G, np.int16)
    by = 0
    bx = 0
    for b0 in range(0, nblocks, G):
        cnt = min(G, nblocks - b0)
        for g in range(cnt):
            for r in range(8):
                pixw[r * G + g] = plane64[by * 8 + r, bx]
            bx += 1
            if bx == nbx:
                bx = 0
                by += 1
        _fdct_lanes(pixw, ws, co)
        for k in range(64):
            if narrow:
                rc = u16(divisors[0, k])
                cr = u16(divisors[1, k])
                scale = u16(1 << (32 - divisors[2, k]))
                for g in range(G):
                    x = co[k * G + g]
                    a = u16(u16(abs(np.int32(x))) + cr)
                    m = np.int16(mulhi_u16(mulhi_u16(a, rc), scale))
                    qo[k * G + g] = np.int16(-m) if x < 0 else m
            else:
                rc64 = np.int64(divisors[0, k])
                cr64 = np.int64(divisors[1, k])
                sh64 = np.int64(divisors[2, k])
                for g in range(G):
                    x = np.int64(co[k * G + g])
                    m = ((abs(x) + cr64) * rc64) >> sh64
                    qo[k * G + g] = np.int16(-m if x < 0 else m)
        for g in range(cnt):
            dst = flat[b0 + g]
            for v in range(8):
                # Eight loads, then eight stores: lets LLVM store the row as one vector.
                p = v * 8 * G + g
                a0 = qo[p]
                a1 = qo[p + G]
                a2 = qo[p + 2 * G]
                a3 = qo[p + 3 * G]
                a4 = qo[p + 4 * G]
                a5 = qo[p + 5 * G]
                a6 = qo[p + 6 * G]
                a7 = qo[p + 7 * G]
                dst[v * 8] = a0
                dst[v * 8 + 1] = a1
                dst[v * 8 + 2] = a2
                dst[v * 8 + 3] = a3
                dst[v * 8 + 4] = a4
                dst[v * 8 + 5] = a5
                dst[v * 8 + 6] = a6
                dst[v * 8 + 7] = a7


def forward_dct_quantize(plane: np.ndarray, qtable) -> np.ndarray:
    """Quantized islow DCT coefficients (by, bx, 64) int16, natural order, of a plane whose sides are multiples of 8."""
    rows, cols = plane.shape
    out = np.empty((rows // 8, cols // 8, 64), np.int16)
    _fdct_quantize_plane(np.ascontiguousarray(plane, dtype=np.uint8), quant_divisors(qtable), out)
    return out
