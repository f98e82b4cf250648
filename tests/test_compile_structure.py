"""Cold-cache compile time: a large kernel is compiled once, not once per caller or per literal argument.

``base.jit.boundary`` makes other kernels call a kernel through a symbol instead of linking (and so
optimizing and compiling again) its code; a cached caller must find that symbol registered when a fresh
process loads it. Kernel-to-kernel calls in the fused encoder must not pass literal arguments, each of
which makes Numba compile the callee once more for that literal type.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from fdjpeg.base.jit import boundary, kernel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@kernel
def _weighted_sum(a, k):
    t = 0
    for x in a:
        t += x * k
    return t


_weighted_sum_b = boundary(_weighted_sum, "int64(int64[::1], int64)")


@kernel
def _caller(a):
    return _weighted_sum_b(a, 2) + _weighted_sum_b(a, np.int32(3))  # int32 converted to the signature's int64


def test_a_boundary_call_computes_the_same_and_does_not_carry_the_callees_code():
    a = np.arange(5, dtype=np.int64)
    assert _caller(a) == 50
    assert _weighted_sum_b(a, 4) == 40  # from Python: the target kernel
    import numba

    fresh = numba.njit(_caller.py_func)  # compiled here, not loaded from the cache: its LLVM IR is there
    assert fresh(a) == 50
    (ir,) = fresh.inspect_llvm().values()
    defined = [line for line in ir.splitlines() if line.startswith("define")]
    assert not [line for line in defined if "_weighted_sum" in line]
    assert any(line.startswith("declare") and _weighted_sum_b.symbol in line for line in ir.splitlines())


#: A kernel of another module that calls ``_caller`` (so, through it, the boundary).
_OTHER_MODULE = """
from fdjpeg.base.jit import kernel
from test_compile_structure import _caller


@kernel
def outer(a):
    return _caller(a) + 1
"""

_BOUNDARY_PROBE = r"""
import json, sys
import numpy as np
from numba.core import event
sys.path[:0] = sys.argv[1:3]
import other_module
with event.install_recorder("numba:compile") as rec:
    value = int(other_module.outer(np.arange(5, dtype=np.int64)))
names = [ev.data["dispatcher"].py_func.__qualname__ for _, ev in rec.buffer if ev.is_start]
print(json.dumps({"value": value, "compiled": names}))
"""


def test_a_cached_boundary_caller_loads_in_a_fresh_process(tmp_path):
    """The second process loads from the cache a kernel of another module that calls the boundary through
    ``_caller``: the symbol is registered before it loads (a missing one aborts the process) and nothing
    compiles."""
    (tmp_path / "other_module.py").write_text(_OTHER_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": ROOT}
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", _BOUNDARY_PROBE, HERE, str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert [r["value"] for r in runs] == [51, 51]
    assert "outer" in runs[0]["compiled"] and "_caller" in runs[0]["compiled"]
    assert runs[1]["compiled"] == []


def test_fused_encode_compiles_no_literal_specialization(monkeypatch):
    """A literal argument (f(x, 0), f(x, False), or a variable assigned 0 and changed later) would give the
    front end and the Huffman coder a second compiled copy on an empty cache."""
    from numba.core import types

    import fdjpeg
    from fdjpeg.encoder import banded, entropy, fused
    from fdjpeg.encoder.prepare import _prepare_strips

    img = np.random.default_rng(5).integers(0, 256, (96, 120, 3), dtype=np.uint8)
    monkeypatch.setattr(banded, "BAND_BLOCKS", 40)
    for k in (1, 3):  # one range (from Python), several (from _code_ranges' body: predictors from _last_mcu)
        monkeypatch.setattr(
            banded, "_range_bounds", lambda n, b, k=k: np.unique(np.linspace(0, n, k + 1).astype(np.int64))
        )
        fdjpeg.encode(img, quality=75, subsampling="4:2:0")
    for kern in (
        _prepare_strips.serial,
        fused._code_range,
        fused._last_mcu,
        fused._front_band,
        entropy._encode_range,
    ):
        for sig in kern.signatures:
            assert not [t for t in sig if isinstance(t, types.Literal)], (kern, sig)


def _literal_kernel_arguments(path: str, callers) -> list[str]:
    """Calls from the kernels ``callers`` to a kernel (a module-level or imported name) in the source file
    ``path`` with a literal argument, or with a name the caller assigns a literal: ``name(line)`` of each."""
    import ast

    tree = ast.parse(open(path).read())
    top = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    top |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    top |= {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    found = []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name not in callers:
            continue
        literal_names = {
            t.id
            for n in ast.walk(fn)
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        for call in ast.walk(fn):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in top:
                for arg in call.args:
                    if isinstance(arg, ast.Constant) or (isinstance(arg, ast.Name) and arg.id in literal_names):
                        found.append(f"{call.func.id}({call.lineno})")
    return found


def test_fused_kernels_pass_no_literal_to_kernels():
    """The same rule, read from the source (the signature check above sees it only on an empty cache), for the
    kernels around the front end and the coder (``_join``'s calls of the small ``_flush_bytes`` left)."""
    callers = ("_front_band", "_last_mcu", "_code_range", "_code_ranges")
    assert _literal_kernel_arguments(os.path.join(ROOT, "fdjpeg", "encoder", "fused.py"), callers) == []


def test_a_read_only_image_goes_through_the_front_end_boundary():
    """The boundary's pixel argument is typed read-only, which a writable array converts to (a writable
    type there refused read-only images: a TypingError)."""
    import fdjpeg

    img = np.random.default_rng(6).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    frozen = img.copy()
    frozen.setflags(write=False)
    assert fdjpeg.encode(frozen, quality=80) == fdjpeg.encode(img, quality=80)


def test_a_dispatcher_is_made_under_numbas_compiler_lock():
    """Regression: dispatchers were made under a lock of fdjpeg's own, inside which a boundary's target
    may be compiled (taking Numba's compiler lock), while a compilation in another thread (holding
    Numba's lock) that types an fdjpeg kernel makes that kernel's dispatcher (taking fdjpeg's lock): a
    cold-cache two-thread decode, whose worker thread compiles while the caller compiles, hung. Now both
    take only Numba's reentrant lock: a dispatcher waits for another thread's compilation to end, and is
    made at once inside this thread's own."""
    import threading

    from numba.core.compiler_lock import global_compiler_lock

    from fdjpeg.base import jit

    first, second = jit.kernel(lambda x: x + 1), jit.kernel(lambda x: x * 2)
    held, release, made = threading.Event(), threading.Event(), threading.Event()

    def compiling_elsewhere():
        with global_compiler_lock:
            held.set()
            release.wait(60)

    threading.Thread(target=compiling_elsewhere, daemon=True).start()
    assert held.wait(60)
    threading.Thread(target=lambda: (first.dispatcher(), made.set()), daemon=True).start()
    try:
        assert not made.wait(0.5)  # it waits for the other thread's compilation (before: made at once)
    finally:
        release.set()
    assert made.wait(60) and first(2) == 3
    with global_compiler_lock:  # inside a compilation of this thread: no wait
        assert second.dispatcher() is not None
    assert second(3) == 6
