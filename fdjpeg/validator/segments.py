"""The validator's checks of one marker segment's fields: SOFn, DQT, DHT and APPn (T.81 B.2.2, B.2.4.1,
B.2.4.2, B.2.4.6), each recording what it finds on the walk's ``Structure``. The walk itself, the scans
and the file-level rules are walker.py's."""

from __future__ import annotations

from ..base import markers as M
from ..base.huffman import HuffmanSpec, HuffmanTableError, canonical_codes


def _u16(data: bytes, i: int) -> int:
    return (data[i] << 8) | data[i + 1]


class _SegmentChecks:
    """The segment checks of ``walker._Walker`` (which holds ``data``, ``s`` and the walk's state)."""

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
            s.add(
                "error",
                pos,
                f"{name} length {len(p) + 2} does not match {nf} components (needs {8 + 3 * nf}, T.81 B.2.2)",
                "length",
            )
        if code in (M.SOF3, M.SOF7, M.SOF11, M.SOF15):
            ok_p = 2 <= s.precision <= 16
        elif code == M.SOF0:
            ok_p = s.precision == 8
        else:
            ok_p = s.precision in (8, 12)
        if not ok_p:
            s.add(
                "error",
                pos + 4,
                f"{name}: sample precision {s.precision} is not allowed for this process (T.81 Table B.2)",
                "sof",
            )
        if s.width == 0:
            s.add("error", pos + 7, f"{name}: image width 0", "sof")
        if max(s.width, s.height) > 65500:
            s.add(
                "warning",
                pos + 5,
                f"{name}: {s.width}x{s.height} exceeds 65500 pixels on a side, libjpeg-turbo's "
                "JPEG_MAX_DIMENSION (it refuses the file)",
                "sof",
            )
        if nf == 0 or (nf > 4 and code not in (M.SOF0, M.SOF1, M.SOF3)):
            s.add(
                "error",
                pos + 9,
                f"{name}: {nf} components ({'none' if nf == 0 else 'more than 4 in a progressive frame'})",
                "sof",
            )
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
                    s.add(
                        "warning",
                        pos,
                        f"{name}: component {cid} sampling {h}x{v} does not divide the maximum "
                        f"{hmax}x{vmax} (fractional upsampling: libjpeg-turbo refuses it)",
                        "sampling",
                    )

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
                s.add(
                    "error",
                    at,
                    f"DQT segment length does not hold table {tq}: {len(p) - i - 1} of {size} bytes present",
                    "length",
                )
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
        s = self.s
        i = 0
        if not p:
            s.add("error", pos, "empty DHT segment", "length")
        while i < len(p):
            at = pos + 4 + i
            if i + 17 > len(p):
                s.add(
                    "error", at, f"DHT segment length does not hold a table header: {len(p) - i} of 17 bytes", "length"
                )
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
                s.add(
                    "error",
                    at,
                    f"DHT segment length does not hold the {count} symbols of table {'AC' if tc else 'DC'}{th}",
                    "length",
                )
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
                    s.add(
                        "warning",
                        pos,
                        f"JFIF APP0 length {len(p) + 2} does not match its "
                        f"{p[12]}x{p[13]} thumbnail (expected {16 + thumb})",
                        "jfif",
                    )
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
