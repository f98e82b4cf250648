"""Batch calls (fdjpeg/dataset/batch.py): image for image the one-at-a-time result, errors per item,
stacking, arguments, and the compiled batch path from several user threads and in forked processes."""

import io
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fdjpeg
from fdjpeg.testing import encoder_settings, images
from helpers import make_image, pillow_decode, pillow_jpeg

ROBUST = fdjpeg.tables.preset("robust")
_ROOT = str(Path(fdjpeg.__file__).resolve().parent.parent)


@st.composite
def jpeg_items(draw):
    """A JPEG as fdjpeg writes it: any subsampling, gray or colour, tables, restart intervals, sometimes
    progressive (which the batch kernel leaves to the one-at-a-time decoder)."""
    img = draw(images(max_side=40))
    kw = dict(draw(encoder_settings()))
    if draw(st.integers(0, 3)) == 0:
        kw.pop("restart_interval", None)
        kw.pop("restart_rows", None)
        kw["progressive"] = True
    return fdjpeg.encode(img, **kw)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return a == b


@given(st.lists(jpeg_items(), max_size=6), st.sampled_from([None, "RGB", "L", "BGR"]), st.sampled_from([None, ROBUST]))
def test_decode_batch_equals_decode_image_for_image(items, mode, defense):
    got = fdjpeg.decode_batch(items, mode=mode, defense=defense, stack=False)
    assert len(got) == len(items)
    for data, pixels in zip(items, got):
        assert _same(pixels, fdjpeg.decode(data, mode=mode, defense=defense))


@given(st.lists(jpeg_items(), max_size=5))
def test_requantize_batch_equals_requantize_item_for_item(items):
    got = fdjpeg.requantize_batch(items, ROBUST)
    assert got == [fdjpeg.requantize(d, ROBUST) for d in items]


@given(st.lists(images(max_side=24, channels=(3,)), max_size=4), st.sampled_from(["4:4:4", "4:2:0"]))
def test_encode_batch_equals_encode(imgs, subsampling):
    assert fdjpeg.encode_batch(imgs, quality=85, subsampling=subsampling) == [
        fdjpeg.encode(i, quality=85, subsampling=subsampling) for i in imgs
    ]


def test_encode_batch_takes_one_stacked_array():
    stack = np.stack([make_image(16, 24, seed=s) for s in range(3)])
    assert fdjpeg.encode_batch(stack, quality=90) == [fdjpeg.encode(x, quality=90) for x in stack]


def _mixed_pillow_files():
    """Pillow (libjpeg-turbo) files of every kind the batch kernel takes, and some it leaves alone."""
    files = []
    for seed, sub in enumerate((0, 1, 2)):
        files.append(pillow_jpeg(make_image(37 + seed, 45, seed=seed), quality=90, subsampling=sub))
    files.append(pillow_jpeg(make_image(30, 33, gray=True), quality=75))
    files.append(pillow_jpeg(make_image(64, 48, seed=4), quality=80, restart_marker_blocks=3))
    files.append(pillow_jpeg(make_image(40, 40, seed=5), quality=85, progressive=True))
    files.append(pillow_jpeg(make_image(24, 16, seed=6), quality=95, optimize=True))
    return files


@pytest.mark.oracle
def test_decode_batch_matches_pillow_on_mixed_kinds():
    files = _mixed_pillow_files()
    for data, pixels in zip(files, fdjpeg.decode_batch(files)):
        assert np.array_equal(pixels, pillow_decode(data))


def test_items_as_paths_and_file_objects(tmp_path):
    files = _mixed_pillow_files()[:3]
    path = tmp_path / "a.jpg"
    path.write_bytes(files[0])
    items = [str(path), io.BytesIO(files[1]), bytearray(files[2]), path]
    got = fdjpeg.decode_batch(items, stack=False)
    for data, pixels in zip([files[0], files[1], files[2], files[0]], got):
        assert np.array_equal(pixels, fdjpeg.decode(data))


def _corrupt_batch():
    good = _mixed_pillow_files()
    return [good[0], b"\xff\xd8\xff\xdbgarbage", good[1], good[2]], good


def test_a_corrupt_item_is_collected_and_the_rest_decode():
    items, good = _corrupt_batch()
    got = fdjpeg.decode_batch(items)
    assert isinstance(got, list)
    assert isinstance(got[1], fdjpeg.JPEGError)
    assert str(got[1]).startswith("item 1: ")
    for i in (0, 2, 3):
        assert np.array_equal(got[i], fdjpeg.decode(items[i]))
    rq = fdjpeg.requantize_batch(items, ROBUST)
    assert isinstance(rq[1], fdjpeg.JPEGError) and "item 1" in str(rq[1])
    assert [rq[i] for i in (0, 2, 3)] == [fdjpeg.requantize(items[i], ROBUST) for i in (0, 2, 3)]


