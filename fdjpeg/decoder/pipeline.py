"""``read_pixels``: read_coefficients for files whose pixels can be made while the scan is decoded --
one sequential Huffman scan of 8-bit data holding every component, which is then the file's only scan
(parser.py refuses a second one) -- returning the pixels instead (spec/decoder-reconstruction.md,
"Banded decoding"). Other files get their ``JPEGCoefficients`` as from read_coefficients.

One thread (or a small image): banded.py's ``_decode_bands``, entropy decoding and reconstruction one
band of iMCU rows at a time in cache-sized buffers. Exactly two threads, at least PARALLEL_MIN_BLOCKS
blocks and no restart markers: split.py (the scan's Huffman decoding split between the threads by
self-synchronization, each thread then reconstructing its part). The former two-thread plan, kept for
comparison (``_FORCE = "pipeline"``, bench/decode_two.py), is a pipeline: its critical path holds the
whole scan's Huffman decoding. The calling thread decodes the scan in chunks of iMCU rows
(entropy.py's resume slots), each into its own small coefficient store, and hands each chunk to a
worker thread made for this call (a forked child works as its parent); the worker reconstructs the
chunks in order (``_reconstruct_range``) and drops each one when done, so the allocator gives its
memory, still in cache, to a later chunk; when it catches up it waits, without spinning, on a
condition variable. When the scan is decoded, the calling thread takes about half of the rows the
worker has not claimed, from a row inside a chunk (the block rows above and below it, which its
context rows need, are then in one store), and both finish their ranges. Each kernel runs without
the GIL.
"""

from __future__ import annotations

import threading
import types

import numpy as np

from ..base.errors import JPEGError
from ..base.jit import PARALLEL_MIN_BLOCKS, num_threads
from ..base.layout import ceil_div, component_blocks, component_grid
from . import entropy as ed
from .banded import BAND_ROWS, _decode_bands, _reconstruct_range
from .compose import _COMPOSE, _four, compose_params, validate_for_pixels
from .idct import idct_multipliers
from .reader import _NATURAL_U8, _CoefficientReader
from .split import decode_split

# Private overrides for tests: iMCU rows per band and per pipeline chunk, and the plan for every file
# that qualifies ("bands", "pipeline" or "coefficients"; None: _choose's).
_BAND_ROWS: int | None = None
_CHUNK_ROWS: int | None = None
_FORCE: str | None = None

#: Scans decoded by each plan (tests and bench read them).
STATS = {"bands": 0, "pipeline": 0, "split": 0}

#: iMCU rows per pipeline chunk: the worker's wait before its first band, and the number of hand-offs.
CHUNK_ROWS = 4


