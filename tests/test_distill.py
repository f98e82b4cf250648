"""Feature distillation as codec features: distill == decode(encode), the one-pass defense in the
coefficient domain, and the two-pass mechanism on real photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import samples, tables
from fdjpeg.coefficients import JPEGCoefficients
from fdjpeg.distill import distill, requantize_coefficients
from fdjpeg.encoder import image_to_coefficients
from fdjpeg.testing import images, quant_tables
from oracle import pillow_decode, pillow_encode

ALL_SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1")


@given(images(max_side=40), st.sampled_from(ALL_SUBSAMPLINGS), quant_tables(), st.booleans())
def test_distill_equals_decode_of_encode(img, subsampling, table, two_tables):
    t = (table, np.flipud(table).copy()) if two_tables else table
    data = fdjpeg.encode(img, t, subsampling=subsampling)
    expected = pillow_decode(data)  # libjpeg-turbo's decode of our (libjpeg-identical) file
    assert np.array_equal(distill(img, t, subsampling=subsampling), expected)


def test_distill_equals_fdjpeg_decode_of_encode():
    img = samples.load("rocket")[:150, :211]
    for subsampling in ALL_SUBSAMPLINGS:
        data = fdjpeg.encode(img, tables.preset("paper"), subsampling=subsampling)
        assert np.array_equal(distill(img, tables.preset("paper"), subsampling=subsampling), fdjpeg.decode(data))


def test_distill_batches_and_layouts():
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 256, (5, 17, 23, 3), dtype=np.uint8)
    t = tables.preset("released")
    out = distill(batch, t)
    assert out.shape == batch.shape and out.dtype == np.uint8
    for k in range(5):
        assert np.array_equal(out[k], distill(batch[k], t))
    # float NHWC and NCHW in [0, 1]: same dtype, layout and range back; values are the uint8 result / 255
    f = batch.astype(np.float32) / 255
    nhwc = distill(f, t)
    assert nhwc.dtype == np.float32 and nhwc.shape == f.shape
    np.testing.assert_allclose(nhwc * 255, out, atol=1e-3)
    nchw = distill(f.transpose(0, 3, 1, 2).astype(np.float64), t, channels_first=True)
    assert nchw.dtype == np.float64 and nchw.shape == (5, 3, 17, 23)
    np.testing.assert_allclose(nchw.transpose(0, 2, 3, 1) * 255, out, atol=1e-9)
    gray = batch[..., 0]
    assert np.array_equal(distill(gray[0], t), pillow_decode(fdjpeg.encode(gray[0], t)))
    assert np.array_equal(distill(gray[..., None], t)[..., 0][2], distill(gray[2], t))


@pytest.mark.parametrize("shape", [(517, 999, 3), (520, 512, 3), (300, 901, 1), (33, 40, 3)])
def test_distill_strips_of_one_image_equal_the_batch_kernel(shape):
    """Large single images are split into row strips across the threads (_distill_444_image); the
    result equals the one-image-per-thread kernel, padding rows included; and the public call equals
    Pillow's round trip whichever kernel it picks."""
    from fdjpeg.dct import quant_divisors
    from fdjpeg.distill import _distill_444_batch, _distill_444_image

    rng = np.random.default_rng(sum(shape))
    img = samples.load("rocket")
    img = np.resize(img, shape[:2] + (3,))[..., : shape[2]] ^ rng.integers(0, 8, shape, dtype=np.uint8)
    img = np.ascontiguousarray(img)
    luma, chroma = tables.preset("paper"), np.flipud(tables.preset("paper")).copy()
    args = (quant_divisors(luma), quant_divisors(chroma), luma.astype(np.int64).reshape(64),
            chroma.astype(np.int64).reshape(64))
    by_batch = np.empty((1,) + shape, np.uint8)
    _distill_444_batch(img[None], *args, by_batch)
    by_strips = np.empty(shape, np.uint8)
    _distill_444_image.parallel(img, *args, by_strips)  # the threaded kernel, whatever the size
    assert np.array_equal(by_strips, by_batch[0])
    if shape[2] == 3:
        expected = pillow_decode(pillow_encode(img, tables=(luma, chroma), subsampling="4:4:4"))
        assert np.array_equal(distill(img, (luma, chroma)), expected)


