"""Helpers of the Huffman coder (entropy.py) as vector IR (see base/vecir.py), after libjpeg-turbo's
jchuff-avx2 / jchuff-sse2 (jsimd_huff_encode_one_block), which prepare a whole block before the scalar
loop that codes it.

* ``zigzag_block``: a block's 64 coefficients (natural order, int16) are loaded as two vectors, put in
  zigzag order by one word permutation (``vpermt2w``), and every AC x replaced by x - (x < 0), the
  form whose low SSSS bits follow the symbol (jchuff.c's temp2; |x| is recovered as y ^ (y >> 15), so
  the scalar loop needs no sign test); the result goes to a 64-entry scratch array. One compare with
  zero gives the 64-bit map of the nonzero zigzag positions (``vptestmw`` + ``kunpck``). The coder
  then visits only the nonzero positions (count trailing zeros) and reads each value from the scratch
  array in order (no zigzag table, no gather through it). Bit 0 of the map (the DC's position, coded
  apart) says instead whether some AC coefficient is outside the 8-bit baseline range (|x| > 1023),
  so the coder checks the range once per block.
* ``store_be64``: jchuff.c's 8-byte flush of its 64-bit put_buffer as one byte swap and one unaligned
  store (``movbe``), instead of eight shifted byte stores (fused._join, which appends raw bit strings,
  reads its words back with the decoder's base/bytes64.load_be64).

Arrays of another layout than C (a caller's strided view) take the scalar fallbacks, with equal results.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ..base.vecir import I16, I64, V, data_ptr, load, permute, store
from ..base.zigzag import ZIGZAG

_ZZ = [int(i) for i in ZIGZAG]
_AC = (1 << 64) - 2  # every zigzag position but the DC's
_I64 = ir.IntType(64)


def _is_c(a, dtype, ndim):
    return isinstance(a, types.Array) and a.dtype == dtype and a.ndim == ndim and a.layout == "C"


@intrinsic
def _zigzag_block_vec(typingctx, blocks, b, scratch):
    if not (_is_c(blocks, types.int16, 2) and _is_c(scratch, types.int16, 1) and isinstance(b, types.Integer)):
        return None
    sig = types.uint64(blocks, b, scratch)

    def codegen(context, bld, signature, args):
        a_blocks, a_b, a_scratch = args
        off = bld.mul(context.cast(bld, a_b, b, types.int64), ir.Constant(I64, 64))
        coef = load(bld, data_ptr(context, bld, blocks, a_blocks, off, I16), I16, 64)
        zz = permute(bld, coef, lambda i: _ZZ[i])
        dc_lane = ir.Constant(ir.VectorType(ir.IntType(1), 64), [1] + [0] * 63)
        bits = V(bld, bld.select(dc_lane, zz.v, (zz + (zz >> 15)).v))  # x - (x < 0), the DC as it is
        store(bld, bits, data_ptr(context, bld, scratch, a_scratch, ir.Constant(I64, 0), I16))
        lanes = zz.v.type
        nonzero = bld.bitcast(bld.icmp_signed("!=", zz.v, ir.Constant(lanes, [0] * 64)), _I64)
        big = bld.or_(
            bld.icmp_signed(">", zz.v, ir.Constant(lanes, [1023] * 64)),
            bld.icmp_signed("<", zz.v, ir.Constant(lanes, [-1023] * 64)),
        )
        ac = ir.Constant(_I64, _AC)
        bad = bld.icmp_unsigned("!=", bld.and_(bld.bitcast(big, _I64), ac), ir.Constant(_I64, 0))
        return bld.or_(bld.and_(nonzero, ac), bld.zext(bad, _I64))

    return sig, codegen


def zigzag_block(blocks, b, scratch):
    """Row ``b`` of the (n, 64) int16 array ``blocks`` in zigzag order into ``scratch[:64]`` (int16): the
    DC as it is, each AC x as x - (x < 0) (wrapping to 32767 for -32768, which is out of range anyway).
    Returns a uint64 whose bit i (1..63) says that zigzag position i is nonzero, and whose bit 0 says
    that some AC coefficient lies outside -1023..1023. (This Python body is the reference; kernels get
    the vector intrinsic for C-contiguous arrays and the same loop compiled otherwise.)"""
    nz = 0
    for i in range(64):
        v = int(blocks[b, _ZZ[i]])
        scratch[i] = v if i == 0 else (v - (v < 0) + 32768) % 65536 - 32768
        if i and v:
            nz |= 1 << i
        if i and abs(v) > 1023:
            nz |= 1
    return np.uint64(nz)


@overload(zigzag_block)
def _zigzag_block_impl(blocks, b, scratch):
    if _is_c(blocks, types.int16, 2) and _is_c(scratch, types.int16, 1):
        return lambda blocks, b, scratch: _zigzag_block_vec(blocks, b, scratch)
    zz = np.asarray(ZIGZAG, np.int64)

    def scalar(blocks, b, scratch):
        nz = np.uint64(0)
        bad = np.uint64(0)
        for i in range(64):
            v = blocks[b, zz[i]]
            scratch[i] = v if i == 0 else v - (v < 0)
            nz |= np.uint64(v != 0) << np.uint64(i)
            bad |= np.uint64(i > 0 and (v > 1023 or v < -1023))
        return (nz & np.uint64(_AC)) | bad

    return scalar


def _bswap64(bld):
    return bld.module.globals.get("llvm.bswap.i64") or ir.Function(
        bld.module, ir.FunctionType(I64, [I64]), "llvm.bswap.i64"
    )


@intrinsic
def _store_be64_vec(typingctx, out, pos, word):
    if not (_is_c(out, types.uint8, 1) and isinstance(pos, types.Integer) and isinstance(word, types.Integer)):
        return None
    sig = types.void(out, pos, word)

    def codegen(context, bld, signature, args):
        a_out, a_pos, a_word = args
        w = context.cast(bld, a_word, word, types.uint64)
        ptr = data_ptr(context, bld, out, a_out, context.cast(bld, a_pos, pos, types.int64), I64)
        bld.store(bld.call(_bswap64(bld), [w]), ptr, align=1)
        return context.get_dummy_value()

    return sig, codegen


def store_be64(out, pos, word):
    """The 64-bit ``word`` as 8 bytes, most significant first, at out[pos : pos + 8] (uint8; no bounds
    check in kernels: the caller has made room)."""
    for j in range(8):
        out[pos + j] = (int(word) >> (56 - 8 * j)) & 0xFF


@overload(store_be64)
def _store_be64_impl(out, pos, word):
    if _is_c(out, types.uint8, 1):
        return lambda out, pos, word: _store_be64_vec(out, pos, word)

    def scalar(out, pos, word):
        w = np.uint64(word)
        for j in range(8):
            out[pos + j] = np.uint8((w >> np.uint64(56 - 8 * j)) & np.uint64(0xFF))

    return scalar
