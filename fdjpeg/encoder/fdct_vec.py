"""The islow FDCT + quantization as vector IR (see base/vecir.py): the fast path of fdct.py's batched
kernel, equal to jfdctint.c + jcdctmgr.c (libjpeg-turbo's reciprocal quantization).

Per call, nb horizontally adjacent blocks (nb = 4, or 1 for the tail of a block row): eight row loads of
8 nb bytes, one byte permutation into column vectors (lane h * 8 + r: row r of block h), pass 1 (rows)
on eight <8 nb x i32> vectors, a 16-bit transpose (pass-1 values lie within +-4097), pass 2 (columns),
whose outputs are coefficient rows, a word permutation into natural order block after block, then
quantization on all 64 nb coefficients in 16-bit lanes as jquanti-avx2 does it (|x|, + correction, an
unsigned high multiply by the reciprocal, here a variable shift by shift - 16 where it multiplies
by 2**(32 - shift), sign restored) and one store. int32 is exact for 8-bit samples (fdct.py); the
quantization identity and its limits are those of ``_fdct_quantize_batched``.
"""

from __future__ import annotations

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
    PASS1_BITS,
)
from ..base.vecir import I8, I16, I32, concat, data_ptr, load, load_rows, mulhi_u16, permute, split, store


def fdct_1d(d, n16=lambda x: x):
    """jfdctint.c's butterfly on eight vectors, before descaling (as fdct._fdct_butterfly). ``n16`` is
    applied to every sum that multiplies a constant (pass 2: a 16-bit round trip, see emit_fdct)."""
    d0, d1, d2, d3, d4, d5, d6, d7 = d
    tmp0, tmp7 = d0 + d7, n16(d0 - d7)
    tmp1, tmp6 = d1 + d6, n16(d1 - d6)
    tmp2, tmp5 = d2 + d5, n16(d2 - d5)
    tmp3, tmp4 = d3 + d4, n16(d3 - d4)
    tmp10, tmp13 = tmp0 + tmp3, n16(tmp0 - tmp3)
    tmp11, tmp12 = tmp1 + tmp2, n16(tmp1 - tmp2)
    z1 = n16(tmp12 + tmp13) * FIX_0_541196100
    y2 = z1 + tmp13 * FIX_0_765366865
    y6 = z1 - tmp12 * FIX_1_847759065
    z1 = n16(tmp4 + tmp7)
    z2 = n16(tmp5 + tmp6)
    z3 = n16(tmp4 + tmp6)
    z4 = n16(tmp5 + tmp7)
    z5 = n16(z3 + z4) * FIX_1_175875602
    tmp4 = tmp4 * FIX_0_298631336
    tmp5 = tmp5 * FIX_2_053119869
    tmp6 = tmp6 * FIX_3_072711026
    tmp7 = tmp7 * FIX_1_501321110
    z1 = z1 * -FIX_0_899976223
    z2 = z2 * -FIX_2_562915447
    z3 = z3 * -FIX_1_961570560 + z5
    z4 = z4 * -FIX_0_390180644 + z5
    return [tmp10 + tmp11, tmp7 + z1 + z4, y2, tmp6 + z2 + z3, tmp10 - tmp11, tmp5 + z2 + z4, y6, tmp4 + z1 + z3]


