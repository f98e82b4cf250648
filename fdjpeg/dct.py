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

from ._jit import kernel, parallel_kernel, prange

CONST_BITS = 13
PASS1_BITS = 2

# FIX(x) = round(x * 2**13), libjpeg's precomputed constants (jfdctint.c / jidctint.c).
FIX_0_298631336 = 2446
FIX_0_390180644 = 3196
FIX_0_541196100 = 4433
FIX_0_765366865 = 6270
FIX_0_899976223 = 7373
FIX_1_175875602 = 9633
FIX_1_501321110 = 12299
FIX_1_847759065 = 15137
FIX_1_961570560 = 16069
FIX_2_053119869 = 16819
FIX_2_562915447 = 20995
FIX_3_072711026 = 25172


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
# arithmetic is exact. (dct._roundtrip_group continues from here to the IDCT for distill.)

_GROUP = 32


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
                ws[p], ws[p + 8 * G], ws[p + 16 * G], ws[p + 24 * G],
                ws[p + 32 * G], ws[p + 40 * G], ws[p + 48 * G], ws[p + 56 * G])
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
    """_fdct_quantize_plane for a C-contiguous plane whose width is a multiple of 8: _fdct_lanes on
    batches of _GROUP blocks, then quantization, one coefficient position at a time for the batch."""
    i32 = np.int32
    u32 = np.uint32
    nby, nbx = out.shape[0], out.shape[1]
    nblocks = nby * nbx
    if nblocks == 0:
        return
    G = _GROUP
    plane64 = plane.view(np.uint64)
    flat = out.reshape(nblocks, 64)
    # |coefficient| <= 8 * 1024 for 8-bit samples and reciprocals are <= 2**16, so with corrections below
    # 2**16 - 2**14 the products fit 32 unsigned bits (always for tables <= 255): twice the lanes.
    narrow = True
    for k in range(64):
        if divisors[1, k] >= 49152 or divisors[0, k] > 65536:
            narrow = False
    pixw = np.zeros(8 * G, np.uint64)
    ws = np.empty(64 * G, np.int32)
    co = np.empty(64 * G, np.int32)
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
                rc = u32(divisors[0, k])
                cr = u32(divisors[1, k])
                sh = u32(divisors[2, k])
                for g in range(G):
                    x = co[k * G + g]
                    m = i32(u32(u32(u32(abs(x)) + cr) * rc) >> sh)
                    qo[k * G + g] = np.int16(-m if x < 0 else m)
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


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix C, so that a block's 2-D DCT is C @ B @ C.T."""
    k = np.arange(8)[:, None]
    n = np.arange(8)[None, :]
    c = np.cos((2 * n + 1) * k * np.pi / 16) * np.sqrt(2 / 8)
    c[0] /= np.sqrt(2)
    return c


def fdct_float_reference(block) -> np.ndarray:
    """Slow float reference: orthonormal 2-D DCT of an 8x8 block, times 8 (the islow scaling)."""
    c = dct_matrix()
    return 8.0 * (c @ np.asarray(block, dtype=np.float64) @ c.T)


# ---------------------------------------------------------------------------------------------------
# Inverse transform: libjpeg's islow IDCT with dequantization (jidctint.c, jddctmgr.c).
#
# The same LL&M flow graph run backwards: pass 1 over columns keeps PASS1_BITS extra bits, pass 2 over
# rows removes them and the factor 8 (DESCALE by CONST_BITS + PASS1_BITS + 3 = 18), then the sample
# is level-shifted by +128 and range-limited. Two arithmetics are modelled, identical for every
# coefficient a real encoder produces and different only when dequantized values overflow 16 bits:
#
#   "simd" -- libjpeg-turbo's x86-64 AVX2 kernel (simd/x86_64/jidctint-avx2.asm), which is what
#             Pillow runs on x86-64. Dequantization keeps the low 16 bits of coef*Q (vpmullw), the
#             butterfly sums in0+-in4, in7+in3 and in5+in1 wrap in 16 bits (vpaddw), each pass's
#             output saturates to int16 (vpackssdw) and the final sample saturates to -128..127
#             before the +128 shift (vpacksswb). Its all-zero-AC shortcut is taken per block, not
#             per column, and shifts the 16-bit DC left by PASS1_BITS with wraparound. The 32-bit
#             products and sums cannot overflow (the largest |pass output| before descaling is
#             under 2.12e9 for any 16-bit inputs).
#   "c"    -- jidctint.c as compiled without SIMD (djpeg built plain): exact 32-bit dequantization,
#             64-bit arithmetic, the workspace truncated to 32 bits between passes, and the final
#             value looked up through libjpeg's range-limit table with ``& RANGE_MASK`` (1023),
#             so wildly out-of-range values wrap around instead of clamping (jdmaster.c,
#             prepare_range_limit_table).
#   "c16"  -- the same C code in a library built with SIMD support but running without it
#             (JSIMD_FORCENONE=1, or a CPU without SSE2): jmorecfg.h then makes the dequantization
#             multiplier a 16-bit short, so quantizer values above 32767 act as negative numbers.
# ---------------------------------------------------------------------------------------------------

