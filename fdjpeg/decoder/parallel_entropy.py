"""Parallel Huffman decoding of one sequential scan on CPU threads, exact by self-synchronization
(spec/decoder-parsing.md, "Parallel entropy decoding").

Only clean streams take this path; ``try_decode`` returns False for anything else and the caller runs
entropy.py's sequential decoder, which keeps libjpeg's warnings and resynchronisation. Steps:

1. ``_unstuff``: the entropy-coded segment is copied once into a clean byte array (FF 00 -> FF), the
   restart markers' positions are noted, and anything unusual (fill bytes, RSTn out of order or where
   there is no restart interval, DNL, no marker before the end of the data) makes the scan unclean.
2. Chunks. With restart markers each chunk is a run of whole restart intervals: its start, global
   block index and DC predictors (zero) are known. Without them the bit array is cut into equal
   chunks; chunk 0 starts at the true start, every other chunk's decoder starts at its first bit with
   a guess (first block of an MCU) and decodes speculatively, recording each block's start (bit
   position and block-in-MCU index) -- ``_phase1``.
3. ``_phase2``: the decoder of chunk i goes on past its end into chunk i+1 and stops at the first
   block boundary where its (position, block-in-MCU class) equals a record of chunk i+1's decoder.
   From that record on both decoders would read exactly the same bits the same way, so chunk i+1's
   output from there is the true one. A decoder that finds no such record goes on into the next
   chunk's records, up to the end of the data (then it has decoded the rest sequentially).
4. The chain of sync points gives every block its global index; DC differences are summed per chunk
   and component, prefixed across chunks (``_dc_sums``), and ``_scatter`` writes the coefficients.

Decoders write sparse per-chunk buffers (per block: start record, DC difference, end of its AC list;
per nonzero AC coefficient: ``k << 16 | value``), so nothing reaches the coefficient store before the
whole scan is known to be clean.
"""

from __future__ import annotations

import numpy as np

from ..base.jit import PARALLEL_MIN_BLOCKS, kernel, num_threads, use_threads
from .entropy import B_ACTBL, B_BASE, B_COMP, B_DCTBL, B_STRIDE, B_V, S_LAST_GOOD, S_MARKER, S_POS
from .parallel_kernels import (
    _PAD,
    O_CLEAN,
    O_COLS,
    O_N,
    O_STATUS,
    O_SYNC_J,
    O_SYNC_L,
    O_SYNC_T,
    ST_END,
    ST_OK,
    _dc_sums,
    _intervals,
    _phase1,
    _phase2,
    _scatter,
)

# Private overrides for tests: chunks per scan (None: one per thread) and the smallest scan (blocks)
# that takes the parallel path (None: PARALLEL_MIN_BLOCKS, and only with more than one thread).
_FORCE_CHUNKS: int | None = None
_MIN_BLOCKS: int | None = None

#: Counters and the last scan's sync statistics (tests and bench read them).
STATS = {"parallel": 0, "fallback": 0, "reason": "", "sync_bits": [], "sync_blocks": []}


@kernel
def _unstuff(data, start, interval_on, clean, rst):
    """Copy the entropy-coded data from ``start`` into ``clean`` without stuffing. Returns (clean bytes,
    offset of the ending marker's FF, restart markers found, ok). ``rst[i]``: clean offset where the
    data after the i-th RSTn starts."""
    n = data.shape[0]
    i = start
    m = 0
    nrst = 0
    while i < n:
        c = data[i]
        if c != 0xFF:
            clean[m] = c
            m += 1
            i += 1
            continue
        if i + 1 >= n:
            return m, i, nrst, False
        c2 = data[i + 1]
        if c2 == 0:
            clean[m] = 0xFF
            m += 1
            i += 2
            continue
        if 0xD0 <= c2 <= 0xD7:
            if not interval_on or nrst >= rst.shape[0] or c2 != 0xD0 + (nrst & 7):
                return m, i, nrst, False
            rst[nrst] = m
            nrst += 1
            i += 2
            continue
        if c2 == 0xFF or c2 == 0xDC:  # fill bytes, DNL: the sequential decoder's business
            return m, i, nrst, False
        return m, i, nrst, True
    return m, i, nrst, False


def _fail(reason: str) -> bool:
    STATS["fallback"] += 1
    STATS["reason"] = reason
    return False


def _min_code_length(maxcode: np.ndarray, t: int) -> int:
    for length in range(1, 17):
        if maxcode[t, length] >= 0:
            return length
    return 16


