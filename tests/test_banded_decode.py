"""Banded decoding and the two-thread pipeline (fdjpeg/decoder/banded.py, pipeline.py): ``decode()`` of a
single-scan sequential file makes its pixels band by band while the scan is decoded.

Oracle: the coefficient path (read_coefficients, then coefficients_to_pixels: what decode() did before,
pixel-exact against Pillow in test_decode.py), with the same warnings and errors; Pillow for a few
files. The private overrides ``pipeline._FORCE`` / ``_BAND_ROWS`` / ``_CHUNK_ROWS`` make small images
take each plan with small bands and chunks, so that every boundary case runs here.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import read_coefficients
from fdjpeg.decoder import pipeline, split
from fdjpeg.decoder.color import convert_mode
from fdjpeg.decoder.decompress import coefficients_to_pixels

from helpers import CJPEG, make_image, pillow_decode, pillow_encode

SUBSAMPLINGS = ["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"]


@contextlib.contextmanager
def forced(plan, band=None, chunk=None, where=None):
    """``plan`` with ``band`` rows per band, ``chunk`` rows per pipeline chunk (and per step of split's
    calling thread), split's worker starting at the fraction ``where`` of the scan's bytes."""
    old = (pipeline._FORCE, pipeline._BAND_ROWS, pipeline._CHUNK_ROWS, split._SPLIT, split._STEP_ROWS)
    old_wait = split.TAKEOVER_WAIT
    pipeline._FORCE, pipeline._BAND_ROWS, pipeline._CHUNK_ROWS = plan, band, chunk
    split._SPLIT, split._STEP_ROWS = where, chunk
    split.TAKEOVER_WAIT = None  # (the caller never takes the worker's part over on a busy machine)
    try:
        yield
    finally:
        pipeline._FORCE, pipeline._BAND_ROWS, pipeline._CHUNK_ROWS, split._SPLIT, split._STEP_ROWS = old
        split.TAKEOVER_WAIT = old_wait


def _outcome(fn, data):
    """(pixels or the exception, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(data)
        except fdjpeg.JPEGError as exc:
            result = exc
    return result, [str(w.message) for w in caught]


def _reference(data):
    return coefficients_to_pixels(read_coefficients(data))


def _assert_same(got, ref):
    (a, wa), (b, wb) = got, ref
    assert wa == wb
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b) and str(a) == str(b)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b)


def _encode(h, w, kind, subsampling, interval, seed, quality=85):
    img = make_image(h, w, gray=kind == "gray", seed=seed)
    if kind == "cmyk":  # (Pillow writes Adobe CMYK files; fdjpeg.encode does not)
        buf = io.BytesIO()
        extra = {"restart_marker_blocks": interval} if interval else {}
        Image.fromarray(np.concatenate([img, img[..., :1] // 2], axis=-1), "CMYK").save(
            buf, "JPEG", quality=quality, **extra
        )
        return buf.getvalue()
    return fdjpeg.encode(
        img, quality=quality, subsampling=None if kind != "rgb" else subsampling, restart_interval=interval
    )


@given(
    h=st.integers(1, 90),
    w=st.integers(1, 70),
    kind=st.sampled_from(["rgb", "rgb", "gray", "cmyk"]),
    subsampling=st.sampled_from(SUBSAMPLINGS),
    interval=st.sampled_from([0, 0, 1, 3]),
    plan=st.sampled_from(["bands", "pipeline", "split"]),
    band=st.integers(1, 4),
    chunk=st.integers(1, 3),
    where=st.floats(0.0, 1.0),
    seed=st.integers(0, 3),
)
def test_plans_match_the_coefficient_path(h, w, kind, subsampling, interval, plan, band, chunk, where, seed):
    data = _encode(h, w, kind, subsampling, interval, seed)
    ref = _outcome(_reference, data)
    taken = "bands" if plan == "split" and interval else plan  # (split: no restart markers)
    before = pipeline.STATS[taken]
    with forced(plan, band, chunk, where):
        got = _outcome(fdjpeg.decode, data)
    assert pipeline.STATS[taken] == before + 1
    _assert_same(got, ref)


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (16, 16), (17, 31), (33, 1), (1, 47)])
@pytest.mark.parametrize("plan", ["bands", "pipeline", "split"])
def test_small_and_odd_sizes(size, plan):
    for subsampling in SUBSAMPLINGS:
        data = _encode(*size, "rgb", subsampling, 0, seed=1)
        for band in (1, 2):
            with forced(plan, band, 1):
                _assert_same(_outcome(fdjpeg.decode, data), _outcome(_reference, data))