IDCT_ARITHMETIC = ("simd", "c", "c16")


@kernel
def _wrap16(x):
    return ((x + 32768) & 0xFFFF) - 32768


@kernel
def _wrap32(x):
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@kernel
def _sat16(x):
    return min(max(x, -32768), 32767)


@kernel
def _idct_1d(i0, i1, i2, i3, i4, i5, i6, i7, wrap):
    """One 8-point islow IDCT, undescaled: returns the 8 outputs scaled by 2**CONST_BITS.

    ``wrap`` reproduces the AVX2 kernel's 16-bit butterfly sums; the rest is exact integer
    arithmetic, which equals both the C code and the SIMD code (no intermediate rounding).
    """
    s04 = i0 + i4
    d04 = i0 - i4
    z3 = i7 + i3
    z4 = i5 + i1
    if wrap:
        s04 = _wrap16(s04)
        d04 = _wrap16(d04)
        z3 = _wrap16(z3)
        z4 = _wrap16(z4)

    # Even part: the rotator is sqrt(2)*c(-6).
    e0 = s04 << CONST_BITS
    e1 = d04 << CONST_BITS
    e3 = i2 * (FIX_0_541196100 + FIX_0_765366865) + i6 * FIX_0_541196100
    e2 = i2 * FIX_0_541196100 + i6 * (FIX_0_541196100 - FIX_1_847759065)
    t10 = e0 + e3
    t13 = e0 - e3
    t11 = e1 + e2
    t12 = e1 - e2

    # Odd part (LL&M figure 8): i7, i5, i3, i1 play the roles of tmp0..tmp3.
    zz3 = z3 * (FIX_1_175875602 - FIX_1_961570560) + z4 * FIX_1_175875602
    zz4 = z3 * FIX_1_175875602 + z4 * (FIX_1_175875602 - FIX_0_390180644)
    o0 = i7 * (FIX_0_298631336 - FIX_0_899976223) - i1 * FIX_0_899976223 + zz3
    o1 = i5 * (FIX_2_053119869 - FIX_2_562915447) - i3 * FIX_2_562915447 + zz4
    o2 = -i5 * FIX_2_562915447 + i3 * (FIX_3_072711026 - FIX_2_562915447) + zz3
    o3 = -i7 * FIX_0_899976223 + i1 * (FIX_1_501321110 - FIX_0_899976223) + zz4

    return t10 + o3, t11 + o2, t12 + o1, t13 + o0, t13 - o0, t12 - o1, t11 - o2, t10 - o3


