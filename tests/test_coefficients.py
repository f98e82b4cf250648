"""Coefficient access: read_coefficients / write_coefficients round trips, lossless transcoding."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import JPEGCoefficients, read_coefficients, write_coefficients
from fdjpeg.testing import images
from oracle import CJPEG, needs_cjpeg, pillow_decode

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "conformance"


def _pillow_file(img, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **kw)
    return buf.getvalue()


@given(images(max_side=48), st.sampled_from(["4:4:4", "4:2:2", "4:2:0"]), st.booleans(), st.booleans(),
       st.integers(1, 100), st.integers(0, 3))
def test_round_trip_keeps_every_coefficient(img, subsampling, progressive, optimize, quality, restart):
    kw = {"quality": quality, "progressive": progressive}
    if img.ndim == 3:
        kw["subsampling"] = subsampling
    if restart:
        kw["restart_marker_blocks"] = restart
    src = _pillow_file(img, **kw)
    coefs = read_coefficients(src)
    out = write_coefficients(coefs, optimize=optimize, restart_interval=restart)
    again = read_coefficients(out)
    assert again == coefs
    # A complete file's pixels depend only on its coefficients: the transcode is lossless.
    assert np.array_equal(pillow_decode(out), pillow_decode(src))
    assert not again.progressive and out[:2] == b"\xff\xd8"


def test_progressive_to_baseline_transcode_of_a_photo():
    photo = fdjpeg.samples.load("coffee")
    src = _pillow_file(photo, quality=88, progressive=True, optimize=True)
    out = write_coefficients(read_coefficients(src), optimize=True)
    assert read_coefficients(out) == read_coefficients(src)
    assert np.array_equal(fdjpeg.decode(out), fdjpeg.decode(src))
    assert np.array_equal(pillow_decode(out), pillow_decode(src))


def test_our_own_files_round_trip_byte_for_byte():
    img = fdjpeg.samples.load("chelsea")
    for settings in ({}, {"optimize": True}, {"subsampling": "4:1:1", "restart_interval": 5}):
        data = fdjpeg.encode(img, quality=70, **settings)
        coefs = read_coefficients(data)
        again = write_coefficients(coefs, optimize=settings.get("optimize", False),
                                   restart_interval=settings.get("restart_interval", 0))
        assert again == data


@needs_cjpeg
@pytest.mark.parametrize("sample", ["2x1,1x2,1x1", "4x2,1x1,1x1", "3x1,1x1,1x1", "1x1,2x2,1x1"])
def test_odd_sampling_factors_round_trip(tmp_path, sample):
    import subprocess

    img = np.random.default_rng(len(sample)).integers(0, 256, (37, 51, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "in.ppm")
    src = subprocess.run([CJPEG, "-sample", sample, str(tmp_path / "in.ppm")], check=True, capture_output=True).stdout
    coefs = read_coefficients(src)
    out = write_coefficients(coefs)
    assert read_coefficients(out) == coefs
    assert np.array_equal(pillow_decode(out), pillow_decode(src))


def test_metadata_is_kept_unless_asked():
    img = np.full((16, 16, 3), 90, np.uint8)
    icc = bytearray(300)
    icc[36:40] = b"acsp"
    src = fdjpeg.encode(img, comment="hello", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00", icc_profile=bytes(icc))
    out = write_coefficients(read_coefficients(src))
    header = fdjpeg.read_header(out)
    assert header.exif.startswith(b"Exif\x00\x00II*") and header.icc_profile == bytes(icc)
    assert b"hello" in out
    bare = write_coefficients(read_coefficients(src), keep_metadata=False)
    assert b"hello" not in bare and b"ICC_PROFILE" not in bare and b"Exif" not in bare


@pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").exists(), reason=f"conformance corpus not found at {CORPUS}")
def test_corpus_files_round_trip():
    """Every 8-bit corpus file fdjpeg reads (CMYK, YCCK, RGB, 16-bit DQT, odd samplings, MJPEG...)."""
    import csv
    import warnings

    done = 0
    with open(CORPUS / "MANIFEST.tsv", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["category"] in ("baseline", "extended", "progressive")]
    for row in rows:
        data = (CORPUS / row["path"]).read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                coefs = read_coefficients(data)
        except fdjpeg.UnsupportedJPEG:
            continue
        if coefs.colorspace not in ("L", "YCbCr", "RGB", "CMYK", "YCCK") or coefs.precision != 8:
            continue  # write_coefficients writes 8-bit files only
        out = write_coefficients(coefs)
        assert read_coefficients(out) == coefs, row["path"]
        if coefs.coef_bits is None:  # complete files: same pixels
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert np.array_equal(fdjpeg.decode(out), fdjpeg.decode(data)), row["path"]
        done += 1
    assert done >= 35


def test_bad_coefficients_are_refused():
    good = read_coefficients(fdjpeg.encode(np.zeros((16, 16, 3), np.uint8)))
    import dataclasses

    with pytest.raises(TypeError, match="int16"):
        write_coefficients(dataclasses.replace(good, components=[c.astype(np.int32) for c in good.components]))
    with pytest.raises(ValueError, match="shape"):
        write_coefficients(dataclasses.replace(good, components=[c[:1] for c in good.components]))
    with pytest.raises(ValueError, match="ids"):
        write_coefficients(dataclasses.replace(good, component_ids=[1, 1, 2]))
    big = [c.copy() for c in good.components]
    big[0][0, 0, 3, 3] = 2000
    with pytest.raises(ValueError, match="out of range"):
        write_coefficients(dataclasses.replace(good, components=big))
    with pytest.raises(ValueError, match="quant_tables"):
        write_coefficients(dataclasses.replace(good, quant_tables=[np.zeros((8, 8), np.uint16)] * 3))
