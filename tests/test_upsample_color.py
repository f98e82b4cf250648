"""Upsampling (jdsample.c) and colour conversion (jdcolor.c, Pillow's Convert.c), bit-exact against
libjpeg-turbo through Pillow. Files are written from chosen coefficients (jpeg_craft), so these tests
do not depend on fdjpeg's reader."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fdjpeg.base import errors as fdjpeg_errors
from fdjpeg.base.coefficients import JPEGCoefficients
from fdjpeg.base.errors import UnsupportedJPEG
from fdjpeg.decoder.color import YCC_RGB_TABLES, cmyk_to_rgb, convert_mode, rgb_to_luma, ycbcr_to_rgb
from fdjpeg.decoder.decompress import coefficients_to_pixels
from fdjpeg.decoder.upsample import upsample, upsample_method

from jpeg_craft import craft_jpeg, random_coefficients

pytestmark = pytest.mark.oracle


def pillow(data: bytes, mode: str | None = None) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    return np.asarray(im if mode is None else im.convert(mode))


# ---- upsampling ------------------------------------------------------------------------------------

#: Sampling factor sets covering every jdsample.c method: fullsize, h2v1 (fancy and box), h1v2 fancy,
#: h2v2 (fancy and box), int_upsample (3x, 4x, mixed), and chroma larger than luma.
SAMPLINGS = [
    [(1, 1), (1, 1), (1, 1)],
    [(2, 1), (1, 1), (1, 1)],
    [(2, 2), (1, 1), (1, 1)],
    [(1, 2), (1, 1), (1, 1)],
    [(4, 1), (1, 1), (1, 1)],
    [(4, 2), (1, 1), (1, 1)],
    [(2, 2), (1, 2), (1, 1)],
    [(2, 2), (2, 1), (1, 2)],
    [(3, 1), (1, 1), (1, 1)],
    [(1, 3), (1, 1), (1, 1)],
    [(3, 3), (1, 1), (3, 1)],
    [(4, 4), (2, 2), (1, 1)],
    [(2, 4), (1, 2), (2, 1)],
    [(1, 1), (2, 2), (1, 1)],
    [(2, 2)],
    [(1, 1)],
]


@given(
    samp=st.sampled_from(SAMPLINGS),
    width=st.integers(1, 80),
    height=st.integers(1, 80),
    seed=st.integers(0, 2**32 - 1),
)
def test_upsampling_matches_pillow(samp, width, height, seed):
    coefs = random_coefficients(np.random.default_rng(seed), width, height, samp, "L" if len(samp) == 1 else "YCbCr")
    assert np.array_equal(coefficients_to_pixels(coefs), pillow(craft_jpeg(coefs)))


@pytest.mark.parametrize("samp", SAMPLINGS, ids=lambda s: ",".join(f"{h}x{v}" for h, v in s))
@pytest.mark.parametrize("size", [(1, 1), (1, 9), (9, 1), (2, 17), (3, 3), (16, 16), (17, 33), (33, 17)])
def test_upsampling_edges_every_method(samp, size):
    """Tiny and odd sizes: the fancy filters' first/last column and row, and the <= 2 wide fallback."""
    width, height = size
    coefs = random_coefficients(
        np.random.default_rng(width * 100 + height), width, height, samp, "L" if len(samp) == 1 else "YCbCr"
    )
    assert np.array_equal(coefficients_to_pixels(coefs), pillow(craft_jpeg(coefs)))


def test_upsample_method_selection():
    assert upsample_method(1, 1, 5) == "fullsize"
    assert upsample_method(2, 1, 3) == "h2v1_fancy"
    assert upsample_method(2, 1, 2) == "h2v1"
    assert upsample_method(1, 2, 1) == "h1v2_fancy"
    assert upsample_method(2, 2, 3) == "h2v2_fancy"
    assert upsample_method(2, 2, 2) == "h2v2"
    assert upsample_method(3, 1, 9) == "int"
    assert upsample_method(4, 4, 9) == "int"