def test_errors_raise_raises_the_first_failed_item():
    items, _ = _corrupt_batch()
    items = items + [b"not a jpeg"]
    with pytest.raises(fdjpeg.JPEGError, match=r"^item 1: "):
        fdjpeg.decode_batch(items, errors="raise")
    with pytest.raises(fdjpeg.JPEGError, match=r"^item 1: "):
        fdjpeg.requantize_batch(items, ROBUST, errors="raise")


def test_unsupported_items_keep_their_error_class():
    lossless_like = bytearray(_mixed_pillow_files()[0])
    lossless_like[lossless_like.index(b"\xff\xc0") + 1] = 0xC5  # SOF5: hierarchical, unsupported
    got = fdjpeg.decode_batch([bytes(lossless_like)])
    assert isinstance(got[0], fdjpeg.UnsupportedJPEG) and got[0].message.startswith("item 0: ")


def test_damaged_data_decodes_with_the_same_warnings_as_decode():
    good = _mixed_pillow_files()[0]
    truncated = good[: len(good) * 2 // 3]
    with warnings.catch_warnings(record=True) as one:
        warnings.simplefilter("always")
        expected = fdjpeg.decode(truncated)
    with warnings.catch_warnings(record=True) as many:
        warnings.simplefilter("always")
        got = fdjpeg.decode_batch([good, truncated], stack=False)
    assert np.array_equal(got[1], expected)
    assert [str(w.message) for w in many] == [str(w.message) for w in one] and one


def test_a_missing_path_is_an_item_error(tmp_path):
    good = _mixed_pillow_files()[0]
    got = fdjpeg.decode_batch([good, tmp_path / "missing.jpg"], stack=False)
    assert isinstance(got[1], fdjpeg.JPEGError) and "item 1" in str(got[1])
    assert isinstance(got[1].__cause__, OSError)


def test_empty_batches():
    assert fdjpeg.decode_batch([]) == []
    assert fdjpeg.decode_batch([], stack=False) == []
    assert fdjpeg.decode_batch([], stack=True).shape == (0,)
    assert fdjpeg.requantize_batch([], ROBUST) == []
    assert fdjpeg.encode_batch([]) == []


def test_stacking_rules():
    same = [pillow_jpeg(make_image(32, 40, seed=s), quality=90) for s in range(3)]
    stacked = fdjpeg.decode_batch(same)
    assert isinstance(stacked, np.ndarray) and stacked.shape == (3, 32, 40, 3)
    assert np.array_equal(stacked, np.stack([fdjpeg.decode(d) for d in same]))
    assert isinstance(fdjpeg.decode_batch(same, stack=False), list)
    # One progressive item (decoded one at a time) among kernel-decoded ones: still one array.
    mixed = same + [pillow_jpeg(make_image(32, 40, seed=9), quality=90, progressive=True)]
    assert fdjpeg.decode_batch(mixed, stack=True).shape == (4, 32, 40, 3)
    assert fdjpeg.decode_batch(same, mode="L").shape == (3, 32, 40)
    other = same + [pillow_jpeg(make_image(16, 40), quality=90)]
    assert isinstance(fdjpeg.decode_batch(other), list)
    with pytest.raises(ValueError, match="stack=True"):
        fdjpeg.decode_batch(other, stack=True)
    items, _ = _corrupt_batch()
    assert isinstance(fdjpeg.decode_batch(items), list)  # a collected error: no array
    with pytest.raises(fdjpeg.JPEGError, match="item 1"):
        fdjpeg.decode_batch(items, stack=True)


def test_bad_arguments():
    good = [_mixed_pillow_files()[0]]
    with pytest.raises(ValueError, match="errors"):
        fdjpeg.decode_batch(good, errors="ignore")
    with pytest.raises(ValueError, match="stack"):
        fdjpeg.decode_batch(good, stack="yes")
    with pytest.raises(TypeError, match="items"):
        fdjpeg.decode_batch(good[0])
    with pytest.raises(TypeError, match=r"items\[1\]"):
        fdjpeg.decode_batch([good[0], 42])
    with pytest.raises(ValueError, match="mode"):
        fdjpeg.decode_batch(good, mode="HSV")
    with pytest.raises(ValueError, match="scale"):
        fdjpeg.decode_batch(good, scale=3)
    with pytest.raises(TypeError, match="max_pixels"):
        fdjpeg.decode_batch(good, max_pixels="many")
    with pytest.raises(ValueError, match="errors"):
        fdjpeg.requantize_batch(good, ROBUST, errors="skip")
    with pytest.raises(ValueError):
        fdjpeg.requantize_batch(good, np.zeros((8, 8)))
    with pytest.raises(ValueError, match="unknown tables"):
        fdjpeg.requantize_batch(good, "sturdy")
    with pytest.raises(TypeError, match="tables is required"):
        fdjpeg.requantize_batch(good, None)
    with pytest.raises(TypeError, match="images"):
        fdjpeg.encode_batch(b"abc")
    with pytest.raises(ValueError, match=r"images\[1\]"):
        fdjpeg.encode_batch([make_image(8, 8), np.zeros((8, 8, 2), np.uint8)], quality=90)
    with pytest.raises(ValueError, match="shape"):
        fdjpeg.encode_batch(np.zeros((8, 8), np.uint8))


def test_options_without_a_batch_kernel_path_equal_decode():
    files = _mixed_pillow_files()
    for kw in ({"scale": "1/2"}, {"defense": ROBUST}, {"mode": "YCbCr"}, {"apply_exif_orientation": True}):
        kinds = files if kw.get("mode") != "YCbCr" else [f for f in files if fdjpeg.read_header(f).colorspace == "YCbCr"]
        got = fdjpeg.decode_batch(kinds, stack=False, **kw)
        for data, pixels in zip(kinds, got):
            assert _same(pixels, fdjpeg.decode(data, **kw)), kw


def test_four_user_threads_decode_batches_concurrently():
    """The batch kernels are compiled nogil: four of the user's threads decode at once, each getting
    its own correct result."""
    files = [pillow_jpeg(make_image(48, 40, seed=s), quality=80 + s) for s in range(8)]
    expected = [fdjpeg.decode(d) for d in files]
    fdjpeg.decode_batch(files[:1])
    results, failures = {}, []
    barrier = threading.Barrier(4)

    def worker(k):
        try:
            barrier.wait(timeout=60)
            mine = files[k:] + files[:k]
            for _ in range(5):
                results[k] = fdjpeg.decode_batch(mine, stack=False)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            failures.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures
    for k in range(4):
        want = expected[k:] + expected[:k]
        assert all(np.array_equal(a, b) for a, b in zip(results[k], want))


_SCENARIO = textwrap.dedent("""
    import io, numba, numpy as np, fdjpeg
    from PIL import Image
    photo = fdjpeg.samples.load("astronaut")
    def jpeg(k, size):
        crop = photo[k : k + size, 2 * k : 2 * k + size]
        buf = io.BytesIO(); Image.fromarray(crop).save(buf, "JPEG", quality=90); return buf.getvalue()
    small = [jpeg(k, 64) for k in range(4)]          # 4 x 96 blocks: under the 4096-block threshold
    large = [jpeg(k, 224) for k in range(16)]        # 16 x 1176 blocks: over it
    def launched():
        try:
            return numba.threading_layer()
        except ValueError:
            return None
    def work(files):
        got = fdjpeg.decode_batch(files, stack=False)
        assert all(np.array_equal(g, fdjpeg.decode(f)) for g, f in zip(got, files))
        return len(got)
""")


def _run(body: str, **env_extra) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}
    env["NUMBA_NUM_THREADS"] = "2"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    env.update(env_extra)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SCENARIO + textwrap.dedent(body)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scenario hung; stderr: {(exc.stderr or b'')[-2000:]!r}")
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("layer", [None, "workqueue"])
def test_small_batches_stay_serial_and_forked_children_run_large_ones(layer):
    """A small batch never starts Numba's threads; a large one does, and children forked afterwards
    (a DataLoader's workers) still run the parallel batch kernel."""
    out = _run(
        """
        import multiprocessing as mp
        work(small)
        print("small", launched())
        work(large)
        layer = launched()
        assert layer is not None
        with mp.get_context("fork").Pool(2) as pool:
            assert pool.map_async(work, [large, small, large]).get(timeout=300) == [16, 4, 16]
        print("large", layer)
        """,
        **({"NUMBA_THREADING_LAYER": layer} if layer else {}),
    )
    assert "small None" in out, out
    assert "large tbb" in out or "large workqueue" in out, out
