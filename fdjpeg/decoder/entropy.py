"""Huffman entropy decoding of sequential scans (T.81 F.2.2; libjpeg-turbo's jdhuff.c), and the bit
reader, restart-marker handling and resynchronisation that progressive.py shares.

The kernels read the file's raw bytes (a uint8 array) directly: byte stuffing (FF 00) is undone on the
fly and a marker ends the entropy-coded segment. The bit buffer is a 64-bit integer refilled to at
least 57 bits, as libjpeg does on 64-bit machines. Reading past the end of the array yields an endless
FF D9 (EOI) pattern: libjpeg's data sources insert exactly this fake EOI when a file is truncated.

Damaged data is handled the way libjpeg-turbo handles it, because the pixel contract covers every file
libjpeg-turbo decodes:

* When a segment ends (a marker is met) before a block is complete, zero bits are supplied, one
  "premature end of data segment" warning is logged for the segment, and the remaining MCUs of the
  restart interval are left untouched (zero). The MCU in which the data ran out *is* decoded, from the
  zero bits, which is why its AC coefficients can come out as runs of -1 with the K.3 tables.
* A bit pattern that is no code of the table consumes 17 bits and decodes as symbol 0, with a
  "bad Huffman code" warning.
* At a restart boundary the expected RSTn is consumed; anything else goes through libjpeg's
  ``jpeg_resync_to_restart`` decision table (jdmarker.c), with its warning.

Kernels never raise: status codes and a small warnings log (``log``, rows of code, a, b, offset) go
back to the Python wrapper, which turns them into exceptions and ``JPEGWarning``s.
"""

from __future__ import annotations

import numpy as np

from ..base import bytes64
from ..base.huffman import FAST_BITS
from ..base.jit import kernel

# --- Slots of the int64 ``state`` array exchanged with the kernels ----------------------------------
S_POS = 0  # offset of the next unread byte
S_MARKER = 1  # marker code read from inside the entropy data and not yet processed (0: none)
S_DISCARDED = 2  # bytes skipped since the last marker (libjpeg's discarded_bytes)
S_NLOG = 3  # number of warnings logged (may exceed the log's capacity)
S_LAST_GOOD = 4  # libjpeg's last_good_iMCU_row: iMCU row of the last MCU started with data left
S_ERROR_POS = 5  # where a kernel stopped with an error status
STATE_SIZE = 8

# --- Resume slots: a ``state`` of RESUME_STATE_SIZE makes _decode_sequential continue a scan -----------
# from MCU row R_ROW0 with the bit buffer, restart countdown and DC predictors a previous call left
# there (and leave them for the next call); banded.py decodes a scan band by band this way.
R_ROW0 = STATE_SIZE  # first MCU row to decode (set to mcus_y on return)
R_LB = STATE_SIZE + 1  # the bit buffer, left-aligned, and its bit count
R_BITS = STATE_SIZE + 2
R_INSUFFICIENT = STATE_SIZE + 3
R_RESTARTS_TO_GO = STATE_SIZE + 4  # (start it at the restart interval)
R_NEXT_RESTART = STATE_SIZE + 5
R_DC = STATE_SIZE + 6  # four slots
RESUME_STATE_SIZE = STATE_SIZE + 10

# --- Warning codes in the log -----------------------------------------------------------------------
W_HIT_MARKER = 1  # entropy data ended early: zero bits supplied
W_BAD_CODE = 2  # no Huffman code matched (or a refinement symbol of size != 1)
W_EXTRANEOUS = 3  # a = bytes skipped, b = the marker found after them
W_RESYNC = 4  # a = marker found, b = restart number expected
W_EOF = 5  # the data ended: the fake EOI was read
LOG_SIZE = 64

# --- Kernel return statuses -------------------------------------------------------------------------
OK = 0
ERR_DC_RANGE = 1  # progressive DC prediction overflowed 32 bits (libjpeg's JERR_BAD_DCT_COEF)

