"""Arithmetic entropy encoding of a sequential scan (T.81 Annex D and F.1.4; libjpeg-turbo's jcarith.c),
byte-identical to ``cjpeg -arithmetic``.

The kernel reads the scan's blocks in transmission order, as the Huffman encoder does (a (blocks, 64)
int16 array in natural order whose consecutive groups of ``len(comp_in_mcu)`` rows are the MCUs).
Each coefficient is turned into binary decisions by the statistical model of F.1.4.4 (the same bins
as arithmetic_decode.py), and each decision is coded by the QM coder of Annex D:

* ENCODE (D.1.4, Figures D.3-D.6): the MPS takes the lower A - Qe of the interval, the LPS the upper
  Qe; when the MPS part comes out smaller, the two are exchanged (conditional exchange, D.1.5);
* RENORME (D.1.6, Figure D.8): A and C are doubled until A >= 0x8000; every 8 shifts a byte leaves C;
* BYTEOUT (D.1.7, Figure D.9): a byte is held back while a carry could still reach it; 0xFF bytes
  are stacked (``sc``) until it is known whether a carry turns them into 0x00s; every written 0xFF
  is followed by a stuffed 0x00. libjpeg also holds back 0x00 bytes (``zc``) and drops them if the
  segment ends first: its "Pacman" termination, the optional Discard_final_zeros of Figure D.15;
* FLUSH (D.1.8, Figure D.11): C is set to the value in the final interval with the most trailing
  zero bits, and only the bytes of it that are not zero are written.

A restart marker ends the segment (FLUSH), and resets the bins, the DC predictions and the coder
(D.1.1 INITENC: A = 0x10000, C = 0, CT = 11). Nothing here can fail for valid coefficients; the
output buffer is only written while it has room, and the wrapper reruns with the exact size when the
first estimate was short.
"""

from __future__ import annotations

import numpy as np

from ..base.arithmetic import (
    AC_STAT_BINS,
    AC_STATS,
    DC_STAT_BINS,
    DC_STATS,
    DEFAULT_AC_K,
    DEFAULT_DC_L,
    DEFAULT_DC_U,
    FIXED_BIN,
    NUM_ARITH_TBLS,
    QE_PACKED,
    STATS_SIZE,
    new_stats,
)
from ..base.jit import kernel
from ..base.zigzag import ZIGZAG

# Slots of the coder's state array ``e``.
_C = 0  # C register (T.81 D.1.3 layout: 3 spacer bits, 8 output bits, 16 fraction bits)
_A = 1  # interval size
_SC = 2  # stacked 0xFF bytes a carry may still change
_ZC = 3  # pending 0x00 bytes, dropped if the segment ends first
_CT = 4  # shifts left before the next byte leaves C
_BUFFER = 5  # the last byte other than 0xFF, held back for a carry (-1: none)
_POS = 6  # bytes produced so far
_STATE_SIZE = 7


@kernel
def _emit(out, e, value):
    """Append one byte (counted even when ``out`` is full, so that the caller learns the size)."""
    p = e[_POS]
    if p < out.shape[0]:
        out[p] = value
    e[_POS] = p + 1


@kernel
def _emit_zeros(out, e):
    """Write the pending 0x00 bytes: a nonzero byte follows them."""
    while e[_ZC] > 0:
        _emit(out, e, 0)
        e[_ZC] -= 1


@kernel
def _emit_buffer(out, e):
    """Write the held-back byte and the stacked 0xFFs (each stuffed): no carry can reach them any more.
    A held-back 0x00 becomes a pending zero instead."""
    if e[_BUFFER] == 0:
        e[_ZC] += 1
    elif e[_BUFFER] >= 0:
        _emit_zeros(out, e)
        _emit(out, e, e[_BUFFER])
    if e[_SC] != 0:
        _emit_zeros(out, e)
        while e[_SC] > 0:
            _emit(out, e, 0xFF)
            _emit(out, e, 0x00)
            e[_SC] -= 1


@kernel
def _carry(out, e):
    """A carry out of C: the held-back byte grows by one (stuffed if it becomes 0xFF), and the
    stacked 0xFFs become pending 0x00s."""
    if e[_BUFFER] >= 0:
        _emit_zeros(out, e)
        _emit(out, e, e[_BUFFER] + 1)
        if e[_BUFFER] + 1 == 0xFF:
            _emit(out, e, 0x00)
    e[_ZC] += e[_SC]
    e[_SC] = 0


