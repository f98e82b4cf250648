"""Narrow-lane integer operations that Numba's typing cannot express (issue 16, part 1).

Numba promotes every integer product to 64 bits, so a 16x16 -> 32-bit multiply written in Python
reaches LLVM as a 64-bit one, and the vectorizer then runs the loop on 64-bit lanes (vpmuldq/vpmullq
where libjpeg-turbo's AVX2 code uses vpmulhuw). These intrinsics emit the narrow IR directly.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def mulhi_u16(typingctx, a, b):
    """(a * b) >> 16 of two uint16 values, as uint16: the high half of the 32-bit product (vpmulhuw)."""
    if a != types.uint16 or b != types.uint16:
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        p = builder.mul(builder.zext(args[0], i32), builder.zext(args[1], i32))
        return builder.trunc(builder.lshr(p, ir.Constant(i32, 16)), ir.IntType(16))

    return types.uint16(types.uint16, types.uint16), codegen
