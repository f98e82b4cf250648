"""The refinement scans of progressive Huffman decoding (T.81 G.1.2.1, G.1.2.3; libjpeg-turbo's jdphuff.c
decode_mcu_DC_refine and decode_mcu_AC_refine): one more bit of coefficients already sent, plus new
nonzero AC coefficients with their correction bits. The first scans and the progression's rules are
progressive.py's; these kernels follow it (same refill points, same reader state).
"""

from __future__ import annotations

import numpy as np

from ..base.huffman import FAST_BITS
from ..base.jit import NumbaGlobal, kernel
from .entropy import (
    _FAST_MASK,
    _HIGHS,
    _LOW56,
    _ONES,
    B_ACTBL,
    B_BASE,
    B_DX,
    B_DY,
    B_H,
    B_STRIDE,
    B_V,
    OK,
    S_DISCARDED,
    S_LAST_GOOD,
    S_MARKER,
    S_POS,
    W_BAD_CODE,
    _decode_symbol,
    _fill,
    _get_bits,
    _log,
    _process_restart,
)

trailing_zeros = NumbaGlobal("numba.cpython.unsafe.numbers", "trailing_zeros")  # (Numba loads on first use)

_INT_MAX = 2147483647
_INT_MIN = -2147483648


@kernel
def _decode_dc_refine(data, coef, blocks, mcus_x, mcus_y, imcu_div, restart_interval, al, state, log):
    """DC refinement scan (T.81 G.1.2.1): one raw bit per block, OR-ed in at bit Al.

    Like libjpeg, the out-of-data flag is not consulted: zero bits change nothing.
    """
    pos = state[S_POS]
    marker = state[S_MARKER]
    discarded = state[S_DISCARDED]
    last_good = state[S_LAST_GOOD]
    buf = np.int64(0)
    bits = np.int64(0)
    insufficient = np.int64(0)
    restarts_to_go = restart_interval
    next_restart = np.int64(0)
    p1 = np.int64(1) << al
    nblocks = blocks.shape[0]
    for mcu_row in range(mcus_y):
        row_good = mcu_row // imcu_div
        for mcu_col in range(mcus_x):
            if insufficient == 0:
                last_good = row_good
            if restart_interval != 0:
                if restarts_to_go == 0:
                    pos, marker, next_restart, discarded, insufficient = _process_restart(
                        data, pos, bits, marker, next_restart, discarded, insufficient, log, state
                    )
                    buf = np.int64(0)
                    bits = np.int64(0)
                    restarts_to_go = restart_interval
                restarts_to_go -= 1
            for b in range(nblocks):
                if bits >= 1:
                    bits -= 1
                    bit = (buf >> bits) & 1
                else:
                    bit, pos, buf, bits, marker, insufficient = _get_bits(
                        data, pos, buf, bits, marker, insufficient, 1, log, state
                    )
                if bit != 0:
                    row = (
                        blocks[b, B_BASE]
                        + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                        + mcu_col * blocks[b, B_H]
                        + blocks[b, B_DX]
                    )
                    coef[row, 0] = (((np.int64(coef[row, 0]) | p1) + 32768) & 0xFFFF) - 32768
    state[S_POS] = pos
    state[S_MARKER] = marker
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    return OK