def emit_fdct(b, block, nb):
    """Both FDCT passes on ``nb`` horizontally adjacent blocks, given as their 8 rows of 8 * nb bytes
    (one <64 nb x i8> vector); returns the eight <8 nb x i32> coefficient rows v = 0..7, lane h * 8 + u
    coefficient (v, u) of block h, scaled by 8 as jfdctint leaves them."""
    L = 8 * nb
    # column vectors: lane h * 8 + r of vector j = sample (r, j) of block h
    cols = split(b, permute(b, block, lambda i: (i % 8) * L + (i % L) // 8 * 8 + i // L), 8)
    cols = [c.cast(I32, signed=False) - 128 for c in cols]
    n1 = CONST_BITS - PASS1_BITS
    y = fdct_1d(cols)  # y[u]: lanes (h, r)
    ws = [y[u] << PASS1_BITS if u in (0, 4) else (y[u] + (1 << (n1 - 1))) >> n1 for u in range(8)]
    ws16 = concat(b, [w.cast(I16) for w in ws])
    # row vectors: lane h * 8 + u of vector r = pass-1 value (r, u) of block h
    wrows = [w.cast(I32) for w in split(b, permute(b, ws16, lambda i: (i % 8) * L + (i % L) // 8 * 8 + i // L), 8)]
    n2 = CONST_BITS + PASS1_BITS
    # Every pass-2 sum that meets a multiplier fits 16 bits, so truncating and re-extending it changes
    # nothing and lets LLVM see 16-bit products (vpmaddwd). Pass-1 values of 8-bit samples lie in
    # -4096..4064 (u = 0), -4080..4080 (u = 4), -3769..3769 (the others; the extremes of a linear form
    # over the sample box, enumerated over its 256 corners with the rounding); the sums are at most two,
    # four, or (tmp12 + tmp13, z3 + z4) eight of them with four + and four - signs: |sum| <= 32640.
    c = fdct_1d(wrows, lambda x: x.cast(I16).cast(I32))  # c[v]: lanes (h, u)
    r1 = 1 << (PASS1_BITS - 1)
    return [(c[v] + r1) >> PASS1_BITS if v in (0, 4) else (c[v] + (1 << (n2 - 1))) >> n2 for v in range(8)]


def _make_intrinsic(nb):
    L = 8 * nb

    def fdct_quantize_vec(typingctx, src, off, stride, qrc, qcr, qsc, dst, doff):
        arrays = (src, qrc, qcr, qsc, dst)
        if not all(isinstance(a, types.Array) for a in arrays) or src.dtype != types.uint8 or dst.dtype != types.int16:
            return None
        if any(a.dtype != types.uint16 for a in (qrc, qcr, qsc)):
            return None
        if not all(isinstance(i, types.Integer) for i in (off, stride, doff)):
            return None
        sig = types.void(src, off, stride, qrc, qcr, qsc, dst, doff)

        def codegen(context, b, signature, args):
            a_src, a_off, a_stride, a_rc, a_cr, a_sc, a_dst, a_doff = args
            i64 = types.int64
            off64 = context.cast(b, a_off, off, i64)
            stride64 = context.cast(b, a_stride, stride, i64)
            ptrs = []
            for r in range(8):
                o = b.add(off64, b.mul(stride64, context.get_constant(i64, r)))
                ptrs.append(data_ptr(context, b, src, a_src, o, I8))
            block = load_rows(b, ptrs, nb)
            c = concat(b, [x.cast(I16) for x in emit_fdct(b, block, nb)])
            # to natural order, block after block: dst lane h * 64 + v * 8 + u <- c lane v * L + h * 8 + u
            coef = permute(b, c, lambda i: (i % 64) // 8 * L + i // 64 * 8 + i % 8)
            zero = context.get_constant(i64, 0)
            tables = []
            for arr, a in ((qrc, a_rc), (qcr, a_cr), (qsc, a_sc)):
                t = load(b, data_ptr(context, b, arr, a, zero, I16), I16, 64)
                tables.append(concat(b, [t] * nb) if nb > 1 else t)
            rc, cr, sc = tables
            neg = b.icmp_signed("<", coef.v, (coef & 0).v)
            mag = type(coef)(b, b.select(neg, (-coef).v, coef.v))
            t = mulhi_u16(mag + cr, rc)
            m = type(t)(b, b.lshr(t.v, sc.v))
            q = type(m)(b, b.select(neg, (-m).v, m.v))
            store(b, q, data_ptr(context, b, dst, a_dst, context.cast(b, a_doff, doff, i64), I16))
            return context.get_dummy_value()

        return sig, codegen

    fdct_quantize_vec.__name__ = f"fdct_quantize_vec{nb}"
    fdct_quantize_vec.__doc__ = f"""fdct_quantize_vec{nb}(src, off, stride, qrc, qcr, qsc, dst, doff): the {nb} horizontally
    adjacent 8x8 block(s) of the uint8 array ``src`` whose top-left sample is element ``off`` (rows ``stride``
    elements apart), level-shifted, transformed and quantized into dst[doff:doff + {64 * nb}] (int16, natural
    order, block after block). qrc, qcr, qsc: the reciprocals (0 where shift is 32), corrections and shift - 16 of each
    position (uint16, 64 each)."""
    return intrinsic(fdct_quantize_vec)


fdct_quantize_vec1 = _make_intrinsic(1)
fdct_quantize_vec4 = _make_intrinsic(4)
