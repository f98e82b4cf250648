"""Public entry points of the decoder's first half: ``read_header`` and ``read_coefficients``.

``read_coefficients`` is libjpeg-turbo's ``jpeg_read_coefficients`` rebuilt: markers are walked by
parser.py, each scan is entropy-decoded by entropy.py (sequential) or progressive.py (Huffman), or
arithmetic.py (SOF9/SOF10), into one int16 store of 64-coefficient rows, and the result is a
``JPEGCoefficients`` whose per-component arrays are views of that store, shaped (blocks_y, blocks_x, 8, 8) over the MCU-padded block grid.

Per scan, in libjpeg's order (jdinput.c start_input_pass): MCU geometry (T.81 A.2; at most 10 blocks
per interleaved MCU), quantization tables latched for components seen for the first time, then the
entropy decoder's own checks (Huffman tables present and valid, progression parameters).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from ..base.arithmetic import new_stats
from ..base.coefficients import JPEGCoefficients
from ..base.errors import JPEGError, JPEGWarning, UnsupportedJPEG
from ..base.huffman import FAST_BITS, HuffmanSpec, HuffmanTableError, decoder_tables, fast_lookup
from ..base.io import load_bytes
from ..base.layout import ceil_div, component_blocks, component_grid
from ..base.limits import MAX_BLOCKS_IN_MCU, MAX_PIXELS, MAX_SCANS
from ..base.zigzag import ZIGZAG_PADDED
from . import arithmetic as ad
from . import entropy as ed
from .parser import PREMATURE_EOF, JPEGHeader, MarkerParser, ScanHeader
from .progressive import _decode_ac_first, _decode_dc_first
from .progressive_refine import _decode_ac_refine, _decode_dc_refine

_WARNING_TEXT = {
    ed.W_HIT_MARKER: "corrupt JPEG data: premature end of data segment (missing data decoded as zero bits)",
    ed.W_BAD_CODE: "corrupt JPEG data: bad Huffman code",
    ed.W_EOF: PREMATURE_EOF,
    ad.W_ARITH_BAD_CODE: "corrupt JPEG data: bad arithmetic code (nothing more decoded until the next restart marker)",
}

#: ZIGZAG_PADDED as uint8 padded to 128 entries: kernels index it with ``k & 127`` and the unsigned
#: entries need no negative-index handling.
_NATURAL_U8 = np.concatenate([ZIGZAG_PADDED, np.full(128 - len(ZIGZAG_PADDED), 63)]).astype(np.uint8)
_NATURAL_U8.setflags(write=False)


class ProgressionState:
    """libjpeg's ``coef_bits`` for a progressive frame: ``current[c]`` and ``previous[c]`` (lists of 64
    ints each, zigzag-indexed; plain lists because a scan touches a few entries and NumPy's per-call
    cost on them exceeded a small image's decoding) and the number of scans started."""

    def __init__(self, ncomponents: int):
        self.current = [[-1] * 64 for _ in range(ncomponents)]
        # libjpeg leaves this half uninitialised until a scan sets it; every scan sets entries 1..9
        # of its components, the only ones block smoothing reads.
        self.previous = [[0] * 64 for _ in range(ncomponents)]
        self.scans = 0

    def start_scan(self, comps: list[int], ss: int, se: int, ah: int, al: int, offset: int, warn) -> None:
        """Validate a progressive scan header and update the progression (jdphuff.c start_pass).

        ``comps`` are frame component indices; ``warn(message, offset)`` reports inconsistencies.
        Raises JPEGError for parameters T.81 G.1.1.1.1 forbids (as libjpeg's JERR_BAD_PROGRESSION).
        """
        self.scans += 1
        dc_band = ss == 0
        bad = False
        if dc_band:
            bad = se != 0  # T.81 G.1.1.1.1: a DC scan has Se = 0
        else:
            bad = ss > se or se > 63 or len(comps) != 1  # AC scans: one component, Ss <= Se <= 63
        if ah != 0 and al != ah - 1:
            bad = True  # a refinement scan adds exactly one bit
        if al > 13:
            bad = True  # libjpeg's limit for 8-bit data
        if bad:
            raise JPEGError(
                f"invalid progressive scan parameters Ss={ss} Se={se} Ah={ah} Al={al} (T.81 G.1.1.1.1)", offset
            )
        for c in comps:
            cur = self.current[c]
            if not dc_band and cur[0] < 0:
                warn(
                    f"inconsistent progression sequence for component {c} coefficient 0 (AC scan before any DC scan)",
                    offset,
                )
            lo, hi = min(ss, 1), max(se, 9)
            self.previous[c][lo : hi + 1] = cur[lo : hi + 1] if self.scans > 1 else [0] * (hi + 1 - lo)
            # libjpeg warns once per coefficient; one warning per scan and component says the same.
            wrong = [k for k in range(ss, se + 1) if max(cur[k], 0) != ah]
            if wrong:
                which = f"coefficient {wrong[0]}" if len(wrong) == 1 else f"coefficients {wrong[0]}..{wrong[-1]}"
                first = cur[wrong[0]]
                warn(
                    f"inconsistent progression sequence for component {c} {which} (scan refines from bit {ah}, "
                    f"but {'nothing' if first < 0 else f'bit {first}'} was received before)",
                    offset,
                )
            cur[ss : se + 1] = [al] * (se + 1 - ss)


