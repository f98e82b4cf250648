"""Marker parsing and header validation (fdjpeg/parser.py, reader.read_header).

Three layers: header fields against what Pillow reports for the same file (Pillow-written files with
EXIF, a multi-chunk ICC profile, comments, restart intervals; the conformance corpus); every
validation rule of T.81 Annex B as libjpeg-turbo applies it, on files edited segment by segment;
and libjpeg-turbo's leniencies (junk before markers, short APPn lengths, missing EOI...).
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import JPEGError, JPEGWarning, UnsupportedJPEG, read_coefficients, read_header
from fdjpeg.parser import load_bytes

CORPUS = Path(__file__).parent.parent.parent / "shared" / "conformance"


# --- helpers shared with test_entropy_decode.py and test_fuzz_decode.py ---------------------------


def make_image(height: int = 40, width: int = 48, gray: bool = False, seed: int = 0) -> np.ndarray:
    """A smooth image with some texture: realistic coefficient statistics, deterministic."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(x / 7.0 + seed) * np.cos(y / 5.0) + rng.normal(0, 10, (height, width))
    img = np.stack([base, np.roll(base, 5, 1) * 0.8 + 20, 255 - base], -1)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., 0] if gray else img


def pillow_jpeg(img: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    if img.ndim == 3 and img.shape[2] == 4:
        pil = Image.frombytes("CMYK", (img.shape[1], img.shape[0]), np.ascontiguousarray(img).tobytes())
    else:
        pil = Image.fromarray(img)
    pil.save(buf, "JPEG", **kw)
    return buf.getvalue()


def split_segments(data: bytes) -> list[bytes]:
    """Cut a well-formed JPEG into its markers: SOI, each segment (an SOS together with the entropy-coded
    data that follows it, RSTn included), EOI and whatever trails it."""
    out = [data[:2]]
    pos = 2
    while pos < len(data):
        assert data[pos] == 0xFF, pos
        marker = data[pos + 1]
        if marker == 0xD9:
            out.append(data[pos:])
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0, *range(0xD0, 0xD8))):
                end += 1
        out.append(data[pos:end])
        pos = end
    return out


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def edit(data: bytes, marker: int, fn, nth: int = 0) -> bytes:
    """Replace the nth segment with this marker by fn(segment bytes)."""
    segs = split_segments(data)
    hits = [i for i, s in enumerate(segs) if len(s) > 1 and s[1] == marker]
    segs[hits[nth]] = fn(segs[hits[nth]])
    return b"".join(segs)


def drop(data: bytes, marker: int) -> bytes:
    return b"".join(s for s in split_segments(data) if not (len(s) > 1 and s[1] == marker))


