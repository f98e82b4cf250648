"""The kernels of parallel_entropy.py: one block decoded from a clean (unstuffed) bit array, the
speculative first pass per chunk, the continuation that finds the sync point, and the DC-sum and scatter
passes that put the blocks in place. Kernels see arrays and scalars only and never raise; the per-chunk
results go back in the ``out`` array (columns O_*, statuses ST_*)."""

from __future__ import annotations

import numpy as np

from ..base.huffman import FAST_BITS
from ..base.jit import kernel, parallel_kernel, prange
from .entropy import B_BASE, B_COMP, B_DX, B_DY, B_H, B_STRIDE, B_V

_FAST_MASK = (1 << FAST_BITS) - 1
_U1, _U2, _U3, _U4, _U5, _U6, _U7 = (np.uint64(i) for i in range(1, 8))
#: Zero bytes after the clean data: a block reads at most 64 symbols of at most 31 bits past its start.
_PAD = 512

# Per-chunk results of the decoding kernels (columns of ``out``).
O_N = 0  # blocks decoded (records 0..n-1 hold their starts)
O_POS = 1  # bit position after the last decoded block
O_B = 2  # block-in-MCU index of the next block
O_NC = 3  # AC entries written
O_CLEAN = 4  # first record not preceded by a restart after a bad code (sync must be at or after it)
O_RESETS = 5  # bad codes met (speculation restarted one bit later)
O_STATUS = 6  # see ST_*
O_SYNC_T = 7  # phase 2: the chunk synchronised with (-1: none, decoded to the end)
O_SYNC_J = 8  # phase 2: that chunk's record index
O_SYNC_L = 9  # phase 2: this chunk's block count at the sync point
O_MCOL = 10  # direct chunk 0: MCU column and row of the next block
O_MROW = 11
O_DC = 12  # direct chunk 0: DC predictions (4 columns)
O_COLS = 16

ST_OK = 0
ST_END = 1  # a block would read past the data: stopped before it
ST_OVERFLOW = 2  # buffers full (speculation in very dense garbage): the scan falls back
ST_BAD = 3  # a bad Huffman code where the decoder is anchored (restart mode, phase 2)


@kernel(inline="always")
def _peek(clean, p):
    """64 bits of the clean data from bit p, left-aligned (at least 57 of them are stream bits)."""
    i = np.uint64(p >> 3)  # unsigned: no negative-index wraparound, so the loads can combine
    w = (
        (np.int64(clean[i]) << 56)
        | (np.int64(clean[i + _U1]) << 48)
        | (np.int64(clean[i + _U2]) << 40)
        | (np.int64(clean[i + _U3]) << 32)
        | (np.int64(clean[i + _U4]) << 24)
        | (np.int64(clean[i + _U5]) << 16)
        | (np.int64(clean[i + _U6]) << 8)
        | np.int64(clean[i + _U7])
    )
    return w << (p & 7)


@kernel
def _slow_symbol(lb, t, maxcode, valoffset, huffval):
    """A code longer than FAST_BITS (T.81 Figure F.16 from FAST_BITS + 1 on): (symbol, length), or
    length 0 when no code of up to 16 bits matches."""
    for length in range(FAST_BITS + 1, 17):
        code = (lb >> (64 - length)) & ((np.int64(1) << length) - 1)
        if code <= maxcode[t, length]:
            return np.int64(huffval[t, (code + valoffset[t, length]) & 0xFF]), np.int64(length)
    return np.int64(0), np.int64(0)


