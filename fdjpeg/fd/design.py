"""Feature-distillation table design (Liu et al., CVPR 2019): band statistics of the codec's own DCT,
the paper's table rule, named presets, JSON table files and the one resolver of table specs that the
CLI and the integrations share. The method, equations and sources are in spec/feature-distillation.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from numbers import Integral, Real

import numpy as np

from ..base import photos
from ..base.io import write_atomic
from ..base.jit import kernel
from ..base.quant import standard, validate_fd_tables, validate_tables
from ..decoder.decompress import decode
from ..encoder.color import rgb_to_ycbcr
from ..encoder.downsample import pad_plane
from ..encoder.fdct import _fdct_islow


def released_table() -> np.ndarray:
    """The feature-distillation table in the authors' released code: 25 on the top-left 4x4 frequencies
    (the accuracy-sensitive band), 30 elsewhere; applied to every component.

    Source: Liu et al., "Feature Distillation: DNN-Oriented JPEG Compression Against Adversarial
    Examples" (CVPR 2019), public implementation; see spec/feature-distillation.md.
    """
    t = np.full((8, 8), 30, dtype=np.uint16)
    t[:4, :4] = 25
    return t


COMPONENTS = ("luma", "chroma", "all")


@kernel
def _accumulate_block_moments(plane, s1, s2, count):
    """Add the per-frequency sums of the islow FDCT coefficients of every 8x8 block of a padded
    uint8 plane (level-shifted by 128, as the codec computes them) to s1/s2 (int64, 64 each)."""
    ws = np.empty(64, dtype=np.int32)
    for by in range(plane.shape[0] // 8):
        for bx in range(plane.shape[1] // 8):
            for r in range(8):
                for c in range(8):
                    ws[r * 8 + c] = np.int32(plane[by * 8 + r, bx * 8 + c]) - 128
            _fdct_islow(ws)
            for i in range(64):
                v = np.int64(ws[i])
                s1[i] += v
                s2[i] += v * v
            count[0] += 1


@dataclass(frozen=True)
class BandStats:
    """Per-frequency moments of the orthonormal 8x8 DCT of a set of images, by component group.

    ``std(group)`` is delta(i, j) of the paper: the standard deviation of each of the 64 frequencies
    pooled over all blocks of the group ("luma" = Y, "chroma" = Cb and Cr, "all" = Y, Cb and Cr).
    """

    sums: dict  # group -> (s1[64], s2[64], blocks), exact integer sums of 8x-scaled islow coefficients

    def blocks(self, component: str = "all") -> int:
        return int(self.sums[_check_component(component)][2])

    def std(self, component: str = "all") -> np.ndarray:
        s1, s2, n = self.sums[_check_component(component)]
        if n == 0:
            raise ValueError(f"no {component} blocks were seen (grayscale images have no chroma)")
        mean = s1 / n
        var = np.maximum(s2 / n - mean * mean, 0.0)
        return (np.sqrt(var) / 8.0).reshape(8, 8)  # islow output is 8x the orthonormal DCT


def _check_component(component: str) -> str:
    if component not in COMPONENTS:
        raise ValueError(f"component must be one of {', '.join(COMPONENTS)}, got {component!r}")
    return component


def _iter_images(images):
    """Yield uint8 (H, W) or (H, W, 3) arrays from an array, a batch, or an iterable of arrays/paths."""
    if isinstance(images, np.ndarray):
        if images.ndim == 2 or (images.ndim == 3 and images.shape[2] in (1, 3)):
            yield _as_uint8_image(images)
        elif images.ndim in (3, 4):
            for img in images:
                yield _as_uint8_image(img)
        else:
            raise ValueError(f"images must be (H, W), (H, W, 3), (N, H, W) or (N, H, W, 3), got {images.shape}")
        return
    if isinstance(images, (str, os.PathLike)):
        yield _read_path(images)
        return
    for item in images:
        if isinstance(item, (str, os.PathLike)):
            yield _read_path(item)
        else:
            yield _as_uint8_image(np.asarray(item))


def _as_uint8_image(img: np.ndarray) -> np.ndarray:
    if img.dtype != np.uint8:
        raise TypeError(f"images must be uint8, got {img.dtype}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)) or img.size == 0:
        raise ValueError(f"each image must be (H, W) or (H, W, 3), got {img.shape}")
    return np.ascontiguousarray(img)


def _read_path(path) -> np.ndarray:
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"\xff\xd8":
        return _as_uint8_image(decode(path))
    import imageio.v3 as iio

    return _as_uint8_image(np.asarray(iio.imread(path)))


def band_statistics(images) -> BandStats:
    """Stream images through the codec's colour conversion and islow FDCT and accumulate the moments
    of every frequency (bounded memory: one image at a time). Blocks are edge-padded as the encoder
    pads them; chroma is taken at full resolution (4:4:4)."""
    sums = {g: [np.zeros(64, np.int64), np.zeros(64, np.int64), np.zeros(1, np.int64)] for g in COMPONENTS}
    seen = 0
    for img in _iter_images(images):
        seen += 1
        planes = [img] if img.ndim == 2 else list(rgb_to_ycbcr(img))
        for ci, plane in enumerate(planes):
            h, w = plane.shape
            padded = pad_plane(plane, -(-h // 8) * 8, -(-w // 8) * 8)
            for group in ("luma" if ci == 0 else "chroma", "all"):
                s1, s2, n = sums[group]
                _accumulate_block_moments(padded, s1, s2, n)
    if seen == 0:
        raise ValueError("no images given")
    return BandStats({g: (s1.astype(np.float64), s2.astype(np.float64), int(n[0])) for g, (s1, s2, n) in sums.items()})


def band_std(images, component: str = "all") -> np.ndarray:
    """delta(i, j): the standard deviation of each of the 64 orthonormal DCT frequencies (8x8, natural
    order) over all blocks of ``images``, for "luma", "chroma" or "all" channels pooled (the paper's)."""
    return band_statistics(images).std(component)


def semi_analytic_step(eps: float) -> int:
    """The paper's rule for the malicious-defense step: the smallest integer step Q with
    Q > 16 * eps * 255 (an L-inf perturbation eps moves an 8x8 orthonormal DCT coefficient by at most
    8 * eps * 255, and rounding removes it when Q > 2x that), clamped to the baseline maximum 255."""
    if isinstance(eps, bool) or not isinstance(eps, Real) or not (0 < eps <= 1):
        raise ValueError(f"eps must be a number in (0, 1] (pixel scale 0..1), got {eps!r}")
    return int(min(255, np.floor(16 * eps * 255) + 1))


def rank_bands(delta) -> np.ndarray:
    """Natural indices of the 64 frequencies from largest to smallest delta; ties go to the lower
    natural index (deterministic)."""
    d = np.asarray(delta, dtype=np.float64).reshape(64)
    return np.lexsort((np.arange(64), -d))


def _design_one(delta, n: int, s_as: int, s_md: int) -> np.ndarray:
    table = np.full(64, s_md, dtype=np.uint16)
    table[rank_bands(delta)[:n]] = s_as
    return table.reshape(8, 8)


def design(
    images_or_stats,
    n: int = 15,
    s_as: int = 1,
    s_md: int | None = None,
    eps: float | None = None,
    *,
    per_component: bool = False,
):
    """Feature-distillation quantization tables (legal baseline tables, values 1..255).

    The n frequencies with the largest delta (the accuracy-sensitive band) get step ``s_as``; the other
    64 - n (the malicious-defense band) get ``s_md``. ``s_md`` defaults to ``semi_analytic_step(eps)``
    when ``eps`` is given, else 40 (the paper's values: n=15, s_as=1, s_md=40).

    images_or_stats: images (see band_statistics), a BandStats, or an 8x8 delta array.
    per_component: design luma and chroma tables from their own statistics and return (luma, chroma);
    otherwise one table from all channels pooled, for every component.
    """
    if isinstance(n, bool) or not isinstance(n, Integral) or not 0 <= n <= 64:
        raise ValueError(f"n must be an int in 0..64, got {n!r}")
    if s_md is not None and eps is not None:
        raise ValueError("give s_md or eps, not both (eps sets s_md by the semi-analytic rule)")
    if s_md is None:
        s_md = semi_analytic_step(eps) if eps is not None else 40
    for name, value in (("s_as", s_as), ("s_md", s_md)):
        if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= 255:
            raise ValueError(f"{name} must be an int in 1..255, got {value!r}")
    if (
        isinstance(images_or_stats, np.ndarray)
        and images_or_stats.shape in ((8, 8), (64,))
        and images_or_stats.dtype.kind == "f"
    ):
        if per_component:
            raise ValueError("per_component needs images or BandStats, not a single delta array")
        return _design_one(images_or_stats, n, s_as, s_md)
    stats = images_or_stats if isinstance(images_or_stats, BandStats) else band_statistics(images_or_stats)
    if per_component:
        return _design_one(stats.std("luma"), n, s_as, s_md), _design_one(stats.std("chroma"), n, s_as, s_md)
    return _design_one(stats.std("all"), n, s_as, s_md)


@cache
def _bundled_stats() -> BandStats:
    return band_statistics(photos.load_all())


# The winner of the robustness-aware table search against an ImageNet classifier (EfficientNet-Lite0,
# eps = 2/255, two-pass; bench/ROBUSTNESS.md, section "ImageNet classifier"), stored verbatim:
# design(validation crops, n=15, s_as=20, s_md=40) -- the 15 lowest frequencies in zigzag order at step 20,
# the other 49 at step 40, for every component.
_ROBUST = np.array(
    [
        [20, 20, 20, 20, 20, 40, 40, 40],
        [20, 20, 20, 20, 40, 40, 40, 40],
        [20, 20, 20, 40, 40, 40, 40, 40],
        [20, 20, 40, 40, 40, 40, 40, 40],
        [20, 40, 40, 40, 40, 40, 40, 40],
        [40, 40, 40, 40, 40, 40, 40, 40],
        [40, 40, 40, 40, 40, 40, 40, 40],
        [40, 40, 40, 40, 40, 40, 40, 40],
    ],
    dtype=np.uint16,
)
_ROBUST.setflags(write=False)

PRESETS = {
    "robust": "recommended: 15 lowest frequencies (zigzag) at step 20, the other 49 at step 40; the search winner "
    "against an ImageNet classifier in two-pass, built for eps <= 2/255 (bench/ROBUSTNESS.md)",
    "released": "the authors' released code: 25 on the top-left 4x4 frequencies, 30 elsewhere",
    "paper": "accuracy-first, the paper's stated configuration: n=15 accuracy-sensitive frequencies at step 1, the "
    "other 49 at step 40, ranked by delta of the four natural photos bundled with fdjpeg; weak in "
    "two-pass against an ImageNet classifier, because the step-1 band lets the perturbation through",
}
#: The preset that ``preset()`` returns without a name, the CLI uses by default and the README recommends.
RECOMMENDED = "robust"


def preset(name: str = RECOMMENDED) -> np.ndarray:
    """A named feature-distillation table (one 8x8 uint16 table for every component, natural order, legal
    baseline values); see ``PRESETS``. Without a name: ``RECOMMENDED``, "robust".

    "robust": built for two-pass against L-inf attacks up to eps = 2/255 on a natural-image classifier; its
    benign cost and robustness on EfficientNet-Lite0 are in spec/feature-distillation.md section 3 and
    bench/ROBUSTNESS.md. Empirical, not certified (``certified_eps`` is 0: ``certified(1/255)`` needs
    steps 21-25). "paper" keeps its 15 accuracy-sensitive frequencies at step 1, so in two-pass an
    attack in those frequencies passes; it stays for reproducing the paper's configuration."""
    if name == "robust":
        return _ROBUST.copy()
    if name == "paper":
        return design(_bundled_stats(), n=15, s_as=1, s_md=40)
    if name == "released":
        return released_table()
    raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")


def _normalize_tables(tables) -> list[np.ndarray]:
    return validate_tables(tables, None)


def save(path, tables, description: str = "") -> None:
    """Write one table or (luma, chroma) to a JSON file (natural order, rows = vertical frequency)."""
    tabs = _normalize_tables(tables)
    doc = {
        "format": "fdjpeg-quantization-tables",
        "version": 1,
        "order": "natural (row-major, rows = vertical frequency)",
        "description": description,
        "tables": [t.astype(int).tolist() for t in tabs],
    }
    write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())