@pytest.mark.parametrize(
    "images_, kwargs, exc",
    [
        (np.zeros((4, 4, 3), np.int32), {}, TypeError),
        (np.zeros((4, 4, 5), np.uint8), {}, ValueError),
        (np.zeros((2, 4, 4, 2), np.uint8), {}, ValueError),
        (np.zeros((0, 4, 4, 3), np.uint8), {}, ValueError),
        (np.full((4, 4, 3), np.nan), {}, ValueError),
        (np.zeros((4, 4, 3), np.uint8), {"subsampling": "4:2:1"}, ValueError),
        (np.zeros((4, 4, 3), np.uint8), {"channels_first": True}, ValueError),
    ],
)
def test_distill_rejects_bad_input(images_, kwargs, exc):
    with pytest.raises(exc):
        distill(images_, tables.preset("paper"), **kwargs)
    with pytest.raises(ValueError):
        distill(np.zeros((4, 4, 3), np.uint8), np.zeros((8, 8)))


# -------------------------------------------------------------------------------------------------
# Two-pass defense, first half: the crafted table travels in an ordinary file.


@pytest.mark.parametrize("name", sorted(tables.PRESETS))
def test_two_pass_file_carries_the_table_and_decodes_everywhere(name):
    img = samples.load("chelsea")
    table = tables.preset(name)
    data = fdjpeg.encode(img, table, subsampling="4:4:4")
    im = Image.open(io.BytesIO(data))
    assert set(im.quantization) == {0}  # one DQT table, used by all three components
    assert np.array_equal(np.array(im.quantization[0]).reshape(8, 8), table)
    assert np.array_equal(np.asarray(im), fdjpeg.decode(data))
    assert data == pillow_encode(img, tables=table, subsampling="4:4:4")


# -------------------------------------------------------------------------------------------------
# One-pass defense: decode(defense=) and requantize agree, and any decoder reads requantize's output.


@given(images(min_side=1, max_side=40, channels=(3, 1)), quant_tables(), quant_tables(), st.booleans(), st.booleans())
def test_requantize_matches_defended_decode(img, source_table, defense_table, progressive, optimize):
    buf = io.BytesIO()
    kw = {"qtables": [[int(v) for v in source_table.reshape(64)]], "progressive": progressive}
    if img.ndim == 3:
        kw["subsampling"] = "4:2:0"
    Image.fromarray(img).save(buf, "JPEG", **kw)
    src = buf.getvalue()
    out = fdjpeg.requantize(src, defense_table, optimize=optimize)
    defended = fdjpeg.decode(src, defense=defense_table)
    assert np.array_equal(fdjpeg.decode(out), defended)
    assert np.array_equal(pillow_decode(out), defended)  # a standard file: libjpeg-turbo agrees
    q = Image.open(io.BytesIO(out)).quantization
    assert all(np.array_equal(np.array(t).reshape(8, 8), defense_table) for t in q.values())


