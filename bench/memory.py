"""Peak memory (RSS) of one operation, each (operation, library, size) in a fresh process.

In the child: import the library, load the input image, prepare the inputs (e.g. the JPEG to decode), and
run the operation once on a small input of the same kind (so JIT compilation, cache loading and thread
pools are set up beforehand and not counted). Then reset the kernel's high-water mark (``echo 5 >
/proc/self/clear_refs``) after returning freed heap memory to the OS (``malloc_trim``), read the resident set (VmRSS) as the baseline, run the operation once on the real
input, and read the high-water mark (VmHWM). The result is the peak increase over the baseline: the extra
memory the operation needs, output included, input excluded.

Where ``clear_refs`` is not writable, ``ru_maxrss`` is used instead (after minus before); that can
under-report when preparing the input peaked higher than the operation, and the table says so.

Usage (internal): ``python -m bench.memory --case JSON --lib NAME --store DIR`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import resource
import sys

from .cases import Case
from .images import ImageStore
from .peers import NOT_IMPLEMENTED, Unavailable, implementation, prepare_inputs

KIB = 1024


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _small(image):
    """A small input of the same kind (dimensions, dtype) for the warm-up call."""
    return image[:2].copy() if image.ndim == 4 else image[:64, :64].copy()


def _release_free_heap() -> None:
    """Give freed heap memory back to the OS (glibc ``malloc_trim``), so that the call under test has to
    fault in fresh pages instead of silently reusing memory that earlier steps freed but kept resident."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def measure(case: Case, lib: str, store: ImageStore) -> dict:
    image = store.get(case.image)
    result = {"image_bytes": int(image.nbytes)}
    try:
        inputs = prepare_inputs(case, image)
        fn = implementation(lib, case, inputs)
        implementation(lib, case, prepare_inputs(case, _small(image)))()
    except Unavailable as exc:
        return {**result, "na": str(exc)}
    except NotImplementedError:
        return {**result, "na": NOT_IMPLEMENTED}
    except Exception as exc:
        return {**result, "error": f"{type(exc).__name__}: {exc}"[:300]}
    gc.collect()
    _release_free_heap()
    if _reset_peak():
        method, before = "VmHWM", _status_kib("VmRSS")
        out = fn()
        after = _status_kib("VmHWM")
    else:
        method, before = "ru_maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = fn()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    return {**result, "method": method, "peak_delta_bytes": max(0, after - before) * KIB}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.memory")
    ap.add_argument("--case", required=True, help="JSON of one case")
    ap.add_argument("--lib", required=True)
    ap.add_argument("--store", required=True)
    args = ap.parse_args(argv)
    try:
        record = measure(Case.from_dict(json.loads(args.case)), args.lib, ImageStore(args.store))
    except Exception as exc:  # e.g. fdjpeg failing to import mid-development
        record = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
