"""Threading set-up, before and after (issue 11): small calls on a quiet and on a loaded machine.

Usage: ``python -m bench.threads [--before REV] [--runs N] [--firstcall-runs N] [--output bench/THREADS.md]``

*Before* is fdjpeg at commit ``--before`` (default: the commit before the threading change), extracted with
``git archive`` into a temporary directory and imported from there, with Numba's default layer (GNU OpenMP
when TBB's library is not on the loader path, as with pip's ``tbb`` wheel in a virtual environment) and
no serial dispatch of small work. *After* is this checkout (TBB through the ``tbb`` package, serial below
``base/jit.PARALLEL_MIN_BLOCKS``); *after, workqueue* is this checkout with ``NUMBA_THREADING_LAYER=workqueue``,
the fallback where TBB is missing.

Each configuration is one long-lived worker process (``python -m bench.threads --worker``) that builds its
inputs, warms every operation up (compilation excluded) and then answers "time OP" requests with the mean
seconds per call of one run (back-to-back calls lasting at least ``--min-run-s``). The parent asks all
configurations in interleaved rounds (the first one rotates), so a noisy patch on the machine hits every
column alike, and reports medians and the after/before ratio. *Loaded*: the same rounds while a busy-loop
process (``while True: pass``) is pinned to the last usable core, as a training loop or a data-loader
worker would occupy one. First-call: fresh processes with an empty ``NUMBA_CACHE_DIR``, before and after
alternating (bench/firstcall.py's runner).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from .environment import REPO, describe, usable_cores
from .report import fmt_ms, fmt_ratio, table
from .timing import calls_per_run, median, run_once

#: The commit before the threading change (GNU OpenMP by default, every parallel kernel always parallel).
DEFAULT_BEFORE = "2abb61f"

#: (key, label). Inputs: a 224x224 RGB photo crop, its q75 4:2:0 JPEG, the "paper" FD tables; a 1 MP photo.
OPERATIONS = (
    ("encode", "`encode` 224×224 (q75, 4:2:0)"),
    ("decode", "`decode` 224×224"),
    ("requantize", "`requantize` 224×224 (paper tables)"),
    ("distill_j1", "`distill -j 1` per PNG: `encode(img, paper, optimize=True)` 224×224"),
    ("distill", "`distill(img, paper)` one 224×224 image"),
    ("encode_1mp", "`encode` 1152×864 (q75, 4:2:0)"),
    ("decode_1mp", "`decode` 1152×864"),
)


# --- worker -----------------------------------------------------------------------------------------------


def _operations(inputs: str) -> dict:
    import numpy as np

    import fdjpeg
    from fdjpeg import tables

    small = np.load(os.path.join(inputs, "small.npy"))
    large = np.load(os.path.join(inputs, "large.npy"))
    small_jpg = fdjpeg.encode(small, quality=75, subsampling="4:2:0")
    large_jpg = fdjpeg.encode(large, quality=75, subsampling="4:2:0")
    paper = tables.preset("paper")
    return {
        "encode": lambda: fdjpeg.encode(small, quality=75, subsampling="4:2:0"),
        "decode": lambda: fdjpeg.decode(small_jpg),
        "requantize": lambda: fdjpeg.requantize(small_jpg, paper),
        "distill_j1": lambda: fdjpeg.encode(small, paper, subsampling="4:4:4", optimize=True),
        "distill": lambda: fdjpeg.distill(small, paper),
        "encode_1mp": lambda: fdjpeg.encode(large, quality=75, subsampling="4:2:0"),
        "decode_1mp": lambda: fdjpeg.decode(large_jpg),
    }


def worker(inputs: str, min_run_s: float) -> None:
    """Serve "OP" lines on stdin with one JSON line each: mean seconds per call of one run."""
    import numba

    ops = _operations(inputs)
    inner = {}
    for name, fn in ops.items():
        fn()
        fn()  # warm-up: compilation or cache loading, first touch of the buffers
        inner[name] = calls_per_run(fn, min_run_s)
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "not started"
    print(json.dumps({"ready": True, "layer": layer, "threads": numba.get_num_threads()}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        print(json.dumps({"s": run_once(ops[name], inner[name])}), flush=True)


# --- parent ------------------------------------------------------------------------------------------------


class Worker:
    def __init__(self, label: str, pythonpath: str, inputs: str, min_run_s: float, env_extra: dict):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_THREADING_LAYER")}
        env.update(env_extra)
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, str(REPO)])  # fdjpeg from pythonpath, bench from REPO
        self.label = label
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.threads", "--worker", inputs, "--min-run-s", str(min_run_s)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=pythonpath,
        )  # fmt: skip
        hello = json.loads(self.proc.stdout.readline())
        self.layer = hello["layer"]

    def time(self, op: str) -> float:
        self.proc.stdin.write(op + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["s"]

    def close(self) -> None:
        try:
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=60)


def extract(rev: str, dest: str) -> str:
    """fdjpeg/ of commit ``rev`` under ``dest``; returns the directory to put on PYTHONPATH."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "fdjpeg"], cwd=REPO, capture_output=True, check=True
    )
    os.makedirs(dest)
    path = os.path.join(dest, "fdjpeg.tar")
    with open(path, "wb") as f:
        f.write(archive.stdout)
    with tarfile.open(path) as tar:
        tar.extractall(dest, filter="data")
    return dest


