"""libjpeg's accurate integer ("islow") inverse DCT with dequantization, one block at a time
(jidctint.c, jddctmgr.c): the reference arithmetic of the decoder, which the lane kernels
(idct_lanes.py) reproduce on the blocks they can.

The same LL&M flow graph run backwards: pass 1 over columns keeps PASS1_BITS extra bits, pass 2 over
rows removes them and the factor 8 (DESCALE by CONST_BITS + PASS1_BITS + 3 = 18), then the sample
is level-shifted by +128 and range-limited. Two arithmetics are modelled, identical for every
coefficient a real encoder produces and different only when dequantized values overflow 16 bits:

  "simd" -- libjpeg-turbo's x86-64 AVX2 kernel (simd/x86_64/jidctint-avx2.asm), which is what
            Pillow runs on x86-64. Dequantization keeps the low 16 bits of coef*Q (vpmullw), the
            butterfly sums in0+-in4, in7+in3 and in5+in1 wrap in 16 bits (vpaddw), each pass's
            output saturates to int16 (vpackssdw) and the final sample saturates to -128..127
            before the +128 shift (vpacksswb). Its all-zero-AC shortcut is taken per block, not
            per column, and shifts the 16-bit DC left by PASS1_BITS with wraparound. The 32-bit
            products and sums cannot overflow (the largest |pass output| before descaling is
            under 2.12e9 for any 16-bit inputs).
  "c"    -- jidctint.c as compiled without SIMD (djpeg built plain): exact 32-bit dequantization,
            64-bit arithmetic, the workspace truncated to 32 bits between passes, and the final
            value looked up through libjpeg's range-limit table with ``& RANGE_MASK`` (1023),
            so wildly out-of-range values wrap around instead of clamping (jdmaster.c,
            prepare_range_limit_table).
  "c16"  -- the same C code in a library built with SIMD support but running without it
            (JSIMD_FORCENONE=1, or a CPU without SSE2): jmorecfg.h then makes the dequantization
            multiplier a 16-bit short, so quantizer values above 32767 act as negative numbers.
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
    _wrap32,
)
from ..base.jit import kernel

IDCT_ARITHMETIC = ("simd", "c", "c16")


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
