"""Progressive arithmetic encoding (SOF10) against libjpeg-turbo.

``encode(..., progressive=True, arithmetic=True)`` must write the bytes of ``cjpeg -progressive
-arithmetic`` and ``write_coefficients(..., progressive=True, arithmetic=True)`` those of ``jpegtran
-progressive -arithmetic``: random images of every size class (1x1 and odd sizes included), every
subsampling, quality or custom tables, restart intervals in MCUs or rows; coefficient sets that reach
every branch of the refinement model. The files carry the baseline file's coefficients, so they decode
to the baseline file's pixels. Pillow cannot write arithmetic coding: cjpeg/jpegtran (libjpeg-turbo-progs)
are the oracles, and the tests needing them skip with the reason.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import read_coefficients, write_coefficients
from fdjpeg.testing import EDGE_SIZES, SUBSAMPLINGS, images

from helpers import JPEGTRAN, cjpeg_encode, first_difference, needs_cjpeg, needs_jpegtran
from strategies import coefficient_sets, progressive_settings, segment_markers


def _arith(settings_: dict) -> dict:
    kw = {k: v for k, v in settings_.items() if k != "optimize"}  # optimize is refused with arithmetic
    kw["arithmetic"] = True
    kw["progressive"] = True
    return kw


def _assert_same(ours: bytes, theirs: bytes) -> None:
    assert ours == theirs, first_difference(ours, theirs)


def _jpegtran(data: bytes, *extra: str) -> bytes:
    return subprocess.run(
        [JPEGTRAN, "-progressive", "-arithmetic", "-copy", "none", *extra], input=data, check=True, capture_output=True
    ).stdout


@needs_cjpeg
@given(images(max_side=40), progressive_settings())
def test_bytes_equal_cjpeg(img, settings_):
    kw = _arith(settings_)
    ours = fdjpeg.encode(img, **kw)
    _assert_same(ours, cjpeg_encode(img, **kw))
    base = fdjpeg.encode(img, **{k: v for k, v in kw.items() if k not in ("arithmetic", "progressive")})
    assert read_coefficients(ours) == read_coefficients(base)
    assert np.array_equal(fdjpeg.decode(ours), fdjpeg.decode(base))


@needs_cjpeg
@pytest.mark.parametrize("shape", [s for s in EDGE_SIZES if s in ((1, 1), (1, 17), (17, 1), (7, 13), (9, 9), (31, 33))])
@pytest.mark.parametrize("subsampling", [*SUBSAMPLINGS, "gray"])
@pytest.mark.parametrize("restart", [{}, {"restart_interval": 1}, {"restart_rows": 1}])
def test_bytes_equal_cjpeg_edge_sizes(shape, subsampling, restart):
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, shape if subsampling == "gray" else (*shape, 3), dtype=np.uint8)
    kw = {"quality": 83, "progressive": True, "arithmetic": True, **restart}
    if subsampling != "gray":
        kw["subsampling"] = subsampling
    _assert_same(fdjpeg.encode(img, **kw), cjpeg_encode(img, **kw))


@needs_cjpeg
def test_real_photo_every_subsampling_and_quality():
    photo = fdjpeg.samples.load("coffee")[:120, :150]
    for quality in (10, 50, 95, 100):
        for subsampling in SUBSAMPLINGS:
            kw = {"quality": quality, "subsampling": subsampling, "progressive": True, "arithmetic": True}
            _assert_same(fdjpeg.encode(photo, **kw), cjpeg_encode(photo, **kw))


def test_scan_headers_follow_libjpeg():
    """SOF10, no DHT; a DAC segment (libjpeg's defaults) before every scan that uses a conditioned table,
    none before the DC refinement scan; the 10 scans of the simple progression."""
    photo = fdjpeg.samples.load("coffee")[:40, :56]
    segs = segment_markers(fdjpeg.encode(photo, quality=80, progressive=True, arithmetic=True, restart_interval=4))
    codes = [c for c, _ in segs]
    assert 0xCA in codes and 0xC4 not in codes and 0xC9 not in codes
    assert codes.count(0xDA) == 10
    dac = None
    for code, payload in segs:
        if code == 0xCC:
            dac = payload
        if code != 0xDA:
            continue
        ns = payload[0]
        tables = payload[2 : 2 + 2 * ns : 2]
        ss, _se, ahal = payload[1 + 2 * ns : 4 + 2 * ns]
        if ss == 0 and ahal >> 4:  # DC refinement: no conditioned table, no DAC, selectors written as 0
            assert dac is None and set(tables) == {0}
        elif ss == 0:  # DC first: luma table 0, chroma 1; L=0 U=1 for each (jcmarker.c emit_dac)
            assert [t >> 4 for t in tables] == [0, 1, 1] and dac == bytes.fromhex("00100110")
        else:  # one AC table per AC scan, Kx=5
            assert dac == bytes((0x10 + (tables[0] & 15), 5))
        dac = None
    assert codes.count(0xDD) == 1  # DRI once: the interval never changes


@needs_jpegtran
@given(coefficient_sets(), st.sampled_from([{}, {"restart_interval": 3}, {"restart_rows": 1}]))
@settings(max_examples=40)
def test_write_coefficients_equals_jpegtran(coefs, restart):
    baseline = write_coefficients(coefs, optimize=True)
    args = {"restart_interval": ("-restart", "3B"), "restart_rows": ("-restart", "1")}
    extra = next((args[k] for k in restart), ())
    ours = write_coefficients(coefs, progressive=True, arithmetic=True, **restart)
    _assert_same(ours, _jpegtran(baseline, *extra))
    again = read_coefficients(ours)
    assert again.progressive and again == read_coefficients(baseline)


@needs_jpegtran
@given(images(min_side=1, max_side=40), st.sampled_from(["4:4:4", "4:2:0", "4:1:1"]))
@settings(max_examples=20)
def test_write_coefficients_of_an_image_equals_jpegtran_and_baseline_pixels(img, subsampling):
    src = fdjpeg.encode(img, quality=85, subsampling=subsampling if img.ndim == 3 else None)
    ours = write_coefficients(read_coefficients(src), progressive=True, arithmetic=True)
    _assert_same(ours, _jpegtran(src))
    assert np.array_equal(fdjpeg.decode(ours), fdjpeg.decode(src))


def test_extreme_coefficients_are_coded_without_error():
    """Arithmetic coding has no 10/11-bit category limit: the largest int16 values round-trip."""
    comps = np.zeros((2, 2, 8, 8), np.int16)
    comps[0, 0, 0, 0] = 32767
    comps[0, 1, 0, 0] = -32768
    comps[1, 1, 0, 1] = -32768
    comps[1, 0, 7, 7] = 32767
    coefs = fdjpeg.JPEGCoefficients(
        width=16,
        height=16,
        components=[comps],
        quant_tables=[np.ones((8, 8), np.uint16)],
        sampling=[(1, 1)],
        component_ids=[1],
        colorspace="L",
    )
    data = write_coefficients(coefs, progressive=True, arithmetic=True)
    assert read_coefficients(data) == coefs


def test_command_line_option(tmp_path):
    img = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "in.png")
    cmd = [
        sys.executable,
        "-m",
        "fdjpeg",
        "encode",
        str(tmp_path / "in.png"),
        "-o",
        str(tmp_path / "out.jpg"),
        "--quality",
        "80",
        "--arithmetic",
        "--progressive",
        "--restart-rows",
        "1",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    assert (tmp_path / "out.jpg").read_bytes() == fdjpeg.encode(
        img, quality=80, arithmetic=True, progressive=True, restart_rows=1
    )


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"mjpeg": True}, "mjpeg"),
        ({"profile": "baseline-hw"}, "profile"),
        ({"optimize": True}, "optimize"),
    ],
)
def test_refused_combinations(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        fdjpeg.encode(np.zeros((8, 8, 3), np.uint8), progressive=True, arithmetic=True, **kwargs)