@kernel(inline="always")
def _block(clean, p, tdc, tac, fast, maxcode, valoffset, huffval, cv, c, nc, store, row, natural):
    """Decode one block from bit p: (ok, p after it, DC difference, AC entries end). AC coefficients
    go to ``cv[nc:]`` as ``k << 16 | value & 0xFFFF`` (k may pass 63 in corrupt data, as in entropy.py)."""
    lb = _peek(clean, p)
    avail = 64 - (p & 7)
    e = np.int64(fast[tdc, (lb >> (64 - FAST_BITS)) & _FAST_MASK])
    tl = (e >> 12) & 15
    if tl != 0:
        diff = e >> 16
        lb <<= tl
        avail -= tl
        p += tl
    else:
        cl = (e >> 8) & 15
        if cl != 0:
            s = e & 0xFF
        else:
            s, cl = _slow_symbol(lb, tdc, maxcode, valoffset, huffval)
            if cl == 0:
                return False, p, np.int64(0), nc
        lb <<= cl
        avail -= cl
        p += cl
        diff = np.int64(0)
        if s != 0:
            v = (lb >> (64 - s)) & ((np.int64(1) << s) - 1)
            lb <<= s
            avail -= s
            p += s
            diff = v
            if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                diff = v - (np.int64(1) << s) + 1
    k = 1
    while k < 64:
        if avail < 32:
            lb = _peek(clean, p)
            avail = 64 - (p & 7)
        e = np.int64(fast[tac, (lb >> (64 - FAST_BITS)) & _FAST_MASK])
        tl = (e >> 12) & 15
        if tl != 0:
            lb <<= tl
            avail -= tl
            p += tl
            if (e & 15) != 0:
                k += (e >> 4) & 15
                if row >= 0:
                    store[row, natural[k & 127]] = e >> 16
                else:
                    cv[c, nc] = (k << 16) | ((e >> 16) & 0xFFFF)
                    nc += 1
                k += 1
                continue
            if (e & 0xFF) != 0xF0:
                break  # EOB
            k += 16  # ZRL
            continue
        cl = (e >> 8) & 15
        if cl != 0:
            rs = e & 0xFF
        else:
            rs, cl = _slow_symbol(lb, tac, maxcode, valoffset, huffval)
            if cl == 0:
                return False, p, np.int64(0), nc
        lb <<= cl
        avail -= cl
        p += cl
        r = rs >> 4
        s = rs & 15
        if s != 0:
            k += r
            v = (lb >> (64 - s)) & ((np.int64(1) << s) - 1)
            lb <<= s
            avail -= s
            p += s
            if v < (np.int64(1) << (s - 1)):
                v = v - (np.int64(1) << s) + 1
            if row >= 0:
                store[row, natural[k & 127]] = v
            else:
                cv[c, nc] = (k << 16) | (v & 0xFFFF)
                nc += 1
        else:
            if r != 15:
                break  # EOB
            k += 15
        k += 1
    return True, p, diff, nc


@kernel(inline="always")
def _emit(mine, c, n, nc2, diff, dcs, cend, store, row, blocks, b, last):
    """Keep a decoded block's DC difference and the end of its AC entries; the direct chunk (whose AC
    coefficients _block wrote to the store's ``row``) also writes the DC value there. Returns the
    chunk's AC entry count."""
    dcs[c, n] = diff
    if not mine:
        cend[c, n] = nc2
        return nc2
    ci = blocks[b, B_COMP]
    dc = last[ci] + diff
    dc = ((dc + 2147483648) & 0xFFFFFFFF) - 2147483648  # C int, then JCOEF, as entropy.py
    last[ci] = dc
    store[row, 0] = ((dc + 32768) & 0xFFFF) - 32768
    return nc2


