"""Zigzag scan order (T.81 Figure A.6) and helpers between natural (row-major) and zigzag order.

fdjpeg stores every 8x8 table and coefficient block in natural order (rows = vertical frequency);
the zigzag order exists only on the wire (DQT entries, entropy-coded AC runs).
"""

from __future__ import annotations

import numpy as np


def _build_zigzag() -> np.ndarray:
    """Walk the anti-diagonals of the 8x8 block, alternating direction (T.81 Figure A.6)."""
    order = []
    for s in range(15):  # s = row + column
        cells = [(r, s - r) for r in range(8) if 0 <= s - r < 8]
        if s % 2 == 0:  # even diagonals run bottom-left -> top-right
            cells.reverse()
        order.extend(r * 8 + c for r, c in cells)
    return np.array(order, dtype=np.int32)


#: ``ZIGZAG[k]`` is the natural (row-major) index of the k-th coefficient in zigzag order.
ZIGZAG = _build_zigzag()
ZIGZAG.setflags(write=False)

#: ``UNZIGZAG[n]`` is the zigzag position of natural index n (the inverse permutation).
UNZIGZAG = np.argsort(ZIGZAG).astype(np.int32)
UNZIGZAG.setflags(write=False)

#: ZIGZAG padded with 16 entries of 63: a corrupt run length that overshoots k = 63 lands in a harmless
#: slot instead of outside the block (stb_image's dezigzag padding; libjpeg's jpeg_natural_order).
ZIGZAG_PADDED = np.concatenate([ZIGZAG, np.full(16, 63, dtype=np.int32)])
ZIGZAG_PADDED.setflags(write=False)


def to_zigzag(table) -> np.ndarray:
    """Return the 64 entries of an 8x8 (or flat natural-order) table in zigzag order."""
    return np.asarray(table).reshape(64)[ZIGZAG]


def from_zigzag(values) -> np.ndarray:
    """Return an 8x8 natural-order table from 64 values given in zigzag order."""
    out = np.empty(64, dtype=np.asarray(values).dtype)
    out[ZIGZAG] = np.asarray(values).reshape(64)
    return out.reshape(8, 8)