class _PixelReader(_CoefficientReader):
    """read_coefficients' reader, making pixels for the first scan when it qualifies (module docstring)."""

    def __init__(self, raw: bytes, max_pixels: int | None, max_scans: int | None):
        super().__init__(raw, max_pixels, max_scans)
        self.plan = None  # None (coefficients), "bands" or "pipeline"
        self.pixels = None

    def _choose(self, hdr) -> str | None:
        scan = hdr.scans[-1]
        if hdr.sof_marker not in (0xC0, 0xC1) or hdr.precision != 8 or len(scan.components) != len(hdr.components):
            return None
        probe = types.SimpleNamespace(
            width=hdr.width,
            height=hdr.height,
            components=hdr.components,
            colorspace=hdr.colorspace,
            sampling=hdr.sampling,
            max_sampling=hdr.max_sampling,
        )
        try:
            validate_for_pixels(probe)  # else coefficients_to_pixels raises its error after the walk
        except JPEGError:
            return None
        if _FORCE is not None:
            if _FORCE == "split" and self.parser.restart_interval != 0:
                return "bands"  # (split.py decodes scans without restart markers only)
            return None if _FORCE == "coefficients" else _FORCE
        hmax, vmax = hdr.max_sampling
        blocks = sum(int(np.prod(component_grid(hdr.width, hdr.height, c.h, c.v, hmax, vmax))) for c in hdr.components)
        if blocks < PARALLEL_MIN_BLOCKS:  # (tested first: asking Numba for its thread count starts its threads)
            return "bands"
        threads = num_threads()
        if threads == 1:
            return "bands"
        # Two threads: entropy decoding split between them by self-synchronization, then reconstruction
        # (split.py). More threads, or restart markers (whose intervals parallel_entropy.py splits
        # exactly): every stage on every thread (decompress.py).
        return "split" if threads == 2 and self.parser.restart_interval == 0 else None

    def _allocate(self, hdr, offset: int) -> None:
        self.plan = self._choose(hdr)
        if self.plan in (None, "split"):  # (split: the whole-image store)
            super()._allocate(hdr, offset)
            return
        rows = _rows(self.plan)
        hmax, vmax = hdr.max_sampling
        base = 0
        for c in hdr.components:  # a store of one band or chunk: v * rows block rows per component
            self.real.append(component_blocks(hdr.width, hdr.height, c.h, c.v, hmax, vmax))
            gy, gx = component_grid(hdr.width, hdr.height, c.h, c.v, hmax, vmax)
            self.grids.append((gy, gx))
            self.bases.append(base)
            base += c.v * rows * gx
        self.store = np.empty((base, 64), np.int16)  # (bands: zeroed band by band; pipeline: the size of one)
        self.latched = [None] * len(hdr.components)

    def _sequential(self, blocks, mcus_x, mcus_y, imcu_div, interval, tables, fresh) -> int:
        if self.plan is None:
            return super()._sequential(blocks, mcus_x, mcus_y, imcu_div, interval, tables, fresh)
        hdr = self.parser.header
        width, height = int(hdr.width), int(hdr.height)
        vmax = hdr.max_sampling[1]
        total = ceil_div(height, 8 * vmax)
        band = _BAND_ROWS or BAND_ROWS
        code, channels = _COMPOSE[hdr.colorspace]
        out = np.empty((height, width * channels), np.uint8)
        state = np.zeros(ed.RESUME_STATE_SIZE, np.int64)
        state[: ed.STATE_SIZE] = self.state
        state[ed.R_RESTARTS_TO_GO] = interval
        mults = tuple(_four([idct_multipliers(np.asarray(t).reshape(64)) for t in self.latched]))
        bhs = np.array(_four([hb for hb, _ in self.real]), np.int64)
        vs = np.array(_four([c.v for c in hdr.components]), np.int64)
        nbxs = np.array(_four([gx for _, gx in self.grids]), np.int64)
        params = compose_params(hdr.sampling, width, height)
        ncomp = len(hdr.components)
        geometry = (width, vmax, ncomp)
        rows = _rows(self.plan)
        spans = [(b, c.v * rows * gx) for b, c, (_, gx) in zip(self.bases, hdr.components, self.grids)]
        if self.plan == "split":
            args = (nbxs, mults, bhs, vs, *params, code, out, *geometry, total, band)
            cfs = tuple(_four([self.store[b : b + gy * gx] for b, (gy, gx) in zip(self.bases, self.grids)]))
            decode_split(
                self, blocks, mcus_x, mcus_y, imcu_div, tables, state, args, cfs, hdr.components,
                lambda: _plane_buffers(self.real, hdr.components, band),
            )  # fmt: skip
        elif self.plan == "bands":
            cfs = tuple(_four([self.store[b : b + n] for b, n in spans]))
            bufs = _plane_buffers(self.real, hdr.components, band)
            _decode_bands(
                self.data, blocks, blocks[:, ed.B_BASE].copy(), mcus_x, mcus_y, imcu_div, interval, *tables,
                _NATURAL_U8, state, self.log, self.store, cfs, nbxs, mults, bufs, bhs, vs, *params, code, out,
                *geometry, total, band, True,
            )  # fmt: skip
        else:
            args = (nbxs, mults, bhs, vs, *params, code, out, *geometry, total, band)
            _pipeline(self, blocks, mcus_x, mcus_y, imcu_div, interval, tables, state, args, spans, hdr.components)
        self.state[:] = state[: ed.STATE_SIZE]
        STATS[self.plan] += 1
        self.pixels = out if channels == 1 else out.reshape(height, width, channels)
        return ed.OK

    def run(self):
        hdr = self._walk()
        return self.pixels if self.pixels is not None else self._result(hdr)


def _plane_buffers(real, components, band: int) -> tuple:
    """One band's plane buffer per component (8 * v * (band + 2) rows: module docstring of banded.py)."""
    return tuple(_four([np.empty((8 * c.v * (band + 2), 8 * wb), np.uint8) for (_, wb), c in zip(real, components)]))


def _rows(plan: str) -> int:
    """iMCU rows per coefficient store: one band (bands) or one chunk (pipeline)."""
    return (_BAND_ROWS or BAND_ROWS) if plan == "bands" else max(1, _CHUNK_ROWS or CHUNK_ROWS)