@pytest.mark.oracle
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
@pytest.mark.parametrize("plan", ["bands", "pipeline", "split"])
def test_pillow_files_match_pillow(subsampling, plan):
    data = pillow_encode(make_image(61, 77, seed=2), quality=75, subsampling=subsampling)
    with forced(plan, 2, 2, 0.4):
        assert np.array_equal(fdjpeg.decode(data), pillow_decode(data))


@given(
    cut=st.one_of(st.just(1.0), st.floats(0.3, 1.0)),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4),
    interval=st.sampled_from([0, 2]),
    plan=st.sampled_from(["bands", "pipeline", "split", "split"]),
    band=st.integers(1, 3),
    where=st.floats(0.0, 1.0),
    seed=st.integers(0, 3),
)
def test_damaged_streams_decode_and_warn_as_the_coefficient_path(cut, flips, interval, plan, band, where, seed):
    """Truncated data and random byte changes in the entropy-coded data (a marker, a bad code, a
    wrong RSTn...): same pixels, same warnings, same errors."""
    data = bytearray(_encode(64, 48, "rgb", "4:2:0", interval, seed))
    sos = data.index(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    for where, value in flips:
        data[start + int(where * (len(data) - start - 1))] = value
    data = bytes(data[: max(start, int(len(data) * cut))])
    ref = _outcome(_reference, data)
    with forced(plan, band, 1, where):
        _assert_same(_outcome(fdjpeg.decode, data), ref)


def test_files_that_do_not_qualify_take_the_coefficient_path():
    """Progressive, multi-scan, 12-bit and defended decodes keep their own paths."""
    img = make_image(40, 48, seed=3)
    before = dict(pipeline.STATS)
    progressive = fdjpeg.encode(img, quality=80, progressive=True)
    assert np.array_equal(fdjpeg.decode(progressive), _reference(progressive))
    fdjpeg.decode(fdjpeg.encode(img, quality=80), defense=fdjpeg.tables.preset("paper"))
    fdjpeg.decode(fdjpeg.encode(img, quality=80), mode="YCbCr")
    assert pipeline.STATS == before


def test_a_second_scan_after_a_full_scan_is_refused_as_before():
    """The first scan held every component, so a second SOS is an error (parser.py), after the pixels."""
    data = _encode(24, 24, "rgb", "4:2:0", 0, seed=0)
    eoi = data.rindex(b"\xff\xd9")
    sos = data.index(b"\xff\xda")
    doubled = data[:eoi] + data[sos:]
    ref = _outcome(_reference, doubled)
    assert isinstance(ref[0], fdjpeg.JPEGError)
    for plan in ("bands", "pipeline", "split"):
        with forced(plan, 1, 1, 0.5):
            _assert_same(_outcome(fdjpeg.decode, doubled), ref)


def test_modes_and_orientation_apply_to_banded_pixels():
    data = _encode(30, 41, "rgb", "4:2:0", 0, seed=2)
    ref = _reference(data)
    with forced("bands", 1):
        assert np.array_equal(fdjpeg.decode(data, mode="BGR"), ref[:, :, ::-1])
        assert np.array_equal(fdjpeg.decode(data, mode="L"), convert_mode(ref, "L"))


def test_default_plans_by_size_threads_and_restart_markers():
    """One thread or a small image: bands; two threads and a large file without restart markers: the
    split plan; with restart markers: the coefficient path (parallel_entropy.py splits the intervals)."""
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    img = make_image(512, 512, seed=4)  # 6144 blocks: over PARALLEL_MIN_BLOCKS
    plain = fdjpeg.encode(img, quality=80)
    restarts = fdjpeg.encode(img, quality=80, restart_interval=4)
    ref = _reference(plain)
    old = numba.get_num_threads()
    try:
        for threads, data, plan in [(1, plain, "bands"), (2, plain, "split"), (2, restarts, None)]:
            numba.set_num_threads(threads)
            before = dict(pipeline.STATS)
            assert np.array_equal(fdjpeg.decode(data), ref if data is plain else _reference(data))
            changed = [k for k in before if pipeline.STATS[k] != before[k]]
            assert changed == ([plan] if plan else []), (threads, plan)
        numba.set_num_threads(2)
        before = dict(pipeline.STATS)
        fdjpeg.decode(_encode(40, 40, "rgb", "4:2:0", 0, 0))  # small images: bands whatever the threads
        assert pipeline.STATS["bands"] == before["bands"] + 1
    finally:
        numba.set_num_threads(old)


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2"])
def test_gray_files_with_sampling_factors(subsampling):
    """One component declared 2x2 or 2x1: a non-interleaved scan whose iMCU row is v block rows."""
    for size in [(37, 29), (100, 5), (1, 1)]:
        data = pillow_encode(make_image(*size, gray=True), quality=80, subsampling=subsampling)
        for plan, band in [("bands", 1), ("bands", 3), ("pipeline", 2), ("split", 1)]:
            with forced(plan, band, 1, 0.3):
                _assert_same(_outcome(fdjpeg.decode, data), _outcome(_reference, data))


@pytest.mark.interop
@pytest.mark.parametrize("sample", ["2x2,2x1,1x1", "4x2,1x1,1x1", "1x2,1x1,1x2", "3x1,1x1,1x1", "2x1,1x2,1x1"])
def test_mixed_sampling_factors(tmp_path, sample):
    """Each component its own expansion: h2v1, h1v2 and h2v2 fancy, box and int_upsample."""
    if CJPEG is None:
        pytest.skip("cjpeg not installed (apt-get install libjpeg-turbo-progs)")
    src = tmp_path / "in.ppm"
    Image.fromarray(make_image(45, 67, seed=6)).save(src)
    data = subprocess.run([CJPEG, "-sample", sample, str(src)], capture_output=True, check=True).stdout
    ref = _outcome(_reference, data)
    for plan, band in [("bands", 1), ("bands", 2), ("pipeline", 1), ("split", 1)]:
        with forced(plan, band, 1, 0.5):
            _assert_same(_outcome(fdjpeg.decode, data), ref)


@given(
    rows=st.lists(st.integers(1, 3), min_size=1, max_size=12),
    interval=st.sampled_from([0, 1, 5]),
    cut=st.one_of(st.just(1.0), st.floats(0.5, 1.0)),
    seed=st.integers(0, 3),
)
def test_sequential_decoder_resumes_where_it_stopped(rows, interval, cut, seed):
    """entropy._decode_sequential with the resume slots, called for a few MCU rows at a time, leaves
    the store, the reader's position, the warnings log and last_good_iMCU_row of one whole call."""
    from fdjpeg.decoder import entropy as ed
    from fdjpeg.decoder.reader import _NATURAL_U8, _CoefficientReader

    data = _encode(70, 52, "rgb", "4:2:0", interval, seed)
    data = data[: max(len(data) // 3, int(len(data) * cut))]
    seen = []

    class Capture(_CoefficientReader):
        def _sequential(self, blocks, mcus_x, mcus_y, imcu_div, interval, tables, fresh):
            seen.append((blocks, mcus_x, mcus_y, imcu_div, interval, tables, self.state.copy()))
            return ed.OK

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = Capture(data, None, None)
        reader.run()
    blocks, mcus_x, mcus_y, imcu_div, interval, tables, start = seen[0]
    raw = np.frombuffer(data, np.uint8)
    whole, whole_state, whole_log = np.zeros_like(reader.store), start.copy(), np.zeros((ed.LOG_SIZE, 4), np.int64)
    ed._decode_sequential(
        raw, whole, blocks, mcus_x, mcus_y, imcu_div, interval, *tables, _NATURAL_U8, whole_state, whole_log
    )
    parts, log = np.zeros_like(reader.store), np.zeros((ed.LOG_SIZE, 4), np.int64)
    state = np.zeros(ed.RESUME_STATE_SIZE, np.int64)
    state[: ed.STATE_SIZE] = start
    state[ed.R_RESTARTS_TO_GO] = interval
    end = 0
    for n in rows + [mcus_y]:
        end = min(mcus_y, end + n)
        ed._decode_sequential(raw, parts, blocks, mcus_x, end, imcu_div, interval, *tables, _NATURAL_U8, state, log)
        assert state[ed.R_ROW0] == end
    assert np.array_equal(parts, whole)
    assert np.array_equal(state[: ed.STATE_SIZE], whole_state)
    assert np.array_equal(log, whole_log)


def _split_outcome(data, where=0.5, step=1, band=2):
    """Decode with the split plan: (its outcome counter that moved, (pixels, warnings))."""
    before = dict(split.STATS)
    with forced("split", band, step, where):
        got = _outcome(fdjpeg.decode, data)
    moved = [k for k in ("synced", "unsynced", "rejected") if split.STATS[k] != before[k]]
    assert len(moved) == 1
    return moved[0], got


@pytest.mark.parametrize("where", [0.1, 0.5, 0.7])
@pytest.mark.parametrize("kind", ["4:4:4", "4:2:2", "4:2:0", "4:1:1", "gray", "cmyk"])
def test_split_synchronises_on_clean_scans(where, kind):
    """The worker's speculative decoding from the middle of the scan is used: the calling thread finds a
    sync point, stops there and both threads reconstruct."""
    data = _encode(192, 160, "rgb" if kind not in ("gray", "cmyk") else kind, kind, 0, seed=2)
    outcome, got = _split_outcome(data, where)
    assert outcome == "synced"
    assert 0 < split.STATS["rows"][0] < split.STATS["rows"][2]
    _assert_same(got, _outcome(_reference, data))


def _entropy_start(data):
    sos = data.index(b"\xff\xda")
    return sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")


@pytest.mark.parametrize(
    "damage, outcome",
    [
        ("truncated", "rejected"),  # the worker's data ends before the last block: warning from the caller's state
        ("ones", "rejected"),  # a bad code after the sync point
        ("ones early", "synced"),  # a bad code before it: the caller's decoder warns, the worker's part is used
        ("marker late", "unsynced"),  # a marker in the worker's data: it gives up
        ("marker early", "unsynced"),  # a marker before the split: the caller's decoder is out of data
        ("tail", "rejected"),  # bytes after the last block (the sequential decoder's read-ahead hides them)
    ],
)
def test_split_falls_back_to_the_sequential_decoder_on_damage(damage, outcome):
    data = bytearray(_encode(192, 160, "rgb", "4:2:0", 0, seed=3))
    start, eoi = _entropy_start(data), data.rindex(b"\xff\xd9")
    late = start + (eoi - start) * 9 // 10
    if damage == "truncated":
        data = data[:late] + b"\xff\xd9"
    elif damage.startswith("ones"):  # all-ones: no Huffman code of a JPEG table
        at = late if damage == "ones" else start + 40
        data[at : at + 8] = b"\xff\x00" * 4
    elif damage == "marker late":
        data[late : late + 2] = b"\xff\xd5"
    elif damage == "marker early":
        data[start + 40 : start + 42] = b"\xff\xd5"
    else:
        data = data[:eoi] + b"\x12\x34\x56" + data[eoi:]
    data = bytes(data)
    ref = _outcome(_reference, data)
    assert bool(ref[1]) == (damage != "tail")  # (the others make the sequential decoder warn)
    got_outcome, got = _split_outcome(data)
    assert got_outcome == outcome
    _assert_same(got, ref)


def test_split_in_a_forked_child():
    """The worker thread is made per call: a child forked after a two-thread decode decodes the same."""
    import multiprocessing

    data = _encode(192, 160, "rgb", "4:2:0", 0, seed=1)
    with forced("split", 2, 1, 0.5):
        ref = fdjpeg.decode(data)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            got = pool.apply(fdjpeg.decode, (data,))
    assert np.array_equal(got, ref)


@given(
    h=st.integers(120, 260),
    w=st.integers(8, 90),
    kind=st.sampled_from(["4:2:0", "4:2:0", "4:4:4", "4:2:2", "4:4:0", "gray"]),
    where=st.floats(0.05, 0.8),
    share=st.floats(0.0, 1.0),
    hold=st.sampled_from(["c", "w"]),
    band=st.integers(1, 3),
    seed=st.integers(0, 3),
)
def test_split_threads_take_rows_from_each_other(h, w, kind, where, share, hold, band, seed):
    """A thread that finishes its rows first takes the second half of the other's unclaimed rows: the
    worker from the calling thread's (whole store), the caller from the worker's (records placed from
    the row above the first taken row, DC predictions carried over the rows skipped). ``_HOLD`` makes
    the other thread finish first; ``_SHARE`` moves the first split of the rows anywhere."""
    data = _encode(h, w, "rgb" if kind != "gray" else "gray", kind, 0, seed)
    old = split._HOLD, split._SHARE
    split._HOLD, split._SHARE = hold, share
    try:
        outcome, got = _split_outcome(data, where, 1, band)
    finally:
        split._HOLD, split._SHARE = old
    _assert_same(got, _outcome(_reference, data))
    _, k, total = split.STATS["rows"]
    by_caller, by_worker = split.STATS["stolen"]
    if hold == "c":  # the worker took the second half of the caller's rows [0, k)
        assert by_caller == 0 and by_worker == (k - k // 2 if k >= 2 else 0)
    else:  # the caller took (about) the second half of the worker's rows [k, total)
        assert by_worker == 0 and by_caller < total - k
        assert by_caller > 0 or total - k < 3


@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
@pytest.mark.parametrize("kind", ["4:2:0", "gray"])
def test_split_caller_takes_the_workers_part_over(where, kind):
    """A worker that has not started its rows when the caller is done with its own (``_HOLD = "spec"``: as
    if descheduled) is not waited for: the caller decodes the rest from the saved state and reconstructs
    it, and the worker, when it runs, does nothing more."""
    data = _encode(200, 120, "rgb" if kind != "gray" else "gray", kind, 0, seed=1)
    old = split._HOLD
    split._HOLD = "spec"
    before = split.STATS["takeover"]
    try:
        with forced("split", 2, 1, where):
            split.TAKEOVER_WAIT = 0.0
            got = _outcome(fdjpeg.decode, data)
    finally:
        split._HOLD = old
    assert split.STATS["takeover"] == before + 1
    _assert_same(got, _outcome(_reference, data))
