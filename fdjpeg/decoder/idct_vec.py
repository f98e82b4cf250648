"""Dequantization + the "simd" islow IDCT of horizontally adjacent blocks as vector IR (base/vecir.py):
the fast path of idct_lanes.py, exact where its range test passes (see there).

Per call, nb blocks that are consecutive in the coefficient array and side by side in the output: one
load of their 64 nb coefficients, a word permutation into coefficient rows (lane h * 8 + c: column c
of block h), dequantization in 16 bits (vpmullw: the AVX2 kernel keeps the low 16 bits of coef * Q),
pass 1 on eight <8 nb x i32> rows (the columns' 1-D IDCTs run across the lanes, no transpose), a word
transpose, pass 2, saturation to bytes, a byte transpose and eight row stores. The call returns
2**15 if a dequantized coefficient or a pass-1 output of the nb blocks lies outside -16384..16383
(the range where plain int32 arithmetic equals the AVX2 kernel, see idct_lanes.py), else 0; the
caller then redoes the blocks (their output has been written and must be overwritten).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

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
)
from ..base.vecir import I8, I16, I32, any_lane, concat, data_ptr, load, permute, split


def idct_1d(i):
    """jidctint.c's butterfly on eight vectors, undescaled (as idct_lanes._idct_butterfly)."""
    i0, i1, i2, i3, i4, i5, i6, i7 = i
    e0 = (i0 + i4) << CONST_BITS
    e1 = (i0 - i4) << CONST_BITS
    e3 = i2 * (FIX_0_541196100 + FIX_0_765366865) + i6 * FIX_0_541196100
    e2 = i2 * FIX_0_541196100 + i6 * (FIX_0_541196100 - FIX_1_847759065)
    t10, t13 = e0 + e3, e0 - e3
    t11, t12 = e1 + e2, e1 - e2
    z3 = i7 + i3
    z4 = i5 + i1
    zz3 = z3 * (FIX_1_175875602 - FIX_1_961570560) + z4 * FIX_1_175875602
    zz4 = z3 * FIX_1_175875602 + z4 * (FIX_1_175875602 - FIX_0_390180644)
    o0 = i7 * (FIX_0_298631336 - FIX_0_899976223) - i1 * FIX_0_899976223 + zz3
    o1 = i5 * (FIX_2_053119869 - FIX_2_562915447) - i3 * FIX_2_562915447 + zz4
    o2 = i5 * -FIX_2_562915447 + i3 * (FIX_3_072711026 - FIX_2_562915447) + zz3
    o3 = i7 * -FIX_0_899976223 + i1 * (FIX_1_501321110 - FIX_0_899976223) + zz4
    return [t10 + o3, t11 + o2, t12 + o1, t13 + o0, t13 - o0, t12 - o1, t11 - o2, t10 - o3]