def test_fancy_h2v1_formula():
    src = np.array([[0, 100, 200, 40]], np.uint8)
    out = upsample(src, 2, 1, 8, 1, 4, 1)
    a, b, c, d = 0, 100, 200, 40
    expect = [
        a,
        (3 * a + b + 2) >> 2,
        (3 * b + a + 1) >> 2,
        (3 * b + c + 2) >> 2,
        (3 * c + b + 1) >> 2,
        (3 * c + d + 2) >> 2,
        (3 * d + c + 1) >> 2,
        d,
    ]
    assert out[0].tolist() == expect


def test_fractional_sampling_unsupported():
    coefs = random_coefficients(np.random.default_rng(0), 16, 16, [(3, 1), (2, 1), (1, 1)], "YCbCr")
    with pytest.raises(UnsupportedJPEG, match="fractional"):
        coefficients_to_pixels(coefs)


# ---- colour conversion -------------------------------------------------------------------------------


def test_ycc_tables_against_formula():
    x = np.arange(256) - 128
    assert np.array_equal(YCC_RGB_TABLES[0], np.floor(91881 * x / 65536 + 0.5).astype(int))  # FIX(1.402)
    assert np.array_equal(YCC_RGB_TABLES[1], np.floor(116130 * x / 65536 + 0.5).astype(int))  # FIX(1.772)
    assert YCC_RGB_TABLES[2, 0] == 46802 * 128 and YCC_RGB_TABLES[3, 255] == -22554 * 127 + 32768


def test_ycc_arithmetic_equals_tables_everywhere():
    """The decoder converts by arithmetic (it vectorizes); for all 2**24 (Y, Cb, Cr) triples that equals
    jdcolor.c's table lookups."""
    x = np.arange(256)
    cb, cr = (a.reshape(-1) for a in np.meshgrid(x, x, indexing="ij"))
    r_off = YCC_RGB_TABLES[0][cr]
    g_off = (YCC_RGB_TABLES[3][cb] + YCC_RGB_TABLES[2][cr]) >> 16
    b_off = YCC_RGB_TABLES[1][cb]
    c8 = cb.astype(np.uint8)[None].repeat(16, 0)
    r8 = cr.astype(np.uint8)[None].repeat(16, 0)
    for y0 in range(0, 256, 16):
        y = np.arange(y0, y0 + 16)[:, None] + np.zeros(cb.size, int)
        expect = np.stack([np.clip(y + off, 0, 255) for off in (r_off, g_off, b_off)], axis=-1)
        assert np.array_equal(ycbcr_to_rgb(y.astype(np.uint8), c8, r8), expect)


def _flat_block_image(y, cb, cr):
    """A 4:4:4 YCbCr file of flat 8x8 blocks, one per (y, cb, cr) triple (quantizer 8: DC = value - 128)."""
    n = len(y)
    side = int(np.ceil(np.sqrt(n)))
    comps = []
    for plane in (y, cb, cr):
        c = np.zeros((side, side, 8, 8), np.int16)
        flat = np.full(side * side, 128)
        flat[:n] = plane
        c[:, :, 0, 0] = flat.reshape(side, side) - 128
        comps.append(c)
    q = np.full((8, 8), 8, np.uint16)
    return JPEGCoefficients(side * 8, side * 8, comps, [q] * 3, [(1, 1)] * 3, [1, 2, 3], "YCbCr")


@pytest.mark.parametrize("y", [0, 77, 128, 255])
def test_ycbcr_to_rgb_every_chroma_pair(y):
    """Every (Cb, Cr) pair at a few luma values decodes to exactly Pillow's RGB."""
    cb, cr = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    coefs = _flat_block_image(np.full(65536, y), cb.reshape(-1), cr.reshape(-1))
    assert np.array_equal(coefficients_to_pixels(coefs), pillow(craft_jpeg(coefs)))