@kernel
def _encode(out, e, stats, s, val):
    """Code decision ``val`` (0 or 1) with statistics bin ``s`` (T.81 D.1.4-D.1.7; jcarith.c arith_encode)."""
    sv = np.int64(stats[s])
    packed = QE_PACKED[sv & 0x7F]
    qe = packed >> 16
    nm = (packed >> 8) & 0xFF
    nl = packed & 0xFF
    a = e[_A] - qe
    c = e[_C]
    if val != (sv >> 7):  # the less probable symbol
        if a >= qe:
            c += a
            a = qe
        stats[s] = (sv & 0x80) ^ nl
    else:
        if a >= 0x8000:
            e[_A] = a
            return  # no renormalisation needed
        if a < qe:
            c += a
            a = qe
        stats[s] = (sv & 0x80) ^ nm
    ct = e[_CT]
    while True:  # RENORME
        a <<= 1
        c <<= 1
        ct -= 1
        if ct == 0:
            temp = c >> 19
            if temp > 0xFF:
                _carry(out, e)
                e[_BUFFER] = temp & 0xFF  # the spacer bits keep this below 0xFF
            elif temp == 0xFF:
                e[_SC] += 1
            else:
                _emit_buffer(out, e)
                e[_BUFFER] = temp
            c &= 0x7FFFF
            ct += 8
        if a >= 0x8000:
            break
    e[_A] = a
    e[_C] = c
    e[_CT] = ct


@kernel
def _flush(out, e):
    """End of a segment (T.81 D.1.8; jcarith.c finish_pass)."""
    c = e[_C]
    temp = (e[_A] - 1 + c) & 0xFFFF0000
    if temp < c:
        c = temp + 0x8000
    else:
        c = temp
    c <<= e[_CT]
    if c & 0xF8000000:
        _carry(out, e)
    else:
        _emit_buffer(out, e)
    if c & 0x7FFF800:  # the final bytes, unless they are zero
        _emit_zeros(out, e)
        _emit(out, e, (c >> 19) & 0xFF)
        if ((c >> 19) & 0xFF) == 0xFF:
            _emit(out, e, 0x00)
        if c & 0x7F800:
            _emit(out, e, (c >> 11) & 0xFF)
            if ((c >> 11) & 0xFF) == 0xFF:
                _emit(out, e, 0x00)


@kernel
def _reset(e, stats):
    """INITENC (T.81 D.1.1): fresh bins (the fixed bin keeps its state 113) and coder."""
    for i in range(STATS_SIZE - 1):
        stats[i] = 0
    e[_C] = 0
    e[_A] = 0x10000
    e[_SC] = 0
    e[_ZC] = 0
    e[_CT] = 11
    e[_BUFFER] = -1


@kernel
def _emit_restart(out, e, stats, last_dc, ctx, next_restart):
    """jcarith.c emit_restart: flush the coder, write RSTn, and reset the statistics, the coder, the DC
    predictions and the DC contexts of every component."""
    _flush(out, e)
    _emit(out, e, 0xFF)
    _emit(out, e, 0xD0 + next_restart)
    _reset(e, stats)
    last_dc[:] = 0
    ctx[:] = 0


