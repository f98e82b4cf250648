"""The JPEG marker walker: SOI, SOFn, DHT, DQT, DRI, SOS, APPn, COM, DNL, DAC and EOI (T.81 Annex B),
parsed and validated the way libjpeg-turbo's jdmarker.c and jdinput.c do it.

The walker reads the stream marker by marker and hands each scan (after its SOS header) to a callback
that consumes the entropy-coded data: reader.py decodes it, ``read_header`` just skips it. Every field
a scan depends on is checked before its first block is decoded (STYLE item 4); what libjpeg-turbo
rejects raises ``JPEGError`` with the field, its value and the byte offset, and what it tolerates is
tolerated here too, with a ``JPEGWarning``:

* bytes between segments that are not a marker are skipped ("N extraneous bytes before marker");
* an APPn/COM/DNL length below 2 skips nothing; unknown APPn contents are ignored;
* reading past the end of the data yields the fake EOI (FF D9) that libjpeg's data sources insert,
  with a "premature end of JPEG file" warning; data after EOI is ignored.

Features outside fdjpeg's scope (lossless, hierarchical, 12-bit samples; arithmetic coding other than
SOF9/SOF10) raise ``UnsupportedJPEG`` as soon as their marker or field is met.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from . import arithmetic as AD
from . import markers as M
from .errors import JPEGError, UnsupportedJPEG
from .huffman import HuffmanSpec
from .zigzag import ZIGZAG

#: libjpeg's JPEG_MAX_DIMENSION: larger frames are refused (jdinput.c initial_setup).
MAX_DIMENSION = 65500
#: libjpeg's MAX_COMPONENTS (components per frame) and MAX_COMPS_IN_SCAN (T.81 B.2.3: Ns <= 4).
MAX_COMPONENTS = 10
MAX_COMPS_IN_SCAN = 4
#: T.81 B.2.3: an interleaved MCU holds at most 10 blocks (libjpeg's D_MAX_BLOCKS_IN_MCU).
MAX_BLOCKS_IN_MCU = 10

#: The warning for data that ends before EOI (libjpeg's JWRN_JPEG_EOF, issued where the read happens).
PREMATURE_EOF = "premature end of JPEG file (data truncated; a fake EOI marker is assumed)"


def load_bytes(data) -> bytes:
    """The bytes of ``data``: bytes, bytearray, memoryview, a path (str or os.PathLike) or a binary
    file object (read from its current position)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    read = getattr(data, "read", None)
    if callable(read):
        out = read()
        if not isinstance(out, (bytes, bytearray, memoryview)):
            raise TypeError(f"file object must be opened in binary mode (read() returned {type(out).__name__})")
        return bytes(out)
    raise TypeError("data must be bytes, bytearray, memoryview, a path or a binary file object, "
                    f"got {type(data).__name__}")


@dataclass(frozen=True)
class FrameComponent:
    """One component of the frame header (T.81 B.2.2): identifier Ci, sampling factors Hi, Vi and
    quantization table selector Tqi."""

    id: int
    h: int
    v: int
    tq: int


@dataclass(frozen=True)
class ScanComponent:
    """One component of a scan header (T.81 B.2.3): Csj, its index in the frame, and the DC/AC
    Huffman table selectors Tdj, Taj."""

    id: int
    index: int
    td: int
    ta: int


@dataclass(frozen=True)
class ScanHeader:
    """A scan header (T.81 B.2.3) and the offset of its SOS marker."""

    offset: int
    components: tuple[ScanComponent, ...]
    ss: int
    se: int
    ah: int
    al: int


@dataclass(frozen=True)
class Segment:
    """A marker in the stream: its code, the offset of its 0xFF byte and the value of its length field
    (None for the parameterless SOI, EOI, RSTn and TEM). RSTn markers inside scans are not listed."""

    marker: int
    offset: int
    length: int | None

    @property
    def name(self) -> str:
        return M.marker_name(self.marker)


@dataclass(frozen=True)
class JFIFInfo:
    """The JFIF APP0 fields libjpeg reads: version (major, minor), density unit (0 none, 1 dpi,
    2 dots/cm) and the X/Y densities."""

    version: tuple[int, int]
    density_unit: int
    x_density: int
    y_density: int


