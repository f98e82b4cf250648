"""Dataset scale (issue 14): distill a directory of ImageNet-sized JPEGs to a directory, and what Dask costs.

    python -m bench.dataset                      # 2,000 images, 3 runs: about 3-5 minutes on 2 cores
    python -m bench.dataset --count 200 --runs 1 --output -      # a quick look, printed only

The inputs: ``--count`` JPEGs of about 500x375 (every fourth one 375x500), Pillow q90 4:2:0, each a
seeded random crop of one of the bundled photos resized with Lanczos (bench/images.py's photos),
written once to ``--workdir`` and reused. The job: FD tables "robust", coefficient-domain requantize
(Pillow: decode + encode with the same tables, optimized Huffman, 4:2:0), one output file per input.

Timed, in interleaved rounds, medians of ``--runs``, each into a fresh output directory:
  * CLI: ``fdjpeg.cli.main(["distill", IN, "-o", OUT, "-j", "2"])`` in this process (the command minus
    the interpreter start-up);
  * Dask: ``fdjpeg.dataset.cluster.distill_dataset`` on a LocalCluster of 2 single-thread worker processes
    started beforehand (its start-up time is given apart);
  * Pillow pool: ``multiprocessing.Pool(2)`` (started beforehand) mapping open + decode + save per file, written
    atomically (temporary file, fsync, rename) as fdjpeg writes its outputs.
Then Dask's overhead: no-op tasks, and distill_dataset over the first ``--overhead-images`` images with
chunks of k images. The Markdown section replaces its earlier copy in RESULTS.md after bench/__main__'s
KEEP_MARKER (``--output -``: printed only).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import shutil
import statistics
import sys
import time

if __package__ in (None, ""):  # python bench/dataset.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

import fdjpeg
from bench import environment
from bench.__main__ import DEFAULT_OUTPUT, replace_kept_section

TITLE = "## Dataset scale: a directory of ImageNet-sized JPEGs, CLI vs Dask vs a Pillow pool (issue 14)"
TABLES = "robust"
WORKERS = 2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the inputs ---------------------------------------------------------------------------------------


def make_dataset(folder: str, count: int) -> list[str]:
    """``count`` q90 4:2:0 JPEGs of about 500x375 in ``folder`` (kept between runs)."""
    import io

    from PIL import Image
    from PIL.Image import Resampling

    os.makedirs(folder, exist_ok=True)
    names = [os.path.join(folder, f"img{i:06d}.jpg") for i in range(count)]
    if all(os.path.exists(n) for n in names):
        return names
    photos = [Image.fromarray(p) for p in fdjpeg.samples.load_all()]
    rng = np.random.default_rng(14)
    for i, name in enumerate(names):
        photo = photos[i % len(photos)]
        size = (375, 500) if i % 4 == 3 else (500, 375)
        w, h = photo.size
        scale = rng.uniform(0.55, 1.0)
        cw = min(w, round(scale * min(w, h * size[0] / size[1])))
        ch = min(h, round(cw * size[1] / size[0]))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        tile = photo.crop((x, y, x + cw, y + ch)).resize(size, Resampling.LANCZOS)
        buf = io.BytesIO()
        tile.save(buf, "JPEG", quality=90, subsampling=2)
        with open(name, "wb") as f:
            f.write(buf.getvalue())
    return names


# -- the three ways -----------------------------------------------------------------------------------

_QTABLES = None


def _pillow_init(qtables) -> None:
    global _QTABLES
    _QTABLES = qtables


def _pillow_one(job: tuple[str, str]) -> int:
    """The peer's job for one file: what fdjpeg's outputs get too, including the atomic write (a
    temporary file, fsync, rename: fdjpeg.base.io.write_atomic, a file writer, not a codec)."""
    from PIL import Image

    from fdjpeg.base.io import write_atomic

    src, dst = job
    buf = io.BytesIO()
    with Image.open(src) as im:
        im.save(buf, "JPEG", qtables=_QTABLES, subsampling=2, optimize=True)
    write_atomic(dst, buf.getvalue())
    return 1


def _warm(path: str) -> int:
    """Load fdjpeg and its compiled kernels in a worker process (client.run: every worker)."""
    with open(path, "rb") as f:
        fdjpeg.requantize(f.read(), fdjpeg.tables.resolve_tables(TABLES))
    return 0


def one_thread_costs(names: list[str], runs: int, qtables) -> dict[str, float]:
    """(wall, CPU) seconds per image on one thread of this process (no Dask, no pool): the work itself.
    CPU time (process_time) is what the core-hour arithmetic uses: other jobs on a shared machine
    stretch the wall time, much less the CPU time."""
    import io

    import numba
    from PIL import Image

    datas = []
    for n in names[:64]:
        with open(n, "rb") as f:
            datas.append(f.read())
    table = fdjpeg.tables.resolve_tables(TABLES)

    def pillow():
        for d in datas:
            with Image.open(io.BytesIO(d)) as im:
                im.save(io.BytesIO(), "JPEG", qtables=qtables, subsampling=2, optimize=True)

    fns = {
        "requantize": lambda: [fdjpeg.requantize(d, table) for d in datas],
        "batch": lambda: fdjpeg.requantize_batch(datas, table),
        "pillow": pillow,
    }
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        wall = {k: [] for k in fns}
        cpu = {k: [] for k in fns}
        for _ in range(runs + 1):  # the first round warms up
            for k, fn in fns.items():
                t, c = time.perf_counter(), time.process_time()
                fn()
                cpu[k].append((time.process_time() - c) / len(datas))
                wall[k].append((time.perf_counter() - t) / len(datas))
    finally:
        numba.set_num_threads(threads)
    return {k: (statistics.median(wall[k][1:]), statistics.median(cpu[k][1:])) for k in fns}


def _noop(i: int) -> int:
    return i


def _fresh(folder: str) -> str:
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def time_cli(src: str, out: str) -> float:
    from fdjpeg import cli

    t = time.perf_counter()
    rc = cli.main(["distill", src, "-o", out, "-j", str(WORKERS), "--tables", TABLES, "--quiet", "--no-progress"])
    elapsed = time.perf_counter() - t
    if rc != 0:
        raise RuntimeError(f"fdjpeg distill exited with {rc}")
    return elapsed


def time_dask(client, src: str, out: str, chunk_size: int) -> float:
    from fdjpeg.dataset.cluster import distill_dataset

    t = time.perf_counter()
    report = distill_dataset(src, out, TABLES, client=client, chunk_size=chunk_size, progress_bar=False)
    elapsed = time.perf_counter() - t
    if report.failed or report.skipped:
        raise RuntimeError(f"distill_dataset: {report}")
    return elapsed


def time_pillow(pool, names: list[str], out: str) -> float:
    jobs = [(n, os.path.join(out, os.path.basename(n))) for n in names]
    t = time.perf_counter()
    done = sum(pool.imap_unordered(_pillow_one, jobs, chunksize=16))
    elapsed = time.perf_counter() - t
    assert done == len(jobs)
    return elapsed


def check_equal(names: list[str], out: str, n: int = 20) -> None:
    """The timed outputs are the job asked for: fdjpeg.requantize's bytes (first ``n`` files)."""
    table = fdjpeg.tables.resolve_tables(TABLES)
    for name in names[:n]:
        with open(name, "rb") as f:
            want = fdjpeg.requantize(f.read(), table)
        with open(os.path.join(out, os.path.basename(name)), "rb") as f:
            if f.read() != want:
                raise AssertionError(f"{out}: {os.path.basename(name)} differs from fdjpeg.requantize")


