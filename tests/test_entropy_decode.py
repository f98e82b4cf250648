"""Entropy decoding (fdjpeg/entropy_decode.py, progressive.py) at the coefficient level.

Oracles, from the outside in:
* the same image written baseline and progressive (Pillow), or with different scan scripts and odd
  sampling factors (cjpeg), has identical quantized coefficients;
* dequantized coefficients through a slow float IDCT land within +-2 of Pillow's pixels;
* a slow, independent, bit-serial reference decoder written here from T.81 and libjpeg's documented
  recovery rules agrees exactly with the kernels on randomly damaged scans (bit flips, lost or
  renumbered RST markers, junk, truncation);
* hand-made damage with a known libjpeg outcome (lost RST, far-off RST number, junk before RST,
  data that runs out, an invalid Huffman code);
* libjpeg's progression bookkeeping (coef_bits) on scripts with known results.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from PIL import Image

from fdjpeg import JPEGError, JPEGWarning, read_coefficients, read_header
from fdjpeg.base.huffman import (
    FAST_BITS,
    STANDARD_AC,
    STANDARD_DC,
    HuffmanSpec,
    canonical_codes,
    fast_lookup,
    optimal_spec,
)
from fdjpeg.base.zigzag import ZIGZAG

import naive
from helpers import CJPEG, drop, edit, make_image, needs_cjpeg, pillow_jpeg, quiet_coefficients, segment, split_segments

pytestmark = pytest.mark.oracle

SUBSAMPLINGS = ["4:4:4", "4:2:2", "4:2:0", "gray"]


def encode(img, subsampling, **kw) -> bytes:
    if subsampling == "gray":
        return pillow_jpeg(img if img.ndim == 2 else img[..., 0], **kw)
    return pillow_jpeg(img, subsampling=subsampling, **kw)


def same_real_blocks(a, b) -> bool:
    """Equal coefficients over each component's real block grid (T.81 A.2.1). The padding blocks of an
    interleaved MCU are coded (encoders copy the DC into them) but a non-interleaved scan never codes
    them, so they legitimately differ between scan scripts."""
    hmax, vmax = a.max_sampling
    for x, y, (h, v) in zip(a.components, b.components, a.sampling):
        rows, cols = -(-a.height * v // (8 * vmax)), -(-a.width * h // (8 * hmax))
        if x.shape != y.shape or not np.array_equal(x[:rows, :cols], y[:rows, :cols]):
            return False
    return (a.width, a.height, a.sampling) == (b.width, b.height, b.sampling) and all(
        np.array_equal(p, q) for p, q in zip(a.quant_tables, b.quant_tables)
    )


def warned(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(x.message) for x in w if issubclass(x.category, JPEGWarning)]


# --- same coefficients, different coding -------------------------------------------------------------


@pytest.mark.parametrize("subsampling", SUBSAMPLINGS)
@pytest.mark.parametrize("restart", [0, 1, 3])
def test_baseline_and_progressive_have_identical_coefficients(subsampling, restart):
    img = make_image(61, 75, seed=restart)
    kw = dict(quality=80, restart_marker_blocks=restart) if restart else dict(quality=80)
    base = quiet_coefficients(encode(img, subsampling, **kw))
    for variant in (dict(progressive=True), dict(optimize=True), dict(progressive=True, optimize=True)):
        other = quiet_coefficients(encode(img, subsampling, **kw, **variant))
        assert other == base
        assert other.progressive == variant.get("progressive", False)
    assert base.coef_bits is None


@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    subsampling=st.sampled_from(SUBSAMPLINGS),
    quality=st.integers(1, 100),
    restart=st.sampled_from([0, 1, 2, 7]),
    seed=st.integers(0, 2**16),
)
def test_random_images_baseline_equals_progressive(height, width, subsampling, quality, restart, seed):
    img = make_image(height, width, seed=seed)
    kw = dict(quality=quality, restart_marker_blocks=restart) if restart else dict(quality=quality)
    a = quiet_coefficients(encode(img, subsampling, **kw))
    b = quiet_coefficients(encode(img, subsampling, progressive=True, **kw))
    assert a == b
    # libjpeg's padded block grid: a multiple of the sampling factors in blocks.
    hmax, vmax = a.max_sampling
    for comp, (h, v) in zip(a.components, a.sampling):
        real_y, real_x = -(-height * v // (8 * vmax)), -(-width * h // (8 * hmax))
        assert comp.shape == (-(-real_y // v) * v, -(-real_x // h) * h, 8, 8) and comp.dtype == np.int16


@pytest.mark.parametrize("quality", [30, 75, 95])
@pytest.mark.parametrize("progressive", [False, True])
def test_float_idct_of_coefficients_matches_pillow_pixels(quality, progressive):
    # Grayscale: Pillow's output is the IDCT output. 4:4:4 colour: ask Pillow for YCbCr (no upsampling,
    # no colour conversion), so each plane is an IDCT output too.
    gray = encode(make_image(45, 59, seed=quality), "gray", quality=quality, progressive=progressive)
    (plane,) = naive.idct_planes(quiet_coefficients(gray))
    ref = np.asarray(Image.open(io.BytesIO(gray)), dtype=np.float64)
    assert np.abs(np.clip(np.round(plane[:45, :59]), 0, 255) - ref).max() <= 2
    color = encode(make_image(45, 59, seed=quality), "4:4:4", quality=quality, progressive=progressive)
    im = Image.open(io.BytesIO(color))
    im.draft("YCbCr", im.size)
    ref = np.asarray(im, dtype=np.float64)
    for k, plane in enumerate(naive.idct_planes(quiet_coefficients(color))):
        assert np.abs(np.clip(np.round(plane[:45, :59]), 0, 255) - ref[..., k]).max() <= 2


def _cjpeg(img: np.ndarray, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in.ppm"
        Image.fromarray(img).save(src)
        resolved = []
        for a in args:
            if a.startswith("script:"):
                (Path(d) / "scans.txt").write_text(a[len("script:") :])
                resolved += [str(Path(d) / "scans.txt")]
            else:
                resolved.append(a)
        out = subprocess.run([CJPEG, *resolved, str(src)], capture_output=True, check=True)
    return out.stdout


_NONINTERLEAVED = "script:0;1;2;"
_SUCCESSIVE = (
    "script:0 1 2: 0 0 0 1; 0: 1 5 0 2; 2: 1 63 0 1; 1: 1 63 0 1; 0: 6 63 0 2; 0: 1 63 2 1;"
    "0 1 2: 0 0 1 0; 1: 1 63 1 0; 2: 1 63 1 0; 0: 1 63 1 0;"
)
_SPECTRAL = "script:0: 0 0 0 0; 2: 0 0 0 0; 1: 0 0 0 0; 0: 1 9 0 0; 0: 10 63 0 0; 1: 1 63 0 0; 2: 1 63 0 0;"


@needs_cjpeg
@pytest.mark.parametrize(
    "sample", ["1x1", "2x1", "1x2", "2x2", "4x1", "1x4", "3x1", "4x2", "2x1,1x2,1x1", "1x1,2x2,1x1", "4x1,2x1,1x1"]
)
@pytest.mark.parametrize("restart", ["", "2", "1B"])
def test_cjpeg_scan_scripts_and_samplings(sample, restart):
    img = make_image(37, 45, seed=len(sample))
    extra = ["-restart", restart] if restart else []
    base = quiet_coefficients(_cjpeg(img, "-quality", "85", "-sample", sample, *extra))
    assert base.sampling[0] == tuple(int(x) for x in sample.split(",")[0].split("x"))
    for script in (_NONINTERLEAVED, _SUCCESSIVE, _SPECTRAL):
        other = quiet_coefficients(_cjpeg(img, "-quality", "85", "-sample", sample, "-scans", script, *extra))
        assert same_real_blocks(other, base), script


@needs_cjpeg
def test_non_interleaved_scans_allow_more_than_ten_blocks_per_mcu():
    img = make_image(50, 50, seed=3)
    seq = quiet_coefficients(_cjpeg(img, "-sample", "3x3,1x1,1x1", "-scans", _NONINTERLEAVED))
    prog = quiet_coefficients(_cjpeg(img, "-sample", "3x3,1x1,1x1", "-scans", _SPECTRAL))
    assert same_real_blocks(seq, prog) and seq.sampling[0] == (3, 3)


def test_dht_less_files_use_the_annex_k_tables():
    for subsampling in SUBSAMPLINGS:
        data = encode(make_image(30, 50), subsampling, quality=70)  # Pillow writes the K.3 tables
        bare, msgs = warned(read_coefficients, drop(data, 0xC4))
        assert bare == quiet_coefficients(data) and msgs == []


def test_sixteen_bit_quantization_tables():
    data = pillow_jpeg(make_image(), quality=60)

    def widen(seg):
        out = b""
        body = seg[4:]
        while body:
            tq, vals = body[0], body[1:65]
            wide = list(struct.unpack(">64H", struct.pack(">64H", *vals)))
            wide[63] = 1000  # an entry only a 16-bit table can hold
            out += bytes([0x10 | tq]) + struct.pack(">64H", *wide)
            body = body[65:]
        return segment(0xDB, out)

    wide = edit(edit(data, 0xDB, widen), 0xC0, lambda s: s[:1] + b"\xc1" + s[2:])
    if len([s for s in split_segments(data) if s[1] == 0xDB]) > 1:
        wide = edit(wide, 0xDB, widen, nth=1)
    c, ref = quiet_coefficients(wide), quiet_coefficients(data)
    assert read_header(wide).process == "extended sequential Huffman"
    assert all(np.array_equal(a, b) for a, b in zip(c.components, ref.components))
    assert c.quant_tables[0][7, 7] == 1000 and c.quant_tables[0].dtype == np.uint16
    assert np.array_equal(c.quant_tables[0].reshape(64)[:63], ref.quant_tables[0].reshape(64)[:63])


# --- the combined lookup table against Annex C codes ------------------------------------------------------


def _check_fast_lookup(spec: HuffmanSpec, is_dc: bool) -> None:
    """Every entry of fast_lookup(spec) says what reading its index bits code by code gives."""
    codes, sizes = canonical_codes(spec)
    by_code = {(int(n), int(c)): sym for c, n, sym in zip(codes, sizes, spec.values)}
    table = fast_lookup(spec, is_dc)
    assert table.shape == (1 << FAST_BITS,) and table.dtype == np.int32
    for index in range(1 << FAST_BITS):
        entry = int(table[index])
        found = next(
            (
                (n, by_code[(n, index >> (FAST_BITS - n))])
                for n in range(1, FAST_BITS + 1)
                if (n, index >> (FAST_BITS - n)) in by_code
            ),
            None,
        )
        if found is None:  # the code is longer than FAST_BITS, or there is none: bit-serial path
            assert entry == 0
            continue
        n, sym = found
        assert entry & 0xFF == sym and (entry >> 8) & 15 == n
        s = sym if is_dc else sym & 15
        total = (entry >> 12) & 15
        if n + s > FAST_BITS:
            assert total == 0
            continue
        assert total == n + s
        v = (index >> (FAST_BITS - n - s)) & ((1 << s) - 1)
        if s and v < 1 << (s - 1):  # T.81 F.12 EXTEND
            v -= (1 << s) - 1
        assert entry >> 16 == v


@pytest.mark.parametrize("table", range(4))
def test_fast_lookup_of_the_annex_k_tables(table):
    spec, is_dc = (STANDARD_DC + STANDARD_AC)[table], table < 2
    _check_fast_lookup(spec, is_dc)


@given(st.lists(st.integers(0, 1000), min_size=256, max_size=256), st.booleans())
def test_fast_lookup_of_optimized_tables(freq, is_dc):
    if is_dc:
        freq = freq[:16] + [0] * 240  # DC categories only
    if not any(freq):
        freq[0] = 1
    _check_fast_lookup(optimal_spec(np.array(freq)), is_dc)


# --- an independent slow reference for sequential scans -----------------------------------------------


class _ReferenceScan:
    """Bit-serial decoder for one sequential scan: T.81 F.2.2 plus libjpeg's recovery rules, read lazily
    byte by byte. Deliberately written without the kernels' lookup tables or bit buffer."""

    def __init__(self, data: bytes, pos: int, restart_interval: int):
        self.data, self.pos = data, pos
        self.interval = restart_interval
        self.byte = 0
        self.left = 0  # unread bits of self.byte
        self.marker = None  # a marker met in the data and not yet consumed
        self.out_of_data = False
        self.warnings = set()

    @staticmethod
    def derive(spec):
        codes, sizes = canonical_codes(spec)
        return {(int(s), int(c)): v for c, s, v in zip(codes, sizes, spec.values)}

    def _raw(self):
        p, n = self.pos, len(self.data)
        self.pos += 1
        return self.data[p] if p < n else (0xFF if (p - n) % 2 == 0 else 0xD9)

    def bit(self) -> int:
        if self.left == 0:
            if self.marker is None:
                c = self._raw()
                if c == 0xFF:
                    c2 = self._raw()
                    while c2 == 0xFF:
                        c2 = self._raw()
                    if c2 != 0:
                        self.marker = c2
                if self.marker is None:
                    self.byte, self.left = c, 8
            if self.marker is not None and self.left == 0:
                self.out_of_data = True
                self.warnings.add("premature end of data segment")
                return 0
        self.left -= 1
        return (self.byte >> self.left) & 1

    def bits(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bit()
        return v

    def symbol(self, table) -> int:
        code = 0
        for length in range(1, 17):
            code = (code << 1) | self.bit()
            if (length, code) in table:
                return table[(length, code)]
        self.bit()  # libjpeg gives up after a 17th bit
        self.warnings.add("bad Huffman code")
        return 0

    def _next_marker(self) -> int:
        while True:
            c = self._raw()
            while c != 0xFF:
                c = self._raw()
            c = self._raw()
            while c == 0xFF:
                c = self._raw()
            if c != 0:
                return c

    def restart(self, expected: int) -> None:
        self.left = 0
        if self.marker is None:
            self.marker = self._next_marker()
        want = 0xD0 + expected
        if self.marker != want:
            self.warnings.add("found marker")
            while True:
                m = self.marker
                near_ahead = m in (0xD0 + (expected + 1) % 8, 0xD0 + (expected + 2) % 8)
                behind = m in (0xD0 + (expected - 1) % 8, 0xD0 + (expected - 2) % 8)
                if m < 0xC0 or (0xD0 <= m <= 0xD7 and behind):
                    self.marker = self._next_marker()  # skip forward and decide again
                    continue
                if not (0xD0 <= m <= 0xD7) or near_ahead:
                    return  # left pending: the next interval has no data
                break  # a restart marker too far away: drop it and go on
        self.marker = None
        self.out_of_data = False

    def decode(self, layout, mcus_x, mcus_y, store):
        preds = [0] * 4
        todo = self.interval
        rst = 0
        natural = np.concatenate([ZIGZAG, np.full(16, 63)])
        for m in range(mcus_x * mcus_y):
            row, col = divmod(m, mcus_x)
            if self.interval:
                if todo == 0:
                    self.restart(rst)
                    rst = (rst + 1) % 8
                    preds = [0] * 4
                    todo = self.interval
                todo -= 1
            if self.out_of_data:
                continue
            for comp, dc_table, ac_table, (y, x) in layout(row, col):
                s = self.symbol(dc_table)
                diff = 0
                if s:
                    v = self.bits(s)
                    diff = v - (1 << s) + 1 if v < (1 << (s - 1)) else v
                preds[comp] += diff
                block = store[comp][y, x].reshape(64)
                block[0] = ((preds[comp] + 32768) & 0xFFFF) - 32768
                k = 1
                while k < 64:
                    rs = self.symbol(ac_table)
                    r, s = rs >> 4, rs & 15
                    if s:
                        k += r
                        v = self.bits(s)
                        block[natural[k]] = v - (1 << s) + 1 if v < (1 << (s - 1)) else v
                    elif r == 15:
                        k += 15
                    else:
                        break
                    k += 1


def reference_coefficients(data: bytes):
    """Decode a single-scan interleaved (or grayscale) sequential file with _ReferenceScan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        h = read_header(data)
    tables = {}
    pos = 2
    # Collect DHT tables and find the scan start, walking the intact header segments.
    while True:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xC4:
            body = data[pos + 4 : pos + 2 + length]
            while body:
                tc_th, bits = body[0], body[1:17]
                n = sum(bits)
                tables[(tc_th >> 4, tc_th & 15)] = HuffmanSpec(tuple(bits), bytes(body[17 : 17 + n]))
                body = body[17 + n :]
        if marker == 0xDA:
            scan_start = pos + 2 + length
            break
        pos += 2 + length
    for slot in (0, 1):
        tables.setdefault((0, slot), STANDARD_DC[slot])
        tables.setdefault((1, slot), STANDARD_AC[slot])
    scan = h.scans[0]
    hmax, vmax = h.max_sampling
    grids = []
    for c in h.components:
        by = ((h.height * c.v + 8 * vmax - 1) // (8 * vmax) + c.v - 1) // c.v * c.v
        bx = ((h.width * c.h + 8 * hmax - 1) // (8 * hmax) + c.h - 1) // c.h * c.h
        grids.append(np.zeros((by, bx, 8, 8), np.int16))
    ref = _ReferenceScan(data, scan_start, h.restart_interval)
    derived = {k: ref.derive(v) for k, v in tables.items()}

    if len(scan.components) == 1:
        c = h.components[0]
        mcus_x = -(-h.width * c.h // (8 * hmax))
        mcus_y = -(-h.height * c.v // (8 * vmax))

        def layout(row, col):
            sc = scan.components[0]
            return [(0, derived[(0, sc.td)], derived[(1, sc.ta)], (row, col))]
    else:
        mcus_x, mcus_y = -(-h.width // (8 * hmax)), -(-h.height // (8 * vmax))

        def layout(row, col):
            out = []
            for sc in scan.components:
                c = h.components[sc.index]
                for dy in range(c.v):
                    for dx in range(c.h):
                        out.append(
                            (sc.index, derived[(0, sc.td)], derived[(1, sc.ta)], (row * c.v + dy, col * c.h + dx))
                        )
            return out

    ref.decode(layout, mcus_x, mcus_y, grids)
    return grids, ref.warnings


@st.composite
def damaged_scans(draw):
    """A Pillow baseline file whose entropy-coded data has been damaged."""
    subsampling = draw(st.sampled_from(SUBSAMPLINGS))
    restart = draw(st.sampled_from([0, 1, 2, 3]))
    img = make_image(draw(st.integers(8, 40)), draw(st.integers(8, 40)), seed=draw(st.integers(0, 999)))
    kw = dict(quality=draw(st.integers(20, 95)), optimize=draw(st.booleans()))
    if restart:
        kw["restart_marker_blocks"] = restart
    data = bytearray(encode(img, subsampling, **kw))
    start = data.index(b"\xff\xda") + 2 + struct.unpack(">H", data[data.index(b"\xff\xda") + 2 :][:2])[0]
    end = len(data) - 2
    for _ in range(draw(st.integers(1, 4))):
        if end - start < 2:
            break
        p = draw(st.integers(start, end - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "rst", "truncate"]))
        if op == "flip":
            data[p] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[p] = draw(st.sampled_from([0x00, 0xFF, 0xD0, 0xD3, 0xD9, 0x17]))
        elif op == "insert":
            data[p:p] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[p]
        elif op == "rst":
            rsts = [i for i in range(start, len(data) - 1) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
            if rsts:
                i = draw(st.sampled_from(rsts))
                choice = draw(st.integers(0, 2))
                if choice == 0:
                    del data[i : i + 2]
                elif choice == 1:
                    data[i + 1] = 0xD0 + draw(st.integers(0, 7))
                else:
                    data[i:i] = draw(st.binary(min_size=1, max_size=5))
        else:
            del data[p:]
            break
        end = max(start, len(data) - 2)
    return bytes(data)


@given(damaged_scans())
def test_kernels_agree_with_the_reference_on_damaged_scans(data):
    try:
        got, msgs = warned(read_coefficients, data)
    except JPEGError:
        # Inserted bytes formed a header marker (SOS, SOF...) after the scan: a structure error that
        # libjpeg reports too, outside what this test compares.
        assume(False)
    expected, ref_warnings = reference_coefficients(data)
    for a, b in zip(got.components, expected):
        assert np.array_equal(a, b)
    for w in ref_warnings:
        assert any(w in m for m in msgs), (w, msgs)


# --- damage with a known outcome -------------------------------------------------------------------------


def _restart_file():
    # 48x40 4:2:0: 3x3 MCUs of 16x16; restart every 2 MCUs: intervals hold MCUs {0,1} {2,3} {4,5} {6,7} {8}.
    return pillow_jpeg(make_image(40, 48), quality=80, subsampling="4:2:0", restart_marker_blocks=2)


def _mcu_blocks(coefs, m):
    row, col = divmod(m, 3)
    y = coefs.components[0][2 * row : 2 * row + 2, 2 * col : 2 * col + 2].reshape(4, 8, 8)
    return y, coefs.components[1][row, col], coefs.components[2][row, col]


def _same_mcus(a, b, mcus):
    return all(all(np.array_equal(x, y) for x, y in zip(_mcu_blocks(a, m), _mcu_blocks(b, m))) for m in mcus)


def test_lost_restart_marker_empties_the_next_interval():
    data = _restart_file()
    rst0 = data.index(b"\xff\xd0")
    damaged, msgs = warned(read_coefficients, data[:rst0] + data[rst0 + 2 :])
    good = quiet_coefficients(data)
    assert any("found marker 0xD1 instead of RST0" in m for m in msgs)
    # RST1 is one of the next two expected markers: libjpeg leaves it unread, so the interval that
    # should have started at RST0 has no data. Its first MCU is decoded from zero bits (K.3 tables:
    # luma DC '00' = 0, luma AC '00' = run 0 size 1, value bit 0 = -1; chroma AC '00' = EOB), the
    # second stays zero; decoding resumes after RST1.
    assert _same_mcus(damaged, good, [0, 1, 4, 5, 6, 7, 8])
    y, cb, cr = _mcu_blocks(damaged, 2)
    expected_y = np.full((8, 8), -1)
    expected_y[0, 0] = 0
    assert all(np.array_equal(b, expected_y) for b in y)
    assert not cb.any() and not cr.any()
    assert not any(b.any() for b in _mcu_blocks(damaged, 3))


def test_far_off_restart_number_is_dropped_and_decoding_goes_on():
    data = _restart_file()
    rst0 = data.index(b"\xff\xd0")
    damaged, msgs = warned(read_coefficients, data[: rst0 + 1] + b"\xd4" + data[rst0 + 2 :])
    assert damaged == quiet_coefficients(data)
    assert any("found marker 0xD4 instead of RST0" in m for m in msgs)


def test_earlier_restart_number_skips_to_the_next_marker():
    data = _restart_file()
    rst0 = data.index(b"\xff\xd0")
    damaged = quiet_coefficients(data[: rst0 + 1] + b"\xd7" + data[rst0 + 2 :])  # RST7 = expected - 1
    lost = quiet_coefficients(data[:rst0] + data[rst0 + 2 :])
    assert damaged == lost


def test_junk_before_a_restart_marker():
    data = _restart_file()
    rst1 = data.index(b"\xff\xd1")
    damaged, msgs = warned(read_coefficients, data[:rst1] + b"\x12\x34\x56" + data[rst1:])
    assert damaged == quiet_coefficients(data)
    assert any("3 extraneous bytes before marker 0xD1" in m for m in msgs)


def test_data_running_out_zeroes_the_rest_of_the_interval():
    data = _restart_file()
    rst1 = data.index(b"\xff\xd1")
    rst2 = data.index(b"\xff\xd2")
    cut = rst1 + 2 + 4  # four bytes into the interval of MCUs 4 and 5: MCU 4 runs out of data
    damaged, msgs = warned(read_coefficients, data[:cut] + data[rst2:])
    good = quiet_coefficients(data)
    assert [m for m in msgs if "premature end of data segment" in m]
    assert _same_mcus(damaged, good, [0, 1, 2, 3, 6, 7, 8])
    assert not any(b.any() for b in _mcu_blocks(damaged, 5))
    # Truncating the file there: every later MCU is zero too.
    damaged, msgs = warned(read_coefficients, data[:cut])
    assert _same_mcus(damaged, good, [0, 1, 2, 3])
    assert not any(b.any() for m in (5, 6, 7, 8) for b in _mcu_blocks(damaged, m))
    assert any("premature end of JPEG file" in m for m in msgs)


def test_invalid_huffman_code_decodes_as_symbol_zero():
    # All-ones bits are no code of the K.3 luma DC table: 17 bits are consumed, the symbol is 0.
    data = encode(make_image(8, 8), "gray", quality=90)
    start = data.index(b"\xff\xda") + 10
    bad = data[:start] + b"\xff\x00" * 8 + b"\xff\xd9"
    got, msgs = warned(read_coefficients, bad)
    expected, _ = reference_coefficients(bad)
    assert np.array_equal(got.components[0], expected[0])
    assert any("bad Huffman code" in m for m in msgs)


def test_bit_stuffing_and_fill_bytes():
    # FF FF 00 in entropy data is read as a single FF data byte, as libjpeg does.
    for seed in range(50):
        data = encode(make_image(32, 32, seed=seed), "gray", quality=95)
        start = data.index(b"\xff\xda") + 10
        body = data[start:-2]
        i = body.find(b"\xff\x00")
        if i >= 0:
            break
    padded = data[:start] + body[:i] + b"\xff" + body[i:] + data[-2:]
    assert quiet_coefficients(padded) == quiet_coefficients(data)


# --- progression bookkeeping (libjpeg's coef_bits) ----------------------------------------------------


def test_complete_progressive_file_coef_bits():
    c = quiet_coefficients(pillow_jpeg(make_image(40, 48), progressive=True))
    assert c.progressive and len(c.coef_bits) == 3
    assert all(b.shape == (64,) and not b.any() for b in c.coef_bits)
    assert all(p is not None and p.shape == (64,) for p in c.prev_coef_bits)
    assert c.last_good_imcu_row == 40 // 16  # ceil(40 / 16) - 1


@needs_cjpeg
def test_coef_bits_after_a_partial_script():
    img = make_image(32, 32)
    data = _cjpeg(img, "-sample", "1x1,1x1,1x1", "-scans", "script:0 1 2: 0 0 0 1; 0: 1 5 0 2;")
    c = quiet_coefficients(data)
    b0, b1 = c.coef_bits[0], c.coef_bits[1]
    assert b0[0] == 1 and list(b0[1:6]) == [2] * 5 and (b0[6:] == -1).all()
    assert b1[0] == 1 and (b1[1:] == -1).all()
    # Before the AC scan, component 0's coefficients 1..9 were unknown (-1); components 1 and 2 were
    # only in the first scan, during which libjpeg records 0.
    assert (c.prev_coef_bits[0][1:10] == -1).all()
    assert (c.prev_coef_bits[1][0:10] == 0).all()
    # One scan only: libjpeg latches the previous state as -1 (None here).
    single = quiet_coefficients(_cjpeg(img, "-sample", "1x1,1x1,1x1", "-scans", "script:0 1 2: 0 0 0 0;"))
    assert single.prev_coef_bits == [None, None, None]
    assert all(b[0] == 0 and (b[1:] == -1).all() for b in single.coef_bits)


def test_truncated_progressive_file_last_good_row():
    data = pillow_jpeg(make_image(64, 32, gray=True), progressive=True, quality=90)
    segs = split_segments(data)
    last = max(i for i, s in enumerate(segs) if s[1] == 0xDA)
    head = b"".join(segs[:last])
    scan = segs[last]
    cut = head + scan[: 10 + (len(scan) - 10) // 2]  # half of the last scan's data
    c, msgs = warned(read_coefficients, cut)
    assert any("premature end" in m for m in msgs)
    assert 0 <= c.last_good_imcu_row < 64 // 8 - 1
    full = quiet_coefficients(data)
    assert full.last_good_imcu_row == 64 // 8 - 1
    # Rows the last scan never reached keep the state from before it.
    assert all((p is not None) for p in c.prev_coef_bits)


def test_inconsistent_progression_is_a_warning():
    data = pillow_jpeg(make_image(16, 16, gray=True), progressive=True)
    segs = split_segments(data)
    first_sos = next(i for i, s in enumerate(segs) if s[1] == 0xDA)
    no_dc = b"".join(segs[:first_sos] + segs[first_sos + 1 :])  # drop the DC scan
    c, msgs = warned(read_coefficients, no_dc)
    assert any("inconsistent progression sequence for component 0 coefficient 0" in m for m in msgs)
    # The DC refinement scan still ran (over zeros) and recorded its Al, as libjpeg does.
    assert c.coef_bits[0][0] == 0 and c.components[0][..., 0, 0].max() <= 1


def test_load_be64_contiguous_and_strided():
    """base/bytes64.load_be64 (the decoder's 8-byte refill): one load + byte swap on a C-contiguous array,
    byte by byte on a strided one; both the big-endian int64 of the 8 bytes (sign bit included)."""
    from numba import njit

    from fdjpeg.base.bytes64 import load_be64

    @njit
    def at(d, p):
        return load_be64(d, p)

    d = (np.arange(48, dtype=np.uint8) * 37 + 200).astype(np.uint8)
    for arr in (d, d[::3], d[5:]):
        for p in range(arr.shape[0] - 7):
            assert at(arr, p) == int.from_bytes(bytes(arr[p : p + 8]), "big", signed=False) - (
                (1 << 64) if arr[p] >= 128 else 0
            )
