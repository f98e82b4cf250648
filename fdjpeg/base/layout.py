"""Frame geometry, computed in one place for the encoder, the coefficient reader, the decoder and the
validator: per-component sample and block sizes, the MCU-padded block grids (T.81 A.1.1, A.2; libjpeg's
jdinput.c/jcmaster.c per-component sizes), the MCU order of an interleaved scan, and the names of the
chroma subsamplings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .jit import kernel

#: Luma sampling factors (H, V) for each chroma subsampling name (chroma is always 1x1), as libjpeg,
#: Pillow and the encoder's ``subsampling=`` name them.
SUBSAMPLING = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2), "4:4:0": (1, 2), "4:1:1": (4, 1)}
#: The inverse, for describing files (plus 4:1:0, which files may carry but the encoder does not write).
SUBSAMPLING_NAMES = {hv: name for name, hv in SUBSAMPLING.items()} | {(4, 2): "4:1:0"}


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def component_size(width: int, height: int, h: int, v: int, hmax: int, vmax: int) -> tuple[int, int]:
    """(width, height) in samples of a component with sampling factors h x v in a frame whose largest
    factors are hmax x vmax (T.81 A.1.1: x_i = ceil(X * H_i / H_max))."""
    return ceil_div(width * h, hmax), ceil_div(height * v, vmax)


def component_blocks(width: int, height: int, h: int, v: int, hmax: int, vmax: int) -> tuple[int, int]:
    """(height_in_blocks, width_in_blocks): the blocks that hold the component's samples."""
    cw, ch = component_size(width, height, h, v, hmax, vmax)
    return ceil_div(ch, 8), ceil_div(cw, 8)


def component_grid(width: int, height: int, h: int, v: int, hmax: int, vmax: int) -> tuple[int, int]:
    """(rows, cols) of the component's MCU-padded block grid: whole MCUs of h x v blocks."""
    by, bx = component_blocks(width, height, h, v, hmax, vmax)
    return ceil_div(by, v) * v, ceil_div(bx, h) * h


@dataclass(frozen=True)
class FrameLayout:
    """Block geometry of a frame (T.81 A.1.1, libjpeg's jdinput/jcmaster per-component sizes)."""

    width: int
    height: int
    sampling: tuple[tuple[int, int], ...]

    @property
    def max_h(self) -> int:
        return max(h for h, _ in self.sampling)

    @property
    def max_v(self) -> int:
        return max(v for _, v in self.sampling)

    @property
    def interleaved(self) -> bool:
        return len(self.sampling) > 1

    @property
    def mcus_x(self) -> int:
        return ceil_div(self.width, 8 * self.max_h) if self.interleaved else self.blocks(0)[1]

    @property
    def mcus_y(self) -> int:
        return ceil_div(self.height, 8 * self.max_v) if self.interleaved else self.blocks(0)[0]

    def size(self, c: int) -> tuple[int, int]:
        """(width, height) in samples of component c."""
        h, v = self.sampling[c]
        return component_size(self.width, self.height, h, v, self.max_h, self.max_v)

    def blocks(self, c: int) -> tuple[int, int]:
        """(height_in_blocks, width_in_blocks): the blocks that hold image samples."""
        h, v = self.sampling[c]
        return component_blocks(self.width, self.height, h, v, self.max_h, self.max_v)

    def grid(self, c: int) -> tuple[int, int]:
        """(rows, cols) of the MCU-padded block grid of component c."""
        h, v = self.sampling[c]
        return component_grid(self.width, self.height, h, v, self.max_h, self.max_v)

    @property
    def scan_sampling(self) -> tuple[tuple[int, int], ...]:
        """Blocks per MCU of each component in the (single) scan: the sampling factors when
        interleaved, one block for a single-component scan (T.81 A.2.2)."""
        return self.sampling if self.interleaved else ((1, 1),)

    @property
    def blocks_per_mcu(self) -> int:
        return sum(h * v for h, v in self.scan_sampling)

    def transmission_order(self) -> np.ndarray:
        """Indices into the concatenated component grids (rows * cols, 64) in transmission order."""
        sizes = [r * c for r, c in (self.grid(i) for i in range(len(self.sampling)))]
        offsets = np.cumsum([0] + sizes[:-1])
        return transmission_order(
            offsets, [self.grid(c)[1] for c in range(len(self.sampling))], self.scan_sampling, self.mcus_x, self.mcus_y
        )

    def prepare_geometry(self) -> np.ndarray:
        """Per component (h, v, width_in_blocks, height_in_blocks, h_expand, v_expand, first block in
        the MCU), the table that prepare._prepare_strips works from."""
        geom = np.zeros((len(self.sampling), 7), np.int64)
        offset = 0
        for c, ((h, v), (sh, sv)) in enumerate(zip(self.sampling, self.scan_sampling)):
            by, bx = self.blocks(c)
            geom[c] = (sh, sv, bx, by, self.max_h // h, self.max_v // v, offset)
            offset += sh * sv
        return geom


@kernel
def _transmission_order(offsets, grid_cols, hs, vs, mcus_x, mcus_y):
    """Block rows in interleaved MCU order (T.81 A.2.3): per MCU, each component's v x h blocks, row by row."""
    ncomp = offsets.shape[0]
    per_mcu = 0
    for c in range(ncomp):
        per_mcu += hs[c] * vs[c]
    order = np.empty(mcus_x * mcus_y * per_mcu, dtype=np.int64)
    k = 0
    for my in range(mcus_y):
        for mx in range(mcus_x):
            for c in range(ncomp):
                for v in range(vs[c]):
                    for h in range(hs[c]):
                        order[k] = offsets[c] + (my * vs[c] + v) * grid_cols[c] + mx * hs[c] + h
                        k += 1
    return order


def transmission_order(offsets, grid_cols, sampling, mcus_x, mcus_y) -> np.ndarray:
    """Indices into the concatenated (rows * cols, 64) component grids, in transmission order.

    For a single-component (non-interleaved) scan pass sampling [(1, 1)] and the component's real
    block counts as mcus_x, mcus_y (T.81 A.2.2).
    """
    hs = np.array([h for h, _ in sampling], dtype=np.int64)
    vs = np.array([v for _, v in sampling], dtype=np.int64)
    return _transmission_order(
        np.asarray(offsets, dtype=np.int64), np.asarray(grid_cols, dtype=np.int64), hs, vs, int(mcus_x), int(mcus_y)
    )