@kernel
def _idct_islow_block(blk, q, out, r0, c0, simd, scratch):
    """Dequantize and inverse-transform one block (64 coefficients, natural order, int values) into
    out[r0:r0+8, c0:c0+8] (uint8), with the arithmetic of the AVX2 kernel (simd) or of jidctint.c.
    ``scratch`` is a caller-owned int64 array of 128 (dequantized values, inter-pass workspace)."""
    deq = scratch[:64]
    ws = scratch[64:]
    ac_zero = True
    for i in range(64):
        v = np.int64(blk[i]) * np.int64(q[i])
        deq[i] = _wrap16(v) if simd else v
        if i >= 8 and blk[i] != 0:
            ac_zero = False

    n1 = CONST_BITS - PASS1_BITS
    r1 = np.int64(1) << (n1 - 1)
    if simd and ac_zero:
        # The AVX2 shortcut: rows 1..7 all zero -> every column is its DC << PASS1_BITS, in 16 bits.
        for c in range(8):
            dc = _wrap16(deq[c] << PASS1_BITS)
            for r in range(8):
                ws[r * 8 + c] = dc
    else:
        # Pass 1: columns. (jidctint.c's own zero-column shortcut gives the same values as the
        # general path, so it is not reproduced.)
        for c in range(8):
            a0, a1, a2, a3, a4, a5, a6, a7 = _idct_1d(
                deq[c], deq[8 + c], deq[16 + c], deq[24 + c], deq[32 + c], deq[40 + c], deq[48 + c], deq[56 + c], simd
            )
            res = (a0, a1, a2, a3, a4, a5, a6, a7)
            for r in range(8):
                x = (res[r] + r1) >> n1
                ws[r * 8 + c] = _sat16(x) if simd else _wrap32(x)

    # Pass 2: rows. Descale by 2**18, level-shift, range-limit.
    n2 = CONST_BITS + PASS1_BITS + 3
    r2 = np.int64(1) << (n2 - 1)
    for r in range(8):
        o = r * 8
        a0, a1, a2, a3, a4, a5, a6, a7 = _idct_1d(
            ws[o], ws[o + 1], ws[o + 2], ws[o + 3], ws[o + 4], ws[o + 5], ws[o + 6], ws[o + 7], simd
        )
        res = (a0, a1, a2, a3, a4, a5, a6, a7)
        for c in range(8):
            x = (res[c] + r2) >> n2
            if simd:
                s = min(max(x, -128), 127) + 128
            else:
                # libjpeg's post-IDCT range-limit table, indexed by x & 1023.
                idx = x & 1023
                if idx < 128:
                    s = idx + 128
                elif idx < 512:
                    s = 255
                elif idx < 896:
                    s = 0
                else:
                    s = idx - 896
            out[r0 + r, c0 + c] = s


@kernel
def _idct_rows_exact(cf, nbx_pad, q, out, by0, by1, out_by0, simd):
    """The reference path, one block at a time: blocks of block rows [by0, by1) of ``cf`` ((n, 64) int16,
    row-major over a grid nbx_pad blocks wide) into ``out`` (uint8), whose row 0 is block row out_by0."""
    nbx = out.shape[1] // 8
    blk = np.empty(64, dtype=np.int64)
    scratch = np.empty(128, dtype=np.int64)
    for by in range(by0, by1):
        for bx in range(nbx):
            k = by * nbx_pad + bx
            for i in range(64):
                blk[i] = cf[k, i]
            _idct_islow_block(blk, q, out, (by - out_by0) * 8, bx * 8, simd, scratch)


# ---------------------------------------------------------------------------------------------------
# The fast path of the "simd" arithmetic. For a block whose dequantized values and pass-1 outputs all
# lie in -16384..16383, none of the AVX2 kernel's 16-bit wraps or saturations can trigger (every
# butterfly sum stays within int16, and the 32-bit products cannot overflow), and its per-block
# zero-AC shortcut gives the same values as the general flow graph; so plain 32-bit arithmetic is
# exact. Blocks are batched _GROUP at a time with the block index as the SIMD lane, which lets LLVM
# vectorize both passes: pass 1 runs over lanes (block, column) reading dequantized rows stored
# contiguously, pass 2 over lanes (row, block) reading each row of pass-1 output as 8 consecutive
# values (an interleaved load). The range test is made on the fly; blocks outside it, rare even in
# hostile files, are redone by the reference path. DC-only blocks (all AC zero) skip the batch: their
# value follows from the DC alone, with the AVX2 kernel's wraparound applied exactly.
# ---------------------------------------------------------------------------------------------------

_LANES = 8 * _GROUP
#: ANDed with a block's coefficients to test its AC coefficients for zero.
_AC_MASK = np.array([0] + [-1] * 63, dtype=np.int16)
_BYTE_SPLAT = np.uint64(0x0101010101010101)


