"""The optional integrations: fdjpeg.torch (nn.Module, straight-through backward) and fdjpeg.art (ART
preprocessor, identity gradient), and the one-pass pixel defense they share. Skipped with a visible
reason when torch / ART are not installed (they are optional extras)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import fdjpeg
from fdjpeg import _pixel_defense as pd
from fdjpeg import tables


def _images(n=5, h=21, w=34, c=3, seed=0):
    """Smooth-ish random images (not pure noise, so quantization does something non-trivial); odd sizes."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, (h + 3) // 4, (w + 3) // 4, c)).astype(np.float64)
    img = np.repeat(np.repeat(base, 4, 1), 4, 2)[:, :h, :w]
    img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255)
    return np.rint(img).astype(np.uint8)


def _float_nchw(u8):
    return np.ascontiguousarray(u8.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


TABLES = {"paper": tables.preset("paper"), "released": tables.preset("released"), "q90": tables.standard(90)}


def test_core_never_imports_the_optional_integrations():
    code = "import sys, fdjpeg, fdjpeg.tables; assert 'torch' not in sys.modules and 'art' not in sys.modules, sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'art'))"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("name", list(TABLES))
def test_one_pass_is_decode_of_quality100_file_with_defense(name, channels):
    """The pixel one-pass defense (fused batch kernel) == decode(encode(x, quality=100, 4:4:4), defense=T),
    when decode has it; otherwise == coefficients_to_pixels(requantize_coefficients(read_coefficients(encode(...)))).
    Also == the per-image reference built from the codec's own stages."""
    from fdjpeg.decoder import coefficients_to_pixels
    from fdjpeg.reader import read_coefficients

    imgs = _images(c=channels)
    if channels == 1:
        imgs = imgs[..., 0]
    got = pd.one_pass(imgs[..., None] if channels == 1 else imgs, TABLES[name])
    if channels == 1:
        got = got[..., 0]
    tabs = pd.resolve_tables(TABLES[name])
    for img, out in zip(imgs, got):
        np.testing.assert_array_equal(out, pd._one_pass_uint8(img, tabs))
        data = fdjpeg.encode(img, quality=100, subsampling="4:4:4")
        try:
            want = fdjpeg.decode(data, defense=TABLES[name])
        except TypeError:  # decode(..., defense=) not available in this build
            want = coefficients_to_pixels(fdjpeg.requantize_coefficients(read_coefficients(data), TABLES[name]))
        np.testing.assert_array_equal(out, want)


def test_one_pass_grey_and_float_layouts():
    g = _images(c=1)
    u8 = pd.one_pass(g, "paper")
    assert u8.shape == g.shape and u8.dtype == np.uint8
    f = pd.one_pass(_float_nchw(g), "paper", channels_first=True)
    assert f.dtype == np.float32 and f.shape == (5, 1, 21, 34)
    np.testing.assert_array_equal(np.rint(f * 255).astype(np.uint8).transpose(0, 2, 3, 1), u8)


def test_resolve_tables_names_paths_and_arrays(tmp_path):
    assert np.array_equal(pd.resolve_tables("paper")[0], tables.preset("paper"))
    assert all(np.array_equal(a, b) for a, b in zip(pd.resolve_tables("q75"), tables.standard(75)))
    p = tmp_path / "t.json"
    tables.save(p, tables.released_table())
    assert np.array_equal(pd.resolve_tables(str(p))[0], tables.released_table())
    with pytest.raises(ValueError):
        pd.apply(_images(), "paper", placement="two-pass")


# ---------------------------------------------------------------------------------------------- torch

# Not a module-level importorskip: that would skip the core tests above (and ART's) too.
try:
    import torch
except ModuleNotFoundError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed (optional extra: pip install '.[torch]')")


@needs_torch
@pytest.mark.parametrize("placement", ["distill", "one-pass"])
@pytest.mark.parametrize("name", list(TABLES))
def test_torch_forward_equals_fdjpeg(name, placement):
    import fdjpeg.torch as fdt

    u8 = _images()
    x = torch.from_numpy(_float_nchw(u8))
    y = fdt.FeatureDistillation(TABLES[name], placement=placement)(x)
    want_u8 = fdjpeg.distill(u8, TABLES[name]) if placement == "distill" else pd.one_pass(u8, TABLES[name])
    assert y.dtype == torch.float32 and y.shape == x.shape
    np.testing.assert_array_equal(y.numpy(), _float_nchw(want_u8))


@needs_torch
def test_torch_forward_grey_single_image_and_float64():
    import fdjpeg.torch as fdt

    u8 = _images(n=1, c=1)
    x = torch.from_numpy(_float_nchw(u8)[0]).double()
    y = fdt.feature_distillation(x, "released")
    assert y.shape == x.shape and y.dtype == torch.float64
    np.testing.assert_allclose(y.numpy(), fdjpeg.distill(u8, tables.released_table())[0].transpose(2, 0, 1) / 255.0)


@needs_torch
def test_torch_backward_is_identity():
    import fdjpeg.torch as fdt

    x = torch.from_numpy(_float_nchw(_images(n=3))).requires_grad_(True)
    w = torch.randn_like(x)
    (fdt.FeatureDistillation("paper")(x) * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy())
    assert torch.autograd.gradcheck is not None  # the module is used inside ordinary autograd graphs:
    x2 = x.detach().clone().requires_grad_(True)
    model = torch.nn.Sequential(fdt.FeatureDistillation("paper"), torch.nn.Flatten(), torch.nn.Linear(3 * 21 * 34, 2))
    model(x2).sum().backward()
    lin = model[2].weight.detach().sum(0).reshape(3, 21, 34)
    np.testing.assert_allclose(x2.grad.numpy(), np.broadcast_to(lin.numpy(), x2.shape), rtol=1e-6)


@needs_torch
def test_torch_argument_errors():
    import fdjpeg.torch as fdt

    with pytest.raises(TypeError):
        fdt.feature_distillation(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError):
        fdt.feature_distillation(torch.zeros(1, 4, 8, 8))
    with pytest.raises(ValueError):
        fdt.FeatureDistillation("paper", placement="both")


# ---------------------------------------------------------------------------------------------- ART


def _art():
    return pytest.importorskip("art", reason="adversarial-robustness-toolbox not installed (optional extra: pip install '.[art]')")


@pytest.mark.parametrize("channels_first", [True, False])
@pytest.mark.parametrize("placement", ["distill", "one-pass"])
def test_art_preprocessor_equals_fdjpeg(placement, channels_first):
    _art()
    from fdjpeg.art import FeatureDistillation

    u8 = _images()
    x = _float_nchw(u8) if channels_first else u8.astype(np.float32) / 255.0
    pre = FeatureDistillation("paper", clip_values=(0.0, 1.0), channels_first=channels_first, placement=placement)
    labels = np.arange(5)
    out, y = pre(x, labels)
    assert y is labels and out.dtype == np.float32 and out.shape == x.shape
    want = fdjpeg.distill(u8, TABLES["paper"]) if placement == "distill" else pd.one_pass(u8, TABLES["paper"])
    np.testing.assert_array_equal(out, _float_nchw(want) if channels_first else want.astype(np.float32) / 255.0)
    # clip_values (0, 255): same result on the 0..255 scale
    pre255 = FeatureDistillation("paper", clip_values=(0, 255), channels_first=channels_first, placement=placement)
    np.testing.assert_allclose(pre255(x * 255.0)[0], out * 255.0, atol=1e-3)
    assert pre.apply_predict and not pre.apply_fit and pre.is_fitted


@needs_torch
def test_art_gradient_is_identity_and_bpda_in_a_classifier():
    _art()
    from art.estimators.classification import PyTorchClassifier

    from fdjpeg.art import FeatureDistillation

    pre = FeatureDistillation("paper", channels_first=True)
    x = _float_nchw(_images(n=2))
    g = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    np.testing.assert_array_equal(pre.estimate_gradient(x, g), g)

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 21 * 34, 3))
    kw = dict(loss=torch.nn.CrossEntropyLoss(), input_shape=(3, 21, 34), nb_classes=3, clip_values=(0.0, 1.0))
    defended = PyTorchClassifier(model, preprocessing_defences=[pre], **kw)
    plain = PyTorchClassifier(model, **kw)
    y = np.eye(3, dtype=np.float32)[[0, 2]]
    # predict goes through the defense; the loss gradient is the plain gradient at the defended input (BPDA)
    np.testing.assert_allclose(defended.predict(x), plain.predict(pre(x)[0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(defended.loss_gradient(x, y), plain.loss_gradient(pre(x)[0], y), rtol=1e-5, atol=1e-7)


def test_art_argument_errors():
    _art()
    from fdjpeg.art import FeatureDistillation

    with pytest.raises(ValueError):
        FeatureDistillation("paper", clip_values=(0.0, 2.0))
    with pytest.raises(ValueError):
        FeatureDistillation("paper", clip_values=(-1.0, 1.0))
    with pytest.raises(ValueError):
        FeatureDistillation("paper", placement="two-pass")
    with pytest.raises(ValueError):
        FeatureDistillation("paper")(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError):
        FeatureDistillation("paper")(-np.ones((1, 8, 8, 3), np.float32))