@kernel
def _encode_sequential(blocks, comp_in_mcu, dc_tbl, ac_tbl, dc_l, dc_u, ac_k, restart_interval, natural, stats, out):
    """Code every MCU of a sequential scan (jcarith.c encode_mcu, with emit_restart and finish_pass);
    returns the number of bytes the scan needs (written to ``out`` as far as it has room)."""
    e = np.zeros(_STATE_SIZE, dtype=np.int64)
    _reset(e, stats)
    bpm = comp_in_mcu.shape[0]
    nmcu = blocks.shape[0] // bpm
    last_dc = np.zeros(4, dtype=np.int64)
    ctx = np.zeros(4, dtype=np.int64)
    restarts_to_go = restart_interval
    next_restart = 0
    for mcu in range(nmcu):
        if restart_interval != 0:
            if restarts_to_go == 0:
                _emit_restart(out, e, stats, last_dc, ctx, next_restart)
                restarts_to_go = restart_interval
                next_restart = (next_restart + 1) & 7
            restarts_to_go -= 1
        for kk in range(bpm):
            b = mcu * bpm + kk
            ci = comp_in_mcu[kk]
            # T.81 F.1.4.1 and F.1.4.4.1: the DC difference (Figure F.4 Encode_DC_DIFF).
            tbl = dc_tbl[ci]
            base = DC_STATS + tbl * DC_STAT_BINS
            s = base + ctx[ci]  # S0 (Table F.4)
            v = np.int64(blocks[b, 0]) - last_dc[ci]
            if v == 0:
                _encode(out, e, stats, s, 0)
                ctx[ci] = 0
            else:
                last_dc[ci] = np.int64(blocks[b, 0])
                _encode(out, e, stats, s, 1)
                if v > 0:  # Figure F.7: the sign in SS = S0 + 1
                    _encode(out, e, stats, s + 1, 0)
                    s += 2  # SP
                    ctx[ci] = 4
                else:
                    v = -v
                    _encode(out, e, stats, s + 1, 1)
                    s += 3  # SN
                    ctx[ci] = 8
                m = 0  # Figure F.8: the magnitude category of v - 1
                v -= 1
                if v != 0:
                    _encode(out, e, stats, s, 1)
                    m = 1
                    v2 = v >> 1
                    s = base + 20  # X1
                    while v2 != 0:
                        _encode(out, e, stats, s, 1)
                        m <<= 1
                        s += 1
                        v2 >>= 1
                _encode(out, e, stats, s, 0)
                if m < ((1 << dc_l[tbl]) >> 1):  # F.1.4.4.1.2: conditioning category
                    ctx[ci] = 0
                elif m > ((1 << dc_u[tbl]) >> 1):
                    ctx[ci] += 8
                s += 14  # Figure F.9: the bits below the top one, in M bins
                m >>= 1
                while m != 0:
                    _encode(out, e, stats, s, 1 if (m & v) != 0 else 0)
                    m >>= 1
            # T.81 F.1.4.2 and F.1.4.4.2: AC coefficients (Figure F.5 Encode_AC_Coefficients).
            tbl = ac_tbl[ci]
            base = AC_STATS + tbl * AC_STAT_BINS
            ke = 63  # the end of block
            while ke > 0 and blocks[b, natural[ke]] == 0:
                ke -= 1
            k = 1
            while k <= ke:
                s = base + 3 * (k - 1)  # SE: not the end of block
                _encode(out, e, stats, s, 0)
                v = np.int64(blocks[b, natural[k]])
                while v == 0:  # S0: zero coefficients
                    _encode(out, e, stats, s + 1, 0)
                    s += 3
                    k += 1
                    v = np.int64(blocks[b, natural[k]])
                _encode(out, e, stats, s + 1, 1)
                if v > 0:  # the sign, with the fixed 0.5 bin
                    _encode(out, e, stats, FIXED_BIN, 0)
                else:
                    v = -v
                    _encode(out, e, stats, FIXED_BIN, 1)
                s += 2
                m = 0
                v -= 1
                if v != 0:
                    _encode(out, e, stats, s, 1)
                    m = 1
                    v2 = v >> 1
                    if v2 != 0:
                        _encode(out, e, stats, s, 1)
                        m <<= 1
                        s = base + (189 if k <= ac_k[tbl] else 217)  # X2 of the low or high band
                        v2 >>= 1
                        while v2 != 0:
                            _encode(out, e, stats, s, 1)
                            m <<= 1
                            s += 1
                            v2 >>= 1
                _encode(out, e, stats, s, 0)
                s += 14
                m >>= 1
                while m != 0:
                    _encode(out, e, stats, s, 1 if (m & v) != 0 else 0)
                    m >>= 1
                k += 1
            if k <= 63:
                _encode(out, e, stats, base + 3 * (k - 1), 1)  # end of block
    _flush(out, e)
    return e[_POS]


_NATURAL = np.ascontiguousarray(ZIGZAG, dtype=np.int64)
_NATURAL.setflags(write=False)


def conditioning(dc_tables, ac_tables) -> tuple[np.ndarray, np.ndarray, np.ndarray, bytes]:
    """libjpeg's default conditioning (DC L=0 U=1, AC Kx=5, jcparam.c) and the DAC payload cjpeg
    writes for the tables a scan uses (jcmarker.c emit_dac: per table number, DC then AC)."""
    dc_l = np.full(NUM_ARITH_TBLS, DEFAULT_DC_L, np.int64)
    dc_u = np.full(NUM_ARITH_TBLS, DEFAULT_DC_U, np.int64)
    ac_k = np.full(NUM_ARITH_TBLS, DEFAULT_AC_K, np.int64)
    payload = bytearray()
    for t in range(NUM_ARITH_TBLS):
        if t in dc_tables:
            payload += bytes((t, int(dc_l[t]) | (int(dc_u[t]) << 4)))
        if t in ac_tables:
            payload += bytes((0x10 + t, int(ac_k[t])))
    return dc_l, dc_u, ac_k, bytes(payload)


def encode_scan_arithmetic(blocks, comp_in_mcu, dc_tbl, ac_tbl, dc_l, dc_u, ac_k, restart_interval) -> bytes:
    """Entropy-coded segment(s) of one sequential arithmetic-coded scan, RSTn markers included.

    ``blocks``: (n, 64) int16 in transmission order and natural order; ``dc_tbl``/``ac_tbl``: the
    table number (0..15) of each scan component; ``dc_l``, ``dc_u``, ``ac_k``: the conditioning of
    the 16 tables (as written in DAC).
    """
    blocks = np.ascontiguousarray(blocks, dtype=np.int16)
    comp_in_mcu = np.asarray(comp_in_mcu, np.int64)
    dc_tbl = np.asarray(dc_tbl, np.int64)
    ac_tbl = np.asarray(ac_tbl, np.int64)
    capacity = 1024 + blocks.shape[0] * 16
    while True:
        out = np.empty(capacity, np.uint8)
        size = int(
            _encode_sequential(
                blocks, comp_in_mcu, dc_tbl, ac_tbl, dc_l, dc_u, ac_k, int(restart_interval), _NATURAL, new_stats(), out
            )
        )
        if size <= capacity:
            return out[:size].tobytes()
        capacity = size