# -- the run ------------------------------------------------------------------------------------------


def run(args) -> str:
    from distributed import Client, LocalCluster

    load_before = os.getloadavg()
    src = os.path.join(args.workdir, f"in-{args.count}")
    t = time.perf_counter()
    names = make_dataset(src, args.count)
    log(f"dataset: {len(names)} files in {src} ({time.perf_counter() - t:.1f} s)")
    mean_bytes = statistics.mean(os.path.getsize(n) for n in names)
    qtables = [t.flatten().tolist() for t in fdjpeg.tables.resolve_tables(TABLES)] * 2
    out = os.path.join(args.workdir, "out")

    t = time.perf_counter()
    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    startup = time.perf_counter() - t
    pool = multiprocessing.get_context("spawn").Pool(WORKERS, initializer=_pillow_init, initargs=(qtables,))
    try:
        warm = names[: 4 * WORKERS]  # JIT caches, imports in every process
        client.run(_warm, warm[0])
        _warm(warm[0])
        time_cli(warm[0], _fresh(out))
        time_dask(client, os.path.join(src, os.path.basename(warm[0])), _fresh(out), args.chunk)
        _fresh(out)
        pool.map(_pillow_one, [(n, os.path.join(out, os.path.basename(n))) for n in warm])
        times = {"cli": [], "dask": [], "pillow": []}
        for r in range(args.runs):
            times["cli"].append(time_cli(src, _fresh(out)))
            check_equal(names, out)
            times["dask"].append(time_dask(client, src, _fresh(out), args.chunk))
            check_equal(names, out)
            times["pillow"].append(time_pillow(pool, names, _fresh(out)))
            log(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))

        single = one_thread_costs(names, max(3, args.runs), qtables)
        noop_n = 400
        client.submit(_noop, -1).result()
        noop = []
        for _ in range(args.runs):
            t = time.perf_counter()
            client.gather(client.map(_noop, range(noop_n), pure=False))
            noop.append(time.perf_counter() - t)
        sub = os.path.join(args.workdir, "subset")
        _fresh(sub)
        for n in names[: args.overhead_images]:
            os.link(n, os.path.join(sub, os.path.basename(n)))
        chunk_rows = []
        for k in (1, 4, 16, 64):
            if k * 2 * WORKERS > args.overhead_images:
                continue  # fewer than two tasks per worker: the table would measure load imbalance
            ts = [time_dask(client, sub, _fresh(out), k) for _ in range(args.runs)]
            chunk_rows.append((k, statistics.median(ts)))
            log(f"chunk {k}: {statistics.median(ts):.2f} s")
    finally:
        pool.terminate()
        client.close()
        cluster.close()
    load_after = os.getloadavg()
    return render(args, names, mean_bytes, times, single, startup, noop_n, noop, chunk_rows, load_before, load_after)


