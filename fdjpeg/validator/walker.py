"""The validator's marker walker: ``walk(data)`` records a file's structure and every problem it sees
(report.py turns that into ``check`` and ``info``; profile.py judges the hardware profile).

The walker is independent of the decoder's parser, so it keeps going where a decoder stops: it reports *all* problems it can see, each with a severity and a byte offset, and it
never raises on malformed input (only an unreadable path raises ``OSError``). Every loop advances
through the data, so the walk is linear in the file size and cannot hang.

What it checks (T.81 Annex B clause numbers; libjpeg-turbo's behaviour where it is more lenient):
marker order (SOI first, one frame, tables before the scans that use them, EOI last), segment lengths
(each segment's length field against what its fields need), quantization and Huffman table
definitions (Tq/Th ranges, Huffman codes that fit their lengths via ``huffman.canonical_codes``),
references from the frame and scans to defined tables, SOF fields, scan parameters Ss/Se/Ah/Al and
the progression, the restart marker sequence and count, a missing EOI, bytes after EOI and junk
between segments."""

from __future__ import annotations

from ..base import markers as M
from ..base.io import load_bytes
from .segments import _SegmentChecks, _u16
from .structure import ScanInfo, SegmentInfo, Structure


class _Walker(_SegmentChecks):
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
                s.add(
                    "warning",
                    pos,
                    f"{nxt - pos} extraneous bytes before marker {where} (libjpeg-turbo skips them with a warning)",
                    "junk",
                )
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
                s.add(
                    "error" if code != M.TEM else "warning",
                    pos,
                    f"{M.marker_name(code)} marker outside entropy-coded data",
                    "rst-misplaced",
                )
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
            s.add(
                "error",
                pos,
                f"{name} segment length {length} runs {end - n} bytes past the end of the file",
                "truncated",
            )
            return None
        payload = data[pos + 4 : end]
        if code in (
            M.SOF0,
            M.SOF1,
            M.SOF2,
            M.SOF3,
            M.SOF5,
            M.SOF6,
            M.SOF7,
            M.SOF9,
            M.SOF10,
            M.SOF11,
            M.SOF13,
            M.SOF14,
            M.SOF15,
        ):
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

    def _sos(self, pos: int, p: bytes, end: int) -> int | None:
        s = self.s
        if not self.frame_seen:
            s.add("error", pos, "SOS before any frame header (SOFn)", "order")
        if not p:
            s.add("error", pos, "empty SOS segment", "length")
            return self._skip_entropy(pos, end, None)
        ns = p[0]
        if len(p) != 4 + 2 * ns:
            s.add(
                "error",
                pos,
                f"SOS length {len(p) + 2} does not match Ns={ns} (needs {6 + 2 * ns}, T.81 B.2.3)",
                "length",
            )
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
        for cid, _td, _ta in scan.components:
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
                s.add(
                    "warning",
                    pos,
                    f"component(s) {again} already coded by an earlier scan of this sequential "
                    "frame (a sequential frame codes each component in exactly one scan)",
                    "scan",
                )
            self.coded.update(idx)
        if len(idx) > 1 and sum(s.components[i][1] * s.components[i][2] for i in idx) > 10:
            s.add("error", pos, "SOS: interleaved MCU of more than 10 blocks (T.81 B.2.3)", "sos")
        progressive = s.sof in (M.SOF2, M.SOF6, M.SOF10, M.SOF14)
        lossless = s.sof in (M.SOF3, M.SOF7, M.SOF11, M.SOF15)
        label = f"Ss={scan.ss} Se={scan.se} Ah={scan.ah} Al={scan.al}"
        if lossless:  # Ss: predictor, Al: point transform (T.81 H.1.2.1, Table H.1)
            hierarchical = s.sof in (M.SOF7, M.SOF15)
            if not (
                (1 if not hierarchical else 0) <= scan.ss <= 7
                and scan.se == 0
                and scan.ah == 0
                and scan.al < (s.precision or 16)
            ):
                s.add(
                    "error",
                    pos,
                    f"SOS: invalid lossless scan parameters {label} (predictor Ss 1..7, Se=0, "
                    f"Ah=0, point transform Al below the precision {s.precision})",
                    "scan-params",
                )
        elif not progressive:
            if (scan.ss, scan.se, scan.ah, scan.al) != (0, 63, 0, 0):
                s.add(
                    "error",
                    pos,
                    f"SOS: {label} in a sequential scan (must be Ss=0 Se=63 Ah=0 Al=0; "
                    "libjpeg-turbo warns and decodes all 64)",
                    "scan-params",
                )
        else:
            ok = scan.ss <= scan.se <= 63 and scan.ah <= 13 and scan.al <= 13
            if scan.ss == 0 and scan.se != 0:
                ok = False
            if scan.ss > 0 and len(scan.components) != 1:
                s.add(
                    "error",
                    pos,
                    f"SOS: progressive AC scan ({label}) with {len(scan.components)} components "
                    "(AC scans hold one, T.81 G.1.1.1.1)",
                    "scan-params",
                )
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
                    s.add(
                        "error",
                        pos,
                        f"component {cid} uses quantization table {tq}, which no DQT before this scan defines",
                        "undefined-dqt",
                    )
            if not huffman:
                continue
            if s.sof in (M.SOF0,) and (td > 1 or ta > 1):
                s.add(
                    "error",
                    pos,
                    f"SOS: component {cid} uses Huffman table DC{td}/AC{ta} "
                    "(baseline allows tables 0 and 1, T.81 B.2.3)",
                    "sos",
                )
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
                    s.add(
                        sev,
                        pos,
                        f"scan uses Huffman table {label}, which no DHT before this scan defines"
                        + (" (libjpeg-turbo and ffmpeg substitute the Annex K table)" if th <= 1 else ""),
                        "undefined-dht",
                    )
        if huffman and not s.htables_ever and not self.no_dht_reported:
            self.no_dht_reported = True  # a flag, not a search of the problems: files may hold many scans
            s.add(
                "warning",
                pos,
                "no DHT segment: relies on the Motion-JPEG convention that the T.81 K.3 tables "
                "apply (libjpeg-turbo, ffmpeg and fdjpeg do this; strict decoders reject the file)",
                "no-dht",
            )

    def _progression(self, scan: ScanInfo, idx: list) -> None:
        """libjpeg's coef_bits bookkeeping (jdphuff.c start_pass): spectral bands sent once, refinements in order."""
        s = self.s
        if not hasattr(self, "_coef_bits"):
            self._coef_bits = {}
        for i in idx:
            bits = self._coef_bits.setdefault(i, [-1] * 64)
            cid = s.components[i][0]
            if scan.ss > 0 and bits[0] < 0:
                s.add(
                    "warning",
                    scan.offset,
                    f"progressive AC scan of component {cid} before its DC scan "
                    "(libjpeg-turbo: 'Inconsistent progression sequence')",
                    "progression",
                )
            for k in range(scan.ss, scan.se + 1):
                expected = -1 if scan.ah == 0 else scan.ah
                if bits[k] != expected and not (scan.ah == 0 and bits[k] < 0):
                    s.add(
                        "warning",
                        scan.offset,
                        f"progressive scan Ss={scan.ss} Se={scan.se} Ah={scan.ah} "
                        f"Al={scan.al} of component {cid} out of sequence at coefficient {k} "
                        "(libjpeg-turbo: 'Inconsistent progression sequence')",
                        "progression",
                    )
                    break
            for k in range(scan.ss, scan.se + 1):
                bits[k] = scan.al

    def _skip_entropy(self, pos: int, start: int, scan: ScanInfo | None) -> int | None:
        """Walk entropy-coded data from ``start`` to the next marker that is not RSTn (T.81 B.1.1.5)."""
        data, n = self.data, len(self.data)
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
            s.add(
                "warning",
                at,
                "16-bit quantization table (Pq=1) in an 8-bit frame: T.81 B.2.4.1 requires Pq=0 "
                "(libjpeg-turbo accepts it)",
                "dqt",
            )
        if s.height == 0 and s.sof is not None and not self.dnl_seen:
            s.add("error", (s.sof_offset or 0) + 5, "image height 0 and no DNL segment defines it", "sof")
        if s.sof is not None and s.components:
            for cid, _, _, tq in s.components:
                if tq not in s.qtables_ever and not lossless and not any(p.code == "undefined-dqt" for p in s.problems):
                    s.add(
                        "error",
                        s.sof_offset,
                        f"component {cid} uses quantization table {tq}, which is never defined",
                        "undefined-dqt",
                    )
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
                s.add(
                    "error",
                    scan.restarts[0][0],
                    f"RST{scan.restarts[0][1]} marker in a scan without a restart interval (no DRI before the scan)",
                    "rst-unexpected",
                )
            return
        for k, (off, num) in enumerate(scan.restarts):
            if num != k % 8:
                s.add(
                    "error",
                    off,
                    f"restart marker RST{num} out of sequence: expected RST{k % 8} (restart {k + 1} of the scan)",
                    "rst-sequence",
                )
                break
        if scan.mcus:
            expected = -(-scan.mcus // ri) - 1
            got = len(scan.restarts)
            if got != expected:
                sev = "error" if got > expected else "warning"
                s.add(
                    sev,
                    scan.offset,
                    f"scan has {got} restart markers; {scan.mcus} MCUs with restart interval "
                    f"{ri} need {expected}" + (" (data truncated?)" if got < expected else ""),
                    "rst-count",
                )


def walk(data) -> Structure:
    """Walk a file's markers; the returned ``Structure`` carries the segments, tables, scans and problems."""
    raw = load_bytes(data)
    try:
        return _Walker(raw).run()
    except Exception as exc:  # a checker bug must not look like a crash on the user's file
        s = Structure(size=len(raw))
        s.add("error", 0, f"internal checker error ({type(exc).__name__}: {exc}); please report it", "internal")
        return s
