"""First-call time: a fresh ``python -c "..."`` process timed end to end (interpreter start-up included).

fdjpeg compiles its Numba kernels on first use and caches them on disk, so its first call in a new process
costs either a cache load (warm cache) or a full compilation (empty cache). Both are measured with
``NUMBA_CACHE_DIR`` pointing at a private directory, so the checkout's own cache never interferes:

* warm cache: one directory, filled by one excluded warm-up process, then the measured processes;
* empty cache: a new empty directory for every measured process.

The peer is Pillow doing the same thing from a fresh process (it has nothing to compile; its column is
the same for both cache states). Each figure is the median of several fresh processes.
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