def render(args, names, mean_bytes, times, single, startup, noop_n, noop, chunk_rows, load_before, load_after) -> str:
    n = len(names)
    med = {k: statistics.median(v) for k, v in times.items()}
    ips = {k: n / v for k, v in med.items()}
    # × Pillow: the median of the per-round ratios (each round's three runs saw about the same load)
    ratio = {k: statistics.median(p / t for t, p in zip(times[k], times["pillow"])) for k in times}
    env = environment.describe()
    rev = env.get("fdjpeg", "")
    noop_ms = statistics.median(noop) * 1e3 / noop_n  # wall per task, 2 workers busy
    per_task_ms = noop_ms * WORKERS  # one worker slot's time per task
    wall_s = med["dask"] * WORKERS / n  # a worker's wall seconds per image in the timed run (load included)
    cpu_s = single["batch"][1]  # CPU seconds per image of the call each Dask task makes
    work_s = cpu_s + per_task_ms / 1e3 / args.chunk  # plus Dask's share at the timed chunk size
    k95 = per_task_ms / 1e3 / (0.05 * cpu_s)
    lines = [
        TITLE,
        "",
        f"Command: `python -m bench.dataset{' --count ' + str(args.count) if args.count != 2000 else ''}"
        f"{' --runs ' + str(args.runs) if args.runs != 3 else ''}` (bench/dataset.py; not part of `python -m bench`). "
        f"{n} JPEGs of about 500×375 (every fourth 375×500), Pillow q90 4:2:0, mean {mean_bytes / 1024:.0f} KiB, "
        "crops of the bundled photos; the job: FD tables `robust` written into each file "
        "(fdjpeg: coefficient-domain requantize, output checked equal to `fdjpeg.requantize`; Pillow: decode + "
        "encode with the same tables, optimized Huffman, 4:2:0), one output file each on local disk. "
        f"2 workers everywhere; interleaved rounds, medians of {args.runs}. {env['CPU']}, {env['cores']}; "
        f"Pillow {env['Pillow']}; fdjpeg {rev}. Load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after (the machine is shared: absolute rates are noisy, same-run ratios less so).",
        "",
        "| way | wall (s) | images/s | × Pillow pool's images/s (median of per-round ratios) |",
        "|---|---:|---:|---:|",
    ]
    label = {
        "cli": f"`fdjpeg distill -j {WORKERS}` (2 threads, in-process: no interpreter start-up)",
        "dask": f"`distill_dataset` on a LocalCluster, {WORKERS} worker processes × 1 thread, chunks of {args.chunk} images",
        "pillow": f"Pillow, `multiprocessing.Pool({WORKERS})`, open + decode + save with the FD tables, written atomically (fsync + rename, as fdjpeg)",
    }
    for k in ("cli", "dask", "pillow"):
        lines.append(f"| {label[k]} | {med[k]:.2f} | {ips[k]:.0f} | {ratio[k]:.2f} |")
    lines += [
        "",
        f"Target ≥ 1.5× the Pillow pool: CLI {ratio['cli']:.2f}×, Dask {ratio['dask']:.2f}× "
        f"({'met' if min(ratio['cli'], ratio['dask']) >= 1.5 else 'not met'}). "
        f"The LocalCluster took {startup:.1f} s to start (not in the Dask row). Per round (s): "
        + "; ".join(
            f"cli {c:.1f}, dask {d:.1f}, pillow {p:.1f}"
            for c, d, p in zip(times["cli"], times["dask"], times["pillow"])
        )
        + ".",
        "",
        "The work itself, one thread of one process, first 64 images, median of "
        f"{max(3, args.runs)} rounds, wall / CPU ms per image: `fdjpeg.requantize` per file "
        f"{single['requantize'][0] * 1e3:.2f} / {single['requantize'][1] * 1e3:.2f}, `fdjpeg.requantize_batch` of "
        f"the 64 {single['batch'][0] * 1e3:.2f} / {single['batch'][1] * 1e3:.2f}, Pillow decode + save "
        f"{single['pillow'][0] * 1e3:.2f} / {single['pillow'][1] * 1e3:.2f} (Pillow's CPU time per image is "
        f"{single['pillow'][1] / single['batch'][1]:.2f}× the batch call's). This ratio bounds what any way of "
        "spreading the files over processes can reach.",
        "",
        f"Dask's overhead: {noop_n} no-op tasks on the 2 workers take {noop_ms:.2f} ms of wall each, i.e. about "
        f"{per_task_ms:.1f} ms of a worker's time per task (scheduler round trip, serialization). "
        f"distill_dataset over the first {args.overhead_images} images with k images per task:",
        "",
        "| images per task k | tasks | wall (s) | images/s | ms of a worker's wall time per image |",
        "|---:|---:|---:|---:|---:|",
    ]
    for k, t in chunk_rows:
        tasks = -(-args.overhead_images // k)
        per_image_ms = t * WORKERS * 1e3 / args.overhead_images
        lines.append(f"| {k} | {tasks} | {t:.2f} | {args.overhead_images / t:.0f} | {per_image_ms:.2f} |")
    imagenet, billion = 1.28e6, 1e9
    lines += [
        "",
        f"Arithmetic (from these measurements, not a claim about other machines): the batch call costs "
        f"{cpu_s * 1e3:.2f} ms of CPU per image; Dask adds {per_task_ms:.1f} ms per task, which is under 5 % of "
        f"a task's work from k ≈ {max(1, round(k95))} images per task, so chunks of {args.chunk} (or one WebDataset "
        f"shard, typically 1,000-10,000 images) hide it: {work_s * 1e3:.2f} ms of a core per image. "
        f"ImageNet (1.28 M images) is then {imagenet * work_s / 3600:.2f} core-hours, "
        f"{imagenet * work_s / 100 / 60:.1f} min of wall time on 100 single-core workers; a 1-billion-image "
        f"collection is {billion * work_s / 3600:,.0f} core-hours, {billion * work_s / 100 / 3600:.1f} h on 100 "
        f"workers ({billion * work_s / 100 / 86400:.2f} days). The timed Dask run spent "
        f"{wall_s * 1e3:.1f} ms of a worker's wall time per image (file reading, fsync'd atomic writes, Dask, and whatever else ran on the machine): "
        f"by that figure ImageNet is {imagenet * wall_s / 3600:.1f} and 10⁹ images {billion * wall_s / 3600:,.0f} "
        "core-hours, an upper bound. "
        "Reading and writing the files over a network (s3://, gs://) is not in these numbers: local disk here.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: str, section: str) -> None:
    """Put ``section`` after KEEP_MARKER in ``path``, replacing its earlier copy (same title)."""
    replace_kept_section(path, TITLE, section)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000, help="images in the directory (default: %(default)s)")
    ap.add_argument("--runs", type=int, default=3, help="rounds per median (default: %(default)s)")
    ap.add_argument(
        "--chunk", type=int, default=64, help="images per Dask task in the timed run (default: %(default)s)"
    )
    ap.add_argument("--overhead-images", type=int, default=512, help="images in the chunk-size table")
    ap.add_argument("--workdir", default="/tmp/fdjpeg-bench-dataset", help="inputs (kept) and outputs")
    ap.add_argument("--output", default=DEFAULT_OUTPUT, help="RESULTS.md to update, or - to print only")
    args = ap.parse_args(argv)
    if args.count < 1 or args.runs < 1 or args.chunk < 1 or args.overhead_images < 1:
        ap.error("--count, --runs, --chunk and --overhead-images must be positive")
    args.overhead_images = min(args.overhead_images, args.count)
    section = run(args)
    print(section)
    if args.output != "-":
        write_section(args.output, section)
        log(f"section written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
