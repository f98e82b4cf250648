"""The decoder's IDCT stage: dequantize and inverse-transform whole planes, choosing per plane between
the lane kernels (idct_lanes.py) and the one-block reference (idct_islow.py), and spreading block
rows over threads.

Three arithmetics are modelled (see idct_islow.py): "simd" (libjpeg-turbo's x86-64 AVX2 kernel, the
default, as Pillow runs it), "c" (jidctint.c) and "c16" (jidctint.c with a 16-bit multiplier type).
"""

from __future__ import annotations

import numpy as np

from ..base.jit import kernel, parallel_kernel, prange
from .idct_islow import IDCT_ARITHMETIC, _idct_rows_exact
from .idct_lanes import _idct_rows_lanes


@kernel
def _idct_rows(cf, nbx_pad, q, out, by0, by1, out_by0, simd):
    if simd and out.shape[1] % 8 == 0:  # (the fast path writes 8-sample words)
        _idct_rows_lanes(cf, nbx_pad, q, out, by0, by1, out_by0)
    else:
        _idct_rows_exact(cf, nbx_pad, q, out, by0, by1, out_by0, simd)


@kernel
def _idct_islow_plane(coefs, q, out, simd):
    """IDCT every block that ``out`` covers: coefs (by, bx, 8, 8) int16 -> out (8*rows, 8*cols) uint8.

    ``coefs`` may be larger than ``out`` (the MCU padding is not reconstructed); both C-contiguous.
    """
    # (np.int64 / np.bool_: literal arguments would make Numba compile extra specializations.)
    cf = coefs.reshape(coefs.shape[0] * coefs.shape[1], 64)
    _idct_rows(cf, coefs.shape[1], q, out, np.int64(0), out.shape[0] // 8, np.int64(0), np.bool_(simd))


@kernel
def _idct_task(cfs, nbxs, qs, outs, tasks, t, simd):
    """Task t of _idct_planes: block rows tasks[t, 1]:tasks[t, 2] of component tasks[t, 0]."""
    ci = tasks[t, 0]
    _idct_rows(cfs[ci], nbxs[ci], qs[ci], outs[ci], tasks[t, 1], tasks[t, 2], np.int64(0), simd)


@kernel
def _idct_planes(cfs, nbxs, qs, outs, tasks, simd):
    """Several planes at once, by a task table (see idct_tasks): cfs[ci] the (n, 64) int16 coefficients
    of component ci on a grid nbxs[ci] blocks wide, qs[ci] its multipliers, outs[ci] its plane."""
    for t in range(tasks.shape[0]):
        _idct_task(cfs, nbxs, qs, outs, tasks, t, np.bool_(simd))


@parallel_kernel(work=lambda cfs, *args: sum([c.shape[0] for c in cfs]), serial=_idct_planes)
def _idct_planes_parallel(cfs, nbxs, qs, outs, tasks, simd):
    """_idct_planes with the tasks spread over the threads (not for use inside another prange)."""
    for t in prange(tasks.shape[0]):
        _idct_task(cfs, nbxs, qs, outs, tasks, t, np.bool_(simd))


def idct_tasks(block_rows, rows_per_task: int = 4) -> np.ndarray:
    """Task table for _idct_planes: (component, first block row, end block row), rows_per_task at a time."""
    tasks = [(ci, r, min(r + rows_per_task, n)) for ci, n in enumerate(block_rows) for r in range(0, n, rows_per_task)]
    return np.array(tasks, np.int64).reshape(-1, 3)


def _check_arithmetic(arithmetic: str) -> bool:
    if arithmetic not in IDCT_ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {IDCT_ARITHMETIC}, got {arithmetic!r}")
    return arithmetic == "simd"


def idct_multipliers(qtable, arithmetic: str = "simd") -> np.ndarray:
    """The 64 dequantization multipliers (int64, natural order) the chosen IDCT arithmetic uses
    (jddctmgr.c stores quantval as ISLOW_MULT_TYPE: 16-bit for "simd" and "c16", int for "c")."""
    q = np.asarray(qtable).reshape(64).astype(np.int64)
    if arithmetic == "c16":
        q = q.astype(np.uint16).view(np.int16).astype(np.int64)
    return np.ascontiguousarray(q)


def inverse_dct_dequantize(coefs, qtable, *, arithmetic: str = "simd") -> np.ndarray:
    """Dequantize and islow-IDCT quantized coefficients (by, bx, 8, 8) natural order -> uint8 (8*by, 8*bx).

    ``arithmetic="simd"`` (default) reproduces the AVX2 code Pillow's libjpeg-turbo runs on x86-64;
    ``"c"`` reproduces jidctint.c, ``"c16"`` jidctint.c with a 16-bit multiplier type. All agree
    except for coefficients whose dequantized values overflow 16 bits.
    """
    simd = _check_arithmetic(arithmetic)
    c = np.asarray(coefs)
    if c.ndim == 3 and c.shape[-1] == 64:
        c = c.reshape(c.shape[0], c.shape[1], 8, 8)
    if c.ndim != 4 or c.shape[2:] != (8, 8):
        raise ValueError(f"coefs must have shape (by, bx, 8, 8) or (by, bx, 64), got {c.shape}")
    q = idct_multipliers(qtable, arithmetic)
    out = np.empty((c.shape[0] * 8, c.shape[1] * 8), np.uint8)
    _idct_islow_plane(np.ascontiguousarray(c, dtype=np.int16), q, out, simd)
    return out