# --- Columns of the per-block MCU description (``blocks`` array, one row per block of the MCU) -------
B_BASE = 0  # first row of the component in the coefficient store
B_STRIDE = 1  # blocks per row of the component's (padded) grid
B_DY = 2  # block position inside the MCU
B_DX = 3
B_H = 4  # blocks per MCU horizontally / vertically for this component (1 in non-interleaved scans)
B_V = 5
B_COMP = 6  # index of the component inside the scan (its DC predictor)
B_DCTBL = 7  # decoder table slot for DC (0..3) and AC (4..7)
B_ACTBL = 8
B_COLUMNS = 9

#: libjpeg's MIN_GET_BITS for a 64-bit bit buffer: refills stop once this many bits are buffered.
_MIN_GET_BITS = 57


@kernel
def _byte_at(data, pos):
    """data[pos], or the FF D9 pattern that libjpeg's sources supply past the end of the file."""
    n = data.shape[0]
    if pos < n:
        return np.int64(data[pos])
    if (pos - n) & 1:
        return np.int64(0xD9)
    return np.int64(0xFF)


@kernel
def _log(log, state, code, a, b, offset):
    i = state[S_NLOG]
    if i < log.shape[0]:
        log[i, 0] = code
        log[i, 1] = a
        log[i, 2] = b
        log[i, 3] = offset
    state[S_NLOG] = i + 1


@kernel
def _fill(data, pos, buf, bits, marker, log, state):
    """Load whole bytes into the bit buffer until it holds 57 bits or a marker ends the segment
    (jpeg_fill_bit_buffer). FF 00 is a data byte FF; FF followed by more FFs then 00 is too (libjpeg's
    leniency); FF followed by anything else is a marker, consumed and remembered in ``marker``."""
    if marker != 0:
        return pos, buf, bits, marker
    n = data.shape[0]
    while bits < _MIN_GET_BITS:
        if 0 <= pos < n:  # _byte_at, written out: this loop runs for every byte near an FF
            c = np.int64(data[pos])
        else:
            c = _byte_at(data, pos)
        pos += 1
        if c == 0xFF:
            c2 = _byte_at(data, pos)
            pos += 1
            while c2 == 0xFF:
                c2 = _byte_at(data, pos)
                pos += 1
            if c2 != 0:
                marker = c2
                if pos > data.shape[0]:
                    _log(log, state, W_EOF, 0, 0, data.shape[0])
                break
        buf = (buf << 8) | c
        bits += 8
    return pos, buf, bits, marker


@kernel
def _zero_fill(pos, buf, bits, insufficient, log, state):
    """The segment is exhausted: append zero bits, warning once per segment (libjpeg's no_more_bytes)."""
    if insufficient == 0:
        _log(log, state, W_HIT_MARKER, 0, 0, pos)
        insufficient = 1
    return buf << (_MIN_GET_BITS - bits), np.int64(_MIN_GET_BITS), insufficient


@kernel
def _get_bits(data, pos, buf, bits, marker, insufficient, n, log, state):
    """Take the next n (1..16) bits as an unsigned value."""
    if bits < n:
        pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
        if bits < n:
            buf, bits, insufficient = _zero_fill(pos, buf, bits, insufficient, log, state)
    bits -= n
    value = (buf >> bits) & ((1 << n) - 1)
    return value, pos, buf, bits, marker, insufficient


@kernel
def _decode_slow(data, pos, buf, bits, marker, insufficient, t, size, maxcode, valoffset, huffval, log, state):
    """T.81 Figure F.16 from a code length of ``size`` on, one bit at a time (libjpeg's
    jpeg_huff_decode, refilling only when the buffer runs dry). No code within 16 bits: 17 bits are
    consumed and symbol 0 returned, with a "bad Huffman code" warning."""
    code, pos, buf, bits, marker, insufficient = _get_bits(data, pos, buf, bits, marker, insufficient, size, log, state)
    while size <= 16 and code > maxcode[t, size]:
        bit, pos, buf, bits, marker, insufficient = _get_bits(data, pos, buf, bits, marker, insufficient, 1, log, state)
        code = (code << 1) | bit
        size += 1
    if size > 16:
        _log(log, state, W_BAD_CODE, 0, 0, pos)
        return np.int64(0), pos, buf, bits, marker, insufficient
    return np.int64(huffval[t, (code + valoffset[t, size]) & 0xFF]), pos, buf, bits, marker, insufficient