@dataclass
class JPEGHeader:
    """What a JPEG file says about itself, read without decoding its entropy-coded data.

    Frame fields come from the SOF segment. ``quant_tables`` are the DQT slots (0..3) as defined when
    the first scan starts, uint16 8x8 in natural order; ``restart_interval`` is the DRI value in force
    at the first scan. ``colorspace`` is decided as libjpeg-turbo's ``default_decompress_parms`` does
    ("L", "YCbCr", "RGB", "CMYK", "YCCK", or "unknown" for 2 or 5+ components). ``exif`` is the whole
    payload of the first APP1 segment that starts with ``Exif\\0\\0`` (identifier included, as Pillow's
    ``info["exif"]``); ``icc_profile`` is the APP2 ICC_PROFILE chunks joined in sequence-number order
    (None if the chunk count is inconsistent, as Pillow does). ``segments`` lists every marker met, in
    order; ``scans`` every scan header.
    """

    width: int = 0
    height: int = 0
    precision: int = 0
    components: list[FrameComponent] = field(default_factory=list)
    sof_marker: int | None = None
    process: str = ""
    progressive: bool = False
    arithmetic: bool = False
    quant_tables: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    restart_interval: int = 0
    jfif: JFIFInfo | None = None
    adobe_transform: int | None = None
    exif: bytes | None = field(default=None, repr=False)
    icc_profile: bytes | None = field(default=None, repr=False)
    comments: list[bytes] = field(default_factory=list, repr=False)
    segments: list[Segment] = field(default_factory=list, repr=False)
    scans: list[ScanHeader] = field(default_factory=list, repr=False)
    colorspace: str = "unknown"

    @property
    def sampling(self) -> list[tuple[int, int]]:
        return [(c.h, c.v) for c in self.components]

    @property
    def component_ids(self) -> list[int]:
        return [c.id for c in self.components]

    @property
    def max_sampling(self) -> tuple[int, int]:
        return max(c.h for c in self.components), max(c.v for c in self.components)

    @property
    def comment(self) -> bytes | None:
        """The first COM segment's bytes, or None."""
        return self.comments[0] if self.comments else None

    @property
    def adobe(self) -> bool:
        """Whether an Adobe APP14 segment was seen (its transform flag is ``adobe_transform``)."""
        return self.adobe_transform is not None

    @property
    def mcu_size(self) -> tuple[int, int]:
        """MCU width and height in pixels for interleaved scans (T.81 A.2.3)."""
        h, v = self.max_sampling
        return 8 * h, 8 * v


_UNSUPPORTED_SOF = {
    M.SOF3: "lossless JPEG (SOF3)",
    M.SOF5: "hierarchical JPEG (SOF5, differential sequential)",
    M.SOF6: "hierarchical JPEG (SOF6, differential progressive)",
    M.SOF7: "hierarchical JPEG (SOF7, differential lossless)",
    M.JPG: "JPEG extensions (JPG marker 0xC8)",
    M.SOF11: "arithmetic coding (SOF11, lossless)",
    M.SOF13: "hierarchical JPEG with arithmetic coding (SOF13)",
    M.SOF14: "hierarchical JPEG with arithmetic coding (SOF14)",
    M.SOF15: "hierarchical JPEG with arithmetic coding (SOF15)",
    M.DHP: "hierarchical JPEG (DHP marker)",
    M.EXP: "hierarchical JPEG (EXP marker)",
}


