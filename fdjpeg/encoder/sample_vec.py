"""The compressor's sample-domain stages as vector IR (see base/vecir.py): RGB -> YCbCr (jccolor.c) and
h2v1 / h2v2 downsampling (jcsample.c), a fixed number of pixels per call, as libjpeg-turbo's
jccolext-avx2 / jcsample-avx2 do them.

* Colour: one load of 3 n interleaved bytes, two byte permutations (with zeros) into the word pairs
  (R, G) and (B, G) of every pixel (``vpermt2b`` on AVX-512 VBMI), five pair products (``vpmaddwd``,
  see ``pmaddwd``) for the fixed-point sums in int32 lanes, byte 2 of each lane as the result (the sums
  are non-negative and below 2**24), three stores of n bytes. spec/codec.md section 2.1.
* Downsampling: 2 n bytes of one row (h2v1) or of two rows (h2v2) read as n int16 words, whose low and
  high bytes are a horizontal pair: (w & 255) + (w >> 8) is the pair sum with no permutation (sums below
  1024); the alternating bias is a constant vector (0, 1, ... for h2v1; 1, 2, ... for h2v2: output 0 of
  a call must be an even output); shifted and narrowed to one store of n bytes.

The callers (color.py, downsample.py) loop over whole calls and finish a row with their scalar code.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..base.fixedpoint import (
    CBCR_OFFSET,
    FIX_0_08131,
    FIX_0_11400,
    FIX_0_16874,
    FIX_0_29900,
    FIX_0_33126,
    FIX_0_41869,
    FIX_0_50000,
    FIX_0_58700,
    ONE_HALF,
    SCALEBITS,
)
from ..base.vecir import I8, I16, I32, V, data_ptr, load, permute, pmaddwd, shuffle, store

#: Pixels per colour call, outputs per downsampling call.
COLOR_N = 64
DOWN_N = 32


def _ints(*xs):
    return all(isinstance(x, types.Integer) for x in xs)


def _u8(*arrays):
    return all(isinstance(a, types.Array) and a.dtype == types.uint8 for a in arrays)


def _ptr(context, b, aryty, ary, off, offty):
    return data_ptr(context, b, aryty, ary, context.cast(b, off, offty, types.int64), I8)


def _make_rgb_ycc(n, native=True):
    def rgb_ycc_vec(typingctx, src, soff, y, cb, cr, doff):
        if not _u8(src, y, cb, cr) or not _ints(soff, doff):
            return None
        sig = types.void(src, soff, y, cb, cr, doff)

        def codegen(context, b, signature, args):
            a_src, a_soff, a_y, a_cb, a_cr, a_doff = args
            px = load(b, _ptr(context, b, src, a_src, a_soff, soff), I8, 3 * n)
            # word pairs (r, g) and (b, g) of every pixel, zero-extended: one byte permutation each
            z = 3 * n  # a lane of the zero vector
            pairs = []
            for first in (0, 2):
                idx = [(3 * (i // 4) + (first if i % 4 == 0 else 1)) if i % 2 == 0 else z for i in range(4 * n)]
                v = V(b, shuffle(b, px.v, ir.Constant(px.v.type, None), idx))
                pairs.append(V(b, b.bitcast(v.v, ir.VectorType(I16, 2 * n))))
            rg, bg = pairs
            rgd, bgd = (V(b, b.bitcast(x.v, ir.VectorType(I32, n))) for x in pairs)
            # jccolor.c in int32 lanes, each product pair one vpmaddwd as jccolext-avx2 (constants within
            # int16: FIX(0.587) = FIX(0.337) + FIX(0.25) split over the two pairs, FIX(0.5) a shift):
            # every sum is non-negative and below 2**24, so bits 16..23 (byte 2 of the lane) are the result.
            c_rnd = CBCR_OFFSET + ONE_HALF - 1
            g_hi = 1 << 14
            yy = (
                pmaddwd(context, b, rg, FIX_0_29900, FIX_0_58700 - g_hi, native)
                + pmaddwd(context, b, bg, FIX_0_11400, g_hi, native)
                + ONE_HALF
            )
            cbv = pmaddwd(context, b, rg, -FIX_0_16874, -FIX_0_33126, native) + (((bgd & 0xFFFF) << 15) + c_rnd)
            crv = pmaddwd(context, b, bg, -FIX_0_08131, -FIX_0_41869, native) + (((rgd & 0xFFFF) << 15) + c_rnd)
            assert FIX_0_50000 == 1 << 15
            for v, arr, a in ((yy, y, a_y), (cbv, cb, a_cb), (crv, cr, a_cr)):
                v8 = V(b, b.bitcast(v.v, ir.VectorType(I8, 4 * n)))
                store(b, permute(b, v8, lambda i: 4 * i + SCALEBITS // 8, n), _ptr(context, b, arr, a, a_doff, doff))
            return context.get_dummy_value()

        return sig, codegen

    rgb_ycc_vec.__name__ = f"rgb_ycc_vec{n}"
    rgb_ycc_vec.__doc__ = f"""rgb_ycc_vec{n}(src, soff, y, cb, cr, doff): the {n} interleaved RGB pixels at src[soff:soff + {3 * n}]
    -> y, cb, cr[doff:doff + {n}] (uint8 arrays), jccolor.c's arithmetic."""
    return intrinsic(rgb_ycc_vec)