@kernel
def _decode_symbol(data, pos, buf, bits, marker, insufficient, t, lookup, maxcode, valoffset, huffval, log, state):
    """Decode one Huffman symbol with table slot t (T.81 F.2.2.3), as libjpeg's HUFF_DECODE does.

    Codes of up to 9 bits are read from ``lookup`` when the buffer holds them; anything else goes
    through the bit-serial path. The refills happen exactly where libjpeg's happen, so the reader
    stops at the same byte and the byte counts in warnings agree with libjpeg-turbo's.
    """
    if bits < 8:
        pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
        if bits < 8:  # a marker ended the segment: bit by bit, zeros once the data is gone
            return _decode_slow(
                data, pos, buf, bits, marker, insufficient, t, 1, maxcode, valoffset, huffval, log, state
            )
    if bits >= 9:
        look = (buf >> (bits - 9)) & 0x1FF
    else:
        look = (buf << 1) & 0x1FF
    entry = lookup[t, look]
    length = entry >> 8
    if entry != 0 and length <= bits:
        return np.int64(entry & 0xFF), pos, buf, bits - length, marker, insufficient
    return _decode_slow(data, pos, buf, bits, marker, insufficient, t, 9, maxcode, valoffset, huffval, log, state)


@kernel
def _extend(value, size):
    """T.81 Figure F.12: a size-bit magnitude category value to its signed coefficient."""
    if value < (1 << (size - 1)):
        return value - (1 << size) + 1
    return value


@kernel
def _next_marker(data, pos, discarded, log, state):
    """Find the next marker from pos (jdmarker.c next_marker): skip non-FF bytes and stuffed FF 00
    pairs, counting them as extraneous, swallow fill FFs. Returns (pos after the marker, code, discarded)."""
    while True:
        c = _byte_at(data, pos)
        pos += 1
        while c != 0xFF:
            discarded += 1
            c = _byte_at(data, pos)
            pos += 1
        c = _byte_at(data, pos)
        pos += 1
        while c == 0xFF:
            c = _byte_at(data, pos)
            pos += 1
        if c != 0:
            break
        discarded += 2
    if pos > data.shape[0]:
        _log(log, state, W_EOF, 0, 0, data.shape[0])
    if discarded != 0:
        _log(log, state, W_EXTRANEOUS, discarded, c, pos - 2)
        discarded = 0
    return pos, c, discarded


@kernel
def _resync(data, pos, marker, desired, discarded, log, state):
    """jdmarker.c jpeg_resync_to_restart: ``marker`` was found where RST<desired> was expected.

    A marker that is not a valid code (< SOF0) or a restart marker one or two steps behind is skipped
    and the search goes on; one of the next two restart markers, or any other valid marker, is left
    unread so that the coming restart interval decodes as empty (zeros); a restart marker further away
    is discarded and decoding resumes right after it.
    """
    _log(log, state, W_RESYNC, marker, desired, pos)
    while True:
        if marker < 0xC0:
            action = 2
        elif marker < 0xD0 or marker > 0xD7:
            action = 3
        elif marker == 0xD0 + ((desired + 1) & 7) or marker == 0xD0 + ((desired + 2) & 7):
            action = 3
        elif marker == 0xD0 + ((desired - 1) & 7) or marker == 0xD0 + ((desired - 2) & 7):
            action = 2
        else:
            action = 1
        if action == 1:
            return pos, np.int64(0), discarded
        if action == 3:
            return pos, marker, discarded
        pos, marker, discarded = _next_marker(data, pos, discarded, log, state)