def quiet_coefficients(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        return read_coefficients(data, **kw)


def set_byte(seg: bytes, index: int, value: int) -> bytes:
    return seg[:index] + bytes([value]) + seg[index + 1 :]


# --- header fields -------------------------------------------------------------------------------


def test_pillow_metadata_round_trip():
    icc = bytes(range(256)) * 300  # 76800 bytes: Pillow writes two APP2 chunks
    exif = Image.Exif()
    exif[0x010F] = "fdjpeg"
    data = pillow_jpeg(make_image(), quality=50, icc_profile=icc, exif=exif.tobytes(), comment=b"hello",
                       dpi=(300, 150), restart_marker_blocks=2, subsampling="4:2:0")
    info = Image.open(io.BytesIO(data)).info
    h = read_header(data)
    assert (h.width, h.height, h.precision) == (48, 40, 8)
    assert h.sampling == [(2, 2), (1, 1), (1, 1)] and h.component_ids == [1, 2, 3]
    assert [c.tq for c in h.components] == [0, 1, 1]
    assert (h.sof_marker, h.process, h.progressive) == (0xC0, "baseline", False)
    assert h.icc_profile == icc == info["icc_profile"]
    assert h.exif == info["exif"] and h.exif.startswith(b"Exif\0\0")
    assert h.comments == [b"hello"] and h.comment == b"hello" == info["comment"]
    assert h.jfif == fdjpeg.parser.JFIFInfo((1, 1), 1, 300, 150)
    assert h.adobe_transform is None and not h.adobe
    assert h.restart_interval == 2
    assert h.colorspace == "YCbCr"
    assert h.mcu_size == (16, 16)
    names = [s.name for s in h.segments]
    assert names[0] == "SOI" and names[-1] == "EOI" and names.count("APP2") == 2 and "DRI" in names
    for s in h.segments:
        assert data[s.offset] == 0xFF and data[s.offset + 1] == s.marker
        if s.length is not None:
            assert struct.unpack(">H", data[s.offset + 2 : s.offset + 4])[0] == s.length
    assert len(h.scans) == 1 and [c.id for c in h.scans[0].components] == [1, 2, 3]


@pytest.mark.parametrize("quality", [10, 50, 95, 100])
def test_quant_tables_natural_order(quality):
    data = pillow_jpeg(make_image(), quality=quality)
    pil = Image.open(io.BytesIO(data)).quantization
    h = read_header(data)
    assert set(h.quant_tables) == set(pil)
    for slot, table in h.quant_tables.items():
        assert table.dtype == np.uint16 and table.shape == (8, 8)
        assert table.reshape(64).tolist() == list(pil[slot])
    coefs = quiet_coefficients(data)
    assert np.array_equal(coefs.quant_tables[0], h.quant_tables[0])
    assert np.array_equal(coefs.quant_tables[1], h.quant_tables[1])


def test_progressive_header_lists_every_scan():
    data = pillow_jpeg(make_image(), progressive=True)
    h = read_header(data)
    assert (h.sof_marker, h.progressive) == (0xC2, True)
    assert len(h.scans) == sum(1 for s in h.segments if s.name == "SOS") > 5
    assert h.scans[0].ss == 0 and h.scans[0].se == 0


def test_grayscale_and_icc_absent():
    h = read_header(pillow_jpeg(make_image(gray=True)))
    assert h.colorspace == "L" and h.sampling == [(1, 1)] and h.icc_profile is None and h.exif is None


def test_icc_chunks_joined_in_sequence_order():
    icc = bytes(range(256)) * 300
    data = pillow_jpeg(make_image(), icc_profile=icc)
    segs = split_segments(data)
    i = [k for k, s in enumerate(segs) if s[1] == 0xE2]
    segs[i[0]], segs[i[1]] = segs[i[1]], segs[i[0]]  # second chunk first in the file
    assert read_header(b"".join(segs)).icc_profile == icc
    # A chunk count that disagrees with the chunks present: no profile (Pillow's rule).
    broken = edit(data, 0xE2, lambda s: set_byte(s, 4 + 13, 3))
    assert read_header(broken).icc_profile is None


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, "path", "str", "file"])
def test_input_types(kind, tmp_path):
    data = pillow_jpeg(make_image(gray=True))
    if kind in (bytes, bytearray, memoryview):
        arg = kind(data)
    elif kind in ("path", "str"):
        p = tmp_path / "x.jpg"
        p.write_bytes(data)
        arg = p if kind == "path" else str(p)
    else:
        arg = io.BytesIO(data)
    assert load_bytes(arg) == data
    if kind == "file":
        arg = io.BytesIO(b"junk" + data)
        arg.read(4)  # read from the current position
    assert read_header(arg).width == 48


def test_input_type_errors(tmp_path):
    with pytest.raises(TypeError, match="data must be"):
        read_header(12345)
    p = tmp_path / "t.txt"
    p.write_text("x")
    with open(p) as f, pytest.raises(TypeError, match="binary mode"):
        read_header(f)


# --- colour space (libjpeg-turbo's default_decompress_parms) ---------------------------------------


def _adobe(transform: int) -> bytes:
    return segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, transform))


def _with_ids(data: bytes, ids: list[int]) -> bytes:
    """Rename the frame's component ids (SOF and the SOS selectors)."""
    def sof(s):
        s = bytearray(s)
        for i, cid in enumerate(ids):
            s[10 + 3 * i] = cid
        return bytes(s)

    def sos(s):
        s = bytearray(s)
        for i, cid in enumerate(ids[: s[4]]):
            s[5 + 2 * i] = cid
        return bytes(s)

    return edit(edit(data, 0xC0, sof), 0xDA, sos)


