"""Issue 16 items 4 and 5: start-up loads only what a call needs; the default encode is coded band by band.

Start-up: ``import fdjpeg`` and the header-level functions (``read_header``, ``info``, ``check``) must not
import Numba or make any kernel's dispatcher, and an encode must not load the decoder. Checked in fresh
processes (what a process imported is the behaviour under test). Banding: the band-by-band encoder
(encoder/banded.py) must give the bytes of the whole-array path for every band size, thread count and
band layout, including the bits and 0xFF stuffing carried across band boundaries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fdjpeg
from fdjpeg.base.quant import validate_tables
from fdjpeg.encoder import banded
from fdjpeg.encoder.compress import image_to_mcu_blocks
from fdjpeg.encoder.markers import write_baseline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Runs in a fresh interpreter; prints what got imported and which kernels got a dispatcher.
_PROBE = r"""
import json, sys
import numpy as np
import fdjpeg
report = {"after import": "numba" in sys.modules}
img = np.zeros((16, 16, 3), np.uint8)
data = bytes.fromhex(sys.argv[1])
for name in ("read_header", "info", "check") if sys.argv[2] != "encode" else ():
    getattr(fdjpeg, name)(data)
    report["after " + name] = "numba" in sys.modules
from fdjpeg.base.jit import LazyKernel, ParallelKernel
made = []
for mod in list(sys.modules.values()):
    if getattr(mod, "__name__", "").startswith("fdjpeg"):
        for key, value in list(vars(mod).items()):
            kernels = [value] if isinstance(value, LazyKernel) else []
            if isinstance(value, ParallelKernel):
                kernels = [value.parallel, value.serial]
            made += [f"{mod.__name__}.{key}" for k in kernels if k.loaded is not None]
report["dispatchers"] = made
report["modules"] = sorted(m for m in sys.modules if m.startswith("fdjpeg"))
if sys.argv[2] == "encode":
    fdjpeg.encode(img)
    report["decoder loaded by encode"] = any(m.startswith("fdjpeg.decoder") for m in sys.modules)
print(json.dumps(report))
"""


def _probe(then: str) -> dict:
    data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8))
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, data.hex(), then], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_and_header_functions_load_no_kernel():
    report = _probe("nothing")
    assert report["after import"] is False, "import fdjpeg imported numba"
    for name in ("read_header", "info", "check"):
        assert report["after " + name] is False, f"fdjpeg.{name} imported numba"
    assert report["dispatchers"] == []
    assert not any(m.startswith(("fdjpeg.encoder", "fdjpeg.fd")) for m in report["modules"]), report["modules"]


def test_encode_does_not_load_the_decoder():
    assert _probe("encode")["decoder loaded by encode"] is False


def test_public_names_resolve_lazily_and_stay_the_same_objects():
    import fdjpeg.decoder.reader as reader
    import fdjpeg.encoder.compress as compress

    assert fdjpeg.encode is compress.encode
    assert fdjpeg.read_header is reader.read_header
    assert fdjpeg.samples.load().dtype == np.uint8
    assert set(fdjpeg.__all__) <= set(dir(fdjpeg))
    with pytest.raises(AttributeError):
        fdjpeg.no_such_name  # noqa: B018


def test_a_kernel_is_typed_as_its_dispatcher_inside_another_kernel():
    from fdjpeg.base.jit import LazyKernel, kernel

    @kernel
    def inner(x):
        return x + 1

    @kernel
    def outer(x):
        return inner(x) * 2

    assert isinstance(inner, LazyKernel) and inner.loaded is None
    assert outer(3) == 8
    assert inner.loaded is not None  # made when outer was typed


#: A fresh process's first encode after another process filled the cache: what compiled, and which
#: kernels got a dispatcher and how each got its code (cache hits / misses, Numba's own counters).
_WARM_PROBE = r"""
import json, sys
import numpy as np
import fdjpeg
from numba.core import event
from fdjpeg.base.jit import LazyKernel, ParallelKernel
img = np.random.default_rng(1).integers(0, 256, (512, 512, 3), dtype=np.uint8)
with event.install_recorder("numba:compile") as compiled:
    fdjpeg.encode(img, quality=75, subsampling="4:2:0")
    fdjpeg.encode(img[:64, :64], quality=90, subsampling="4:4:4")
made = {}
for mod in list(sys.modules.values()):
    if getattr(mod, "__name__", "").startswith("fdjpeg"):
        for value in list(vars(mod).values()):
            kernels = [value] if isinstance(value, LazyKernel) else []
            if isinstance(value, ParallelKernel):
                kernels = [value.parallel, value.serial]
            for k in kernels:
                if k.loaded is not None:
                    stats = k.loaded.stats
                    made[k.loaded.py_func.__qualname__] = [sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]
