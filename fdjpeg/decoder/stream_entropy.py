"""Sequential Huffman decoding resumable at any MCU row, over a window of the file: what lets
``Decoder`` hold one band of coefficients of a baseline file instead of all of them.

Each band is decoded by ``entropy._decode_sequential`` with its resume slots (the bit buffer, the
out-of-data flag, the restart countdown, the next RSTn number and the DC predictors carried from call
to call), so positions, warnings and values are one whole call's. The data is a window of the file
whose first byte is file offset ``base``; when a band reads past the window (the kernel then sees the
fake EOI of a truncated file) and the file goes on, the band is decoded again from a snapshot of the
state with a larger window.
"""

from __future__ import annotations

import io
import os

import numpy as np

from ..base.errors import JPEGError
from ..base.layout import component_blocks, component_grid
from . import entropy as ed
from .entropy import _decode_sequential
from .reader import _NATURAL_U8, _CoefficientReader, _emit

#: Worst case of one block's entropy-coded bytes (DC 16+11 bits, 63 AC codes of 16+10 bits, every byte stuffed).
_BLOCK_BYTES = 2 * ((16 + 11 + 63 * (16 + 10)) // 8 + 1)


class _Stop(Exception):
    """Raised from the scan callback once the first scan's header is parsed."""


class NotStreamable(Exception):
    """The file is not one interleaved (or single-component) sequential Huffman scan of 8-bit data."""


class _ScanSetup(_CoefficientReader):
    """The reader's own header parsing, table checks and MCU geometry, stopped at the first SOS."""

    def __init__(self, raw, max_pixels, band_rows):
        super().__init__(raw, max_pixels, None)
        self.band_rows = band_rows

    def _on_scan(self, parser, scan):
        hdr = parser.header
        if (
            hdr.sof_marker not in (0xC0, 0xC1)
            or hdr.precision != 8
            or len(scan.components) != len(hdr.components)
            or hdr.colorspace not in ("L", "YCbCr", "RGB", "CMYK", "YCCK")
        ):
            raise NotStreamable
        hmax, vmax = hdr.max_sampling
        base = 0
        for c in hdr.components:
            self.real.append(component_blocks(hdr.width, hdr.height, c.h, c.v, hmax, vmax))
            gy, gx = component_grid(hdr.width, hdr.height, c.h, c.v, hmax, vmax)
            self.grids.append((c.v * self.band_rows, gx))
            self.bases.append(base)
            base += c.v * self.band_rows * gx
        self.store_blocks = base
        self.latched = [None] * len(hdr.components)
        self.geometry = self._geometry(hdr, scan)
        self._latch_quant(hdr, scan)
        self.tables = self._tables(scan, dc=True, ac=True)
        self.header, self.scan = hdr, scan
        self.entry = (parser.pos, parser.unread, parser.discarded, parser.restart_interval)
        raise _Stop


def open_source(source):
    """A binary reader and whether this module opened it (a path)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(source), True
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), True
    if callable(getattr(source, "read", None)):
        return source, False
    raise TypeError(
        f"source must be bytes, bytearray, memoryview, a path or a binary file object, got {type(source).__name__}"
    )


class SequentialScan:
    """The coefficients of a baseline file, iMCU row by iMCU row, from a reader, in bounded memory.

    ``rows(lo, hi)`` decodes up to iMCU row ``hi`` and returns per-component arrays holding block rows
    v * lo .. v * hi (the caller asks for increasing, overlapping ranges of at most ``capacity`` rows).
    """

    def __init__(self, reader, max_pixels):
        self.reader = reader
        self.window = bytearray()
        self.base = 0  # file offset of window[0]
        self.eof = False
        self.capacity = 0
        size = 1 << 16
        while True:
            self._fill(size)
            setup = _ScanSetup(bytes(self.window), max_pixels, 1)
            try:
                setup.parser.run()
            except _Stop:
                break
            except NotStreamable:
                raise NotStreamable(bytes(self.window)) from None
            except JPEGError:
                if self.eof:  # the whole file: the held-coefficient path reports it as decode() does
                    raise NotStreamable(bytes(self.window)) from None
                size = 2 * len(self.window)
                continue
            if self.eof:
                raise NotStreamable(bytes(self.window))
            size = 2 * len(self.window)
        _emit(setup.collected, 2, len(self.window))
        self.header = setup.header
        self.blocks, self.mcus_x, self.mcus_y, self.imcu_div = setup.geometry
        self.tables = setup.tables
        self.quant = setup.latched
        self.real = setup.real
        self.vs = [c.v for c in self.header.components]
        self.gxs = [gx for _, gx in setup.grids]
        self._component_of_base = {b: ci for ci, b in enumerate(setup.bases)}
        self.store = None
        pos, unread, discarded, self.restart_interval = setup.entry
        self.state = np.zeros(ed.RESUME_STATE_SIZE, np.int64)
        self.state[ed.S_POS] = pos
        self.state[ed.S_MARKER] = unread
        self.state[ed.S_DISCARDED] = discarded
        self.state[ed.R_RESTARTS_TO_GO] = self.restart_interval
        self.log = np.zeros((ed.LOG_SIZE, 4), np.int64)
        self.warned = set()  # messages already issued: each once per file, as read_coefficients does
        self.lo = 0  # first iMCU row held in the store
        self.hi = 0  # iMCU rows decoded
        self.row_bytes = self.mcus_x * self.blocks.shape[0] * _BLOCK_BYTES * self.imcu_div + 4096

    def allocate(self, capacity):
        """Room for ``capacity`` iMCU rows of coefficients (128 bytes per block)."""
        comp = [self._component_of_base[int(b)] for b in self.blocks[:, ed.B_BASE]]
        self.capacity = capacity
        self.grids, self.bases, base = [], [], 0
        for v, gx in zip(self.vs, self.gxs):
            self.grids.append((v * capacity, gx))
            self.bases.append(base)
            base += v * capacity * gx
        self.blocks = self.blocks.copy()
        self.blocks[:, ed.B_BASE] = [self.bases[ci] for ci in comp]
        self.store = np.zeros((base, 64), np.int16)

    def _fill(self, size):
        while len(self.window) < size and not self.eof:
            chunk = self.reader.read(max(size - len(self.window), 1 << 16))
            if not chunk:
                self.eof = True
                break
            self.window += chunk

    def _drop(self, upto):
        """Forget the window's bytes before file offset ``upto``."""
        n = upto - self.base
        if n > len(self.window) // 2 and n > 0:
            del self.window[:n]
            self.base = upto

    def component(self, ci):
        """Component ci's held block rows (v * (hi - lo) of them) as (rows, gx, 8, 8), and v * lo."""
        rows, gx = self.grids[ci]
        v = rows // self.capacity
        held = v * (self.hi - self.lo)
        arr = self.store[self.bases[ci] : self.bases[ci] + rows * gx].reshape(rows, gx, 8, 8)[:held]
        return arr, v * self.lo

    def advance(self, lo, hi):
        """Hold iMCU rows [lo, hi) (decoding those beyond ``self.hi``); lo never decreases."""
        if lo > self.lo:  # slide the kept rows to the top of each component's region
            keep = self.hi - lo
            for ci, (rows, gx) in enumerate(self.grids):
                v = rows // self.capacity
                region = self.store[self.bases[ci] : self.bases[ci] + rows * gx].reshape(rows, gx, 64)
                if keep > 0:
                    region[: v * keep] = region[v * (lo - self.lo) : v * (self.hi - self.lo)]
                region[v * max(keep, 0) :] = 0
            self.lo = lo
        if hi <= self.hi:
            return
        row0, row1 = self.hi * self.imcu_div, min(hi * self.imcu_div, self.mcus_y)
        need = (row1 - row0) * self.row_bytes // self.imcu_div
        snapshot = self.state.copy()
        # MCU row self.lo * imcu_div lands on the store's first block row of each component.
        blocks = self.blocks.copy()
        blocks[:, ed.B_BASE] -= self.lo * self.imcu_div * blocks[:, ed.B_V] * blocks[:, ed.B_STRIDE]
        while True:
            rel = self.state.copy()
            rel[ed.S_POS] -= self.base
            rel[ed.R_ROW0] = row0
            self._fill(int(rel[ed.S_POS]) + need)
            data = np.frombuffer(self.window, np.uint8)
            _decode_sequential(
                data, self.store, blocks, self.mcus_x, row1, self.imcu_div, self.restart_interval, *self.tables,
                _NATURAL_U8, rel, self.log,
            )  # fmt: skip
            del data
            if rel[ed.S_POS] <= len(self.window) or self.eof:
                break
            need *= 2  # read past the window in a file that goes on: again, from the snapshot
            self.state[:] = snapshot
            self._zero_rows(self.hi)
        rel[ed.S_POS] += self.base
        self.state[:] = rel
        self._warn_log()
        self.hi = hi
        self._drop(int(self.state[ed.S_POS]))

    def _zero_rows(self, first):
        for ci, (rows, gx) in enumerate(self.grids):
            v = rows // self.capacity
            region = self.store[self.bases[ci] : self.bases[ci] + rows * gx]
            region[v * (first - self.lo) * gx :] = 0

    def _warn_log(self):
        count = int(self.state[ed.S_NLOG])
        if not count:
            return
        from .reader import _WARNING_TEXT

        collected = []
        for code, a, b, offset in self.log[: min(count, ed.LOG_SIZE)].tolist():
            if code == ed.W_EXTRANEOUS:
                message = f"corrupt JPEG data: {a} extraneous bytes before marker 0x{b:02X}"
            elif code == ed.W_RESYNC:
                message = f"corrupt JPEG data: found marker 0x{a:02X} instead of RST{b}"
            else:
                message = _WARNING_TEXT[code]
            if message not in self.warned:
                self.warned.add(message)
                collected.append((message, offset + self.base))
        self.state[ed.S_NLOG] = 0
        _emit(collected, 4, self.base + len(self.window))