@pytest.mark.parametrize(
    "jfif, adobe, ids, expected, warns",
    [
        (True, None, [1, 2, 3], "YCbCr", False),
        (True, 0, [1, 2, 3], "YCbCr", False),  # JFIF wins over Adobe
        (False, 0, [1, 2, 3], "RGB", False),
        (False, 1, [1, 2, 3], "YCbCr", False),
        (False, 7, [1, 2, 3], "YCbCr", True),
        (False, None, [82, 71, 66], "RGB", False),
        (False, None, [1, 2, 3], "YCbCr", False),
        (False, None, [9, 8, 7], "YCbCr", False),
    ],
)
def test_three_component_colorspace(jfif, adobe, ids, expected, warns):
    data = pillow_jpeg(make_image(), subsampling="4:4:4")
    if not jfif:
        data = drop(data, 0xE0)
    if adobe is not None:
        data = data[:2] + _adobe(adobe) + data[2:]
    data = _with_ids(data, ids)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        h = read_header(data)
        c = read_coefficients(data)
    assert h.colorspace == c.colorspace == expected
    assert h.adobe_transform == adobe
    assert any("Adobe color transform" in str(x.message) for x in w) == warns


@pytest.mark.parametrize("adobe, expected", [(None, "CMYK"), (0, "CMYK"), (2, "YCCK"), (1, "YCCK")])
def test_four_component_colorspace(adobe, expected):
    cmyk = np.dstack([make_image(), make_image(gray=True)])
    data = pillow_jpeg(cmyk)  # Pillow writes Adobe transform 0
    data = drop(data, 0xEE)
    if adobe is not None:
        data = data[:2] + _adobe(adobe) + data[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)  # transform 1 is unknown for 4 components
        assert read_header(data).colorspace == expected


def test_corpus_colorspaces():
    if not CORPUS.is_dir():
        pytest.skip(f"conformance corpus not found at {CORPUS}")
    ref = CORPUS / "jpeg-decoder" / "tests" / "reftest" / "images"
    assert read_header(ref / "ycck.jpg").colorspace == "YCCK"
    assert read_header(ref / "rgb.jpg").colorspace == "RGB"
    assert read_header(ref / "mozilla" / "jpg-cmyk-1.jpg").colorspace == "CMYK"
    assert read_header(ref / "mozilla" / "jpg-gray.jpg").colorspace == "L"


# --- the corpus against Pillow's view of the same files -------------------------------------------


def _decodable_corpus_files():
    if not CORPUS.is_dir():
        return []
    rows = [line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()[1:]]
    return [r[0] for r in rows if r[1] in ("baseline", "progressive", "extended") and r[19].startswith("decode")
            and r[7] == "8"]


@pytest.mark.parametrize("path", _decodable_corpus_files() or ["(corpus missing)"])
def test_corpus_headers_match_pillow(path):
    if not CORPUS.is_dir():
        pytest.skip(f"conformance corpus not found at {CORPUS}")
    data = (CORPUS / path).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        h = read_header(data)
    im = Image.open(io.BytesIO(data))
    assert (h.width, h.height) == im.size
    assert len(h.components) == len(im.getbands())
    assert h.icc_profile == im.info.get("icc_profile")
    assert h.exif == im.info.get("exif")
    assert h.progressive == bool(im.info.get("progressive", False) or im.info.get("progression", False))
    for slot, table in im.quantization.items():
        assert h.quant_tables[slot].reshape(64).tolist() == list(table)


# --- validation: what libjpeg-turbo refuses ---------------------------------------------------------


def _base(**kw) -> bytes:
    return pillow_jpeg(make_image(), quality=75, **kw)


