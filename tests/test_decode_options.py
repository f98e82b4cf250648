"""decode() options of issue 15 item 4: ``scale`` (libjpeg's reduced-size IDCT), ``mode="BGR"`` /
``mode="YCbCr"`` and ``apply_exif_orientation``, each against its oracle: ``djpeg -scale 1/N`` and Pillow's
``Image.draft`` for scaled decoding, Pillow's YCbCr draft for raw YCbCr output, ``ImageOps.exif_transpose``
for orientation."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageOps

import fdjpeg
from fdjpeg.decoder.idct_scaled import component_scaled_sizes, reconstruct, scale_denominator

from jpeg_craft import craft_jpeg, progressive_view, random_coefficients

DJPEG = shutil.which("djpeg")
CJPEG = shutil.which("cjpeg")
needs_djpeg = pytest.mark.skipif(DJPEG is None, reason="djpeg (libjpeg-turbo) not installed")
needs_cjpeg = pytest.mark.skipif(CJPEG is None or DJPEG is None, reason="cjpeg/djpeg (libjpeg-turbo) not installed")

SIZES = st.one_of(
    st.sampled_from([(1, 1), (7, 13), (13, 7), (8, 8), (9, 1), (1, 17), (16, 16)]),
    st.tuples(st.integers(1, 70), st.integers(1, 70)),
)
SUBSAMPLINGS = ["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"]


def image(width: int, height: int, seed: int, channels: int = 3) -> np.ndarray:
    """Smooth gradient plus noise: exercises both the DC-only shortcuts and the full IDCT paths."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = (xx * 255 // max(width, 1) + yy * 128 // max(height, 1))[..., None] + rng.integers(0, 90, (1, 1, channels))
    img = np.clip(base + rng.integers(-40, 41, (height, width, channels)), 0, 255).astype(np.uint8)
    return img[..., 0] if channels == 1 else img


def djpeg_scaled(data: bytes, denom: int) -> np.ndarray:
    out = subprocess.run([DJPEG, "-scale", f"1/{denom}", "-pnm"], input=data, capture_output=True, check=True).stdout
    return np.asarray(Image.open(io.BytesIO(out)))


