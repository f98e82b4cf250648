"""Quantization tables: the T.81 Annex K examples and libjpeg's quality scaling.

All tables are 8x8 uint16 arrays in natural (row-major) order; row index = vertical frequency.
"""

from __future__ import annotations

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


def released_table() -> np.ndarray:
    """The feature-distillation table in the authors' released code: 25 on the top-left 4x4 frequencies
    (the accuracy-sensitive band), 30 elsewhere; applied to every component.

    Source: Liu et al., "Feature Distillation: DNN-Oriented JPEG Compression Against Adversarial
    Examples" (CVPR 2019), public implementation; see spec/feature-distillation.md.
    """
    t = np.full((8, 8), 30, dtype=np.uint16)
    t[:4, :4] = 25
    return t
