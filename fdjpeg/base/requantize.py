"""The one-pass feature-distillation defense in the coefficient domain (spec/feature-distillation.md
section 4): every coefficient is dequantized with the file's table and re-quantized with the crafted
one. It sits in the base because both the decoder (``decode(..., defense=)``) and fd/distill.py
(``requantize``, which writes the result as a file) use it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .coefficients import JPEGCoefficients
from .errors import UnsupportedJPEG
from .jit import kernel, parallel_kernel, prange
from .quant import validate_fd_tables

#: Re-quantized coefficients are clamped to what 8-bit baseline Huffman coding can carry.
MAX_AC = 1023
MIN_DC, MAX_DC = -1024, 1023


def component_tables(tables, ncomp: int) -> list[np.ndarray]:
    """Validated tables per component: one table for all, or (luma, chroma) = component 0, the rest."""
    tabs = validate_fd_tables(tables)
    return [tabs[0] if c == 0 or len(tabs) == 1 else tabs[1] for c in range(ncomp)]


#: Numerators below 2**_N_BITS divide exactly by multiply-and-shift (below); int16 coefficients times
#: 16-bit table entries plus half a step stay below it.
_N_BITS = 31


@kernel
def _reciprocals(q_new, magic, shift):
    """Per frequency, ``magic`` and ``shift`` with floor(n / d) == (n * magic) >> shift for every
    0 <= n < 2**31, d = q_new[i] (Granlund & Montgomery 1994, Theorem 4.2: l = ceil(log2 d),
    magic = ceil(2**(31 + l) / d) <= 2**32, so n * magic < 2**63 fits int64)."""
    for i in range(64):
        d = np.int64(q_new[i])
        l = 0
        while (np.int64(1) << l) < d:
            l += 1
        shift[i] = _N_BITS + l
        magic[i] = ((np.int64(1) << (_N_BITS + l)) + d - 1) // d


@kernel
def _requantize_blocks(blocks, q_file, q_new, out):
    """out = clamp(round_half_up(|coef * Qfile| / Qnew) * sign) per coefficient; blocks (n, 64) natural order.

    The division is a multiply and a shift by per-frequency reciprocals (``_reciprocals``), so the
    inner loop has no branch and vectorizes; a numerator too large for them (not reachable from int16
    coefficients and 16-bit tables) takes the plain division."""
    magic = np.empty(64, np.int64)
    shift = np.empty(64, np.int64)
    _reciprocals(q_new, magic, shift)
    half = np.empty(64, np.int64)
    lo = np.empty(64, np.int64)
    hi = np.empty(64, np.int64)
    for i in range(64):
        half[i] = np.int64(q_new[i]) // 2
        lo[i] = -MAX_AC
        hi[i] = MAX_AC
    lo[0] = MIN_DC
    hi[0] = MAX_DC
    for b in range(blocks.shape[0]):
        for i in range(64):
            v = np.int64(blocks[b, i]) * np.int64(q_file[i])
            n = abs(v) + half[i]
            if n < (np.int64(1) << _N_BITS):
                m = (n * magic[i]) >> shift[i]
            else:
                m = n // np.int64(q_new[i])
            r = -m if v < 0 else m
            out[b, i] = min(max(r, lo[i]), hi[i])


_REQUANTIZE_TASK_BLOCKS = 4096


@parallel_kernel(work=lambda blocks, *args: blocks.shape[0] if blocks.shape[0] > _REQUANTIZE_TASK_BLOCKS else 0)
def _requantize_blocks_parallel(blocks, q_file, q_new, out):
    """_requantize_blocks over the threads, _REQUANTIZE_TASK_BLOCKS blocks per task."""
    n = blocks.shape[0]
    for t in prange((n + _REQUANTIZE_TASK_BLOCKS - 1) // _REQUANTIZE_TASK_BLOCKS):
        b0 = t * _REQUANTIZE_TASK_BLOCKS
        b1 = min(b0 + _REQUANTIZE_TASK_BLOCKS, n)
        _requantize_blocks(blocks[b0:b1], q_file, q_new, out[b0:b1])


def requantize_coefficients(coefs: JPEGCoefficients, tables) -> JPEGCoefficients:
    """The one-pass defense on coefficients: dequantize with the file's tables, re-quantize with
    ``tables`` (round half away from zero, clamped to the baseline range) and attach ``tables``."""
    if getattr(coefs, "precision", 8) != 8:  # 12-bit coefficients: FD's tables are for 8-bit files
        raise UnsupportedJPEG(f"feature distillation supports 8-bit files only; this one is {coefs.precision}-bit")
    new_tables = component_tables(tables, len(coefs.components))
    comps = []
    for blocks, q_file, q_new in zip(coefs.components, coefs.quant_tables, new_tables):
        flat = np.ascontiguousarray(blocks, dtype=np.int16).reshape(-1, 64)
        out = np.empty_like(flat)
        _requantize_blocks_parallel(
            flat, np.asarray(q_file, np.int64).reshape(64), np.asarray(q_new, np.int64).reshape(64), out
        )
        comps.append(out.reshape(blocks.shape))
    return replace(coefs, components=comps, quant_tables=[t.copy() for t in new_tables], coef_bits=None)
