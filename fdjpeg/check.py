"""The validator: ``check(data)`` lists every structural problem of a JPEG file, and ``info(data)``
describes its structure (markers, tables, sampling, scans, metadata). Both sit behind the
``fdjpeg check`` and ``fdjpeg info`` commands.

The checker has its own marker walker, independent of the decoder's parser, so it keeps going where
a decoder stops: it reports *all* problems it can see, each with a severity and a byte offset, and it
never raises on malformed input (only an unreadable path raises ``OSError``). Every loop advances
through the data, so the walk is linear in the file size and cannot hang.

What it checks (T.81 Annex B clause numbers; libjpeg-turbo's behaviour where it is more lenient):
marker order (SOI first, one frame, tables before the scans that use them, EOI last), segment lengths
(each segment's length field against what its fields need), quantization and Huffman table
definitions (Tq/Th ranges, Huffman codes that fit their lengths via ``huffman.canonical_codes``),
references from the frame and scans to defined tables, SOF fields, scan parameters Ss/Se/Ah/Al and
the progression, the restart marker sequence and count, a missing EOI, bytes after EOI and junk
between segments. Finally it says whether the file fits the ``baseline-hw`` hardware profile
(``HARDWARE_PROFILE``; its rules and their sources are in ``spec/hardware-profile.md``).

Severities: ``error`` (the file breaks T.81 in a way that decoders reject or must guess at),
``warning`` (legal but risky, or broken in a way libjpeg-turbo repairs), ``info`` (observations,
including the hardware-profile verdict).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from . import markers as M

#: The hardware-safe profile's name, as ``encode(..., profile=...)`` and ``check --profile`` take it.
HARDWARE_PROFILE = "baseline-hw"

#: Largest total size of APPn payloads the hardware profile admits: one segment's worth. A
#: conservative fdjpeg choice (hardware parsers buffer the header), not a documented hardware limit.
HW_MAX_APP_BYTES = M.MAX_SEGMENT_PAYLOAD

#: Luma (H, V) with 1x1 chroma -> the subsampling name (libjpeg/Pillow naming).
SUBSAMPLING_NAMES = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1",
                     (4, 2): "4:1:0"}
HW_SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")
SUBSAMPLING_FACTORS = {name: hv for hv, name in SUBSAMPLING_NAMES.items()}

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Problem:
    """One finding: ``severity`` is "error", "warning" or "info"; ``offset`` the byte offset in the file
    (of the marker or field at fault); ``code`` a stable short identifier for scripts and tests."""

    severity: str
    offset: int
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.offset}: {self.severity}: {self.message}"


# --------------------------------------------------------------------------------------------------
# The structure the walker records


@dataclass
class SegmentInfo:
    offset: int  # of the 0xFF of the marker
    marker: int
    length: int | None  # the length field (None for standalone markers)

    @property
    def name(self) -> str:
        return M.marker_name(self.marker)


@dataclass
class ScanInfo:
    offset: int
    components: list  # [(component id, Td, Ta)]
    ss: int
    se: int
    ah: int
    al: int
    restart_interval: int
    data_offset: int = 0  # first byte of entropy-coded data
    data_bytes: int = 0  # entropy-coded bytes, RST markers included
    restarts: list = field(default_factory=list)  # [(offset, n)] of RSTn markers inside the scan
    mcus: int = 0


@dataclass
class Structure:
    size: int
    segments: list = field(default_factory=list)
    sof: int | None = None
    sof_offset: int | None = None
    precision: int | None = None
    width: int | None = None
    height: int | None = None
    components: list = field(default_factory=list)  # [(id, H, V, Tq)]
    qtables: dict = field(default_factory=dict)  # Tq -> (Pq, 64 zigzag values, offset)
    qtables_ever: dict = field(default_factory=dict)  # Tq -> list of (Pq, offset): every definition
    htables: dict = field(default_factory=dict)  # (Tc, Th) -> (bits, values, offset)
    htables_ever: dict = field(default_factory=dict)
    scans: list = field(default_factory=list)
    restart_interval: int = 0
    app: list = field(default_factory=list)  # [(offset, n, payload bytes)]
    comments: list = field(default_factory=list)  # [(offset, bytes)]
    eoi_offset: int | None = None
    trailing: int = 0
    problems: list = field(default_factory=list)

    def add(self, severity: str, offset: int, message: str, code: str = "") -> None:
        self.problems.append(Problem(severity, int(offset), message, code))

    @property
    def max_hv(self) -> tuple[int, int]:
        if not self.components:
            return 1, 1
        return max(c[1] for c in self.components), max(c[2] for c in self.components)

    def component_blocks(self, index: int) -> tuple[int, int]:
        """(blocks per row, block rows) of a component (T.81 A.1.1), for non-interleaved scans."""
        _, h, v, _ = self.components[index]
        hmax, vmax = self.max_hv
        w = -(-self.width * h // hmax)
        hh = -(-self.height * v // vmax)
        return -(-w // 8), -(-hh // 8)

    def subsampling(self) -> str | None:
        """"gray", "4:2:0"... for 1- and 3-component frames with 1x1 chroma; None otherwise."""
        if len(self.components) == 1:
            return "gray"
        if len(self.components) == 3 and all(c[1:3] == (1, 1) for c in self.components[1:]):
            return SUBSAMPLING_NAMES.get(self.components[0][1:3])
        return None


# --------------------------------------------------------------------------------------------------
# The walker


def _u16(data: bytes, i: int) -> int:
    return (data[i] << 8) | data[i + 1]


class _Walker:
    """Walk the markers of one file, recording the structure and the problems (T.81 B.1.1)."""

    def __init__(self, data: bytes):
        self.data = data
        self.s = Structure(size=len(data))
        self.frame_seen = False
        self.dnl_seen = False
        self.dc_symbols: list = []  # (offset, Th, largest symbol) of each DC table definition
        self.no_dht_reported = False
        self.coded: set = set()  # frame component indices a sequential scan has coded

    # -- driver ------------------------------------------------------------------------------------

    def run(self) -> Structure:
        data, s = self.data, self.s
        if not data:
            s.add("error", 0, "empty file", "empty")
            return s
        if len(data) < 2 or data[0] != 0xFF or data[1] != M.SOI:
            s.add("error", 0, f"not a JPEG file: starts with {data[:2].hex()} instead of SOI (ffd8)", "no-soi")
            return s
        s.segments.append(SegmentInfo(0, M.SOI, None))
        pos = 2
        n = len(data)
        while True:
            if pos >= n:
                s.add("error", n, "missing EOI: the file ends without an EOI marker (truncated?)", "no-eoi")
                break
            if data[pos] != 0xFF or pos + 1 >= n or data[pos + 1] in (0x00, 0xFF) and not self._fill(pos):
                nxt = self._next_marker(pos)
                if nxt is None:
                    s.add("error", pos, f"{n - pos} bytes of garbage and no EOI at the end of the file", "no-eoi")
                    break
                where = M.marker_name(data[nxt + 1])
                s.add("warning", pos, f"{nxt - pos} extraneous bytes before marker {where} "
                      "(libjpeg-turbo skips them with a warning)", "junk")
                pos = nxt
                continue
            while pos + 1 < n and data[pos + 1] == 0xFF:  # fill bytes (T.81 B.1.1.2)
                pos += 1
            if pos + 1 >= n:
                continue
            code = data[pos + 1]
            if code == M.EOI:
                s.segments.append(SegmentInfo(pos, M.EOI, None))
                s.eoi_offset = pos
                if not s.scans:
                    s.add("error", pos, "EOI before any scan: the file holds no image data", "no-scan")
                s.trailing = n - (pos + 2)
                if s.trailing:
                    s.add("warning", pos + 2, f"{s.trailing} bytes of trailing data after EOI", "trailing")
                break
            if code == M.SOI:
                s.add("error", pos, "second SOI marker inside the file", "order")
                s.segments.append(SegmentInfo(pos, code, None))
                pos += 2
                continue
            if M.RST0 <= code <= M.RST0 + 7 or code == M.TEM:
                s.add("error" if code != M.TEM else "warning", pos,
                      f"{M.marker_name(code)} marker outside entropy-coded data", "rst-misplaced")
                s.segments.append(SegmentInfo(pos, code, None))
                pos += 2
                continue
            pos = self._segment(pos, code)
            if pos is None:
                break
        self._finish()
        return s

    def _fill(self, pos: int) -> bool:
        """Whether data[pos:] is a run of 0xFF fill bytes followed by a marker code."""
        data, n = self.data, len(self.data)
        i = pos
        while i + 1 < n and data[i + 1] == 0xFF:
            i += 1
        return i + 1 < n and data[i + 1] not in (0x00, 0xFF)

    def _next_marker(self, pos: int) -> int | None:
        """Offset of the next 0xFF that starts a real marker (not stuffing, not fill) at or after pos."""
        data = self.data
        i = pos
        while True:
            i = data.find(b"\xff", i)
            if i < 0 or i + 1 >= len(data):
                return None
            c = data[i + 1]
            if c not in (0x00, 0xFF):
                return i
            i += 1

    # -- marker segments ---------------------------------------------------------------------------

    def _segment(self, pos: int, code: int) -> int | None:
        data, s, n = self.data, self.s, len(self.data)
        name = M.marker_name(code)
        if pos + 4 > n:
            s.add("error", pos, f"{name} marker segment truncated: the file ends inside its length field", "truncated")
            s.segments.append(SegmentInfo(pos, code, None))
            return None
        length = _u16(data, pos + 2)
        s.segments.append(SegmentInfo(pos, code, length))
        if length < 2:
            s.add("error", pos, f"{name} segment length {length} is below the minimum of 2", "length")
            return None
        end = pos + 2 + length
        if end > n:
            s.add("error", pos, f"{name} segment length {length} runs {end - n} bytes past the end of the file", "truncated")
            return None
        payload = data[pos + 4 : end]
        if code in (M.SOF0, M.SOF1, M.SOF2, M.SOF3, M.SOF5, M.SOF6, M.SOF7, M.SOF9, M.SOF10, M.SOF11,
                    M.SOF13, M.SOF14, M.SOF15):
            self._sof(pos, code, payload)
        elif code == M.DHT:
            self._dht(pos, payload)
        elif code == M.DQT:
            self._dqt(pos, payload)
        elif code == M.DRI:
            if length != 4:
                s.add("error", pos, f"DRI segment length {length}, must be 4 (T.81 B.2.4.4)", "length")
            if len(payload) >= 2:
                s.restart_interval = _u16(payload, 0)
        elif code == M.SOS:
            return self._sos(pos, payload, end)
        elif M.APP0 <= code <= M.APP0 + 15:
            s.app.append((pos, code - M.APP0, payload))
            self._app(pos, code - M.APP0, payload)
        elif code == M.COM:
            s.comments.append((pos, payload))
        elif code == M.DNL:
            if length != 4:
                s.add("error", pos, f"DNL segment length {length}, must be 4 (T.81 B.2.5)", "length")
            if not s.scans:
                s.add("error", pos, "DNL before the first scan (T.81 B.2.5: it follows the first scan)", "order")
            self.dnl_seen = True
            if len(payload) >= 2 and s.height == 0:
                s.height = _u16(payload, 0)
        elif code == M.DAC:
            s.add("info", pos, "DAC: arithmetic-coding conditioning tables (arithmetic coding)", "arithmetic")
        elif code in (M.DHP, M.EXP):
            s.add("info", pos, f"{name}: hierarchical mode", "hierarchical")
        elif code == M.JPG or 0xF0 <= code <= 0xFD:
            s.add("warning", pos, f"reserved marker {name} (JPEG extension)", "reserved")
        else:
            s.add("error", pos, f"invalid marker 0x{code:02X}", "bad-marker")
        return end

    def _sof(self, pos: int, code: int, p: bytes) -> None:
        s = self.s
        name = M.marker_name(code)
        if self.frame_seen:
            s.add("error", pos, f"second frame header {name} (only hierarchical files have several)", "order")
            return
        self.frame_seen = True
        s.sof, s.sof_offset = code, pos
        if len(p) < 6:
            s.add("error", pos, f"{name} segment too short ({len(p) + 2} bytes, at least 8 needed)", "length")
            return
        s.precision, s.height, s.width, nf = p[0], _u16(p, 1), _u16(p, 3), p[5]
        if len(p) != 6 + 3 * nf:
            s.add("error", pos, f"{name} length {len(p) + 2} does not match {nf} components "
                  f"(needs {8 + 3 * nf}, T.81 B.2.2)", "length")
        if code in (M.SOF3, M.SOF7, M.SOF11, M.SOF15):
            ok_p = 2 <= s.precision <= 16
        elif code == M.SOF0:
            ok_p = s.precision == 8
        else:
            ok_p = s.precision in (8, 12)
        if not ok_p:
            s.add("error", pos + 4, f"{name}: sample precision {s.precision} is not allowed for this process "
                  "(T.81 Table B.2)", "sof")
        if s.width == 0:
            s.add("error", pos + 7, f"{name}: image width 0", "sof")
        if max(s.width, s.height) > 65500:
            s.add("warning", pos + 5, f"{name}: {s.width}x{s.height} exceeds 65500 pixels on a side, libjpeg-turbo's "
                  "JPEG_MAX_DIMENSION (it refuses the file)", "sof")
        if nf == 0 or (nf > 4 and code not in (M.SOF0, M.SOF1, M.SOF3)):
            s.add("error", pos + 9, f"{name}: {nf} components ({'none' if nf == 0 else 'more than 4 in a progressive frame'})", "sof")
        elif nf > 4:
            s.add("warning", pos + 9, f"{name}: {nf} components (most decoders handle at most 4)", "sof")
        if code not in (M.SOF0, M.SOF1, M.SOF2):
            s.add("info", pos, f"{name}: {M.SOF_PROCESS[code]} process", "process")
        ids = set()
        for k in range(min(nf, (len(p) - 6) // 3)):
            o = 6 + 3 * k
            cid, hv, tq = p[o], p[o + 1], p[o + 2]
            h, v = hv >> 4, hv & 15
            at = pos + 4 + o
            if cid in ids:
                s.add("error", at, f"{name}: duplicate component id {cid}", "sof")
            ids.add(cid)
            if not (1 <= h <= 4 and 1 <= v <= 4):
                s.add("error", at + 1, f"{name}: component {cid} sampling factors {h}x{v} outside 1..4", "sof")
            if tq > 3:
                s.add("error", at + 2, f"{name}: component {cid} uses quantization table {tq} (Tq must be 0..3)", "sof")
            s.components.append((cid, max(h, 1), max(v, 1), tq))
        if s.components:
            hmax, vmax = s.max_hv
            for cid, h, v, _ in s.components:
                if hmax % h or vmax % v:
                    s.add("warning", pos, f"{name}: component {cid} sampling {h}x{v} does not divide the maximum "
                          f"{hmax}x{vmax} (fractional upsampling: libjpeg-turbo refuses it)", "sampling")

    def _dqt(self, pos: int, p: bytes) -> None:
        s = self.s
        i = 0
        if not p:
            s.add("error", pos, "empty DQT segment", "length")
        while i < len(p):
            pq, tq = p[i] >> 4, p[i] & 15
            at = pos + 4 + i
            size = 64 * (2 if pq else 1)
            if pq > 1:
                s.add("error", at, f"DQT: element precision Pq={pq} (must be 0 or 1)", "dqt")
                return
            if tq > 3:
                s.add("error", at, f"DQT: table index Tq={tq} (must be 0..3, T.81 B.2.4.1)", "dqt")
            if i + 1 + size > len(p):
                s.add("error", at, f"DQT segment length does not hold table {tq}: "
                      f"{len(p) - i - 1} of {size} bytes present", "length")
                return
            raw = p[i + 1 : i + 1 + size]
            vals = list(raw) if pq == 0 else [_u16(raw, 2 * k) for k in range(64)]
            if 0 in vals:
                s.add("warning", at, f"DQT: table {tq} has a zero entry (its coefficients decode as 0)", "dqt")
            if tq <= 3:
                s.qtables[tq] = (pq, vals, at)
                s.qtables_ever.setdefault(tq, []).append((pq, at))
            i += 1 + size

    def _dht(self, pos: int, p: bytes) -> None:
        from .huffman import HuffmanSpec, HuffmanTableError, canonical_codes

        s = self.s
        i = 0
        if not p:
            s.add("error", pos, "empty DHT segment", "length")
        while i < len(p):
            at = pos + 4 + i
            if i + 17 > len(p):
                s.add("error", at, f"DHT segment length does not hold a table header: {len(p) - i} of 17 bytes", "length")
                return
            tc, th = p[i] >> 4, p[i] & 15
            bits = tuple(p[i + 1 : i + 17])
            count = sum(bits)
            if tc > 1 or th > 3:
                s.add("error", at, f"DHT: table class/index Tc={tc} Th={th} (Tc 0..1, Th 0..3, T.81 B.2.4.2)", "dht")
            if count > 256:
                s.add("error", at, f"DHT: table {'AC' if tc else 'DC'}{th} declares {count} codes (at most 256)", "dht")
                return
            if i + 17 + count > len(p):
                s.add("error", at, f"DHT segment length does not hold the {count} symbols of table "
                      f"{'AC' if tc else 'DC'}{th}", "length")
                return
            values = bytes(p[i + 17 : i + 17 + count])
            label = f"{'AC' if tc else 'DC'}{th}"
            try:
                canonical_codes(HuffmanSpec(bits, values))
            except (HuffmanTableError, ValueError) as exc:
                s.add("error", at, f"DHT: table {label} is not a valid Huffman code: {exc}", "huffman")
            if count == 0:
                s.add("warning", at, f"DHT: table {label} has no codes", "huffman")
            if tc == 0 and values:
                self.dc_symbols.append((at, th, max(values)))  # judged once the process is known
            if len(set(values)) != len(values):
                s.add("warning", at, f"DHT: table {label} lists a symbol twice", "huffman")
            if tc <= 1 and th <= 3:
                s.htables[(tc, th)] = (bits, values, at)
                s.htables_ever.setdefault((tc, th), []).append(at)
            i += 17 + count

    def _app(self, pos: int, n: int, p: bytes) -> None:
        s = self.s
        if n == 0 and p[:5] == b"JFIF\x00":
            if len(p) < 14:
                s.add("warning", pos, f"JFIF APP0 too short ({len(p) + 2} bytes, 16 needed)", "jfif")
            else:
                if p[5] != 1:
                    s.add("warning", pos, f"JFIF version {p[5]}.{p[6]:02d} (readers expect 1.xx)", "jfif")
                thumb = 3 * p[12] * p[13]
                if len(p) != 14 + thumb:
                    s.add("warning", pos, f"JFIF APP0 length {len(p) + 2} does not match its "
                          f"{p[12]}x{p[13]} thumbnail (expected {16 + thumb})", "jfif")
            if len(s.segments) != 2:
                s.add("warning", pos, "JFIF APP0 is not the first segment after SOI (T.871 requires it there)", "order")
        elif n == 1 and p[:6] == b"Exif\x00\x00":
            if p[6:10] not in (b"II*\x00", b"MM\x00*"):
                s.add("warning", pos, "EXIF APP1 without a valid TIFF header after 'Exif\\0\\0'", "exif")
        elif n == 2 and p[:12] == b"ICC_PROFILE\x00":
            if len(p) < 14:
                s.add("warning", pos, "ICC_PROFILE APP2 chunk without sequence number and count", "icc")
        elif n == 14 and p[:5] == b"Adobe" and len(p) < 12:
            s.add("warning", pos, "Adobe APP14 too short (12 payload bytes expected)", "adobe")

    def _sos(self, pos: int, p: bytes, end: int) -> int | None:
        s = self.s
        if not self.frame_seen:
            s.add("error", pos, "SOS before any frame header (SOFn)", "order")
        if not p:
            s.add("error", pos, "empty SOS segment", "length")
            return self._skip_entropy(pos, end, None)
        ns = p[0]
        if len(p) != 4 + 2 * ns:
            s.add("error", pos, f"SOS length {len(p) + 2} does not match Ns={ns} (needs {6 + 2 * ns}, T.81 B.2.3)", "length")
        if not 1 <= ns <= 4:
            s.add("error", pos + 4, f"SOS: Ns={ns} components (must be 1..4)", "sos")
        comps = []
        for k in range(min(ns, max(0, (len(p) - 1) // 2))):
            cid, t = p[1 + 2 * k], p[2 + 2 * k]
            comps.append((cid, t >> 4, t & 15))
        tail = 1 + 2 * ns
        ss, se, ahal = (p[tail], p[tail + 1], p[tail + 2]) if len(p) >= tail + 3 else (0, 63, 0)
        scan = ScanInfo(pos, comps, ss, se, ahal >> 4, ahal & 15, s.restart_interval)
        s.scans.append(scan)
        if self.frame_seen:
            self._check_scan(scan)
        return self._skip_entropy(pos, end, scan)

    def _check_scan(self, scan: ScanInfo) -> None:
        s = self.s
        pos = scan.offset
        frame_ids = [c[0] for c in s.components]
        idx = []
        for cid, td, ta in scan.components:
            if cid not in frame_ids:
                s.add("error", pos, f"SOS: component id {cid} is not in the frame (ids {frame_ids})", "sos")
            elif frame_ids.index(cid) in idx:
                s.add("error", pos, f"SOS: component id {cid} listed twice", "sos")
            else:
                idx.append(frame_ids.index(cid))
        if idx != sorted(idx):
            s.add("error", pos, "SOS: components not in frame-header order (T.81 B.2.3)", "sos")
        if s.sof in (M.SOF0, M.SOF1, M.SOF5, M.SOF9, M.SOF13):  # sequential: each component in one scan
            again = [s.components[i][0] for i in idx if i in self.coded]
            if again:
                s.add("warning", pos, f"component(s) {again} already coded by an earlier scan of this sequential "
                      "frame (a sequential frame codes each component in exactly one scan)", "scan")
            self.coded.update(idx)
        if len(idx) > 1 and sum(s.components[i][1] * s.components[i][2] for i in idx) > 10:
            s.add("error", pos, "SOS: interleaved MCU of more than 10 blocks (T.81 B.2.3)", "sos")
        progressive = s.sof in (M.SOF2, M.SOF6, M.SOF10, M.SOF14)
        lossless = s.sof in (M.SOF3, M.SOF7, M.SOF11, M.SOF15)
        label = f"Ss={scan.ss} Se={scan.se} Ah={scan.ah} Al={scan.al}"
        if lossless:  # Ss: predictor, Al: point transform (T.81 H.1.2.1, Table H.1)
            hierarchical = s.sof in (M.SOF7, M.SOF15)
            if not ((1 if not hierarchical else 0) <= scan.ss <= 7 and scan.se == 0 and scan.ah == 0
                    and scan.al < (s.precision or 16)):
                s.add("error", pos, f"SOS: invalid lossless scan parameters {label} (predictor Ss 1..7, Se=0, "
                      f"Ah=0, point transform Al below the precision {s.precision})", "scan-params")
        elif not progressive:
            if (scan.ss, scan.se, scan.ah, scan.al) != (0, 63, 0, 0):
                s.add("error", pos, f"SOS: {label} in a sequential scan (must be Ss=0 Se=63 Ah=0 Al=0; "
                      "libjpeg-turbo warns and decodes all 64)", "scan-params")
        else:
            ok = scan.ss <= scan.se <= 63 and scan.ah <= 13 and scan.al <= 13
            if scan.ss == 0 and scan.se != 0:
                ok = False
            if scan.ss > 0 and len(scan.components) != 1:
                s.add("error", pos, f"SOS: progressive AC scan ({label}) with {len(scan.components)} components "
                      "(AC scans hold one, T.81 G.1.1.1.1)", "scan-params")
            if scan.ah and scan.al != scan.ah - 1:
                ok = False
            if not ok:
                s.add("error", pos, f"SOS: invalid progressive scan parameters {label} (T.81 G.1.1.1)", "scan-params")
            else:
                self._progression(scan, idx)
        # Table references (T.81 B.2.3): tables must be defined before the scan that uses them.
        huffman = s.sof is not None and s.sof < M.SOF9
        for (cid, td, ta), i in zip(scan.components, idx if len(idx) == len(scan.components) else [None] * 9):
            if i is not None and not lossless:  # lossless frames have no quantization
                tq = s.components[i][3]
                if tq not in s.qtables:
                    s.add("error", pos, f"component {cid} uses quantization table {tq}, which no DQT before "
                          "this scan defines", "undefined-dqt")
            if not huffman:
                continue
            if s.sof in (M.SOF0,) and (td > 1 or ta > 1):
                s.add("error", pos, f"SOS: component {cid} uses Huffman table DC{td}/AC{ta} "
                      "(baseline allows tables 0 and 1, T.81 B.2.3)", "sos")
            needs = []
            if scan.ss == 0 and scan.ah == 0 or lossless or not progressive:
                needs.append((0, td))
            if (scan.se > 0 or not progressive) and not lossless:
                needs.append((1, ta))
            for tc, th in needs:
                if th > 3:
                    s.add("error", pos, f"SOS: Huffman table index {th} (must be 0..3)", "sos")
                elif (tc, th) not in s.htables:
                    label = f"{'AC' if tc else 'DC'}{th}"
                    if not s.htables_ever and th <= 1:
                        continue  # reported once, below, as the MJPEG convention
                    sev = "warning" if th <= 1 else "error"
                    s.add(sev, pos, f"scan uses Huffman table {label}, which no DHT before this scan defines"
                          + (" (libjpeg-turbo and ffmpeg substitute the Annex K table)" if th <= 1 else ""),
                          "undefined-dht")
        if huffman and not s.htables_ever and not self.no_dht_reported:
            self.no_dht_reported = True  # a flag, not a search of the problems: files may hold many scans
            s.add("warning", pos, "no DHT segment: relies on the Motion-JPEG convention that the Annex K.3 tables "
                  "apply (libjpeg-turbo, ffmpeg and fdjpeg do this; strict decoders reject the file)", "no-dht")

    def _progression(self, scan: ScanInfo, idx: list) -> None:
        """libjpeg's coef_bits bookkeeping (jdphuff.c start_pass): spectral bands sent once, refinements in order."""
        s = self.s
        if not hasattr(self, "_coef_bits"):
            self._coef_bits = {}
        for i in idx:
            bits = self._coef_bits.setdefault(i, [-1] * 64)
            cid = s.components[i][0]
            if scan.ss > 0 and bits[0] < 0:
                s.add("warning", scan.offset, f"progressive AC scan of component {cid} before its DC scan "
                      "(libjpeg-turbo: 'Inconsistent progression sequence')", "progression")
            for k in range(scan.ss, scan.se + 1):
                expected = -1 if scan.ah == 0 else scan.ah
                if bits[k] != expected and not (scan.ah == 0 and bits[k] < 0):
                    s.add("warning", scan.offset, f"progressive scan Ss={scan.ss} Se={scan.se} Ah={scan.ah} "
                          f"Al={scan.al} of component {cid} out of sequence at coefficient {k} "
                          "(libjpeg-turbo: 'Inconsistent progression sequence')", "progression")
                    break
            for k in range(scan.ss, scan.se + 1):
                bits[k] = scan.al

    def _skip_entropy(self, pos: int, start: int, scan: ScanInfo | None) -> int | None:
        """Walk entropy-coded data from ``start`` to the next marker that is not RSTn (T.81 B.1.1.5)."""
        data, s, n = self.data, self.s, len(self.data)
        if scan is not None:
            scan.data_offset = start
        i = start
        while True:
            j = data.find(b"\xff", i)
            if j < 0 or j + 1 >= n:
                if scan is not None:
                    scan.data_bytes = n - start
                return n  # the driver reports the missing EOI
            c = data[j + 1]
            if c == 0x00:
                i = j + 2
                continue
            if c == 0xFF:
                i = j + 1
                continue
            if M.RST0 <= c <= M.RST0 + 7:
                if scan is not None:
                    scan.restarts.append((j, c - M.RST0))
                i = j + 2
                continue
            if scan is not None:
                scan.data_bytes = j - start
            return j

    # -- whole-file checks -------------------------------------------------------------------------

    def _finish(self) -> None:
        s = self.s
        lossless = s.sof in (M.SOF3, M.SOF7, M.SOF11, M.SOF15)
        for at, th, top in self.dc_symbols:
            # DC categories: 0..11 for 8-bit DCT, 0..15 for 12-bit; lossless differences 0..16 (T.81 F.1.2.1, H.1.2.2).
            limit = 16 if lossless else 15
            if top > limit:
                s.add("error", at, f"DHT: DC table {th} has symbol {top} (the largest category is {limit})", "huffman")
            elif not lossless and top > 11 and s.precision == 8:
                s.add("warning", at, f"DHT: DC table {th} has symbol {top} (8-bit samples need only 0..11)", "huffman")
        if s.sof is None:
            if len(s.segments) > 1 and s.scans == [] and s.eoi_offset is not None:
                pass  # "EOI before any scan" already says it; an abbreviated table-only stream
            elif not any(p.code in ("no-soi", "empty") for p in s.problems):
                s.add("error", 0, "no frame header (SOFn) in the file", "no-sof")
        if s.precision == 8 and any(pq for defs in s.qtables_ever.values() for pq, _ in defs):
            at = min(off for defs in s.qtables_ever.values() for pq, off in defs if pq)
            s.add("warning", at, "16-bit quantization table (Pq=1) in an 8-bit frame: T.81 B.2.4.1 requires Pq=0 "
                  "(libjpeg-turbo accepts it)", "dqt")
        if s.height == 0 and s.sof is not None and not self.dnl_seen:
            s.add("error", (s.sof_offset or 0) + 5, "image height 0 and no DNL segment defines it", "sof")
        if s.sof is not None and s.components:
            for k, (cid, _, _, tq) in enumerate(s.components):
                if tq not in s.qtables_ever and not lossless and not any(p.code == "undefined-dqt" for p in s.problems):
                    s.add("error", s.sof_offset, f"component {cid} uses quantization table {tq}, which is never defined",
                          "undefined-dqt")
            covered = set()
            for scan in s.scans:
                covered.update(c[0] for c in scan.components)
            missing = [c[0] for c in s.components if c[0] not in covered]
            if s.scans and missing and s.eoi_offset is not None:
                s.add("warning", s.eoi_offset, f"no scan codes component(s) {missing} (they decode flat grey)", "scan")
        for scan in s.scans:
            self._restarts(scan)
            if scan.data_bytes == 0 and s.width:
                s.add("warning", scan.offset, "scan with no entropy-coded data", "empty-scan")

    def _restarts(self, scan: ScanInfo) -> None:
        """RSTn markers must count 0..7 cyclically from 0 and number ceil(MCUs / Ri) - 1 (T.81 B.2.1, E.1.4)."""
        s = self.s
        if s.width and s.height and s.components:
            frame_ids = [c[0] for c in s.components]
            idx = [frame_ids.index(c[0]) for c in scan.components if c[0] in frame_ids]
            if len(idx) == 1:
                bx, by = s.component_blocks(idx[0])
                scan.mcus = bx * by
            elif idx:
                hmax, vmax = s.max_hv
                scan.mcus = (-(-s.width // (8 * hmax))) * (-(-s.height // (8 * vmax)))
        ri = scan.restart_interval
        if not ri:
            if scan.restarts:
                s.add("error", scan.restarts[0][0], f"RST{scan.restarts[0][1]} marker in a scan without a restart "
                      "interval (no DRI before the scan)", "rst-unexpected")
            return
        for k, (off, num) in enumerate(scan.restarts):
            if num != k % 8:
                s.add("error", off, f"restart marker RST{num} out of sequence: expected RST{k % 8} "
                      f"(restart {k + 1} of the scan)", "rst-sequence")
                break
        if scan.mcus:
            expected = -(-scan.mcus // ri) - 1
            got = len(scan.restarts)
            if got != expected:
                sev = "error" if got > expected else "warning"
                s.add(sev, scan.offset, f"scan has {got} restart markers; {scan.mcus} MCUs with restart interval "
                      f"{ri} need {expected}" + (" (data truncated?)" if got < expected else ""), "rst-count")


# --------------------------------------------------------------------------------------------------
# The hardware-safe profile


def profile_problems(s: Structure, profile: str = HARDWARE_PROFILE) -> list[Problem]:
    """Each way the file falls outside the ``baseline-hw`` profile, as errors (spec/hardware-profile.md).

    The rules: baseline process (SOF0) with 8-bit samples; 8-bit quantization tables (Pq = 0); at most
    two quantization tables and at most two Huffman tables per class (Th 0 and 1); exactly one scan
    and it carries every component (interleaved when there are three); 1 component (grayscale, id 1,
    1x1) or 3 components with ids 1, 2, 3 in 4:4:4, 4:2:2 or 4:2:0; at most ``HW_MAX_APP_BYTES``
    bytes of APPn payload; no arithmetic coding, hierarchical or lossless segments.
    """
    if profile != HARDWARE_PROFILE:
        raise ValueError(f"unknown profile {profile!r}; the only profile is {HARDWARE_PROFILE!r}")
    out: list[Problem] = []

    def bad(offset, message):
        out.append(Problem("error", int(offset or 0), f"{HARDWARE_PROFILE}: {message}", "profile"))

    if s.sof is None:
        bad(0, "no frame header")
        return out
    if s.sof != M.SOF0:
        bad(s.sof_offset, f"{M.marker_name(s.sof)} ({M.SOF_PROCESS.get(s.sof)}); hardware decoders take baseline SOF0 only")
    if s.precision != 8:
        bad(s.sof_offset, f"{s.precision}-bit samples; 8-bit only")
    sixteen = sorted({tq for tq, defs in s.qtables_ever.items() if any(pq for pq, _ in defs)})
    if sixteen:
        bad(s.qtables_ever[sixteen[0]][0][1], f"16-bit quantization table(s) {sixteen} (Pq=1); 8-bit (Pq=0) only")
    used_q = {c[3] for c in s.components}
    if len(s.qtables_ever) > 2 or len(used_q) > 2 or any(t > 1 for t in used_q):
        bad(s.sof_offset, f"quantization tables {sorted(set(s.qtables_ever) | used_q)}; at most two (0 and 1)")
    for tc in (0, 1):
        slots = sorted(th for (c, th) in s.htables_ever if c == tc)
        if any(th > 1 for th in slots):
            bad(s.htables_ever[(tc, slots[-1])][0], f"{'AC' if tc else 'DC'} Huffman tables {slots}; at most two (0 and 1)")
    nf = len(s.components)
    if nf not in (1, 3):
        bad(s.sof_offset, f"{nf} components; 1 (grayscale) or 3 (YCbCr) only")
    ids = [c[0] for c in s.components]
    if nf == 1 and ids != [1] or nf == 3 and ids != [1, 2, 3]:
        bad(s.sof_offset, f"component ids {ids}; must be {'[1]' if nf == 1 else '[1, 2, 3]'}")
    sub = s.subsampling()
    if nf == 1 and s.components[0][1:3] != (1, 1):
        bad(s.sof_offset, f"grayscale sampling {s.components[0][1]}x{s.components[0][2]}; must be 1x1")
    if nf == 3 and sub not in HW_SUBSAMPLINGS:
        desc = sub or " ".join(f"{c[1]}x{c[2]}" for c in s.components)
        bad(s.sof_offset, f"chroma subsampling {desc}; 4:4:4, 4:2:2 or 4:2:0 only")
    if len(s.scans) != 1:
        bad(s.scans[1].offset if len(s.scans) > 1 else s.sof_offset, f"{len(s.scans)} scans; exactly one")
    elif len(s.scans[0].components) != nf:
        bad(s.scans[0].offset, f"the scan codes {len(s.scans[0].components)} of {nf} components; one interleaved scan of all")
    app_bytes = sum(len(p) for _, _, p in s.app)
    if app_bytes > HW_MAX_APP_BYTES:
        bad(s.app[0][0], f"{app_bytes} bytes of APPn payload in {len(s.app)} segments; at most {HW_MAX_APP_BYTES}")
    for seg in s.segments:
        if seg.marker in (M.DAC, M.DHP, M.EXP, M.DNL):
            bad(seg.offset, f"{seg.name} segment")
    return out


def hardware_settings_problem(profile, rgb: bool, subsampling: str, app_segments) -> str | None:
    """Why ``encode`` settings fall outside the profile (a message naming the argument), or None.

    ``app_segments``: the complete APPn segments the encoder will write (EXIF, ICC chunks).
    """
    if not isinstance(profile, str) or profile != HARDWARE_PROFILE:
        return f"profile must be None or {HARDWARE_PROFILE!r}, got {profile!r}"
    if not rgb and subsampling != "4:4:4":
        return (f"subsampling={subsampling!r} on a grayscale image writes sampling factors "
                f"{'x'.join(map(str, SUBSAMPLING_FACTORS[subsampling]))}, outside profile {HARDWARE_PROFILE!r} "
                "(grayscale must be 1x1): leave subsampling out or pass '4:4:4'")
    if rgb and subsampling not in HW_SUBSAMPLINGS:
        return (f"subsampling={subsampling!r} is outside profile {HARDWARE_PROFILE!r}: hardware decoders are "
                f"documented to take {', '.join(HW_SUBSAMPLINGS)} or grayscale (nvJPEG's hardware backend "
                "rejects 4:1:0 and 4:1:1; see spec/hardware-profile.md)")
    app_bytes = sum(len(seg) - 4 for seg in app_segments)
    if app_bytes > HW_MAX_APP_BYTES:
        return (f"exif/icc_profile add {app_bytes} bytes of APPn data; profile {HARDWARE_PROFILE!r} allows at most "
                f"{HW_MAX_APP_BYTES} (one segment's worth; see spec/hardware-profile.md)")
    return None


# --------------------------------------------------------------------------------------------------
# Public API


def _load(data) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:  # an unreadable path raises OSError: the one exception allowed
            return f.read()
    if hasattr(data, "read"):
        out = data.read()
        if isinstance(out, str):
            raise TypeError("file object must be opened in binary mode")
        return bytes(out)
    raise TypeError(f"data must be bytes, a path or a binary file object, got {type(data).__name__}")


def walk(data) -> Structure:
    """Walk a file's markers; the returned ``Structure`` carries the segments, tables, scans and problems."""
    raw = _load(data)
    try:
        return _Walker(raw).run()
    except Exception as exc:  # a checker bug must not look like a crash on the user's file
        s = Structure(size=len(raw))
        s.add("error", 0, f"internal checker error ({type(exc).__name__}: {exc}); please report it", "internal")
        return s


def check(data, *, profile: str | None = None) -> list[Problem]:
    """Every structural problem of a JPEG file, sorted by offset: a list of ``Problem``.

    ``data``: bytes, a path or a binary file object. With ``profile="baseline-hw"`` the file's
    departures from the hardware-safe profile are errors; without it they are one ``info`` finding
    ("fits"/"does not fit"). Never raises on malformed data (an unreadable path raises ``OSError``).
    """
    if profile is not None and profile != HARDWARE_PROFILE:
        raise ValueError(f"unknown profile {profile!r}; the only profile is {HARDWARE_PROFILE!r}")
    s = walk(data)
    problems = list(s.problems)
    if not any(p.code in ("empty", "no-soi", "internal") for p in problems):
        hw = profile_problems(s)
        if profile is not None:
            problems += hw
        elif hw:
            reasons = "; ".join(p.message.split(": ", 1)[1] for p in hw)
            problems.append(Problem("info", hw[0].offset, f"outside the {HARDWARE_PROFILE} hardware profile: {reasons}",
                                    "profile"))
        else:
            problems.append(Problem("info", 0, f"fits the {HARDWARE_PROFILE} hardware profile", "profile"))
    return sorted(problems, key=lambda p: (p.offset, _SEVERITY_ORDER.get(p.severity, 3)))


def errors(problems) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _natural(zigzag_values) -> list[list[int]]:
    from .zigzag import ZIGZAG

    out = [0] * 64
    for k, v in enumerate(zigzag_values):
        out[int(ZIGZAG[k])] = int(v)
    return [out[r * 8 : r * 8 + 8] for r in range(8)]


def _app_summary(n: int, p: bytes) -> dict:
    if n == 0 and p[:5] == b"JFIF\x00" and len(p) >= 14:
        units = {0: "none (aspect ratio)", 1: "dots per inch", 2: "dots per cm"}.get(p[7], f"unit {p[7]}")
        return {"type": "JFIF", "version": f"{p[5]}.{p[6]:02d}", "density": [_u16(p, 8), _u16(p, 10)],
                "density_unit": units, "thumbnail": [p[12], p[13]]}
    if n == 0 and p[:4] == b"AVI1":
        return {"type": "AVI1", "polarity": p[4] if len(p) > 4 else None}
    if n == 1 and p[:6] == b"Exif\x00\x00":
        order = {b"II": "little-endian (II)", b"MM": "big-endian (MM)"}.get(p[6:8], "unknown")
        return {"type": "EXIF", "bytes": len(p) - 6, "byte_order": order}
    if n == 1 and p.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
        return {"type": "XMP", "bytes": len(p) - 29}
    if n == 2 and p[:12] == b"ICC_PROFILE\x00" and len(p) >= 14:
        return {"type": "ICC_PROFILE", "chunk": p[12], "chunks": p[13], "bytes": len(p) - 14}
    if n == 14 and p[:5] == b"Adobe" and len(p) >= 12:
        return {"type": "Adobe", "transform": p[11]}
    ident = p[: p.find(b"\x00")] if b"\x00" in p[:32] else p[:16]
    return {"type": ident.decode("latin-1", "replace"), "bytes": len(p)}


def info(data) -> dict:
    """The structure of a JPEG file as plain data (JSON-serializable): markers, frame, tables, scans,
    metadata, the hardware-profile verdict and the problems ``check`` reports."""
    raw = _load(data)
    s = walk(raw)
    problems = check(raw)
    hw = [p for p in problems if p.code == "profile"]
    frame = None
    if s.sof is not None:
        frame = {
            "marker": M.marker_name(s.sof),
            "process": M.SOF_PROCESS.get(s.sof),
            "precision": s.precision,
            "width": s.width,
            "height": s.height,
            "components": [{"id": c[0], "h": c[1], "v": c[2], "tq": c[3]} for c in s.components],
            "subsampling": s.subsampling(),
        }
    icc = [a for a in s.app if a[1] == 2 and a[2][:12] == b"ICC_PROFILE\x00"]
    exif = [a for a in s.app if a[1] == 1 and a[2][:6] == b"Exif\x00\x00"]
    return {
        "size": s.size,
        "markers": [{"offset": g.offset, "marker": g.name, "length": g.length} for g in s.segments],
        "frame": frame,
        "quantization_tables": {str(tq): {"precision_bits": 16 if pq else 8, "offset": off, "table": _natural(vals)}
                                for tq, (pq, vals, off) in sorted(s.qtables.items())},
        "huffman_tables": [{"class": "AC" if tc else "DC", "index": th, "offset": off, "codes": sum(bits),
                            "counts_by_length": list(bits), "max_length": max((k + 1 for k, b in enumerate(bits) if b), default=0)}
                           for (tc, th), (bits, _, off) in sorted(s.htables.items())],
        "restart_interval": s.restart_interval,
        "scans": [{"offset": sc.offset, "components": [{"id": c, "dc_table": td, "ac_table": ta} for c, td, ta in sc.components],
                   "Ss": sc.ss, "Se": sc.se, "Ah": sc.ah, "Al": sc.al, "restart_interval": sc.restart_interval,
                   "mcus": sc.mcus, "entropy_bytes": sc.data_bytes, "restart_markers": len(sc.restarts)}
                  for sc in s.scans],
        "metadata": {
            "app_segments": [{"offset": off, "marker": f"APP{n}", **_app_summary(n, p)} for off, n, p in s.app],
            "comments": [p.decode("utf-8", "replace") for _, p in s.comments],
            "exif_bytes": sum(len(p) - 6 for _, _, p in exif),
            "icc_profile_bytes": sum(max(len(p) - 14, 0) for _, _, p in icc),
        },
        "trailing_bytes": s.trailing,
        "hardware_profile": {"name": HARDWARE_PROFILE, "fits": bool(hw) and hw[0].message.startswith("fits"),
                             "detail": hw[0].message if hw else "not checked (unreadable file)"},
        "problems": [asdict(p) for p in problems],
    }


def format_info(d: dict, name: str = "") -> str:
    """``info()`` as readable text (what ``fdjpeg info`` prints)."""
    lines = [f"{name}: {d['size']} bytes" if name else f"{d['size']} bytes"]
    f = d["frame"]
    if f:
        comps = ", ".join(f"id {c['id']} {c['h']}x{c['v']} q{c['tq']}" for c in f["components"])
        lines.append(f"frame: {f['marker']} {f['process']}, {f['precision']}-bit, {f['width']}x{f['height']}, "
                     f"{len(f['components'])} components ({comps})" + (f", {f['subsampling']}" if f["subsampling"] else ""))
    lines.append("markers:")
    for m in d["markers"]:
        lines.append((f"  {m['offset']:>10}  {m['marker']:<5}" + (f" length {m['length']}" if m["length"] is not None else "")).rstrip())
    for tq, q in d["quantization_tables"].items():
        lines.append(f"quantization table {tq} ({q['precision_bits']}-bit, natural order):")
        lines += ["  " + " ".join(f"{v:>3}" for v in row) for row in q["table"]]
    for h in d["huffman_tables"]:
        lines.append(f"Huffman table {h['class']}{h['index']}: {h['codes']} codes, lengths up to {h['max_length']} "
                     f"(counts {' '.join(map(str, h['counts_by_length']))})")
    if d["restart_interval"]:
        lines.append(f"restart interval: {d['restart_interval']} MCUs")
    for k, sc in enumerate(d["scans"]):
        comps = ", ".join(f"{c['id']} (DC{c['dc_table']} AC{c['ac_table']})" for c in sc["components"])
        lines.append(f"scan {k + 1} at {sc['offset']}: components {comps}; Ss={sc['Ss']} Se={sc['Se']} Ah={sc['Ah']} "
                     f"Al={sc['Al']}; {sc['mcus']} MCUs, {sc['entropy_bytes']} bytes, {sc['restart_markers']} RST markers")
    md = d["metadata"]
    for a in md["app_segments"]:
        extra = ", ".join(f"{k}={v}" for k, v in a.items() if k not in ("offset", "marker", "type"))
        lines.append(f"{a['marker']} {a['type']}" + (f": {extra}" if extra else ""))
    for c in md["comments"]:
        lines.append(f"comment: {c[:200]!r}")
    lines.append(f"hardware profile: {d['hardware_profile']['detail']}")
    for p in d["problems"]:
        if p["code"] != "profile":
            lines.append(f"{p['offset']}: {p['severity']}: {p['message']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Command line (registered by cli.build_parser)


def cmd_check(args) -> int:
    import sys

    failed = False
    for path in args.files:
        try:
            problems = check(path, profile=args.profile)
        except OSError as exc:
            print(f"{path}:0: error: cannot read: {exc.strerror or exc}", flush=True)
            failed = True
            continue
        for p in problems:
            if args.quiet and p.severity == "info":
                continue
            print(f"{path}:{p.offset}: {p.severity}: {p.message}")
        failed |= any(p.severity == "error" for p in problems)
        if args.strict:
            failed |= any(p.severity == "warning" for p in problems)
    sys.stdout.flush()
    return 1 if failed else 0


def cmd_info(args) -> int:
    import sys

    try:
        d = info(args.file)
    except OSError as exc:
        print(f"fdjpeg: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    not_jpeg = [p["message"] for p in d["problems"] if p.get("code") == "no-soi"]
    if not_jpeg:  # nothing to describe: an error, not a report
        print(f"fdjpeg: {args.file}: {not_jpeg[0]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        print(format_info(d, args.file))
    return 0


def register(sub) -> None:
    """Add the ``check`` and ``info`` subcommands to the CLI's subparsers."""
    p = sub.add_parser("check", help="validate JPEG files: one line per problem, FILE:OFFSET: severity: message")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--profile", choices=[HARDWARE_PROFILE], default=None,
                   help="treat departures from the hardware-safe profile as errors")
    p.add_argument("--strict", action="store_true", help="exit non-zero on warnings too")
    p.add_argument("-q", "--quiet", action="store_true", help="omit info lines")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("info", help="print a JPEG file's structure: markers, tables, sampling, scans, metadata")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)