@kernel
def _idct_butterfly(i0, i1, i2, i3, i4, i5, i6, i7):
    """One 1-D pass of jidctint.c's islow IDCT on int32 lanes, before descaling: the even part t10..t13
    and the odd part o0..o3; the eight outputs are t10+o3, t11+o2, t12+o1, t13+o0, t13-o0, t12-o1, t11-o2,
    t10-o3.
    Every intermediate is cast back to int32: Numba would widen it to int64 and halve the SIMD lanes."""
    i32 = np.int32
    e0 = i32(i32(i0 + i4) << CONST_BITS)
    e1 = i32(i32(i0 - i4) << CONST_BITS)
    e3 = i32(i32(i2 * (FIX_0_541196100 + FIX_0_765366865)) + i32(i6 * FIX_0_541196100))
    e2 = i32(i32(i2 * FIX_0_541196100) + i32(i6 * (FIX_0_541196100 - FIX_1_847759065)))
    t10 = i32(e0 + e3)
    t13 = i32(e0 - e3)
    t11 = i32(e1 + e2)
    t12 = i32(e1 - e2)
    z3 = i32(i7 + i3)
    z4 = i32(i5 + i1)
    zz3 = i32(i32(z3 * (FIX_1_175875602 - FIX_1_961570560)) + i32(z4 * FIX_1_175875602))
    zz4 = i32(i32(z3 * FIX_1_175875602) + i32(z4 * (FIX_1_175875602 - FIX_0_390180644)))
    o0 = i32(i32(i32(i7 * (FIX_0_298631336 - FIX_0_899976223)) - i32(i1 * FIX_0_899976223)) + zz3)
    o1 = i32(i32(i32(i5 * (FIX_2_053119869 - FIX_2_562915447)) - i32(i3 * FIX_2_562915447)) + zz4)
    o2 = i32(i32(i32(i5 * -FIX_2_562915447) + i32(i3 * (FIX_3_072711026 - FIX_2_562915447))) + zz3)
    o3 = i32(i32(i32(i7 * -FIX_0_899976223) + i32(i1 * (FIX_1_501321110 - FIX_0_899976223))) + zz4)
    return t10, t11, t12, t13, o0, o1, o2, o3