@kernel(inline="always")
def _row(mine, blocks, b, mrow, mcol):
    """The store row of block b of MCU (mrow, mcol) for the direct chunk, -1 (AC to the buffers) otherwise."""
    if not mine:
        return np.int64(-1)
    return (
        blocks[b, B_BASE]
        + (mrow * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
        + mcol * blocks[b, B_H]
        + blocks[b, B_DX]
    )


def _work(*args):
    return args[-1]


@kernel(inline="always")
def _chunk1(
    mine,
    c,
    clean,
    nbits,
    p,
    stop,
    tdc,
    tac,
    fast,
    maxcode,
    valoffset,
    huffval,
    rec,
    dcs,
    cend,
    cv,
    out,
    store,
    blocks,
    mcus_x,
    natural,
    total,
):
    """Phase 1 of chunk c (see _phase1). Called with a constant ``mine`` so that each caller's loop is
    compiled without the other's branch."""
    capb = rec.shape[1] - 1
    capc = cv.shape[1] - 64
    nb = tdc.shape[0]
    b = 0
    n = 0
    nc = 0
    clean_from = 0
    resets = 0
    status = ST_OK
    last = np.zeros(4, dtype=np.int64)
    mcol = 0
    mrow = 0
    while p < stop:
        if (mine and n >= total) or n >= capb or nc > capc:
            status = ST_OK if mine and n >= total else ST_OVERFLOW
            break
        rec[c, n] = p * 16 + b
        row = _row(mine, blocks, b, mrow, mcol)
        ok, p2, diff, nc2 = _block(
            clean, p, tdc[b], tac[b], fast, maxcode, valoffset, huffval, cv, c, nc, store, row, natural
        )
        if ok and p2 <= nbits:
            nc = _emit(mine, c, n, nc2, diff, dcs, cend, store, row, blocks, b, last)
            n += 1
            p = p2
            b += 1
            if b == nb:
                b = 0
                mcol += 1
                if mcol == mcus_x:
                    mcol = 0
                    mrow += 1
        elif ok:
            status = ST_END
            break
        elif c == 0:
            status = ST_BAD
            break
        else:
            resets += 1
            p += 1
            b = 0
            clean_from = n
    rec[c, n] = p * 16 + b
    out[c, O_N] = n
    out[c, O_POS] = p
    out[c, O_B] = b
    out[c, O_NC] = nc
    out[c, O_MCOL] = mcol
    out[c, O_MROW] = mrow
    for ci in range(4):
        out[c, O_DC + ci] = last[ci]
    out[c, O_CLEAN] = clean_from
    out[c, O_RESETS] = resets
    out[c, O_STATUS] = status


@parallel_kernel(work=_work)
def _phase1(
    clean,
    nbits,
    starts,
    stops,
    tdc,
    tac,
    fast,
    maxcode,
    valoffset,
    huffval,
    rec,
    dcs,
    cend,
    cv,
    out,
    direct,
    store,
    blocks,
    mcus_x,
    natural,
    total,
    work,
):
    """Chunk c decodes from bit ``starts[c]`` (guessed: first block of an MCU) until a block boundary at
    or after ``stops[c]``. A bad code restarts a speculative decoder one bit later; chunk 0, which starts
    at the true start, stops with ST_BAD instead. With ``direct``, chunk 0 (whose blocks' places are
    known) writes the store itself, at most ``total`` blocks."""
    for c in prange(starts.shape[0]):
        _chunk1(
            direct and c == 0,
            c,
            clean,
            nbits,
            starts[c],
            stops[c],
            tdc,
            tac,
            fast,
            maxcode,
            valoffset,
            huffval,
            rec,
            dcs,
            cend,
            cv,
            out,
            store,
            blocks,
            mcus_x,
            natural,
            total,
        )


@parallel_kernel(work=_work)
def _phase2(
    clean,
    nbits,
    n1,
    cls,
    tdc,
    tac,
    fast,
    maxcode,
    valoffset,
    huffval,
    rec,
    dcs,
    cend,
    cv,
    out,
    direct,
    store,
    blocks,
    mcus_x,
    natural,
    total,
    work,
):
    """Decoder c (< last) continues from where ``_phase1`` left it until its (position, class of its
    block-in-MCU index) equals one of the ``n1[t]`` phase-1 records of a later chunk t, or the data
    ends. (Chunk t's own continuation, running meanwhile, writes only past those records.)"""
    nchunks = out.shape[0]
    capb = rec.shape[1] - 1
    capc = cv.shape[1] - 64
    for c in prange(nchunks - 1):
        out[c, O_SYNC_T] = -1
        if out[c, O_STATUS] != ST_OK:
            continue
        nb = tdc.shape[0]
        p = out[c, O_POS]
        b = out[c, O_B]
        n = out[c, O_N]
        nc = out[c, O_NC]
        t = c + 1
        j = 0
        status = ST_OK
        mine = direct and c == 0
        mcol = out[c, O_MCOL]
        mrow = out[c, O_MROW]
        last = np.zeros(4, dtype=np.int64)
        for ci in range(4):
            last[ci] = out[c, O_DC + ci]
        while True:
            while t < nchunks:  # first record of chunk t at or after p
                if j >= n1[t]:
                    t += 1
                    j = 0
                    continue
                if (rec[t, j] >> 4) >= p:
                    break
                j += 1
            if t < nchunks and (rec[t, j] >> 4) == p and cls[rec[t, j] & 15] == cls[b]:
                out[c, O_SYNC_T] = t
                out[c, O_SYNC_J] = j
                out[c, O_SYNC_L] = n
                break
            if p >= nbits or (mine and n >= total):
                break
            if n >= capb or nc > capc:
                status = ST_OVERFLOW
                break
            rec[c, n] = p * 16 + b
            row = _row(mine, blocks, b, mrow, mcol)
            ok, p2, diff, nc2 = _block(
                clean, p, tdc[b], tac[b], fast, maxcode, valoffset, huffval, cv, c, nc, store, row, natural
            )
            if not ok:
                status = ST_BAD
                break
            if p2 > nbits:
                break
            nc = _emit(mine, c, n, nc2, diff, dcs, cend, store, row, blocks, b, last)
            n += 1
            p = p2
            b += 1
            if b == nb:
                b = 0
                mcol += 1
                if mcol == mcus_x:
                    mcol = 0
                    mrow += 1
        rec[c, n] = p * 16 + b
        out[c, O_N] = n
        out[c, O_POS] = p
        out[c, O_NC] = nc
        out[c, O_STATUS] = status


@parallel_kernel(work=_work)
def _dc_sums(segs, comp, dcs, sums, work):
    """Per segment (chunk, first record, end record, first global block): DC differences summed per
    component."""
    nb = comp.shape[0]
    for s in prange(segs.shape[0]):
        c = segs[s, 0]
        g = segs[s, 3]
        for ci in range(4):
            sums[s, ci] = 0
        b = g % nb
        for i in range(segs[s, 1], segs[s, 2]):
            sums[s, comp[b]] += dcs[c, i]
            b += 1
            if b == nb:
                b = 0


@parallel_kernel(work=_work)
def _scatter(segs, pred, reset_blocks, blocks, mcus_x, natural, dcs, cend, cv, store, work):
    """Write each segment's blocks at their global indices: DC = running prediction (C int, then JCOEF
    wrap, as entropy.py), AC entries where nonzero. ``reset_blocks`` > 0: predictions restart at every
    multiple of it (restart intervals)."""
    nb = blocks.shape[0]
    for s in prange(segs.shape[0]):
        c = segs[s, 0]
        g = segs[s, 3]
        last = np.zeros(4, dtype=np.int64)
        for ci in range(4):
            last[ci] = pred[s, ci]
        mcu = g // nb
        b = g - mcu * nb
        mrow = mcu // mcus_x
        mcol = mcu - mrow * mcus_x
        lo = segs[s, 1]
        a = 0 if lo == 0 else cend[c, lo - 1]
        for i in range(lo, segs[s, 2]):
            if reset_blocks > 0 and g % reset_blocks == 0:
                last[:] = 0
            row = (
                blocks[b, B_BASE]
                + (mrow * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
                + mcol * blocks[b, B_H]
                + blocks[b, B_DX]
            )
            ci = blocks[b, B_COMP]
            dc = last[ci] + dcs[c, i]
            dc = ((dc + 2147483648) & 0xFFFFFFFF) - 2147483648
            last[ci] = dc
            store[row, 0] = ((dc + 32768) & 0xFFFF) - 32768
            e = cend[c, i]
            for q in range(a, e):
                x = cv[c, q]
                store[row, natural[(x >> 16) & 127]] = ((x & 0xFFFF) ^ 0x8000) - 0x8000
            a = e
            g += 1
            b += 1
            if b == nb:
                b = 0
                mcol += 1
                if mcol == mcus_x:
                    mcol = 0
                    mrow += 1


@parallel_kernel(work=_work)
def _intervals(
    clean,
    seg_start,
    seg_end,
    first,
    per_interval,
    total,
    tdc,
    tac,
    fast,
    maxcode,
    valoffset,
    huffval,
    dcs,
    cend,
    cv,
    out,
    store,
    natural,
    work,
):
    """Restart mode: group c decodes the restart intervals ``first[c]`` to ``first[c + 1] - 1``, each
    from its own start, exactly ``per_interval`` blocks (fewer in the last). A bad code, a block reading
    past its interval's data, or a whole byte left over after it (the sequential decoder would warn)
    ends the group with ST_BAD."""
    nb = tdc.shape[0]
    capb = dcs.shape[1]
    capc = cv.shape[1] - 64
    for c in prange(first.shape[0] - 1):
        n = 0
        nc = 0
        status = ST_OK
        for j in range(first[c], first[c + 1]):
            p = seg_start[j]
            end = seg_end[j]
            want = min(per_interval, total - j * per_interval)
            b = 0
            for _ in range(want):
                if n >= capb or nc > capc:
                    status = ST_OVERFLOW
                    break
                ok, p2, diff, nc2 = _block(
                    clean, p, tdc[b], tac[b], fast, maxcode, valoffset, huffval, cv, c, nc, store, -1, natural
                )
                if not ok or p2 > end:
                    status = ST_BAD
                    break
                dcs[c, n] = diff
                nc = nc2
                cend[c, n] = nc
                n += 1
                p = p2
                b += 1
                if b == nb:
                    b = 0
            if status == ST_OK and end - p >= 8:
                status = ST_BAD
            if status != ST_OK:
                break
        out[c, O_N] = n
        out[c, O_STATUS] = status
