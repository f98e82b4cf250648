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


def test_robustness_pipeline_smoke(tmp_path):
    for mod, why in (
        ("torch", "torch"),
        ("art", "adversarial-robustness-toolbox"),
        ("sklearn", "scikit-learn"),
        ("skimage", "scikit-image"),
        ("matplotlib", "matplotlib"),
    ):
        pytest.importorskip(mod, reason=f"{why} not installed (optional extras: pip install '.[robustness]')")
    from bench import robustness

    out = tmp_path / "ROBUSTNESS.md"
    js = tmp_path / "r.json"
    assert (
        robustness.main(["--smoke", "--datasets", "digits", "--threads", "1", "-o", str(out), "--json", str(js)]) == 0
    )
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
    assert res["sweep"]["eps"] == [4, 16, 32] and len(res["md_curve"]["points"]) == 2