@kernel
def _idct_group(deq, ws, words, acc):
    """Both passes for _GROUP blocks. deq[k * _LANES + 8 g + c]: dequantized row k, column c of block g;
    ws[r * _LANES + 8 g + c]: pass-1 output; words[r * _GROUP + g]: output row r of block g, 8 samples
    packed little-endian. acc[8 g + c] collects ``value + 16384`` of every input and pass-1 output of
    the block, ORed: any bit from 15 up marks a value outside -16384..16383."""
    i32 = np.int32
    n = _LANES
    for L in range(n):
        i0 = deq[L]
        i1 = deq[n + L]
        i2 = deq[2 * n + L]
        i3 = deq[3 * n + L]
        i4 = deq[4 * n + L]
        i5 = deq[5 * n + L]
        i6 = deq[6 * n + L]
        i7 = deq[7 * n + L]
        t10, t11, t12, t13, o0, o1, o2, o3 = _idct_butterfly(i0, i1, i2, i3, i4, i5, i6, i7)
        w0 = i32(i32(i32(t10 + o3) + 1024) >> 11)
        w1 = i32(i32(i32(t11 + o2) + 1024) >> 11)
        w2 = i32(i32(i32(t12 + o1) + 1024) >> 11)
        w3 = i32(i32(i32(t13 + o0) + 1024) >> 11)
        w4 = i32(i32(i32(t13 - o0) + 1024) >> 11)
        w5 = i32(i32(i32(t12 - o1) + 1024) >> 11)
        w6 = i32(i32(i32(t11 - o2) + 1024) >> 11)
        w7 = i32(i32(i32(t10 - o3) + 1024) >> 11)
        ws[L] = w0
        ws[n + L] = w1
        ws[2 * n + L] = w2
        ws[3 * n + L] = w3
        ws[4 * n + L] = w4
        ws[5 * n + L] = w5
        ws[6 * n + L] = w6
        ws[7 * n + L] = w7
        a = i32(i32(i32(w0 + 16384) | i32(w1 + 16384)) | i32(i32(w2 + 16384) | i32(w3 + 16384)))
        b = i32(i32(i32(w4 + 16384) | i32(w5 + 16384)) | i32(i32(w6 + 16384) | i32(w7 + 16384)))
        acc[L] = i32(acc[L] | i32(a | b))
    u64 = np.uint64
    for m in range(n):
        p = m * 8
        i0 = ws[p]
        i1 = ws[p + 1]
        i2 = ws[p + 2]
        i3 = ws[p + 3]
        i4 = ws[p + 4]
        i5 = ws[p + 5]
        i6 = ws[p + 6]
        i7 = ws[p + 7]
        t10, t11, t12, t13, o0, o1, o2, o3 = _idct_butterfly(i0, i1, i2, i3, i4, i5, i6, i7)
        # Descale by 2**18, saturate to -128..127 (what vpackssdw + vpacksswb do here), +128.
        x0 = u64(min(max(i32(i32(t10 + o3) + 131072) >> 18, -128), 127) + 128)
        x1 = u64(min(max(i32(i32(t11 + o2) + 131072) >> 18, -128), 127) + 128)
        x2 = u64(min(max(i32(i32(t12 + o1) + 131072) >> 18, -128), 127) + 128)
        x3 = u64(min(max(i32(i32(t13 + o0) + 131072) >> 18, -128), 127) + 128)
        x4 = u64(min(max(i32(i32(t13 - o0) + 131072) >> 18, -128), 127) + 128)
        x5 = u64(min(max(i32(i32(t12 - o1) + 131072) >> 18, -128), 127) + 128)
        x6 = u64(min(max(i32(i32(t11 - o2) + 131072) >> 18, -128), 127) + 128)
        x7 = u64(min(max(i32(i32(t10 - o3) + 131072) >> 18, -128), 127) + 128)
        words[m] = (x0 | (x1 << u64(8)) | (x2 << u64(16)) | (x3 << u64(24)) | (x4 << u64(32)) | (x5 << u64(40))
                    | (x6 << u64(48)) | (x7 << u64(56)))


