"""Quantization tables: the T.81 Annex K examples, libjpeg's quality scaling, and the validation every
entry point applies to user tables (natural order, 8x8, integers 1..255, never rescaled).

All tables are 8x8 uint16 arrays in natural (row-major) order; row index = vertical frequency.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np

# T.81 Table K.1 -- luminance quantization table (natural order).
ANNEX_K_LUMA = np.array(
    [
        [16, 11, 10, 16, 24, 40, 51, 61],
        [12, 12, 14, 19, 26, 58, 60, 55],
        [14, 13, 16, 24, 40, 57, 69, 56],
        [14, 17, 22, 29, 51, 87, 80, 62],
        [18, 22, 37, 56, 68, 109, 103, 77],
        [24, 35, 55, 64, 81, 104, 113, 92],
        [49, 64, 78, 87, 103, 121, 120, 101],
        [72, 92, 95, 98, 112, 100, 103, 99],
    ],
    dtype=np.uint16,
)
ANNEX_K_LUMA.setflags(write=False)

# T.81 Table K.2 -- chrominance quantization table (natural order).
ANNEX_K_CHROMA = np.array(
    [
        [17, 18, 24, 47, 99, 99, 99, 99],
        [18, 21, 26, 66, 99, 99, 99, 99],
        [24, 26, 56, 99, 99, 99, 99, 99],
        [47, 66, 99, 99, 99, 99, 99, 99],
    ]
    + [[99] * 8] * 4,
    dtype=np.uint16,
)
ANNEX_K_CHROMA.setflags(write=False)


def quality_scaling(quality: int) -> int:
    """libjpeg's ``jpeg_quality_scaling``: quality 1..100 -> percentage scale factor (5000/q below 50, 200-2q above)."""
    quality = min(max(int(quality), 1), 100)
    return 5000 // quality if quality < 50 else 200 - quality * 2


def scale_table(basic, scale_factor: int, force_baseline: bool = True) -> np.ndarray:
    """libjpeg's ``jpeg_add_quant_table``: (q*scale + 50) // 100, clamped to 1..32767 (1..255 for baseline)."""
    temp = (np.asarray(basic, dtype=np.int64) * scale_factor + 50) // 100
    temp = np.clip(temp, 1, 255 if force_baseline else 32767)
    return temp.astype(np.uint16).reshape(8, 8)


def standard(quality: int = 75) -> tuple[np.ndarray, np.ndarray]:
    """The (luma, chroma) tables libjpeg writes for ``quality`` (``jpeg_set_quality(q, force_baseline=TRUE)``)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
        raise TypeError(f"quality must be an int in 1..100, got {quality!r}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    scale = quality_scaling(quality)
    return scale_table(ANNEX_K_LUMA, scale), scale_table(ANNEX_K_CHROMA, scale)


def validate_table(table, name: str) -> np.ndarray:
    arr = np.asarray(table)
    if arr.size != 64 or arr.shape not in ((8, 8), (64,)):
        raise ValueError(f"{name} must be an 8x8 table (or 64 values in natural order), got shape {arr.shape}")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must contain integers 1..255") from None
    arr = arr.reshape(8, 8)
    bad = (
        ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 1) | (arr > 255)
        if arr.dtype.kind == "f"
        else (arr < 1) | (arr > 255)
    )
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}[{r}][{c}] = {arr[r, c]!r}: baseline quantization entries must be integers 1..255 "
            "(16-bit tables of extended files are kept only by write_coefficients, which writes SOF1)"
        )
    return arr.astype(np.uint16)


def validate_tables(tables, quality) -> list[np.ndarray]:
    """-> list of 1 or 2 tables (natural order uint16). Custom tables are never rescaled.

    Besides one table or (luma, chroma), the tables of a file are taken as its reader gives them:
    ``read_header(d).quant_tables`` (a mapping of DQT slots 0 / 0 and 1) and
    ``read_coefficients(d).quant_tables`` (one table per component: Cb and Cr must share one)."""
    if tables is not None and quality is not None:
        raise ValueError("give either tables or quality, not both (custom tables are never rescaled)")
    if tables is None:
        if quality is None:
            quality = 75
        if isinstance(quality, bool) or not isinstance(quality, Integral):
            raise TypeError(f"quality must be an int in 1..100, got {quality!r}")
        if not 1 <= quality <= 100:
            raise ValueError(f"quality must be in 1..100, got {quality}")
        return list(standard(int(quality)))
    if isinstance(tables, Mapping):  # DQT slot -> table, as JPEGHeader.quant_tables
        slots = sorted(tables)
        if slots not in ([0], [0, 1]):
            raise ValueError(
                f"tables as a mapping of DQT slots (read_header(...).quant_tables) must hold slot 0, or "
                f"0 (luma) and 1 (chroma); got slots {slots}"
            )
        return [validate_table(tables[k], f"tables[{k}]") for k in slots]
    if isinstance(tables, np.ndarray) and tables.ndim in (1, 2) or _looks_like_single_table(tables):
        return [validate_table(tables, "tables")]
    try:
        seq = list(tables)
    except TypeError:
        raise TypeError(
            f"tables must be an 8x8 table or a sequence of two (luma, chroma), got {type(tables).__name__}"
        ) from None
    if len(seq) == 3:  # one per component (Y, Cb, Cr), as JPEGCoefficients.quant_tables
        y, cb, cr = (validate_table(t, f"tables[{i}]") for i, t in enumerate(seq))
        if not np.array_equal(cb, cr):
            raise ValueError(
                "tables holds 3 tables (one per component) whose Cb and Cr tables differ; "
                "the encoder codes both chroma components with one table"
            )
        return [y] if np.array_equal(y, cb) else [y, cb]
    if len(seq) not in (1, 2):
        raise ValueError(
            f"tables must be one 8x8 table, a sequence of two (luma, chroma) or three per-component "
            f"tables (Y, Cb, Cr with Cb = Cr), got {len(seq)} tables"
        )
    return [validate_table(t, f"tables[{i}]") for i, t in enumerate(seq)]


def validate_fd_tables(tables) -> list[np.ndarray]:
    """``validate_tables`` for the feature-distillation calls (distill, requantize, the defense):
    there the tables are required, never a silent quality-75 default."""
    if tables is None:
        raise TypeError("tables is required: e.g. fdjpeg.tables.preset('paper') or fdjpeg.tables.standard(75)")
    return validate_tables(tables, None)


def _looks_like_single_table(tables) -> bool:
    try:
        arr = np.asarray(tables)
    except (ValueError, TypeError):
        return False
    return arr.dtype != object and arr.shape in ((8, 8), (64,))
