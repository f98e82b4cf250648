"""Parallel entropy decoding (fdjpeg/decoder/parallel_entropy.py): chunks decoded speculatively and
stitched at self-synchronization points, or split at restart markers.

Oracles: the sequential decoder's coefficients (entropy.py, the path every small scan takes) and Pillow's
pixels; for damaged streams, the sequential decoder's result and warnings. The private
``_FORCE_CHUNKS`` override makes small images take the parallel path with a chosen number of chunks.
"""

from __future__ import annotations

import contextlib
import subprocess
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import read_coefficients
from fdjpeg.decoder import parallel_entropy as pe

from helpers import CJPEG, make_image, pillow_decode, pillow_encode

pytestmark = pytest.mark.oracle


@contextlib.contextmanager
def chunks(k):
    old = pe._FORCE_CHUNKS
    pe._FORCE_CHUNKS = k
    try:
        yield
    finally:
        pe._FORCE_CHUNKS = old


def _read(data, k):
    """(coefficients, warnings' messages, parallel scans, fallbacks) with k forced chunks (None: the
    default dispatch, sequential for these small images)."""
    before = (pe.STATS["parallel"], pe.STATS["fallback"])
    with chunks(k), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = read_coefficients(data)
        except fdjpeg.JPEGError as exc:
            result = exc
    messages = [str(w.message) for w in caught]
    return result, messages, pe.STATS["parallel"] - before[0], pe.STATS["fallback"] - before[1]


def _same(a, b) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return all(np.array_equal(x, y) for x, y in zip(a.components, b.components, strict=True))


def _with_restarts(img, interval, **kw):
    return pillow_encode(img, restart_interval=interval, **kw) if interval else pillow_encode(img, **kw)


@given(
    h=st.integers(1, 72),
    w=st.integers(1, 72),
    gray=st.booleans(),
    subsampling=st.sampled_from(["4:4:4", "4:2:2", "4:2:0"]),
    quality=st.integers(20, 98),
    interval=st.sampled_from([0, 0, 1, 3]),
    k=st.integers(2, 9),
    seed=st.integers(0, 5),
)
def test_parallel_matches_sequential_and_pillow(h, w, gray, subsampling, quality, interval, k, seed):
    img = make_image(h, w, gray=gray, seed=seed)
    data = _with_restarts(img, interval, quality=quality, subsampling=None if gray else subsampling)
    ref, ref_warn, par0, _ = _read(data, None)
    got, got_warn, par, fell = _read(data, k)
    assert par0 == 0  # small: the default dispatch is sequential
    assert par == 1 and fell == 0, pe.STATS["reason"]  # a clean stream always takes the parallel path
    assert _same(ref, got) and ref_warn == got_warn == []
    with chunks(k):
        assert np.array_equal(fdjpeg.decode(data), pillow_decode(data))


@pytest.mark.parametrize(("h", "w"), [(1, 1), (7, 13), (24, 40), (17, 33), (8, 8), (100, 3)])
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:0", "gray"])
def test_small_and_odd_mcu_counts(h, w, subsampling):
    gray = subsampling == "gray"
    img = make_image(h, w, gray=gray, seed=3)
    data = pillow_encode(img, quality=90, subsampling=None if gray else subsampling)
    ref, _, _, _ = _read(data, None)
    for k in (1, 2, 3, 5, 16):
        got, messages, par, fell = _read(data, k)
        assert (par, fell, messages) == (1, 0, [])
        assert _same(ref, got)


