"""Arithmetic coding (T.81 Annex D; SOF9 sequential, SOF10 progressive) against libjpeg-turbo.

* Decoding: the corpus's arithmetic-coded files decode to their reference pixels; files that
  ``cjpeg -arithmetic`` (``-progressive``) makes from random images decode to exactly Pillow's
  (libjpeg-turbo's) pixels, with restart markers, every subsampling and custom tables; a DAC segment
  with non-default conditioning is honoured as libjpeg-turbo honours it; damaged arithmetic data
  decodes to libjpeg-turbo's pixels (or is refused when libjpeg-turbo refuses it), and mutated files
  never do anything but return or raise JPEGError, in bounded time.
* Encoding: ``encode(..., arithmetic=True)`` is byte-identical to ``cjpeg -arithmetic`` and
  ``write_coefficients(..., arithmetic=True)`` to ``jpegtran -arithmetic``.

cjpeg/jpegtran (libjpeg-turbo-progs) are the oracles for the files: Pillow cannot write arithmetic
coding. Tests needing them skip with the reason.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import JPEGCoefficients, JPEGError, read_coefficients
from fdjpeg.arithmetic import FIXED_BIN, QE_PACKED, new_stats
from fdjpeg.samples import load_all
from fdjpeg.testing import encoder_settings, images, quant_tables

sys.path.insert(0, str(Path(__file__).resolve().parent))
import conformance_report as cr
from oracle import cjpeg_encode, first_difference, needs_cjpeg

JPEGTRAN = shutil.which("jpegtran")
DJPEG = shutil.which("djpeg")
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
TIME_BOUND = 10.0


def _arith_settings(draw_settings: dict, progressive: bool = False) -> dict:
    kw = {k: v for k, v in draw_settings.items() if k != "optimize"}
    kw["arithmetic"] = True
    if progressive:
        kw["progressive"] = True
    return kw


def _decode_quiet(data: bytes):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fdjpeg.decode(data)
    return out, [str(w.message) for w in caught]


def _pillow(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


# --- tables -----------------------------------------------------------------------------------------


def test_probability_table_is_t81_table_d2():
    """Spot values and the structure of T.81 Table D.2: 113 states plus libjpeg's fixed state 113,
    MPS switches exactly at the states whose Qe is near 0.5, every successor inside the table."""
    assert QE_PACKED.shape == (114,)
    qe = QE_PACKED >> 16
    nm = (QE_PACKED >> 8) & 0xFF
    switch = (QE_PACKED >> 7) & 1
    nl = QE_PACKED & 0x7F
    assert (qe[0], nl[0], nm[0], switch[0]) == (0x5A1D, 1, 1, 1)
    assert (qe[13], nl[13], nm[13]) == (0x0001, 12, 13)
    assert (qe[112], nl[112], nm[112], switch[112]) == (0x59EB, 112, 111, 1)
    assert set(np.flatnonzero(switch)) == {0, 14, 36, 64, 80, 88, 95, 105, 110, 112}
    assert nl.max() <= 113 and nm.max() <= 113
    assert (qe[113], nl[113], nm[113], switch[113]) == (0x5A1D, 113, 113, 0)  # never adapts
    stats = new_stats()
    assert stats[FIXED_BIN] == 113 and not stats[:FIXED_BIN].any()


# --- decoding: the corpus ---------------------------------------------------------------------------


def _corpus_rows():
    if not (CORPUS / "MANIFEST.tsv").exists():
        return []
    return [r for r in cr.read_manifest() if "arithmetic" in r["process"] and r["category"] != "crash"]


@pytest.mark.skipif(not _corpus_rows(), reason=f"conformance corpus not found at {CORPUS}")
@pytest.mark.parametrize("row", _corpus_rows() or [None], ids=lambda r: r["path"].split("/")[-1] if r else "none")
def test_corpus_arithmetic_files_decode_exactly(row):
    path = CORPUS / row["path"]
    ours, msgs = _decode_quiet(path.read_bytes())
    assert msgs == []
    assert np.array_equal(ours, _pillow(path.read_bytes()))
    ref = row["reference"].split(" ")[0]
    if ref not in ("-", ""):
        assert np.array_equal(ours, np.asarray(Image.open(CORPUS / ref)))


@pytest.mark.skipif(not (CORPUS / "libjpeg-turbo/testimages/testimgint.jpg").exists(), reason="corpus not found")
def test_testimgari_has_the_coefficients_of_its_huffman_twin():
    """libjpeg-turbo's testimgari.jpg and testimgint.jpg code the same coefficients (Huffman ones are
    checked against libjpeg-turbo's jpeg_read_coefficients in test_fuzz_decode)."""
    ari = read_coefficients(CORPUS / "libjpeg-turbo/testimages/testimgari.jpg")
    twin = read_coefficients(CORPUS / "libjpeg-turbo/testimages/testimgint.jpg")
    assert ari.header.arithmetic and ari.header.process == "extended sequential arithmetic"
    for a, b in zip(ari.components, twin.components):
        assert np.array_equal(a, b)


