"""Huffman entropy encoding of a sequential scan (T.81 F.1.2, libjpeg's jchuff.c).

The kernels read the scan's blocks already in transmission order: a (blocks, 64) int16 array whose
consecutive groups of ``len(comp_in_mcu)`` rows are the MCUs, ``comp_in_mcu[i]`` naming the scan
component of the i-th block of every MCU. ``transmission_order`` gives that order for per-component
block grids (interleaved MCU order, T.81 A.2.3; a single-component scan is raster order, A.2.2).

Parallel coding: the MCUs are cut into one chunk per thread. A chunk's DC predictors are known
before coding (the DC of the previous block of each component, or 0 after a restart), so chunks
are coded independently. Without restart markers each chunk is coded as raw bits, without byte
stuffing, and ``_stitch`` joins the bit strings and stuffs; with restart markers the chunks are cut
at interval boundaries, coded as finished byte-aligned segments and joined with the RSTn markers
between them. Either way the bytes are those of one sequential pass.

Kernels report problems with status codes (never exceptions): see ``STATUS_*``.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

from ..base.huffman import encoder_lookup
from ..base.jit import kernel, parallel_kernel, prange, use_threads
from .huff_vec import store_be64, zigzag_block

STATUS_OK = 0
STATUS_NEED_SPACE = 1  # output buffer nearly full: grow it and call again (state is kept)
STATUS_BAD_COEF = -1  # a coefficient (or DC difference) too large for 8-bit baseline
STATUS_NO_CODE = -2  # a symbol the Huffman table has no code for

# Worst case for one block: DC 16+11 bits, 63 AC symbols of 16+10 bits, every byte stuffed.
MAX_BLOCK_BYTES = 2 * ((16 + 11 + 63 * (16 + 10)) // 8 + 1)

# Entropy state carried between kernel calls, as int64 slots.
S_NEXT = 0  # index of the next MCU to encode
S_BUF = 1  # bit accumulator
S_BITS = 2  # number of valid bits in the accumulator
S_RST_TO_GO = 3  # MCUs left before the next restart marker
S_RST_NUM = 4  # number (0..7) of the next RSTn
S_PRED = 5  # DC predictors, one slot per scan component (up to 4)
STATE_SIZE = S_PRED + 4


def components_in_mcu(sampling) -> np.ndarray:
    """Scan component of each block of an MCU: component c contributes h*v consecutive blocks."""
    return np.repeat(np.arange(len(sampling), dtype=np.int64), [h * v for h, v in sampling])


@kernel
def _category(mag):
    """Magnitude category SSSS of T.81 F.1.2.1.1: the number of bits in |x|."""
    return 0 if mag == 0 else 64 - np.int64(leading_zeros(np.uint64(mag)))


@kernel
def _start_state(blocks, comp_in_mcu, restart_interval, m0, state):
    """Entropy state for coding from MCU m0: predictors are the DCs of the previous block of each
    component (0 at the start of a restart interval), restart counters as a sequential pass has them."""
    state[:] = 0
    state[S_NEXT] = m0
    bpm = comp_in_mcu.shape[0]
    if restart_interval > 0:
        state[S_RST_TO_GO] = restart_interval - m0 % restart_interval if m0 % restart_interval else restart_interval
        state[S_RST_NUM] = (m0 // restart_interval) & 7
        if m0 % restart_interval == 0:
            return
    if m0 > 0:
        for i in range(bpm):
            state[S_PRED + comp_in_mcu[i]] = blocks[(m0 - 1) * bpm + i, 0]


@kernel
def _gather_range(blocks, comp_in_mcu, dc_tbl, ac_tbl, restart_interval, m0, m1, dc_freq, ac_freq):
    """First pass of ``optimize_coding`` over MCUs m0..m1-1: count DC categories and AC run/size
    symbols per table (jchuff.c encode_mcu_gather). Returns STATUS_OK or STATUS_BAD_COEF."""
    state = np.zeros(STATE_SIZE, np.int64)
    _start_state(blocks, comp_in_mcu, restart_interval, m0, state)
    pred = state[S_PRED : S_PRED + 4].copy()
    bpm = comp_in_mcu.shape[0]
    zz = np.empty(64, np.int16)
    for m in range(m0, m1):
        if restart_interval > 0 and m % restart_interval == 0:
            pred[:] = 0
        for kk in range(bpm):
            b = m * bpm + kk
            c = comp_in_mcu[kk]
            nz = zigzag_block(blocks, b, zz)  # bit 0: an AC coefficient out of range
            dc = np.int64(zz[0])
            nb = _category(abs(dc - pred[c]))
            pred[c] = dc
            if nb > 11 or nz & np.uint64(1):
                return STATUS_BAD_COEF
            dc_freq[dc_tbl[c], nb] += 1
            t = ac_tbl[c]
            last = 0
            while nz != 0:
                i = np.int64(trailing_zeros(nz))
                nz &= nz - np.uint64(1)
                r = i - last - 1
                last = i
                while r > 15:
                    ac_freq[t, 0xF0] += 1
                    r -= 16
                v = np.int64(zz[i])  # x - (x < 0): |x| = v ^ (v >> 63)
                nb = 64 - np.int64(leading_zeros(np.uint64(v ^ (v >> 63))))  # x != 0: nb 1..10
                ac_freq[t, (r << 4) + nb] += 1
            if last != 63:
                ac_freq[t, 0] += 1
    return STATUS_OK


@parallel_kernel(work=lambda blocks, *args: blocks.shape[0] if args[4].shape[0] > 2 else 0)  # args[4]: bounds
def _gather_chunks(blocks, comp_in_mcu, dc_tbl, ac_tbl, restart_interval, bounds, dc_freq, ac_freq, status):
    """``_gather_range`` for every chunk [bounds[i], bounds[i+1]) in parallel, counts per chunk."""
    for i in prange(bounds.shape[0] - 1):
        status[i] = _gather_range(
            blocks, comp_in_mcu, dc_tbl, ac_tbl, restart_interval, bounds[i], bounds[i + 1], dc_freq[i], ac_freq[i]
        )


@kernel
def _flush_bytes(buf, nbits, out, pos, stuff):
    """Move the whole bytes at the top of the ``nbits``-bit accumulator to ``out``; with ``stuff``
    a 0x00 follows every 0xFF (T.81 F.1.2.3). Returns (bits left, new pos)."""
    while nbits >= 8:
        nbits -= 8
        byte = (buf >> np.uint64(nbits)) & np.uint64(0xFF)
        out[pos] = np.uint8(byte)
        pos += 1
        if stuff and byte == 0xFF:
            out[pos] = 0
            pos += 1
    return nbits, pos


@kernel
def _pad_to_byte(buf, nbits, out, pos):
    """Write out every pending bit, filling the last partial byte with 1-bits (libjpeg's flush_bits)."""
    nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
    if nbits > 0:
        fill = np.uint64(8 - nbits)
        buf = (buf << fill) | ((np.uint64(1) << fill) - np.uint64(1))
        nbits, pos = _flush_bytes(buf, 8, out, pos, True)
    return pos


#: For the 8-bytes-at-once flush: 0x01 and 0x80 in every byte of a 64-bit word.
_ONES64 = np.uint64(0x0101010101010101)
_HIGHS64 = np.uint64(0x8080808080808080)


@kernel(inline="always")
def _stuff64(buf, out, pos):
    """The 8 bytes of ``buf`` (most significant first) to out[pos:], a 0x00 after each 0xFF: the rare
    flush of a word that holds a 0xFF. Inlined in Numba's IR, so the coder's loop makes no call (a call
    would take the registers its loop keeps its state in: 5% of the coder's time). Returns the new pos."""
    for j in range(8):
        byte = (buf >> np.uint64(56 - 8 * j)) & np.uint64(0xFF)
        out[pos] = np.uint8(byte)
        pos += 1
        if byte == 0xFF:
            out[pos] = 0
            pos += 1
    return pos


@kernel
def _encode_range(
    blocks, comp_in_mcu, dc_tbl, ac_tbl, ehufco, ehufsi, restart_interval, m_end, stuff, finish, out, pos, state
):
    """Huffman-code MCUs ``state[S_NEXT]`` .. ``m_end``-1 into ``out[pos:]`` (T.81 F.1.2).

    ``ehufco``/``ehufsi`` are (4, 256) code/length tables: rows 0-1 DC tables, rows 2-3 AC tables.
    ``stuff``: insert 0x00 after 0xFF bytes; ``finish``: pad the last byte with 1-bits at the end,
    otherwise leave the pending bits (fewer than 8) in ``state`` (S_BUF/S_BITS) for the caller.
    Returns (status, pos); STATUS_NEED_SPACE when fewer than one MCU's worst case is left in ``out``
    (state is kept, so the call can be repeated with a larger buffer).

    The bit buffer is jchuff.c's 64-bit put_buffer: ``free`` counts its empty bits; a symbol's code and
    its extra bits (at most 16 + 11) go in with one shift and OR, and when they do not fit, the bits
    that do fill the buffer, its 8 bytes go out in one step (``store_be64``, or ``_stuff64`` when one of
    them is 0xFF and needs stuffing), and the rest start the next word (bits above them are left over
    from earlier words and shift out unread). Each block is first put in zigzag order in a scratch
    array with a 64-bit map of its nonzero AC positions (``huff_vec.zigzag_block``, one vector pass),
    and the AC loop visits only the nonzero ones (the approach of libjpeg-turbo's jchuff.c / jchuff-avx2).
    The worst case per MCU is unchanged from a 32-bit flush: up to 63 pending bits plus the MCU's own
    fit in MAX_BLOCK_BYTES' rounding slack.
    """
    bpm = comp_in_mcu.shape[0]
    margin = bpm * MAX_BLOCK_BYTES + 2 + 16
    buf = np.uint64(state[S_BUF])
    free = 64 - state[S_BITS]
    one = np.uint64(1)
    zz = np.empty(64, np.int16)
    m = state[S_NEXT]
    status = STATUS_OK
    while m < m_end:
        if pos + margin > out.shape[0]:
            status = STATUS_NEED_SPACE
            break
        if restart_interval > 0:
            if state[S_RST_TO_GO] == 0:
                # Pad to a byte boundary with 1-bits, then RSTn (T.81 F.1.2.3, B.2.1).
                pos = _pad_to_byte(buf, 64 - free, out, pos)
                buf = np.uint64(0)
                free = 64
                out[pos] = 0xFF
                out[pos + 1] = 0xD0 + state[S_RST_NUM]
                pos += 2
                state[S_RST_NUM] = (state[S_RST_NUM] + 1) & 7
                state[S_RST_TO_GO] = restart_interval
                for c in range(4):
                    state[S_PRED + c] = 0
            state[S_RST_TO_GO] -= 1
        for kk in range(bpm):
            b = m * bpm + kk
            c = comp_in_mcu[kk]
            nz = zigzag_block(blocks, b, zz)  # bit 0: an AC coefficient out of range
            # DC difference: category SSSS, then SSSS low bits of diff (diff - 1 when negative).
            dc = np.int64(zz[0])
            diff = dc - state[S_PRED + c]
            state[S_PRED + c] = dc
            nb = _category(abs(diff))
            if nb > 11 or nz & one:
                return STATUS_BAD_COEF, pos
            t = dc_tbl[c]
            size = np.int64(ehufsi[t, nb])
            if size == 0:
                return STATUS_NO_CODE, pos
            diff -= diff < 0
            code = (np.uint64(ehufco[t, nb]) << np.uint64(nb)) | (np.uint64(diff) & ((one << np.uint64(nb)) - one))
            size += nb
            free -= size
            if free < 0:  # jchuff.c PUT_AND_FLUSH
                buf = (buf << np.uint64(size + free)) | (code >> np.uint64(-free))
                x = ~buf
                if stuff and ((x - _ONES64) & ~x & _HIGHS64) != 0:
                    pos = _stuff64(buf, out, pos)
                else:  # no 0xFF byte (the common case)
                    store_be64(out, pos, buf)
                    pos += 8
                buf = code
                free += 64
            else:
                buf = (buf << np.uint64(size)) | code
            # AC: (run, size) symbols of the nonzero zigzag positions 1..63.
            t = 2 + ac_tbl[c]
            last = 0
            while nz != 0:
                i = np.int64(trailing_zeros(nz))
                nz &= nz - one
                r = i - last - 1
                last = i
                while r > 15:  # ZRL: sixteen zeros
                    size = np.int64(ehufsi[t, 0xF0])
                    if size == 0:
                        return STATUS_NO_CODE, pos
                    code = np.uint64(ehufco[t, 0xF0])
                    free -= size
                    if free < 0:
                        buf = (buf << np.uint64(size + free)) | (code >> np.uint64(-free))
                        x = ~buf
                        if stuff and ((x - _ONES64) & ~x & _HIGHS64) != 0:
                            pos = _stuff64(buf, out, pos)
                        else:
                            store_be64(out, pos, buf)
                            pos += 8
                        buf = code
                        free += 64
                    else:
                        buf = (buf << np.uint64(size)) | code
                    r -= 16
                v = np.int64(zz[i])  # x - (x < 0): |x| = v ^ (v >> 63)
                nb = 64 - np.int64(leading_zeros(np.uint64(v ^ (v >> 63))))  # x != 0: no zero case; nb <= 10
                sym = ((r << 4) + nb) & 0xFF  # (the mask only tells LLVM the index is not negative)
                size = np.int64(ehufsi[t, sym])
                if size == 0:
                    return STATUS_NO_CODE, pos
                code = (np.uint64(ehufco[t, sym]) << np.uint64(nb)) | (np.uint64(v) & ((one << np.uint64(nb)) - one))
                size += nb
                free -= size
                if free < 0:
                    buf = (buf << np.uint64(size + free)) | (code >> np.uint64(-free))
                    x = ~buf
                    if stuff and ((x - _ONES64) & ~x & _HIGHS64) != 0:
                        pos = _stuff64(buf, out, pos)
                    else:
                        store_be64(out, pos, buf)
                        pos += 8
                    buf = code
                    free += 64
                else:
                    buf = (buf << np.uint64(size)) | code
            if last != 63:  # EOB
                size = np.int64(ehufsi[t, 0])
                if size == 0:
                    return STATUS_NO_CODE, pos
                code = np.uint64(ehufco[t, 0])
                free -= size
                if free < 0:
                    buf = (buf << np.uint64(size + free)) | (code >> np.uint64(-free))
                    x = ~buf
                    if stuff and ((x - _ONES64) & ~x & _HIGHS64) != 0:
                        pos = _stuff64(buf, out, pos)
                    else:
                        store_be64(out, pos, buf)
                        pos += 8
                    buf = code
                    free += 64
                else:
                    buf = (buf << np.uint64(size)) | code
        m += 1
    state[S_NEXT] = m
    nbits = 64 - free
    if finish and status == STATUS_OK:
        pos = _pad_to_byte(buf, nbits, out, pos)
        buf = np.uint64(0)
        nbits = 0
    else:
        nbits, pos = _flush_bytes(buf, nbits, out, pos, stuff)
    state[S_BUF] = np.int64(buf & ((one << np.uint64(nbits)) - one))
    state[S_BITS] = nbits
    return status, pos


@parallel_kernel(work=lambda blocks, *args: blocks.shape[0] if args[6].shape[0] > 2 else 0)  # args[6]: bounds
def _encode_chunks(
    blocks, comp_in_mcu, dc_tbl, ac_tbl, ehufco, ehufsi, restart_interval, bounds, raw, outs, lengths, tails, status
):
    """Code chunk i = MCUs [bounds[i], bounds[i+1]) into outs[i] in parallel. ``raw``: no stuffing and
    leave the chunk's last bits in tails[i] = (bits, count); otherwise finished, padded segments."""
    for i in prange(bounds.shape[0] - 1):
        state = np.zeros(STATE_SIZE, np.int64)
        _start_state(blocks, comp_in_mcu, restart_interval, bounds[i], state)
        st, pos = _encode_range(
            blocks,
            comp_in_mcu,
            dc_tbl,
            ac_tbl,
            ehufco,
            ehufsi,
            restart_interval,
            bounds[i + 1],
            not raw,
            not raw,
            outs[i],
            np.int64(0),  # (a literal 0 would compile the coder again for it)
            state,
        )
        status[i] = st
        lengths[i] = pos
        tails[i, 0] = state[S_BUF]
        tails[i, 1] = state[S_BITS]


@kernel
def _stitch(outs, lengths, tails, out):
    """Concatenate raw (unstuffed) chunk bit strings into one stuffed, 1-padded segment (T.81 F.1.2.3)."""
    pos = 0
    carry = np.uint64(0)  # pending bits, right-aligned
    ncarry = 0
    for i in range(outs.shape[0]):
        src = outs[i]
        if ncarry == 0:
            for j in range(lengths[i]):
                byte = src[j]
                out[pos] = byte
                pos += 1
                if byte == 0xFF:
                    out[pos] = 0
                    pos += 1
        else:
            for j in range(lengths[i]):
                carry = (carry << np.uint64(8)) | np.uint64(src[j])
                byte = (carry >> np.uint64(ncarry)) & np.uint64(0xFF)
                out[pos] = np.uint8(byte)
                pos += 1
                if byte == 0xFF:
                    out[pos] = 0
                    pos += 1
            carry &= (np.uint64(1) << np.uint64(ncarry)) - np.uint64(1)
        carry = (carry << np.uint64(tails[i, 1])) | np.uint64(tails[i, 0])
        ncarry += tails[i, 1]
        ncarry, pos = _flush_bytes(carry, ncarry, out, pos, True)
        carry &= (np.uint64(1) << np.uint64(ncarry)) - np.uint64(1)
    return _pad_to_byte(carry, ncarry, out, pos)


def _lookup_tables(dc_specs, ac_specs):
    """(code, length) lookups of the four table slots (DC 0, DC 1, AC 0, AC 1), each (4, 256); copies of
    a memo, since most files use the same (standard) tables."""
    ehufco, ehufsi = _lookup_tables_cached(tuple(dc_specs), tuple(ac_specs))
    return ehufco.copy(), ehufsi.copy()


@functools.lru_cache(maxsize=16)
def _lookup_tables_cached(dc_specs, ac_specs):
    ehufco = np.zeros((4, 256), dtype=np.uint32)
    ehufsi = np.zeros((4, 256), dtype=np.uint8)
    for slot, spec in enumerate(dc_specs):
        if spec is not None:
            ehufco[slot], ehufsi[slot] = encoder_lookup(spec, is_dc=True)
    for slot, spec in enumerate(ac_specs):
        if spec is not None:
            ehufco[2 + slot], ehufsi[2 + slot] = encoder_lookup(spec, is_dc=False)
    return ehufco, ehufsi


def _check_status(status):
    if status == STATUS_BAD_COEF:
        raise ValueError("coefficient out of range for 8-bit baseline JPEG (|AC| <= 1023, |DC difference| <= 2047)")
    if status == STATUS_NO_CODE:
        raise ValueError("the Huffman table has no code for a symbol this scan needs")


def _chunk_bounds(nmcu: int, nblocks: int, restart_interval: int) -> np.ndarray:
    """MCU boundaries of the parallel chunks: one per thread, on restart-interval boundaries when
    there are restarts; a single chunk for small scans or one thread."""
    if not use_threads(nblocks):  # below PARALLEL_MIN_BLOCKS a scan is coded in one piece
        return np.array([0, nmcu], np.int64)
    threads = numba.get_num_threads()
    cuts = np.linspace(0, nmcu, threads + 1).astype(np.int64)
    if restart_interval:
        cuts = (cuts // restart_interval) * restart_interval
        cuts[-1] = nmcu
    return np.unique(cuts)


def gather_frequencies(blocks, comp_in_mcu, dc_tbl, ac_tbl, restart_interval):
    """Symbol counts (dc_freq[2, 256], ac_freq[2, 256]) of a scan, for optimal Huffman tables."""
    bpm = comp_in_mcu.shape[0]
    bounds = _chunk_bounds(blocks.shape[0] // bpm, blocks.shape[0], restart_interval)
    n = bounds.shape[0] - 1
    dc_freq = np.zeros((n, 2, 256), dtype=np.int64)
    ac_freq = np.zeros((n, 2, 256), dtype=np.int64)
    status = np.zeros(n, np.int64)
    _gather_chunks(
        blocks,
        comp_in_mcu,
        np.asarray(dc_tbl, np.int64),
        np.asarray(ac_tbl, np.int64),
        restart_interval,
        bounds,
        dc_freq,
        ac_freq,
        status,
    )
    for st in status:
        _check_status(st)
    return dc_freq.sum(axis=0), ac_freq.sum(axis=0)


def encode_scan(blocks, comp_in_mcu, dc_tbl, ac_tbl, dc_specs, ac_specs, restart_interval) -> bytes:
    """Entropy-coded segment(s) of one sequential scan, including RSTn markers, as bytes.

    ``dc_tbl``/``ac_tbl`` give the Huffman table slot of each scan component.
    """
    ehufco, ehufsi = _lookup_tables(dc_specs, ac_specs)
    dc_tbl = np.asarray(dc_tbl, np.int64)
    ac_tbl = np.asarray(ac_tbl, np.int64)
    bpm = comp_in_mcu.shape[0]
    nmcu = blocks.shape[0] // bpm
    bounds = _chunk_bounds(nmcu, blocks.shape[0], restart_interval)
    nchunks = bounds.shape[0] - 1
    raw = restart_interval == 0 and nchunks > 1
    # Typical files need well under 48 bytes per block; a chunk that runs out is redone larger.
    per_chunk_blocks = int(np.max(np.diff(bounds))) * bpm
    capacity = 4096 + per_chunk_blocks * 48
    for _attempt in range(2):
        outs = np.empty((nchunks, capacity), np.uint8)
        lengths = np.zeros(nchunks, np.int64)
        tails = np.zeros((nchunks, 2), np.int64)
        status = np.zeros(nchunks, np.int64)
        _encode_chunks(
            blocks,
            comp_in_mcu,
            dc_tbl,
            ac_tbl,
            ehufco,
            ehufsi,
            restart_interval,
            bounds,
            raw,
            outs,
            lengths,
            tails,
            status,
        )
        if not (status == STATUS_NEED_SPACE).any():
            break
        capacity = 4096 + per_chunk_blocks * MAX_BLOCK_BYTES + 4 * (per_chunk_blocks + 1)  # the worst case
    for st in status:
        _check_status(st)
    if raw:
        out = np.empty(2 * int(lengths.sum()) + 16, np.uint8)
        return out[: _stitch(outs, lengths, tails, out)].tobytes()
    pieces = []
    for i in range(nchunks):
        if i:  # the RSTn a sequential pass writes before MCU bounds[i]
            pieces.append(bytes((0xFF, 0xD0 + ((bounds[i] // restart_interval - 1) & 7))))
        pieces.append(outs[i, : lengths[i]].tobytes())
    return b"".join(pieces)