@kernel
def _process_restart(data, pos, bits, marker, next_restart, discarded, insufficient, log, state):
    """End of a restart interval (jdhuff.c process_restart + read_restart_marker).

    Leftover whole bytes in the bit buffer count as discarded; the expected RSTn is consumed, or the
    resync rules decide. The out-of-data flag is cleared unless a marker is still pending (then the
    next interval has no data at all). The caller resets the bit buffer and the predictions.
    """
    discarded += bits // 8
    if marker == 0:
        pos, marker, discarded = _next_marker(data, pos, discarded, log, state)
    if marker == 0xD0 + next_restart:
        marker = np.int64(0)
    else:
        pos, marker, discarded = _resync(data, pos, marker, next_restart, discarded, log, state)
    next_restart = (next_restart + 1) & 7
    if marker == 0:
        insufficient = np.int64(0)
    return pos, marker, next_restart, discarded, insufficient


@kernel
def _block_row(blocks, b, mcu_row, mcu_col):
    """Row in the coefficient store of block b of the MCU at (mcu_row, mcu_col) (T.81 A.2.3)."""
    return (
        blocks[b, B_BASE]
        + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
        + mcu_col * blocks[b, B_H]
        + blocks[b, B_DX]
    )


#: For the word-at-a-time refill: a uint64 of 0x01 bytes, and of 0x80 bytes as an int64.
_ONES = np.int64(0x0101010101010101)
_HIGHS = np.int64(-0x7F7F7F7F7F7F7F80)
_LOW56 = np.int64(0x00FFFFFFFFFFFFFF)

_FAST_MASK = (1 << FAST_BITS) - 1


