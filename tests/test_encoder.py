"""The encoder against libjpeg-turbo: byte-for-byte equality (Pillow, cjpeg) and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fdjpeg
from fdjpeg.testing import encoder_settings, images
from oracle import first_difference, needs_cjpeg, cjpeg_encode, pillow_encode


@given(images(max_side=48), encoder_settings(subsamplings=("4:4:4", "4:2:2", "4:2:0")))
def test_bytes_equal_pillow(img, settings):
    ours = fdjpeg.encode(img, **settings)
    theirs = pillow_encode(img, **settings)
    assert ours == theirs, first_difference(ours, theirs)


@needs_cjpeg
@given(images(max_side=40, channels=(3,)), encoder_settings())
def test_bytes_equal_cjpeg_every_subsampling(img, settings):
    ours = fdjpeg.encode(img, **settings)
    theirs = cjpeg_encode(img, **settings)
    assert ours == theirs, first_difference(ours, theirs)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 57, 3), (57, 1, 3), (7, 13, 3), (13, 7), (3, 4097), (4097, 3, 3)])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_bytes_equal_pillow_edge_sizes(shape, subsampling):
    img = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    for optimize in (False, True):
        ours = fdjpeg.encode(img, subsampling=subsampling, optimize=optimize, restart_interval=3)
        theirs = pillow_encode(img, subsampling=subsampling, optimize=optimize, restart_interval=3)
        assert ours == theirs, first_difference(ours, theirs)


def test_real_photo_every_quality_matches_pillow():
    photo = fdjpeg.samples.load("coffee")[:128, :160]
    for q in (1, 2, 10, 25, 49, 50, 51, 75, 90, 95, 99, 100):
        for subsampling in ("4:4:4", "4:2:0"):
            ours = fdjpeg.encode(photo, quality=q, subsampling=subsampling)
            assert ours == pillow_encode(photo, quality=q, subsampling=subsampling), (q, subsampling)


def test_grayscale_subsampling_sets_the_component_sampling_factors_only():
    """Issue 11 item 5: an explicit subsampling on a 2-D image writes libjpeg-turbo's factors (2x2 for
    4:2:0...) for the single component; the coded data is that of 1x1 (tests/test_api.py compares bytes)."""
    img = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    assert fdjpeg.encode(img) == fdjpeg.encode(img, subsampling="4:4:4") == pillow_encode(img)
    files = {s: fdjpeg.encode(img, subsampling=s) for s in ("4:4:4", "4:2:0", "4:1:1")}
    assert len(set(files.values())) == 3
    assert len({f.split(b"\xff\xda")[1] for f in files.values()}) == 1  # same scan, different SOF


def test_single_table_is_used_for_every_component_and_written_once():
    table = np.full((8, 8), 7)
    data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8), table)
    assert data.count(b"\xff\xdb") == 1
    assert data.count(b"\xff\xdb\x00\x43\x00" + bytes([7] * 64)) == 1


def test_metadata_matches_pillow():
    from PIL import Image

    img = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x010E] = "fdjpeg test"
    exif_bytes = exif.tobytes()
    icc = _fake_icc(70000)  # needs two APP2 chunks
    ours = fdjpeg.encode(img, comment="hello, JPEG", exif=exif_bytes, icc_profile=icc)
    theirs = pillow_encode(img, comment=b"hello, JPEG", exif=exif_bytes, icc_profile=icc)
    assert ours == theirs, first_difference(ours, theirs)
    assert ours.count(b"ICC_PROFILE\x00\x01\x02") == 1 and ours.count(b"ICC_PROFILE\x00\x02\x02") == 1
    # EXIF given without its "Exif\0\0" header gets one.
    assert fdjpeg.encode(img, exif=exif_bytes[6:]) == fdjpeg.encode(img, exif=exif_bytes)


def _fake_icc(size: int) -> bytes:
    body = bytearray(size)
    body[0:4] = size.to_bytes(4, "big")
    body[36:40] = b"acsp"
    return bytes(body)


@pytest.mark.parametrize(
    "image, kwargs, exc, fragment",
    [
        (np.zeros((8, 8), np.float32), {}, TypeError, "uint8"),
        ([[0, 1], [2, 3]], {}, TypeError, "numpy uint8 array"),
        (np.zeros((8, 8, 4), np.uint8), {}, ValueError, "alpha"),
        (np.zeros((8, 8, 2), np.uint8), {}, ValueError, "shape"),
        (np.zeros((0, 8), np.uint8), {}, ValueError, "size"),
        (np.zeros((2, 2, 2, 3), np.uint8), {}, ValueError, "shape"),
        (np.zeros((8, 8), np.uint8), {"quality": 0}, ValueError, "quality"),
        (np.zeros((8, 8), np.uint8), {"quality": 101}, ValueError, "quality"),
        (np.zeros((8, 8), np.uint8), {"quality": 75.0}, TypeError, "quality"),
        (np.zeros((8, 8), np.uint8), {"quality": 50, "tables": np.ones((8, 8))}, ValueError, "not both"),
        (np.zeros((8, 8), np.uint8), {"tables": np.zeros((8, 8))}, ValueError, "tables[0][0]"),
        (np.zeros((8, 8), np.uint8), {"tables": np.full((8, 8), 256)}, ValueError, "1..255"),
        (np.zeros((8, 8), np.uint8), {"tables": np.ones((7, 8))}, ValueError, "8x8"),
        (np.zeros((8, 8), np.uint8), {"tables": np.full((8, 8), 1.5)}, ValueError, "integers"),
        (np.zeros((8, 8), np.uint8), {"tables": [np.ones((8, 8))] * 4}, ValueError, "two"),  # 3: one per component
        (np.zeros((8, 8), np.uint8), {"tables": [np.ones((8, 8)), np.zeros((8, 8))]}, ValueError, "tables[1]"),
        (np.zeros((8, 8, 3), np.uint8), {"subsampling": "4:2:1"}, ValueError, "subsampling"),
        (np.zeros((8, 8), np.uint8), {"restart_interval": -1}, ValueError, "restart_interval"),
        (np.zeros((8, 8), np.uint8), {"restart_interval": 70000}, ValueError, "restart_interval"),
        (np.zeros((8, 8), np.uint8), {"restart_interval": 2, "restart_rows": 1}, ValueError, "not both"),
        (np.zeros((8, 8), np.uint8), {"optimize": "yes"}, TypeError, "optimize"),
        (np.zeros((8, 8), np.uint8), {"comment": b"x" * 70000}, ValueError, "comment"),
        (np.zeros((8, 8), np.uint8), {"exif": b"not exif"}, ValueError, "exif"),
        (np.zeros((8, 8), np.uint8), {"exif": b"Exif\x00\x00" + b"x" * 70000}, ValueError, "exif"),
        (np.zeros((8, 8), np.uint8), {"icc_profile": b"garbage"}, ValueError, "icc_profile"),
        (np.zeros((8, 8), np.uint8), {"icc_profile": 5}, TypeError, "icc_profile"),
    ],
)
def test_bad_arguments_raise_named_errors(image, kwargs, exc, fragment):
    with pytest.raises(exc) as info:
        fdjpeg.encode(image, **kwargs)
    assert fragment in str(info.value)


def test_too_large_dimension_is_rejected_before_work():
    big = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), shape=(1, 65501), strides=(0, 0))
    with pytest.raises(ValueError, match="65500"):
        fdjpeg.encode(big)


def test_accepts_h_w_1_and_non_contiguous_input():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert fdjpeg.encode(img[:, ::-1]) == fdjpeg.encode(np.ascontiguousarray(img[:, ::-1]))
    gray = img[..., 0]
    assert fdjpeg.encode(gray[..., None]) == fdjpeg.encode(gray)


def test_encode_to_writes_atomically(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    dest = tmp_path / "out.jpg"
    n = fdjpeg.encode_to(dest, img, quality=90)
    assert dest.read_bytes() == fdjpeg.encode(img, quality=90) and n == dest.stat().st_size
    before = dest.read_bytes()
    with pytest.raises(ValueError):
        fdjpeg.encode_to(dest, img, quality=500)
    assert dest.read_bytes() == before  # untouched on error
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]  # no temporary left behind
    with pytest.raises(ValueError):
        fdjpeg.encode_to(tmp_path / "new.jpg", np.zeros((8, 8, 4), np.uint8))
    assert not (tmp_path / "new.jpg").exists()


def test_encode_to_file_object():
    import io

    buf = io.BytesIO()
    img = np.full((9, 9), 200, np.uint8)
    fdjpeg.encode_to(buf, img)
    assert buf.getvalue() == fdjpeg.encode(img)


def _segments(data: bytes):
    """(marker, payload) for every segment before the entropy-coded data, checking each length field."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    pos, out = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        assert length >= 2 and pos + 2 + length <= len(data)
        out.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
        if marker == 0xDA:
            return out


