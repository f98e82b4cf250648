"""Progressive encoding (encode / write_coefficients / requantize with progressive=True) against
libjpeg-turbo's jpeg_simple_progression: Pillow ``save(progressive=True)``, ``cjpeg -progressive`` and
``jpegtran -progressive`` must write the same bytes. Also: the same coefficients and pixels as the
baseline file, and the EOB-run and correction-bit-buffer limits of jcphuff.c."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fdjpeg
from fdjpeg import JPEGCoefficients, read_coefficients, write_coefficients
from fdjpeg.encoder.progressive import simple_progression
from fdjpeg.encoder.progressive_scan import MAX_CORR_BITS, MAX_EOBRUN
from fdjpeg.testing import EDGE_SIZES, SUBSAMPLINGS, images, quant_tables

from helpers import (
    PILLOW_SUBSAMPLING,
    cjpeg_encode,
    first_difference,
    jpegtran_progressive,
    needs_cjpeg,
    needs_jpegtran,
    oracle_encode,
    pillow_encode,
)
from strategies import coefficient_sets, progressive_settings, segment_markers

pytestmark = pytest.mark.oracle


def _assert_same(ours: bytes, theirs: bytes) -> None:
    assert ours == theirs, first_difference(ours, theirs)


# ---- byte equality with libjpeg-turbo -------------------------------------------------------------


@given(images(max_side=48), progressive_settings(subsamplings=PILLOW_SUBSAMPLING))
def test_bytes_equal_pillow(img, settings):
    _assert_same(fdjpeg.encode(img, **settings), pillow_encode(img, **settings))


@needs_cjpeg
@given(images(max_side=40, channels=(3,)), progressive_settings())
def test_bytes_equal_cjpeg_every_subsampling(img, settings):
    _assert_same(fdjpeg.encode(img, **settings), cjpeg_encode(img, **settings))


@pytest.mark.parametrize("shape", [s for s in EDGE_SIZES if s in ((1, 1), (1, 17), (17, 1), (7, 13), (9, 9), (31, 33))])
@pytest.mark.parametrize("subsampling", [*SUBSAMPLINGS, "gray"])
def test_bytes_equal_edge_sizes(shape, subsampling):
    rng = np.random.default_rng(sum(shape))
    img = rng.integers(0, 256, shape if subsampling == "gray" else (*shape, 3), dtype=np.uint8)
    settings = {"quality": 83, "progressive": True}
    if subsampling != "gray":
        settings["subsampling"] = subsampling
    _assert_same(fdjpeg.encode(img, **settings), oracle_encode(img, **settings))


def test_real_photo_every_quality_matches_pillow():
    photo = fdjpeg.samples.load("astronaut")[:200, :232]
    for quality in (1, 10, 50, 75, 90, 95, 100):
        for subsampling in PILLOW_SUBSAMPLING:
            settings = {"quality": quality, "subsampling": subsampling, "progressive": True}
            _assert_same(fdjpeg.encode(photo, **settings), pillow_encode(photo, **settings))


@pytest.mark.parametrize("restart", [{"restart_rows": 1}, {"restart_rows": 3}, {"restart_interval": 7}])
def test_restart_markers_match_pillow_and_dri_follows_each_scan(restart):
    photo = fdjpeg.samples.load("chelsea")[:77, :93]
    settings = {"quality": 80, "subsampling": "4:2:0", "progressive": True, **restart}
    ours = fdjpeg.encode(photo, **settings)
    _assert_same(ours, pillow_encode(photo, **settings))
    dri = [int.from_bytes(p, "big") for code, p in segment_markers(ours) if code == 0xDD]
    if "restart_rows" in restart:
        # Interleaved DC scans count 6 MCUs per row, luma AC scans 12 blocks, chroma AC scans 6.
        r = restart["restart_rows"]
        assert dri == [6 * r, 12 * r, 6 * r, 12 * r, 6 * r, 12 * r]
    else:
        assert dri == [7]  # one DRI: the interval never changes


def test_grayscale_and_colour_scripts():
    assert [tuple(s) for s in simple_progression(3, True)] == [
        ((0, 1, 2), 0, 0, 0, 1),
        ((0,), 1, 5, 0, 2),
        ((2,), 1, 63, 0, 1),
        ((1,), 1, 63, 0, 1),
        ((0,), 6, 63, 0, 2),
        ((0,), 1, 63, 2, 1),
        ((0, 1, 2), 0, 0, 1, 0),
        ((2,), 1, 63, 1, 0),
        ((1,), 1, 63, 1, 0),
        ((0,), 1, 63, 1, 0),
    ]
    assert [tuple(s) for s in simple_progression(1, False)] == [
        ((0,), 0, 0, 0, 1),
        ((0,), 1, 5, 0, 2),
        ((0,), 6, 63, 0, 2),
        ((0,), 1, 63, 2, 1),
        ((0,), 0, 0, 1, 0),
        ((0,), 1, 63, 1, 0),
    ]
    assert len(simple_progression(3, False)) == 14 and len(simple_progression(4, False)) == 18
    img = fdjpeg.samples.load("coffee")[:40, :40]
    for pixels, nscans in ((img, 10), (img[..., 0], 6)):
        data = fdjpeg.encode(pixels, progressive=True)
        segs = segment_markers(data)
        assert [c for c, _ in segs if c in (0xC0, 0xC1, 0xC2)] == [0xC2]
        assert sum(c == 0xDA for c, _ in segs) == nscans


def test_eob_run_longer_than_0x7fff_is_split_like_libjpeg():
    """A flat image: every AC band of every block is zero, so one EOB run would span all 33,024 blocks;
    libjpeg codes it when it reaches 0x7FFF (jcphuff.c) and starts a new one."""
    img = np.full((1032, 2048), 117, np.uint8)
    assert (1032 // 8) * (2048 // 8) > MAX_EOBRUN
    settings = {"quality": 75, "progressive": True}
    _assert_same(fdjpeg.encode(img, **settings), pillow_encode(img, **settings))


@needs_cjpeg
def test_output_buffer_grows_for_incompressible_data():
    """Noise at quality 100 needs far more than the few bytes per block the coder allocates first, so
    the buffer doubles and the scan that did not fit is coded again."""
    img = np.random.default_rng(7).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    settings = {"quality": 100, "subsampling": "4:4:4", "progressive": True}
    ours = fdjpeg.encode(img, **settings)
    # First allocation: 16 KiB + 6 bytes per scan block (2 DC scans x 1200 blocks, 8 AC scans x 400).
    assert len(ours) > 16384 + 6 * (2 * 1200 + 8 * 400)
    # (Pillow refuses this one: its output buffer for progressive files is too small, "broken data stream".)
    _assert_same(ours, cjpeg_encode(img, **settings))


# ---- write_coefficients / requantize against jpegtran -progressive --------------------------------


@needs_jpegtran
@given(coefficient_sets(), st.sampled_from([{}, {"restart_interval": 3}, {"restart_rows": 1}]))
def test_write_coefficients_equals_jpegtran(coefs, restart):
    baseline = write_coefficients(coefs, optimize=True)
    args = {"restart_interval": ("-restart", "3B"), "restart_rows": ("-restart", "1")}
    extra = next((args[k] for k in restart), ())
    ours = write_coefficients(coefs, progressive=True, **restart)
    _assert_same(ours, jpegtran_progressive(baseline, *extra))
    again = read_coefficients(ours)
    assert again.progressive and again == read_coefficients(baseline)


@needs_jpegtran
def test_correction_bit_buffer_limit():
    """Blocks whose refinement band holds only correction bits (every coefficient was already nonzero)
    and a trailing zero join one EOB run; libjpeg codes the run once more than MAX_CORR_BITS - 63
    correction bits are buffered. 60 blocks x 62 bits overflows the 1000-bit buffer several times."""
    comps = np.full((6, 10, 64), 2, np.int16)
    comps[:, :, ::3] *= -1
    comps[:, :, 63] = 0
    comps[:, :, 0] = 40
    coefs = JPEGCoefficients(
        width=80,
        height=48,
        components=[comps.reshape(6, 10, 8, 8)],
        quant_tables=[np.full((8, 8), 4, np.uint16)],
        sampling=[(1, 1)],
        component_ids=[1],
        colorspace="L",
    )
    assert 60 * 62 > 3 * MAX_CORR_BITS
    _assert_same(write_coefficients(coefs, progressive=True), jpegtran_progressive(write_coefficients(coefs)))


@needs_jpegtran
@given(images(max_side=40), progressive_settings(subsamplings=PILLOW_SUBSAMPLING), quant_tables())
@settings(max_examples=20)
def test_requantize_keeps_progressive_and_equals_baseline_path(img, settings, table):
    kw = {k: v for k, v in settings.items() if k not in ("restart_interval", "restart_rows")}
    if img.ndim == 2:  # jpegtran writes one component as 1x1 whatever the source's factors: use that default
        kw.pop("subsampling", None)
    src = fdjpeg.encode(img, **kw)
    out = fdjpeg.requantize(src, table)
    assert read_coefficients(out).progressive
    via_baseline = fdjpeg.requantize(fdjpeg.encode(img, **{**kw, "progressive": False}), table)
    assert not read_coefficients(via_baseline).progressive
    assert read_coefficients(out) == read_coefficients(via_baseline)
    assert np.array_equal(fdjpeg.decode(out), fdjpeg.decode(via_baseline))
    _assert_same(out, jpegtran_progressive(via_baseline))
    assert fdjpeg.requantize(src, table, progressive=False) == via_baseline
    assert fdjpeg.requantize(fdjpeg.encode(img, **{**kw, "progressive": False}), table, progressive=True) == out


# ---- same coefficients, same pixels as the baseline file ------------------------------------------


@given(images(max_side=48), progressive_settings())
@settings(max_examples=25)
def test_same_coefficients_and_pixels_as_baseline(img, settings):
    prog = fdjpeg.encode(img, **settings)
    base = fdjpeg.encode(img, **{**settings, "progressive": False})
    a, b = read_coefficients(prog), read_coefficients(base)
    assert a.progressive and not b.progressive
    assert a == b
    assert np.array_equal(fdjpeg.decode(prog), fdjpeg.decode(base))


def test_encode_to_writes_progressive(tmp_path):
    img = fdjpeg.samples.load("rocket")[:30, :50]
    n = fdjpeg.encode_to(tmp_path / "p.jpg", img, progressive=True, quality=70)
    data = (tmp_path / "p.jpg").read_bytes()
    assert n == len(data) and data == fdjpeg.encode(img, progressive=True, quality=70)


# ---- arguments ------------------------------------------------------------------------------------

IMG = np.zeros((16, 16, 3), np.uint8)


@pytest.mark.parametrize(
    "kwargs, exc, fragment",
    [
        ({"progressive": "yes"}, TypeError, "progressive"),
        ({"progressive": 1}, TypeError, "progressive"),
        ({"progressive": True, "mjpeg": True}, ValueError, "progressive"),
        ({"progressive": True, "profile": "baseline-hw"}, ValueError, "progressive"),
    ],
)
def test_bad_arguments_raise_named_errors(kwargs, exc, fragment):
    with pytest.raises(exc, match=fragment):
        fdjpeg.encode(IMG, **kwargs)


def test_optimize_makes_no_difference_in_progressive_mode():
    img = fdjpeg.samples.load("coffee")[:33, :45]
    assert fdjpeg.encode(img, progressive=True, optimize=False) == fdjpeg.encode(img, progressive=True, optimize=True)


def test_bad_progressive_argument_of_write_coefficients_and_requantize():
    data = fdjpeg.encode(IMG)
    with pytest.raises(TypeError, match="progressive"):
        write_coefficients(read_coefficients(data), progressive="no")
    with pytest.raises(TypeError, match="progressive"):
        fdjpeg.requantize(data, np.full((8, 8), 3), progressive=0)


@pytest.mark.parametrize("where, value", [((0, 0), 32767), ((0, 1), 5000), ((3, 2), -4096)])
def test_out_of_range_coefficients_raise_value_error(where, value):
    """What 8-bit progressive coding cannot carry is refused with a ValueError, never a crash:
    a DC difference of 32767 >> 1 needs 14 bits; grayscale AC scans have Al = 2, so |AC| 5000 >> 2 and
    4096 >> 2 need 11 bits where libjpeg allows 10 (while 4095 >> 2 would still fit)."""
    comps = np.zeros((2, 2, 8, 8), np.int16)
    comps[1, 1][where] = value
    coefs = JPEGCoefficients(
        width=16,
        height=16,
        components=[comps],
        quant_tables=[np.ones((8, 8), np.uint16)],
        sampling=[(1, 1)],
        component_ids=[1],
        colorspace="L",
    )
    with pytest.raises(ValueError, match="out of range"):
        write_coefficients(coefs, progressive=True)
