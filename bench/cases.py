"""What is measured: the benchmark plan (operations x cases), for a full run and for ``--quick``.

Each operation sweeps image size on its headline configuration (q75, 4:2:0, standard Huffman) and varies
the other settings (subsampling, Huffman mode, progressive input) at the reference size, where the issue's
targets are stated (6.3 MP; 1 MP in a quick run).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .images import SIZES, describe

OPERATIONS = ("encode", "decode", "distill", "requantize")
SECTIONS = OPERATIONS + ("memory", "firstcall")

#: Libraries per operation; the first is the one under test, the others are its peers.
LIBRARIES = {
    "encode": ("fdjpeg", "Pillow", "simplejpeg", "OpenCV"),
    "decode": ("fdjpeg", "Pillow", "simplejpeg", "OpenCV"),
    "distill": ("fdjpeg", "Pillow round trip", "NumPy/SciPy block loop"),
    "requantize": ("fdjpeg", "Pillow round trip"),
}

QUALITY = 75


@dataclass(frozen=True)
class Case:
    """One measured configuration of one operation."""

    op: str
    id: str
    label: str  # human-readable, shown in the tables
    image: str  # image spec (see bench.images)
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Case":
        return cls(**d)


@dataclass(frozen=True)
class Plan:
    sizes: tuple[str, ...]  # size sweep
    reference: str  # size where the settings vary
    batch: str  # distill batch spec
    photo: str  # distill single-photo size
    runs: int
    min_run_s: float
    firstcall_runs: int
    quick: bool


def make_plan(quick: bool, runs: int | None = None) -> Plan:
    if quick:
        return Plan(("224", "1MP"), "1MP", "batch:8x224", "1MP", runs or 3, 0.01, 3, True)
    return Plan(tuple(SIZES), "6.3MP", "batch:64x224", "12MP", runs or 7, 0.05, 5, False)


def _encode_cases(plan: Plan) -> list[Case]:
    out = []

    def add(kind, size, sub, optimize, progressive=False):
        huff = "progressive" if progressive else "optimized" if optimize else "standard"
        sub_label = "grayscale" if kind == "gray" else sub
        shown = describe(f"{kind}:{size}") + ("" if kind == "gray" else f", {sub}")
        out.append(
            Case(
                "encode",
                f"encode/{kind}/{size}/{sub_label}/{huff}",
                f"{shown}, " + ("progressive (optimized tables per scan)" if progressive else f"{huff} Huffman"),
                f"{kind}:{size}",
                {"quality": QUALITY, "subsampling": sub, "optimize": optimize, "progressive": progressive},
            )
        )

    for size in plan.sizes:
        add("rgb", size, "4:2:0", False)
    ref = plan.reference
    add("rgb", ref, "4:2:0", True)
    add("rgb", ref, "4:4:4", False)
    add("rgb", ref, "4:4:4", True)
    add("gray", ref, "4:2:0", False)
    add("gray", ref, "4:2:0", True)
    add("rgb", "224", "4:2:0", True, progressive=True)
    add("rgb", ref, "4:2:0", True, progressive=True)
    return out


def _decode_cases(plan: Plan) -> list[Case]:
    out = []

    def add(kind, size, sub, progressive):
        mode = "progressive" if progressive else "baseline"
        sub_label = "grayscale" if kind == "gray" else sub
        out.append(
            Case(
                "decode",
                f"decode/{kind}/{size}/{sub_label}/{mode}",
                f"{describe(f'{kind}:{size}')}, {mode}{'' if kind == 'gray' else ' ' + sub} (written by Pillow, q{QUALITY})",
                f"{kind}:{size}",
                {"quality": QUALITY, "subsampling": sub, "progressive": progressive},
            )
        )

    for size in plan.sizes:
        add("rgb", size, "4:2:0", False)
    ref = plan.reference
    add("rgb", ref, "4:4:4", False)
    add("gray", ref, "4:2:0", False)
    add("rgb", ref, "4:2:0", True)
    return out


def _distill_cases(plan: Plan) -> list[Case]:
    params = {"table": "released", "subsampling": "4:4:4"}
    return [
        Case("distill", f"distill/{plan.batch}", f"{describe(plan.batch)}, released table, 4:4:4", plan.batch, params),
        Case(
            "distill",
            f"distill/rgb:{plan.photo}",
            f"{describe('rgb:' + plan.photo)}, released table, 4:4:4",
            f"rgb:{plan.photo}",
            params,
        ),
    ]


def _requantize_cases(plan: Plan) -> list[Case]:
    out = []

    def add(size, progressive):
        mode = "progressive" if progressive else "baseline"
        out.append(
            Case(
                "requantize",
                f"requantize/{size}/{mode}",
                f"{describe('rgb:' + size)}, {mode} 4:2:0 q{QUALITY} input → released table",
                f"rgb:{size}",
                {"quality": QUALITY, "subsampling": "4:2:0", "progressive": progressive, "table": "released"},
            )
        )

    for size in plan.sizes:
        add(size, False)
    add(plan.reference, True)
    return out


def timing_cases(plan: Plan, op: str) -> list[Case]:
    """The timed cases of one operation."""
    return {"encode": _encode_cases, "decode": _decode_cases, "distill": _distill_cases, "requantize": _requantize_cases}[
        op
    ](plan)


def memory_cases(plan: Plan, op: str) -> list[Case]:
    """Peak-memory cases: the headline configuration of each operation across sizes."""
    cases = timing_cases(plan, op)
    if op == "distill":
        return cases
    # The size sweep comes first in every plan; keep only it.
    return cases[: len(plan.sizes)]