@given(images(max_side=24), encoder_settings(metadata=True))
def test_marker_segments_are_well_formed(img, settings):
    segs = _segments(fdjpeg.encode(img, **settings))
    names = [m for m, _ in segs]
    assert names[0] == 0xE0 and segs[0][1][:5] == b"JFIF\x00" and segs[0][1][5:7] == b"\x01\x01"
    sof = next(p for m, p in segs if m == 0xC0)
    ncomp = 1 if img.ndim == 2 else 3
    assert sof[0] == 8 and int.from_bytes(sof[1:3], "big") == img.shape[0] and int.from_bytes(sof[3:5], "big") == img.shape[1]
    assert len(sof) == 6 + 3 * ncomp and sof[5] == ncomp
    for m, p in segs:
        if m == 0xDB:
            assert len(p) == 65 and p[0] >> 4 == 0  # 8-bit baseline tables
        if m == 0xC4:
            assert len(p) == 17 + sum(p[1:17])
    assert names.index(0xDB) < names.index(0xC0) < names.index(0xC4) < names.index(0xDA)
    assert (0xDD in names) == bool(settings.get("restart_interval") or settings.get("restart_rows"))


@pytest.mark.parametrize("restart", [{}, {"restart_interval": 1}, {"restart_interval": 37}, {"restart_rows": 2}])
@pytest.mark.parametrize("optimize", [False, True])
def test_parallel_entropy_coding_matches_pillow_and_one_thread(restart, optimize):
    """Large enough for the chunked parallel Huffman coder; bytes equal one thread's and Pillow's."""
    import numba

    from fdjpeg._jit import PARALLEL_MIN_BLOCKS

    photo = np.concatenate([fdjpeg.samples.load("astronaut"), fdjpeg.samples.load("rocket")[:, :512]])[:, :509]
    assert photo.shape[0] * photo.shape[1] * 1.5 / 64 > PARALLEL_MIN_BLOCKS
    settings = dict(quality=85, subsampling="4:2:0", optimize=optimize, **restart)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(max(threads, 2) if numba.config.NUMBA_NUM_THREADS >= 2 else 1)
        parallel = fdjpeg.encode(photo, **settings)
        numba.set_num_threads(1)
        sequential = fdjpeg.encode(photo, **settings)
    finally:
        numba.set_num_threads(threads)
    assert parallel == sequential
    assert parallel == pillow_encode(photo, **settings), first_difference(parallel, pillow_encode(photo, **settings))


def test_memoized_tables_are_not_shared_with_callers():
    """quant_divisors and the Huffman lookups are memoized: what a caller gets must be its own copy, so
    that a mutation never reaches the next encode."""
    from fdjpeg.dct import quant_divisors
    from fdjpeg.entropy_encode import _lookup_tables
    from fdjpeg.huffman import STANDARD_AC, STANDARD_DC

    table = fdjpeg.tables.standard(50)[0]
    first = quant_divisors(table)
    first[:] = 0
    assert quant_divisors(table)[0].min() > 0
    codes, sizes = _lookup_tables(STANDARD_DC, STANDARD_AC)
    sizes[:] = 0
    assert _lookup_tables(STANDARD_DC, STANDARD_AC)[1].max() > 0
    img = np.random.default_rng(3).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    assert fdjpeg.encode(img, quality=50) == pillow_encode(img, quality=50)
