"""The fast path of the "simd" IDCT arithmetic: 32 blocks at a time with the block index as the vector
lane (the name says what the code does: it is not a model of libjpeg-turbo's SIMD code, which
idct_islow.py reproduces exactly; these kernels give the same samples faster).

lie in -16384..16383, none of the AVX2 kernel's 16-bit wraps or saturations can trigger (every
butterfly sum stays within int16, and the 32-bit products cannot overflow), and its per-block
zero-AC shortcut gives the same values as the general flow graph; so plain 32-bit arithmetic is
exact. Blocks are batched _GROUP at a time with the block index as the SIMD lane, which lets LLVM
vectorize both passes: pass 1 runs over lanes (block, column) reading dequantized rows stored
contiguously, pass 2 over lanes (row, block) reading each row of pass-1 output as 8 consecutive
values (an interleaved load). The range test is made on the fly; blocks outside it, rare even in
hostile files, are redone by the reference path. DC-only blocks (all AC zero) skip the batch: their
value follows from the DC alone, with the AVX2 kernel's wraparound applied exactly.
"""

from __future__ import annotations

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
    _wrap16,
)
from ..base.fixedpoint import GROUP as _GROUP
from ..base.jit import NumbaGlobal, kernel
from .idct_islow import _idct_islow_block

idct_vec1 = NumbaGlobal("fdjpeg.decoder.idct_vec", "idct_vec1")  # (Numba loads on first use)
idct_vec4 = NumbaGlobal("fdjpeg.decoder.idct_vec", "idct_vec4")
idct_vec4_low_rows = NumbaGlobal("fdjpeg.decoder.idct_vec", "idct_vec4_low_rows")
idct_vec4_low = NumbaGlobal("fdjpeg.decoder.idct_vec", "idct_vec4_low")
nonzero_mask4 = NumbaGlobal("fdjpeg.decoder.idct_vec", "nonzero_mask4")
#: Coefficient rows 4..7 / columns 4..7 in a mask of nonzero positions (natural order, bit i = position i).
_HIGH_ROWS = np.uint64(0xFFFFFFFF00000000)
_HIGH_COLS = np.uint64(0xF0F0F0F0F0F0F0F0)
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
        words[m] = (
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
def _idct_dc_only(dc, q0, out64, r0, bx):
    """A block whose AC coefficients are all zero: the AVX2 shortcut's column value (dc * Q0) << 2, both
    wrapped to 16 bits, then pass 2 on a row (w, 0, ..., 0): (w << 13 + 2**17) >> 18 == (w + 16) >> 5."""
    d = _wrap16(_wrap16(np.int64(dc) * q0) << PASS1_BITS)
    s = np.uint64(min(max((d + 16) >> 5, -128), 127) + 128) * _BYTE_SPLAT
    for r in range(8):
        out64[r0 + r, bx] = s


@kernel
def _idct_one_vec(cf, k, qi, q, out, r0, bx, ostride, blk, scratch):
    """Block k into out[r0:r0+8, 8 bx:8 bx+8] by idct_vec1, or by the reference path outside its range."""
    a = idct_vec1(cf, k * 64, qi, out, r0 * ostride + bx * 8, ostride)
    if (a >> 15) != 0:
        for i in range(64):
            blk[i] = cf[k, i]
        _idct_islow_block(blk, q, out, r0, bx * 8, np.bool_(True), scratch)


@kernel
def _idct_rows_lanes(cf, nbx_pad, q, out, by0, by1, out_by0):
    """The "simd" arithmetic for block rows [by0, by1) of ``cf`` ((n, 64) int16, a grid nbx_pad blocks
    wide) into ``out`` (C-contiguous uint8, width a multiple of 8), whose row 0 is block row out_by0.
    Exactly _idct_rows_exact(..., simd=True): four blocks at a time in vector registers (idct_vec.py),
    each block redone alone, and by the reference path if still out of range, when the group fails the
    range test."""
    nbx = out.shape[1] // 8
    if nbx == 0 or by0 >= by1:
        return
    if cf.strides[1] != 2 or cf.strides[0] != 128 or out.strides[1] != 1:
        _idct_rows_groups(cf, nbx_pad, q, out, by0, by1, out_by0)
        return
    qi = np.empty(64, np.int32)
    for i in range(64):
        qi[i] = q[i]
    blk = np.empty(64, np.int64)
    scratch = np.empty(128, np.int64)
    ostride = out.strides[0]
    out64 = out.view(np.uint64)
    q0 = np.int64(q[0])
    for by in range(by0, by1):
        r0 = (by - out_by0) * 8
        k0 = by * nbx_pad
        bx = 0
        while bx + 4 <= nbx:
            k = k0 + bx
            nz = nonzero_mask4(cf, k * 64)
            o = r0 * ostride + bx * 8
            if nz <= 1:  # four DC-only blocks
                for h in range(4):
                    _idct_dc_only(cf[k + h, 0], q0, out64, r0, bx + h)
                bx += 4
                continue
            if (nz & _HIGH_ROWS) == 0:
                if (nz & _HIGH_COLS) == 0:
                    a = idct_vec4_low(cf, k * 64, qi, out, o, ostride)
                else:
                    a = idct_vec4_low_rows(cf, k * 64, qi, out, o, ostride)
            else:
                a = idct_vec4(cf, k * 64, qi, out, o, ostride)
            if (a >> 15) != 0:
                for h in range(4):
                    _idct_one_vec(cf, k0 + bx + h, qi, q, out, r0, bx + h, ostride, blk, scratch)
            bx += 4
        while bx < nbx:
            _idct_one_vec(cf, k0 + bx, qi, q, out, r0, bx, ostride, blk, scratch)
            bx += 1


@kernel
def _idct_rows_groups(cf, nbx_pad, q, out, by0, by1, out_by0):
    """_idct_rows_lanes with the block index as the SIMD lane: _GROUP blocks per _idct_group call, DC-only
    blocks apart (for arrays that are not C-contiguous)."""
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