# --- decoding: cjpeg -arithmetic files ---------------------------------------------------------------


@needs_cjpeg
@given(images(max_side=40), encoder_settings(), st.booleans())
def test_decode_equals_libjpeg_turbo(img, settings, progressive):
    data = cjpeg_encode(img, **_arith_settings(settings, progressive))
    assert (b"\xff\xca" if progressive else b"\xff\xc9") in data
    ours, msgs = _decode_quiet(data)
    assert msgs == []
    assert np.array_equal(ours, _pillow(data))


@pytest.mark.skipif(DJPEG is None, reason="djpeg not installed (apt-get install libjpeg-turbo-progs)")
@needs_cjpeg
@pytest.mark.parametrize("progressive", [False, True])
def test_files_over_64k_decode_like_djpeg(tmp_path, progressive):
    """Pillow reads JPEG data in 64 KiB blocks and jdarith.c cannot suspend, so Pillow fails on larger
    arithmetic files ("broken data stream"); djpeg reads the whole file and is the oracle here."""
    img = load_all()[0]
    data = cjpeg_encode(img, quality=95, subsampling="4:2:2", restart_rows=2, arithmetic=True, progressive=progressive)
    assert len(data) > 65536
    path = tmp_path / "big.jpg"
    path.write_bytes(data)
    ppm = subprocess.run([DJPEG, "-ppm", str(path)], capture_output=True, check=True).stdout
    ours, msgs = _decode_quiet(data)
    assert msgs == []
    assert np.array_equal(ours, np.asarray(Image.open(io.BytesIO(ppm))))


def _splice_conditioning(img, dac_pairs, dc_l, dc_u, ac_k, restart_interval):
    """An arithmetic file of ``img`` whose scan is coded with the given conditioning and whose DAC
    segment announces it (cjpeg cannot set conditioning values)."""
    from fdjpeg.arithmetic_encode import encode_scan_arithmetic
    from fdjpeg.encoder import image_to_mcu_blocks
    from fdjpeg.entropy_encode import components_in_mcu
    from fdjpeg.tables import standard

    base = fdjpeg.encode(img, quality=90, subsampling="4:2:0", arithmetic=True, restart_interval=restart_interval)
    layout, blocks, _ = image_to_mcu_blocks(img, list(standard(90)), "4:2:0")
    htbl = [0] + [1] * (len(layout.sampling) - 1)
    scan = encode_scan_arithmetic(blocks, components_in_mcu(layout.scan_sampling), htbl, htbl,
                                  np.array(dc_l, np.int64), np.array(dc_u, np.int64), np.array(ac_k, np.int64),
                                  restart_interval)
    dac = base.find(b"\xff\xcc")
    dac_end = dac + 2 + int.from_bytes(base[dac + 2 : dac + 4], "big")
    sos = base.find(b"\xff\xda")
    sos_end = sos + 2 + int.from_bytes(base[sos + 2 : sos + 4], "big")
    payload = b"".join(bytes(p) for p in dac_pairs)
    segment = b"\xff\xcc" + (len(payload) + 2).to_bytes(2, "big") + payload
    return base[:dac] + segment + base[dac_end:sos_end] + scan + b"\xff\xd9"


@given(images(min_side=8, max_side=40, channels=(3,)), st.integers(0, 15), st.integers(0, 15), st.integers(0, 63),
       st.integers(0, 15), st.integers(0, 15), st.integers(0, 63), st.sampled_from([0, 1, 3]))
