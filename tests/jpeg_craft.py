"""Test helper: write arbitrary quantized coefficients into a JPEG file, so libjpeg-turbo (through
Pillow) can be asked what pixels they decode to, independently of fdjpeg's own reader.

Deliberately simple: every scan is non-interleaved (one component, blocks in raster order over the
component's real block grid, T.81 A.2.2), the Huffman tables are flat (every DC category 0..15 and
every AC run/size symbol present, 5, 8 or 9 bits long), so any int16 coefficient can be written.
Progressive files use first scans only (Ah = 0), one EOB per block, no EOB runs.
"""

from __future__ import annotations

import struct

import numpy as np

from fdjpeg.base.coefficients import JPEGCoefficients
from fdjpeg.base.zigzag import ZIGZAG


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


class _Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, code: int, size: int):
        for i in range(size - 1, -1, -1):
            self.acc = (self.acc << 1) | ((code >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc = 0
                self.n = 0

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)
        return bytes(self.out)


def _magnitude(v: int) -> tuple[int, int]:
    s = abs(v).bit_length()
    if s > 15:
        raise ValueError(f"{v} needs a {s}-bit magnitude category; Huffman coding carries at most 15")
    return s, (v if v >= 0 else v + (1 << s) - 1)


# Flat tables: DC symbols 0..15 all 5 bits long; AC symbols 0..253 8 bits long, 254 and 255 9 bits.
_DC_BITS = [0] * 4 + [16] + [0] * 11
_AC_BITS = [0] * 7 + [254, 2] + [0] * 7


def _put_ac(bits, sym: int):
    if sym < 254:
        bits.put(sym, 8)
    else:
        bits.put(508 + sym - 254, 9)


def _dht() -> bytes:
    dc = bytes([0x00]) + bytes(_DC_BITS) + bytes(range(16))
    ac = bytes([0x10]) + bytes(_AC_BITS) + bytes(range(256))
    return _segment(0xC4, dc + ac)


def _block_order(comp: np.ndarray, bh: int, bw: int):
    for by in range(bh):
        for bx in range(bw):
            yield comp[by, bx].reshape(64)[ZIGZAG]


def _dc_scan(blocks, al: int) -> bytes:
    bits = _Bits()
    pred = 0
    for zz in blocks:
        v = int(zz[0]) >> al
        s, b = _magnitude(v - pred)
        pred = v
        bits.put(s, 5)
        if s:
            bits.put(b, s)
    return bits.flush()


def _ac_scan(blocks, ss: int, se: int, al: int, with_dc: bool) -> bytes:
    """AC coefficients ss..se of each block; with_dc: a baseline scan (DC first, then 1..63)."""
    bits = _Bits()
    pred = 0
    for zz in blocks:
        if with_dc:
            v = int(zz[0])
            s, b = _magnitude(v - pred)
            pred = v
            bits.put(s, 5)
            if s:
                bits.put(b, s)
        run = 0
        for k in range(ss, se + 1):
            c = int(zz[k])
            t = abs(c) >> al
            if t == 0:
                run += 1
                continue
            while run > 15:
                _put_ac(bits, 0xF0)
                run -= 16
            s = t.bit_length()
            if s > 15:
                raise ValueError(f"AC coefficient {c} needs a {s}-bit magnitude category (at most 15)")
            _put_ac(bits, (run << 4) | s)
            bits.put(t if c >= 0 else (~t) & ((1 << s) - 1), s)
            run = 0
        if run:
            _put_ac(bits, 0x00)
    return bits.flush()


def blocks_shape(width: int, height: int, sampling, ci: int) -> tuple[int, int, int, int]:
    """(real block rows, real block cols, padded rows, padded cols) of component ci."""
    hmax = max(h for h, _ in sampling)
    vmax = max(v for _, v in sampling)
    h, v = sampling[ci]
    bw = ((width * h + hmax - 1) // hmax + 7) // 8
    bh = ((height * v + vmax - 1) // vmax + 7) // 8
    return bh, bw, -(-bh // v) * v, -(-bw // h) * h


def craft_jpeg(
    coefs: JPEGCoefficients,
    *,
    markers: str = "jfif",
    adobe_transform: int | None = None,
    scans=None,
) -> bytes:
    """Write ``coefs`` (components, quant tables, sampling, ids) as a JPEG file.

    markers: "jfif" (APP0 JFIF), "adobe" (APP14 with ``adobe_transform``) or "none".
    scans: None for a baseline (sequential) file, else a progressive script of first scans
    [(component index, Ss, Se, Al), ...].
    """
    out = bytearray(b"\xff\xd8")
    if markers == "jfif":
        out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    elif markers == "adobe":
        out += _segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe_transform or 0))
    wide = any(int(np.max(q)) > 255 for q in coefs.quant_tables)
    for i, q in enumerate(coefs.quant_tables):
        zz = np.asarray(q).reshape(64)[ZIGZAG]
        if wide:
            out += _segment(0xDB, bytes([0x10 | i]) + b"".join(struct.pack(">H", int(v)) for v in zz))
        else:
            out += _segment(0xDB, bytes([i]) + bytes(int(v) for v in zz))
    sof = 0xC2 if scans is not None else (0xC1 if wide else 0xC0)
    n = len(coefs.components)
    ids = coefs.component_ids or list(range(1, n + 1))
    payload = struct.pack(">BHHB", 8, coefs.height, coefs.width, n)
    for i in range(n):
        h, v = coefs.sampling[i]
        payload += bytes([ids[i], (h << 4) | v, i])
    out += _segment(sof, payload)
    out += _dht()
    if scans is None:
        scans_iter = [(ci, 0, 63, 0, True) for ci in range(n)]
    else:
        scans_iter = [(ci, ss, se, al, False) for ci, ss, se, al in scans]
    for ci, ss, se, al, baseline in scans_iter:
        out += _segment(0xDA, bytes([1, ids[ci], 0x00]) + bytes([ss, se, al]))
        bh, bw, _, _ = blocks_shape(coefs.width, coefs.height, coefs.sampling, ci)
        blocks = _block_order(coefs.components[ci], bh, bw)
        if baseline:
            out += _ac_scan(blocks, 1, 63, 0, True)
        elif ss == 0:
            out += _dc_scan(blocks, al)
        else:
            out += _ac_scan(blocks, ss, se, al, False)
    out += b"\xff\xd9"
    return bytes(out)


def progressive_view(coefs: JPEGCoefficients, scans) -> JPEGCoefficients:
    """The coefficients a decoder holds after the given first scans, with libjpeg's coef_bits."""
    comps = [np.zeros_like(c) for c in coefs.components]
    bits = [np.full(64, -1, dtype=np.int64) for _ in coefs.components]
    for ci, ss, se, al in scans:
        src = coefs.components[ci]
        for k in range(ss, se + 1):
            pos = ZIGZAG[k]
            r, c = divmod(int(pos), 8)
            x = src[:, :, r, c].astype(np.int64)
            if k == 0:
                comps[ci][:, :, r, c] = (x >> al) << al
            else:
                comps[ci][:, :, r, c] = np.sign(x) * ((np.abs(x) >> al) << al)
            bits[ci][k] = al
    # Blocks outside the real grid are never coded by non-interleaved scans.
    for ci in range(len(comps)):
        bh, bw, _, _ = blocks_shape(coefs.width, coefs.height, coefs.sampling, ci)
        comps[ci][bh:] = 0
        comps[ci][:, bw:] = 0
    return JPEGCoefficients(
        width=coefs.width,
        height=coefs.height,
        components=comps,
        quant_tables=coefs.quant_tables,
        sampling=coefs.sampling,
        component_ids=coefs.component_ids,
        colorspace=coefs.colorspace,
        progressive=True,
        coef_bits=bits,
    )


def random_coefficients(rng, width, height, sampling, colorspace, *, qmax=64, scale=None, ids=None) -> JPEGCoefficients:
    """Random but image-like coefficients: DC anywhere in range, AC decaying with frequency."""
    comps, qts = [], []
    freq = np.add.outer(np.arange(8), np.arange(8))
    for ci in range(len(sampling)):
        _, _, ph, pw = blocks_shape(width, height, sampling, ci)
        q = rng.integers(1, qmax + 1, size=(8, 8)).astype(np.uint16)
        sc = scale if scale is not None else rng.uniform(5, 200)
        c = rng.normal(0, 1, size=(ph, pw, 8, 8)) * (sc / (1 + freq) ** 1.5) / q
        c[:, :, 0, 0] = rng.integers(-1024, 1024, size=(ph, pw)) / int(q[0, 0])
        comps.append(np.clip(np.round(c), -32768, 32767).astype(np.int16))
        qts.append(q)
        # zero the padding blocks: non-interleaved scans never code them
        bh, bw, _, _ = blocks_shape(width, height, sampling, ci)
        comps[-1][bh:] = 0
        comps[-1][:, bw:] = 0
    return JPEGCoefficients(
        width=width,
        height=height,
        components=comps,
        quant_tables=qts,
        sampling=list(sampling),
        component_ids=ids or list(range(1, len(sampling) + 1)),
        colorspace=colorspace,
    )