class MarkerParser:
    """Walks the markers of one JPEG stream and keeps the decoding tables they define.

    ``max_pixels`` refuses larger frames right after SOF. ``on_scan(parser, scan)`` is called after
    each SOS header (and, for the first one, after the frame has been set up); it must consume the
    scan's entropy-coded data and leave ``pos``, ``unread`` and ``discarded`` as libjpeg's source
    manager would. ``warn(message, offset)`` receives warnings.
    """

    def __init__(self, raw: bytes, on_scan, warn, max_pixels: int | None = None):
        self.raw = raw
        self.max_pixels = max_pixels
        self.n = len(raw)
        self.pos = 0
        self.unread = 0  # a marker already read by the entropy decoder, to be processed next
        self.discarded = 0  # libjpeg's discarded_bytes: junk counted until the next marker is found
        self.on_scan = on_scan
        self.warn = warn
        self.header = JPEGHeader()
        self.qt: list[np.ndarray | None] = [None] * 4
        self.dc_tables: list[HuffmanSpec | None] = [None] * 4
        self.ac_tables: list[HuffmanSpec | None] = [None] * 4
        self.restart_interval = 0
        # DAC conditioning (T.81 B.2.4.3) per table 0..15: DC L, DC U, AC Kx, libjpeg's defaults (get_soi).
        self.arith_dc_l, self.arith_dc_u, self.arith_ac_k = (
            [d] * AD.NUM_ARITH_TBLS for d in (AD.DEFAULT_DC_L, AD.DEFAULT_DC_U, AD.DEFAULT_AC_K))
        self.saw_sof = False
        self.saw_jfif = False
        self.saw_adobe = False
        self.adobe_transform = 0
        self.scan_count = 0
        self.has_multiple_scans = False
        self.first_scan_seen = False
        self.eoi_offset: int | None = None
        self._icc_chunks: list[tuple[int, int, bytes]] = []

    # --- byte access (libjpeg's INPUT_BYTE with the fake EOI past the end) ---------------------------

    def _u8(self) -> int:
        p = self.pos
        self.pos = p + 1
        if p < self.n:
            return self.raw[p]
        self.warn(PREMATURE_EOF, self.n)
        return 0xD9 if (p - self.n) & 1 else 0xFF

    def _u16(self) -> int:
        hi = self._u8()
        return (hi << 8) | self._u8()

    def _bytes(self, count: int) -> bytes:
        """The next ``count`` bytes as ``_u8`` reads them (one slice when they all exist)."""
        p = self.pos
        if p + count <= self.n:
            self.pos = p + count
            return self.raw[p : p + count]
        return bytes(self._u8() for _ in range(count))

    def _payload(self, length: int) -> bytes:
        """The next ``length`` bytes that exist in the data (for metadata; nothing past the end)."""
        start = min(self.pos, self.n)
        return self.raw[start : min(self.pos + max(length, 0), self.n)]

    def _skip(self, length: int) -> None:
        if length > 0:
            self.pos += length

    @property
    def ran_past_end(self) -> bool:
        return self.pos > self.n

    # --- finding markers -----------------------------------------------------------------------------

    def next_marker(self) -> tuple[int, int]:
        """jdmarker.c next_marker: (marker code, offset of its FF), skipping junk with a warning."""
        raw, n, pos = self.raw, self.n, self.pos
        while True:
            if pos < n:
                j = raw.find(b"\xff", pos)
                if j < 0:
                    j = n  # the fake EOI starts with FF
            else:
                j = pos if (pos - n) % 2 == 0 else pos + 1
            self.discarded += j - pos
            pos = j + 1
            self.pos = pos
            c = self._u8()
            while c == 0xFF:
                c = self._u8()
            pos = self.pos
            if c != 0:
                break
            self.discarded += 2  # a stuffed FF 00 outside entropy data
        if self.discarded:
            self.warn(f"corrupt JPEG data: {self.discarded} extraneous bytes before marker 0x{c:02X}", pos - 2)
            self.discarded = 0
        return c, pos - 2

    # --- the walk ------------------------------------------------------------------------------------

    def run(self) -> None:
        """Read markers until EOI (real, or the fake one past the end of the data)."""
        if self.n == 0:
            raise JPEGError("empty input: no JPEG data", 0)
        c1, c2 = self._u8(), self._u8()
        if c1 != 0xFF or c2 != M.SOI:
            raise JPEGError(f"not a JPEG file: starts with 0x{c1:02X} 0x{c2:02X}, not the SOI marker FF D8", 0)
        self.header.segments.append(Segment(M.SOI, 0, None))
        while True:
            if self.unread:
                marker, offset = self.unread, self.pos - 2
                self.unread = 0
            else:
                marker, offset = self.next_marker()
            if not self._process(marker, offset):
                return

    def _process(self, marker: int, offset: int) -> bool:
        """Handle one marker; False once EOI has been processed."""
        segments = self.header.segments
        if marker == M.EOI:
            segments.append(Segment(marker, offset, None))
            self.eoi_offset = offset
            if not self.first_scan_seen:
                if self.saw_sof:
                    raise JPEGError("invalid JPEG file structure: EOI before any SOS (missing scan)", offset)
                raise JPEGError("JPEG datastream contains no image (no SOF before EOI)", offset)
            return False
        if M.RST0 <= marker <= M.RST0 + 7 or marker == M.TEM:
            segments.append(Segment(marker, offset, None))  # parameterless; ignored outside scans
            return True
        if marker == M.SOI:
            raise JPEGError("invalid JPEG file structure: two SOI markers", offset)
        if marker in _UNSUPPORTED_SOF:
            raise UnsupportedJPEG(f"unsupported JPEG feature: {_UNSUPPORTED_SOF[marker]}", offset)
        length_pos = self.pos
        length = self._u16()
        segments.append(Segment(marker, offset, length))
        self.pos = length_pos
        if marker in (M.SOF0, M.SOF1, M.SOF2, M.SOF9, M.SOF10):
            self._sof(marker, offset)
        elif marker == M.DHT:
            self._dht(offset)
        elif marker == M.DQT:
            self._dqt(offset)
        elif marker == M.DRI:
            self._dri(offset)
        elif marker == M.SOS:
            self._sos(offset)
        elif M.APP0 <= marker <= M.APP0 + 15 or marker == M.COM:
            self._appn(marker, offset)
        elif marker == M.DNL:
            self._skip(self._u16() - 2)  # T.81 B.2.5: libjpeg ignores DNL (a zero height is refused at SOF)
        elif marker == M.DAC:
            self._dac(offset)
        else:
            raise JPEGError(f"unsupported marker 0x{marker:02X} ({M.marker_name(marker)})", offset)
        return True

    # --- frame header (T.81 B.2.2) -------------------------------------------------------------------

    def _sof(self, marker: int, offset: int) -> None:
        if self.saw_sof:
            raise JPEGError(f"invalid JPEG file structure: two SOF markers (second is {M.marker_name(marker)})", offset)
        length = self._u16()
        precision = self._u8()
        height = self._u16()
        width = self._u16()
        nf = self._u8()
        if height == 0 or width == 0 or nf == 0:
            raise JPEGError(
                f"empty image in {M.marker_name(marker)}: Y={height} X={width} Nf={nf} "
                "(a zero height defined later by DNL is not supported)", offset)
        if length - 8 != 3 * nf:
            raise JPEGError(f"bad {M.marker_name(marker)} length Lf={length} for Nf={nf} components "
                            f"(T.81 B.2.2: Lf = 8 + 3*Nf = {8 + 3 * nf})", offset)
        comps = []
        for _ in range(nf):
            cid = self._u8()
            hv = self._u8()
            tq = self._u8()
            comps.append(FrameComponent(cid, hv >> 4, hv & 15, tq))
        self.saw_sof = True
        hdr = self.header
        hdr.width, hdr.height, hdr.precision = width, height, precision
        hdr.components = comps
        hdr.sof_marker = marker
        hdr.process = M.SOF_PROCESS[marker]
        hdr.progressive, hdr.arithmetic = marker in (M.SOF2, M.SOF10), marker in (M.SOF9, M.SOF10)
        # The checks libjpeg makes at the first SOS (jdinput.c initial_setup), made here so that
        # nothing is allocated for a frame that cannot be decoded.
        if width > MAX_DIMENSION or height > MAX_DIMENSION:
            raise JPEGError(f"image too large: {width}x{height} (libjpeg's maximum dimension is {MAX_DIMENSION})",
                            offset)
        if precision == 12 or precision == 16:
            raise UnsupportedJPEG(f"unsupported JPEG feature: {precision}-bit samples (P={precision})", offset)
        if precision != 8:
            raise JPEGError(f"invalid sample precision P={precision} (T.81 B.2.2: 8 for baseline, 8 or 12 for DCT)",
                            offset)
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise JPEGError(f"image is {width}x{height} = {width * height} pixels, over the limit of "
                            f"{self.max_pixels} (max_pixels, the decompression-bomb guard)", offset)
        if nf > MAX_COMPONENTS:
            raise JPEGError(f"too many components: Nf={nf} (at most {MAX_COMPONENTS})", offset)
        for i, c in enumerate(comps):
            if not (1 <= c.h <= 4 and 1 <= c.v <= 4):
                raise JPEGError(f"bad sampling factors H={c.h} V={c.v} for component {i} (id {c.id}); "
                                "T.81 B.2.2 allows 1..4", offset)
        if self.max_pixels is not None:
            # Memory, not just pixels: up to 10 components are legal. Allow four full-size planes (CMYK).
            hmax, vmax = hdr.max_sampling
            samples = sum(-(-width * c.h // hmax) * -(-height * c.v // vmax) for c in comps)
            if samples > 4 * self.max_pixels:
                raise JPEGError(f"{nf} components of {width}x{height} need {samples} samples, over 4 x max_pixels "
                                f"= {4 * self.max_pixels}", offset)

    # --- tables (T.81 B.2.4) -------------------------------------------------------------------------

    def _dht(self, offset: int) -> None:
        length = self._u16() - 2
        while length > 16:
            index = self._u8()
            bits = list(self._bytes(16))
            count = sum(bits)
            length -= 17
            if count > 256 or count > length:
                raise JPEGError(f"bad Huffman table in DHT (Tc/Th=0x{index:02X}): {count} codes "
                                f"but {max(length, 0)} bytes left in the segment (at most 256 codes)", offset)
            values = self._bytes(count)
            length -= count
            if index & 0x10:
                slot, tables, kind = index - 0x10, self.ac_tables, "AC"
            else:
                slot, tables, kind = index, self.dc_tables, "DC"
            if not 0 <= slot < 4:
                raise JPEGError(f"bad DHT table index Tc/Th=0x{index:02X} (T.81 B.2.4.2: Tc 0..1, Th 0..3)", offset)
            tables[slot] = HuffmanSpec(tuple(bits), values)
        if length != 0:
            raise JPEGError(f"bad DHT segment length (T.81 B.2.4.2): {length} bytes left over", offset)

    def _dqt(self, offset: int) -> None:
        length = self._u16() - 2
        while length > 0:
            pqtq = self._u8()
            pq, tq = pqtq >> 4, pqtq & 15
            if tq >= 4:
                raise JPEGError(f"bad DQT table index Tq={tq} (T.81 B.2.4.1: 0..3)", offset)
            if pq:  # libjpeg reads 16-bit entries for any nonzero Pq
                values = np.frombuffer(self._bytes(128), dtype=">u2").astype(np.uint16)
            else:
                values = np.frombuffer(self._bytes(64), dtype=np.uint8).astype(np.uint16)
            table = np.empty(64, dtype=np.uint16)
            table[ZIGZAG] = values
            self.qt[tq] = table.reshape(8, 8)
            length -= 65 + (64 if pq else 0)
        if length != 0:
            raise JPEGError(f"bad DQT segment length (T.81 B.2.4.1): {-length} bytes short" if length < 0
                            else f"bad DQT segment length: {length} bytes left over", offset)

    def _dri(self, offset: int) -> None:
        length = self._u16()
        if length != 4:
            raise JPEGError(f"bad DRI segment length Lr={length} (T.81 B.2.4.4: 4)", offset)
        self.restart_interval = self._u16()

    def _dac(self, offset: int) -> None:
        """DAC (T.81 B.2.4.3), as libjpeg's get_dac: Tc/Tb 0..15 sets a DC table's L (low nibble) <= U
        (high nibble), 16..31 an AC table's Kx; in force for the following scans (Huffman ones ignore it)."""
        length = self._u16() - 2
        while length > 0:
            index = self._u8()
            value = self._u8()
            length -= 2
            if index >= 32:  # libjpeg keeps 16 DC and 16 AC conditioning slots
                raise JPEGError(f"bad DAC table index Tc/Tb={index} (T.81 B.2.4.3)", offset)
            if index < 16:
                if (value & 15) > (value >> 4):
                    raise JPEGError(f"bad DAC value 0x{value:02X} for DC table {index}: L > U", offset)
                self.arith_dc_l[index], self.arith_dc_u[index] = value & 15, value >> 4
            else:
                self.arith_ac_k[index - 16] = value
        if length != 0:
            raise JPEGError("bad DAC segment length", offset)

    # --- application data and comments (T.81 B.2.4.5-6) --------------------------------------------

    def _appn(self, marker: int, offset: int) -> None:
        length = self._u16() - 2
        data = self._payload(length)
        hdr = self.header
        if marker == M.APP0 and len(data) >= 14 and data[:5] == b"JFIF\0":
            self.saw_jfif = True
            hdr.jfif = JFIFInfo((data[5], data[6]), data[7], (data[8] << 8) | data[9], (data[10] << 8) | data[11])
            if data[5] != 1:
                self.warn(f"unknown JFIF revision number {data[5]}.{data[6]:02d}", offset)
        elif marker == M.APP0 + 14 and len(data) >= 12 and data[:5] == b"Adobe":
            self.saw_adobe = True
            self.adobe_transform = data[11]
            hdr.adobe_transform = data[11]
        elif marker == M.APP0 + 1 and data[:6] == b"Exif\0\0" and hdr.exif is None:
            hdr.exif = bytes(data)
        elif marker == M.APP0 + 2 and len(data) >= 14 and data[:12] == b"ICC_PROFILE\0":
            self._icc_chunks.append((data[12], data[13], bytes(data[14:])))
        elif marker == M.COM:
            hdr.comments.append(bytes(data))
        self._skip(length)

    def icc_profile(self) -> bytes | None:
        """The ICC profile from its APP2 chunks in sequence-number order (None if absent or if the
        first chunk's declared count differs from the number of chunks, as Pillow decides)."""
        if not self._icc_chunks:
            return None
        chunks = sorted(self._icc_chunks, key=lambda c: c[0])
        if chunks[0][1] != len(chunks):
            return None
        return b"".join(c[2] for c in chunks)

    # --- scans (T.81 B.2.3) --------------------------------------------------------------------------

    def _sos(self, offset: int) -> None:
        if not self.saw_sof:
            raise JPEGError("invalid JPEG file structure: SOS before SOF", offset)
        length = self._u16()
        ns = self._u8()
        if length != 2 * ns + 6 or not 1 <= ns <= MAX_COMPS_IN_SCAN:
            raise JPEGError(f"bad SOS length Ls={length} for Ns={ns} (T.81 B.2.3: Ns 1..4, Ls = 6 + 2*Ns)", offset)
        frame = self.header.components
        taken: list[int] = []
        comps = []
        for i in range(ns):
            cs = self._u8()
            tables = self._u8()
            # libjpeg's matching: the first frame component among the first four whose id is cs and
            # whose index is not below any already-taken scan position (jdmarker.c get_sos).
            index = next((ci for ci in range(min(len(frame), MAX_COMPS_IN_SCAN))
                          if frame[ci].id == cs and ci >= len(taken)), None)
            if index is None or index in taken:
                raise JPEGError(f"invalid component id Cs={cs} in SOS (scan component {i}; frame ids "
                                f"{[c.id for c in frame]})", offset)
            taken.append(index)
            comps.append(ScanComponent(cs, index, tables >> 4, tables & 15))
        ss = self._u8()
        se = self._u8()
        ahal = self._u8()
        scan = ScanHeader(offset, tuple(comps), ss, se, ahal >> 4, ahal & 15)
        self.header.scans.append(scan)
        self.scan_count += 1
        if not self.first_scan_seen:
            self._first_scan_setup(scan)
        elif not self.has_multiple_scans:
            raise JPEGError("a second scan in a single-scan sequential file (the first scan held every component)",
                            offset)
        self.on_scan(self, scan)

    def _first_scan_setup(self, scan: ScanHeader) -> None:
        """What libjpeg settles when it reaches the first SOS (jdinput.c initial_setup, jdapimin.c
        default_decompress_parms, jdhuff.c std_huff_tables)."""
        hdr = self.header
        self.first_scan_seen = True
        nf = len(hdr.components)
        self.has_multiple_scans = hdr.progressive or len(scan.components) < nf
        hdr.quant_tables = {i: t.copy() for i, t in enumerate(self.qt) if t is not None}
        hdr.restart_interval = self.restart_interval
        hdr.icc_profile = self.icc_profile()
        hdr.colorspace = self._colorspace(scan.offset)
        if not hdr.progressive and not hdr.arithmetic:
            # Motion-JPEG frames leave out DHT: libjpeg assumes the Annex K.3 tables in slots 0 and 1.
            from .huffman import STANDARD_AC, STANDARD_DC

            for slot in (0, 1):
                if self.dc_tables[slot] is None:
                    self.dc_tables[slot] = STANDARD_DC[slot]
                if self.ac_tables[slot] is None:
                    self.ac_tables[slot] = STANDARD_AC[slot]

    def _colorspace(self, offset: int) -> str:
        comps = self.header.components
        if len(comps) == 1:
            return "L"
        if len(comps) == 3:
            if self.saw_jfif:
                return "YCbCr"
            if self.saw_adobe:
                if self.adobe_transform == 0:
                    return "RGB"
                if self.adobe_transform != 1:
                    self.warn(f"unknown Adobe color transform code {self.adobe_transform} (assuming YCbCr)", offset)
                return "YCbCr"
            ids = [c.id for c in comps]
            if ids == [82, 71, 66]:  # 'R', 'G', 'B'
                return "RGB"
            return "YCbCr"
        if len(comps) == 4:
            if self.saw_adobe:
                if self.adobe_transform == 0:
                    return "CMYK"
                if self.adobe_transform != 2:
                    self.warn(f"unknown Adobe color transform code {self.adobe_transform} (assuming YCCK)", offset)
                return "YCCK"
            return "CMYK"
        return "unknown"
