"""Whole-block vector kernels written as LLVM vector IR (issue 16, transform kernels).

Numba types every integer product as 64-bit and LLVM's loop vectorizer only sees loops, so an 8x8
transform written in Python vectorizes over *blocks* (the [position][block] layout of fdct.py and
idct_lanes.py) and pays for transposes into and out of that layout through memory. Here a block is a
handful of vector registers, as in libjpeg-turbo's jfdctint-avx2 / jidctint-avx2: rows are loaded
with plain vector loads, the 8x8 transposes are ``shufflevector``s (byte or word permutations:
vpermb / vpermt2w on AVX-512), and the butterflies run on eight vectors of int32 lanes, 8 per block,
for a few horizontally adjacent blocks at once (more independent work per loop iteration). The IR is target-independent: LLVM
lowers it for whatever CPU Numba compiles for.

:class:`V` wraps an ``ir.Value`` of vector type so that the flow graphs below read like the scalar
code they mirror (``+``, ``-``, ``*`` by a constant, ``<<``, ``>>`` arithmetic). Everything here runs at
compile time only.
"""

from __future__ import annotations

from llvmlite import ir

I8, I16, I32, I64 = ir.IntType(8), ir.IntType(16), ir.IntType(32), ir.IntType(64)


def vec(t, n):
    return ir.VectorType(t, n)


class V:
    """An integer vector value with operators that emit IR into ``b`` (constants splat)."""

    __slots__ = ("b", "v")

    def __init__(self, b, v):
        self.b, self.v = b, v

    def _o(self, x):
        if isinstance(x, V):
            return x.v
        t = self.v.type
        return ir.Constant(t, [x] * t.count)

    def __add__(self, x):
        return V(self.b, self.b.add(self.v, self._o(x)))

    __radd__ = __add__

    def __sub__(self, x):
        return V(self.b, self.b.sub(self.v, self._o(x)))

    def __rsub__(self, x):
        return V(self.b, self.b.sub(self._o(x), self.v))

    def __mul__(self, x):
        return V(self.b, self.b.mul(self.v, self._o(x)))

    __rmul__ = __mul__

    def __neg__(self):
        return V(self.b, self.b.sub(self._o(0), self.v))

    def __lshift__(self, n):
        return V(self.b, self.b.shl(self.v, self._o(n)))

    def __rshift__(self, n):
        return V(self.b, self.b.ashr(self.v, self._o(n)))

    def __or__(self, x):
        return V(self.b, self.b.or_(self.v, self._o(x)))

    def __and__(self, x):
        return V(self.b, self.b.and_(self.v, self._o(x)))

    def smin(self, x):
        o = self._o(x)
        return V(self.b, self.b.select(self.b.icmp_signed("<", self.v, o), self.v, o))

    def smax(self, x):
        o = self._o(x)
        return V(self.b, self.b.select(self.b.icmp_signed(">", self.v, o), self.v, o))

    def cast(self, t, signed=True):
        """Widen (sign- or zero-extend) or narrow (truncate) every lane to the integer type ``t``."""
        n = self.v.type.count
        old = self.v.type.element.width
        vt = vec(t, n)
        if t.width > old:
            return V(self.b, self.b.sext(self.v, vt) if signed else self.b.zext(self.v, vt))
        if t.width < old:
            return V(self.b, self.b.trunc(self.v, vt))
        return self


def shuffle(b, x, y, idx):
    return b.shuffle_vector(x, y, ir.Constant(vec(I32, len(idx)), list(idx)))


def concat(b, parts):
    """One vector of all ``parts`` (equal types, a power-of-two count), in order."""
    vs = [p.v if isinstance(p, V) else p for p in parts]
    while len(vs) > 1:
        n = vs[0].type.count
        vs = [shuffle(b, vs[i], vs[i + 1], range(2 * n)) for i in range(0, len(vs), 2)]
    return V(b, vs[0])


def permute(b, x, src, n=None):
    """out[i] = x[src(i)] for i < n (default: as many lanes as ``x``): one ``shufflevector``."""
    n = x.v.type.count if n is None else n
    return V(b, shuffle(b, x.v, x.v, [src(i) for i in range(n)]))


def split(b, x, parts):
    """``x`` cut into ``parts`` consecutive equal vectors."""
    n = x.v.type.count // parts
    return [V(b, shuffle(b, x.v, x.v, range(i * n, (i + 1) * n))) for i in range(parts)]


def data_ptr(context, builder, aryty, value, offset, elem):
    """Pointer to element ``offset`` (i64) of the array ``value`` (Numba type ``aryty``), as ``elem*``."""
    ary = context.make_array(aryty)(context, builder, value)
    p = builder.gep(ary.data, [offset])
    return builder.bitcast(p, elem.as_pointer())


def load(b, ptr, t, n):
    """An unaligned load of ``n`` lanes of type ``t`` at ``ptr`` (an ``elem*`` pointer)."""
    return V(b, b.load(b.bitcast(ptr, vec(t, n).as_pointer()), align=1))


def load_rows(b, ptrs, nb):
    """Eight rows of 8 * nb bytes (``i8*`` pointers) as one <64 nb x i8> vector, row after row (scalar
    i64 loads inserted into a vector: LLVM makes a mess of concatenating eight <8 x i8> loads)."""
    v = ir.Constant(vec(I64, 8 * nb), None)
    for i, p in enumerate(ptrs):
        q = b.bitcast(p, I64.as_pointer())
        for h in range(nb):
            w = b.load(b.gep(q, [ir.Constant(I64, h)]) if h else q, align=1)
            v = b.insert_element(v, w, ir.Constant(I32, i * nb + h))
    return V(b, b.bitcast(v, vec(I8, 64 * nb)))


