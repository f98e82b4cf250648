"""Robustness (contract 4) and parity with libjpeg-turbo on damaged files.

* Hypothesis mutates valid files (bit flips, truncation, insertions, deletions, swapped segments,
  absurd segment lengths, dimensions and sampling factors): ``read_coefficients`` and ``read_header``
  either return or raise ``JPEGError`` -- nothing else -- and each call is bounded in time.
* The conformance corpus (``../shared/conformance`` beside the repository, with MANIFEST.tsv): every
  crash-test file returns or raises JPEGError in bounded time; unsupported features raise
  UnsupportedJPEG; the decode/refuse outcome and the first warning agree with what libjpeg-turbo
  3.2.0 did with the file; and for every file libjpeg-turbo reads, the coefficients (padding blocks
  included), latched quantization tables and progression state equal libjpeg-turbo's own.
"""

from __future__ import annotations

import hashlib
import re
import struct
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from test_parser import make_image, pillow_jpeg, split_segments  # noqa: E402

import fdjpeg  # noqa: E402
from fdjpeg import JPEGCoefficients, JPEGError, UnsupportedJPEG, read_coefficients, read_header  # noqa: E402

CORPUS = Path(__file__).parent.parent.parent / "shared" / "conformance"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"conformance corpus not found at {CORPUS}")

#: Seconds one call may take on a fuzzed input (small images; kernels already compiled).
TIME_BOUND = 10.0
#: The fuzz inputs may claim large frames; keep allocations small.
FUZZ_MAX_PIXELS = 4_000_000


def _seeds() -> list[bytes]:
    img = make_image(40, 56, seed=1)
    return [
        pillow_jpeg(img, quality=75, subsampling="4:2:0", restart_marker_blocks=2),
        pillow_jpeg(img, quality=90, subsampling="4:4:4", progressive=True),
        pillow_jpeg(img[..., 0], quality=50, progressive=True, restart_marker_blocks=1),
        pillow_jpeg(img, quality=60, subsampling="4:2:2", optimize=True, comment=b"x" * 40),
        fdjpeg.encode(img, quality=70, arithmetic=True, restart_interval=2),  # SOF9 + DAC (Pillow cannot write it)
    ]


SEEDS = _seeds()


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    """Compile (or load) the kernels once, so that time bounds measure decoding only."""
    for seed in SEEDS:
        read_coefficients(seed)


def _decode_bounded(data: bytes):
    """read_coefficients and read_header: a result or JPEGError, within TIME_BOUND each."""
    results = []
    for fn, kw in ((read_coefficients, dict(max_pixels=FUZZ_MAX_PIXELS)), (read_header, {})):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(fn(data, **kw))
        except JPEGError as e:
            assert isinstance(e.message, str) and e.message
            results.append(e)
        assert time.perf_counter() - start < TIME_BOUND, fn.__name__
    return results


