"""Lossless JPEG decoding (T.81 Annex H, process SOF3: Huffman-coded, P = 2..16), exactly as
libjpeg-turbo 3.x decodes it (jdlhuff.c, jddiffct.c, jdlossls.c, jdsample.c).

Per scan (T.81 H.1.2, H.2):

* Each sample of each component is coded as a difference from a prediction, with the DC Huffman
  table Tdj: SSSS categories 0..16, SSSS bits of magnitude (T.81 F.12 EXTEND) except SSSS = 16,
  which means +32768 with no extra bits (H.1.2.2).
* The MCU is one sample of a non-interleaved scan, or Hi x Vi samples per component of an
  interleaved one, over the padded MCU grid; restart intervals must be whole MCU rows
  (libjpeg-turbo: "Invalid restart interval").
* Prediction (H.1.2.1, jdlossls.c): Ra left, Rb above, Rc above-left; predictors 1..7 are Ra, Rb,
  Rc, Ra + Rb - Rc, Ra + ((Rb - Rc) >> 1), Rb + ((Ra - Rc) >> 1), (Ra + Rb) >> 1. The first row of
  the scan and the first row after each restart use Ra, seeded with 2**(P - Pt - 1) in the first
  column; in other rows the first column uses Rb. Samples are reconstructed modulo 2**16.
* Point transform Pt = Al: the output sample is the reconstructed value shifted left by Pt, stored
  in libjpeg's sample type (8 bits for P <= 8, 16 bits above).

libjpeg-turbo specifics matched here: its undifferencer works one iMCU row (Vmax sample rows) at a
time after entropy-decoding all of it, so a restart inside an iMCU row of a non-interleaved scan
resets the prediction at that iMCU row's first row; when the data runs out, each following MCU row is
all zero differences with the prediction reset (its samples equal the initial predictor); components
keep their samples across scans (a multi-scan file). Lossless output is never colour-converted
(libjpeg-turbo refuses colour conversion in lossless mode): the components are returned as stored,
upsampled by replication where subsampled (jdsample.c without fancy upsampling, as
min_DCT_scaled_size is 1). Arithmetic-coded lossless (SOF11) is refused by libjpeg-turbo
("Sorry, arithmetic coding is not implemented") and stays ``UnsupportedJPEG`` here.
"""

from __future__ import annotations

import numpy as np

from . import entropy_decode as ed
from . import markers as M
from ._jit import kernel
from .errors import JPEGError
from .huffman import HuffmanTableError, decoder_tables
from .parser import MAX_BLOCKS_IN_MCU, MarkerParser, ScanHeader

# Columns of the per-scan-component parameter rows.
_C_INDEX, _C_H, _C_V, _C_DW, _C_DH, _C_TBL, _C_OFF, _C_LASTROWS = range(8)


class NotLossless(Exception):
    """Raised (and caught by decoder.decode) when the frame is not SOF3: the DCT path decodes it."""


