"""The kernels of split.py: the second thread's speculative Huffman decoding from the middle of a scan
(resumable, so that it can publish its records piece by piece), and the placing of its blocks, once
their global index and DC predictions are known, just before each band is reconstructed. Kernels see
arrays and scalars only and never raise."""

from __future__ import annotations

from ..base.jit import kernel
from .banded import _reconstruct_range
from .entropy import B_BASE, B_COMP, B_DX, B_DY, B_H, B_STRIDE, B_V
from .parallel_kernels import ST_END, ST_OK, ST_OVERFLOW, _block

# Slots of the speculative decoder's ``io`` array (its resumable state).
I_POS = 0  # bit position of the next block in the clean data
I_B = 1  # guessed block-in-MCU index of the next block
I_N = 2  # blocks decoded (records 0..n-1 hold their starts, record n the next position)
I_NC = 3  # AC entries written
I_CLEAN = 4  # first record after the last bad code (a sync point must be at or after it)
I_STATUS = 5  # parallel_kernels' ST_*
IO_SIZE = 6


@kernel
def _speculate(clean, nbits, stop, io, tdc, tac, fast, maxcode, valoffset, huffval, rec, dcs, cend, cv, dummy, natural):
    """Decode blocks from ``io[I_POS]`` until a block boundary at or after bit ``stop`` (or the data's
    end), as parallel_kernels' ``_phase1`` does for a chunk that is not the first: each block's start
    (``p * 16 + b``) goes to rec[0, n], its DC difference to dcs[0, n], the end of its AC entries (in
    cv[0]) to cend[0, n]; a bad code restarts the guess one bit later. Resumes from and returns to ``io``."""
    capb = rec.shape[1] - 1
    capc = cv.shape[1] - 64
    nb = tdc.shape[0]
    p = io[I_POS]
    b = io[I_B]
    n = io[I_N]
    nc = io[I_NC]
    clean_from = io[I_CLEAN]
    status = io[I_STATUS]
    while status == ST_OK and p < stop:
        if n >= capb or nc > capc:
            status = ST_OVERFLOW
            break
        rec[0, n] = p * 16 + b
        ok, p2, diff, nc2 = _block(
            clean, p, tdc[b], tac[b], fast, maxcode, valoffset, huffval, cv, 0, nc, dummy, -1, natural
        )
        if ok and p2 <= nbits:
            dcs[0, n] = diff
            cend[0, n] = nc2
            nc = nc2
            n += 1
            p = p2
            b += 1
            if b == nb:
                b = 0
        elif ok:
            status = ST_END
        else:
            p += 1
            b = 0
            clean_from = n
    rec[0, n] = p * 16 + b
    io[I_POS] = p
    io[I_B] = b
    io[I_N] = n
    io[I_NC] = nc
    io[I_CLEAN] = clean_from
    io[I_STATUS] = status


@kernel
def _place(i, g, gend, pred, blocks, mcus_x, natural, dcs, cend, cv, store):
    """Write records i, i + 1, ... as the scan's blocks g .. gend - 1 into the (zeroed) ``store``: DC = the
    running prediction ``pred`` (per scan component, updated; C int, then JCOEF, as entropy.py), AC
    entries where nonzero. Returns the next record."""
    nb = blocks.shape[0]
    mcu = g // nb
    b = g - mcu * nb
    mrow = mcu // mcus_x
    mcol = mcu - mrow * mcus_x
    a = 0 if i == 0 else cend[0, i - 1]
    while g < gend:
        row = (
            blocks[b, B_BASE]
            + (mrow * blocks[b, B_V] + blocks[b, B_DY]) * blocks[b, B_STRIDE]
            + mcol * blocks[b, B_H]
            + blocks[b, B_DX]
        )
        ci = blocks[b, B_COMP]
        dc = pred[ci] + dcs[0, i]
        dc = ((dc + 2147483648) & 0xFFFFFFFF) - 2147483648
        pred[ci] = dc
        store[row, 0] = ((dc + 32768) & 0xFFFF) - 32768
        e = cend[0, i]
        for q in range(a, e):
            x = cv[0, q]
            store[row, natural[(x >> 16) & 127]] = ((x & 0xFFFF) ^ 0x8000) - 0x8000
        a = e
        i += 1
        g += 1
        b += 1
        if b == nb:
            b = 0
            mcol += 1
            if mcol == mcus_x:
                mcol = 0
                mrow += 1
    return i


@kernel
def _advance(i, g, gend, pred, blocks, dcs):
    """The running DC prediction ``pred`` (updated) carried over records i, ... as the scan's blocks
    g .. gend - 1, without placing them. Returns the next record."""
    nb = blocks.shape[0]
    b = g % nb
    while g < gend:
        ci = blocks[b, B_COMP]
        dc = pred[ci] + dcs[0, i]
        pred[ci] = ((dc + 2147483648) & 0xFFFFFFFF) - 2147483648
        i += 1
        g += 1
        b += 1
        if b == nb:
            b = 0
    return i


@kernel
def _place_and_reconstruct(
    i, g, gend, r0, pred, blocks, mcus_x, imcu_div, natural, dcs, cend, cv, cfs, bblocks, bstore, bcfs, nbxs, mults,
    bufs, bhs, vs, methods, hexp, vexp, dws, dhs, cspace, out, width, vmax, ncomp, a, b, total, band, cont, fin, fprev,
):  # fmt: skip
    """Pixels of iMCU rows [a, b) (``cont``, ``fin``, ``fprev``: as banded._reconstruct_range's): rows
    before ``r0`` from the whole-image store (cfs[c]: component c's rows), the others band by band from
    the band store ``bstore`` (bcfs[c]; ``bblocks``: the scan's MCU geometry with its bases there; two
    iMCU rows more than a band), into which the records from i on are placed as the scan's blocks g, ...
    (up to ``gend``) just before the band is reconstructed. Block g must start the band's first row, or
    the row above it when the range starts at or after r0 without ``cont`` (that band reads it); a
    ``fin`` range ending before ``total`` places the row below its end too (and ends there).
    Returns (next record, next block, fprev)."""
    if a < r0:
        fprev = _reconstruct_range(
            cfs, 0, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, cspace, out, width, vmax, ncomp, a,
            min(r0, b), total, band, cont, fin and r0 >= b, fprev, True,
        )  # fmt: skip
        cont = True
    nb = blocks.shape[0]
    bl = bblocks.copy()
    for ma in range(max(a, r0), b, band):
        mb = min(b, ma + band)
        lo = ma if (cont or ma == 0) else ma - 1  # (the row above, for a range's first band)
        bstore[:] = 0
        for q in range(nb):  # row lo's first MCU row lands on the band store's first block row
            bl[q, B_BASE] = bblocks[q, B_BASE] - lo * imcu_div * bblocks[q, B_V] * bblocks[q, B_STRIDE]
        below = 1 if (fin and mb == b and mb < total) else 0  # (the row below, for a range's last band)
        need = min(gend, (mb + below) * imcu_div * mcus_x * nb)
        if need > g:
            i = _place(i, g, need, pred, bl, mcus_x, natural, dcs, cend, cv, bstore)
            g = need
        fprev = _reconstruct_range(
            bcfs, lo, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, cspace, out, width, vmax, ncomp, ma,
            mb, total, band, cont, fin and mb == b, fprev, True,
        )  # fmt: skip
        cont = True
    return i, g, fprev