names = [ev.data["dispatcher"].py_func.__qualname__ for _, ev in compiled.buffer if ev.is_start]
print(json.dumps({"compiled": names, "made": made}))
"""


def test_warm_cache_first_encode_compiles_nothing_and_loads_only_the_kernels_it_calls():
    """Start-up (issue 16): with the cache filled by an earlier process, a first encode loads each kernel it
    calls from Python once and compiles nothing; kernels called only from other kernels (linked into
    their callers' cached code) never get a dispatcher. A kernel that cannot be cached, or one typed
    again on a warm cache, would show here."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = []
    for _ in range(2):  # the first fills the cache if this checkout's is cold
        proc = subprocess.run([sys.executable, "-c", _WARM_PROBE], capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    warm = runs[1]
    assert warm["compiled"] == []
    assert warm["made"], "the encode made no kernel dispatcher"
    assert {name: counts for name, counts in warm["made"].items() if counts != [1, 0]} == {}


# -- banded encoding ----------------------------------------------------------------------------------


def _whole_array_bytes(img, quality, subsampling):
    qt = validate_tables(None, quality)
    layout, blocks, tq = image_to_mcu_blocks(np.ascontiguousarray(img), qt, subsampling)
    return write_baseline(layout, [1] if img.ndim == 2 else [1, 2, 3], blocks, qt, tq)


def _images():
    rng = np.random.default_rng(7)
    ramp = np.add.outer(np.arange(300), np.arange(260)).astype(np.uint8)
    yield np.dstack([ramp, ramp[::-1], ramp * 3]), "4:2:0"
    yield rng.integers(0, 256, (250, 330, 3), dtype=np.uint8), "4:2:0"  # long codes, many 0xFF bytes
    yield np.full((200, 200, 3), 255, np.uint8), "4:4:4"
    yield rng.integers(0, 256, (203, 177), dtype=np.uint8), "4:4:4"
    yield rng.integers(0, 256, (130, 300, 3), dtype=np.uint8), "4:1:1"


def _ranges(k):
    """A ``banded._range_bounds`` that cuts the iMCU rows into k ranges (fewer when there are fewer rows)."""
    return lambda nstrips, strip_blocks: np.unique(np.linspace(0, nstrips, k + 1).astype(np.int64))


@pytest.mark.parametrize("ranges", [1, 2, 3])
@pytest.mark.parametrize("band_blocks", [1, 700, 5000])
def test_banded_encode_gives_the_whole_array_bytes(monkeypatch, band_blocks, ranges):
    """Bands from one iMCU row up, coded as one range or as several joined ranges (each starting from
    the predictors of the row above, its bits shifted into place and stuffed)."""
    monkeypatch.setattr(banded, "BAND_BLOCKS", band_blocks)
    monkeypatch.setattr(banded, "_range_bounds", _ranges(ranges))
    for img, sub in _images():
        for q in (50, 95):
            assert fdjpeg.encode(img, quality=q, subsampling=sub) == _whole_array_bytes(img, q, sub), (img.shape, sub)


@pytest.mark.parametrize("ranges", [2, 5])
def test_banded_encode_on_threads_gives_the_whole_array_bytes(monkeypatch, ranges):
    """Images of at least PARALLEL_MIN_BLOCKS blocks: the ranges run in the parallel region when Numba
    has more than one thread (the serial twin otherwise: the same bytes either way)."""
    monkeypatch.setattr(banded, "_range_bounds", _ranges(ranges))
    rng = np.random.default_rng(11)
    noisy = rng.integers(0, 256, (530, 500, 3), dtype=np.uint8)
    noisy[:200] = noisy[:200] // 64 * 64
    ramp = np.add.outer(np.arange(700), np.arange(650)).astype(np.uint8)
    smooth = np.dstack([ramp, ramp[::-1], ramp // 2])
    for img, sub in ((noisy, "4:2:0"), (smooth, "4:2:2"), (noisy[..., 0], "4:4:4")):
        assert fdjpeg.encode(img, quality=90, subsampling=sub) == _whole_array_bytes(img, 90, sub), (img.shape, sub)


@given(
    h=st.integers(1, 120),
    w=st.integers(1, 120),
    band_blocks=st.integers(1, 400),
    ranges=st.integers(1, 4),
    sub=st.sampled_from(["4:2:0", "4:2:2", "4:4:0", "4:1:1", "4:4:4"]),
    gray=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_banded_encode_bytes_for_any_geometry(h, w, band_blocks, ranges, sub, gray, seed):
    """Every sampling, size and cut: a range's predictors come from the last MCU of the row above it,
    which holds dummy blocks wherever the image ends inside it."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w) if gray else (h, w, 3), dtype=np.uint8)
    img[: h // 2] = img[: h // 2] // 32 * 32  # smoother half: short codes, pending bits of every count
    old_bb, old_rb = banded.BAND_BLOCKS, banded._range_bounds
    banded.BAND_BLOCKS = band_blocks
    banded._range_bounds = _ranges(ranges)
    try:
        got = fdjpeg.encode(img, quality=90, subsampling=sub)
    finally:
        banded.BAND_BLOCKS, banded._range_bounds = old_bb, old_rb
    assert got == _whole_array_bytes(img, 90, sub)


def test_banded_output_buffer_grows_when_a_range_needs_more(monkeypatch):
    """One range grows its buffer in place; a range of several that fills its part of the shared buffer
    is coded again on the calling thread into a buffer that grows."""
    monkeypatch.setattr(banded, "_BYTES_PER_BLOCK", 1)
    img = np.random.default_rng(3).integers(0, 256, (160, 160, 3), dtype=np.uint8)
    big = np.random.default_rng(4).integers(0, 256, (520, 520, 3), dtype=np.uint8)
    for image in (img, big):
        for band_blocks, ranges in ((300, 1), (300, 2), (10**6, 1), (10**6, 3)):
            monkeypatch.setattr(banded, "BAND_BLOCKS", band_blocks)
            monkeypatch.setattr(banded, "_range_bounds", _ranges(ranges))
            assert fdjpeg.encode(image, quality=100) == _whole_array_bytes(image, 100, "4:2:0")