@kernel
def _idct_rows_simd(cf, nbx_pad, q, out, by0, by1, out_by0):
    """The "simd" arithmetic for block rows [by0, by1) of ``cf`` ((n, 64) int16, a grid nbx_pad blocks
    wide) into ``out`` (C-contiguous uint8, width a multiple of 8), whose row 0 is block row out_by0.
    Exactly _idct_rows_exact(..., simd=True); see the comment above."""
    i32 = np.int32
    nbx = out.shape[1] // 8
    if nbx == 0 or by0 >= by1:
        return
    out64 = out.view(np.uint64)
    qi = np.empty(64, np.int32)
    for i in range(64):
        qi[i] = q[i]
    q0 = np.int64(q[0])
    deq = np.zeros(64 * _GROUP, np.int32)
    ws = np.empty(64 * _GROUP, np.int32)
    words = np.empty(8 * _GROUP, np.uint64)
    acc = np.zeros(_LANES, np.int32)
    tmp = np.empty(64, np.int32)
    lane_by = np.empty(_GROUP, np.int64)
    lane_bx = np.empty(_GROUP, np.int64)
    blk = np.empty(64, np.int64)
    scratch = np.empty(128, np.int64)
    n = 0
    by = by0
    bx = 0
    while by < by1:
        k = by * nbx_pad + bx
        nz = np.int16(0)
        for i in range(64):
            nz = np.int16(nz | (cf[k, i] & _AC_MASK[i]))
        if nz == 0:
            # DC only: the AVX2 shortcut's column value (dc * Q0) << 2, both wrapped to 16 bits, then
            # pass 2 on a row (w, 0, ..., 0): (w << 13 + 2**17) >> 18 == (w + 16) >> 5.
            d = _wrap16(_wrap16(np.int64(cf[k, 0]) * q0) << PASS1_BITS)
            s = np.uint64(min(max((d + 16) >> 5, -128), 127) + 128) * _BYTE_SPLAT
            r0 = (by - out_by0) * 8
            for r in range(8):
                out64[r0 + r, bx] = s
        else:
            a = i32(0)
            for i in range(64):
                v = i32(i32(cf[k, i]) * qi[i])
                tmp[i] = v
                a = i32(a | i32(v + 16384))
            for r in range(8):
                # Eight loads, then eight stores: lets LLVM move the row as one vector.
                t = r * 8
                a0 = tmp[t]
                a1 = tmp[t + 1]
                a2 = tmp[t + 2]
                a3 = tmp[t + 3]
                a4 = tmp[t + 4]
                a5 = tmp[t + 5]
                a6 = tmp[t + 6]
                a7 = tmp[t + 7]
                p = r * _LANES + n * 8
                deq[p] = a0
                deq[p + 1] = a1
                deq[p + 2] = a2
                deq[p + 3] = a3
                deq[p + 4] = a4
                deq[p + 5] = a5
                deq[p + 6] = a6
                deq[p + 7] = a7
            for c in range(8):
                acc[n * 8 + c] = a
            lane_by[n] = by
            lane_bx[n] = bx
            n += 1
        bx += 1
        if bx == nbx:
            bx = 0
            by += 1
        if n == _GROUP or (n > 0 and by == by1):
            _idct_group(deq, ws, words, acc)
            for g in range(n):
                a = i32(0)
                for c in range(8):
                    a = i32(a | acc[g * 8 + c])
                r0 = (lane_by[g] - out_by0) * 8
                if (a >> 15) != 0:
                    kk = lane_by[g] * nbx_pad + lane_bx[g]
                    for i in range(64):
                        blk[i] = cf[kk, i]
                    _idct_islow_block(blk, q, out, r0, lane_bx[g] * 8, np.bool_(True), scratch)
                else:
                    for r in range(8):
                        out64[r0 + r, lane_bx[g]] = words[r * _GROUP + g]
            n = 0


@kernel
def _idct_rows(cf, nbx_pad, q, out, by0, by1, out_by0, simd):
    if simd and out.shape[1] % 8 == 0:  # (the fast path writes 8-sample words)
        _idct_rows_simd(cf, nbx_pad, q, out, by0, by1, out_by0)
    else:
        _idct_rows_exact(cf, nbx_pad, q, out, by0, by1, out_by0, simd)