def pillow_draft(data: bytes, denom: int, mode: str | None = None) -> np.ndarray | None:
    """Pillow's scaled decode: draft() picks the largest of 1/8, 1/4, 1/2 keeping the size >= requested;
    requesting floor(size / denom) selects exactly 1/denom (None where the image is smaller than denom)."""
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    if denom > 1 and (w < denom or h < denom):
        return None
    im.draft(mode or im.mode, (w // denom, h // denom) if denom > 1 else None)
    assert im.size == (-(-w // denom), -(-h // denom))
    return np.asarray(im)


def cjpeg(img: np.ndarray, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / ("in.ppm" if img.ndim == 3 else "in.pgm")
        Image.fromarray(img).save(src)
        return subprocess.run([CJPEG, *args, str(src)], check=True, capture_output=True).stdout


def assert_scaled_matches(data: bytes, denom: int, *, djpeg: bool = True) -> None:
    ours = fdjpeg.decode(data, scale=1 / denom)
    im = Image.open(io.BytesIO(data))
    assert ours.shape[:2] == (-(-im.size[1] // denom), -(-im.size[0] // denom))
    if djpeg:
        np.testing.assert_array_equal(ours, djpeg_scaled(data, denom))
    ref = pillow_draft(data, denom)
    if ref is not None:
        np.testing.assert_array_equal(ours, ref)


# ---- scale ---------------------------------------------------------------------------------------------


def test_scale_arguments():
    for scale, denom in [(None, 1), (1, 1), (0.5, 2), (0.25, 4), (0.125, 8), ("1/2", 2), ("1/8", 8)]:
        assert scale_denominator(scale) == denom
    from fractions import Fraction

    assert scale_denominator(Fraction(1, 4)) == 4
    data = fdjpeg.encode(image(9, 9, 0))
    for bad in (3 / 8, 0.3, 2, 0, True, "1/3", "half", [0.5]):
        with pytest.raises(ValueError, match="scale"):
            fdjpeg.decode(data, scale=bad)


def test_component_idct_sizes():
    """jdmaster.c: chroma is scaled up by IDCT, not upsampled, where the factors allow."""
    assert component_scaled_sizes([(2, 2), (1, 1), (1, 1)], 2) == [4, 8, 8]
    assert component_scaled_sizes([(2, 1), (1, 1), (1, 1)], 2) == [4, 4, 4]
    assert component_scaled_sizes([(2, 2), (1, 1), (1, 1)], 8) == [1, 2, 2]
    assert component_scaled_sizes([(4, 1), (1, 1), (1, 1)], 4) == [2, 2, 2]
    assert component_scaled_sizes([(1, 1)], 4) == [2]


@needs_djpeg
@given(
    size=SIZES,
    seed=st.integers(0, 2**32 - 1),
    subsampling=st.sampled_from(SUBSAMPLINGS + ["gray"]),
    quality=st.integers(5, 100),
    denom=st.sampled_from([2, 4, 8]),
    restart=st.sampled_from([0, 1, 3]),
)
def test_scaled_fdjpeg_files_match_djpeg_and_pillow(size, seed, subsampling, quality, denom, restart):
    gray = subsampling == "gray"
    img = image(size[0], size[1], seed, 1 if gray else 3)
    data = fdjpeg.encode(img, quality=quality, subsampling=None if gray else subsampling, restart_interval=restart)
    assert_scaled_matches(data, denom)


@needs_djpeg
@given(
    size=SIZES,
    seed=st.integers(0, 2**32 - 1),
    subsampling=st.sampled_from([0, 1, 2]),
    quality=st.integers(5, 100),
    denom=st.sampled_from([2, 4, 8]),
    progressive=st.booleans(),
)
def test_scaled_pillow_files_match_djpeg_and_pillow(size, seed, subsampling, quality, denom, progressive):
    buf = io.BytesIO()
    Image.fromarray(image(size[0], size[1], seed)).save(
        buf, "JPEG", quality=quality, subsampling=subsampling, progressive=progressive
    )
    assert_scaled_matches(buf.getvalue(), denom)


@needs_cjpeg
@pytest.mark.parametrize(
    "sample",
    [
        "1x1",
        "2x2,1x1,1x1",
        "1x2,1x1,1x1",
        "4x2,1x1,1x1",
        "1x1,2x2,1x1",
        "1x4,1x1,1x1",
        "4x1,1x1,1x1",
        "2x1,2x1,2x1",
        "3x1,1x1,1x1",
        "4x1,1x4,1x1",
        "2x1,1x2,1x1",
    ],
)
@given(
    size=SIZES,
    seed=st.integers(0, 2**32 - 1),
    denom=st.sampled_from([2, 4, 8]),
    extra=st.sampled_from(
        [
            (),
            ("-progressive",),
            ("-restart", "1B"),
            ("-progressive", "-restart", "2"),
            ("-arithmetic",),
            ("-grayscale",),
        ]
    ),
)
def test_scaled_cjpeg_samplings(sample, size, seed, denom, extra):
    """Every upsampling case of jinit_upsampler at reduced size: fullsize, h2v1/h1v2/h2v2 fancy (scale
    1/2, 1/4; h2v2 needs a 4x ratio both ways: 4x1,1x4,1x1) or replicated (1/8, narrow planes),
    int_upsample (3x1, 4x2 ratios)."""
    data = cjpeg(image(size[0], size[1], seed), "-quality", "85", "-sample", sample, *extra)
    assert_scaled_matches(data, denom)


@needs_cjpeg
@pytest.mark.parametrize("args", [("-rgb",), ("-rgb", "-progressive")])
def test_scaled_rgb_files(args):
    for seed, (w, h) in enumerate([(1, 1), (31, 17), (64, 48)]):
        data = cjpeg(image(w, h, seed), *args)
        for denom in (2, 4, 8):
            assert_scaled_matches(data, denom)


@given(
    samp=st.sampled_from([[(1, 1)], [(2, 2), (1, 1), (1, 1)], [(1, 2), (1, 1), (1, 1)], [(2, 1), (1, 1), (1, 1)]]),
    width=st.integers(1, 60),
    height=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    denom=st.sampled_from([2, 4, 8]),
    dc_only=st.booleans(),
)
def test_scaled_incomplete_progressive_files_are_smoothed(samp, width, height, seed, denom, dc_only):
    """Block smoothing feeds the reduced IDCTs as it feeds the full one (jdcoefct.c calls the component's
    inverse_DCT, whatever its size)."""
    rng = np.random.default_rng(seed)
    coefs = random_coefficients(rng, width, height, samp, "L" if len(samp) == 1 else "YCbCr")
    script = (lambda ci: [(ci, 0, 0, 0)]) if dc_only else (lambda ci: [(ci, 0, 0, 0), (ci, 1, 5, 1)])
    scans = [s for ci in range(len(samp)) for s in script(ci)]
    data = craft_jpeg(coefs, scans=scans)
    ref = pillow_draft(data, denom)
    if ref is not None:
        np.testing.assert_array_equal(fdjpeg.decode(data, scale=1 / denom), ref)
        np.testing.assert_array_equal(reconstruct(progressive_view(coefs, scans), denom), ref)


@needs_djpeg
@given(
    samp=st.sampled_from([[(1, 1)], [(2, 2), (1, 1), (1, 1)], [(2, 1), (1, 1), (1, 1)]]),
    width=st.integers(8, 48),
    height=st.integers(8, 48),
    seed=st.integers(0, 2**32 - 1),
    denom=st.sampled_from([2, 4, 8]),
    magnitude=st.sampled_from([60, 400, 1023]),
    qmax=st.sampled_from([8, 255]),
)
def test_scaled_hostile_coefficients(samp, width, height, seed, denom, magnitude, qmax):
    """Coefficients far outside any real image's range (dequantized values overflowing 16 bits, samples
    far outside 0..255): the reduced IDCTs reproduce libjpeg-turbo's SSE2 kernels (16-bit dequantization,
    saturating packs), not the C code's wraparound, as Pillow and djpeg run them."""
    rng = np.random.default_rng(seed)
    coefs = random_coefficients(rng, width, height, samp, "L" if len(samp) == 1 else "YCbCr", qmax=qmax)
    for comp in coefs.components:
        comp[...] = np.where(rng.random(comp.shape) < 0.3, rng.integers(-magnitude, magnitude + 1, comp.shape), 0)
    data = craft_jpeg(coefs)
    ours = fdjpeg.decode(data, scale=1 / denom)
    np.testing.assert_array_equal(ours, pillow_draft(data, denom))
    np.testing.assert_array_equal(ours, djpeg_scaled(data, denom))


@given(seed=st.integers(0, 2**32 - 1), qmax=st.sampled_from([1, 16, 100, 255]))
def test_c_reference_idcts_agree_with_sse2_in_range(seed, qmax):
    """The C kernels spec/scaled-decoding.md walks through equal the SSE2 ones decode uses, for
    coefficients from real-looking images (random_coefficients) and DC-only blocks."""
    from fdjpeg.decoder.idct_scaled import _idct_2x2, _idct_2x2_sse2, _idct_4x4, _idct_4x4_sse2

    rng = np.random.default_rng(seed)
    coefs = random_coefficients(rng, 64, 16, [(1, 1)], "L", qmax=qmax)
    q = np.asarray(coefs.quant_tables[0], np.int64).reshape(64)
    blocks = coefs.components[0].reshape(-1, 64).copy()
    blocks[::3, 1:] = 0  # DC-only blocks take the shortcuts
    ws = np.zeros(32, np.int64)
    for blk in blocks:
        for size, c_kernel, simd_kernel in ((4, _idct_4x4, _idct_4x4_sse2), (2, _idct_2x2, _idct_2x2_sse2)):
            a = np.zeros((size, size), np.uint8)
            b = np.ones((size, size), np.uint8)
            c_kernel(blk, q, a, 0, 0, ws)
            simd_kernel(blk, q, b, 0, 0, ws)
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (40, 33)])
def test_scaled_cmyk_files(size):
    """Pillow-written CMYK (Adobe, inverted) files: scaled like any other 4-component file."""
    cmyk = np.dstack([image(size[0], size[1], k, 1) for k in range(4)])
    buf = io.BytesIO()
    Image.fromarray(cmyk, "CMYK").save(buf, "JPEG", quality=90)
    for denom in (2, 4, 8):
        ref = pillow_draft(buf.getvalue(), denom)
        ours = fdjpeg.decode(buf.getvalue(), scale=1 / denom)
        assert ours.shape[2] == 4
        if ref is not None:
            np.testing.assert_array_equal(ours, ref)


def test_scale_with_the_one_pass_defense():
    from fdjpeg import tables

    data = fdjpeg.encode(image(45, 30, 2), quality=95)
    t = tables.preset("released")
    for denom in (2, 8):
        np.testing.assert_array_equal(
            fdjpeg.decode(data, defense=t, scale=1 / denom), fdjpeg.decode(fdjpeg.requantize(data, t), scale=1 / denom)
        )


def test_scale_one_is_the_full_decode():
    data = fdjpeg.encode(image(37, 21, 3), subsampling="4:2:0")
    np.testing.assert_array_equal(fdjpeg.decode(data, scale=1), fdjpeg.decode(data))
    np.testing.assert_array_equal(fdjpeg.decode(data, scale="1/1"), fdjpeg.decode(data))


# ---- mode="BGR", mode="YCbCr" --------------------------------------------------------------------------


@given(size=SIZES, seed=st.integers(0, 2**32 - 1), gray=st.booleans(), denom=st.sampled_from([1, 2, 8]))
def test_bgr_is_rgb_reversed(size, seed, gray, denom):
    data = fdjpeg.encode(image(size[0], size[1], seed, 1 if gray else 3))
    bgr = fdjpeg.decode(data, mode="BGR", scale=1 / denom)
    rgb = fdjpeg.decode(data, mode="RGB", scale=1 / denom)
    assert bgr.flags["C_CONTIGUOUS"] and bgr.shape == rgb.shape
    np.testing.assert_array_equal(bgr, rgb[:, :, ::-1])
    if denom == 1:
        np.testing.assert_array_equal(bgr[:, :, ::-1], np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


@given(
    size=SIZES,
    seed=st.integers(0, 2**32 - 1),
    subsampling=st.sampled_from(SUBSAMPLINGS),
    denom=st.sampled_from([1, 2, 4, 8]),
    progressive=st.booleans(),
)
def test_ycbcr_output_matches_pillow_ycbcr_draft(size, seed, subsampling, denom, progressive):
    """mode="YCbCr": libjpeg's JCS_YCbCr output (upsampled, not colour-converted), as Pillow returns it
    after draft("YCbCr", ...)."""
    img = image(size[0], size[1], seed)
    if progressive:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=80, progressive=True, subsampling=2)
        data = buf.getvalue()
    else:
        data = fdjpeg.encode(img, subsampling=subsampling)
    ref = pillow_draft(data, denom, "YCbCr")
    if ref is None:
        return
    ours = fdjpeg.decode(data, mode="YCbCr", scale=1 / denom)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)


def test_ycbcr_mode_needs_a_ycbcr_file():
    with pytest.raises(fdjpeg.UnsupportedJPEG, match="YCbCr"):
        fdjpeg.decode(fdjpeg.encode(image(8, 8, 0, 1)), mode="YCbCr")
    with pytest.raises(ValueError, match="mode"):
        fdjpeg.decode(fdjpeg.encode(image(8, 8, 0)), mode="YUV")


# ---- apply_exif_orientation ----------------------------------------------------------------------------


def with_exif(img: np.ndarray, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "fdjpeg test"
    return fdjpeg.encode(img, exif=exif.tobytes())


def big_endian_exif(orientation: int) -> bytes:
    """A minimal big-endian ("MM") EXIF block: IFD0 with Orientation and one other entry."""
    entries = [(0x0100, 4, 1, struct.pack(">I", 5)), (0x0112, 3, 1, struct.pack(">HH", orientation, 0))]
    ifd = struct.pack(">H", len(entries)) + b"".join(struct.pack(">HHI", t, ty, n) + v for t, ty, n, v in entries)
    return b"Exif\x00\x00" + b"MM\x00*" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("size", [(7, 13), (16, 9), (1, 1)])
def test_orientation_matches_exif_transpose(orientation, size):
    for gray in (False, True):
        img = image(size[0], size[1], orientation, 1 if gray else 3)
        data = with_exif(img, orientation)
        ref = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
        ours = fdjpeg.decode(data, apply_exif_orientation=True)
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)
        np.testing.assert_array_equal(fdjpeg.decode(data), np.asarray(Image.open(io.BytesIO(data))))
        # with scaling: the transform applies to the reduced image
        small = fdjpeg.decode(data, scale=0.5, apply_exif_orientation=True)
        raw_small = fdjpeg.decode(data, scale=0.5)
        assert small.shape[:2] == (raw_small.shape[:2] if orientation < 5 else raw_small.shape[1::-1])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_big_endian(orientation):
    img = image(11, 6, orientation)
    data = fdjpeg.encode(img, exif=big_endian_exif(orientation)[6:])
    assert b"MM\x00*" in data
    ref = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    np.testing.assert_array_equal(fdjpeg.decode(data, apply_exif_orientation=True), ref)


@pytest.mark.parametrize("damage", ["truncated", "bad-order", "bad-offset", "many-entries"])
def test_damaged_exif_warns_and_is_ignored(damage):
    block = big_endian_exif(6)[6:]
    block = {
        "truncated": block[:12],
        "bad-order": b"XX" + block[2:],
        "bad-offset": block[:4] + struct.pack(">I", 10_000) + block[8:],
        "many-entries": block[:8] + struct.pack(">H", 500) + block[10:],
    }[damage]
    img = image(9, 5, 1)
    data = fdjpeg.encode(img, exif=b"Exif\x00\x00" + block)
    with pytest.warns(fdjpeg.JPEGWarning, match="EXIF"):
        out = fdjpeg.decode(data, apply_exif_orientation=True)
    np.testing.assert_array_equal(out, fdjpeg.decode(data))


def test_no_exif_and_bad_argument():
    data = fdjpeg.encode(image(9, 5, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fdjpeg.decode(data, apply_exif_orientation=True), fdjpeg.decode(data))
    with pytest.raises(TypeError, match="apply_exif_orientation"):
        fdjpeg.decode(data, apply_exif_orientation="yes")


def test_scale_on_12_bit_and_lossless_files_is_refused():
    imagecodecs = pytest.importorskip(
        "imagecodecs", reason="imagecodecs (not in the test extra) writes 12-bit and lossless JPEG"
    )
    img12 = np.random.default_rng(4).integers(0, 4096, (16, 24), dtype=np.uint16)
    for data in (
        bytes(imagecodecs.jpeg8_encode(img12, bitspersample=12)),
        bytes(imagecodecs.jpeg8_encode(img12.astype(np.uint8), lossless=True)),
    ):
        full = fdjpeg.decode(data)
        np.testing.assert_array_equal(fdjpeg.decode(data, scale=1), full)
        with pytest.raises(fdjpeg.UnsupportedJPEG, match="full size only"):
            fdjpeg.decode(data, scale=0.5)
        np.testing.assert_array_equal(fdjpeg.decode(data, apply_exif_orientation=True), full)
