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


_ADOBE_TRANSFORM = {"RGB": 0, "CMYK": 0, "YCCK": 2}


def _check_coefficients(coefs: JPEGCoefficients, layout) -> None:
    n = len(coefs.components)
    if n not in (1, 3, 4) or not (len(coefs.quant_tables) == len(coefs.sampling) == len(coefs.component_ids) == n):
        raise ValueError("JPEGCoefficients needs 1, 3 or 4 components, each with a table, sampling and id")
    from .encoder import check_dimensions

    check_dimensions(coefs.width, coefs.height, "JPEGCoefficients")
    for h, v in coefs.sampling:
        if not (1 <= h <= 4 and 1 <= v <= 4):
            raise ValueError(f"sampling factors must be 1..4, got {h}x{v}")
    if n > 1 and sum(h * v for h, v in coefs.sampling) > 10:
        raise ValueError("an interleaved MCU may hold at most 10 blocks (T.81 B.2.3)")
    for c, comp in enumerate(coefs.components):
        if not isinstance(comp, np.ndarray) or comp.dtype != np.int16:
            raise TypeError(f"components[{c}] must be an int16 array")
        want = layout.grid(c) + (8, 8)
        if comp.shape != want:
            raise ValueError(f"components[{c}] has shape {comp.shape}; this frame needs {want}")
        q = np.asarray(coefs.quant_tables[c])
        if q.shape != (8, 8) or q.min() < 1 or q.max() > 65535:
            raise ValueError(f"quant_tables[{c}] must be 8x8 with entries 1..65535")
    if len(set(coefs.component_ids)) != n or not all(0 <= i <= 255 for i in coefs.component_ids):
        raise ValueError(f"component ids must be distinct bytes, got {coefs.component_ids}")


def write_coefficients(coefs: JPEGCoefficients, *, optimize: bool = False, restart_interval: int = 0,
                       restart_rows: int = 0, keep_metadata: bool = True, arithmetic: bool = False) -> bytes:
    """Write quantized coefficients as a sequential JPEG without changing any coefficient.

    The frame keeps its size, sampling factors, component ids and quantization tables; the result is
    baseline (SOF0) unless a table has entries over 255 (then SOF1 with 16-bit DQT). Huffman tables are
    Annex K.3 or, with ``optimize``, optimal ones. ``keep_metadata`` carries EXIF, ICC profile and
    comment over from ``coefs.header``. ``arithmetic`` codes the scan with the arithmetic coder (SOF9,
    as ``jpegtran -arithmetic``; not with ``optimize``). ``read_coefficients(write_coefficients(c)) == c``.
    """
    from . import markers
    from .encoder import FrameLayout, _check_arithmetic, _int_arg, metadata_segments, write_baseline

    layout = FrameLayout(int(coefs.width), int(coefs.height), tuple((int(h), int(v)) for h, v in coefs.sampling))
    _check_coefficients(coefs, layout)
    _check_arithmetic(arithmetic, optimize)
    restart_interval = _int_arg(restart_interval, "restart_interval", 0, 65535)
    restart_rows = _int_arg(restart_rows, "restart_rows", 0, 65535)
    if restart_interval and restart_rows:
        raise ValueError("give restart_interval (in MCUs) or restart_rows (in MCU rows), not both")
    # One DQT slot per distinct table, in component order (at most 4 slots, T.81 B.2.4.1).
    slots: list[np.ndarray] = []
    tq = []
    for q in coefs.quant_tables:
        q = np.asarray(q, dtype=np.uint16).reshape(8, 8)
        match = next((i for i, s in enumerate(slots) if np.array_equal(s, q)), None)
        if match is None:
            slots.append(q)
            match = len(slots) - 1
        tq.append(match)
    header = coefs.header if keep_metadata else None
    apps, _ = metadata_segments(exif=getattr(header, "exif", None) or None,
                                icc_profile=getattr(header, "icc_profile", None) or None)
    coms = [markers.write_com(c) for c in getattr(header, "comments", ()) if c]  # every COM, in order
    colour = None
    if coefs.colorspace in _ADOBE_TRANSFORM:
        colour = markers.write_adobe(_ADOBE_TRANSFORM[coefs.colorspace])
    flat = np.concatenate([np.asarray(c, dtype=np.int16).reshape(-1, 64) for c in coefs.components])
    blocks = flat[layout.transmission_order()]
    return write_baseline(layout, list(coefs.component_ids), blocks, slots, tq, optimize=bool(optimize),
                          restart_interval=restart_interval, restart_rows=restart_rows, app_segments=apps,
                          com_segments=coms, colour_segment=colour, arithmetic=bool(arithmetic))
