"""Natural sample photos that ship inside the package (public domain / CC0; see data/README.md)."""

from __future__ import annotations

from importlib import resources

import numpy as np

NAMES = ("astronaut", "coffee", "chelsea", "rocket")
DEFAULT = "astronaut"


def path(name: str = DEFAULT):
    """Filesystem path of a bundled sample PNG."""
    if name not in NAMES:
        raise ValueError(f"unknown sample {name!r}; choose one of {', '.join(NAMES)}")
    return resources.files("fdjpeg") / "data" / f"{name}.png"


def load(name: str = DEFAULT) -> np.ndarray:
    """A bundled photo as a uint8 (H, W, 3) RGB array."""
    import imageio.v3 as iio

    img = np.asarray(iio.imread(path(name)))
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8, copy=False)


def load_all() -> list[np.ndarray]:
    return [load(n) for n in NAMES]