def test_dac_conditioning_is_honoured_like_libjpeg_turbo(img, l0, u0, k0, l1, u1, k1, restart):
    """DC L/U and AC Kx from DAC change the decoding model (T.81 F.1.4.4): libjpeg-turbo and fdjpeg
    decode a file coded with arbitrary conditioning to the same pixels, which are the pixels of the
    same image coded with the defaults."""
    l0, u0 = min(l0, u0), max(l0, u0)
    l1, u1 = min(l1, u1), max(l1, u1)
    dc_l, dc_u, ac_k = [0] * 16, [1] * 16, [5] * 16
    dc_l[0], dc_u[0], ac_k[0], dc_l[1], dc_u[1], ac_k[1] = l0, u0, k0, l1, u1, k1
    pairs = [(0, l0 | u0 << 4), (0x10, k0), (1, l1 | u1 << 4), (0x11, k1)]
    data = _splice_conditioning(img, pairs, dc_l, dc_u, ac_k, restart)
    ours, msgs = _decode_quiet(data)
    assert msgs == []
    assert np.array_equal(ours, _pillow(data))
    plain = fdjpeg.encode(img, quality=90, subsampling="4:2:0", arithmetic=True, restart_interval=restart)
    assert np.array_equal(ours, fdjpeg.decode(plain))


# --- decoding: damaged data --------------------------------------------------------------------------


@st.composite
def damaged_arithmetic_files(draw):
    img = draw(images(min_side=8, max_side=40, channels=(3,)))
    settings = dict(quality=draw(st.integers(30, 100)), subsampling=draw(st.sampled_from(["4:4:4", "4:2:0"])))
    if draw(st.booleans()):
        settings["restart_interval"] = draw(st.integers(1, 3))
    data = bytearray(cjpeg_encode(img, **_arith_settings(settings, draw(st.booleans()))))
    first = data.find(b"\xff\xda") + 12
    for _ in range(draw(st.integers(1, 3))):
        if len(data) <= first + 2:
            break
        p = draw(st.integers(first, len(data) - 2))
        op = draw(st.sampled_from(["truncate", "byte", "marker"]))
        if op == "truncate":
            del data[p:]
        elif op == "byte":
            data[p] = draw(st.integers(0, 255))
        else:
            data[p:p] = bytes([0xFF, draw(st.sampled_from([0xD0, 0xD1, 0xD2, 0xD5, 0xD9, 0xC4, 0x00]))])
    return bytes(data), img.shape


@needs_cjpeg
@given(damaged_arithmetic_files())
def test_damaged_data_decodes_like_libjpeg_turbo(case):
    """jdarith.c's policy: zeros after a marker inside the data, a bad code stops the interval, and the
    restart markers resynchronise. Whatever libjpeg-turbo makes of the file, fdjpeg makes too."""
    data, shape = case
    ref = cr.libjpeg_oracle(data, "RGB", (shape[1], shape[0]))
    try:
        ours, _ = _decode_quiet(data)
    except JPEGError:
        assert ref is None
        return
    assert ref is not None, "fdjpeg decodes a file libjpeg-turbo refuses"
    assert np.array_equal(ours, ref)


