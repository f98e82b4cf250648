"""Threads and processes (spec/codec.md section 5): fdjpeg must keep working in processes forked from a
parent that already ran its parallel kernels (multiprocessing, PyTorch's DataLoader), from several user
threads at once, and small images must not start Numba's threads at all.

Each scenario runs in a fresh interpreter (the threading layer is chosen once per process) under a
timeout, and every wait inside it has its own timeout, so a regression fails instead of hanging.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fdjpeg

_ROOT = str(Path(fdjpeg.__file__).resolve().parent.parent)

# Work for the scenarios: a 640x640 photo is over _jit.PARALLEL_MIN_BLOCKS for every stage (encode's
# front end and Huffman chunks, decode's IDCT and colour, requantize), a batch of four 256x256 images for
# distill; 224x224 is under it everywhere.
_SETUP = textwrap.dedent("""
    import numpy as np, numba, fdjpeg
    from fdjpeg import _jit, samples, tables
    photo = np.resize(samples.load("astronaut"), (640, 640, 3)).copy()
    small = np.ascontiguousarray(photo[:224, :224])
    batch = np.stack([np.resize(samples.load(n), (256, 256, 3)) for n in ("astronaut", "rocket") * 2])
    paper = tables.preset("paper")

    def work(size):
        img = photo if size == "large" else small
        data = fdjpeg.encode(img, quality=80)
        pixels = fdjpeg.decode(data)
        fd = fdjpeg.distill(batch if size == "large" else small, paper)
        rq = fdjpeg.requantize(data, paper)
        return len(data), int(pixels.sum()), int(fd.sum()), len(rq)

    def launched():
        try:
            return numba.threading_layer()
        except ValueError:
            return None
""")


def _run(body: str, timeout: float = 600, **env_extra) -> str:
    """Run _SETUP + body in a fresh interpreter with two Numba threads; its stdout (fails on error/timeout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}
    env["NUMBA_NUM_THREADS"] = "2"  # parallel regions even on a one-core machine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    env.update(env_extra)
    code = _SETUP + textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scenario hung for {timeout} s; stderr: {(exc.stderr or b'')[-2000:]!r}")
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}"
    return proc.stdout


_FORK_SCENARIO = """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    expected = {s: work(s) for s in ("large", "small")}
    layer = launched()
    assert layer is not None, "the parent ran no parallel region"
    ctx = mp.get_context("fork")
    sizes = ["large", "small", "large", "small"]
    with ctx.Pool(2) as pool:
        got = pool.map_async(work, sizes).get(timeout=60)  # TimeoutError if a child died
    assert got == [expected[s] for s in sizes], "Pool"
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        got = list(ex.map(work, sizes, timeout=60))  # BrokenProcessPool if a child died
    assert got == [expected[s] for s in sizes], "ProcessPoolExecutor"
    print("layer", layer)
"""


def test_forked_children_run_kernels_after_the_parent_ran_parallel_ones():
    """GNU OpenMP (Numba's default layer without TBB) killed every forked child that entered a parallel
    region once the parent had: Pool hung, ProcessPoolExecutor raised BrokenProcessPool."""
    out = _run(_FORK_SCENARIO)
    assert "layer tbb" in out or "layer workqueue" in out, out


def test_fork_safety_with_the_workqueue_fallback():
    """The layer fdjpeg falls back to where TBB is missing (forced here the user's way)."""
    out = _run(_FORK_SCENARIO, NUMBA_THREADING_LAYER="workqueue")
    assert "layer workqueue" in out, out


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch (pip install '.[torch]')")
def test_dataloader_workers_forked_after_parallel_kernels():
    """The main ML use: a DataLoader whose forked workers distill and re-encode, after the parent did."""
    _run("""
        import torch
        from torch.utils.data import DataLoader, Dataset
        expected = work("large")
        assert launched() is not None
        work("small")  # the workers' calls below are then all compiled or loaded here, before the fork
        fdjpeg.decode(fdjpeg.encode(fdjpeg.distill(batch[0], paper), quality=90))

        class Defended(Dataset):
            def __len__(self):
                return 4
            def __getitem__(self, i):
                fd = fdjpeg.distill(batch[i], paper)
                return torch.from_numpy(fdjpeg.decode(fdjpeg.encode(fd, quality=90))), work("large")[0]

        loader = DataLoader(Defended(), batch_size=2, num_workers=2, multiprocessing_context="fork", timeout=120)
        items = [(x.shape, n.tolist()) for x, n in loader]
        assert items == [((2, 256, 256, 3), [expected[0]] * 2)] * 2, items
    """)


def test_concurrent_calls_from_user_threads():
    """Large calls from four threads at once: fine under TBB, and under workqueue (not thread-safe:
    Numba aborts the process on concurrent parallel regions) only one thread enters one at a time."""
    body = """
        from concurrent.futures import ThreadPoolExecutor
        expected = work("large")
        with ThreadPoolExecutor(4) as ex:
            assert list(ex.map(lambda _: work("large"), range(8), timeout=180)) == [expected] * 8
        print("layer", launched())
    """
    assert "layer " in _run(body)
    assert "layer workqueue" in _run(body, NUMBA_THREADING_LAYER="workqueue")


def test_small_images_never_start_threads_and_the_layer_is_fork_safe():
    """A 224x224 encode, decode, distill and requantize run on the calling thread: Numba's thread pool
    is never started (no spinning or waking threads); large work then starts the chosen layer."""
    out = _run("""
        work("small")
        print("small", launched())
        work("large")
        print("large", launched(), _jit.CHOSEN_LAYER)
    """)
    assert "small None" in out, out
    layer, chosen = out.split("large ")[1].split()
    assert layer == chosen and layer in ("tbb", "workqueue"), out
    if _has_tbb_distribution():
        assert layer == "tbb", "the tbb package is installed but its library was not loaded"


def test_an_explicit_user_choice_of_layer_is_kept():
    out = _run("""
        work("large")
        print("layer", launched(), _jit.CHOSEN_LAYER)
    """, NUMBA_THREADING_LAYER="omp")
    assert "layer omp None" in out, out


def _has_tbb_distribution() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("tbb")
    except PackageNotFoundError:
        return False
    return sys.platform.startswith("linux")


def test_configuration_falls_back_to_workqueue_without_tbb(monkeypatch):
    import numba

    from fdjpeg import _jit

    monkeypatch.delenv("NUMBA_THREADING_LAYER", raising=False)
    monkeypatch.delenv("NUMBA_THREADING_LAYER_PRIORITY", raising=False)
    monkeypatch.setattr(_jit, "_load_tbb", lambda: False)
    monkeypatch.setattr(_jit, "_launched_layer", lambda: None)
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    assert _jit._configure_threading() == "workqueue"
    assert numba.config.THREADING_LAYER == "workqueue"
    monkeypatch.setattr(_jit, "_load_tbb", lambda: True)
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    assert _jit._configure_threading() == "tbb"
    assert _jit._configure_threading() is None  # a layer is set already (by fdjpeg here, or by the user)
    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "omp")
    assert _jit._configure_threading() is None