@kernel
def _decode_ac_refine(
    data,
    coef,
    nzmap,
    blocks,
    mcus_x,
    mcus_y,
    imcu_div,
    restart_interval,
    ss,
    se,
    al,
    lookup,
    maxcode,
    valoffset,
    huffval,
    fast,
    natural,
    state,
    log,
):
    """AC refinement scan of one component (T.81 G.1.2.3, jdphuff.c decode_mcu_AC_refine).

    Each symbol places one newly nonzero coefficient (+-2**Al) after skipping r still-zero ones;
    coefficients already nonzero that are passed over receive a correction bit each (their magnitude
    grows by 2**Al unless that bit is already set: libjpeg's guard against a repeated refinement).
    Inside an EOB run only the correction bits are coded. The combined table is used only for
    symbols of size 0 or 1: a refinement symbol is followed by one sign bit whatever its size.

    ``nzmap[row]`` has bit k set when the block's coefficient at zigzag position k is nonzero (the AC
    kernels maintain it; bit 0 is unused). Zero runs are skipped and the coefficients that receive
    correction bits found by counting trailing zeros, instead of testing all 63 coefficients of
    every block; the bits are read in the same order.
    """
    n = data.shape[0]
    pos = state[S_POS]
    marker = state[S_MARKER]
    discarded = state[S_DISCARDED]
    last_good = state[S_LAST_GOOD]
    buf = np.int64(0)
    bits = np.int64(0)
    insufficient = np.int64(0)
    restarts_to_go = restart_interval
    next_restart = np.int64(0)
    eobrun = np.int64(0)
    t = blocks[0, B_ACTBL]
    p1 = np.int64(1) << al
    m1 = -p1
    band_end = np.int64(-1) if se >= 63 else (np.int64(1) << (se + 1)) - 1  # bits 0..Se
    for mcu_row in range(mcus_y):
        row_good = mcu_row // imcu_div
        for mcu_col in range(mcus_x):
            if insufficient == 0:
                last_good = row_good
            if restart_interval != 0:
                if restarts_to_go == 0:
                    pos, marker, next_restart, discarded, insufficient = _process_restart(
                        data, pos, bits, marker, next_restart, discarded, insufficient, log, state
                    )
                    buf = np.int64(0)
                    bits = np.int64(0)
                    restarts_to_go = restart_interval
                    eobrun = np.int64(0)
                restarts_to_go -= 1
            if insufficient != 0:
                continue
            row = (
                blocks[0, B_BASE]
                + (mcu_row * blocks[0, B_V] + blocks[0, B_DY]) * blocks[0, B_STRIDE]
                + mcu_col * blocks[0, B_H]
                + blocks[0, B_DX]
            )
            k = ss
            mp = nzmap[row]
            if eobrun == 0:
                while k <= se:
                    if bits < 8:  # refill: 7-8 bytes at once when no FF is near (see _decode_sequential)
                        if marker == 0 and pos >= 0 and pos + 8 <= n:
                            w = (
                                (np.int64(data[pos]) << 56)
                                | (np.int64(data[pos + 1]) << 48)
                                | (np.int64(data[pos + 2]) << 40)
                                | (np.int64(data[pos + 3]) << 32)
                                | (np.int64(data[pos + 4]) << 24)
                                | (np.int64(data[pos + 5]) << 16)
                                | (np.int64(data[pos + 6]) << 8)
                                | np.int64(data[pos + 7])
                            )
                            x = ~w
                            if ((x - _ONES) & ~x & _HIGHS) == 0:
                                if bits == 0:
                                    buf = w
                                    bits = np.int64(64)
                                    pos += 8
                                else:
                                    buf = (buf << 56) | ((w >> 8) & _LOW56)
                                    bits += 56
                                    pos += 7
                            else:
                                pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                        else:
                            pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                    e = np.int64(fast[t, ((buf << ((64 - bits) & 63)) >> (64 - FAST_BITS)) & _FAST_MASK])
                    tl = (e >> 12) & 15
                    if tl != 0 and tl <= bits and (e & 15) <= 1:
                        bits -= tl
                        rs = e & 0xFF
                        value = np.int64(0)
                        if (e & 15) != 0:
                            value = p1 if e > 0 else m1  # the table's value is +1 or -1
                    else:
                        cl = (e >> 8) & 15
                        if cl != 0 and cl <= bits:
                            bits -= cl
                            rs = e & 0xFF
                        else:
                            rs, pos, buf, bits, marker, insufficient = _decode_symbol(
                                data,
                                pos,
                                buf,
                                bits,
                                marker,
                                insufficient,
                                t,
                                lookup,
                                maxcode,
                                valoffset,
                                huffval,
                                log,
                                state,
                            )
                        value = np.int64(0)
                        if (rs & 15) != 0:
                            if (rs & 15) != 1:  # a newly nonzero coefficient is always +-1 at this bit
                                _log(log, state, W_BAD_CODE, 0, 0, pos)
                            if bits >= 1:
                                bits -= 1
                                sign = (buf >> bits) & 1
                            else:
                                sign, pos, buf, bits, marker, insufficient = _get_bits(
                                    data, pos, buf, bits, marker, insufficient, 1, log, state
                                )
                            value = p1 if sign != 0 else m1
                    r = rs >> 4
                    if (rs & 15) == 0 and r != 15:
                        eobrun = np.int64(1) << r
                        if r != 0:
                            if bits >= r:
                                bits -= r
                                extra = (buf >> bits) & ((np.int64(1) << r) - 1)
                            else:
                                extra, pos, buf, bits, marker, insufficient = _get_bits(
                                    data, pos, buf, bits, marker, insufficient, r, log, state
                                )
                            eobrun += extra
                        break
                    # Skip r zero coefficients (16 for ZRL), refining the nonzero ones passed over.
                    while True:
                        # Zero coefficients from k on: up to the next nonzero one or past the band.
                        zeros = trailing_zeros(mp >> k)
                        if zeros > se + 1 - k:
                            zeros = se + 1 - k
                        if r < zeros:
                            k += r  # the zero coefficient that becomes nonzero
                            break
                        r -= zeros
                        k += zeros
                        if k > se:
                            break
                        if bits >= 1:  # coefficient k is nonzero: one correction bit
                            bits -= 1
                            bit = (buf >> bits) & 1
                        else:
                            bit, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, 1, log, state
                            )
                        # T.81 G.1.2.3: a 1 bit grows the magnitude by 2**Al, unless that bit is already set
                        # (libjpeg's guard against a repeated refinement). Branch-free: the bits are random.
                        z = natural[k & 127]
                        cur = np.int64(coef[row, z])
                        inc = p1 if cur >= 0 else m1
                        if (cur & p1) != 0:
                            inc = 0
                        coef[row, z] = ((cur + inc * bit + 32768) & 0xFFFF) - 32768
                        k += 1
                        if k > se:
                            break
                    if value != 0:
                        coef[row, natural[k & 127]] = value
                        mp |= np.int64(1) << min(k, 63)  # past 63 the padded table stores at 63
                    k += 1
            if eobrun > 0:
                # Inside an EOB run: only correction bits for the nonzero coefficients left in the band.
                if k <= se:
                    nonzero = ((mp >> k) << k) & band_end
                    while nonzero != 0:
                        k = trailing_zeros(nonzero)
                        nonzero &= nonzero - 1
                        if bits >= 1:
                            bits -= 1
                            bit = (buf >> bits) & 1
                        else:
                            bit, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, 1, log, state
                            )
                        z = natural[k & 127]  # correction, as above
                        cur = np.int64(coef[row, z])
                        inc = p1 if cur >= 0 else m1
                        if (cur & p1) != 0:
                            inc = 0
                        coef[row, z] = ((cur + inc * bit + 32768) & 0xFFFF) - 32768
                eobrun -= 1
            nzmap[row] = mp
    state[S_POS] = pos
    state[S_MARKER] = marker
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    return OK