@functools.lru_cache(maxsize=64)
def _derived_tables(spec: HuffmanSpec, is_dc: bool) -> tuple[np.ndarray, ...]:
    """decoder_tables + fast_lookup, shared between calls: most files use the K.3 tables (or a few
    optimized ones), and building the combined table costs as much as decoding a small image."""
    tables = (*decoder_tables(spec, is_dc), fast_lookup(spec, is_dc))
    for t in tables:
        t.setflags(write=False)
    return tables


@functools.lru_cache(maxsize=64)
def _stacked_tables(entries: tuple[tuple[int, HuffmanSpec, bool], ...]) -> tuple[np.ndarray, ...]:
    """The kernels' table arrays for one scan, indexed by slot (DC 0..3, AC 4..7): (lookup, maxcode,
    valoffset, huffval, fast). Shared between scans and calls with the same tables (read-only)."""
    lookup = np.zeros((8, 512), dtype=np.int32)
    maxcode = np.full((8, 18), -1, dtype=np.int64)
    valoffset = np.zeros((8, 18), dtype=np.int64)
    huffval = np.zeros((8, 256), dtype=np.int32)
    fast = np.zeros((8, 1 << FAST_BITS), dtype=np.int32)
    tables = (lookup, maxcode, valoffset, huffval, fast)
    for index, spec, is_dc in entries:
        for stacked, derived in zip(tables, _derived_tables(spec, is_dc)):
            stacked[index] = derived
    for t in tables:
        t.setflags(write=False)
    return tables


def _emit(collected: list[tuple[str, int | None]], stacklevel: int, size: int) -> None:
    """Issue the collected warnings, each distinct message once (with the offset where first seen,
    at most ``size``: see ``_within``)."""
    seen = set()
    for message, offset in collected:
        if message in seen:
            continue
        seen.add(message)
        if offset is not None and offset > size:
            offset = size
        where = "" if offset is None else f" (at byte offset {offset})"
        warnings.warn(JPEGWarning(message + where), stacklevel=stacklevel + 1)


def _within(exc: JPEGError, size: int) -> JPEGError:
    """``exc`` with its offset inside the data. Like libjpeg's source manager, the parser reads a fake
    EOI (FF D9) past the end of truncated data, so a problem found there would point past the end:
    it is reported at the end of the data (``size``) instead."""
    if exc.offset is None or exc.offset <= size:
        return exc
    return type(exc)(f"{exc.message} (reached the end of the data)", size).with_traceback(exc.__traceback__)


def scan_end(raw: bytes, pos: int) -> int:
    """Offset of the marker that ends the entropy-coded data starting at ``pos``: the first FF of a run
    of FFs followed by a code other than 00 (stuffing) and RST0-7; ``len(raw)`` when there is none.
    (bytes.find jumps from FF to FF, where a regular expression would test every byte.)"""
    n = len(raw)
    while True:
        start = raw.find(b"\xff", pos)
        if start < 0:
            return n
        code = start + 1
        while code < n and raw[code] == 0xFF:  # fill bytes
            code += 1
        if code >= n:
            return n
        c = raw[code]
        if c != 0 and not 0xD0 <= c <= 0xD7:
            return start
        pos = code + 1


def _skip_scan(parser: MarkerParser, scan: ScanHeader) -> None:
    """Header-only walk: step over the entropy-coded data to the next marker that is not RSTn."""
    parser.pos = scan_end(parser.raw, parser.pos)