def _split(bounds, taken: int, want: int, total: int) -> int:
    """The row nearest ``want`` strictly inside one of the chunks ``bounds`` at or after ``taken`` (so
    that the block rows just above and below it are in the same chunk store); ``total`` if none."""
    inside = [p for ma, mb in bounds if ma >= taken for p in range(ma + 1, mb)]
    return min(inside, key=lambda p: abs(p - want)) if inside else total


def _pipeline(reader, blocks, mcus_x, mcus_y, imcu_div, interval, tables, state, args, spans, components) -> None:
    """Entropy decoding on this thread, reconstruction behind it on a worker (module docstring)."""
    nbxs, mults, bhs, vs, methods, hexp, vexp, dws, dhs, code, out, width, vmax, ncomp, total, band = args
    chunk = _rows("pipeline")
    size = reader.store.shape[0]
    bases = blocks[:, ed.B_BASE]
    cond = threading.Condition()
    # chunks: (first iMCU row, end, coefficient views) per decoded chunk (None once reconstructed);
    # claimed/taken: the worker's current claim [claimed, taken); limit: the worker's last row once the
    # scan is decoded (None before).
    chunks, bounds = [], []
    shared = {"claimed": 0, "taken": 0, "limit": None, "error": None}

    def reconstruct(k, a, b, bufs, cont, fin, fprev):
        ma, _, cfs = chunks[k]
        return _reconstruct_range(
            cfs, ma, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, code, out, width, vmax, ncomp, a,
            b, total, band, cont, fin, fprev, True,
        )  # fmt: skip

    def worker():
        try:
            bufs = _plane_buffers(reader.real, components, band)
            done = fprev = k = 0
            fin = False
            while not fin:
                with cond:
                    while True:
                        limit = shared["limit"]
                        if limit is not None:  # the scan is decoded: up to the limit, composing to its end
                            end, fin = limit, True
                            break
                        if len(chunks) > k:  # one chunk at a time, so that the split stays fair
                            end = bounds[k][1]
                            fin = end == total
                            break
                        cond.wait()
                    shared["claimed"], shared["taken"] = done, end
                while done < end:
                    b = min(bounds[k][1], end)
                    fprev = reconstruct(k, done, b, bufs, done > 0, fin and b == end, fprev)
                    done = b
                    if b == bounds[k][1]:
                        chunks[k] = None  # its memory can serve a later chunk, still in cache
                        k += 1
        except BaseException as exc:  # re-raised on the calling thread
            shared["error"] = exc

    thread = threading.Thread(target=worker, name="fdjpeg-reconstruct", daemon=True)
    thread.start()
    data = reader.data
    bl = blocks.copy()
    decoded = False
    try:
        ma = 0
        while ma < total:
            mb = min(total, ma + (chunk if ma else max(1, chunk // 4)))  # a short first wait for the worker
            store = np.zeros((size, 64), np.int16)
            # (the chunk's first MCU row lands on the store's first block row)
            bl[:, ed.B_BASE] = bases - ma * imcu_div * blocks[:, ed.B_V] * blocks[:, ed.B_STRIDE]
            ed._decode_sequential(
                data, store, bl, mcus_x, min(mb * imcu_div, mcus_y), imcu_div, interval, *tables, _NATURAL_U8,
                state, reader.log,
            )  # fmt: skip
            cfs = tuple(_four([store[b : b + n] for b, n in spans]))
            with cond:
                chunks.append((ma, mb, cfs))
                bounds.append((ma, mb))
                cond.notify()
            ma = mb
        decoded = True
    finally:
        with cond:  # the worker's share: its claim and about half of the rest (on an error: no more)
            taken = shared["taken"]
            limit = taken
            if decoded and taken < total:  # (the worker is about half-way through its claim)
                want = total - (total - taken + (taken - shared["claimed"]) // 2) // 2
                limit = _split(bounds, taken, want, total)
            shared["limit"] = limit
            cond.notify()
    if limit < total:
        bufs = _plane_buffers(reader.real, components, band)
        first = next(i for i, (a, b) in enumerate(bounds) if a < limit < b)
        done, fprev = limit, 0
        for k in range(first, len(bounds)):
            b = bounds[k][1]
            fprev = reconstruct(k, done, b, bufs, done > limit, b == total, fprev)
            done = b
    thread.join()
    if shared["error"] is not None:
        raise shared["error"]


def read_pixels(data: bytes, max_pixels: int | None, max_scans: int | None):
    """The decoded pixels (uint8 (H, W) or (H, W, channels), as coefficients_to_pixels) of a file that
    qualifies (module docstring), else its JPEGCoefficients as read_coefficients returns them."""
    return _PixelReader(data, max_pixels, max_scans).run()