@kernel
def _decode_scan(data, out, comps, mcus_x, total_imcu_rows, interleaved, restart_rows, psv, al, precision,
                 lookup, maxcode, valoffset, huffval, diff, prev, reset, state, log):
    """Decode one lossless scan into ``out`` (flat, per-component rows of dw samples at comps[c, _C_OFF]).

    ``diff`` (ncs, vmax, padded width) and ``prev`` (ncs, width) are int64 scratch; ``reset`` (ncs)
    the per-component "first row" flags. Never raises; warnings go to ``log``.
    """
    pos = state[ed.S_POS]
    marker = state[ed.S_MARKER]
    discarded = state[ed.S_DISCARDED]
    buf = np.int64(0)
    bits = np.int64(0)
    insufficient = np.int64(0)
    ncs = comps.shape[0]
    rows_to_go = restart_rows
    next_restart = np.int64(0)
    initial = np.int64(1) << (precision - al - 1)
    mask = np.int64(0xFF) if precision <= 8 else np.int64(0xFFFF)
    for c in range(ncs):
        reset[c] = 1
    for r in range(total_imcu_rows):
        last = r == total_imcu_rows - 1
        if interleaved:
            nmcu_rows = 1
        else:
            nmcu_rows = comps[0, _C_LASTROWS] if last else comps[0, _C_V]
        for yoff in range(nmcu_rows):
            if restart_rows != 0 and rows_to_go == 0:  # jddiffct.c process_restart
                pos, marker, next_restart, discarded, insufficient = ed._process_restart(
                    data, pos, bits, marker, next_restart, discarded, insufficient, log, state)
                buf = np.int64(0)
                bits = np.int64(0)
                for c in range(ncs):
                    reset[c] = 1
                rows_to_go = restart_rows
            if insufficient != 0:
                # jdlhuff.c decode_mcus: out of data, the MCU row is zeros and the predictor restarts.
                for c in range(ncs):
                    reset[c] = 1
                    for dy in range(comps[c, _C_V] if interleaved else 1):
                        diff[c, dy if interleaved else yoff, :] = 0
            else:
                for mc in range(mcus_x):
                    for c in range(ncs):
                        hh = comps[c, _C_H] if interleaved else 1
                        vv = comps[c, _C_V] if interleaved else 1
                        t = comps[c, _C_TBL]
                        for dy in range(vv):
                            for dx in range(hh):
                                # ed._decode_symbol and ed._get_bits with their common cases written
                                # out (same refill points, so the same reader state and warnings).
                                if bits < 8:
                                    pos, buf, bits, marker = ed._fill(data, pos, buf, bits, marker, log, state)
                                s = np.int64(-1)
                                if bits >= 9:
                                    entry = lookup[t, (buf >> (bits - 9)) & 0x1FF]
                                    length = entry >> 8
                                    if entry != 0 and length <= bits:
                                        s = np.int64(entry & 0xFF)
                                        bits -= length
                                if s < 0:
                                    s, pos, buf, bits, marker, insufficient = ed._decode_symbol(
                                        data, pos, buf, bits, marker, insufficient, t, lookup, maxcode, valoffset,
                                        huffval, log, state)
                                d = np.int64(0)
                                if s == 16:
                                    d = np.int64(32768)
                                elif s != 0:
                                    if bits >= s:
                                        bits -= s
                                        v = (buf >> bits) & ((np.int64(1) << s) - 1)
                                    else:
                                        v, pos, buf, bits, marker, insufficient = ed._get_bits(
                                            data, pos, buf, bits, marker, insufficient, s, log, state)
                                    d = v
                                    if v < (np.int64(1) << (s - 1)):  # T.81 F.12 EXTEND
                                        d = v - (np.int64(1) << s) + 1
                                diff[c, dy if interleaved else yoff, mc * hh + dx] = d
            if restart_rows != 0:
                rows_to_go -= 1
        # Undifference and scale the iMCU row (jddiffct.c decompress_data).
        for c in range(ncs):
            vv = comps[c, _C_V]
            nrows = comps[c, _C_LASTROWS] if last else vv
            width = comps[c, _C_DW]
            pv = prev[c]
            for row in range(nrows):
                y = r * vv + row
                if y >= comps[c, _C_DH]:
                    break
                drow = diff[c, row]
                base = comps[c, _C_OFF] + y * width
                if reset[c] != 0:
                    reset[c] = 0
                    ra = (drow[0] + initial) & 0xFFFF
                    pv[0] = ra
                    for x in range(1, width):
                        ra = (drow[x] + ra) & 0xFFFF
                        pv[x] = ra
                else:
                    rb = pv[0]
                    ra = (drow[0] + rb) & 0xFFFF
                    pv[0] = ra
                    for x in range(1, width):
                        rc = rb
                        rb = pv[x]
                        if psv == 1:
                            p = ra
                        elif psv == 2:
                            p = rb
                        elif psv == 3:
                            p = rc
                        elif psv == 4:
                            p = ra + rb - rc
                        elif psv == 5:
                            p = ra + ((rb - rc) >> 1)
                        elif psv == 6:
                            p = rb + ((ra - rc) >> 1)
                        else:
                            p = (ra + rb) >> 1
                        ra = (drow[x] + p) & 0xFFFF
                        pv[x] = ra
                for x in range(width):
                    out[base + x] = (pv[x] << al) & mask
    state[ed.S_POS] = pos
    state[ed.S_MARKER] = marker
    state[ed.S_DISCARDED] = discarded
    return ed.OK


