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


def _run(code: str, env: dict, timeout: float = 600) -> float:
    """Wall-clock seconds of one fresh ``python -c code`` process; raises on a non-zero exit."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    return elapsed


#: The child of :func:`breakdown`: prints one JSON object of seconds (and the kernels loaded).
_BREAKDOWN_CHILD = r"""
import importlib.util, json, sys, time
clock = time.perf_counter
out = dict()
t = clock(); import numpy as np; out["import numpy"] = clock() - t
t = clock(); import numba; from numba.core import caching; out["import numba"] = clock() - t
loads = []
_orig = caching.Cache.load_overload
def _load(self, sig, ctx):
    t0 = clock(); r = _orig(self, sig, ctx)
    loads.append([getattr(self, "_py_func", None).__qualname__, clock() - t0, r is not None])
    return r
caching.Cache.load_overload = _load
t = clock(); import fdjpeg; out["import fdjpeg"] = clock() - t
t = clock(); fn = getattr(fdjpeg, {op!r}); out["look-up (lazy imports)"] = clock() - t
arg = np.load({img!r}) if {op!r} == "encode" else open({jpg!r}, "rb").read()
kw = dict(quality=75, subsampling="4:2:0") if {op!r} == "encode" else {{}}
t = clock()
if importlib.util.find_spec("scipy") is not None:
    import scipy.linalg.cython_blas
out["BLAS probe (scipy.linalg)"] = clock() - t
t = clock()
from numba.core.registry import cpu_target
cpu_target.target_context.refresh(); cpu_target.typing_context.refresh()
out["Numba target set-up"] = clock() - t
t = clock(); fn(arg, **kw); out["call"] = clock() - t
out["cache loads"] = sum(dt for _, dt, _ in loads)
out["kernels"] = loads
t = clock(); fn(arg, **kw); out["second call"] = clock() - t
print(json.dumps(out))
"""


def breakdown(image: np.ndarray, runs: int, log=print) -> dict:
    """Per-part seconds of a warm-cache first encode and decode (medians of ``runs`` fresh processes)."""
    import json

    from .peers import pillow_encode

    base_env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    result = {}
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-parts-") as tmp:
        img, jpg = os.path.join(tmp, "img512.npy"), os.path.join(tmp, "img512.jpg")
        np.save(img, image)
        with open(jpg, "wb") as f:
            f.write(pillow_encode(image, quality=75, subsampling="4:2:0"))
        env = {**base_env, "NUMBA_CACHE_DIR": os.path.join(tmp, "cache")}
        result["python -c pass"] = median([_run("pass", base_env) for _ in range(runs)])
        for op in ("encode", "decode"):
            log(f"  first call parts: {op}")
            code = _BREAKDOWN_CHILD.format(op=op, img=img, jpg=jpg)
            records = []
            for i in range(runs + 1):  # the first fills the cache
                proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
                if proc.returncode != 0:
                    result[op] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
                    break
                if i:
                    records.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            else:
                parts = {k: median([r[k] for r in records]) for k in records[0] if k != "kernels"}
                parts["kernels"] = {
                    name: median([next((dt for n, dt, _ in r["kernels"] if n == name), 0.0) for r in records])
                    for name, _, _ in records[0]["kernels"]
                }
                result[op] = parts
    return result


def breakdown_section(parts: dict) -> str:
    """Markdown: one table of parts (ms, medians), encode and decode side by side, then the kernels."""
    keys = [
        "import numpy",
        "import numba",
        "import fdjpeg",
        "look-up (lazy imports)",
        "BLAS probe (scipy.linalg)",
        "Numba target set-up",
        "call",
        "cache loads",
        "second call",
    ]
    ops = [op for op in ("encode", "decode") if isinstance(parts.get(op), dict) and "error" not in parts[op]]
    lines = ["| part (ms, median) | " + " | ".join(f"first {op}" for op in ops) + " |", "|---" * (len(ops) + 1) + "|"]
    lines.append(
        "| interpreter (`python -c pass`, whole process) | "
        + " | ".join(f"{parts['python -c pass'] * 1e3:.0f}" for _ in ops)
        + " |"
    )
    for key in keys:
        label = {"cache loads": "of which: the kernels' cache loads", "second call": "(a second call, for scale)"}.get(
            key, key
        )
        lines.append(f"| {label} | " + " | ".join(f"{parts[op][key] * 1e3:.1f}" for op in ops) + " |")
    total = {op: parts["python -c pass"] + sum(parts[op][k] for k in keys[:6] + ["call"]) for op in ops}
    lines.append("| sum (interpreter .. call) | " + " | ".join(f"{total[op] * 1e3:.0f}" for op in ops) + " |")
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
    args = ap.parse_args(argv)
    parts = breakdown(mosaic(512, 512), args.runs, log=lambda m: print(m, file=sys.stderr))
    print(breakdown_section(parts))
    return 0


def _fdjpeg_has(op: str | None) -> bool:
    if op is None:
        return True
    code = f"import sys, fdjpeg; sys.exit(0 if hasattr(fdjpeg, {op!r}) else 3)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def _median_or_error(fn, runs: int) -> dict:
    try:
        times = [fn() for _ in range(runs)]
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"median_s": median(times), "runs_s": times}


def measure(image: np.ndarray, runs: int, log=print, keys=None, empty: bool = True) -> dict:
    """Medians of ``runs`` fresh processes for every snippet: fdjpeg warm, fdjpeg empty, Pillow.
    ``keys``: only these snippets (default all); ``empty=False`` skips the empty-cache column (the slow one)."""
    from .peers import pillow_encode

    base_env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-first-") as tmp:
        img, jpg = os.path.join(tmp, "img512.npy"), os.path.join(tmp, "img512.jpg")
        np.save(img, image)
        with open(jpg, "wb") as f:
            f.write(pillow_encode(image, quality=75, subsampling="4:2:0"))
        fmt = {"img": img, "jpg": jpg}
        warm_env = {**base_env, "NUMBA_CACHE_DIR": os.path.join(tmp, "warm-cache")}

        def empty_env():
            return {**base_env, "NUMBA_CACHE_DIR": tempfile.mkdtemp(prefix="cache-", dir=tmp)}

        result = {"python -c pass": _median_or_error(lambda: _run("pass", base_env), runs), "rows": []}
        for key, label, fd_code, pil_code, op in SNIPPETS:
            if keys is not None and key not in keys:
                continue
            log(f"  first call: {key}")
            fd_code, pil_code = fd_code.format(**fmt), pil_code.format(**fmt)
            row = {"key": key, "label": label}
            if not _fdjpeg_has(op):
                row["fdjpeg warm"] = row["fdjpeg empty"] = {"na": "n/a (not implemented yet)"}
            else:
                try:  # the excluded warm-up that fills the warm cache (all snippets share it)
                    _run(fd_code, warm_env)
                    row["fdjpeg warm"] = _median_or_error(lambda code=fd_code: _run(code, warm_env), runs)
                except Exception as exc:
                    row["fdjpeg warm"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                if empty:
                    row["fdjpeg empty"] = _median_or_error(lambda code=fd_code: _run(code, empty_env()), runs)
            _median_or_error(lambda code=pil_code: _run(code, base_env), 1)  # warm the OS file cache, excluded
            row["Pillow"] = _median_or_error(lambda code=pil_code: _run(code, base_env), runs)
            result["rows"].append(row)
    return result


if __name__ == "__main__":
    sys.exit(main())
