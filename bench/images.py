"""Test images for the benchmarks, built on the fly from the photos that ship with fdjpeg.

Nothing large is committed: every image is a deterministic mosaic of the four bundled photos
(``fdjpeg.samples.load_all()``, ~0.2-0.3 MP each), each tile cropped to the tile's aspect ratio and resized
with Pillow's Lanczos filter. Tiles stay close to the photos' native scale, so a 24-MP mosaic has the
detail density (and therefore the entropy-coding load) of the originals rather than that of one upscaled
photo.

Images are named by a short *spec* string, so that the parent process and its worker processes agree on
them without passing arrays around:

``rgb:<size>``     (H, W, 3) uint8 mosaic, ``<size>`` a key of :data:`SIZES`
``gray:<size>``    (H, W) uint8, the same mosaic converted to luma by Pillow (``convert("L")``)
``batch:<n>x<s>``  (n, s, s, 3) uint8, n different crops of the photos, each resized to s x s
"""

from __future__ import annotations

import os

import numpy as np

#: Size key -> (width, height). "6.3MP" is the reference size of the issue's speed targets.
SIZES = {
    "224": (224, 224),
    "1MP": (1152, 864),
    "6.3MP": (3072, 2048),
    "12MP": (4000, 3000),
    "24MP": (6000, 4000),
}

#: Native scale of one mosaic tile (about the size of the bundled photos).
TILE = (512, 384)


def size_label(key: str) -> str:
    """Human-readable size, e.g. ``"6.3 MP (3072×2048)"``."""
    w, h = SIZES[key]
    mp = w * h / 1e6
    return f"{w}×{h}" if mp < 0.5 else f"{mp:.3g} MP ({w}×{h})"


def _photos() -> list:
    from PIL import Image

    import fdjpeg

    return [Image.fromarray(p) for p in fdjpeg.samples.load_all()]


def _fit(photo, width: int, height: int):
    """Centre-crop ``photo`` (a PIL image) to the aspect ratio of width x height, then Lanczos-resize it."""
    from PIL import ImageOps
    from PIL.Image import Resampling

    return ImageOps.fit(photo, (width, height), Resampling.LANCZOS)


def mosaic(width: int, height: int) -> np.ndarray:
    """A (height, width, 3) uint8 mosaic of the bundled photos, tiles near their native scale."""
    photos = _photos()
    cols = max(1, round(width / TILE[0]))
    rows = max(1, round(height / TILE[1]))
    xs = np.linspace(0, width, cols + 1).round().astype(int)
    ys = np.linspace(0, height, rows + 1).round().astype(int)
    out = np.empty((height, width, 3), dtype=np.uint8)
    n = len(photos)
    for r in range(rows):
        shift = r if cols % n == 0 else 0  # no column of one photo when the row length is a multiple of n
        for c in range(cols):
            tile = _fit(photos[(r * cols + c + shift) % n], xs[c + 1] - xs[c], ys[r + 1] - ys[r])
            out[ys[r] : ys[r + 1], xs[c] : xs[c + 1]] = np.asarray(tile)
    return out


def grayscale(rgb: np.ndarray) -> np.ndarray:
    """Luma of an RGB array, as Pillow computes it (``convert("L")``)."""
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("L")).copy()


def crops_batch(n: int, side: int = 224, seed: int = 0) -> np.ndarray:
    """n different (side, side, 3) crops of the bundled photos (60-100% of each photo's area), like a
    batch of ImageNet-style classifier inputs."""
    from PIL.Image import Resampling

    photos = _photos()
    rng = np.random.default_rng(seed)
    out = np.empty((n, side, side, 3), dtype=np.uint8)
    for i in range(n):
        photo = photos[i % len(photos)]
        w, h = photo.size
        frac = np.sqrt(rng.uniform(0.6, 1.0))
        cw, ch = int(w * frac), int(h * frac)
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = photo.crop((x0, y0, x0 + cw, y0 + ch)).resize((side, side), Resampling.LANCZOS)
        out[i] = np.asarray(crop)
    return out


def build(spec: str) -> np.ndarray:
    """The array named by ``spec`` (see the module docstring)."""
    kind, _, arg = spec.partition(":")
    if kind in ("rgb", "gray"):
        if arg not in SIZES:
            raise ValueError(f"unknown size {arg!r} in image spec {spec!r}; choose one of {', '.join(SIZES)}")
        rgb = mosaic(*SIZES[arg])
        return rgb if kind == "rgb" else grayscale(rgb)
    if kind == "batch":
        n, _, side = arg.partition("x")
        return crops_batch(int(n), int(side))
    raise ValueError(f"unknown image spec {spec!r}")


def describe(spec: str) -> str:
    """Human-readable description of an image spec."""
    kind, _, arg = spec.partition(":")
    if kind == "batch":
        n, _, side = arg.partition("x")
        return f"batch of {n} × {side}×{side} RGB"
    return f"{size_label(arg)} {'RGB' if kind == 'rgb' else 'grayscale'}"


class ImageStore:
    """Images built once per benchmark run and shared with worker processes as ``.npy`` files in ``root``."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def path(self, spec: str) -> str:
        return os.path.join(self.root, spec.replace(":", "_") + ".npy")

    def get(self, spec: str) -> np.ndarray:
        """Load the image (building and saving it the first time)."""
        p = self.path(spec)
        if not os.path.exists(p):
            arr = build(spec)
            np.save(p + ".tmp.npy", arr)
            os.replace(p + ".tmp.npy", p)
            return arr
        return np.load(p)
