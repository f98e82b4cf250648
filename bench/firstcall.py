"""First-call time: a fresh ``python -c "..."`` process timed end to end (interpreter start-up included).

fdjpeg compiles its Numba kernels on first use and caches them on disk, so its first call in a new process
costs either a cache load (warm cache) or a full compilation (empty cache). Both are measured with
``NUMBA_CACHE_DIR`` pointing at a private directory, so the checkout's own cache never interferes:

* warm cache: one directory, filled by one excluded warm-up process, then the measured processes;
* empty cache: a new empty directory for every measured process.

The peer is Pillow doing the same thing from a fresh process (it has nothing to compile; its column is
the same for both cache states). Each figure is the median of several fresh processes.

:func:`breakdown` splits the warm-cache first encode/decode into its parts, in one fresh process each,
doing explicitly and in order what the call does implicitly: import NumPy, import Numba, ``import fdjpeg``,
look the function up (imports the modules it needs), Numba's one-time target set-up (its registries, and
the BLAS probe that imports ``scipy.linalg`` when SciPy is installed), then the call, with each kernel's
cache load timed (a hook on Numba's ``Cache.load_overload``). ``python -m bench.firstcall`` prints it.

Which environment was measured changes the figures, so every result carries :func:`environment`:

* SciPy installed or not: Numba's first compile or cache load refreshes its target, which imports
  ``numba.np.arraymath``, whose BLAS probe imports ``scipy.linalg`` when SciPy is importable (about 0.1 s).
  ``pip install fdjpeg`` does not bring SciPy; the bench extra and many users' environments do.
* bytecode: a pip install byte-compiles every module, so a user's fresh process reads cached bytecode. A
  checkout run with ``PYTHONDONTWRITEBYTECODE=1`` compiles fdjpeg's sources in every process instead
  (about 45 ms of a first encode's look-up), so the measured processes get a private bytecode cache
  (``PYTHONPYCACHEPREFIX`` in the bench's temporary directory, filled by the excluded warm-up) unless
  ``--no-bytecode-cache`` asks for the raw setting.
* the interpreter: ``--python PATH`` measures another environment's installed fdjpeg (run from the
  temporary directory without ``PYTHONPATH``, so the checkout is not imported), e.g. a fresh venv made
  with ``pip install ".[test]"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .timing import median

#: (row key, label, fdjpeg snippet, Pillow snippet, fdjpeg operation it needs or None).
#: ``{img}`` is a .npy file with a 512x512 RGB photo mosaic, ``{jpg}`` a q75 4:2:0 JPEG of it.
SNIPPETS = (
    ("import", "`import` only", "import fdjpeg", "import PIL.Image", None),
    (
        "encode",
        "import + first encode of a 512×512 RGB image (q75, 4:2:0)",
        "import numpy as np, fdjpeg; fdjpeg.encode(np.load({img!r}), quality=75, subsampling='4:2:0')",
        "import io, numpy as np, PIL.Image; "
        "PIL.Image.fromarray(np.load({img!r})).save(io.BytesIO(), 'JPEG', quality=75, subsampling='4:2:0')",
        "encode",
    ),
    (
        "decode",
        "import + first decode of that image's JPEG",
        "import fdjpeg; fdjpeg.decode(open({jpg!r}, 'rb').read())",
        "import numpy as np, PIL.Image; np.asarray(PIL.Image.open({jpg!r}))",
        "decode",
    ),
)


#: Appended to every measured snippet: the child prints its clocks once the result exists, so the time to
#: the result is measured apart from the interpreter's exit (which follows it, and for a process that
#: imported Numba costs a few tenths of a second: its final collection walks Numba's objects).
RESULT_MARK = "; import time as _t; print('@result', _t.monotonic(), _t.process_time(), flush=True)"


class Target:
    """How the measured processes are started: the interpreter, its environment (``base_env``, default
    this process's, minus ``NUMBA_CACHE_DIR``, which each measurement sets) and its working directory."""

    def __init__(self, tmp: str, python: str | None = None, bytecode_cache: bool = True, base_env: dict | None = None):
        env = {k: v for k, v in (os.environ if base_env is None else base_env).items() if k != "NUMBA_CACHE_DIR"}
        self.python, self.cwd = python or sys.executable, None
        if python is not None:  # another environment: its installed fdjpeg, not this checkout
            env.pop("PYTHONPATH", None)
            self.cwd = tmp
        if bytecode_cache:  # as a pip install has it (see the module docstring)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        self.env = env

    def run(self, code: str, cache_dir: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
        env = self.env if cache_dir is None else {**self.env, "NUMBA_CACHE_DIR": cache_dir}
        return subprocess.run(
            [self.python, "-c", code], env=env, cwd=self.cwd, capture_output=True, text=True, timeout=timeout
        )


#: Describes the environment without importing what it describes.
_ENVIRONMENT_CHILD = r"""
import importlib.util, json, os, sys
from importlib import metadata

def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None

compress = importlib.util.find_spec("fdjpeg.encoder.compress").origin
print(json.dumps(dict(
    python=sys.version.split()[0],
    numpy=version("numpy"),
    numba=version("numba"),
    scipy=version("scipy") if importlib.util.find_spec("scipy") is not None else None,
    fdjpeg=os.path.dirname(importlib.util.find_spec("fdjpeg").origin),
    bytecode_cached=os.path.exists(importlib.util.cache_from_source(compress)),
)))
"""


def environment(target: Target) -> dict:
    """What the measured processes run on: versions, SciPy (None: not importable), where fdjpeg comes from,
    whether its bytecode is cached (ask after the warm-up)."""
    import json

    proc = target.run(_ENVIRONMENT_CHILD)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def environment_text(env: dict | None) -> str:
    """One sentence for the tables: which environment the figures come from."""
    if not env:
        return "environment not recorded"
    if "error" in env:
        return f"environment unknown ({env['error']})"
    scipy = (
        f"SciPy {env['scipy']} installed (Numba's BLAS probe imports scipy.linalg on the first kernel load)"
        if env.get("scipy")
        else "no SciPy (as `pip install fdjpeg`)"
    )
    code = "bytecode cached" if env.get("bytecode_cached") else "fdjpeg's bytecode not cached (compiled per process)"
    return (
        f"Python {env.get('python')}, NumPy {env.get('numpy')}, Numba {env.get('numba')}, {scipy}; {code}; "
        f"fdjpeg from {env.get('fdjpeg')}"
    )


def _children_cpu() -> float:
    """User + system CPU seconds of this process's waited-for children so far."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(code: str, target: Target, cache_dir: str | None = None, timeout: float = 600, cpu: bool = False):
    """Wall-clock seconds of one fresh ``python -c code`` process (``cpu``: its user + system CPU seconds);
    raises on a non-zero exit. When ``code`` ends with :data:`RESULT_MARK`, returns ``(whole, to_result)``:
    the process's seconds until its result (wall: the parent's clock at the start to the child's at the
    mark, both ``time.monotonic``, one system-wide clock; ``cpu``: the child's CPU seconds at the mark)."""
    cpu0, t0 = _children_cpu(), time.monotonic()
    proc = target.run(code, cache_dir, timeout)
    elapsed = (_children_cpu() - cpu0) if cpu else (time.monotonic() - t0)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    if not code.endswith(RESULT_MARK):
        return elapsed
    mark = next(line.split() for line in proc.stdout.splitlines() if line.startswith("@result "))
    return elapsed, (float(mark[2]) if cpu else float(mark[1]) - t0)


#: The child of :func:`breakdown`: prints one JSON object of seconds (and the kernels loaded). Each part's
#: garbage-collection time is recorded too: the first full collection after Numba is imported (~20 ms)
#: lands in whichever part crosses the threshold (usually the look-up), whoever allocated the objects.
_BREAKDOWN_CHILD = r"""
import gc, importlib.util, json, sys, time
clock = time.{clock}
gc_time, gc_start = [0.0], [0.0]
def _gc(phase, info):
    if phase == "start":
        gc_start[0] = clock()
    else:
        gc_time[0] += clock() - gc_start[0]
gc.callbacks.append(_gc)
out, gcs = dict(), dict()
class part:
    def __init__(self, name):
        self.name = name
    def __enter__(self):
        self.t, self.g = clock(), gc_time[0]
    def __exit__(self, *exc):
        out[self.name] = clock() - self.t
        gcs[self.name] = gc_time[0] - self.g
with part("import numpy"):
    import numpy as np
with part("import numba"):
    import numba
    from numba.core import caching
loads = []
_orig = caching.Cache.load_overload
def _load(self, sig, ctx):
    t0 = clock(); r = _orig(self, sig, ctx)
    loads.append([getattr(self, "_py_func", None).__qualname__, clock() - t0, r is not None])
    return r
caching.Cache.load_overload = _load
with part("import fdjpeg"):
    import fdjpeg
with part("look-up (lazy imports)"):
    fn = getattr(fdjpeg, {op!r})
arg = np.load({img!r}) if {op!r} == "encode" else open({jpg!r}, "rb").read()
kw = dict(quality=75, subsampling="4:2:0") if {op!r} == "encode" else {{}}
with part("BLAS probe (scipy.linalg)"):
    if importlib.util.find_spec("scipy") is not None:
        import scipy.linalg.cython_blas
with part("Numba target set-up"):
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh(); cpu_target.typing_context.refresh()
with part("call"):
    fn(arg, **kw)
out["cache loads"] = sum(dt for _, dt, _ in loads)
out["kernels"] = loads
out["garbage collection"] = gc_time[0]
out["gc by part"] = gcs
with part("second call"):
    fn(arg, **kw)
out["end"] = [time.time(), time.process_time()]  # the parent times the interpreter's exit from here
print(json.dumps(out), flush=True)
"""

#: The parts of :func:`breakdown`, in order; with the interpreter's start they add up to the process. The
#: exit is the interpreter's finalization (its garbage collections over every object Numba's target
#: set-up made: ~0.1 s quiet, more under load) and is part of any fresh-process figure.
PARTS = (
    "import numpy",
    "import numba",
    "import fdjpeg",
    "look-up (lazy imports)",
    "BLAS probe (scipy.linalg)",
    "Numba target set-up",
    "call",
    "exit (interpreter teardown)",
)
#: Parts that are Numba's own whatever fdjpeg does, as long as it imports Numba at all.
NUMBA_PARTS = ("import numba", "BLAS probe (scipy.linalg)", "Numba target set-up", "exit (interpreter teardown)")


def _inputs(tmp: str, image: np.ndarray) -> dict:
    from .peers import pillow_encode

    img, jpg = os.path.join(tmp, "img512.npy"), os.path.join(tmp, "img512.jpg")
    np.save(img, image)
    with open(jpg, "wb") as f:
        f.write(pillow_encode(image, quality=75, subsampling="4:2:0"))
    return {"img": img, "jpg": jpg}


def breakdown(
    image: np.ndarray,
    runs: int,
    log=print,
    python: str | None = None,
    bytecode_cache: bool = True,
    ops=None,
    cpu: bool = False,
) -> dict:
    """Per-part seconds of a warm-cache first encode and decode (medians of ``runs`` fresh processes),
    and the :func:`environment` they ran in. ``python``: another environment's interpreter; ``cpu``: the
    parts in process CPU time (all threads; steadier than wall time on a loaded machine), the interpreter
    row then in the child's CPU time too."""
    import json

    result = {}
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-parts-") as tmp:
        target = Target(tmp, python, bytecode_cache)
        fmt = _inputs(tmp, image)
        cache = os.path.join(tmp, "cache")
        _run("pass", target)  # fills the bytecode cache of the interpreter's start-up
        result["python -c pass"] = median([_run("pass", target, cpu=cpu) for _ in range(runs)])
        result["clock"] = "process CPU time" if cpu else "wall time"
        for op in ops or ("encode", "decode"):
            log(f"  first call parts: {op}")
            code = _BREAKDOWN_CHILD.format(op=op, clock="process_time" if cpu else "perf_counter", **fmt)
            records = []
            for i in range(runs + 1):  # the first fills the caches
                cpu0 = _children_cpu()
                proc = target.run(code, cache)
                ended, cpu1 = time.time(), _children_cpu()
                if proc.returncode != 0:
                    result[op] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
                    break
                if i:
                    record = json.loads(proc.stdout.strip().splitlines()[-1])
                    wall_end, cpu_end = record.pop("end")
                    record["exit (interpreter teardown)"] = (cpu1 - cpu0 - cpu_end) if cpu else (ended - wall_end)
                    record["gc by part"]["exit (interpreter teardown)"] = 0.0  # not measured (inside the exit)
                    records.append(record)
            else:
                parts = {k: median([r[k] for r in records]) for k in records[0] if k not in ("kernels", "gc by part")}
                parts["kernels"] = {
                    name: median([next((dt for n, dt, _ in r["kernels"] if n == name), 0.0) for r in records])
                    for name, _, _ in records[0]["kernels"]
                }
                parts["gc by part"] = {k: median([r["gc by part"][k] for r in records]) for k in PARTS}
                parts["total"] = median([sum(r[k] for k in PARTS) for r in records])
                result[op] = parts
        result["environment"] = environment(target)
    return result


def breakdown_section(parts: dict) -> str:
    """Markdown: one table of parts (ms, medians), encode and decode side by side, then the kernels."""
    ops = [op for op in ("encode", "decode") if isinstance(parts.get(op), dict) and "error" not in parts[op]]
    lines = [f"Measured in: {environment_text(parts.get('environment'))}; {parts.get('clock', 'wall time')}.", ""]
    lines += ["| part (ms, median) | " + " | ".join(f"first {op}" for op in ops) + " |", "|---" * (len(ops) + 1) + "|"]
    lines.append(
        "| interpreter (`python -c pass`, whole process) | "
        + " | ".join(f"{parts['python -c pass'] * 1e3:.0f}" for _ in ops)
        + " |"
    )

    def cell(op, key):
        gc_ms = parts[op]["gc by part"].get(key, 0.0) * 1e3
        return f"{parts[op][key] * 1e3:.1f}" + (f" (GC {gc_ms:.0f})" if gc_ms >= 1 else "")

    for key in PARTS:
        lines.append(f"| {key} | " + " | ".join(cell(op, key) for op in ops) + " |")
        if key == "call":
            lines.append(
                "| of which: the kernels' cache loads | "
                + " | ".join(f"{parts[op]['cache loads'] * 1e3:.1f}" for op in ops)
                + " |"
            )
    lines.append(
        "| (a second call, for scale) | " + " | ".join(f"{parts[op]['second call'] * 1e3:.1f}" for op in ops) + " |"
    )
    total = {op: parts["python -c pass"] + parts[op]["total"] for op in ops}
    lines.append("| sum (interpreter .. exit) | " + " | ".join(f"{total[op] * 1e3:.0f}" for op in ops) + " |")
    lines.append(
        "| of which Numba's own (import, BLAS probe, target set-up, exit) | "
        + " | ".join(f"{sum(parts[op][k] for k in NUMBA_PARTS) * 1e3:.0f}" for op in ops)
        + " |"
    )
    lines.append(
        "| of which garbage collection (all parts) | "
        + " | ".join(f"{parts[op]['garbage collection'] * 1e3:.0f}" for op in ops)
        + " |"
    )
    lines.append("\n(GC n): milliseconds of that part spent in Python's garbage collector, whoever allocated.")
    for op in ops:
        kern = ", ".join(f"`{n}` {dt * 1e3:.1f}" for n, dt in parts[op]["kernels"].items())
        lines.append(f"\nKernels a first {op} loads from the cache (ms each): {kern}.")
    for op in ("encode", "decode"):
        if isinstance(parts.get(op), dict) and "error" in parts[op]:
            lines.append(f"\nfirst {op}: {parts[op]['error']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    from .images import mosaic

    ap = argparse.ArgumentParser(prog="python -m bench.firstcall", description="first-call breakdown, markdown")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", help="measure this interpreter's installed fdjpeg (e.g. a fresh venv's python)")
    ap.add_argument("--only", choices=("encode", "decode"), help="one operation only")
    ap.add_argument(
        "--no-bytecode-cache", action="store_true", help="keep the environment's bytecode setting (see the docstring)"
    )
    ap.add_argument("--totals", action="store_true", help="also time whole fresh processes (import + first encode)")
    ap.add_argument("--cpu", action="store_true", help="CPU time instead of wall time (a loaded machine)")
    args = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    image = mosaic(512, 512)
    ops = (args.only,) if args.only else None
    parts = breakdown(image, args.runs, log, args.python, not args.no_bytecode_cache, ops, args.cpu)
    print(breakdown_section(parts))
    if args.totals:
        first = measure(
            image,
            args.runs,
            log,
            keys=("encode",),
            empty=False,
            python=args.python,
            bytecode_cache=not args.no_bytecode_cache,
        )
        row = first["rows"][0]
        cells = {
            k: (
                f"{row[k]['to_result_s']:.3f} s to the result, {row[k]['median_s']:.3f} s whole"
                if "median_s" in row[k]
                else str(row[k])
            )
            for k in ("fdjpeg warm", "Pillow")
        }
        print(
            f"\nFresh processes, import + first 512² encode (median of {args.runs}): fdjpeg (warm cache) "
            f"{cells['fdjpeg warm']}; Pillow {cells['Pillow']}."
        )
    return 0


def _fdjpeg_has(op: str | None, target: Target) -> bool:
    if op is None:
        return True
    code = f"import sys, fdjpeg; sys.exit(0 if hasattr(fdjpeg, {op!r}) else 3)"
    return target.run(code).returncode == 0


def _median_or_error(fn, runs: int) -> dict:
    """``median_s`` and ``runs_s`` of ``runs`` calls of ``fn``; when it returns ``(whole, to_result)`` pairs
    (:func:`_run` of a marked snippet), ``median_s`` is the whole process's and ``to_result_s`` the other."""
    try:
        times = [fn() for _ in range(runs)]
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if times and isinstance(times[0], tuple):
        whole, to_result = [t[0] for t in times], [t[1] for t in times]
        return {
            "median_s": median(whole),
            "runs_s": whole,
            "to_result_s": median(to_result),
            "to_result_runs_s": to_result,
        }
    return {"median_s": median(times), "runs_s": times}


def measure(
    image: np.ndarray,
    runs: int,
    log=print,
    keys=None,
    empty: bool = True,
    python: str | None = None,
    bytecode_cache: bool = True,
    cpu: bool = False,
) -> dict:
    """Medians of ``runs`` fresh processes for every snippet: fdjpeg warm, fdjpeg empty, Pillow.
    ``keys``: only these snippets (default all); ``empty=False`` skips the empty-cache column (the slow one);
    ``python``/``bytecode_cache``: as :class:`Target`; ``cpu``: the processes' CPU seconds instead of wall
    time. ``result["environment"]``: :func:`environment`."""
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-first-") as tmp:
        target = Target(tmp, python, bytecode_cache)
        fmt = _inputs(tmp, image)
        warm = os.path.join(tmp, "warm-cache")
        _run("pass", target)  # fills the bytecode cache of the interpreter's start-up
        result = {"python -c pass": _median_or_error(lambda: _run("pass", target, cpu=cpu), runs), "rows": []}
        for key, label, fd_code, pil_code, op in SNIPPETS:
            if keys is not None and key not in keys:
                continue
            log(f"  first call: {key}")
            fd_code, pil_code = fd_code.format(**fmt) + RESULT_MARK, pil_code.format(**fmt) + RESULT_MARK
            row = {"key": key, "label": label}
            if not _fdjpeg_has(op, target):
                row["fdjpeg warm"] = row["fdjpeg empty"] = {"na": "n/a (not implemented yet)"}
            else:
                try:  # the excluded warm-up that fills the warm cache (all snippets share it)
                    _run(fd_code, target, warm)
                    row["fdjpeg warm"] = _median_or_error(lambda code=fd_code: _run(code, target, warm, cpu=cpu), runs)
                except Exception as exc:
                    row["fdjpeg warm"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                if empty:
                    row["fdjpeg empty"] = _median_or_error(
                        lambda code=fd_code: _run(code, target, tempfile.mkdtemp(prefix="cache-", dir=tmp), cpu=cpu),
                        runs,
                    )
            _median_or_error(lambda code=pil_code: _run(code, target), 1)  # warm the OS file cache, excluded
            row["Pillow"] = _median_or_error(lambda code=pil_code: _run(code, target, cpu=cpu), runs)
            result["rows"].append(row)
        result["environment"] = environment(target)
        result["clock"] = "process CPU time" if cpu else "wall time"
    return result


if __name__ == "__main__":
    sys.exit(main())