def _check_result(coefs):
    if not isinstance(coefs, JPEGCoefficients):
        return
    hmax, vmax = coefs.max_sampling
    assert coefs.width * coefs.height <= FUZZ_MAX_PIXELS
    for comp, q, (h, v) in zip(coefs.components, coefs.quant_tables, coefs.sampling):
        assert comp.dtype == np.int16 and comp.ndim == 4 and comp.shape[2:] == (8, 8)
        assert comp.shape[0] == -(-(-(-coefs.height * v // (8 * vmax))) // v) * v
        assert comp.shape[1] == -(-(-(-coefs.width * h // (8 * hmax))) // h) * h
        assert q.dtype == np.uint16 and q.shape == (8, 8)
    if coefs.progressive:
        assert len(coefs.coef_bits) == len(coefs.components)
        assert all(b.shape == (64,) and b.min() >= -1 and b.max() <= 13 for b in coefs.coef_bits)


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    segs = split_segments(bytes(data))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["flip", "byte", "insert", "delete", "truncate", "swap", "length",
                                   "dimensions", "sampling", "marker"]))
        n = len(data)
        if n < 4:
            break
        p = draw(st.integers(0, n - 1))
        if op == "flip":
            data[p] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[p] = draw(st.sampled_from([0x00, 0xFF, 0xD9, 0xDA, 0xC4, 0xD0, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[p:p] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[p : p + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[p:]
        elif op == "swap" and len(segs) > 3:
            i, j = draw(st.integers(1, len(segs) - 1)), draw(st.integers(1, len(segs) - 1))
            segs[i], segs[j] = segs[j], segs[i]
            data = bytearray(b"".join(segs))
        elif op == "length":
            starts = [m.start() for m in re.finditer(rb"\xff[\xc0-\xfe]", bytes(data))]
            if starts:
                q = draw(st.sampled_from(starts))
                lengths = st.sampled_from([0, 1, 2, 3, 0xFFFF, draw(st.integers(0, 0xFFFF))])
                data[q + 2 : q + 4] = struct.pack(">H", draw(lengths))
        elif op in ("dimensions", "sampling"):
            sof = re.search(rb"\xff[\xc0\xc1\xc2\xc9\xca]", bytes(data))
            if sof:
                q = sof.start()
                if op == "dimensions":
                    dims = st.sampled_from([0, 1, 7, 8, 9, 255, 4096, 65500, 65535])
                    data[q + 5 : q + 9] = struct.pack(">HH", draw(dims), draw(dims))
                else:
                    k = q + 11 + 3 * draw(st.integers(0, 2))
                    if k < len(data):
                        data[k] = draw(st.integers(0, 255))
        elif op == "marker":
            data[p : p + 2] = bytes([0xFF, draw(st.integers(0xC0, 0xFE))])
    return bytes(data)


@given(mutated())
def test_mutated_files_return_or_raise_jpeg_error(data):
    coefs, header = _decode_bounded(data)
    _check_result(coefs)
    if isinstance(coefs, JPEGCoefficients):
        assert not isinstance(header, Exception)
        assert (header.width, header.height) == (coefs.width, coefs.height)


@given(st.binary(max_size=300))
def test_random_bytes(data):
    _decode_bounded(data)
    _decode_bounded(b"\xff\xd8" + data)


# --- the conformance corpus -----------------------------------------------------------------------------


def _manifest() -> list[dict]:
    if not CORPUS.is_dir():
        return []
    lines = (CORPUS / "MANIFEST.tsv").read_text().splitlines()
    keys = lines[0].split("\t")
    return [dict(zip(keys, line.split("\t"))) for line in lines[1:]]


MANIFEST = _manifest()
UNSUPPORTED = {"lossless"}


def _unsupported(row: dict) -> bool:
    """Valid files using features fdjpeg leaves out (the crash files' odd precisions are just damage)."""
    return row["category"] in UNSUPPORTED or (row["category"] != "crash" and row["precision"] not in ("8", "-"))


def _ids(rows):
    return [r["path"].split("/")[-1] for r in rows]


def _rows(pred):
    rows = [r for r in MANIFEST if pred(r)]
    return pytest.mark.parametrize("row", rows or [None], ids=_ids(rows) or ["corpus-missing"])


def _read(row):
    if row is None:
        pytest.skip(f"conformance corpus not found at {CORPUS}")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            result = read_coefficients(CORPUS / row["path"])
        except JPEGError as e:
            result = e
        elapsed = time.perf_counter() - start
    return result, [str(x.message) for x in w], elapsed


@needs_corpus
@_rows(lambda r: r["category"] == "crash")
def test_crash_corpus_returns_or_raises_jpeg_error(row):
    result, _, elapsed = _read(row)
    assert isinstance(result, (JPEGCoefficients, JPEGError))
    assert elapsed < 4 * TIME_BOUND
    _decode_bounded((CORPUS / row["path"]).read_bytes()[:200_000])


@needs_corpus
@_rows(_unsupported)
def test_unsupported_features_raise_unsupported_jpeg(row):
    result, _, _ = _read(row)
    assert isinstance(result, UnsupportedJPEG), result
    assert re.search(r"lossless|12-bit|16-bit", result.message)


@needs_corpus
@_rows(lambda r: not _unsupported(r))
def test_outcome_and_first_warning_match_libjpeg_turbo(row):
    """libjpeg-turbo 3.2.0's djpeg either decoded the file (possibly with warnings) or refused it; the
    manifest records which, with the first message it printed."""
    result, msgs, _ = _read(row)
    ljt = row["djpeg_3.2.0"]
    if ljt.startswith("decode"):
        assert isinstance(result, JPEGCoefficients), result
    else:
        assert isinstance(result, JPEGError)
    expected_warning = ljt.split(": ", 1)[1].split(" | ")[0] if ljt.startswith("decode+warning") else None
    if expected_warning:
        first = msgs[0].lower() if msgs else ""
        want = expected_warning.lower().replace("warning: ", "")
        assert want.split(": ")[-1] in first or want in first, (want, msgs[:2])


# Digests of libjpeg-turbo 3.2.0's own coefficient arrays for every corpus file it reads with
# jpeg_read_coefficients (8-bit Huffman files; libjpeg-turbo 3.2.0 at commit 8a99315b, built without
# SIMD; see spec/decoder-parsing.md for the dumper). Each digest covers, per component, the int16
# coefficient array over the padded block grid and the latched quantization table (zeros where no
# scan carried the component), and for progressive files coef_bits, the previous coef_bits (entries
# 1..9; -1 for a single-scan file) and last_good_iMCU_row.
LIBJPEG_DIGESTS = {
    "jpeg-decoder/tests/crashtest/images/dc-predictor-overflow.jpg": "7ff69af72b16a08d247859ce",
    "jpeg-decoder/tests/crashtest/images/extraneous-bytes-after-sos.jpg": "10c81afc933fb7411f466495",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/194531363df5b73f59c4c0517422f917.jpg": "0305a27ad82e289de981c237",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/1cbb1bb37d62c44f67374cd451643dc4.jpg": "a90272532a5dc36c0dc4587b",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/21ad703b38e2c350215bb92a849486f3.jpg": "c82bc0aa44c8f4ff793e6886",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/255015e07b6f9137b53b0f97d67a8aef.jpg": "64f06ffc76b9a5ad4a473ebe",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/28c74d9284d9836017fd519f6932efd8.jpg": "e3452c6e5587aa885309e9d8",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/316be81dfdeeb942e904feb3a77f4f83.jpg": "71f6fc8cc78a83830e135f56",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/32d08f4a5eb10332506ebedbb9bc7257.jpg": "d40b292f4fa6cb1e381d3ae9",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/3976a754ef0aca80e84e2c403d714579.jpg": "3f85d1d24453cc8e7ff09de1",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/39f43f280b31152f1d27df3f9d189317.jpg": "4dfcf6f61b92766aeb780f09",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/3cc4a7fc6481ea3681138da4643f3d16.jpg": "2414b72c0a9c56a13af13f1a",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/3ef05501315073d9d4e1c6b654d99ac0.jpg": "3fb85c883dec7c8ab9c8ad5f",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/46f5d9c1b0fe352353688f736e5617b6.jpg": "feaec164e9e82dc15c7206aa",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/4838ece0d3900220d33528ee027289bc.jpg": "b9e4e04c328c4efad86c4358",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/5482a54657765056f1a94116a8dbffe7.jpg": "0e26d62e239592d797c36c29",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/56d4a1bb53241f7c5ed6ab531320a542.jpg": "ba4e8c5babbd7c2c42b9a876",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/59d3b529c78ac722127c41ba75b3355b.jpg": "4da4740e5cd98fcbb924053e",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/5baad44ca4702949724234e35c5bb341.jpg": "94edb818fc508d0a3fc41f0b",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/5bc61724b33e34a6188a817f9f2f8138.jpg": "b448f34477dcd72eece1af13",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/5c67195f6993c9f8d0d32d4ffe0d8e62.jpg": "9a0973a162f2fb64abf53aff",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/75e4bd7544a85af6438497980b62fba5.jpg": "518abfe50c3cae0bf5c5e425",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/7997b6b229f25315d33f5c7085e37500.jpg": "52ccff969f5064a63b97ce0d",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/865db3dd2d380626f16b6f9dc6d62dba.jpg": "6d7082f4ef2f1f5e951879ee",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/8e5e74dbf9b68a322fbb9512db837329.jpg": "195c080bef9528e93660dcc8",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/9efd60f04cd971daa83d3131e6d6f389.jpg": "5ba9961876bb4bb322e6f1b1",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/a7326ba8f3f4559991126474dd30083d.jpg": "9a27a76625772ff84812127d",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/b55977028a3a574336966b6536640fc9.jpg": "0ed9b8368090890d11d2572d",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/ba60305ac83fe3d8ef01da1d9a0ecc79.jpg": "1ae7625e29c678b7a6ee181a",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/c3018ebe53d0046eecb58858ca869a99.jpg": "6f25546c5ba451bc833c23d0",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/d22db5be7594c17a18a047ca9264ea0a.jpg": "cd3d0ae1f0dc5d1db6dea509",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/eecb78b937a7c5f04aae2f5b0f5b5acc.jpg": "d05136c20717e2d7a8860822",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/f6b4389c3cf0f5997b2e5a4b905aea8d.jpg": "e0bd292940cdc1e1fe6a4864",
    "jpeg-decoder/tests/crashtest/images/imagetestsuite/fd44dc63fa7bdd12ee34fc602231ef02.jpg": "9a4e896a175e0fd89a7b8e09",
    "jpeg-decoder/tests/crashtest/images/multiple-0xff-before-eoi.jpg": "042e5e4f7f70b3dbaf043057",
    "jpeg-decoder/tests/crashtest/images/subtract-with-overflow.jpg": "e60a46c939579810bf268162",
    "jpeg-decoder/tests/reftest/images/16bit-qtables.jpg": "7c715a075500c92bfba01b6c",
    "jpeg-decoder/tests/reftest/images/blank_800x280.jpg": "c14173a81e4e3644db38cfb9",
    "jpeg-decoder/tests/reftest/images/extraneous-data.jpg": "d6a5e2c3f397c9b8e844fc74",
    "jpeg-decoder/tests/reftest/images/grayscale_16x24_sampling2x2.jpg": "4ecf448dff678bc32f8da6ca",
    "jpeg-decoder/tests/reftest/images/grayscale_24x16_sampling2x2.jpg": "fd9c53708be958bc78b29b9a",
    "jpeg-decoder/tests/reftest/images/grayscale_large.jpg": "74f938340dce18b4fe70db3b",
    "jpeg-decoder/tests/reftest/images/grayscale_long.jpg": "6265305d42012d5f07118943",
    "jpeg-decoder/tests/reftest/images/grayscale_square.jpg": "a43831e799bf085f01750200",
    "jpeg-decoder/tests/reftest/images/mjpeg.jpg": "70e060e898260a1d2efa7993",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-cmyk-1.jpg": "1faa8838f344e7f85a0f8045",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-cmyk-2.jpg": "6c20c88c7bd3c0d8c3b05ad9",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-gray.jpg": "e40ba9f3bb7a9fa7d3a8e2d7",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-progressive.jpg": "af4960d95993f9eb5b2462b0",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-15x15.jpg": "3115c5dbf5525bf0295bd208",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-16x16.jpg": "d6a5e2c3f397c9b8e844fc74",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-17x17.jpg": "d30d3a01d8978a4f363a9f2f",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-1x1.jpg": "88bc86694559b94e16b494f7",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-2x2.jpg": "76052698d701c3b995d905dd",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-31x31.jpg": "e6e716fc075fb53f4bcf7f3b",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-32x32.jpg": "719ee7f334b15b14a6e6fe5a",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-33x33.jpg": "536ce89738cb295bd7bbc546",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-3x3.jpg": "f68cc9b764462e6b4dfd3658",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-4x4.jpg": "3f260c35d9cd2e947e589ffb",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-5x5.jpg": "69b1e5add76a447d4de41d1f",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-7x7.jpg": "440732578053ea34eabc84d1",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-8x8.jpg": "2958ade59b7fc5a47f3a32d9",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-size-9x9.jpg": "6890294f19b60464c55786af",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-srgb-icc.jpg": "8ed8daa166707573d872e85e",
    "jpeg-decoder/tests/reftest/images/non-interleaved-mcu.jpg": "b47e8c0413cc0320a68f81ae",
    "jpeg-decoder/tests/reftest/images/partial_progressive.jpg": "e3e0f7bc9a3fa75d347d274f",
    "jpeg-decoder/tests/reftest/images/progressive-missing-ac.jpg": "e50537c2013a6e95bbbd312d",
    "jpeg-decoder/tests/reftest/images/progressive-missing-dc.jpg": "b1946f1ae0a4de512da5fde0",
    "jpeg-decoder/tests/reftest/images/progressive3.jpg": "0c23de5106ed3dfe39421b11",
    "jpeg-decoder/tests/reftest/images/restarts.jpg": "f4cc194177626bf9828f6e59",
    "jpeg-decoder/tests/reftest/images/rgb.jpg": "46096e4252c3f4c4ad531f4c",
    "jpeg-decoder/tests/reftest/images/ycck.jpg": "132c517ae7af0a52351abe09",
    "libjpeg-turbo/testimages/testimgint.jpg": "0e01f3aa962482a956515d67",
    "libjpeg-turbo/testimages/testorig.jpg": "2657d06c0645aca916f3cc2a",
}


def coefficient_digest(coefs: JPEGCoefficients) -> str:
    h = hashlib.sha256()
    for comp, q in zip(coefs.components, coefs.quant_tables):
        h.update(np.ascontiguousarray(comp, "<i2").tobytes())
        h.update(np.ascontiguousarray(q.reshape(64), "<u2").tobytes())
    if coefs.progressive:
        for bits, prev in zip(coefs.coef_bits, coefs.prev_coef_bits):
            h.update(np.asarray(bits, "<i4").tobytes())
            h.update(np.asarray(prev[1:10] if prev is not None else [-1] * 9, "<i4").tobytes())
        h.update(str(coefs.last_good_imcu_row).encode())
    return h.hexdigest()[:24]


@needs_corpus
@_rows(lambda r: r["path"] in LIBJPEG_DIGESTS)
def test_coefficients_equal_libjpeg_turbo(row):
    result, _, _ = _read(row)
    assert isinstance(result, JPEGCoefficients), result
    assert coefficient_digest(result) == LIBJPEG_DIGESTS[row["path"]]


def _many_empty_scans(width: int, height: int, nscans: int) -> bytes:
    """A progressive grayscale file followed by many empty DC-refinement scans over the whole frame."""
    import io

    from PIL import Image

    base = io.BytesIO()
    Image.new("L", (width, height), 128).save(base, "JPEG", progressive=True, quality=50)
    data = base.getvalue()
    # DC refinement scan (Ss=Se=0, Ah=1, Al=0): one correction bit per block.
    refine = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10" + b"\x00" * 8
    return data[:-2] + refine * nscans + b"\xff\xd9"


def test_scan_limit_bounds_decoding_time():
    import fdjpeg

    data = _many_empty_scans(64, 64, 1200)
    # The refinement scans warn (a DC refinement of a bit already sent) before the limit is reached.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(JPEGError, match="more than 1000 scans"):
            read_coefficients(data)
    assert any("progression" in str(w.message) for w in caught), [str(w.message) for w in caught]
    with pytest.raises(JPEGError, match="more than 5 scans"):
        fdjpeg.decode(data, max_scans=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fdjpeg.decode(data, max_scans=None).shape == (64, 64)
    with pytest.raises(TypeError):
        read_coefficients(data, max_scans="many")
