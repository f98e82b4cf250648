"""Huffman entropy encoding of a sequential scan (T.81 F.1.2, libjpeg's jchuff.c).

A scan is described to the kernels by an ``order`` array: the row (in a (blocks, 64) coefficient
array) of every block in transmission order, with ``order_comp`` giving its scan component and
``blocks_in_mcu`` how many consecutive entries make one MCU. Interleaved MCU order (T.81 A.2.3) and
the non-interleaved raster order (A.2.2) are thus both just orders; ``mcu_order`` builds them.

Kernels report problems with status codes (never exceptions): see ``STATUS_*``.
"""

from __future__ import annotations

import numpy as np

from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

from ._jit import kernel
from .zigzag import ZIGZAG

STATUS_OK = 0
STATUS_NEED_SPACE = 1  # output buffer nearly full: grow it and call again (state is kept)
STATUS_BAD_COEF = -1  # a coefficient (or DC difference) too large for 8-bit baseline
STATUS_NO_CODE = -2  # a symbol the Huffman table has no code for

# Worst case for one block: DC 16+11 bits, 63 AC symbols of 16+10 bits, every byte stuffed.
MAX_BLOCK_BYTES = 2 * ((16 + 11 + 63 * (16 + 10)) // 8 + 1)

# Entropy state carried between kernel calls, as int64 slots.
S_NEXT = 0  # index of the next MCU to encode
S_BUF = 1  # bit accumulator
S_BITS = 2  # number of valid bits in the accumulator (< 8 between symbols)
S_RST_TO_GO = 3  # MCUs left before the next restart marker
S_RST_NUM = 4  # number (0..7) of the next RSTn
S_PRED = 5  # DC predictors, one slot per scan component (up to 4)
STATE_SIZE = S_PRED + 4


def new_state(restart_interval: int) -> np.ndarray:
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[S_RST_TO_GO] = restart_interval
    return state


@kernel
def _mcu_order(offsets, grid_cols, hs, vs, mcus_x, mcus_y):
    """Block rows in interleaved MCU order (T.81 A.2.3): per MCU, each component's v x h blocks, row by row."""
    ncomp = offsets.shape[0]
    per_mcu = 0
    for c in range(ncomp):
        per_mcu += hs[c] * vs[c]
    order = np.empty(mcus_x * mcus_y * per_mcu, dtype=np.int64)
    order_comp = np.empty(mcus_x * mcus_y * per_mcu, dtype=np.int8)
    k = 0
    for my in range(mcus_y):
        for mx in range(mcus_x):
            for c in range(ncomp):
                for v in range(vs[c]):
                    for h in range(hs[c]):
                        order[k] = offsets[c] + (my * vs[c] + v) * grid_cols[c] + mx * hs[c] + h
                        order_comp[k] = c
                        k += 1
    return order, order_comp


def mcu_order(offsets, grid_cols, sampling, mcus_x, mcus_y):
    """Transmission order of an interleaved scan. For a single-component (non-interleaved) scan pass
    sampling [(1, 1)] and the component's real block counts as mcus_x, mcus_y (T.81 A.2.2)."""
    hs = np.array([h for h, _ in sampling], dtype=np.int64)
    vs = np.array([v for _, v in sampling], dtype=np.int64)
    return _mcu_order(
        np.asarray(offsets, dtype=np.int64), np.asarray(grid_cols, dtype=np.int64), hs, vs, int(mcus_x), int(mcus_y)
    )


@kernel
def _nbits(x):
    """Number of bits in |x| (the magnitude category SSSS of T.81 F.1.2.1.1)."""
    n = 0
    while x:
        n += 1
        x >>= 1
    return n


@kernel
def _gather_scan(blocks, order, order_comp, blocks_in_mcu, dc_tbl, ac_tbl, restart_interval, dc_freq, ac_freq):
    """First pass of ``optimize_coding``: count DC categories and AC run/size symbols per table (jchuff.c
    encode_mcu_gather). Returns STATUS_OK or STATUS_BAD_COEF."""
    pred = np.zeros(4, dtype=np.int64)
    nblocks = order.shape[0]
    for k in range(nblocks):
        if restart_interval > 0 and k % (restart_interval * blocks_in_mcu) == 0:
            pred[:] = 0
        b = order[k]
        c = order_comp[k]
        dc = np.int64(blocks[b, 0])
        diff = dc - pred[c]
        pred[c] = dc
        nb = _nbits(abs(diff))
        if nb > 11:
            return STATUS_BAD_COEF
        dc_freq[dc_tbl[c], nb] += 1
        r = 0
        t = ac_tbl[c]
        for i in range(1, 64):
            v = np.int64(blocks[b, ZIGZAG[i]])
            if v == 0:
                r += 1
            else:
                while r > 15:
                    ac_freq[t, 0xF0] += 1
                    r -= 16
                nb = _nbits(abs(v))
                if nb > 10:
                    return STATUS_BAD_COEF
                ac_freq[t, (r << 4) + nb] += 1
                r = 0
        if r > 0:
            ac_freq[t, 0] += 1
    return STATUS_OK


@kernel
def _flush_bytes(buf, nbits, out, pos):
    """Move the whole bytes at the top of the ``nbits``-bit accumulator to ``out``, stuffing a 0x00
    after every 0xFF (T.81 F.1.2.3). Returns (bits left, new pos)."""
    while nbits >= 8:
        nbits -= 8
        byte = (buf >> np.uint64(nbits)) & np.uint64(0xFF)
        out[pos] = np.uint8(byte)
        pos += 1
        if byte == 0xFF:
            out[pos] = 0
            pos += 1
    return nbits, pos


@kernel
def _pad_to_byte(buf, nbits, out, pos):
    """Write out every pending bit, filling the last partial byte with 1-bits (libjpeg's flush_bits)."""
    nbits, pos = _flush_bytes(buf, nbits, out, pos)
    if nbits > 0:
        fill = np.uint64(8 - nbits)
        buf = (buf << fill) | ((np.uint64(1) << fill) - np.uint64(1))
        nbits, pos = _flush_bytes(buf, 8, out, pos)
    return pos


@kernel
def _encode_scan(blocks, order, order_comp, blocks_in_mcu, dc_tbl, ac_tbl, ehufco, ehufsi, restart_interval, out, pos, state):
    """Huffman-code blocks from MCU ``state[S_NEXT]`` on into ``out[pos:]`` with byte stuffing (T.81 F.1.2).

    Stops early with STATUS_NEED_SPACE when fewer than one MCU's worst case is left in ``out``.
    ``ehufco``/``ehufsi`` are (4, 256) code/length tables: rows 0-1 DC tables, rows 2-3 AC tables.
    Returns (status, new pos). At the end of the scan the final partial byte is padded with 1-bits.

    Bits collect right-aligned in a 64-bit accumulator that is flushed once it holds more than 32
    bits, so a symbol plus its extra bits (at most 16 + 11) always fits. AC coefficients are found
    through a 64-bit map of the nonzero zigzag positions, visiting only nonzero ones (the approach of
    libjpeg-turbo's jchuff.c).
    """
    nmcu = order.shape[0] // blocks_in_mcu
    margin = blocks_in_mcu * MAX_BLOCK_BYTES + 2 + 16
    buf = np.uint64(state[S_BUF])
    nbits = state[S_BITS]
    zz = np.zeros(64, dtype=np.int64)
    one = np.uint64(1)
    m = state[S_NEXT]
    while m < nmcu:
        if pos + margin > out.shape[0]:
            state[S_NEXT] = m
            state[S_BUF] = np.int64(buf)
            state[S_BITS] = nbits
            return STATUS_NEED_SPACE, pos
        if restart_interval > 0:
            if state[S_RST_TO_GO] == 0:
                # Pad to a byte boundary with 1-bits, then RSTn (T.81 F.1.2.3, B.2.1).
                pos = _pad_to_byte(buf, nbits, out, pos)
                buf = np.uint64(0)
                nbits = 0
                out[pos] = 0xFF
                out[pos + 1] = 0xD0 + state[S_RST_NUM]
                pos += 2
                state[S_RST_NUM] = (state[S_RST_NUM] + 1) & 7
                state[S_RST_TO_GO] = restart_interval
                for c in range(4):
                    state[S_PRED + c] = 0
            state[S_RST_TO_GO] -= 1
        for kk in range(blocks_in_mcu):
            k = m * blocks_in_mcu + kk
            b = order[k]
            c = order_comp[k]
            # DC difference: category SSSS, then SSSS low bits of diff (diff - 1 when negative).
            dc = np.int64(blocks[b, 0])
            diff = dc - state[S_PRED + c]
            state[S_PRED + c] = dc
            mag = abs(diff)
            nb = 0 if mag == 0 else 64 - np.int64(leading_zeros(np.uint64(mag)))
            if nb > 11:
                return STATUS_BAD_COEF, pos
            t = dc_tbl[c]
            size = np.int64(ehufsi[t, nb])
            if size == 0:
                return STATUS_NO_CODE, pos
            if diff < 0:
                diff -= 1
            bits = (np.uint64(ehufco[t, nb]) << np.uint64(nb)) | (np.uint64(diff & ((1 << nb) - 1)))
            buf = (buf << np.uint64(size + nb)) | bits
            nbits += size + nb
            if nbits > 32:
                nbits, pos = _flush_bytes(buf, nbits, out, pos)
            # AC: map the nonzero zigzag positions 1..63, then code (run, size) symbols.
            nz = np.uint64(0)
            for i in range(1, 64):
                v = np.int64(blocks[b, ZIGZAG[i]])
                zz[i] = v
                nz |= np.uint64(v != 0) << np.uint64(i)
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
                    buf = (buf << np.uint64(size)) | np.uint64(ehufco[t, 0xF0])
                    nbits += size
                    if nbits > 32:
                        nbits, pos = _flush_bytes(buf, nbits, out, pos)
                    r -= 16
                v = zz[i]
                mag = abs(v)
                nb = 64 - np.int64(leading_zeros(np.uint64(mag)))
                if nb > 10:
                    return STATUS_BAD_COEF, pos
                sym = (r << 4) + nb
                size = np.int64(ehufsi[t, sym])
                if size == 0:
                    return STATUS_NO_CODE, pos
                if v < 0:
                    v -= 1
                bits = (np.uint64(ehufco[t, sym]) << np.uint64(nb)) | np.uint64(v & ((1 << nb) - 1))
                buf = (buf << np.uint64(size + nb)) | bits
                nbits += size + nb
                if nbits > 32:
                    nbits, pos = _flush_bytes(buf, nbits, out, pos)
            if last != 63:  # EOB
                size = np.int64(ehufsi[t, 0])
                if size == 0:
                    return STATUS_NO_CODE, pos
                buf = (buf << np.uint64(size)) | np.uint64(ehufco[t, 0])
                nbits += size
                if nbits > 32:
                    nbits, pos = _flush_bytes(buf, nbits, out, pos)
        m += 1
    # End of scan: pad the last partial byte with 1-bits (libjpeg's flush_bits).
    pos = _pad_to_byte(buf, nbits, out, pos)
    state[S_NEXT] = m
    state[S_BUF] = 0
    state[S_BITS] = 0
    return STATUS_OK, pos


def _lookup_tables(dc_specs, ac_specs):
    from .huffman import encoder_lookup

    ehufco = np.zeros((4, 256), dtype=np.uint32)
    ehufsi = np.zeros((4, 256), dtype=np.uint8)
    for slot, spec in enumerate(dc_specs):
        if spec is not None:
            ehufco[slot], ehufsi[slot] = encoder_lookup(spec, is_dc=True)
    for slot, spec in enumerate(ac_specs):
        if spec is not None:
            ehufco[2 + slot], ehufsi[2 + slot] = encoder_lookup(spec, is_dc=False)
    return ehufco, ehufsi


def gather_frequencies(blocks, order, order_comp, blocks_in_mcu, dc_tbl, ac_tbl, restart_interval):
    """Symbol counts (dc_freq[2, 256], ac_freq[2, 256]) of a scan, for optimal Huffman tables."""
    dc_freq = np.zeros((2, 256), dtype=np.int64)
    ac_freq = np.zeros((2, 256), dtype=np.int64)
    status = _gather_scan(
        blocks, order, order_comp, blocks_in_mcu,
        np.asarray(dc_tbl, np.int64), np.asarray(ac_tbl, np.int64), restart_interval, dc_freq, ac_freq,
    )  # fmt: skip
    _check_status(status)
    return dc_freq, ac_freq


def _check_status(status):
    if status == STATUS_BAD_COEF:
        raise ValueError("coefficient out of range for 8-bit baseline JPEG (|AC| <= 1023, |DC difference| <= 2047)")
    if status == STATUS_NO_CODE:
        raise ValueError("the Huffman table has no code for a symbol this scan needs")


def encode_scan(blocks, order, order_comp, blocks_in_mcu, dc_tbl, ac_tbl, dc_specs, ac_specs, restart_interval) -> bytes:
    """Entropy-coded segment(s) of one sequential scan, including RSTn markers, as bytes."""
    ehufco, ehufsi = _lookup_tables(dc_specs, ac_specs)
    dc_tbl = np.asarray(dc_tbl, np.int64)
    ac_tbl = np.asarray(ac_tbl, np.int64)
    state = new_state(restart_interval)
    # Typical files need well under 64 bytes per block; the kernel asks for more room if not.
    out = np.empty(max(4096, order.shape[0] * 48), dtype=np.uint8)
    pos = 0
    while True:
        status, pos = _encode_scan(
            blocks, order, order_comp, blocks_in_mcu, dc_tbl, ac_tbl, ehufco, ehufsi, restart_interval, out, pos, state
        )
        if status != STATUS_NEED_SPACE:
            break
        grown = np.empty(out.shape[0] * 2, dtype=np.uint8)
        grown[:pos] = out[:pos]
        out = grown
    _check_status(status)
    return out[:pos].tobytes()