def _pair_sums(b, x, n):
    """The 2 n bytes x (an <2 n x i8> vector) -> x[2 j] + x[2 j + 1] for j < n as int16 lanes: the bytes
    read as n little-endian words, whose low and high bytes are the pair (no permutation)."""
    w = V(b, b.bitcast(x.v, ir.VectorType(I16, n)))
    return (w & 0xFF) + V(b, b.lshr(w.v, w._o(8)))


def _bias(n, a, c):
    return ir.Constant(ir.VectorType(I16, n), [a if j % 2 == 0 else c for j in range(n)])


def _make_h2v1(n):
    def h2v1_vec(typingctx, src, soff, dst, doff):
        if not _u8(src, dst) or not _ints(soff, doff):
            return None
        sig = types.void(src, soff, dst, doff)

        def codegen(context, b, signature, args):
            a_src, a_soff, a_dst, a_doff = args
            s = load(b, _ptr(context, b, src, a_src, a_soff, soff), I8, 2 * n)
            t = _pair_sums(b, s, n) + V(b, _bias(n, 0, 1))
            store(b, (t >> 1).cast(I8), _ptr(context, b, dst, a_dst, a_doff, doff))
            return context.get_dummy_value()

        return sig, codegen

    h2v1_vec.__name__ = f"h2v1_vec{n}"
    h2v1_vec.__doc__ = f"""h2v1_vec{n}(src, soff, dst, doff): dst[doff + j] = (src[soff + 2j] + src[soff + 2j + 1] + bias)
    >> 1 for j < {n}, bias 0 for even j, 1 for odd j (uint8 arrays)."""
    return intrinsic(h2v1_vec)


def _make_h2v2(n):
    def h2v2_vec(typingctx, src, soff0, soff1, dst, doff):
        if not _u8(src, dst) or not _ints(soff0, soff1, doff):
            return None
        sig = types.void(src, soff0, soff1, dst, doff)

        def codegen(context, b, signature, args):
            a_src, a_o0, a_o1, a_dst, a_doff = args
            s0 = load(b, _ptr(context, b, src, a_src, a_o0, soff0), I8, 2 * n)
            s1 = load(b, _ptr(context, b, src, a_src, a_o1, soff1), I8, 2 * n)
            t = _pair_sums(b, s0, n) + _pair_sums(b, s1, n) + V(b, _bias(n, 1, 2))
            store(b, (t >> 2).cast(I8), _ptr(context, b, dst, a_dst, a_doff, doff))
            return context.get_dummy_value()

        return sig, codegen

    h2v2_vec.__name__ = f"h2v2_vec{n}"
    h2v2_vec.__doc__ = f"""h2v2_vec{n}(src, soff0, soff1, dst, doff): dst[doff + j] = (the 2x2 box of src at soff0 + 2j
    (upper row) and soff1 + 2j (lower row) summed + bias) >> 2 for j < {n}, bias 1 for even j, 2 for odd j
    (uint8 arrays, flat offsets)."""
    return intrinsic(h2v2_vec)


rgb_ycc_vec = _make_rgb_ycc(COLOR_N)
h2v1_vec = _make_h2v1(DOWN_N)
h2v2_vec = _make_h2v2(DOWN_N)
