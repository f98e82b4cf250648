"""The two-thread plan of read_pixels (pipeline.py) for a file without restart markers: the scan's
Huffman decoding is split between the two threads by self-synchronization, and each thread then
reconstructs about half of the image (spec/decoder-reconstruction.md, "Banded decoding").

* A worker thread made for this call (a forked child works as its parent) copies the entropy-coded
  data from a byte near the middle of the scan (``SPLIT``) without stuffing (parallel_entropy.py's
  ``_unstuff``; anything unusual there -- a marker, fill bytes -- ends its part) and decodes it
  speculatively from there to the end (``_speculate``: the first block of an MCU is guessed, a bad
  code restarts the guess one bit later), recording every block's start. It publishes its records
  piece by piece.
* Meanwhile the calling thread decodes the scan from its start with entropy.py's sequential decoder
  (the resume slots), into the whole-image coefficient store, a few iMCU rows per call. Once it has
  passed the worker's first byte, at each iMCU row boundary it looks for a worker record at the same
  bit with a block-in-MCU index that parses alike (parallel_entropy's classes): from there both would
  decode the same bits the same way, so the worker's blocks are the scan's. It stops there (the sync
  row), keeping its state (DC predictions, warnings), and reconstructs rows [0, k) (banded.py's
  ``_reconstruct_range``), k about half, below the sync row.
* The worker checks the rest of its records (no bad code after the sync point, enough blocks, less
  than a byte left at the end: else the sequential decoder would warn), then reconstructs rows
  [k, end), placing its blocks into a band store (DC predictions from the caller's state) band by
  band just before they are reconstructed (``_place_and_reconstruct``).
* Each thread claims its rows CLAIM_ROWS at a time; one that finishes first takes the second half of
  the other's unclaimed rows (``_steal``): the worker the caller's, from the whole store; the caller the
  worker's, placing their blocks itself from the row above the first (``_advance`` carries the DC
  predictions over the records it skips). A caller done with its rows while the worker has not
  started its own waits at most TAKEOVER_WAIT, then decodes and reconstructs the worker's part itself.

Everything the speculation cannot vouch for goes the sequential way, so pixels, warnings and errors
are the one-thread path's: no sync found (or the data before it was damaged), the caller decodes the
whole scan and the worker only reconstructs its rows; the worker's records fail their check after a
sync, the worker decodes its rows from the caller's saved state with the sequential decoder (the
warnings log continues there) before reconstructing them. Threads wait on a condition variable,
never spinning; each kernel runs without the GIL.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import entropy as ed
from .banded import _reconstruct_range
from .compose import _four
from .parallel_entropy import _classes, _min_code_length, _unstuff
from .parallel_kernels import _PAD, ST_END, ST_OK
from .reader import _NATURAL_U8
from .split_kernels import I_CLEAN, I_N, I_POS, I_STATUS, IO_SIZE, _advance, _place_and_reconstruct, _speculate

#: Where the worker starts, as a fraction of the bytes from the scan's start to the end of the file. The
#: worker also copies the data, writes sparse records and places its blocks, so it gets less than half
#: (6.3 MP 4:2:0 q75, thread CPU per iMCU row: caller 0.079 ms entropy + 0.059 reconstruction, worker
#: 0.093 + 0.076).
SPLIT = 0.54
#: At most this share of the rows is reconstructed by the calling thread (all rows above the sync row
#: but one, when fewer: the rows it reconstructs must be in the store before the worker places its own).
SHARE = 0.56
#: iMCU rows per sequential call on the calling thread before the split point comes near.
STEP_ROWS = 4
#: The worker publishes its records after about this many iMCU rows' worth of data, then in pieces of
#: about a quarter of its data (a cancelled worker stops after the current piece).
FIRST_ROWS = 4
#: iMCU rows per claim when a thread reconstructs its rows (a thread that finishes first takes half of
#: the other's unclaimed rows).
CLAIM_ROWS = 8
#: Seconds the calling thread, done with its rows, waits for a worker that has not started its own (a
#: worker still speculating then, or descheduled, is slower than the caller decoding its part itself).
#: None: wait as long as it takes (tests).
TAKEOVER_WAIT: float | None = 0.003
#: iMCU rows the caller goes on looking for a sync point after the worker's first byte.
SEARCH_ROWS = 8

# Private overrides for tests: the split fraction and the caller's step.
_SPLIT: float | None = None
_STEP_ROWS: int | None = None
# _HOLD: "c" or "w": that thread reconstructs only after the other has done its rows and tried to take
# some of its own, so that every test run takes rows the same way; "spec": the worker waits, after the
# sync point is published, until the caller is done (as if descheduled). _SHARE: SHARE's override.
_HOLD: str | None = None
_SHARE: float | None = None

#: Counters and the last call's outcome (tests and bench read them). ``cpu``: thread CPU seconds of the
#: calling thread and the worker, then the caller's until its decision (sync or not), the worker's until
#: its speculation ended and until its records were checked; ``rows``: sync row (-1: none), k, iMCU rows;
#: ``stolen``: rows the caller took from the worker's share, and the worker from the caller's;
#: ``takeover``: calls whose caller, done with its rows while the worker had not started its own, decoded
#: and reconstructed the worker's part itself (counted as ``rejected`` too when there was a sync point).
STATS = {"synced": 0, "unsynced": 0, "rejected": 0, "takeover": 0, "reason": "", "cpu": (0.0, 0.0), "rows": (0, 0, 0)}


def _wait(cond, ready):
    with cond:
        while not ready():
            cond.wait()


def decode_split(reader, blocks, mcus_x, mcus_y, imcu_div, tables, state, args, cfs, components, new_bufs) -> None:
    """Decode the scan (``state``: its resume state) into pixels (``args``: the reconstruction's, as
    pipeline.py's) on two threads (module docstring). ``cfs``: the store's component views;
    ``new_bufs()``: one set of band plane buffers."""
    nbxs, mults, bhs, vs, methods, hexp, vexp, dws, dhs, code, out, width, vmax, ncomp, total, band = args
    t0 = time.thread_time()
    data, store, log = reader.data, reader.store, reader.log
    nb = blocks.shape[0]
    total_blocks = mcus_x * mcus_y * nb
    start = int(state[ed.S_POS])
    mid = start + int((len(data) - start) * (SPLIT if _SPLIT is None else _SPLIT))
    while 0 < mid < len(data) and data[mid - 1] == 0xFF:  # not between an FF and the byte after it
        mid += 1
    _lookup, maxcode, _valoffset, _huffval, fast = tables
    tdc = np.ascontiguousarray(blocks[:, ed.B_DCTBL])
    tac = np.ascontiguousarray(blocks[:, ed.B_ACTBL])
    cls = _classes(tdc, tac)
    cond = threading.Condition()
    # The worker's published progress (records [0, n) final up to bit ``pos``; ``done``: no more), the
    # caller's decision (``sync``: None until made; then a dict) and the worker's outcome.
    shared = {"n": 0, "pos": -1, "done": False, "cancel": False, "sync": None, "error": None, "cpu": 0.0}
    # The rows each thread reconstructs: [next row to claim, end) (claimed and stolen under ``cond``).
    ranges = {"c": [0, 0], "w": [0, 0]}
    spec = {}

    def publish(**kw):
        with cond:
            shared.update(kw)
            cond.notify_all()

    def speculate():
        m, end, _, ok = _unstuff(data, mid, False, clean, np.empty(0, np.int64))
        if not ok or m == 0:
            return "unusual data after the split"
        clean[m:] = 0
        nbits = 8 * m
        min_bits = max(2, min(_min_code_length(maxcode, tdc[b]) + _min_code_length(maxcode, tac[b]) for b in range(nb)))
        capb = min(nbits // min_bits, total_blocks) + 16
        capc = min(63 * capb, nbits // 2 + 64)
        rec = np.empty((1, capb + 1), np.int64)
        dcs = np.empty((1, capb + 1), np.int32)
        cend = np.empty((1, capb + 1), np.int32)
        cv = np.empty((1, capc + 64), np.int32)
        io = np.zeros(IO_SIZE, np.int64)
        spec.update(rec=rec, dcs=dcs, cend=cend, cv=cv, io=io, nbits=nbits, end=end)
        rows = max(1, total - total * (mid - start) // max(1, len(data) - start))  # (about) the worker's rows
        stop = min(nbits, nbits * FIRST_ROWS // rows + 64)
        piece = max(nbits // 4, 64)
        kernel_args = (tdc, tac, fast, maxcode, _valoffset, _huffval, rec, dcs, cend, cv, dummy, _NATURAL_U8)
        while True:
            _speculate(clean, nbits, stop, io, *kernel_args)
            last = io[I_STATUS] != ST_OK or io[I_POS] >= nbits
            with cond:
                shared["n"], shared["pos"] = int(io[I_N]), int(io[I_POS])
                shared["done"] = bool(last)
                cond.notify_all()
                if last or shared["cancel"]:
                    return None if io[I_STATUS] in (ST_OK, ST_END) else "speculation overflowed"
            stop = min(nbits, stop + piece)

    def whole(a, b, bufs):  # rows [a, b) of the caller's, from the whole-image store
        _reconstruct_range(
            cfs, 0, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, code, out, width, vmax, ncomp, a, b,
            total, band, False, True, 0, True,
        )  # fmt: skip

    def worker():
        try:
            reason = speculate()
            phases.append(time.thread_time())
            if reason is not None:
                publish(done=True, failed=reason)
            _wait(cond, lambda: shared["sync"] is not None)
            if _HOLD == "spec":  # (tests: as if this thread were descheduled until the caller is done)
                _wait(cond, lambda: shared.get("c over"))
            with cond:  # from here the caller can no longer take this thread's part over
                if shared.get("takeover"):
                    return
                shared["working"] = True
            sync = shared["sync"]
            k, g, wstate = sync["k"], sync["g"], sync["state"]
            i = g
            if sync["row"] is not None:
                reason = _check(spec, sync["rec"], total_blocks - g)
                if reason is None:
                    i = sync["rec"]
                else:  # the sequential decoder decodes the worker's rows after all
                    shared["reason"] = reason
                    ed._decode_sequential(
                        data, store, blocks, mcus_x, mcus_y, imcu_div, 0, *tables, _NATURAL_U8, wstate, log
                    )  # fmt: skip
                    g = total_blocks
            phases.append(time.thread_time())
            pred = wstate[ed.R_DC : ed.R_DC + 4].copy()
            r0 = g // (imcu_div * mcus_x * nb) if g < total_blocks else total
            if spec.get("rec") is None:
                spec.update(dcs=dummy32, cend=dummy32, cv=dummy32)
            with cond:  # from here the caller may take the end of the worker's rows
                ranges["w"] = [k, total]
                shared["from"] = (r0, i, g, pred.copy())
                cond.notify_all()
            bbl, bstore, bcfs = _band_store(reader, blocks, components, band + 2)
            bufs = new_bufs()
            at = [i, g]

            def rows(a, b, cont, fin, fprev):
                at[0], at[1], fprev = _place_and_reconstruct(
                    at[0], at[1], total_blocks, r0, pred, blocks, mcus_x, imcu_div, _NATURAL_U8, spec["dcs"],
                    spec["cend"], spec["cv"], cfs, bbl, bstore, bcfs, nbxs, mults, bufs, bhs, vs, methods, hexp,
                    vexp, dws, dhs, code, out, width, vmax, ncomp, a, b, total, band, cont, fin, fprev,
                )  # fmt: skip
                return fprev

            if _HOLD == "w":
                _wait(cond, lambda: shared.get("c over"))
            _own(cond, ranges, "w", rows)
            stolen = _steal(cond, ranges, "c", None)
            if stolen is not None:
                shared["stolen w"] = stolen[1] - stolen[0]
                whole(stolen[0], stolen[1], bufs)
        except BaseException as exc:  # re-raised on the calling thread
            shared["error"] = exc
        finally:
            publish(done=True, **{"w over": True})
        shared["cpu"] = time.thread_time() - t_worker[0]

    clean = np.empty(max(len(data) - mid, 0) + _PAD, np.uint8)
    dummy = np.zeros((1, 64), np.int16)
    dummy32 = np.zeros((1, 1), np.int32)
    t_worker = [0.0]
    phases = []

    def run():
        t_worker[0] = time.thread_time()
        worker()

    thread = threading.Thread(target=run, name="fdjpeg-split", daemon=True)
    thread.start()
    sync = None
    try:
        sync = _search(reader, blocks, mcus_x, mcus_y, imcu_div, tables, state, mid, cls, cond, shared, spec)
    finally:
        if sync is None:  # the whole scan decoded here (or an error): the worker reconstructs rows [k, end)
            sync = {"row": None, "k": total // 2, "g": total_blocks, "state": state}
            ranges["c"] = [0, sync["k"]]
            publish(cancel=True, sync=sync)
        else:
            ranges["c"] = [0, sync["k"]]
            publish(sync=sync)
    t1 = time.thread_time()
    bufs = new_bufs()

    def mine(a, b, cont, fin, fprev):
        return _reconstruct_range(
            cfs, 0, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, code, out, width, vmax, ncomp, a, b,
            total, band, cont, fin, fprev, True,
        )  # fmt: skip

    if _HOLD == "c":
        _wait(cond, lambda: shared.get("w over"))
    _own(cond, ranges, "c", mine)
    with cond:
        # A worker still speculating (or waiting for a core) TAKEOVER_WAIT seconds after this thread is
        # done: its part is decoded and reconstructed here instead, from the saved state at the sync point.
        working = cond.wait_for(lambda: shared.get("working") or shared.get("w over"), TAKEOVER_WAIT)
        if working:  # (then the worker soon publishes where its records start, or it has ended)
            cond.wait_for(lambda: "from" in shared or shared.get("w over"))
        source = shared.get("from")
        stolen = _steal(cond, ranges, "w", source[0]) if source is not None else None
        takeover = not working
        shared["takeover"] = shared["cancel"] = takeover
    publish(**{"c over": True})
    if takeover:
        k = sync["k"]
        if sync["row"] is not None:
            ed._decode_sequential(
                data, store, blocks, mcus_x, mcus_y, imcu_div, 0, *tables, _NATURAL_U8, sync["state"], log
            )  # fmt: skip
        if k < total:
            whole(k, total, bufs)
    if stolen is not None:  # the end of the worker's rows
        shared["stolen c"] = stolen[1] - stolen[0]
        r0, i, g, pred = source
        x, end = stolen
        if x > r0:  # (the records from the row above x on)
            g1 = (x - 1) * imcu_div * mcus_x * nb
            i, g = _advance(i, g, g1, pred, blocks, spec["dcs"]), g1
        bbl, bstore, bcfs = _band_store(reader, blocks, components, band + 2)
        _place_and_reconstruct(
            i, g, total_blocks, r0, pred, blocks, mcus_x, imcu_div, _NATURAL_U8, spec["dcs"], spec["cend"],
            spec["cv"], cfs, bbl, bstore, bcfs, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, code, out,
            width, vmax, ncomp, x, end, total, band, False, True, 0,
        )  # fmt: skip
    thread.join()
    if shared["error"] is not None:
        raise shared["error"]
    k = sync["k"]
    if takeover:
        STATS["takeover"] += 1
    if sync["row"] is not None:
        if takeover or "reason" in shared:  # the rows after the sync point were decoded sequentially
            state[:] = sync["state"]
            STATS["rejected"] += 1
            STATS["reason"] = "taken over" if takeover else shared["reason"]
        else:
            state[ed.S_POS] = spec["end"]
            state[ed.S_MARKER] = 0
            state[ed.S_LAST_GOOD] = (mcus_y - 1) // imcu_div
            STATS["synced"] += 1
            STATS["reason"] = ""
    else:
        STATS["unsynced"] += 1
        STATS["reason"] = shared.get("failed", "no sync point")
    STATS["cpu"] = (time.thread_time() - t0, shared["cpu"], t1 - t0, *(x - t_worker[0] for x in phases))
    STATS["stolen"] = (shared.get("stolen c", 0), shared.get("stolen w", 0))
    STATS["rows"] = (sync["row"] if sync["row"] is not None else -1, k, total)


def _own(cond, ranges, name, rows) -> None:
    """Reconstruct this thread's rows ranges[name], CLAIM_ROWS at a time (``rows(a, b, cont, fin, fprev)``
    returns fprev); the other thread may shorten the range meanwhile."""
    cont, fprev = False, 0
    while True:
        with cond:
            nxt, lim = ranges[name]
            if nxt >= lim:
                return
            end = min(lim, nxt + CLAIM_ROWS)
            ranges[name][0] = end
        fprev = rows(nxt, end, cont, end == lim, fprev)
        cont = True


def _steal(cond, ranges, name, avoid):
    """Take the second half of the rows the other thread has not claimed yet: (start, end), or None.
    ``avoid``: a start row not allowed (the sync row: its row above is in neither the store's part nor
    the records)."""
    with cond:
        nxt, lim = ranges[name]
        x = nxt + (lim - nxt) // 2
        if x == avoid:
            x += 1
        if lim - nxt < 2 or x >= lim:
            return None
        ranges[name][1] = x
        return x, lim


def _band_store(reader, blocks, components, band):
    """A store of ``band`` iMCU rows: the scan's MCU geometry with its bases there, the store and its
    component views."""
    where, spans, base = {}, [], 0
    for c, (_, gx), whole in zip(components, reader.grids, reader.bases):
        where[whole] = base
        spans.append((base, c.v * band * gx))
        base += c.v * band * gx
    store = np.empty((base, 64), np.int16)
    bblocks = blocks.copy()
    bblocks[:, ed.B_BASE] = [where[int(x)] for x in blocks[:, ed.B_BASE]]
    return bblocks, store, tuple(_four([store[a : a + n] for a, n in spans]))


def _check(spec, j, need) -> str | None:
    """None when the worker's records from ``j`` on are ``need`` blocks of a clean scan end."""
    io, rec = spec["io"], spec["rec"]
    if io[I_STATUS] not in (ST_OK, ST_END):
        return "speculation overflowed"
    if j < io[I_CLEAN]:
        return "bad code after the sync point"
    if io[I_N] - j < need:
        return "data ended early"
    if spec["nbits"] - (int(rec[0, j + need]) >> 4) >= 8:
        return "data left after the last block"
    return None


