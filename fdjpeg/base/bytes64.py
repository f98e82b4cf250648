"""One unaligned 8-byte big-endian load as a Numba intrinsic: LLVM does not merge the eight byte loads,
shifts and ORs of ``(data[p] << 56) | ... | data[p + 7]`` into one load (the Huffman decoder's refill
compiled to 24 instructions), so the load and a byte swap are emitted here directly.

Made on first attribute access (``bytes64.load_be64``, inside a kernel: when that kernel is compiled),
so that importing the decoder's modules does not import Numba (tests/test_startup.py)."""

from __future__ import annotations


def _make_load_be64():
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    i64 = ir.IntType(64)

    def load_be64(typingctx, data, pos):
        """load_be64(data, pos): data[pos:pos + 8] (a 1-D uint8 array; the caller checks the range) as a
        big-endian int64. A C-contiguous array: one load and a byte swap; any other layout byte by byte."""
        if not (isinstance(data, types.Array) and data.dtype == types.uint8 and data.ndim == 1):
            return None
        if not isinstance(pos, types.Integer):
            return None

        def codegen(context, b, signature, args):
            ary = context.make_array(data)(context, b, args[0])
            off = context.cast(b, args[1], pos, types.int64)
            if data.layout == "C":
                w = b.load(b.bitcast(b.gep(ary.data, [off]), i64.as_pointer()), align=1)
                return b.call(b.module.declare_intrinsic("llvm.bswap", [i64]), [w])
            stride = b.extract_value(ary.strides, 0)
            base = b.ptrtoint(ary.data, i64)
            w = ir.Constant(i64, 0)
            for i in range(8):
                addr = b.add(base, b.mul(b.add(off, ir.Constant(i64, i)), stride))
                byte = b.zext(b.load(b.inttoptr(addr, ir.IntType(8).as_pointer())), i64)
                w = b.or_(b.shl(w, ir.Constant(i64, 8)), byte)
            return w

        return types.int64(data, pos), codegen

    return intrinsic(load_be64)


def __getattr__(name):
    if name == "load_be64":
        f = _make_load_be64()
        globals()[name] = f
        return f
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