def make_inputs(dest: str) -> None:
    import numpy as np

    from .images import mosaic

    np.save(os.path.join(dest, "small.npy"), mosaic(224, 224))  # the main bench's photo mosaics
    np.save(os.path.join(dest, "large.npy"), mosaic(1152, 864))


def busy_loop() -> subprocess.Popen:
    """A process spinning on the last usable core."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(proc.pid, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    time.sleep(0.5)
    return proc


def rounds(workers: list[Worker], runs: int) -> dict:
    """{(label, op): [seconds per call, one per round]}, configurations interleaved, first one rotating."""
    out = {}
    for r in range(runs):
        for op, _ in OPERATIONS:
            for k in range(len(workers)):
                w = workers[(r + k) % len(workers)]
                out.setdefault((w.label, op), []).append(w.time(op))
    return out


def first_call(before_path: str, runs: int) -> dict:
    """Fresh-process times with an empty Numba cache: {(label, size): [seconds]}, before/after alternating."""
    from .firstcall import Target, _run

    code = ("import numpy as np, fdjpeg; fdjpeg.encode(np.resize(fdjpeg.samples.load('astronaut'), ({n}, {n}, 3)), "
            "quality=75, subsampling='4:2:0')")  # fmt: skip
    out = {}
    for r in range(runs):
        for n in (512, 224):
            for label, path in (("before", before_path), ("after", str(REPO)))[:: 1 if r % 2 == 0 else -1]:
                env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
                with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-threads-") as cache:
                    env.update(PYTHONPATH=path)
                    target = Target(cache, bytecode_cache=False, base_env=env)
                    out.setdefault((label, n), []).append(_run(code.format(n=n), target, cache))
    return out


def render(meta: dict, quiet: dict, loaded: dict, layers: dict, firstcall: dict | None, labels: list[str]) -> str:
    parts = ["# Threading set-up: before and after (issue 11)", "", f"Command: `{meta['command']}`", ""]
    env = dict(meta["environment"])
    env["before"] = f"fdjpeg @ {meta['before']} (git archive), Numba's default layer"
    env["threading layers"] = ", ".join(f"{k}: {v}" for k, v in layers.items())
    env["load average at start"] = meta["load"]
    env["run time"] = f"{meta['seconds']:.0f} s"
    parts += [table(["", ""], [[k, v] for k, v in env.items()]), ""]
    parts += [
        (
            "Medians of per-call times over interleaved rounds (every configuration timed in each round, in "
            "rotating order), all cores. **ratio = after ÷ before** (below 1: faster now); in parentheses the "
            "lowest and highest ratio of single rounds. *Loaded*: a `while True: pass` process pinned to the last "
            "core throughout. The machine is shared: its own load (above) comes on top in both cases."
        ),
        "",
    ]
    for title, data in (("Quiet machine", quiet), ("Loaded machine (one core busy)", loaded)):
        header = ["operation"] + [f"{lab} (ms)" for lab in labels] + [f"{lab} ÷ before" for lab in labels[1:]]
        rows = []
        for op, label in OPERATIONS:
            before = data[(labels[0], op)]
            row = [label] + [fmt_ms(median(data[(lab, op)]) * 1e3) for lab in labels]
            for lab in labels[1:]:
                per_round = [a / b for a, b in zip(data[(lab, op)], before)]
                row.append(f"{fmt_ratio(median(data[(lab, op)]) / median(before))} "
                           f"({fmt_ratio(min(per_round))}–{fmt_ratio(max(per_round))})")  # fmt: skip
            rows.append(row)
        parts += [f"## {title}", "", table(header, rows), ""]
    parts += ["## First call, empty Numba cache", ""]
    if firstcall:
        parts += [
            (
                "Fresh `python -c` processes (interpreter start-up included), each with a new empty "
                "`NUMBA_CACHE_DIR`: `import fdjpeg` and one `encode` (q75, 4:2:0), before and after alternating. "
                "Below `PARALLEL_MIN_BLOCKS` the serial twins are compiled instead of the parallel kernels, above "
                "it the parallel ones as before."
            ),
            "",
            table(
                ["image", "before (s)", "after (s)", "after ÷ before"],
                [
                    [
                        f"{n}×{n}",
                        f"{median(firstcall[('before', n)]):.2f}",
                        f"{median(firstcall[('after', n)]):.2f}",
                        fmt_ratio(median(firstcall[("after", n)]) / median(firstcall[("before", n)])),
                    ]
                    for n in (512, 224)
                ],
            ),
            "",
        ]
    else:
        parts += ["Not run (`--firstcall-runs 0`).", ""]
    return "\n".join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.splitlines()[0])
    p.add_argument("--worker", metavar="INPUTS", help=argparse.SUPPRESS)
    p.add_argument("--before", default=DEFAULT_BEFORE, help=f"commit of the 'before' column (default {DEFAULT_BEFORE})")
    p.add_argument("--runs", type=int, default=9, help="rounds per median (default 9)")
    p.add_argument("--min-run-s", type=float, default=0.1, help="shortest run (back-to-back calls), seconds")
    p.add_argument("--firstcall-runs", type=int, default=3, help="fresh processes per first-call median (0: skip)")
    p.add_argument("--output", default=str(REPO / "bench" / "THREADS.md"))
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, args.min_run_s)
        return 0
    t0 = time.perf_counter()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    configs = (
        ("before", None, {}),
        ("after", str(REPO), {}),
        ("after, workqueue", str(REPO), {"NUMBA_THREADING_LAYER": "workqueue"}),
    )
    labels = [c[0] for c in configs]
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-threads-") as tmp:
        before_path = extract(args.before, os.path.join(tmp, "before"))
        inputs = os.path.join(tmp, "inputs")
        os.makedirs(inputs)
        make_inputs(inputs)
        print(
            f"bench.threads: starting {len(configs)} workers (the 'before' one compiles its kernels)", file=sys.stderr
        )
        workers = [Worker(label, path or before_path, inputs, args.min_run_s, env) for label, path, env in configs]
        try:
            layers = {w.label: w.layer for w in workers}
            print("bench.threads: quiet rounds", file=sys.stderr)
            quiet = rounds(workers, args.runs)
            print(f"bench.threads: loaded rounds (busy loop on core {max(os.sched_getaffinity(0))} of {usable_cores()})",
                  file=sys.stderr)  # fmt: skip
            busy = busy_loop()
            try:
                loaded = rounds(workers, args.runs)
            finally:
                busy.kill()
                busy.wait()
        finally:
            for w in workers:
                w.close()
        firstcall = None
        if args.firstcall_runs > 0:
            print("bench.threads: first calls with an empty cache", file=sys.stderr)
            firstcall = first_call(before_path, args.firstcall_runs)
    meta = {
        "command": "python -m bench.threads" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "environment": describe(),
        "before": args.before,
        "load": load,
        "seconds": time.perf_counter() - t0,
    }
    text = render(meta, quiet, loaded, layers, firstcall, labels)
    Path(args.output).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