def _search(reader, blocks, mcus_x, mcus_y, imcu_div, tables, state, mid, cls, cond, shared, spec):
    """The caller's part of the entropy decoding (module docstring): the sync dict, or None when the
    whole scan was decoded here."""
    data, store, log = reader.data, reader.store, reader.log
    step = max(1, _STEP_ROWS or STEP_ROWS) * imcu_div
    start = int(state[ed.S_POS])
    total = -(-mcus_y // imcu_div)
    searching, tries = True, 0
    row = 0
    stuffed, counted = 0, mid  # FF 00 pairs in data[mid:counted]
    while row < mcus_y:
        nxt = min(mcus_y, row + step)
        pos = int(state[ed.S_POS])
        if searching and row > 0 and pos < mid:  # near the split: smaller steps
            per_row = max(1, (pos - start) // row)
            nxt = min(nxt, row + max(imcu_div, (mid - pos) // per_row // imcu_div * imcu_div))
        ed._decode_sequential(data, store, blocks, mcus_x, nxt, imcu_div, 0, *tables, _NATURAL_U8, state, log)
        row = nxt
        pos = int(state[ed.S_POS])
        if not searching or row >= mcus_y or pos <= mid:
            continue
        if state[ed.S_MARKER] != 0 or state[ed.R_INSUFFICIENT] != 0 or tries >= SEARCH_ROWS:
            searching = False
            with cond:
                shared["cancel"] = True
            continue
        tries += 1
        seg = data[counted:pos]  # (a reader position never falls between an FF and its 00)
        stuffed += int(np.count_nonzero((seg[:-1] == 0xFF) & (seg[1:] == 0)))
        counted = pos
        p = 8 * (pos - mid - stuffed) - int(state[ed.R_BITS])
        if p < 0:
            continue
        with cond:  # (the worker's records [0, n) are final)
            while not (shared["done"] or shared["pos"] > p):
                cond.wait()
            n = shared["n"]
        rec = spec.get("rec")
        if "failed" in shared or rec is None:  # (None: the worker stopped with an error)
            searching = False
            continue
        i = int(np.searchsorted(rec[0, :n], p * 16))
        if i < n and int(rec[0, i]) >> 4 == p and cls[int(rec[0, i]) & 15] == cls[0]:
            k = max(0, min(int(total * (SHARE if _SHARE is None else _SHARE)), row // imcu_div - 1))
            g = row * mcus_x * blocks.shape[0]
            return {"row": row, "rec": i, "k": k, "g": g, "state": state.copy()}
    return None