def _make_intrinsic(nb, low_rows=False, low_cols=False):
    """idct_vec{nb}, or with low_rows / low_cols the variant for blocks whose coefficient rows / columns
    4..7 are all zero: those inputs of pass 1 / pass 2 become constant zeros, which LLVM folds away (a
    zero input contributes exactly zero, so the samples are the general path's)."""
    L = 8 * nb

    def transpose(i):  # vector a, lane (h, b) <- vector b, lane (h, a); 8 vectors of L lanes
        return (i % 8) * L + (i % L) // 8 * 8 + i // L

    def idct_vec(typingctx, cf, coff, q, out, ooff, ostride):
        if not all(isinstance(a, types.Array) for a in (cf, q, out)):
            return None
        if cf.dtype != types.int16 or q.dtype != types.int32 or out.dtype != types.uint8:
            return None
        if not all(isinstance(i, types.Integer) for i in (coff, ooff, ostride)):
            return None
        sig = types.int32(cf, coff, q, out, ooff, ostride)

        def codegen(context, b, signature, args):
            a_cf, a_coff, a_q, a_out, a_ooff, a_ostride = args
            i64 = types.int64
            coef = load(b, data_ptr(context, b, cf, a_cf, context.cast(b, a_coff, coff, i64), I16), I16, 64 * nb)
            # coefficient rows: vector k, lane h * 8 + c <- block h, (k, c)
            coef = permute(b, coef, lambda i: (i % L) // 8 * 64 + (i // L) * 8 + i % 8)
            qv = load(b, data_ptr(context, b, q, a_q, context.get_constant(i64, 0), I32), I32, 64)
            qv = permute(b, qv, lambda i: (i // L) * 8 + i % 8, 64 * nb)
            # vpmullw: the AVX2 kernel's dequantization keeps the low 16 bits of coef * Q
            deq16 = coef * qv.cast(I16)
            bad = any_lane(b, deq16 + 16384, "<")  # in range <=> no sign bit (16-bit sum)
            rows = split(b, deq16.cast(I32), 8)
            if low_rows:
                rows = rows[:4] + [rows[0] & 0] * 4
            w = [(x + 1024) >> 11 for x in idct_1d(rows)]  # w[r]: lanes (h, c)
            acc = w[0] + 16384
            for x in w[1:]:
                acc = acc | (x + 16384)
            bad = b.or_(bad, any_lane(b, acc >> 15, "!="))  # any bit from 15 up
            ws = concat(b, [x.cast(I16) for x in w])
            cols = [x.cast(I32) for x in split(b, permute(b, ws, transpose), 8)]  # cols[c]: lanes (h, r)
            if low_cols:
                cols = cols[:4] + [cols[0] & 0] * 4
            px = [((x + 131072) >> 18).smax(-128).smin(127) + 128 for x in idct_1d(cols)]  # px[j]: lanes (h, r)
            pix = permute(b, concat(b, [x.cast(I8) for x in px]), transpose)  # rows: lanes (h, j)
            ooff64 = context.cast(b, a_ooff, ooff, i64)
            ostride64 = context.cast(b, a_ostride, ostride, i64)
            for r, row in enumerate(split(b, pix, 8)):
                o = b.add(ooff64, b.mul(ostride64, context.get_constant(i64, r)))
                p = data_ptr(context, b, out, a_out, o, I8)
                b.store(row.v, b.bitcast(p, row.v.type.as_pointer()), align=1)
            return b.select(bad, ir.Constant(ir.IntType(32), 1 << 15), ir.Constant(ir.IntType(32), 0))

        return sig, codegen

    idct_vec.__name__ = f"idct_vec{nb}" + "_low_rows" * low_rows + "_low_cols" * low_cols
    idct_vec.__doc__ = f"""idct_vec{nb}(cf, coff, q, out, ooff, ostride) -> int32: the {nb} block(s) of 64 int16
    coefficients at cf[coff:coff + {64 * nb}], dequantized by q (64 int32, natural order), inverse-transformed
    into {nb} side-by-side 8x8 blocks of the uint8 array ``out`` from element ``ooff`` (rows ``ostride`` apart);
    returns 2**15 if the range test fails for any of them, else 0 (see the module docstring)."""
    return intrinsic(idct_vec)


idct_vec1 = _make_intrinsic(1)
idct_vec4 = _make_intrinsic(4)
idct_vec4_low_rows = _make_intrinsic(4, low_rows=True)
idct_vec4_low = _make_intrinsic(4, low_rows=True, low_cols=True)


@intrinsic
def nonzero_mask4(typingctx, cf, coff):
    """nonzero_mask4(cf, coff) -> uint64: bit i set when coefficient i (natural order) is nonzero in any
    of the four blocks of 64 int16 at cf[coff:coff + 256]."""
    if not isinstance(cf, types.Array) or cf.dtype != types.int16 or not isinstance(coff, types.Integer):
        return None
    sig = types.uint64(cf, coff)

    def codegen(context, b, signature, args):
        x = load(b, data_ptr(context, b, cf, args[0], context.cast(b, args[1], coff, types.int64), I16), I16, 256)
        q = split(b, x, 4)
        m = (q[0] | q[1]) | (q[2] | q[3])
        nz = b.icmp_unsigned("!=", m.v, (m & 0).v)
        return b.bitcast(nz, ir.IntType(64))

    return sig, codegen