@kernel
def _decode_sequential(
    data,
    coef,
    blocks,
    mcus_x,
    mcus_y,
    imcu_div,
    restart_interval,
    lookup,
    maxcode,
    valoffset,
    huffval,
    fast,
    natural,
    state,
    log,
):
    """Decode one sequential (baseline or extended Huffman) scan into ``coef`` (rows of 64, natural order).

    Like libjpeg, the DC coefficient is always stored and an AC coefficient only when it is nonzero,
    so a component coded twice keeps the first scan's values where the second has zeros. ``natural``
    is the zigzag table padded with 63s to 128 uint8 entries and indexed with ``k & 127``: a corrupt
    run past the block's end lands on coefficient 63, and no index needs a negative-index check.

    The bit buffer is refilled at exactly the points where the bit-serial helpers refill it (before a
    symbol when fewer than 8 bits are buffered, before value bits when fewer than needed), so the
    reader's position, and every byte count and offset reported, are the helpers'. What is fast:

    * the refill loads 7 or 8 bytes in one step when none of the next 8 is 0xFF (no stuffing, no
      marker, not near the end of the data); otherwise ``_fill`` goes byte by byte;
    * ``fast`` (huffman.fast_lookup) decodes a code and its value bits with one table read whenever
      the buffer holds them all, which is exactly when the helpers would not refill in between;
      codes up to FAST_BITS long with longer values take the code from the same entry;
    * an AC code longer than FAST_BITS is walked here (``_decode_slow``'s walk from 9 bits) when 16
      bits are buffered, so that no refill can fall inside it.

    Everything else (codes cut by a refill, bad codes, data running out) goes through
    ``_decode_symbol`` / ``_get_bits``. Numba does not inline those helpers, so the common paths are
    written out here.

    Measured and not kept (6.3 MP q75, one thread): a second table giving one or two coefficients per
    read (both whole within FAST_BITS, 8 or more bits left after them) cut table reads per AC symbol to
    0.68 but changed the time by 0.99-1.02x at q50/q75/q90: the loop is bound by its instruction count
    and branch misses (a flat image, one DC and one EOB per block, already costs ~16 ns a block), not
    by the shift -> read -> shift chain. Store rows computed once per MCU row: within noise.

    Here the buffer is held left-aligned (``lb``: the next ``bits`` bits of the stream at the top, zeros
    below), so that a table index is one shift of ``lb`` and consuming n bits is ``lb <<= n``: a
    shorter dependency chain per symbol than the helpers' right-aligned ``buf``. ``lb`` is converted
    to ``buf`` and back around every helper call.

    With a ``state`` of RESUME_STATE_SIZE slots the call decodes MCU rows [state[R_ROW0], mcus_y) and
    keeps what a sequential pass carries from MCU to MCU in the R_* slots, for the next call.
    """
    n = data.shape[0]
    pos = state[S_POS]
    marker = state[S_MARKER]
    discarded = state[S_DISCARDED]
    last_good = state[S_LAST_GOOD]
    lb = np.int64(0)  # the buffered bits, left-aligned (see the docstring)
    bits = np.int64(0)
    insufficient = np.int64(0)
    last_dc = np.zeros(4, dtype=np.int64)
    restarts_to_go = restart_interval
    next_restart = np.int64(0)
    row0 = np.int64(0)
    resume = state.shape[0] >= RESUME_STATE_SIZE
    if resume:
        row0 = state[R_ROW0]
        lb = state[R_LB]
        bits = state[R_BITS]
        insufficient = state[R_INSUFFICIENT]
        restarts_to_go = state[R_RESTARTS_TO_GO]
        next_restart = state[R_NEXT_RESTART]
        for c in range(4):
            last_dc[c] = state[R_DC + c]
    nblocks = blocks.shape[0]
    for mcu_row in range(row0, mcus_y):
        row_good = mcu_row // imcu_div
        for mcu_col in range(mcus_x):
            if insufficient == 0:
                last_good = row_good
            if restart_interval != 0:
                if restarts_to_go == 0:
                    pos, marker, next_restart, discarded, insufficient = _process_restart(
                        data, pos, bits, marker, next_restart, discarded, insufficient, log, state
                    )
                    lb = np.int64(0)
                    bits = np.int64(0)
                    last_dc[:] = 0
                    restarts_to_go = restart_interval
                restarts_to_go -= 1
            if insufficient != 0:
                continue  # out of data: the rest of the interval stays zero
            for b in range(nblocks):
                row = (
                    blocks[b, B_BASE]
                    + (mcu_row * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                    + mcu_col * blocks[b, B_H]
                    + blocks[b, B_DX]
                )
                # T.81 F.2.2.1: DC difference.
                t = blocks[b, B_DCTBL]
                if bits < 8:  # refill (jpeg_fill_bit_buffer), 7-8 bytes at once when no FF is near
                    if marker == 0 and pos >= 0 and pos + 8 <= n:
                        w = bytes64.load_be64(data, pos)  # data[pos:pos + 8], big-endian
                        x = ~w
                        if ((x - _ONES) & ~x & _HIGHS) == 0:
                            if bits == 0:
                                lb = w
                                bits = np.int64(64)
                                pos += 8
                            else:
                                lb |= ((w >> 8) & _LOW56) << (8 - bits)
                                bits += 56
                                pos += 7
                        else:
                            buf = lb >> ((64 - bits) & 63)
                            pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                            lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                    else:
                        buf = lb >> ((64 - bits) & 63)
                        pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                        lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                e = np.int64(fast[t, (lb >> (64 - FAST_BITS)) & _FAST_MASK])
                tl = (e >> 12) & 15
                if tl != 0 and tl <= bits:
                    lb <<= tl
                    bits -= tl
                    diff = e >> 16
                else:
                    cl = (e >> 8) & 15
                    if cl != 0 and cl <= bits:
                        lb <<= cl
                        bits -= cl
                        s = e & 0xFF
                    else:
                        buf = lb >> ((64 - bits) & 63)
                        s, pos, buf, bits, marker, insufficient = _decode_symbol(
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
                        lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                    diff = np.int64(0)
                    if s != 0:
                        if bits >= s:
                            v = (lb >> (64 - s)) & ((np.int64(1) << s) - 1)
                            lb <<= s
                            bits -= s
                        else:
                            buf = lb >> ((64 - bits) & 63)
                            v, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, s, log, state
                            )
                            lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                        diff = v
                        if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                            diff = v - (np.int64(1) << s) + 1
                ci = blocks[b, B_COMP]
                dc = last_dc[ci] + diff
                dc = ((dc + 2147483648) & 0xFFFFFFFF) - 2147483648  # C int arithmetic
                last_dc[ci] = dc
                coef[row, 0] = ((dc + 32768) & 0xFFFF) - 32768  # (JCOEF)
                # T.81 F.2.2.2: AC run/size symbols.
                t = blocks[b, B_ACTBL]
                k = 1
                while k < 64:
                    if bits < 8:  # refill, as above
                        if marker == 0 and pos >= 0 and pos + 8 <= n:
                            w = bytes64.load_be64(data, pos)  # data[pos:pos + 8], big-endian
                            x = ~w
                            if ((x - _ONES) & ~x & _HIGHS) == 0:
                                if bits == 0:
                                    lb = w
                                    bits = np.int64(64)
                                    pos += 8
                                else:
                                    lb |= ((w >> 8) & _LOW56) << (8 - bits)
                                    bits += 56
                                    pos += 7
                            else:
                                buf = lb >> ((64 - bits) & 63)
                                pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                                lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                        else:
                            buf = lb >> ((64 - bits) & 63)
                            pos, buf, bits, marker = _fill(data, pos, buf, bits, marker, log, state)
                            lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                    e = np.int64(fast[t, (lb >> (64 - FAST_BITS)) & _FAST_MASK])
                    tl = (e >> 12) & 15
                    if tl != 0 and tl <= bits:
                        lb <<= tl
                        bits -= tl
                        if (e & 15) != 0:
                            k += (e >> 4) & 15
                            coef[row, natural[k & 127]] = e >> 16
                            k += 1
                            continue
                        if (e & 0xFF) != 0xF0:
                            break  # EOB
                        k += 16  # ZRL
                        continue
                    cl = (e >> 8) & 15
                    size = np.int64(17)
                    code = np.int64(0)
                    if cl == 0 and bits >= 16:  # a code longer than FAST_BITS: _decode_slow's walk from 9
                        size = np.int64(9)  # bits, here (no refill: a code of up to 16 bits is buffered)
                        code = (lb >> 55) & 0x1FF
                        while size <= 16 and code > maxcode[t, size]:
                            size += 1
                            code = (lb >> (64 - size)) & ((np.int64(1) << size) - 1)
                    if cl != 0 and cl <= bits:
                        lb <<= cl
                        bits -= cl
                        rs = e & 0xFF
                    elif size <= 16:
                        lb <<= size
                        bits -= size
                        rs = np.int64(huffval[t, (code + valoffset[t, size]) & 0xFF])
                    else:  # bits run short or no code: the helpers (refills, zero bits, warnings)
                        buf = lb >> ((64 - bits) & 63)
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
                        lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                    r = rs >> 4
                    s = rs & 15
                    if s != 0:
                        k += r
                        if bits >= s:
                            v = (lb >> (64 - s)) & ((np.int64(1) << s) - 1)
                            lb <<= s
                            bits -= s
                        else:
                            buf = lb >> ((64 - bits) & 63)
                            v, pos, buf, bits, marker, insufficient = _get_bits(
                                data, pos, buf, bits, marker, insufficient, s, log, state
                            )
                            lb = (buf << ((64 - bits) & 63)) if bits != 0 else np.int64(0)
                        if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                            v = v - (np.int64(1) << s) + 1
                        coef[row, natural[k & 127]] = v
                    else:
                        if r != 15:
                            break  # EOB
                        k += 15  # ZRL
                    k += 1
    state[S_POS] = pos
    state[S_MARKER] = marker
    state[S_DISCARDED] = discarded
    state[S_LAST_GOOD] = last_good
    if resume:
        state[R_ROW0] = max(mcus_y, row0)
        state[R_LB] = lb
        state[R_BITS] = bits
        state[R_INSUFFICIENT] = insufficient
        state[R_RESTARTS_TO_GO] = restarts_to_go
        state[R_NEXT_RESTART] = next_restart
        for c in range(4):
            state[R_DC + c] = last_dc[c]
    return OK
