"""Arithmetic entropy decoding (T.81 Annex D, F.2.4 and G.2; libjpeg-turbo's jdarith.c) of sequential
(SOF9) and progressive (SOF10) scans into the same coefficient store the Huffman decoders fill.

The QM coder decodes one binary decision at a time against an adaptive probability estimate held in
a "statistics bin": one byte per bin, the more probable symbol (MPS) in bit 7 and an index into the
Qe table (T.81 Table D.2) in bits 0..6, exactly libjpeg's compact layout. The bins live in one flat
uint8 array (``STATS_SIZE`` entries): 16 DC tables of 64 bins, 16 AC tables of 256 bins and the
fixed 0.5-probability bin that libjpeg uses for AC signs and refinement bits. Which bin codes which
decision is the statistical model of T.81 F.1.4.4 (sequential) and G.1.3 (progressive); the bin
offsets below (S0 = context, X1 = 20, AC 3*(k-1), X2 = 189 or 217...) are libjpeg's.

The decoder register C holds the code base and the not-yet-used input bits together, with CT the
number of input bits below the 16-bit base (libjpeg's "floating cut point"); T.81's fixed layout
and renormalisation of Figures D.17-D.20 give the same decisions. Damaged data follows jdarith.c:

* reaching a marker inside the data is legal in arithmetic coding: the marker is left for the
  marker reader and zero bytes are decoded from then on, without a warning;
* a magnitude category that overflows 15 bits, or a run of zero AC decisions past Se, is a "bad
  arithmetic code": one warning, and nothing more is decoded until the next restart marker (the
  rest of the interval stays as it is: zero, or the previous scans' values);
* at a restart boundary the RSTn is found and checked as the Huffman decoders do (entropy_decode's
  ``_process_restart``, libjpeg's read_restart_marker and resync), then the statistics, the DC
  predictions and the coder are reset.

All loops are bounded by the block grid, 64 coefficients and 15 magnitude bits, and the register
invariant C < A << CT holds for any input, so a corrupt stream can neither hang nor overflow.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .arithmetic import (
    AC_STAT_BINS,
    AC_STATS,
    DC_STAT_BINS,
    DC_STATS,
    FIXED_BIN,
    QE_PACKED,
    STATS_SIZE,
)
from .entropy_decode import (
    B_ACTBL,
    B_BASE,
    B_COMP,
    B_DCTBL,
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
    W_EOF,
    _byte_at,
    _log,
    _process_restart,
)

#: Warning code in the shared log (after entropy_decode's W_* codes): libjpeg's JWRN_ARITH_BAD_CODE.
W_ARITH_BAD_CODE = 6

# --- Modes of ``_decode_scan`` ----------------------------------------------------------------------
SEQUENTIAL = 0
DC_FIRST = 1
DC_REFINE = 2
AC_FIRST = 3
AC_REFINE = 4

# Slots of the coder's register array ``reg``.
_C = 0  # C register: code base and buffered input bits
_A = 1  # A register: interval size
_CT = 2  # input bits below the base in C; -16: two bytes to load; -1: bad code, decode nothing
_POS = 3  # next byte to read
_MARKER = 4  # marker met in the data (0: none); zeros are decoded once it is set


@kernel
def _decode(data, reg, stats, s, log, state):
    """Decode one binary decision with statistics bin ``s`` (T.81 D.2.4-D.2.6, libjpeg's arith_decode).

    Renormalisation first (D.2.6, Figure D.18): while A < 0x8000, double A and, whenever the input
    bits in C are used up, append the next byte (Figure D.19 BYTEIN: FF 00 is a data byte FF, FF
    followed by a marker code leaves the marker unread and appends zeros, as every byte after it).
    The very first two bytes of a segment (CT = -16) load C and set A = 0x10000 (D.2.1 INITDEC).
    Then D.2.4/D.2.5: the MPS sub-interval is the lower A - Qe of the interval; the conditional
    exchange and the probability estimate update follow Figures D.20-D.22.
    """
    a = reg[_A]
    c = reg[_C]
    ct = reg[_CT]
    while a < 0x8000:
        ct -= 1
        if ct < 0:
            if reg[_MARKER] != 0:
                d = np.int64(0)
            else:
                pos = reg[_POS]
                d = _byte_at(data, pos)
                pos += 1
                if d == 0xFF:
                    d = _byte_at(data, pos)
                    pos += 1
                    while d == 0xFF:  # fill bytes
                        d = _byte_at(data, pos)
                        pos += 1
                    if d == 0:
                        d = np.int64(0xFF)  # stuffed zero
                    else:
                        reg[_MARKER] = d
                        if pos > data.shape[0]:
                            _log(log, state, W_EOF, 0, 0, data.shape[0])
                        d = np.int64(0)
                reg[_POS] = pos
            c = (c << 8) | d
            ct += 8
            if ct < 0:
                ct += 1
                if ct == 0:
                    a = np.int64(0x8000)  # two initial bytes loaded: A becomes 0x10000 below
        a <<= 1
    sv = np.int64(stats[s])
    packed = QE_PACKED[sv & 0x7F]
    qe = packed >> 16
    nm = (packed >> 8) & 0xFF
    nl = packed & 0xFF
    a -= qe
    temp = a << ct
    if c >= temp:
        c -= temp
        if a < qe:  # conditional exchange: the MPS interval was the smaller one
            a = qe
            stats[s] = (sv & 0x80) ^ nm
        else:
            a = qe
            stats[s] = (sv & 0x80) ^ nl
            sv ^= 0x80
    elif a < 0x8000:
        if a < qe:
            stats[s] = (sv & 0x80) ^ nl
            sv ^= 0x80
        else:
            stats[s] = (sv & 0x80) ^ nm
    reg[_A] = a
    reg[_C] = c
    reg[_CT] = ct
    return sv >> 7


@kernel
def _bad_code(reg, log, state):
    """libjpeg's JWRN_ARITH_BAD_CODE: warn and decode nothing more until the next restart."""
    _log(log, state, W_ARITH_BAD_CODE, 0, 0, reg[_POS])
    reg[_CT] = -1


@kernel
def _dc_diff(data, reg, stats, tbl, ctx, ci, dc_l, dc_u, log, state):
    """One DC difference (T.81 F.2.4.1, Figures F.19 and F.21-F.24). Updates the conditioning
    category ``ctx[ci]`` (F.1.4.4.1.2) and returns (ok, diff); ok = 0 after a bad code."""
    base = DC_STATS + tbl * DC_STAT_BINS
    s = base + ctx[ci]  # S0, chosen by the previous difference's category (Table F.4)
    if _decode(data, reg, stats, s, log, state) == 0:
        ctx[ci] = 0
        return 1, np.int64(0)
    sign = _decode(data, reg, stats, s + 1, log, state)  # SS = S0 + 1
    s = s + 2 + sign  # SP = S0 + 2, SN = S0 + 3
    m = _decode(data, reg, stats, s, log, state)
    if m != 0:
        s = base + 20  # X1
        while _decode(data, reg, stats, s, log, state) != 0:
            m <<= 1
            if m == 0x8000:
                _bad_code(reg, log, state)
                return 0, np.int64(0)
            s += 1
    if m < ((np.int64(1) << dc_l[tbl]) >> 1):
        ctx[ci] = 0  # zero difference category
    elif m > ((np.int64(1) << dc_u[tbl]) >> 1):
        ctx[ci] = 12 + sign * 4  # large positive / negative
    else:
        ctx[ci] = 4 + sign * 4  # small positive / negative
    v = m
    s += 14  # M2.. follow X2.. by 14 bins
    m >>= 1
    while m != 0:
        if _decode(data, reg, stats, s, log, state) != 0:
            v |= m
        m >>= 1
    v += 1
    if sign != 0:
        v = -v
    return 1, v


@kernel
def _ac_first(data, reg, stats, coef, row, tbl, ss, se, al, ac_k, natural, log, state):
    """AC coefficients Ss..Se of one block (T.81 F.2.4.2 Figure F.20; G.1.3.2 for a first
    progressive scan, whose values are stored shifted left by Al). Returns 0 after a bad code."""
    base = AC_STATS + tbl * AC_STAT_BINS
    k = ss
    while k <= se:
        s = base + 3 * (k - 1)  # SE of coefficient k
        if _decode(data, reg, stats, s, log, state) != 0:
            break  # end of block
        while _decode(data, reg, stats, s + 1, log, state) == 0:  # S0: zero coefficient
            s += 3
            k += 1
            if k > se:
                _bad_code(reg, log, state)
                return 0
        sign = _decode(data, reg, stats, FIXED_BIN, log, state)
        s += 2  # SP / SN
        m = _decode(data, reg, stats, s, log, state)
        if m != 0:
            if _decode(data, reg, stats, s, log, state) != 0:
                m <<= 1
                s = base + (189 if k <= ac_k[tbl] else 217)  # X2 of the low or high band (F.1.4.4.2)
                while _decode(data, reg, stats, s, log, state) != 0:
                    m <<= 1
                    if m == 0x8000:
                        _bad_code(reg, log, state)
                        return 0
                    s += 1
        v = m
        s += 14
        m >>= 1
        while m != 0:
            if _decode(data, reg, stats, s, log, state) != 0:
                v |= m
            m >>= 1
        v += 1
        if sign != 0:
            v = -v
        coef[row, natural[k & 127]] = (((v << al) + 32768) & 0xFFFF) - 32768  # (JCOEF)((unsigned)v << Al)
        k += 1
    return 1


@kernel
def _ac_refine(data, reg, stats, coef, row, tbl, ss, se, al, natural, log, state):
    """One more bit of AC coefficients Ss..Se of one block (T.81 G.1.3.3, libjpeg's
    decode_mcu_AC_refine). Returns 0 after a bad code."""
    base = AC_STATS + tbl * AC_STAT_BINS
    p1 = np.int64(1) << al
    m1 = -p1
    kex = se  # EOBx: the end of block after the previous stages
    while kex > 0:
        if coef[row, natural[kex & 127]] != 0:
            break
        kex -= 1
    k = ss
    while k <= se:
        s = base + 3 * (k - 1)
        if k > kex:
            if _decode(data, reg, stats, s, log, state) != 0:
                break  # end of block
        while True:
            idx = natural[k & 127]
            cur = np.int64(coef[row, idx])
            if cur != 0:  # previously nonzero: a correction bit
                if _decode(data, reg, stats, s + 2, log, state) != 0:
                    cur = cur + m1 if cur < 0 else cur + p1
                    coef[row, idx] = ((cur + 32768) & 0xFFFF) - 32768
                break
            if _decode(data, reg, stats, s + 1, log, state) != 0:  # newly nonzero
                if _decode(data, reg, stats, FIXED_BIN, log, state) != 0:
                    coef[row, idx] = ((m1 + 32768) & 0xFFFF) - 32768
                else:
                    coef[row, idx] = p1
                break
            s += 3
            k += 1
            if k > se:
                _bad_code(reg, log, state)
                return 0
        k += 1
    return 1


@kernel
def _decode_scan(data, coef, blocks, mcus_x, mcus_y, imcu_div, restart_interval, mode, ss, se, al,
                 dc_l, dc_u, ac_k, stats, natural, state, log):
    """Decode one arithmetic-coded scan into ``coef`` (rows of 64, natural order).

    ``mode``: SEQUENTIAL, DC_FIRST, DC_REFINE, AC_FIRST or AC_REFINE; ``blocks`` describes the MCU
    as for the Huffman kernels (table selectors: DC in B_DCTBL, AC in B_ACTBL minus 4); ``dc_l``,
    ``dc_u``, ``ac_k`` are the 16 conditioning values of each kind in force (DAC, T.81 B.2.4.3);
    ``stats`` the scan's bins (``new_stats``). As libjpeg, the DC coefficient is always stored and an
    AC coefficient only when decoded. Arithmetic decoding never runs out of data (zeros follow a
    marker), so every MCU counts as decoded with data for block smoothing (last_good_iMCU_row).
    """
    reg = np.zeros(5, dtype=np.int64)
    reg[_CT] = -16
    reg[_POS] = state[S_POS]
    reg[_MARKER] = state[S_MARKER]
    discarded = state[S_DISCARDED]
    last_good = state[S_LAST_GOOD]
    last_dc = np.zeros(4, dtype=np.int64)
    ctx = np.zeros(4, dtype=np.int64)
    restarts_to_go = restart_interval
    next_restart = np.int64(0)
    nblocks = blocks.shape[0]
    p1 = np.int64(1) << al
    for mcu_row in range(mcus_y):
        for mcu_col in range(mcus_x):
            last_good = mcu_row // imcu_div
            if restart_interval != 0:
                if restarts_to_go == 0:
                    pos, marker, next_restart, discarded, _unused = _process_restart(
                        data, reg[_POS], np.int64(0), reg[_MARKER], next_restart, discarded, np.int64(0), log, state)
                    reg[_POS] = pos
                    reg[_MARKER] = marker
                    # Reset the bins this scan uses, the DC predictions and the coder (libjpeg resets
                    # exactly the tables of the scan's components; here every bin, which is the same
                    # for the decisions the scan makes).
                    for i in range(STATS_SIZE - 1):
                        stats[i] = 0
                    last_dc[:] = 0
                    ctx[:] = 0
                    reg[_C] = 0
                    reg[_A] = 0
                    reg[_CT] = -16
                    restarts_to_go = restart_interval
                restarts_to_go -= 1
            if mode == DC_REFINE:
                # libjpeg's decode_mcu_DC_refine has no bad-code state: the next bit of each DC
                # value, coded with the fixed 0.5 bin (T.81 G.1.3.1).
                for b in range(nblocks):
                    row = (blocks[b, B_BASE] + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                           + mcu_col * blocks[b, B_H] + blocks[b, B_DX])
                    if _decode(data, reg, stats, FIXED_BIN, log, state) != 0:
                        coef[row, 0] = (((np.int64(coef[row, 0]) | p1) + 32768) & 0xFFFF) - 32768
                continue
            if reg[_CT] == -1:
                continue  # after a bad code, nothing until the next restart
            for b in range(nblocks):
                row = (blocks[b, B_BASE] + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                       + mcu_col * blocks[b, B_H] + blocks[b, B_DX])
                if mode == SEQUENTIAL or mode == DC_FIRST:
                    ci = blocks[b, B_COMP]
                    ok, diff = _dc_diff(data, reg, stats, blocks[b, B_DCTBL], ctx, ci, dc_l, dc_u, log, state)
                    if ok == 0:
                        break
                    last_dc[ci] = (last_dc[ci] + diff) & 0xFFFF
                    coef[row, 0] = (((last_dc[ci] << al) + 32768) & 0xFFFF) - 32768
                    if mode == SEQUENTIAL:
                        if _ac_first(data, reg, stats, coef, row, blocks[b, B_ACTBL] - 4, 1, 63, 0, ac_k, natural,
                                     log, state) == 0:
                            break
                elif mode == AC_FIRST:
                    if _ac_first(data, reg, stats, coef, row, blocks[b, B_ACTBL] - 4, ss, se, al, ac_k, natural,
                                 log, state) == 0:
                        break
                else:
                    if _ac_refine(data, reg, stats, coef, row, blocks[b, B_ACTBL] - 4, ss, se, al, natural,
                                  log, state) == 0:
                        break
    state[S_POS] = reg[_POS]
    state[S_MARKER] = reg[_MARKER]
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    return OK