@kernel
def _idct_islow_plane(coefs, q, out, simd):
    """IDCT every block that ``out`` covers: coefs (by, bx, 8, 8) int16 -> out (8*rows, 8*cols) uint8.

    ``coefs`` may be larger than ``out`` (the MCU padding is not reconstructed); both C-contiguous.
    """
    # (np.int64 / np.bool_: literal arguments would make Numba compile extra specializations.)
    cf = coefs.reshape(coefs.shape[0] * coefs.shape[1], 64)
    _idct_rows(cf, coefs.shape[1], q, out, np.int64(0), out.shape[0] // 8, np.int64(0), np.bool_(simd))


@kernel
def _idct_task(cfs, nbxs, qs, outs, tasks, t, simd):
    """Task t of _idct_planes: block rows tasks[t, 1]:tasks[t, 2] of component tasks[t, 0]."""
    ci = tasks[t, 0]
    _idct_rows(cfs[ci], nbxs[ci], qs[ci], outs[ci], tasks[t, 1], tasks[t, 2], np.int64(0), simd)


@kernel
def _idct_planes(cfs, nbxs, qs, outs, tasks, simd):
    """Several planes at once, by a task table (see idct_tasks): cfs[ci] the (n, 64) int16 coefficients
    of component ci on a grid nbxs[ci] blocks wide, qs[ci] its multipliers, outs[ci] its plane."""
    for t in range(tasks.shape[0]):
        _idct_task(cfs, nbxs, qs, outs, tasks, t, np.bool_(simd))


@parallel_kernel(work=lambda cfs, *args: sum([c.shape[0] for c in cfs]), serial=_idct_planes)
def _idct_planes_parallel(cfs, nbxs, qs, outs, tasks, simd):
    """_idct_planes with the tasks spread over the threads (not for use inside another prange)."""
    for t in prange(tasks.shape[0]):
        _idct_task(cfs, nbxs, qs, outs, tasks, t, np.bool_(simd))


def idct_tasks(block_rows, rows_per_task: int = 4) -> np.ndarray:
    """Task table for _idct_planes: (component, first block row, end block row), rows_per_task at a time."""
    tasks = [(ci, r, min(r + rows_per_task, n)) for ci, n in enumerate(block_rows) for r in range(0, n, rows_per_task)]
    return np.array(tasks, np.int64).reshape(-1, 3)


# The round trip of distill: FDCT, quantization, dequantization and IDCT of _GROUP blocks in one batch,
# all in the [position][block] layout of _fdct_lanes (no interleaving shuffles, unlike the decoder's
# IDCT batches, whose coefficients arrive block by block). Exact for the same reasons as _fdct_lanes
# and _idct_group; blocks failing the IDCT's range test go to the reference path.


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
            words[r * G + g] = (x0 | (x1 << u64(8)) | (x2 << u64(16)) | (x3 << u64(24)) | (x4 << u64(32))
                                | (x5 << u64(40)) | (x6 << u64(48)) | (x7 << u64(56)))


@kernel
def _fdct_idct_plane(plane, divisors, q):
    """In place, every 8x8 block of a uint8 plane through FDCT, quantization (``divisors``),
    dequantization (``q``) and the "simd" IDCT: exactly _fdct_quantize_plane followed by
    _idct_islow_plane(..., simd=True) -- a JPEG encode/decode round trip without entropy coding, the
    core of distill -- with the coefficients never leaving the batch (_roundtrip_group)."""
    i32 = np.int32
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


def _check_arithmetic(arithmetic: str) -> bool:
    if arithmetic not in IDCT_ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {IDCT_ARITHMETIC}, got {arithmetic!r}")
    return arithmetic == "simd"


def idct_multipliers(qtable, arithmetic: str = "simd") -> np.ndarray:
    """The 64 dequantization multipliers (int64, natural order) the chosen IDCT arithmetic uses
    (jddctmgr.c stores quantval as ISLOW_MULT_TYPE: 16-bit for "simd" and "c16", int for "c")."""
    q = np.asarray(qtable).reshape(64).astype(np.int64)
    if arithmetic == "c16":
        q = q.astype(np.uint16).view(np.int16).astype(np.int64)
    return np.ascontiguousarray(q)


def inverse_dct_dequantize(coefs, qtable, *, arithmetic: str = "simd") -> np.ndarray:
    """Dequantize and islow-IDCT quantized coefficients (by, bx, 8, 8) natural order -> uint8 (8*by, 8*bx).

    ``arithmetic="simd"`` (default) reproduces the AVX2 code Pillow's libjpeg-turbo runs on x86-64;
    ``"c"`` reproduces jidctint.c, ``"c16"`` jidctint.c with a 16-bit multiplier type. All agree
    except for coefficients whose dequantized values overflow 16 bits.
    """
    simd = _check_arithmetic(arithmetic)
    c = np.asarray(coefs)
    if c.ndim == 3 and c.shape[-1] == 64:
        c = c.reshape(c.shape[0], c.shape[1], 8, 8)
    if c.ndim != 4 or c.shape[2:] != (8, 8):
        raise ValueError(f"coefs must have shape (by, bx, 8, 8) or (by, bx, 64), got {c.shape}")
    q = idct_multipliers(qtable, arithmetic)
    out = np.empty((c.shape[0] * 8, c.shape[1] * 8), np.uint8)
    _idct_islow_plane(np.ascontiguousarray(c, dtype=np.int16), q, out, simd)
    return out


def idct_float_reference(dequantized) -> np.ndarray:
    """Slow float reference: the orthonormal 2-D inverse DCT C.T @ X @ C of one dequantized 8x8 block
    (coefficient * quantizer, the islow IDCT's input scale), before the +128 level shift."""
    c = dct_matrix()
    return c.T @ np.asarray(dequantized, dtype=np.float64) @ c