def store(b, x, ptr):
    b.store(x.v, b.bitcast(ptr, x.v.type.as_pointer()), align=1)


def any_lane(b, x, pred, y=0):
    """An i1: whether ``x <pred> y`` (signed compare, y splat) holds in any lane: a mask test, no
    horizontal ORs."""
    n = x.v.type.count
    m = b.icmp_signed(pred, x.v, x._o(y))
    return b.icmp_unsigned("!=", b.bitcast(m, ir.IntType(n)), ir.Constant(ir.IntType(n), 0))


def mulhi_u16(x, y):
    """(x * y) >> 16 lane by lane of two i16 vectors as unsigned (vpmulhuw)."""
    p = x.cast(I32, signed=False) * y.cast(I32, signed=False)
    return V(p.b, p.b.lshr(p.v, p._o(16))).cast(I16)


# x86 instructions LLVM does not form from their generic formulation, called by name where the target
# has them: (target feature, int16 lanes per instruction, intrinsic name).
_PMADDWD = (
    ("avx512bw", 32, "llvm.x86.avx512.pmaddw.d.512"),
    ("avx2", 16, "llvm.x86.avx2.pmadd.wd"),
    ("sse2", 8, "llvm.x86.sse2.pmadd.wd"),
)
_PACKUSWB = (
    ("avx512bw", 32, "llvm.x86.avx512.packuswb.512"),
    ("avx2", 16, "llvm.x86.avx2.packuswb"),
    ("sse2", 8, "llvm.x86.sse2.packuswb.128"),
)
_PMULHRSW = (
    ("avx512bw", 32, "llvm.x86.avx512.pmul.hr.sw.512"),
    ("avx2", 16, "llvm.x86.avx2.pmul.hr.sw"),
    ("ssse3", 8, "llvm.x86.ssse3.pmul.hr.sw.128"),
)


def _target_features(context):
    return set(f[1:] for f in (getattr(context.codegen(), "_tm_features", "") or "").split(",") if f.startswith("+"))


def _x86(context, b, args, table, ret, native):
    """The <m x i16> vectors ``args`` through the first instruction of ``table`` the target has
    (``native``: True, False or one feature name), piece by piece (the pieces' results concatenated;
    ``ret(w)``: one call's result type); None where there is none (the caller's generic formulation)."""
    m = args[0].v.type.count
    feats = _target_features(context) if native else set()
    if isinstance(native, str):  # tests: only this variant (where the target has it)
        feats &= {native}
    for feat, w, name in table:
        if feat in feats and m % w == 0:
            fn = b.module.globals.get(name)
            if fn is None:
                fn = ir.Function(b.module, ir.FunctionType(ret(w), [vec(I16, w)] * len(args)), name)
            pieces = zip(*(split(b, x, m // w) if m > w else [x] for x in args))
            parts = [V(b, b.call(fn, [p.v for p in ps])) for ps in pieces]
            return concat(b, parts) if len(parts) > 1 else parts[0]
    return None


def _splat(x, consts):
    return V(x.b, ir.Constant(x.v.type, [consts[i % len(consts)] for i in range(x.v.type.count)]))


def pmaddwd(context, b, x, c0, c1, native=True):
    """x[2 j] * c0 + x[2 j + 1] * c1 for each j: an <2 n x i16> vector and int16 constants -> <n x i32>
    (vpmaddwd's arithmetic, the lanes of x as signed). Where the target has the instruction it is called
    by name (LLVM does not find it in the even/odd formulation below, the fallback). ``native``: True
    (the widest variant the target has), False (the fallback) or a feature name of ``_PMADDWD``."""
    r = _x86(context, b, [x, _splat(x, (c0, c1))], _PMADDWD, lambda w: vec(I32, w // 2), native)
    if r is not None:
        return r
    n = x.v.type.count // 2
    even = V(b, shuffle(b, x.v, x.v, [2 * j for j in range(n)])).cast(I32)
    odd = V(b, shuffle(b, x.v, x.v, [2 * j + 1 for j in range(n)])).cast(I32)
    return even * c0 + odd * c1


def pmulhrsw(context, b, x, c, native=True):
    """(x * c + 2**14) >> 15 lane by lane (vpmulhrsw: ((x * c >> 14) + 1) >> 1) of an <m x i16> vector
    and an int16 constant -> <m x i16>; by name where the target has it, else this formulation
    (``native`` as for pmaddwd)."""
    r = _x86(context, b, [x, _splat(x, (c,))], _PMULHRSW, lambda w: vec(I16, w), native)
    if r is not None:
        return r
    p = x.cast(I32) * c
    return (((p >> 14) + 1) >> 1).cast(I16)


def packuswb_order(i, m):
    """Where packuswb puts byte i of its result: the lane of [x | y] (two <m x i16> vectors) it came from."""
    lane, k = divmod(i, 16)
    return 8 * lane + k if k < 8 else m + 8 * lane + k - 8


def packuswb(context, b, x, y, native=True):
    """Two <m x i16> vectors -> <2 m x i8>, each word saturated to 0..255 and in vpackuswb's order: the
    16 bytes of each 128-bit lane L are x's words 8 L .. 8 L + 7, then y's (``packuswb_order``); by name
    where the target has it, else clamp, truncate and one permutation (``native`` as for pmaddwd)."""
    r = _x86(context, b, [x, y], _PACKUSWB, lambda w: vec(I8, 2 * w), native)
    if r is not None:
        return r
    m = x.v.type.count
    both = concat(b, [x, y]).smax(0).smin(255).cast(I8)
    return permute(b, both, lambda i: packuswb_order(i, m))