def read_header(data) -> JPEGHeader:
    """Parse a JPEG file's markers without decoding its scans.

    Validation up to and including the first scan header is what libjpeg's ``jpeg_read_header`` does
    (plus the frame checks it makes when decoding starts); problems after the first scan only end the
    walk early. Warnings (junk between segments...) are issued as ``JPEGWarning``.
    """
    raw = load_bytes(data)
    collected: list[tuple[str, int | None]] = []
    parser = MarkerParser(raw, _skip_scan, lambda message, offset: collected.append((message, offset)))
    try:
        parser.run()
    except JPEGError as exc:
        if not parser.first_scan_seen:
            _emit(collected, 2, len(raw))
            raise _within(exc, len(raw)) from None
    _emit(collected, 2, len(raw))
    return parser.header


class _CoefficientReader:
    """The state of one read_coefficients call: the coefficient store, latched quantization tables,
    progression and the Huffman tables built so far."""

    def __init__(self, raw: bytes, max_pixels: int | None, max_scans: int | None = None):
        self.raw = raw
        self.max_scans = max_scans
        self.scans = 0
        self.data = np.frombuffer(raw, dtype=np.uint8)
        self.max_pixels = max_pixels
        self.collected: list[tuple[str, int | None]] = []
        self.parser = MarkerParser(raw, self._on_scan, self._warn, max_pixels)
        self.store: np.ndarray | None = None
        self.bases: list[int] = []
        self.grids: list[tuple[int, int]] = []  # padded (blocks_y, blocks_x) per component
        self.real: list[tuple[int, int]] = []  # width/height in blocks per component (T.81 A.2.1)
        self.latched: list[np.ndarray | None] = []
        self.progression: ProgressionState | None = None
        self.nzmap: np.ndarray | None = None
        self.last_good = 0
        self.state = np.zeros(ed.STATE_SIZE, dtype=np.int64)
        self.log = np.zeros((ed.LOG_SIZE, 4), dtype=np.int64)

    def _warn(self, message: str, offset: int | None) -> None:
        self.collected.append((message, offset))

    # --- frame set-up at the first scan --------------------------------------------------------------

    def _allocate(self, hdr: JPEGHeader, offset: int) -> None:
        """Size the block grids (libjpeg's coefficient arrays) and allocate the store, once the frame has
        been validated (and checked against max_pixels) by the parser."""
        if hdr.sof_marker == 0xC3:  # SOF3 (lossless.py decodes it to samples)
            raise UnsupportedJPEG(
                "lossless JPEG (SOF3) has no DCT coefficients: use fdjpeg.decode() for its samples", offset
            )
        hmax, vmax = hdr.max_sampling
        base = 0
        for c in hdr.components:
            hb, wb = component_blocks(hdr.width, hdr.height, c.h, c.v, hmax, vmax)
            gy, gx = component_grid(hdr.width, hdr.height, c.h, c.v, hmax, vmax)
            self.real.append((hb, wb))
            self.grids.append((gy, gx))
            self.bases.append(base)
            base += gy * gx
        self.store = np.zeros((base, 64), dtype=np.int16)
        self.latched = [None] * len(hdr.components)
        if hdr.progressive:
            self.progression = ProgressionState(len(hdr.components))
            # Per block, bit k set when its zigzag coefficient k is nonzero (kept by the AC kernels).
            self.nzmap = np.zeros(base, dtype=np.int64)

    # --- per scan ------------------------------------------------------------------------------------

    def _geometry(self, hdr: JPEGHeader, scan: ScanHeader) -> tuple[np.ndarray, int, int, int]:
        """MCU layout of a scan (jdinput.c per_scan_setup; T.81 A.2.2 and A.2.3).

        A non-interleaved scan codes one component block by block over its real (unpadded) grid, left
        to right and top to bottom; an interleaved scan codes MCUs of Hi x Vi blocks per component, in
        scan order, over the whole padded frame.
        """
        rows = []
        if len(scan.components) == 1:
            sc = scan.components[0]
            ci = sc.index
            hb, wb = self.real[ci]
            rows.append((self.bases[ci], self.grids[ci][1], 0, 0, 1, 1, 0, sc.td, 4 + sc.ta))
            return np.array(rows, dtype=np.int64), wb, hb, hdr.components[ci].v
        hmax, vmax = hdr.max_sampling
        for i, sc in enumerate(scan.components):
            comp = hdr.components[sc.index]
            for dy in range(comp.v):
                for dx in range(comp.h):
                    rows.append(
                        (self.bases[sc.index], self.grids[sc.index][1], dy, dx, comp.h, comp.v, i, sc.td, 4 + sc.ta)
                    )
        if len(rows) > MAX_BLOCKS_IN_MCU:
            raise JPEGError(
                f"sampling factors too large for an interleaved scan: {len(rows)} blocks per MCU "
                f"(T.81 B.2.3: at most {MAX_BLOCKS_IN_MCU})",
                scan.offset,
            )
        return (np.array(rows, dtype=np.int64), ceil_div(hdr.width, 8 * hmax), ceil_div(hdr.height, 8 * vmax), 1)

    def _latch_quant(self, hdr: JPEGHeader, scan: ScanHeader) -> None:
        """Copy each component's table when its first scan starts (jdinput.c latch_quant_tables)."""
        for sc in scan.components:
            if self.latched[sc.index] is not None:
                continue
            tq = hdr.components[sc.index].tq
            table = self.parser.qt[tq] if tq < 4 else None
            if table is None:
                raise JPEGError(
                    f"quantization table Tq={tq} of component {sc.index} (id {sc.id}) was not defined "
                    "before its first scan",
                    scan.offset,
                )
            self.latched[sc.index] = table.copy()

    def _tables(self, scan: ScanHeader, dc: bool, ac: bool) -> tuple[np.ndarray, ...]:
        """Decoder tables for the scan's DC and/or AC selectors, stacked by slot (DC 0..3, AC 4..7)."""
        wanted = []
        for sc in scan.components:
            if dc:
                wanted.append((True, sc.td))
            if ac:
                wanted.append((False, sc.ta))
        entries = []
        for is_dc, slot in wanted:
            kind = "DC" if is_dc else "AC"
            spec = (self.parser.dc_tables if is_dc else self.parser.ac_tables)[slot] if slot < 4 else None
            if spec is None:
                raise JPEGError(f"{kind} Huffman table {slot} was not defined (T.81 B.2.4.2)", scan.offset)
            try:
                _derived_tables(spec, is_dc)
            except HuffmanTableError as e:
                raise JPEGError(f"bad {kind} Huffman table {slot}: {e}", scan.offset) from None
            entries.append((slot if is_dc else 4 + slot, spec, is_dc))
        return _stacked_tables(tuple(entries))

    def _on_scan(self, parser: MarkerParser, scan: ScanHeader) -> None:
        hdr = parser.header
        self.scans += 1
        if self.max_scans is not None and self.scans > self.max_scans:
            # Each scan walks its whole block grid, so a small hostile file of many empty scans over a
            # large frame would take minutes: bound the work (TurboJPEG's scan limit, on by default here).
            raise JPEGError(
                f"more than {self.max_scans} scans (max_scans guards decoding time; pass a larger "
                "value or None to allow more)",
                scan.offset,
            )
        if self.store is None:
            self._allocate(hdr, scan.offset)
        blocks, mcus_x, mcus_y, imcu_div = self._geometry(hdr, scan)
        fresh = all(self.latched[sc.index] is None for sc in scan.components)
        self._latch_quant(hdr, scan)
        state, log = self.state, self.log
        state[:] = 0
        state[ed.S_POS] = parser.pos
        state[ed.S_MARKER] = parser.unread
        state[ed.S_DISCARDED] = parser.discarded
        state[ed.S_LAST_GOOD] = self.last_good
        interval = parser.restart_interval
        data, store = self.data, self.store
        if hdr.arithmetic:
            status = self._decode_arithmetic(hdr, scan, blocks, mcus_x, mcus_y, imcu_div, interval)
        elif not hdr.progressive:
            if scan.ss != 0 or scan.se != 63 or scan.ah != 0 or scan.al != 0:
                self._warn(
                    f"invalid SOS parameters for sequential JPEG: Ss={scan.ss} Se={scan.se} Ah={scan.ah} "
                    f"Al={scan.al} (expected 0, 63, 0, 0; ignored)",
                    scan.offset,
                )
            tables = self._tables(scan, dc=True, ac=True)
            status = self._sequential(blocks, mcus_x, mcus_y, imcu_div, interval, tables, fresh)
        else:
            self.progression.start_scan(
                [sc.index for sc in scan.components], scan.ss, scan.se, scan.ah, scan.al, scan.offset, self._warn
            )
            if scan.ss == 0 and scan.ah == 0:
                tables = self._tables(scan, dc=True, ac=False)
                status = _decode_dc_first(
                    data, store, blocks, mcus_x, mcus_y, imcu_div, interval, scan.al, *tables, state, log
                )
            elif scan.ss == 0:
                status = _decode_dc_refine(data, store, blocks, mcus_x, mcus_y, imcu_div, interval, scan.al, state, log)
            elif scan.ah == 0:
                tables = self._tables(scan, dc=False, ac=True)
                status = _decode_ac_first(
                    data,
                    store,
                    self.nzmap,
                    blocks,
                    mcus_x,
                    mcus_y,
                    imcu_div,
                    interval,
                    scan.ss,
                    scan.se,
                    scan.al,
                    *tables,
                    _NATURAL_U8,
                    state,
                    log,
                )
            else:
                tables = self._tables(scan, dc=False, ac=True)
                status = _decode_ac_refine(
                    data,
                    store,
                    self.nzmap,
                    blocks,
                    mcus_x,
                    mcus_y,
                    imcu_div,
                    interval,
                    scan.ss,
                    scan.se,
                    scan.al,
                    *tables,
                    _NATURAL_U8,
                    state,
                    log,
                )
        self._collect_log()
        if status == ed.ERR_DC_RANGE:
            raise JPEGError(
                "DC coefficient out of range: the DC prediction of a progressive scan overflows 32 bits",
                int(state[ed.S_ERROR_POS]),
            )
        parser.pos = int(state[ed.S_POS])
        parser.unread = int(state[ed.S_MARKER])
        parser.discarded = int(state[ed.S_DISCARDED])
        self.last_good = int(state[ed.S_LAST_GOOD])

    def _sequential(self, blocks, mcus_x, mcus_y, imcu_div, interval, tables, fresh) -> int:
        """One sequential Huffman scan into the store (pipeline.py overrides it to make pixels instead)."""
        # Large clean scans: threads (parallel_entropy.py); anything else, or a failed sync, here.
        # Imported here: read_header must not load Numba (spec/codec.md section 7).
        from . import parallel_entropy as pe

        data, store, state = self.data, self.store, self.state
        if pe.try_decode(data, store, blocks, mcus_x, mcus_y, imcu_div, interval, tables, _NATURAL_U8, state, fresh):
            return ed.OK
        return ed._decode_sequential(
            data, store, blocks, mcus_x, mcus_y, imcu_div, interval, *tables, _NATURAL_U8, state, self.log
        )

    def _decode_arithmetic(
        self,
        hdr: JPEGHeader,
        scan: ScanHeader,
        blocks: np.ndarray,
        mcus_x: int,
        mcus_y: int,
        imcu_div: int,
        interval: int,
    ) -> int:
        """One SOF9/SOF10 scan (arithmetic.py). Table selectors 0..15 all exist: the bins are
        the decoder's own and the DAC conditioning has defaults (jdarith.c start_pass)."""
        parser = self.parser
        if not hdr.progressive:
            if scan.ss != 0 or scan.se != 63 or scan.ah != 0 or scan.al != 0:
                self._warn(
                    f"invalid SOS parameters for sequential JPEG: Ss={scan.ss} Se={scan.se} Ah={scan.ah} "
                    f"Al={scan.al} (expected 0, 63, 0, 0; ignored)",
                    scan.offset,
                )
            mode, ss, se, al = ad.SEQUENTIAL, 1, 63, 0
        else:
            self.progression.start_scan(
                [sc.index for sc in scan.components], scan.ss, scan.se, scan.ah, scan.al, scan.offset, self._warn
            )
            ss, se, al = scan.ss, scan.se, scan.al
            if scan.ss == 0:
                mode = ad.DC_FIRST if scan.ah == 0 else ad.DC_REFINE
            else:
                mode = ad.AC_FIRST if scan.ah == 0 else ad.AC_REFINE
        conditioning = [np.array(v, dtype=np.int64) for v in (parser.arith_dc_l, parser.arith_dc_u, parser.arith_ac_k)]
        return ad._decode_scan(
            self.data,
            self.store,
            blocks,
            mcus_x,
            mcus_y,
            imcu_div,
            interval,
            mode,
            ss,
            se,
            al,
            *conditioning,
            new_stats(),
            _NATURAL_U8,
            self.state,
            self.log,
        )

    def _collect_log(self) -> None:
        count = int(self.state[ed.S_NLOG])
        for code, a, b, offset in self.log[: min(count, ed.LOG_SIZE)].tolist():
            if code == ed.W_EXTRANEOUS:
                message = f"corrupt JPEG data: {a} extraneous bytes before marker 0x{b:02X}"
            elif code == ed.W_RESYNC:
                message = f"corrupt JPEG data: found marker 0x{a:02X} instead of RST{b}"
            else:
                message = _WARNING_TEXT[code]
            self._warn(message, offset)

    # --- result --------------------------------------------------------------------------------------

    def run(self) -> JPEGCoefficients:
        return self._result(self._walk())

    def _walk(self) -> JPEGHeader:
        """Walk the file (decoding every scan); the warnings are issued at the end."""
        parser = self.parser
        try:
            parser.run()
        except JPEGError as exc:
            raise _within(exc, len(self.raw)) from None
        finally:
            # The parser holds this reader's bound methods: drop it, so that the reader (and the
            # coefficient store, tens of MB) is freed by reference counting rather than by a later
            # cyclic garbage collection, and the allocator can reuse the memory.
            self.parser = None
            _emit(self.collected, 4, len(self.raw))
        return parser.header

    def _result(self, hdr: JPEGHeader) -> JPEGCoefficients:
        components = [
            self.store[base : base + gy * gx].reshape(gy, gx, 8, 8) for base, (gy, gx) in zip(self.bases, self.grids)
        ]
        # A component no scan ever carried has no latched table; libjpeg then dequantizes with zeros.
        quant = [t if t is not None else np.zeros((8, 8), dtype=np.uint16) for t in self.latched]
        coefs = JPEGCoefficients(
            width=hdr.width,
            height=hdr.height,
            components=components,
            quant_tables=quant,
            sampling=hdr.sampling,
            component_ids=hdr.component_ids,
            colorspace=hdr.colorspace,
            progressive=hdr.progressive,
            header=hdr,
            precision=hdr.precision,
        )
        ps = self.progression
        if ps is not None:
            coefs.coef_bits = [np.array(ps.current[c], dtype=np.int64) for c in range(len(components))]
            # libjpeg's second half of coef_bits, and the row where the last scan ran out of data:
            # what block smoothing needs (see smoothing.py). Single-scan files latch -1 (None here).
            coefs.prev_coef_bits = [
                np.array(ps.previous[c], dtype=np.int64) if ps.scans > 1 else None for c in range(len(components))
            ]
            coefs.last_good_imcu_row = self.last_good
        return coefs


