"""What the validator's walker records about a file: its segments, tables, frame and scans, and each
problem found (``Problem``: severity, byte offset, message, stable code).

Severities: ``error`` (the file breaks T.81 in a way that decoders reject or must guess at),
``warning`` (legal but risky, or broken in a way libjpeg-turbo repairs), ``info`` (observations,
including the hardware-profile verdict).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..base import markers as M
from ..base.layout import SUBSAMPLING_NAMES, component_blocks

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Problem:
    """One finding: ``severity`` is "error", "warning" or "info"; ``offset`` the byte offset in the file
    (of the marker or field at fault); ``code`` a stable short identifier for scripts and tests."""

    severity: str
    offset: int
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.offset}: {self.severity}: {self.message}"


# --------------------------------------------------------------------------------------------------
# The structure the walker records


@dataclass
class SegmentInfo:
    offset: int  # of the 0xFF of the marker
    marker: int
    length: int | None  # the length field (None for standalone markers)

    @property
    def name(self) -> str:
        return M.marker_name(self.marker)


@dataclass
class ScanInfo:
    offset: int
    components: list  # [(component id, Td, Ta)]
    ss: int
    se: int
    ah: int
    al: int
    restart_interval: int
    data_offset: int = 0  # first byte of entropy-coded data
    data_bytes: int = 0  # entropy-coded bytes, RST markers included
    restarts: list = field(default_factory=list)  # [(offset, n)] of RSTn markers inside the scan
    mcus: int = 0


@dataclass
class Structure:
    size: int
    segments: list = field(default_factory=list)
    sof: int | None = None
    sof_offset: int | None = None
    precision: int | None = None
    width: int | None = None
    height: int | None = None
    components: list = field(default_factory=list)  # [(id, H, V, Tq)]
    qtables: dict = field(default_factory=dict)  # Tq -> (Pq, 64 zigzag values, offset)
    qtables_ever: dict = field(default_factory=dict)  # Tq -> list of (Pq, offset): every definition
    htables: dict = field(default_factory=dict)  # (Tc, Th) -> (bits, values, offset)
    htables_ever: dict = field(default_factory=dict)
    scans: list = field(default_factory=list)
    restart_interval: int = 0
    app: list = field(default_factory=list)  # [(offset, n, payload bytes)]
    comments: list = field(default_factory=list)  # [(offset, bytes)]
    eoi_offset: int | None = None
    trailing: int = 0
    problems: list = field(default_factory=list)

    def add(self, severity: str, offset: int, message: str, code: str = "") -> None:
        self.problems.append(Problem(severity, int(offset), message, code))

    @property
    def max_hv(self) -> tuple[int, int]:
        if not self.components:
            return 1, 1
        return max(c[1] for c in self.components), max(c[2] for c in self.components)

    def component_blocks(self, index: int) -> tuple[int, int]:
        """(blocks per row, block rows) of a component (T.81 A.1.1), for non-interleaved scans."""
        _, h, v, _ = self.components[index]
        by, bx = component_blocks(self.width, self.height, h, v, *self.max_hv)
        return bx, by

    def subsampling(self) -> str | None:
        """ "gray", "4:2:0"... for 1- and 3-component frames with 1x1 chroma; None otherwise."""
        if len(self.components) == 1:
            return "gray"
        if len(self.components) == 3 and all(c[1:3] == (1, 1) for c in self.components[1:]):
            return SUBSAMPLING_NAMES.get(self.components[0][1:3])
        return None
