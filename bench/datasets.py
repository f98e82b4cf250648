"""Offline datasets for the robustness benchmark (``bench/robustness.py``).

Every loader returns a :class:`Dataset` of float32 NCHW images in [0, 1] that are exact multiples of
1/255 (so 8-bit codecs see them losslessly), integer labels, and fixed train/validation/test splits
(seeded). Nothing is downloaded:

``digits``   scikit-learn's bundled handwritten digits (1797 images, 8x8, 17 grey levels), upscaled
             bilinearly to 32x32, one grey channel; 10 classes; stratified 60/15/25 split.
``photos``   32x32 tiles of the natural photos bundled with scikit-image (astronaut, coffee, chelsea,
             rocket, hubble_deep_field, immunohistochemistry, retina) and scikit-learn
             (``load_sample_images``: china, flower); the class is the source photo (9 classes). Each
             photo is resized so that its longer side is 512 px, cut into non-overlapping 32x32 tiles,
             nearly flat tiles (standard deviation < 6/255 over the tile: black sky, retina
             background) are dropped, and the tiles are split 60/15/25 per photo at random -- tiles
             never overlap across splits.
``cifar10``  CIFAR-10 in the standard python-pickle format (``data_batch_1`` .. ``data_batch_5``,
             ``test_batch``, optional ``batches.meta``) read from a user-supplied directory (or its
             ``cifar-10-batches-py`` subdirectory); the last 5000 training images (after a seeded
             shuffle) are the validation split.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field

import numpy as np

NAMES = ("digits", "photos", "cifar10")


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray  # float32 (N, C, H, W) in [0, 1], multiples of 1/255
    y_train: np.ndarray  # int64 (N,)
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    description: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def nb_classes(self) -> int:
        return len(self.classes)

    def summary(self) -> str:
        c, h, w = self.shape
        return (
            f"{self.name}: {self.nb_classes} classes, {c}x{h}x{w}, train {len(self.x_train)}, "
            f"validation {len(self.x_val)}, test {len(self.x_test)}"
        )


def _to_float(u8_nhwc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(u8_nhwc.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0))


def _split_indices(labels: np.ndarray, fractions, rng) -> list[np.ndarray]:
    """Stratified split: per class, a seeded permutation cut at the given fractions (train, val, test)."""
    parts = [[] for _ in fractions]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for p, chunk in zip(parts, np.split(idx, cuts)):
            p.append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def _make(name, u8, labels, classes, rng, description, fractions=(0.60, 0.15, 0.25), meta=None) -> Dataset:
    tr, va, te = _split_indices(labels, fractions, rng)
    x = _to_float(u8)
    y = labels.astype(np.int64)
    return Dataset(name, x[tr], y[tr], x[va], y[va], x[te], y[te], list(classes), description, meta or {})


def load_digits(seed: int = 0, size: int = 32) -> Dataset:
    """scikit-learn's digits, upscaled bilinearly to ``size`` x ``size``, one grey channel."""
    from skimage.transform import resize
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    imgs = d.images.astype(np.float64) / 16.0
    up = np.stack([resize(im, (size, size), order=1, mode="edge", anti_aliasing=False) for im in imgs])
    u8 = np.clip(np.rint(up * 255.0), 0, 255).astype(np.uint8)[..., None]
    rng = np.random.default_rng(seed)
    return _make(
        "digits",
        u8,
        d.target,
        [str(i) for i in range(10)],
        rng,
        f"scikit-learn digits (8x8, 17 grey levels) upscaled bilinearly to {size}x{size}, grey",
    )


PHOTO_SOURCES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "china",
    "flower",
)


def _photo(name: str) -> np.ndarray:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    return getattr(skimage.data, name)()


def load_photos(seed: int = 0, tile: int = 32, longer_side: int = 512, min_std: float = 6.0) -> Dataset:
    """Non-overlapping ``tile`` x ``tile`` RGB tiles of the bundled natural photos, labelled by photo."""
    from skimage.transform import resize

    tiles, labels = [], []
    for label, name in enumerate(PHOTO_SOURCES):
        img = _photo(name)[..., :3]
        h, w = img.shape[:2]
        s = longer_side / max(h, w)
        if abs(s - 1.0) > 1e-9:
            img = resize(img, (round(h * s), round(w * s)), order=1, anti_aliasing=s < 1, preserve_range=True)
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        h, w = img.shape[:2]
        for i in range(0, h - tile + 1, tile):
            for j in range(0, w - tile + 1, tile):
                t = img[i : i + tile, j : j + tile]
                if t.std() >= min_std:
                    tiles.append(t)
                    labels.append(label)
    u8 = np.stack(tiles)
    rng = np.random.default_rng(seed)
    return _make(
        "photos",
        u8,
        np.asarray(labels),
        PHOTO_SOURCES,
        rng,
        f"{tile}x{tile} RGB tiles of {len(PHOTO_SOURCES)} bundled natural photos (skimage.data, "
        f"sklearn sample images; longer side resized to {longer_side}), class = source photo; "
        f"flat tiles (std < {min_std:g}/255) dropped",
    )


def _read_batch(path: str):
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    data = d.get(b"data", d.get("data"))
    labels = d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (no data/labels)")
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: CIFAR-10 data must be (N, 3072) uint8, got {data.shape}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(labels, dtype=np.int64)


def load_cifar10(root: str | None = None, seed: int = 0, n_val: int = 5000) -> Dataset:
    """CIFAR-10 from ``root`` (python-pickle batches); ``root`` defaults to ``$CIFAR10_DIR``."""
    root = root or os.environ.get("CIFAR10_DIR")
    if not root:
        raise ValueError("cifar10 needs a directory: --cifar10-dir DIR or $CIFAR10_DIR (python-pickle format)")
    if os.path.isdir(os.path.join(root, "cifar-10-batches-py")):
        root = os.path.join(root, "cifar-10-batches-py")
    train_files = sorted(f for f in os.listdir(root) if f.startswith("data_batch_"))
    if not train_files or not os.path.exists(os.path.join(root, "test_batch")):
        raise FileNotFoundError(f"{root}: expected data_batch_1..5 and test_batch (CIFAR-10 python version)")
    parts = [_read_batch(os.path.join(root, f)) for f in train_files]
    x_tr = np.concatenate([p[0] for p in parts])
    y_tr = np.concatenate([p[1] for p in parts])
    x_te, y_te = _read_batch(os.path.join(root, "test_batch"))
    classes = [str(i) for i in range(int(max(y_tr.max(), y_te.max())) + 1)]
    meta_path = os.path.join(root, "batches.meta")
    if os.path.exists(meta_path):
        with open(meta_path, "rb") as f:
            meta = pickle.load(f, encoding="bytes")
        names = meta.get(b"label_names", meta.get("label_names"))
        if names:
            classes = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(x_tr))
    n_val = min(n_val, len(x_tr) // 5)
    tr, va = np.sort(perm[: len(perm) - n_val]), np.sort(perm[len(perm) - n_val :])
    xf, xt = _to_float(x_tr), _to_float(x_te)
    return Dataset(
        "cifar10",
        xf[tr],
        y_tr[tr],
        xf[va],
        y_tr[va],
        xt,
        y_te,
        classes,
        f"CIFAR-10 from {root} (python-pickle batches)",
    )


def load(name: str, *, seed: int = 0, cifar10_dir: str | None = None) -> Dataset:
    if name == "digits":
        return load_digits(seed)
    if name == "photos":
        return load_photos(seed)
    if name == "cifar10":
        return load_cifar10(cifar10_dir, seed)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(NAMES)}")