def load(path):
    """Read tables written by ``save``: one 8x8 uint16 array, or a (luma, chroma) tuple."""
    with open(path, "rb") as f:
        try:
            doc = json.loads(f.read())
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)}: not a JSON tables file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != "fdjpeg-quantization-tables" or "tables" not in doc:
        raise ValueError(f"{os.fspath(path)}: not an fdjpeg tables file (missing format/tables)")
    tabs = _normalize_tables(doc["tables"])
    return tabs[0] if len(tabs) == 1 else (tabs[0], tabs[1])


def resolve_tables(tables) -> list[np.ndarray]:
    """A table spec as the CLI and the integrations take it -> the validated list of 1 or 2 uint16 tables:
    a preset name (``PRESETS``: "robust", "released", "paper"), ``"q<N>"`` for the standard quality-N tables, a path to a JSON
    tables file, one 8x8 table, or (luma, chroma)."""
    if isinstance(tables, str) and tables in PRESETS:
        tables = preset(tables)
    elif isinstance(tables, str) and tables[:1] == "q" and tables[1:].isdigit():
        tables = standard(int(tables[1:]))
    elif isinstance(tables, os.PathLike) or isinstance(tables, str) and os.path.exists(tables):
        tables = load(tables)
    elif isinstance(tables, str):
        raise ValueError(
            f"unknown tables {tables!r}: give a preset name ({', '.join(PRESETS)}), q<N> for the "
            "standard quality-N tables, or a JSON file written by fdjpeg.tables.save"
        )
    return validate_fd_tables(tables)