def _raises(data, exc, match, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        with pytest.raises(exc, match=match) as info:
            read_coefficients(data, **kw)
    return info.value


def test_not_a_jpeg():
    assert _raises(b"", JPEGError, "empty").offset == 0
    assert _raises(b"\x89PNG\r\n\x1a\n", JPEGError, "not a JPEG file: starts with 0x89 0x50").offset == 0
    _raises(b"\xff", JPEGError, "not a JPEG file")


def test_structure_errors():
    data = _base()
    segs = split_segments(data)
    sof = next(s for s in segs if s[1] == 0xC0)
    sos_index = next(i for i, s in enumerate(segs) if s[1] == 0xDA)
    _raises(data[:2] + data, JPEGError, "two SOI markers")
    twice = b"".join(segs[:sos_index] + [sof] + segs[sos_index:])
    err = _raises(twice, JPEGError, "two SOF markers")
    assert twice[err.offset : err.offset + 2] == b"\xff\xc0" and err.offset > data.index(b"\xff\xc0")
    _raises(b"".join(s for s in segs if s[1] != 0xC0), JPEGError, "SOS before SOF")
    _raises(b"".join(segs[:sos_index]) + b"\xff\xd9", JPEGError, "EOI before any SOS")
    _raises(b"\xff\xd8\xff\xd9", JPEGError, "no image")


@pytest.mark.parametrize(
    "marker, index, value, match",
    [
        (0xC0, 4, 12, "12-bit samples"),  # precision
        (0xC0, 4, 9, "invalid sample precision P=9"),
        (0xC0, 5, 0, "empty image"),  # height high byte... with low byte -> see below
        (0xC0, 9, 0, "bad SOF0 length"),  # Nf = 0 -> empty image check comes first in libjpeg
        (0xC0, 11, 0x50, "bad sampling factors H=5"),
        (0xC0, 11, 0x10, "bad sampling factors H=1 V=0"),
        (0xDB, 4, 0x05, "bad DQT table index Tq=5"),
        (0xC4, 4, 0x05, "bad DHT table index"),
        (0xC4, 4, 0x20, "bad DHT table index"),
        (0xDD, 3, 5, "bad DRI segment length"),
    ],
)
def test_field_errors(marker, index, value, match):
    data = _base(restart_marker_blocks=1)
    if (marker, index) == (0xC0, 5):
        data = edit(data, 0xC0, lambda s: s[:5] + b"\0\0" + s[7:])  # Y = 0
    elif (marker, index) == (0xC0, 9):
        data = edit(data, 0xC0, lambda s: set_byte(s, 3, 11))  # Lf disagrees with Nf
    else:
        data = edit(data, marker, lambda s: set_byte(s, index, value))
    err = _raises(data, JPEGError, match)
    assert err.offset is not None and data[err.offset] == 0xFF
    if "12-bit" in match:
        assert isinstance(err, UnsupportedJPEG)


def test_dimension_limits():
    data = _base()
    big = edit(data, 0xC0, lambda s: s[:5] + struct.pack(">HH", 65500, 65500) + s[9:])
    err = _raises(big, JPEGError, "over the limit of 89478485")
    assert not isinstance(err, UnsupportedJPEG)
    _raises(big, JPEGError, "over the limit of 1000", max_pixels=1000)
    huge = edit(data, 0xC0, lambda s: s[:5] + struct.pack(">HH", 65535, 16) + s[9:])
    _raises(huge, JPEGError, "image too large: 16x65535")
    # max_pixels=None lifts the guard; a modest size then decodes (zeros where data is missing).
    wide = edit(data, 0xC0, lambda s: s[:5] + struct.pack(">HH", 40, 3000) + s[9:])
    c = quiet_coefficients(wide, max_pixels=None)
    assert c.components[0].shape[:2] == (6, 376)
    with pytest.raises(TypeError):
        read_coefficients(data, max_pixels=1.5)


def test_too_many_components():
    data = _base()
    sof = bytearray(next(s for s in split_segments(data) if s[1] == 0xC0))
    comps = bytes(sof[10:19]) * 4  # 12 components
    new = segment(0xC0, bytes(sof[4:9]) + bytes([12]) + comps[:36])
    _raises(edit(data, 0xC0, lambda s: new), JPEGError, "too many components: Nf=12")
    # Ten full-size components are legal, but need more memory than four planes at the pixel limit.
    ten = segment(0xC0, bytes(sof[4:9]) + bytes([10]) + comps[:30])
    _raises(edit(data, 0xC0, lambda s: ten), JPEGError, "10 components of 48x40 need 10560 samples", max_pixels=2000)


def test_mcu_too_large_only_for_interleaved_scans():
    # 4x2 luma + two 1x1 chroma = 10 blocks per MCU: allowed; 4x3 luma: 14 blocks, refused.
    data = pillow_jpeg(make_image(), subsampling="4:4:4")
    ok = edit(data, 0xC0, lambda s: set_byte(s, 11, 0x42))
    assert quiet_coefficients(ok).sampling[0] == (4, 2)
    bad = edit(data, 0xC0, lambda s: set_byte(s, 11, 0x43))
    _raises(bad, JPEGError, "too large for an interleaved scan: 14 blocks")
    # The same factors in a grayscale frame: a non-interleaved scan (one block per MCU) is fine.
    gray = edit(pillow_jpeg(make_image(gray=True)), 0xC0, lambda s: set_byte(s, 11, 0x44))
    assert quiet_coefficients(gray).sampling == [(4, 4)]


def test_scan_header_errors():
    data = _base()
    _raises(edit(data, 0xDA, lambda s: set_byte(s, 5, 7)), JPEGError, "invalid component id Cs=7")
    _raises(edit(data, 0xDA, lambda s: set_byte(s, 7, 1)), JPEGError, "invalid component id Cs=1")  # twice
    _raises(edit(data, 0xDA, lambda s: set_byte(s, 3, 13)), JPEGError, "bad SOS length Ls=13")
    _raises(edit(data, 0xDA, lambda s: set_byte(s, 5 + 1, 0x50)), JPEGError, "DC Huffman table 5 was not defined")
    _raises(edit(data, 0xDA, lambda s: set_byte(s, 5 + 1, 0x02)), JPEGError, "AC Huffman table 2 was not defined")


def test_scan_component_order_follows_libjpeg():
    """libjpeg matches the j-th scan component only against frame components j, j+1, ...: a scan that
    lists frame components out of order is refused (jdmarker.c get_sos)."""
    gray = make_image(gray=True)
    # Build a 3-component file with three non-interleaved scans, then make the second scan's
    # component list (3) and a two-component scan (3, 1): the latter is refused.
    data = pillow_jpeg(np.dstack([gray, gray, gray]), subsampling="4:4:4")
    two = edit(data, 0xDA, lambda s: segment(0xDA, bytes([2, 3, 0x11, 1, 0x00, 0, 63, 0])) + s[14:])
    _raises(two, JPEGError, "invalid component id Cs=1")
    ok = edit(data, 0xDA, lambda s: segment(0xDA, bytes([2, 1, 0x00, 3, 0x11, 0, 63, 0])) + s[14:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        read_header(ok)  # (1, 3) is in frame order: accepted


def test_second_scan_in_single_scan_file():
    data = _base()
    segs = split_segments(data)
    sos = next(s for s in segs if s[1] == 0xDA)
    _raises(b"".join(segs[:-1]) + sos + segs[-1], JPEGError, "second scan in a single-scan")


def test_missing_quant_table_is_checked_when_the_component_is_first_scanned():
    data = _base()
    _raises(edit(data, 0xC0, lambda s: set_byte(s, 12, 3)), JPEGError, "quantization table Tq=3 of component 0")
    _raises(edit(data, 0xC0, lambda s: set_byte(s, 12, 9)), JPEGError, "quantization table Tq=9")


def test_huffman_table_errors():
    data = _base()
    # DC table with a symbol > 15 (T.81 F.1.2.1.1).
    bad_dc = edit(data, 0xC4, lambda s: s[:-1] + b"\x10")
    _raises(bad_dc, JPEGError, "DC Huffman table contains symbol 16")
    # Code lengths that do not fit (two 1-bit codes use the all-ones code).
    overfull = segment(0xC4, bytes([0x00, 2] + [0] * 15 + [0, 1]))
    _raises(edit(data, 0xC4, lambda s: overfull), JPEGError, "bad DC Huffman table 0")
    # Counts that run past the segment.
    _raises(edit(data, 0xC4, lambda s: set_byte(s, 5, 200)), JPEGError, "bad Huffman table in DHT")
    # A broken table that no scan uses is not an error (libjpeg checks tables when a scan needs them).
    unused = segment(0xC4, bytes([0x03, 2] + [0] * 15 + [0, 1]))
    assert quiet_coefficients(data[:2] + unused + data[2:]).width == 48


@pytest.mark.parametrize(
    "ss, se, ah, al, match",
    [
        (0, 5, 0, 0, "Ss=0 Se=5"),  # DC scan with AC coefficients
        (5, 2, 0, 0, "Ss=5 Se=2"),
        (1, 64, 0, 0, "Se=64"),
        (1, 63, 2, 0, "Ah=2 Al=0"),  # refinement must add one bit
        (1, 63, 0, 14, "Al=14"),
    ],
)
def test_progressive_scan_parameter_errors(ss, se, ah, al, match):
    data = pillow_jpeg(make_image(gray=True), progressive=True)
    bad = edit(data, 0xDA, lambda s: s[:7] + bytes([ss, se, (ah << 4) | al]) + s[10:], nth=1)
    _raises(bad, JPEGError, match)


def test_ac_scan_with_two_components_is_refused():
    data = pillow_jpeg(make_image(), progressive=True, subsampling="4:4:4")
    segs = split_segments(data)
    dc = next(s for s in segs if s[1] == 0xDA)  # first scan: DC of all three components
    bad = edit(data, 0xDA, lambda s: s[:11] + bytes([1, 63, 0]) + s[14:])
    assert dc[4] == 3
    _raises(bad, JPEGError, "Ss=1 Se=63")


def test_progressive_files_need_their_huffman_tables():
    data = pillow_jpeg(make_image(gray=True), progressive=True)
    _raises(drop(data, 0xC4), JPEGError, "Huffman table 0 was not defined")


@pytest.mark.parametrize(
    "marker, feature",
    [(0xC3, "lossless"), (0xC5, "hierarchical"), (0xC6, "hierarchical"), (0xC7, "hierarchical"),
     (0xCB, "arithmetic coding"),
     (0xCD, "hierarchical"), (0xCE, "hierarchical"), (0xCF, "hierarchical"), (0xC8, "JPEG extensions"),
     (0xDE, "hierarchical"), (0xDF, "hierarchical")],
)
def test_unsupported_processes(marker, feature):
    data = edit(_base(), 0xC0, lambda s: s[:1] + bytes([marker]) + s[2:])
    err = _raises(data, UnsupportedJPEG, feature)
    assert data[err.offset + 1] == marker
    with pytest.raises(UnsupportedJPEG):
        read_header(data)


@pytest.mark.parametrize("marker", [0x02, 0x4F, 0xBF, 0xF0, 0xF7, 0xFD])
def test_reserved_markers_are_errors(marker):
    data = _base()
    _raises(data[:2] + bytes([0xFF, marker, 0, 2]) + data[2:], JPEGError, f"unsupported marker 0x{marker:02X}")


def test_dac_is_validated_like_libjpeg():
    data = _base()
    ok = data[:2] + segment(0xCC, bytes([0x00, 0x10, 0x11, 5, 31, 7])) + data[2:]
    assert quiet_coefficients(ok) == quiet_coefficients(data)  # harmless in a Huffman file
    _raises(data[:2] + segment(0xCC, bytes([32, 0])) + data[2:], JPEGError, "bad DAC table index")
    _raises(data[:2] + segment(0xCC, bytes([0, 0x03])) + data[2:], JPEGError, "bad DAC value")


# --- leniency: what libjpeg-turbo tolerates ---------------------------------------------------------


def _warnings_of(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        result = fn(*args, **kw)
    return result, [str(x.message) for x in w if issubclass(x.category, JPEGWarning)]


def test_junk_between_segments():
    data = _base()
    segs = split_segments(data)
    i = next(k for k, s in enumerate(segs) if s[1] == 0xDB)
    junky = b"".join(segs[:i]) + b"\x00\x12\xff\x00\x34" + b"".join(segs[i:])
    coefs, msgs = _warnings_of(read_coefficients, junky)
    assert coefs == quiet_coefficients(data)
    assert any("5 extraneous bytes before marker 0xDB" in m for m in msgs)
    header, msgs = _warnings_of(read_header, junky)
    assert any("extraneous bytes" in m for m in msgs)


def test_fill_bytes_and_parameterless_markers_between_segments():
    data = _base()
    padded = data[:2] + b"\xff\xff\xff" + b"\xff\x01" + b"\xff\xd3" + data[2:]  # fill FFs, TEM, a stray RST3
    coefs, msgs = _warnings_of(read_coefficients, padded)
    assert coefs == quiet_coefficients(data) and msgs == []


def test_short_app_lengths_skip_nothing():
    data = _base()
    for length in (0, 1):
        odd = data[:2] + bytes([0xFF, 0xE5, 0, length]) + data[2:]
        coefs, msgs = _warnings_of(read_coefficients, odd)
        assert coefs == quiet_coefficients(data)  # the next marker is found right after the length


def test_trailing_data_and_missing_eoi():
    data = _base()
    coefs, msgs = _warnings_of(read_coefficients, data + b"trailing garbage \xff\xd8\xff")
    assert coefs == quiet_coefficients(data) and msgs == []
    coefs, msgs = _warnings_of(read_coefficients, data[:-2])
    assert coefs == quiet_coefficients(data)
    assert any("premature end of JPEG file" in m for m in msgs)
    header, msgs = _warnings_of(read_header, data[:-2])
    assert header.segments[-1].name == "EOI" and header.segments[-1].offset == len(data) - 2


def test_dnl_is_ignored():
    data = _base()
    segs = split_segments(data)
    with_dnl = b"".join(segs[:-1]) + segment(0xDC, struct.pack(">H", 40)) + segs[-1]
    coefs, msgs = _warnings_of(read_coefficients, with_dnl)
    assert coefs == quiet_coefficients(data) and msgs == []


def test_sequential_scan_with_progressive_parameters_warns():
    data = _base()
    odd = edit(data, 0xDA, lambda s: s[:11] + bytes([0, 0, 0]) + s[14:])  # Ss=0 Se=0: libjpeg ignores them
    coefs, msgs = _warnings_of(read_coefficients, odd)
    assert coefs == quiet_coefficients(data)
    assert any("invalid SOS parameters for sequential JPEG: Ss=0 Se=0" in m for m in msgs)


def test_jfif_major_version_warning():
    data = edit(_base(), 0xE0, lambda s: set_byte(s, 9, 2))
    _, msgs = _warnings_of(read_header, data)
    assert any("unknown JFIF revision number 2.01" in m for m in msgs)


def test_read_header_stops_quietly_after_the_first_scan():
    data = _base(progressive=True)
    segs = split_segments(data)
    last_sos = max(i for i, s in enumerate(segs) if s[1] == 0xDA)
    broken = b"".join(segs[:last_sos]) + bytes([0xFF, 0xDA, 0, 3]) + b"".join(segs[last_sos + 1 :])
    h = read_header(broken)  # the damage is after the first scan: the header is still returned
    assert h.width == 48 and len(h.scans) >= 1
    _raises(broken, JPEGError, "bad SOS length")  # decoding does reach it


@given(st.lists(st.sampled_from([0x00, 0xFF, 0xFF, 0xD0, 0xD7, 0xD8, 0xD9, 0xC4, 0x12]), max_size=40), st.data())
def test_scan_end_finds_the_marker_a_regular_expression_finds(body, data):
    """The header-only walk's scan skipper against the same rule written as a regular expression: FF
    (fill FFs allowed) then anything but 00 (stuffing), RST0-7 or another FF."""
    import re

    from fdjpeg.reader import scan_end

    raw = bytes(body)
    pos = data.draw(st.integers(0, len(raw)))
    m = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]").search(raw, pos)
    assert scan_end(raw, pos) == (len(raw) if m is None else m.start())
