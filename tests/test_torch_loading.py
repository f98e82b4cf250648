"""PyTorch data loading (fdjpeg.torch.JPEGDistill): the transform, and a DataLoader whose worker
processes decode and distill with fdjpeg, equal to the same work done in the test's own process."""

import importlib.util

import numpy as np
import pytest

import fdjpeg
from helpers import make_image, pillow_jpeg

if importlib.util.find_spec("torch") is None:
    pytest.skip("needs torch (pip install '.[torch]')", allow_module_level=True)

import torch  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from fdjpeg.torch import JPEGDistill  # noqa: E402

ROBUST = fdjpeg.tables.preset("robust")


def _files(tmp_path, sizes=((32, 40),) * 5 + ((24, 16),)):
    paths = []
    for k, (h, w) in enumerate(sizes):
        path = tmp_path / f"img{k:03d}.jpg"
        gray = k == 2
        path.write_bytes(pillow_jpeg(make_image(h, w, gray=gray, seed=k), quality=90))
        paths.append(path)
    return paths


def test_transform_on_jpegs_is_the_one_pass_defense(tmp_path):
    paths = _files(tmp_path)
    t = JPEGDistill("robust")
    for p in paths:
        x = t(p)
        want = fdjpeg.decode(p, mode="RGB", defense=ROBUST)
        assert x.dtype == torch.uint8 and x.shape == (3, *want.shape[:2])
        assert np.array_equal(x.permute(1, 2, 0).numpy(), want)
    f = JPEGDistill(ROBUST, mode="L", dtype=torch.float32)(paths[0].read_bytes())
    want = fdjpeg.decode(paths[0], mode="L", defense=ROBUST)
    assert f.shape == (1, *want.shape) and torch.allclose(f[0], torch.from_numpy(want).float() / 255)


def test_transform_on_arrays_distills():
    img = make_image(24, 32)
    x = JPEGDistill("robust")(img)
    assert np.array_equal(x.permute(1, 2, 0).numpy(), fdjpeg.distill(img, ROBUST))


def test_transform_batch_uses_one_batch_call(tmp_path):
    paths = _files(tmp_path)
    t = JPEGDistill("robust")
    nchw = t.batch(paths[:5])
    assert nchw.shape == (5, 3, 32, 40)
    assert all(torch.equal(nchw[i], t(paths[i])) for i in range(5))
    mixed = t.batch(paths)  # the last one has another size: a list
    assert isinstance(mixed, list) and all(torch.equal(a, t(p)) for a, p in zip(mixed, paths))


def test_transform_arguments():
    with pytest.raises(ValueError, match="mode"):
        JPEGDistill(mode="CMYK")
    with pytest.raises(TypeError, match="dtype"):
        JPEGDistill(dtype=torch.int32)
    with pytest.raises(ValueError):
        JPEGDistill("sturdy")


class JPEGFolder(Dataset):
    """The worked example of the README: a directory of JPEGs, decoded and distilled in the workers."""

    def __init__(self, paths, transform):
        self.paths = list(paths)
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.transform(self.paths[i]), i


class JPEGBytes(Dataset):
    """Raw bytes per item; the collate function decodes the whole batch with one decode_batch call."""

    def __init__(self, paths):
        self.paths = list(paths)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.paths[i].read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("context", ["fork", "spawn", None])
def test_dataloader_workers_decode_and_distill(tmp_path, context):
    paths = _files(tmp_path, sizes=((32, 40),) * 8)
    t = JPEGDistill("robust", dtype=torch.float32)
    expected = torch.stack([t(p) for p in paths])  # in this process, the parent
    loader = DataLoader(
        JPEGFolder(paths, t), batch_size=3, num_workers=2, multiprocessing_context=context, timeout=300
    )
    got = torch.cat([x for x, _ in loader])
    assert torch.equal(got, expected)
    batched = DataLoader(
        JPEGBytes(paths), batch_size=4, num_workers=2, multiprocessing_context=context, collate_fn=t.batch,
        timeout=300,
    )
    assert torch.equal(torch.cat(list(batched)), expected)
