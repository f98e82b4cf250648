"""The decompressor's last stage as vector IR (see base/vecir.py): YCbCr -> interleaved RGB (jdcolor.c), fused
with h2v2 fancy upsampling of the chroma (jdsample.c) or with full-size chroma, VEC_N output pixels
per call, as libjpeg-turbo's jdsample-avx2 / jdcolext-avx2 do it: every step in 16-bit lanes.

A call works on the even and the odd pixels of its group apart (lanes [even | odd]): the Y bytes read
as words give both (low byte even, high byte odd), and h2v2 fancy upsampling yields its two outputs of
one chroma column as two filters:

  cs[j] = 3 near[j] + far[j]                           (column sums, jdsample.c h2v2_fancy_upsample)
  even = (3 cs[j] + cs[j - 1] + 8) >> 4,  odd = (3 cs[j] + cs[j + 1] + 7) >> 4

(below 4096: int16), the three column sums each from three loads of both rows at j - 1, j, j + 1.
Colour (jdcolor.c's tables, as jdcolext-avx2 computes them; each step checked exactly on all inputs
by tests/test_color_vec.py), with cb = Cb - 128, cr = Cr - 128 (the 128 folded into the upsampling
bias):

  R - Y = (91881 cr + 32768) >> 16              = cr + pmulhrsw(cr, 13172)
  B - Y = (116130 cb + 32768) >> 16             = 2 cb + pmulhrsw(cb, -7471)
  G - Y = (-22554 cb - 46802 cr + 32768) >> 16  = high word of (pmaddwd((cb, cr), (-22554, 18734)) + 32768) - cr

then Y added, clamped to 0..255 and narrowed to bytes (vpackuswb), and one byte permutation interleaves
R, G, B.

Callers (compose.py) take a group only where every sample it reads exists (j - 1 >= 0, j + 1 < the
chroma width) and do the row's ends with the scalar path (upsample.py, color.py). Rows are 1-D uint8
arrays of unit stride (the caller checks ``strides``).
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

from ..base.vecir import (
    I8,
    I16,
    V,
    concat,
    data_ptr,
    load,
    packuswb,
    packuswb_order,
    permute,
    pmaddwd,
    pmulhrsw,
    shuffle,
    split,
    store,
    vec,
)

#: Output pixels per call.
VEC_N = 64

_R_CR = 13172  # pmulhrsw constants, found exact over all 256 inputs (module docstring)
_B_CB = -7471
_G_CB = -22554  # -FIX(0.34414)
_G_CR = 18734  # 65536 - FIX(0.71414): the other -65536 cr is the "- cr"


def _rows_ok(*arrays):
    return all(isinstance(a, types.Array) and a.dtype == types.uint8 and a.ndim == 1 for a in arrays)


def _ptr(context, b, aryty, ary, off):
    return data_ptr(context, b, aryty, ary, off, I8)


def _words(b, x):
    """2 h bytes -> their even and odd bytes as <h x i16> lanes: the bytes read as words (no permutation)."""
    h = x.v.type.count // 2
    w = V(b, b.bitcast(x.v, vec(I16, h)))
    return w & 0xFF, V(b, b.lshr(w.v, w._o(8)))


def _colour(context, b, y, cb, cr, native):
    """<n x i16> Y and cb, cr (chroma - 128) lanes in [even | odd] order -> the 3 n interleaved RGB bytes."""
    n = y.v.type.count
    h = n // 2
    rv = y + cr + pmulhrsw(context, b, cr, _R_CR, native)
    bv = y + (cb + cb) + pmulhrsw(context, b, cb, _B_CB, native)
    # G: (cb, cr) word pairs, in-lane as vpunpcklwd / vpunpckhwd make them, and the high words of the
    # pair sums taken back in the order that undoes it (vpackssdw's), per 32 lanes
    parts = []
    for k in range(0, n, 32):
        m = min(32, n - k)
        c0, c1 = (V(b, shuffle(b, x.v, x.v, range(k, k + m))) for x in (cb, cr))
        lo = [i for q in range(0, m, 8) for j in range(4) for i in (q + j, m + q + j)]
        hi = [i for q in range(0, m, 8) for j in range(4, 8) for i in (q + j, m + q + j)]
        sums = [
            pmaddwd(context, b, V(b, shuffle(b, c0.v, c1.v, idx)), _G_CB, _G_CR, native) + 32768 for idx in (lo, hi)
        ]
        both = V(b, b.bitcast(concat(b, sums).v, vec(I16, 2 * m)))
        parts.append(permute(b, both, lambda i, m=m: (m if i % 8 >= 4 else 0) + 2 * ((i // 8) * 4 + i % 4) + 1, m))
    gv = y + concat(b, parts) - cr if len(parts) > 1 else y + parts[0] - cr
    # clamped and narrowed by vpackuswb (even half, odd half): lane c of [even | odd] lands on byte at[c]
    r8, g8, b8 = (packuswb(context, b, *split(b, v, 2), native) for v in (rv, gv, bv))
    at = [0] * n
    for i in range(n):
        at[packuswb_order(i, h)] = i
    allv = concat(b, [r8, g8, b8, b8])

    def src(i):  # output byte i = 3 x + k: pixel x's lane (even x = 2 m: m; odd: h + m) of channel k
        x, k = divmod(i, 3)
        return k * n + at[(x >> 1) + (h if x & 1 else 0)]

    return permute(b, allv, src, 3 * n)


def _make_h2v2(n, native=True):
    h = n // 2

    def ycc_h2v2_vec(typingctx, yr, cbn, cbf, crn, crf, orow, x0):
        if not _rows_ok(yr, cbn, cbf, crn, crf, orow) or not isinstance(x0, types.Integer):
            return None
        sig = types.void(yr, cbn, cbf, crn, crf, orow, x0)

        def codegen(context, b, signature, args):
            a_y, a_cbn, a_cbf, a_crn, a_crf, a_out, a_x0 = args
            x = context.cast(b, a_x0, x0, types.int64)
            j = b.ashr(x, x.type(1))
            chroma = []
            for (tn, an), (tf, af) in (((cbn, a_cbn), (cbf, a_cbf)), ((crn, a_crn), (crf, a_crf))):
                cs = []
                for d in (-1, 0, 1):
                    off = b.add(j, j.type(d))
                    near = load(b, _ptr(context, b, tn, an, off), I8, h).cast(I16, signed=False)
                    far = load(b, _ptr(context, b, tf, af, off), I8, h).cast(I16, signed=False)
                    cs.append(near * 3 + far)
                c3 = cs[1] * 3
                # the 128 of cb / cr folded in: (v - 2048) >> 4 == (v >> 4) - 128
                even = (c3 + cs[0] + (8 - 2048)) >> 4
                odd = (c3 + cs[2] + (7 - 2048)) >> 4
                chroma.append(concat(b, [even, odd]))
            ye, yo = _words(b, load(b, _ptr(context, b, yr, a_y, x), I8, n))
            rgb = _colour(context, b, concat(b, [ye, yo]), chroma[0], chroma[1], native)
            store(b, rgb, _ptr(context, b, orow, a_out, b.mul(x, x.type(3))))
            return context.get_dummy_value()

        return sig, codegen

    ycc_h2v2_vec.__name__ = f"ycc_h2v2_vec{n}"
    ycc_h2v2_vec.__doc__ = f"""ycc_h2v2_vec{n}(yr, cbn, cbf, crn, crf, orow, x0): output pixels x0 .. x0 + {n - 1} (x0 even) of a
    row: Y from yr, Cb / Cr h2v2-fancy-upsampled from their nearer and further rows (columns x0 / 2 - 1 ..
    x0 / 2 + {h}), as RGB into orow[3 x0:3 (x0 + {n})]."""
    return intrinsic(ycc_h2v2_vec)


def _make_full(n, native=True):
    def ycc_vec(typingctx, yr, cbr, crr, orow, x0):
        if not _rows_ok(yr, cbr, crr, orow) or not isinstance(x0, types.Integer):
            return None
        sig = types.void(yr, cbr, crr, orow, x0)

        def codegen(context, b, signature, args):
            a_y, a_cb, a_cr, a_out, a_x0 = args
            x = context.cast(b, a_x0, x0, types.int64)
            lanes = []
            for t, a, bias in ((yr, a_y, 0), (cbr, a_cb, 128), (crr, a_cr, 128)):
                e, o = _words(b, load(b, _ptr(context, b, t, a, x), I8, n))
                lanes.append(concat(b, [e, o]) - bias)
            rgb = _colour(context, b, lanes[0], lanes[1], lanes[2], native)
            store(b, rgb, _ptr(context, b, orow, a_out, b.mul(x, x.type(3))))
            return context.get_dummy_value()

        return sig, codegen

    ycc_vec.__name__ = f"ycc_vec{n}"
    ycc_vec.__doc__ = f"""ycc_vec{n}(yr, cbr, crr, orow, x0): full-size Y, Cb, Cr samples x0 .. x0 + {n - 1} of a row as RGB
    into orow[3 x0:3 (x0 + {n})]."""
    return intrinsic(ycc_vec)


ycc_h2v2_vec = _make_h2v2(VEC_N)
ycc_vec = _make_full(VEC_N)
