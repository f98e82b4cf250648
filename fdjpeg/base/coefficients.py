"""Quantized DCT coefficients of a JPEG file: the exchange format between the entropy decoder, the
pixel reconstruction stage, the coefficient writer and the feature-distillation rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class JPEGCoefficients:
    """Everything needed to turn coefficients back into pixels or into a new file.

    ``components[c]`` is an int16 array (blocks_y, blocks_x, 8, 8) in natural order (rows = vertical
    frequency) covering the MCU-padded block grid, as libjpeg's coefficient arrays do:
    blocks_x = ceil(ceil(width * h / (8 * h_max)) / h) * h and likewise for rows. Blocks outside the
    image that a non-interleaved scan never codes are zero.
    """

    width: int
    height: int
    components: list[np.ndarray]
    quant_tables: list[np.ndarray]  # per component, uint16 (8, 8), natural order
    sampling: list[tuple[int, int]]  # (h, v) per component
    component_ids: list[int]
    colorspace: str  # how samples map to colour: "L", "YCbCr", "RGB", "CMYK" or "YCCK" (libjpeg's rules)
    progressive: bool = False
    header: Any = None  # the parsed JPEGHeader, when the coefficients came from a file
    #: Progressive files only: per component, int array (64,) of the successive-approximation bit
    #: position still missing for each coefficient (-1: never received, 0: complete), as libjpeg's
    #: ``coef_bits``; the decoder uses it to decide on block smoothing. None when complete/baseline.
    coef_bits: list[np.ndarray] | None = field(default=None, repr=False)
    #: Sample precision P of the frame: 8, or 12 (decoded to uint16 by decoder/idct12.py).
    precision: int = 8

    @property
    def max_sampling(self) -> tuple[int, int]:
        return max(h for h, _ in self.sampling), max(v for _, v in self.sampling)

    def __eq__(self, other):
        if not isinstance(other, JPEGCoefficients):
            return NotImplemented
        return (
            (self.width, self.height, self.sampling, self.component_ids, self.colorspace)
            == (other.width, other.height, other.sampling, other.component_ids, other.colorspace)
            and len(self.components) == len(other.components)
            and all(np.array_equal(a, b) for a, b in zip(self.components, other.components))
            and all(np.array_equal(a, b) for a, b in zip(self.quant_tables, other.quant_tables))
        )