@kernel
def _replicate(src, h_expand, v_expand, out, channel):
    """jdsample.c int_upsample (and h2v1/h2v2_upsample): box replication into out[:, :, channel]."""
    for y in range(out.shape[0]):
        row = src[y // v_expand]
        for x in range(out.shape[1]):
            out[y, x, channel] = row[x // h_expand]


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _LosslessReader:
    def __init__(self, raw: bytes, max_pixels, max_scans):
        self.raw = raw
        self.data = np.frombuffer(raw, dtype=np.uint8)
        self.max_scans = max_scans
        self.scans = 0
        self.collected: list = []
        self.parser = MarkerParser(raw, self._on_scan, self._warn, max_pixels)
        self.out = None
        self.offsets: list[int] = []
        self.sizes: list[tuple[int, int]] = []
        self.state = np.zeros(ed.STATE_SIZE, dtype=np.int64)
        self.log = np.zeros((ed.LOG_SIZE, 4), dtype=np.int64)

    def _warn(self, message, offset):
        self.collected.append((message, offset))

    def _tables(self, scan: ScanHeader):
        lookup = np.zeros((4, 512), np.int32)
        maxcode = np.full((4, 18), -1, np.int64)
        valoffset = np.zeros((4, 18), np.int64)
        huffval = np.zeros((4, 256), np.int32)
        for sc in scan.components:
            spec = self.parser.dc_tables[sc.td] if sc.td < 4 else None
            if spec is None:
                raise JPEGError(f"DC Huffman table {sc.td} was not defined (T.81 B.2.4.2)", scan.offset)
            if any(v > 16 for v in spec.values):
                raise JPEGError(f"bad DC Huffman table {sc.td}: symbol above 16 (lossless SSSS is 0..16)", scan.offset)
            try:
                lk, mx, vo, hv = decoder_tables(spec, False)
            except HuffmanTableError as e:
                raise JPEGError(f"bad DC Huffman table {sc.td}: {e}", scan.offset) from None
            lookup[sc.td], maxcode[sc.td], valoffset[sc.td], huffval[sc.td] = lk, mx, vo, hv
        return lookup, maxcode, valoffset, huffval

    def _on_scan(self, parser: MarkerParser, scan: ScanHeader) -> None:
        hdr = parser.header
        if hdr.sof_marker != M.SOF3:
            raise NotLossless()
        self.scans += 1
        if self.max_scans is not None and self.scans > self.max_scans:
            raise JPEGError(f"more than {self.max_scans} scans (max_scans guards decoding time)", scan.offset)
        hmax, vmax = hdr.max_sampling
        if self.out is None:
            total = 0
            for c in hdr.components:
                dw, dh = _ceil_div(hdr.width * c.h, hmax), _ceil_div(hdr.height * c.v, vmax)
                self.offsets.append(total)
                self.sizes.append((dh, dw))
                total += dw * dh
            self.out = np.zeros(total, np.int64)
        psv, al, precision = scan.ss, scan.al, hdr.precision
        if not 1 <= psv <= 7 or scan.se != 0 or scan.ah != 0 or al >= precision:
            raise JPEGError(f"invalid lossless scan parameters Ss={scan.ss} Se={scan.se} Ah={scan.ah} Al={scan.al} "
                            f"(T.81 H.1.2: predictor 1..7, Se = Ah = 0, Pt < P = {precision})", scan.offset)
        interleaved = len(scan.components) > 1
        total_imcu_rows = _ceil_div(hdr.height, vmax)
        rows = []
        for sc in scan.components:
            comp = hdr.components[sc.index]
            dh, dw = self.sizes[sc.index]
            v = comp.v
            last_rows = dh % v or v
            rows.append((sc.index, comp.h, v, dw, dh, sc.td, self.offsets[sc.index], last_rows))
        comps = np.array(rows, dtype=np.int64)
        if interleaved:
            mcus_x = _ceil_div(hdr.width, hmax)
            blocks = int(sum(r[1] * r[2] for r in rows))
            if blocks > MAX_BLOCKS_IN_MCU:
                raise JPEGError(f"sampling factors too large for an interleaved scan: {blocks} samples per MCU "
                                f"(T.81 B.2.3: at most {MAX_BLOCKS_IN_MCU})", scan.offset)
        else:
            mcus_x = rows[0][3]
        interval = parser.restart_interval
        if interval % mcus_x != 0:
            raise JPEGError(f"invalid restart interval {interval}: lossless JPEG needs a multiple of the "
                            f"{mcus_x} MCUs in an MCU row (libjpeg-turbo's rule)", scan.offset)
        tables = self._tables(scan)
        vmax_scan = max(r[2] for r in rows)
        wpad = max(mcus_x * (r[1] if interleaved else 1) for r in rows)
        diff = np.zeros((len(rows), vmax_scan, wpad), np.int64)
        prev = np.zeros((len(rows), max(r[3] for r in rows)), np.int64)
        reset = np.zeros(len(rows), np.int64)
        state = self.state
        state[:] = 0
        state[ed.S_POS] = parser.pos
        state[ed.S_MARKER] = parser.unread
        state[ed.S_DISCARDED] = parser.discarded
        _decode_scan(self.data, self.out, comps, mcus_x, total_imcu_rows, interleaved, interval // mcus_x, psv, al,
                     precision, *tables, diff, prev, reset, state, self.log)
        self._collect_log()
        parser.pos = int(state[ed.S_POS])
        parser.unread = int(state[ed.S_MARKER])
        parser.discarded = int(state[ed.S_DISCARDED])

    def _collect_log(self) -> None:
        from .reader import _WARNING_TEXT

        count = int(self.state[ed.S_NLOG])
        for code, a, b, offset in self.log[: min(count, ed.LOG_SIZE)].tolist():
            if code == ed.W_EXTRANEOUS:
                message = f"corrupt JPEG data: {a} extraneous bytes before marker 0x{b:02X}"
            elif code == ed.W_RESYNC:
                message = f"corrupt JPEG data: found marker 0x{a:02X} instead of RST{b}"
            else:
                message = _WARNING_TEXT[code]
            self._warn(message, offset)

    def run(self) -> np.ndarray:
        """The decoded samples: (H, W) or (H, W, Nf), uint8 for P <= 8 and uint16 above."""
        from .reader import _emit, _within

        parser = self.parser
        try:
            parser.run()
        except JPEGError as exc:
            if parser.header.sof_marker != M.SOF3:
                raise NotLossless() from None  # not a lossless frame: the DCT path reports it
            _emit(self.collected, 3, len(self.raw))
            raise _within(exc, len(self.raw)) from None
        finally:
            self.parser = None
        _emit(self.collected, 3, len(self.raw))
        hdr = parser.header
        hmax, vmax = hdr.max_sampling
        dtype = np.uint8 if hdr.precision <= 8 else np.uint16
        nf = len(hdr.components)
        pixels = np.empty((hdr.height, hdr.width, nf), dtype)
        for ci, comp in enumerate(hdr.components):
            dh, dw = self.sizes[ci]
            plane = self.out[self.offsets[ci]: self.offsets[ci] + dh * dw].reshape(dh, dw).astype(dtype)
            _replicate(plane, hmax // comp.h, vmax // comp.v, pixels, ci)
        return pixels[:, :, 0] if nf == 1 else pixels


def maybe_lossless(raw: bytes) -> bool:
    """Cheap pre-check for decoder.decode, so that DCT files do not pay for a second header parse:
    walk the marker segments of a well-formed header to its SOF; if the walk cannot tell (junk, a
    truncated header), whether an FF C3 pair occurs at all (it cannot inside entropy-coded data)."""
    n = len(raw)
    p = 2
    for _ in range(1000):
        if p + 4 > n or raw[p] != 0xFF:
            break
        code = raw[p + 1]
        if code == 0xFF:
            p += 1
            continue
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            return code == M.SOF3
        if code == 0xDA or code == 0xD9:
            break
        p += 2 + ((raw[p + 2] << 8) | raw[p + 3])
    return b"\xff\xc3" in raw


def decode_lossless(raw: bytes, max_pixels, max_scans) -> np.ndarray | None:
    """The samples of a lossless (SOF3) file, or None when the file's frame is not SOF3 (or its header
    cannot be read, in which case the DCT path reports the problem)."""
    reader = _LosslessReader(raw, max_pixels, max_scans)
    try:
        return reader.run()
    except NotLossless:
        return None