def test_requantize_keeps_metadata_and_is_idempotent():
    img = samples.load("coffee")[:64, :96]
    src = fdjpeg.encode(img, quality=92, comment="keep me", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00")
    t = tables.preset("paper")
    once = fdjpeg.requantize(src, t)
    assert b"keep me" in once and b"Exif\x00\x00MM" in once
    assert fdjpeg.requantize(once, t) == once  # a second pass with the same table changes nothing
    assert fdjpeg.read_coefficients(fdjpeg.requantize(src, t)) == requantize_coefficients(fdjpeg.read_coefficients(src), t)


def test_requantize_rounds_half_away_from_zero_and_clamps():
    blocks = np.zeros((1, 1, 8, 8), np.int16)
    blocks[0, 0, 0, 1] = 3  # 3 * 10 / 4 = 7.5 -> 8
    blocks[0, 0, 0, 2] = -3  # -> -8
    blocks[0, 0, 0, 3] = 1  # 10 / 4 = 2.5 -> 3
    blocks[0, 0, 1, 0] = 500  # 5000 -> clamped to 1023
    blocks[0, 0, 0, 0] = -300  # -3000 -> clamped to -1024
    coefs = JPEGCoefficients(8, 8, [blocks], [np.full((8, 8), 10, np.uint16)], [(1, 1)], [1], "L")
    new = np.full((8, 8), 4, np.uint16)
    new[1, 0] = new[0, 0] = 1
    out = requantize_coefficients(coefs, new).components[0][0, 0]
    assert out[0, 1] == 8 and out[0, 2] == -8 and out[0, 3] == 3 and out[1, 0] == 1023 and out[0, 0] == -1024


@given(seed=st.integers(0, 2**32 - 1), nblocks=st.sampled_from([1, 4095, 4097, 9000]))
def test_requantize_coefficients_equals_numpy_reference(seed, nblocks):
    """Many blocks (several parallel tasks), random coefficients over the whole baseline range, random
    16-bit file tables and random crafted tables: equal to the arithmetic written out in NumPy."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(-2048, 2048, (1, nblocks, 8, 8)).astype(np.int16)
    blocks[rng.random(blocks.shape) < 0.8] = 0  # mostly zeros, as in real files
    q_file = rng.integers(1, 65536, (8, 8)).astype(np.uint16)
    q_new = rng.integers(1, 256, (8, 8)).astype(np.uint16)
    coefs = JPEGCoefficients(8 * nblocks, 8, [blocks], [q_file], [(1, 1)], [1], "L")
    got = requantize_coefficients(coefs, q_new).components[0]
    v = blocks.astype(np.int64) * q_file.astype(np.int64)
    d = q_new.astype(np.int64)
    want = np.sign(v) * ((np.abs(v) + d // 2) // d)
    low = np.full((8, 8), -1023)
    low[0, 0] = -1024  # DC keeps the whole 11-bit range; AC is symmetric (baseline: |AC| <= 1023)
    want = np.clip(want, low, 1023)
    np.testing.assert_array_equal(got, want.astype(np.int16))


# -------------------------------------------------------------------------------------------------
# The mechanism (DESIGN.md): after a two-pass encode, a small L-inf perturbation of the decoded image is
# rounded away in the malicious-defense band by the one-pass defense; a quality-90 table does not do that.


def _coefficients(img: np.ndarray) -> JPEGCoefficients:
    """The image's coefficients at quality 100 (all-ones tables): how a lossless-ish transport stores it."""
    ones = [np.ones((8, 8), np.uint16)]
    layout, blocks, tq = image_to_coefficients(img, ones, "4:4:4")
    comps = [b.reshape(b.shape[0], b.shape[1], 8, 8) for b in blocks]
    return JPEGCoefficients(layout.width, layout.height, comps, [ones[0]] * 3, list(layout.sampling), [1, 2, 3], "YCbCr")


def _agreement(table, eps255: int, seed: int) -> tuple[float, float]:
    """Fractions of (malicious-defense-band, all) coefficients that the one-pass defense restores
    exactly after a random +-eps perturbation of the two-pass decoded photos."""
    md = tables.preset("paper").reshape(64) == 40  # the paper preset's malicious-defense band
    rng = np.random.default_rng(seed)
    counts = np.zeros(4, np.int64)  # equal_md, total_md, equal_all, total_all
    for name in samples.NAMES:
        decoded = distill(samples.load(name), table)  # decode(encode(x, table)): the two-pass first half
        attacked = np.clip(decoded.astype(np.int16) + rng.choice([-eps255, eps255], decoded.shape), 0, 255).astype(np.uint8)
        clean = requantize_coefficients(_coefficients(decoded), table)
        defended = requantize_coefficients(_coefficients(attacked), table)
        for a, b in zip(clean.components, defended.components):
            same = a.reshape(-1, 64) == b.reshape(-1, 64)
            counts += [same[:, md].sum(), same[:, md].size, same.sum(), same.size]
    return counts[0] / counts[1], counts[2] / counts[3]


def test_two_pass_mechanism_on_real_photos():
    eps255 = 1  # an L-inf perturbation well under s_md / 16 = 2.5 (pixel units)
    fd_md, fd_all = _agreement(tables.preset("paper"), eps255, seed=0)
    q90_md, q90_all = _agreement(tables.standard(90), eps255, seed=0)
    print(
        f"coefficients restored after +-{eps255}/255 noise: paper preset {fd_md:.4%} of the malicious-defense band "
        f"({fd_all:.2%} of all); quality 90 {q90_md:.4%} of that band ({q90_all:.2%} of all)"
    )
    assert fd_md >= 0.99
    # Quality 90 quantizes every frequency finely: it does not restore 99% of the coefficients...
    assert q90_all < 0.99
    # ...and even in the high-frequency band, where its steps are largest, it leaves at least 100x more
    # coefficients perturbed than the feature-distillation table.
    assert (1 - q90_md) >= 100 * (1 - fd_md)