def test_large_image_syncs_quickly_with_threads():
    """A photo-like 4:2:0 image over the thread threshold: the parallel kernels run (when Numba has
    threads), every chunk after the first syncs within a few hundred bits, and the result is exact."""
    img = fdjpeg.samples.load_all()[0]
    img = np.concatenate([img, img[::-1]], axis=0)
    data = pillow_encode(img, quality=75, subsampling="4:2:0")
    ref, _, _, _ = _read(data, 1)
    got, messages, par, fell = _read(data, 6)
    assert (par, fell, messages) == (1, 0, [])
    assert _same(ref, got)
    assert len(pe.STATS["sync_bits"]) == 5
    bits = 8 * len(data) // 6
    assert all(0 <= s < bits // 4 for s in pe.STATS["sync_bits"]), pe.STATS
    assert np.array_equal(fdjpeg.decode(data), pillow_decode(data))


def test_default_dispatch_takes_the_parallel_path_on_large_scans():
    if numba.get_num_threads() < 2:
        pytest.skip("Numba has one thread here: the default dispatch stays sequential")
    img = make_image(512, 640, seed=1)
    data = pillow_encode(img, quality=80, subsampling="4:2:0")  # 7680 blocks > PARALLEL_MIN_BLOCKS
    got, messages, par, fell = _read(data, None)
    assert (par, fell, messages) == (1, 0, [])
    with chunks(1):
        assert _same(read_coefficients(data), got)
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert _read(data, None)[2] == 0  # one thread: sequential
    finally:
        numba.set_num_threads(saved)


def _entropy_span(data: bytes) -> tuple[int, int]:
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    return start, data.rindex(b"\xff\xd9")


@given(
    interval=st.sampled_from([0, 2]),
    where=st.floats(0, 1),
    kind=st.sampled_from(["flip", "truncate", "junk", "marker", "fill"]),
    value=st.integers(1, 255),
    k=st.integers(2, 6),
)
def test_damaged_streams_decode_as_the_sequential_decoder(interval, where, kind, value, k):
    img = make_image(48, 64, seed=2)
    data = _with_restarts(img, interval, quality=85, subsampling="4:2:0")
    start, end = _entropy_span(data)
    i = start + int(where * (end - start - 1))
    if kind == "flip":
        bad = data[:i] + bytes([data[i] ^ value]) + data[i + 1 :]
    elif kind == "truncate":
        bad = data[:i]
    elif kind == "junk":
        bad = data[:i] + bytes([value, value ^ 0x5A]) + data[i:]
    elif kind == "marker":
        bad = data[:i] + bytes([0xFF, 0xD0 + value % 8]) + data[i:]
    else:
        bad = data[:i] + b"\xff\xff" + data[i:]
    ref, ref_warn, _, _ = _read(bad, None)
    got, got_warn, par, fell = _read(bad, k)
    assert par + fell == 1
    assert _same(ref, got)
    assert ref_warn == got_warn


def test_fallbacks_are_counted_with_a_reason():
    img = make_image(48, 64, seed=4)
    data = pillow_encode(img, quality=85, subsampling="4:2:0")
    start, end = _entropy_span(data)
    _, messages, par, fell = _read(data[: (start + end) // 2], 3)  # truncated: no marker ends the data
    assert (par, fell) == (0, 1) and pe.STATS["reason"] == "unusual segment" and messages
    extra = data[:end] + bytes(16) + data[end:]  # whole bytes after the last block (beyond read-ahead)
    ref, ref_warn, _, _ = _read(extra, None)
    got, got_warn, par, fell = _read(extra, 3)
    assert (par, fell) == (0, 1) and pe.STATS["reason"] == "data left after the last block"
    assert _same(ref, got) and ref_warn == got_warn != []


@pytest.mark.parametrize("restart", [None, "1"])
def test_non_interleaved_scans(tmp_path, restart):
    """A sequential file with one scan per component (cjpeg -scans): each scan takes the parallel path."""
    if CJPEG is None:
        pytest.skip("cjpeg not installed (apt-get install libjpeg-turbo-progs)")
    script = tmp_path / "scans.txt"
    script.write_text("0;\n1;\n2;\n")
    src = tmp_path / "in.ppm"
    Image.fromarray(make_image(77, 93, seed=5)).save(src)
    args = [CJPEG, "-scans", str(script), "-sample", "2x2,1x1,1x1"] + (["-restart", restart] if restart else [])
    data = subprocess.run([*args, str(src)], capture_output=True, check=True).stdout
    ref, _, _, _ = _read(data, None)
    for k in (2, 3, 7):
        got, messages, par, fell = _read(data, k)
        assert (par, fell, messages) == (3, 0, [])
        assert _same(ref, got)
        with chunks(k):
            assert np.array_equal(fdjpeg.decode(data), pillow_decode(data))
