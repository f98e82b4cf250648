"""fdjpeg.decode against libjpeg-turbo (Pillow, and cjpeg for the samplings Pillow cannot write):
exact pixels for random images, sizes, qualities, subsamplings, progressive files, restart markers,
block smoothing of incomplete progressive files, and the mode conversions."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg.base.limits import MAX_PIXELS
from fdjpeg.decoder.decompress import coefficients_to_pixels

pytest.importorskip(
    "fdjpeg.decoder.reader", reason="fdjpeg.decoder.reader (parsing + entropy decoding) not in the tree yet"
)

from jpeg_craft import craft_jpeg, progressive_view, random_coefficients

pytestmark = pytest.mark.oracle

CJPEG = shutil.which("cjpeg")
needs_cjpeg = pytest.mark.skipif(
    CJPEG is None,
    reason="cjpeg not installed (apt-get install libjpeg-turbo-progs): needed for 4:4:0/4:1:1/4:1:0/odd sampling files",
)


def pillow(data: bytes, mode: str | None = None) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    return np.asarray(im if mode is None else im.convert(mode))


def libjpeg_truncated(data: bytes) -> np.ndarray:
    """What libjpeg-turbo makes of a file that ends early: its stdio source (jdatasrc.c) answers every
    read past the end with a fake EOI marker. Pillow's own LOAD_TRUNCATED_IMAGES appends a single EOI,
    which its suspending source can stop short of (leaving black rows), so the EOIs are supplied here."""
    return pillow(data + b"\xff\xd9" * 64)


def decode_quiet(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fdjpeg.JPEGWarning)
        return fdjpeg.decode(data, **kw)


# ---- images ----------------------------------------------------------------------------------------

_PHOTO = None


def _photo() -> np.ndarray:
    global _PHOTO
    if _PHOTO is None:
        _PHOTO = fdjpeg.samples.load("astronaut")
    return _PHOTO


def make_image(kind: str, width: int, height: int, seed: int, gray: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        img = rng.integers(0, 256, (height, width, 3))
    elif kind == "gradient":
        y, x = np.mgrid[0:height, 0:width]
        a = rng.integers(-6, 7, size=(2, 3))
        img = (y[..., None] * a[0] + x[..., None] * a[1] + rng.integers(0, 256, 3)) % 256
    elif kind == "flat":
        img = np.broadcast_to(rng.integers(0, 256, 3), (height, width, 3))
    else:  # a crop of a photo, tiled if the request is larger
        photo = _photo()
        y0 = int(rng.integers(0, photo.shape[0] - min(height, photo.shape[0]) + 1))
        x0 = int(rng.integers(0, photo.shape[1] - min(width, photo.shape[1]) + 1))
        img = np.resize(photo[y0 : y0 + height, x0 : x0 + width], (height, width, 3))
    img = np.ascontiguousarray(img, dtype=np.uint8)
    return np.ascontiguousarray(img[..., 1]) if gray else img


SIZES = st.one_of(
    st.sampled_from([(1, 1), (1, 17), (17, 1), (7, 13), (13, 7), (8, 8), (16, 16), (15, 17), (33, 65)]),
    st.tuples(st.integers(1, 96), st.integers(1, 96)),
)


@st.composite
def pillow_files(draw):
    width, height = draw(SIZES)
    gray = draw(st.booleans()) and draw(st.booleans())
    img = make_image(
        draw(st.sampled_from(["noise", "gradient", "flat", "photo"])),
        width,
        height,
        draw(st.integers(0, 2**32 - 1)),
        gray,
    )
    kw = {"quality": draw(st.integers(1, 100)), "progressive": draw(st.booleans()), "optimize": draw(st.booleans())}
    if not gray:
        kw["subsampling"] = draw(st.sampled_from([0, 1, 2]))  # 4:4:4, 4:2:2, 4:2:0
    restart = draw(st.sampled_from([None, "blocks", "rows"]))
    if restart == "blocks":
        kw["restart_marker_blocks"] = draw(st.integers(1, 8))
    elif restart == "rows":
        kw["restart_marker_rows"] = draw(st.integers(1, 3))
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **kw)
    return buf.getvalue()


@given(data=pillow_files())
def test_pillow_files_decode_exactly(data):
    assert np.array_equal(fdjpeg.decode(data), pillow(data))


@given(data=pillow_files(), mode=st.sampled_from(["RGB", "L"]))
def test_mode_conversion_matches_pillow_convert(data, mode):
    assert np.array_equal(fdjpeg.decode(data, mode=mode), pillow(data, mode))


@pytest.mark.parametrize("name", fdjpeg.samples.NAMES)
@pytest.mark.parametrize("subsampling", [0, 1, 2])
@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_photos(name, subsampling, progressive):
    buf = io.BytesIO()
    Image.fromarray(fdjpeg.samples.load(name)).save(
        buf, "JPEG", quality=85, subsampling=subsampling, progressive=progressive
    )
    assert np.array_equal(fdjpeg.decode(buf.getvalue()), pillow(buf.getvalue()))


def test_baseline_and_progressive_copies_decode_identically():
    """Go's image/jpeg test: the same coefficients in a sequential and a progressive file give the
    same pixels (a complete progressive file is not smoothed)."""
    img = make_image("photo", 120, 90, 1, False)
    out = []
    for progressive in (False, True):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=90, progressive=progressive)
        out.append(fdjpeg.decode(buf.getvalue()))
    assert np.array_equal(out[0], out[1])


@given(
    width=st.integers(1, 80),
    height=st.integers(1, 80),
    seed=st.integers(0, 2**32 - 1),
    subsampling=st.sampled_from(["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"]),
    quality=st.integers(1, 100),
    gray=st.booleans(),
)
def test_fdjpeg_encoded_files(width, height, seed, subsampling, quality, gray):
    data = fdjpeg.encode(make_image("photo", width, height, seed, gray), quality=quality, subsampling=subsampling)
    assert np.array_equal(fdjpeg.decode(data), pillow(data))


# ---- cjpeg: the samplings Pillow does not write ---------------------------------------------------------

CJPEG_SAMPLINGS = [
    "1x2,1x1,1x1",  # 4:4:0
    "4x1,1x1,1x1",  # 4:1:1
    "4x2,1x1,1x1",  # 4:1:0
    "2x2,1x2,1x1",
    "2x1,1x2,1x1",
    "3x1,1x1,1x1",
    "1x3,1x1,1x1",
    "3x2,1x1,1x1",
    "2x3,1x1,1x1",
    "2x2,2x1,1x1",
    "4x1,2x1,1x1",
    "1x4,1x2,1x1",
    "1x1,2x2,1x1",
    "2x1,2x1,2x1",
]


def cjpeg(img: np.ndarray, *args: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / ("in.ppm" if img.ndim == 3 else "in.pgm")
        Image.fromarray(img).save(src)
        return subprocess.run([CJPEG, *args, str(src)], check=True, capture_output=True).stdout


@needs_cjpeg
@pytest.mark.parametrize("sample", CJPEG_SAMPLINGS)
@given(
    size=SIZES,
    seed=st.integers(0, 2**32 - 1),
    quality=st.integers(1, 100),
    extra=st.sampled_from(
        [(), ("-progressive",), ("-restart", "1B"), ("-optimize",), ("-progressive", "-restart", "2")]
    ),
)
def test_cjpeg_samplings(sample, size, seed, quality, extra):
    img = make_image(["photo", "noise", "gradient"][seed % 3], size[0], size[1], seed, False)
    data = cjpeg(img, "-quality", str(quality), "-sample", sample, *extra)
    assert np.array_equal(fdjpeg.decode(data), pillow(data))


@needs_cjpeg
@pytest.mark.parametrize(
    "args",
    [
        ("-grayscale",),
        ("-grayscale", "-sample", "2x2"),
        ("-rgb",),
        ("-rgb", "-progressive"),
        ("-grayscale", "-progressive"),
        ("-sample", "2x2,1x1,1x1", "-dct", "float"),
    ],
)
def test_cjpeg_colour_spaces(args):
    for seed, (w, h) in enumerate([(1, 1), (31, 17), (64, 48)]):
        data = cjpeg(make_image("photo", w, h, seed, False), *args)
        for mode in (None, "RGB", "L"):
            assert np.array_equal(fdjpeg.decode(data, mode=mode), pillow(data, mode))


# ---- progressive block smoothing ----------------------------------------------------------------------

SMOOTHING_SCRIPTS = {
    "dc-only": lambda ci, rng: [(ci, 0, 0, int(rng.integers(0, 3)))],
    "low-ac-coarse": lambda ci, rng: [(ci, 0, 0, 0), (ci, 1, 5, 1), (ci, 6, 63, 0)],
    "first-two-ac": lambda ci, rng: [(ci, 0, 0, 0), (ci, 1, 2, 0)],
    "all-coarse": lambda ci, rng: [(ci, 0, 0, 1), (ci, 1, 63, 2)],
    "complete": lambda ci, rng: [(ci, 0, 0, 0), (ci, 1, 63, 0)],
}


@pytest.mark.parametrize("script", list(SMOOTHING_SCRIPTS))
@given(
    samp=st.sampled_from(
        [
            [(1, 1)],
            [(2, 2)],
            [(2, 2), (1, 1), (1, 1)],
            [(1, 2), (1, 1), (1, 1)],
            [(1, 3), (1, 1), (1, 1)],
            [(4, 4), (2, 2), (1, 1)],
            [(1, 1), (1, 1), (1, 1)],
        ]
    ),
    width=st.integers(1, 90),
    height=st.integers(1, 90),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_smoothing_of_incomplete_progressive_files(script, samp, width, height, seed):
    """Files whose scans stop short of full precision are smoothed (jdcoefct.c decompress_smooth_data)
    exactly as libjpeg-turbo does; both from the coefficients alone and through the reader."""
    rng = np.random.default_rng(seed)
    coefs = random_coefficients(rng, width, height, samp, "L" if len(samp) == 1 else "YCbCr")
    scans = [s for ci in range(len(samp)) for s in SMOOTHING_SCRIPTS[script](ci, rng)]
    data = craft_jpeg(coefs, scans=scans)
    ref = pillow(data)
    assert np.array_equal(coefficients_to_pixels(progressive_view(coefs, scans)), ref)
    assert np.array_equal(fdjpeg.decode(data), ref)


@given(data=pillow_files(), cut=st.floats(0.0, 1.0))
def test_truncated_files_decode_like_libjpeg(data, cut):
    """A file cut anywhere in its entropy-coded data decodes as libjpeg-turbo decodes it: the missing
    coefficients are zero and, for progressive files, the blocks past the cut are smoothed with the
    progression state from before the interrupted scan."""
    sos = data.find(b"\xff\xda")
    end = sos + 4 + int((len(data) - 2 - sos - 4) * cut)
    cut_data = data[:end]
    try:
        ref = libjpeg_truncated(cut_data)
    except OSError:  # libjpeg rejects it (cut inside a marker segment)
        with pytest.raises(fdjpeg.JPEGError):
            decode_quiet(cut_data)
        return
    assert np.array_equal(decode_quiet(cut_data), ref)


# ---- inputs and limits --------------------------------------------------------------------------------


def test_input_types(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(make_image("photo", 40, 30, 0, False)).save(buf, "JPEG")
    data = buf.getvalue()
    ref = pillow(data)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    for src in (data, bytearray(data), memoryview(data), str(path), path, io.BytesIO(data)):
        assert np.array_equal(fdjpeg.decode(src), ref)
    with open(path, "rb") as f:
        assert np.array_equal(fdjpeg.decode(f), ref)
    with pytest.raises(TypeError):
        fdjpeg.decode(12345)
    with pytest.raises(ValueError, match="mode"):
        fdjpeg.decode(data, mode="CMYK")


def test_max_pixels():
    assert MAX_PIXELS == Image.MAX_IMAGE_PIXELS == 1024 * 1024 * 1024 // 4 // 3
    buf = io.BytesIO()
    Image.fromarray(make_image("flat", 100, 50, 0, True)).save(buf, "JPEG")
    with pytest.raises(fdjpeg.JPEGError):
        fdjpeg.decode(buf.getvalue(), max_pixels=4999)
    assert fdjpeg.decode(buf.getvalue(), max_pixels=5000).shape == (50, 100)
    assert fdjpeg.decode(buf.getvalue(), max_pixels=None).shape == (50, 100)
    with pytest.raises(TypeError):
        fdjpeg.decode(buf.getvalue(), max_pixels=1.5)


def test_output_shapes_and_dtype():
    for img in (make_image("noise", 9, 5, 0, True), make_image("noise", 9, 5, 0, False)):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG")
        out = fdjpeg.decode(buf.getvalue())
        assert out.dtype == np.uint8 and out.shape == img.shape and out.flags.c_contiguous
