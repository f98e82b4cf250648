"""Quantization tables, the public face: the T.81 Annex K tables and libjpeg's quality scaling
(``standard``), and the feature-distillation table design (band statistics, ``design``, presets,
JSON files) and the certified two-pass radius. The code lives in ``base/quant.py``, ``fd/design.py`` and
``fd/certify.py``.

All tables are 8x8 uint16 arrays in natural (row-major) order; row index = vertical frequency.
"""

from __future__ import annotations

from .base.quant import ANNEX_K_CHROMA, ANNEX_K_LUMA, quality_scaling, scale_table, standard
from .fd.certify import certified, certified_eps
from .fd.design import (
    COMPONENTS,
    PRESETS,
    RECOMMENDED,
    BandStats,
    band_statistics,
    band_std,
    design,
    load,
    preset,
    rank_bands,
    released_table,
    resolve_tables,
    save,
    semi_analytic_step,
)

__all__ = [
    "ANNEX_K_CHROMA",
    "ANNEX_K_LUMA",
    "COMPONENTS",
    "PRESETS",
    "RECOMMENDED",
    "BandStats",
    "band_statistics",
    "band_std",
    "design",
    "load",
    "preset",
    "quality_scaling",
    "rank_bands",
    "released_table",
    "save",
    "scale_table",
    "semi_analytic_step",
    "standard",
    "resolve_tables",
    "certified",
    "certified_eps",
]
