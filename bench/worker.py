"""Worker process: time every case of one operation under one thread configuration.

The parent (``python -m bench``) starts one worker per (operation, thread configuration) with the thread
environment already set (``NUMBA_NUM_THREADS=1`` etc. for the single-thread column), because Numba and
OpenCV read their thread counts once, at start-up. The worker appends one JSON line per case to ``--out``,
so a crash in the code under test loses only the case that crashed.

Usage (internal): ``python -m bench.worker --op encode --threads 1 --store DIR --cases JSON --out FILE``
"""

from __future__ import annotations

import argparse
import json
import sys

from .cases import LIBRARIES, Case
from .images import ImageStore
from .peers import NOT_IMPLEMENTED, Unavailable, implementation, prepare_inputs, same_output
from .timing import compare

#: Environment of the single-thread column (set by the parent before the worker starts).
SINGLE_THREAD_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def configure_threads(threads: str) -> None:
    """Settings that must be made in-process (OpenCV's thread pool)."""
    if threads == "1":
        try:
            import cv2
        except ImportError:
            return
        cv2.setNumThreads(1)


def _failure(exc: BaseException) -> dict:
    if isinstance(exc, Unavailable):
        return {"na": str(exc)}
    if isinstance(exc, NotImplementedError):
        return {"na": NOT_IMPLEMENTED}
    return {"error": f"{type(exc).__name__}: {exc}"[:300]}


def _threading_layer() -> str | None:
    """Numba's threading layer, once a parallel kernel has run in this process (None before)."""
    try:
        import numba

        return numba.threading_layer()
    except Exception:
        return None


def run_case(case: Case, store: ImageStore, runs: int, min_run_s: float) -> dict:
    """Warm up every library once (excluded; its output feeds the output check), then time them together."""
    image = store.get(case.image)
    inputs = prepare_inputs(case, image)
    record = {"case": case.as_dict(), "image_bytes": int(image.nbytes), "libs": {}, "checks": {}}
    fns, outputs = {}, {}
    for lib in LIBRARIES[case.op]:
        try:
            fn = implementation(lib, case, inputs)
            outputs[lib] = fn()
            fns[lib] = fn
        except Exception as exc:  # reported in the table, never fatal
            record["libs"][lib] = _failure(exc)
    if "fdjpeg" in outputs:
        for lib, out in outputs.items():
            if lib != "fdjpeg":
                try:
                    record["checks"][lib] = same_output(outputs["fdjpeg"], out)
                except Exception as exc:  # an output of an unexpected type or shape
                    record["checks"][lib] = f"cannot compare ({type(exc).__name__})"
    del outputs  # large outputs must not sit in memory while timing
    try:
        timings = compare(fns, runs, min_run_s)
    except Exception as exc:  # the code under test failed after its warm-up succeeded
        for lib in fns:
            record["libs"][lib] = _failure(exc)
        return record
    for lib, t in timings.items():
        record["libs"][lib] = t.as_dict()
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.worker")
    ap.add_argument("--threads", required=True, choices=("1", "all"))
    ap.add_argument("--store", required=True)
    ap.add_argument("--cases", required=True, help="JSON list of cases")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--min-run-s", type=float, default=0.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    configure_threads(args.threads)
    store = ImageStore(args.store)
    for d in json.loads(args.cases):
        case = Case.from_dict(d)
        print(f"  [{'1 thread' if args.threads == '1' else 'all cores'}] {case.id}", file=sys.stderr, flush=True)
        try:
            record = run_case(case, store, args.runs, args.min_run_s)
        except Exception as exc:  # e.g. preparing the input failed: report it, go on with the next case
            record = {"case": case.as_dict(), "libs": {lib: _failure(exc) for lib in LIBRARIES[case.op]}, "checks": {}}
        record["threads"] = args.threads
        record["numba_threading_layer"] = _threading_layer()
        with open(args.out, "a") as f:
            f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