def _classes(tdc: np.ndarray, tac: np.ndarray) -> np.ndarray:
    """Block-in-MCU indices whose table sequences from there on are the same rotation parse alike: a
    sync point needs the same class, not the same index."""
    pairs = list(zip(tdc.tolist(), tac.tolist()))
    rotations = [tuple(pairs[b:] + pairs[:b]) for b in range(len(pairs))]
    return np.array([rotations.index(r) for r in rotations], dtype=np.int64)


def _chunk_count(total: int) -> int | None:
    if _FORCE_CHUNKS is not None:
        return _FORCE_CHUNKS
    if total < (PARALLEL_MIN_BLOCKS if _MIN_BLOCKS is None else _MIN_BLOCKS):
        return None  # (tested first: asking Numba for its thread count starts its thread pool)
    threads = num_threads()
    return threads if threads > 1 else None


def try_decode(data, store, blocks, mcus_x, mcus_y, imcu_div, interval, tables, natural, state, fresh=False) -> bool:
    """Decode one sequential Huffman scan in parallel into ``store`` and advance ``state`` as
    entropy._decode_sequential would; False (store unchanged) when the scan is small, or not clean.
    ``fresh``: no earlier scan wrote these components (their rows are zero), so the first chunk may
    write the store directly, and the rows are zeroed again if the scan then falls back."""
    nb = blocks.shape[0]
    total = mcus_x * mcus_y * nb
    nchunks = _chunk_count(total)
    if nchunks is None:
        return False
    STATS["sync_bits"], STATS["sync_blocks"] = [], []
    if state[S_MARKER] != 0:
        return _fail("marker pending")
    _lookup, maxcode, valoffset, huffval, fast = tables
    start = int(state[S_POS])
    clean = _scratch("clean", np.uint8, (max(data.shape[0] - start, 0) + _PAD,))
    total_mcus = mcus_x * mcus_y
    nint = -(-total_mcus // interval) if interval else 1
    rst = np.empty(nint - 1, dtype=np.int64)
    m, end, nrst, ok = _unstuff(data, start, interval != 0, clean, rst)
    if not ok or nrst != nint - 1:
        return _fail("unusual segment")
    clean[m:] = 0
    nbits = 8 * m
    tdc = np.ascontiguousarray(blocks[:, B_DCTBL])
    tac = np.ascontiguousarray(blocks[:, B_ACTBL])
    comp = np.ascontiguousarray(blocks[:, B_COMP])
    args = (fast, maxcode, valoffset, huffval)
    direct = bool(fresh) and not interval
    if interval:
        found = _restart_segments(clean, nbits, rst, interval * nb, total, nchunks, tdc, tac, args, store, natural)
        reset = interval * nb
    else:
        found = _speculative_segments(
            clean, nbits, nchunks, total, tdc, tac, args, (direct, store, blocks, mcus_x, natural, total)
        )
        reset = 0
    if isinstance(found, str):
        if direct:
            for base, stride, v in {(int(r[B_BASE]), int(r[B_STRIDE]), int(r[B_V])) for r in blocks}:
                store[base : base + stride * v * mcus_y] = 0
        return _fail(found)
    segs, dcs, cend, cv = found
    if not interval:  # (restart groups start their DC predictions at zero: not cut)
        segs = _split(segs, num_threads() if use_threads(total) else 1)
    pred = np.zeros((segs.shape[0], 4), dtype=np.int64)
    if not interval and segs.shape[0] > 1:
        sums = np.zeros_like(pred)
        _dc_sums(segs, comp, dcs, sums, 0)  # a light pass: serial twin, no thread wake-up
        pred[1:] = np.cumsum(sums[:-1], axis=0)
        pred = ((pred + 2147483648) & 0xFFFFFFFF) - 2147483648
    if direct:  # chunk 0's blocks are in the store already
        keep = segs[:, 0] != 0
        segs, pred = np.ascontiguousarray(segs[keep]), np.ascontiguousarray(pred[keep])
    _scatter(segs, pred, reset, blocks, mcus_x, natural, dcs, cend, cv, store, total)
    state[S_POS] = end
    state[S_MARKER] = 0
    state[S_LAST_GOOD] = (mcus_y - 1) // imcu_div
    STATS["parallel"] += 1
    return True


def _scratch(name: str, dtype, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised work array. (Keeping them per thread between calls saved no measurable time: the
    page faults of fresh buffers are a small part of the decoding; ``name`` documents the use.)"""
    return np.empty(shape, dtype=dtype)


def _buffers(nchunks: int, capb: int, capc: int):
    return (
        _scratch("dcs", np.int32, (nchunks, capb)),
        _scratch("cend", np.int32, (nchunks, capb)),
        _scratch("cv", np.int32, (nchunks, capc + 64)),
    )


def _restart_segments(clean, nbits, rst, per_interval, total, nchunks, tdc, tac, args, store, natural):
    nint = rst.shape[0] + 1
    groups = min(nint, nchunks)
    first = (np.arange(groups + 1, dtype=np.int64) * nint) // groups
    seg_start = np.concatenate(([0], rst)) * 8
    seg_end = np.concatenate((rst, [nbits // 8])) * 8
    capb = int(np.max(np.diff(first))) * per_interval
    capc = min(63 * capb, nbits // 2 + 64)
    dcs, cend, cv = _buffers(groups, capb, capc)
    out = np.zeros((groups, O_COLS), dtype=np.int64)
    _intervals(
        clean,
        seg_start,
        seg_end,
        first,
        per_interval,
        total,
        tdc,
        tac,
        *args,
        dcs,
        cend,
        cv,
        out,
        store,
        natural,
        total,
    )
    if np.any(out[:, O_STATUS] != ST_OK):
        return "restart interval not clean"
    g = first[:-1] * per_interval
    segs = np.stack([np.arange(groups), np.zeros(groups, dtype=np.int64), out[:, O_N], g], axis=1)
    return np.ascontiguousarray(segs, dtype=np.int64), dcs, cend, cv


def _split(segs: np.ndarray, pieces: int) -> np.ndarray:
    """Segments cut into about ``pieces`` equal runs of blocks per thread, for the scatter's balance."""
    size = max(1, -(-int(np.sum(segs[:, 2] - segs[:, 1])) // pieces))
    out = []
    for c, lo, hi, g in segs.tolist():
        while hi - lo > size:
            out.append((c, lo, lo + size, g))
            lo, g = lo + size, g + size
        out.append((c, lo, hi, g))
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def _speculative_segments(clean, nbits, nchunks, total, tdc, tac, args, direct_args):
    nchunks = max(1, min(nchunks, nbits // 64))
    maxcode = args[1]
    nb = tdc.shape[0]
    min_bits = max(2, min(_min_code_length(maxcode, tdc[b]) + _min_code_length(maxcode, tac[b]) for b in range(nb)))
    capb = min(total + nbits // nchunks // min_bits, nbits // min_bits) + 16
    capc = min(63 * capb, nbits // 2 + 64)
    rec = _scratch("rec", np.int64, (nchunks, capb + 1))
    dcs, cend, cv = _buffers(nchunks, capb + 1, capc)
    starts = (np.arange(nchunks + 1, dtype=np.int64) * nbits) // nchunks
    out = np.zeros((nchunks, O_COLS), dtype=np.int64)
    out[:, O_SYNC_T] = -1
    _phase1(
        clean,
        nbits,
        starts[:-1].copy(),
        starts[1:].copy(),
        tdc,
        tac,
        *args,
        rec,
        dcs,
        cend,
        cv,
        out,
        *direct_args,
        total,
    )
    if out[0, O_STATUS] not in (ST_OK, ST_END):
        return "bad code or overflow at the start"
    n1 = out[:, O_N].copy()
    if nchunks > 1:
        cls = _classes(tdc, tac)
        _phase2(
            clean, nbits, n1, cls, tdc, tac, *args, rec, dcs, cend, cv, out, *direct_args, 0
        )  # serial: a few blocks per chunk
    segs = []
    sync_bits, sync_blocks = [], []
    c, lo, g = 0, 0, 0
    while True:
        if out[c, O_STATUS] not in (ST_OK, ST_END):
            return "bad code or overflow"
        if c > 0 and lo < out[c, O_CLEAN]:
            return "sync before a bad code"
        t = int(out[c, O_SYNC_T])
        hi = int(out[c, O_N] if t < 0 else out[c, O_SYNC_L])
        if g + hi - lo >= total:
            hi = lo + total - g
            segs.append((c, lo, hi, g))
            g = total
            break
        segs.append((c, lo, hi, g))
        g += hi - lo
        if t < 0:
            return "data ended early"
        j = int(out[c, O_SYNC_J])
        sync_bits.append(int(rec[t, j] >> 4) - int(starts[t]))
        sync_blocks.append(j)
        c, lo = t, j
    c, lo, hi, g0 = segs[-1]
    if nbits - int(rec[c, hi] >> 4) >= 8:
        return "data left after the last block"
    STATS["sync_bits"] = sync_bits
    STATS["sync_blocks"] = sync_blocks
    return np.array(segs, dtype=np.int64), dcs, cend, cv