def read_coefficients(
    data, *, max_pixels: int | None = MAX_PIXELS, max_scans: int | None = MAX_SCANS
) -> JPEGCoefficients:
    """Entropy-decode a baseline, extended (8-bit) or progressive JPEG, Huffman or arithmetic-coded, to its
    quantized DCT coefficients, exactly as libjpeg-turbo's ``jpeg_read_coefficients`` holds them.

    ``data``: bytes, bytearray, memoryview, a path, or a binary file object. ``max_pixels``: frames with
    more pixels raise ``JPEGError`` before anything is allocated (None: no limit). ``max_scans``: files
    with more scans raise ``JPEGError`` (None: no limit), which bounds the decoding time.

    Components are int16 (blocks_y, blocks_x, 8, 8) arrays in natural order over the MCU-padded block
    grid. For progressive files, ``coef_bits[c]`` (64 ints, zigzag-indexed) is libjpeg's progression
    state after the last scan, ``prev_coef_bits`` and ``last_good_imcu_row`` what block smoothing needs.
    Damaged data is decoded as libjpeg-turbo decodes it, with ``JPEGWarning``s; data libjpeg-turbo
    refuses raises ``JPEGError`` (``UnsupportedJPEG`` for hierarchical files, and for lossless ones, which
    have no DCT coefficients). 12-bit files give int16 coefficients too (they fit), with ``precision`` 12.
    """
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer))):
        raise TypeError(f"max_pixels must be an int or None, got {max_pixels!r}")
    if max_scans is not None and (isinstance(max_scans, bool) or not isinstance(max_scans, (int, np.integer))):
        raise TypeError(f"max_scans must be an int or None, got {max_scans!r}")
    raw = load_bytes(data)
    return _CoefficientReader(
        raw, None if max_pixels is None else int(max_pixels), None if max_scans is None else int(max_scans)
    ).run()
