"""Hypothesis strategies for property-testing JPEG code: fdjpeg's own tests use them, and so can decoder
teams testing *their* decoders against fdjpeg's files.

    from hypothesis import given
    from fdjpeg.testing import images, encoder_settings

    @given(images(), encoder_settings())
    def test_roundtrip(img, settings): ...

``jpeg_files()`` yields ``(data, pixels)``: a file and the exact pixels libjpeg-turbo decodes from it.

Requires ``hypothesis`` (a test dependency, not a runtime one).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from hypothesis import strategies as st

from .base import photos
from .base.quant import standard
from .decoder.decompress import decode
from .encoder.compress import encode

SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1")
IMAGE_KINDS = ("noise", "gradient", "flat", "photo", "blocks")

#: Sizes that exercise every edge case of the block/MCU grid.
EDGE_SIZES = [(1, 1), (1, 2), (2, 1), (1, 17), (17, 1), (7, 13), (8, 8), (9, 9), (15, 17), (16, 16), (31, 33), (3, 97)]


@cache
def _photos():
    return tuple(photos.load_all())


def _render(kind: str, h: int, w: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        img = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    elif kind == "flat":
        img = np.broadcast_to(rng.integers(0, 256, channels, dtype=np.uint8), (h, w, channels)).copy()
    elif kind == "gradient":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        chans = []
        for _ in range(channels):
            a, b, c = rng.uniform(-8, 8, 3)
            chans.append(np.mod(a * yy + b * xx + c * 40, 256))
        img = np.stack(chans, -1).astype(np.uint8)
    elif kind == "blocks":  # sharp edges at random places: worst case for ringing and chroma
        img = np.zeros((h, w, channels), np.uint8)
        for _ in range(4):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            img[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = rng.integers(0, 256, channels)
    else:  # a crop of a real photo
        photo = _photos()[seed % len(_photos())]
        ph, pw = photo.shape[:2]
        y0 = rng.integers(0, max(ph - h, 0) + 1)
        x0 = rng.integers(0, max(pw - w, 0) + 1)
        crop = photo[y0 : y0 + h, x0 : x0 + w]
        crop = np.pad(crop, ((0, h - crop.shape[0]), (0, w - crop.shape[1]), (0, 0)), mode="edge")
        img = crop if channels == 3 else crop[..., :1]
    return np.ascontiguousarray(img if channels == 3 else img[..., 0])


@st.composite
def images(draw, *, min_side: int = 1, max_side: int = 64, channels=(1, 3), kinds=IMAGE_KINDS):
    """uint8 images: (H, W) grayscale or (H, W, 3) RGB; noise, gradients, flat fields, sharp blocks and
    crops of the bundled photos; sizes biased towards the block-grid edge cases (1x1, 1xN, 7x13...)."""
    sizes = [s for s in EDGE_SIZES if min_side <= min(s) and max(s) <= max_side]
    if sizes and draw(st.booleans()):
        h, w = draw(st.sampled_from(sizes))
    else:
        h = draw(st.integers(min_side, max_side))
        w = draw(st.integers(min_side, max_side))
    c = draw(st.sampled_from(list(channels)))
    kind = draw(st.sampled_from(list(kinds)))
    seed = draw(st.integers(0, 2**32 - 1))
    return _render(kind, h, w, c, seed)


@st.composite
def quant_tables(draw, *, min_value: int = 1, max_value: int = 255):
    """Valid baseline quantization tables (8x8 uint16, natural order): random, scaled Annex K, ramps, constants."""
    style = draw(st.sampled_from(["random", "annex_k", "ramp", "constant"]))
    if style == "random":
        seed = draw(st.integers(0, 2**32 - 1))
        t = np.random.default_rng(seed).integers(min_value, max_value + 1, (8, 8))
    elif style == "annex_k":
        t = standard(draw(st.integers(1, 100)))[draw(st.integers(0, 1))]
    elif style == "ramp":
        lo = draw(st.integers(min_value, max_value))
        step = draw(st.integers(0, 16))
        t = lo + step * np.add.outer(np.arange(8), np.arange(8))
    else:
        t = np.full((8, 8), draw(st.integers(min_value, max_value)))
    return np.clip(t, min_value, max_value).astype(np.uint16)


@st.composite
def encoder_settings(draw, *, subsamplings=SUBSAMPLINGS, metadata: bool = False):
    """Keyword arguments for ``fdjpeg.encode``: quality or custom tables (one or two), subsampling,
    optimized Huffman tables and restart markers."""
    kw: dict = {"subsampling": draw(st.sampled_from(list(subsamplings))), "optimize": draw(st.booleans())}
    choice = draw(st.sampled_from(["quality", "one_table", "two_tables"]))
    if choice == "quality":
        kw["quality"] = draw(st.integers(1, 100))
    elif choice == "one_table":
        kw["tables"] = draw(quant_tables())
    else:
        kw["tables"] = (draw(quant_tables()), draw(quant_tables()))
    restart = draw(st.sampled_from(["none", "interval", "rows"]))
    if restart == "interval":
        kw["restart_interval"] = draw(st.integers(1, 8))
    elif restart == "rows":
        kw["restart_rows"] = draw(st.integers(1, 3))
    if metadata and draw(st.booleans()):
        kw["comment"] = draw(st.binary(min_size=1, max_size=64))
    return kw


def _default_images(max_side: int):
    return images(max_side=max_side)  # the module-level strategy (jpeg_files' argument shadows the name)


@st.composite
def jpeg_files(draw, *, images=None, settings=None, mjpeg: bool = False, max_side: int = 64):
    """``(data, pixels)``: a JPEG file and exactly the pixels libjpeg-turbo's default decode returns for it.

    ``data`` is what ``fdjpeg.encode`` writes for an image drawn from ``images`` (default
    ``images(max_side=max_side)``) with settings drawn from ``settings`` (default
    ``encoder_settings(metadata=True)``: every subsampling, quality or custom tables, standard or
    optimized Huffman tables, restart markers, comments). With ``mjpeg=True`` some files are
    Motion-JPEG frames without DHT (``encode(..., mjpeg=True)``), which a decoder must read with the
    standard tables.

    ``pixels`` is libjpeg-turbo's default decompression (islow IDCT, fancy upsampling, its YCbCr->RGB
    arithmetic): uint8 (H, W) for grayscale files, (H, W, 3) RGB otherwise -- what
    ``np.asarray(PIL.Image.open(f))`` gives with Pillow's bundled libjpeg-turbo, and what ``djpeg``
    writes. It is computed by ``fdjpeg.decode``, which fdjpeg's decoder tests prove pixel-identical to
    libjpeg-turbo on all of these settings (and its interoperability tests check again against
    Pillow and djpeg), so neither Pillow nor libjpeg-turbo is needed to use this strategy. A decoder
    that matches libjpeg-turbo should reproduce ``pixels`` exactly; any other should stay within the
    tolerance its own IDCT and upsampler allow.
    """
    img = draw(images if images is not None else _default_images(max_side))
    kw = dict(draw(settings if settings is not None else encoder_settings(metadata=True)))
    if mjpeg and draw(st.booleans()):
        kw["optimize"] = False
        kw["mjpeg"] = True
    data = encode(img, **kw)
    return data, decode(data)