def test_ycbcr_to_rgb_random_triples():
    rng = np.random.default_rng(3)
    y, cb, cr = (rng.integers(0, 256, 20000) for _ in range(3))
    coefs = _flat_block_image(y, cb, cr)
    ref = pillow(craft_jpeg(coefs))
    assert np.array_equal(coefficients_to_pixels(coefs), ref)
    direct = ycbcr_to_rgb(*(c.astype(np.uint8).reshape(1, -1) for c in (y, cb, cr)))
    assert np.array_equal(direct[0], ref[::8, ::8].reshape(-1, 3)[: len(y)])


# (markers, Adobe transform, components, colour space libjpeg infers, component ids)
COLOURSPACES = [
    ("jfif", None, 1, "L", None),
    ("jfif", None, 3, "YCbCr", None),
    ("adobe", 1, 3, "YCbCr", None),
    ("none", None, 3, "YCbCr", [5, 6, 7]),
    ("adobe", 0, 3, "RGB", None),
    ("none", None, 3, "RGB", [82, 71, 66]),
    ("adobe", 0, 4, "CMYK", None),
    ("none", None, 4, "CMYK", None),
    ("adobe", 2, 4, "YCCK", None),
]


@pytest.mark.parametrize("case", COLOURSPACES, ids=lambda c: f"{c[3]}-{c[0]}")
@pytest.mark.parametrize("mode", [None, "RGB", "L"])
def test_colour_spaces_and_modes_match_pillow(case, mode):
    """Grayscale, YCbCr, RGB, CMYK and YCCK files, returned as Pillow returns them (CMYK inverted) and
    converted as Image.convert does."""
    markers, transform, n, colorspace, ids = case
    rng = np.random.default_rng(n * 10 + (transform or 0))
    for samp in ([(1, 1)] * n, [(2, 2)] + [(1, 1)] * (n - 1)):
        coefs = random_coefficients(rng, 37, 21, samp, colorspace, ids=ids, scale=400)
        data = craft_jpeg(coefs, markers=markers, adobe_transform=transform)
        got = convert_mode(coefficients_to_pixels(coefs), mode)
        assert np.array_equal(got, pillow(data, mode))


@given(seed=st.integers(0, 2**32 - 1), h=st.integers(1, 20), w=st.integers(1, 20))
def test_mode_conversions_match_image_convert(seed, h, w):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    cmyk = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
    assert np.array_equal(rgb_to_luma(rgb), np.asarray(Image.fromarray(rgb, "RGB").convert("L")))
    assert np.array_equal(cmyk_to_rgb(cmyk), np.asarray(Image.fromarray(cmyk, "CMYK").convert("RGB")))
    assert np.array_equal(convert_mode(cmyk, "L"), np.asarray(Image.fromarray(cmyk, "CMYK").convert("L")))
    assert np.array_equal(convert_mode(gray, "RGB"), np.asarray(Image.fromarray(gray, "L").convert("RGB")))
    assert convert_mode(gray, "L") is gray and convert_mode(rgb, "RGB") is rgb
    with pytest.raises(ValueError, match="mode"):
        convert_mode(rgb, "CMYK")


def test_coefficients_to_pixels_rejects_inconsistent_input():
    rng = np.random.default_rng(0)
    coefs = random_coefficients(rng, 16, 16, [(1, 1)] * 3, "YCbCr")
    coefs.colorspace = "CMYK"
    with pytest.raises(UnsupportedJPEG, match="4 components"):
        coefficients_to_pixels(coefs)
    coefs.colorspace = "Lab"
    with pytest.raises(UnsupportedJPEG, match="colour space"):
        coefficients_to_pixels(coefs)
    coefs.colorspace = "YCbCr"
    coefs.components[1] = coefs.components[1][:1]
    with pytest.raises(fdjpeg_errors.JPEGError, match="does not cover"):
        coefficients_to_pixels(coefs)
    with pytest.raises(ValueError, match="arithmetic"):
        coefficients_to_pixels(random_coefficients(rng, 8, 8, [(1, 1)], "L"), arithmetic="fast")