@st.composite
def mutated_arithmetic_files(draw):
    img = draw(images(min_side=4, max_side=32))
    data = bytearray(fdjpeg.encode(img, quality=draw(st.integers(20, 100)), arithmetic=True,
                                   restart_interval=draw(st.sampled_from([0, 1, 2]))))
    for _ in range(draw(st.integers(1, 6))):
        p = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "byte", "insert", "delete", "truncate"]))
        if op == "flip":
            data[p] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[p] = draw(st.sampled_from([0x00, 0xFF, 0xCC, 0xC9, 0xCA, 0xD0, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[p:p] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[p : p + draw(st.integers(1, 16))]
        else:
            del data[p:]
        if len(data) < 4:
            break
    return bytes(data)


@given(mutated_arithmetic_files())
def test_mutated_files_return_or_raise_jpeg_error(data):
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = read_coefficients(data, max_pixels=4_000_000)
        assert isinstance(result, JPEGCoefficients)
    except JPEGError as e:
        assert e.message
    assert time.perf_counter() - start < TIME_BOUND


def test_bad_arithmetic_code_warns_and_leaves_the_interval_zero():
    """A magnitude category past 15 bits (here: a scan of 0xFF 0x00 pairs, i.e. all one bits) is
    libjpeg's JWRN_ARITH_BAD_CODE: one warning, nothing more decoded until the next restart."""
    img = np.full((16, 16), 128, np.uint8)
    base = fdjpeg.encode(img, quality=90, arithmetic=True)
    sos = base.find(b"\xff\xda")
    sos_end = sos + 2 + int.from_bytes(base[sos + 2 : sos + 4], "big")
    data = base[:sos_end] + b"\xff\x00" * 64 + b"\xff\xd9"
    ours, msgs = _decode_quiet(data)
    # libjpeg-turbo: "Corrupt JPEG data: bad arithmetic code", then the bytes the decoder never read.
    assert "bad arithmetic code" in msgs[0] and "extraneous bytes before marker 0xD9" in msgs[1]
    assert np.array_equal(ours, cr.libjpeg_oracle(data, "L", (16, 16)))


# --- encoding ------------------------------------------------------------------------------------------


@needs_cjpeg
@given(images(max_side=40), encoder_settings())
def test_encode_bytes_equal_cjpeg(img, settings):
    settings = _arith_settings(settings)
    ours = fdjpeg.encode(img, **settings)
    theirs = cjpeg_encode(img, **settings)
    assert ours == theirs, first_difference(ours, theirs)
    assert np.array_equal(fdjpeg.decode(ours), _pillow(ours))


def test_encode_writes_sof9_and_dac_with_libjpeg_defaults():
    data = fdjpeg.encode(np.zeros((8, 8, 3), np.uint8), arithmetic=True, quality=75)
    assert b"\xff\xc4" not in data and b"\xff\xc0" not in data
    dac = data.find(b"\xff\xcc")
    assert dac > data.find(b"\xff\xc9") > 0
    # DC tables 0 and 1: L=0 U=1; AC tables 0 and 1: Kx=5 (jcparam.c defaults; jcmarker.c emit_dac order).
    assert data[dac : dac + 12] == bytes.fromhex("ffcc000a0010100501101105")


@pytest.mark.skipif(JPEGTRAN is None, reason="jpegtran not installed (apt-get install libjpeg-turbo-progs)")
@given(images(min_side=2, max_side=40), st.sampled_from(["4:4:4", "4:2:0", "4:1:1"]), st.sampled_from([0, 1, 5]))
def test_write_coefficients_equals_jpegtran(img, subsampling, restart):
    # Grayscale at libjpeg's default 1x1: jpegtran writes a single component as 1x1 whatever the source's
    # factors, while write_coefficients keeps the frame's factors (read_coefficients(out) == coefs).
    src = fdjpeg.encode(img, quality=85, subsampling=subsampling if img.ndim == 3 else None)
    with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
        f.write(src)
        f.flush()
        args = [JPEGTRAN, "-arithmetic"] + (["-restart", f"{restart}B"] if restart else []) + [f.name]
        theirs = subprocess.run(args, capture_output=True, check=True).stdout
    ours = fdjpeg.write_coefficients(read_coefficients(src), arithmetic=True, restart_interval=restart)
    assert ours == theirs, first_difference(ours, theirs)
    assert np.array_equal(fdjpeg.decode(ours), fdjpeg.decode(src))


@given(quant_tables())
def test_custom_tables_round_trip_through_arithmetic_coding(table):
    img = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    huff = read_coefficients(fdjpeg.encode(img, table))
    ari = read_coefficients(fdjpeg.encode(img, table, arithmetic=True))
    for a, b in zip(huff.components, ari.components):
        assert np.array_equal(a, b)


def test_command_line_option(tmp_path):
    img = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "in.png")
    cmd = [sys.executable, "-m", "fdjpeg", "encode", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.jpg"),
           "--quality", "80", "--arithmetic", "--restart-interval", "2"]
    subprocess.run(cmd, check=True, capture_output=True)
    assert (tmp_path / "out.jpg").read_bytes() == fdjpeg.encode(img, quality=80, arithmetic=True, restart_interval=2)


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [(dict(arithmetic=True, optimize=True), ValueError, "optimize"),
     (dict(arithmetic=True, mjpeg=True), ValueError, "mjpeg"),
     (dict(arithmetic=True, profile="baseline-hw"), ValueError, "profile"),
     (dict(arithmetic="yes"), TypeError, "arithmetic")],
)
def test_bad_arguments(kwargs, exc, fragment):
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(exc, match=fragment):
        fdjpeg.encode(img, **kwargs)
    if "mjpeg" not in kwargs and "profile" not in kwargs:
        with pytest.raises(exc, match=fragment):
            fdjpeg.write_coefficients(read_coefficients(fdjpeg.encode(img)), **kwargs)
