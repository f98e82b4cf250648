"""Progressive Huffman decoding (T.81 G.2; libjpeg-turbo's jdphuff.c): DC first and refinement scans,
AC first and refinement scans with end-of-band runs, and the progression bookkeeping (``coef_bits``).

A progressive frame sends each component's coefficients in several scans: spectral selection splits
the zigzag band Ss..Se, successive approximation sends the high bits first (point transform Al) and
one more bit per refinement scan (Ah = previous Al). Coefficients accumulate in the same store that
sequential scans write, in natural order; nothing is dequantized here.

``coef_bits`` follows libjpeg exactly: per component and zigzag position, -1 until a scan carries
the coefficient, then the Al of the last scan that did. libjpeg also keeps a second copy, the state
before the most recent scan that touched each component (used by block smoothing for rows the last
scan never reached); ``ProgressionState`` (reader.py) keeps both. An illegal scan header (Ss/Se/Ah/Al out of
range, an AC scan with several components) is an error; a scan that does not follow from the
previous ones (refining a coefficient never sent, sending it twice) is only a warning, as in libjpeg.
"""

from __future__ import annotations

import numpy as np

from ..base.huffman import FAST_BITS
from ..base.jit import kernel
from .entropy import (
    _FAST_MASK,
    _HIGHS,
    _LOW56,
    _ONES,
    B_ACTBL,
    B_BASE,
    B_COMP,
    B_DCTBL,
    B_DX,
    B_DY,
    B_H,
    B_STRIDE,
    B_V,
    ERR_DC_RANGE,
    OK,
    S_DISCARDED,
    S_ERROR_POS,
    S_LAST_GOOD,
    S_MARKER,
    S_POS,
    _decode_symbol,
    _fill,
    _get_bits,
    _process_restart,
)

_INT_MAX = 2147483647
_INT_MIN = -2147483648


# The kernels below follow entropy._decode_sequential: refills at exactly the helpers' points
# (7-8 bytes at once away from FF bytes), symbols through the combined table ``fast`` when the buffer
# holds code and value bits, the bit-serial helpers otherwise, the restart bookkeeping of every MCU
# written out (Numba does not inline helpers that return tuples; calling them per MCU or per symbol
# costs more than the decoding).


@kernel
def _decode_dc_first(
    data,
    coef,
    blocks,
    mcus_x,
    mcus_y,
    imcu_div,
    restart_interval,
    al,
    lookup,
    maxcode,
    valoffset,
    huffval,
    fast,
    state,
    log,
):
    """DC first scan (T.81 G.1.2.1): DPCM differences as in sequential mode, stored shifted left by Al."""
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
    last_dc = np.zeros(4, dtype=np.int64)
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
                    last_dc[:] = 0
                restarts_to_go -= 1
            if insufficient != 0:
                continue
            for b in range(nblocks):
                t = blocks[b, B_DCTBL]
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
                if tl != 0 and tl <= bits:  # code and value bits in one step
                    bits -= tl
                    rs = e & 0xFF
                    v = e >> 16
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
                    s = rs
                    v = np.int64(0)
                    if s != 0:
                        if bits >= s:
                            bits -= s
                            v = (buf >> bits) & ((np.int64(1) << s) - 1)
                        else:
                            v, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, s, log, state
                            )
                        if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                            v = v - (np.int64(1) << s) + 1
                ci = blocks[b, B_COMP]
                last = last_dc[ci]
                if (last >= 0 and v > _INT_MAX - last) or (last < 0 and v < _INT_MIN - last):
                    state[S_ERROR_POS] = pos
                    return ERR_DC_RANGE
                last += v
                last_dc[ci] = last
                row = (
                    blocks[b, B_BASE]
                    + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                    + mcu_col * blocks[b, B_H]
                    + blocks[b, B_DX]
                )
                coef[row, 0] = (((last << al) + 32768) & 0xFFFF) - 32768
    state[S_POS] = pos
    state[S_MARKER] = marker
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    return OK


@kernel
def _decode_ac_first(
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
    """AC first scan of one component (T.81 G.1.2.2): run/size symbols over the band Ss..Se, values
    shifted left by Al, and EOBn symbols that end this band in the next 2**n + bits blocks too.
    ``natural``: the padded zigzag table as uint8, 128 entries (indexed with k & 127). ``nzmap``: see
    ``_decode_ac_refine``; kept up to date with every coefficient stored."""
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
            if eobrun > 0:
                eobrun -= 1  # this block is inside an end-of-band run: nothing coded
                continue
            row = (
                blocks[0, B_BASE]
                + (mcu_row * blocks[0, B_V] + blocks[0, B_DY]) * blocks[0, B_STRIDE]
                + mcu_col * blocks[0, B_H]
                + blocks[0, B_DX]
            )
            k = ss
            mp = nzmap[row]
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
                if tl != 0 and tl <= bits:  # code and value bits in one step
                    bits -= tl
                    rs = e & 0xFF
                    v = e >> 16
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
                    s = rs & 15
                    v = np.int64(0)
                    if s != 0:
                        if bits >= s:
                            bits -= s
                            v = (buf >> bits) & ((np.int64(1) << s) - 1)
                        else:
                            v, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, s, log, state
                            )
                        if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                            v = v - (np.int64(1) << s) + 1
                r = rs >> 4
                if (rs & 15) != 0:
                    k += r
                    v = (((v << al) + 32768) & 0xFFFF) - 32768
                    coef[row, natural[k & 127]] = v
                    kbit = np.int64(1) << min(k, 63)  # past 63 the padded table stores at 63
                    mp = (mp | kbit) if v != 0 else (mp & ~kbit)  # v << Al can wrap to 0 in 16 bits
                elif r == 15:
                    k += 15  # ZRL
                else:
                    eobrun = np.int64(1) << r  # EOBr: 2**r blocks, plus r appended bits
                    if r != 0:
                        if bits >= r:
                            bits -= r
                            extra = (buf >> bits) & ((np.int64(1) << r) - 1)
                        else:
                            extra, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, r, log, state
                            )
                        eobrun += extra
                    eobrun -= 1  # this block is the first of the run
                    break
                k += 1
            nzmap[row] = mp
    state[S_POS] = pos
    state[S_MARKER] = marker
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    return OK
