"""fdjpeg.tables for feature distillation: band statistics, the semi-analytic rule, design, presets, JSON."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fdjpeg
from fdjpeg import samples, tables
from fdjpeg.encoder.color import rgb_to_ycbcr

import naive


def _float_band_std(images, component):
    """Slow reference: float orthonormal DCT of every edge-padded 8x8 block, pooled per group."""
    return naive.band_std([[img] if img.ndim == 2 else list(rgb_to_ycbcr(img)) for img in images], component)


@pytest.mark.parametrize("component", tables.COMPONENTS)
def test_band_std_matches_float_reference(component):
    imgs = [samples.load("coffee")[:96, :128], samples.load("chelsea")[50:117, 10:93]]
    ours = tables.band_std(imgs, component=component)
    ref = _float_band_std(imgs, component)
    # islow is a 13-bit fixed-point DCT: per-coefficient error is a fraction of one unit (of 8 x orthonormal).
    np.testing.assert_allclose(ours, ref, rtol=0.01, atol=0.15)
    assert ours[0, 0] > ours[7, 7]


def test_band_statistics_stream_batches_arrays_and_paths(tmp_path):
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (3, 24, 40, 3), dtype=np.uint8)
    paths = []
    for i, img in enumerate(batch):
        paths.append(tmp_path / f"{i}.png")
        iio.imwrite(paths[-1], img)
    jpeg_path = tmp_path / "x.jpg"
    jpeg_path.write_bytes(fdjpeg.encode(batch[0], quality=100, subsampling="4:4:4"))
    from_batch = tables.band_std(batch)
    assert np.array_equal(from_batch, tables.band_std(list(batch)))
    assert np.array_equal(from_batch, tables.band_std(iter(batch)))
    assert np.array_equal(from_batch, tables.band_std(paths))
    assert tables.band_std([jpeg_path]).shape == (8, 8)  # JPEG paths go through fdjpeg's own decoder
    gray = batch[..., 0]
    assert np.array_equal(tables.band_std(gray, "luma"), tables.band_std(list(gray), "all"))
    with pytest.raises(ValueError, match="chroma"):
        tables.band_std(gray, "chroma")
    with pytest.raises(ValueError):
        tables.band_std([], "all")
    with pytest.raises(TypeError):
        tables.band_std(batch.astype(np.float32))


@pytest.mark.parametrize(
    "eps, step", [(8 / 255, 129), (0.03, 123), (2 / 255, 33), (1 / 255, 17), (0.5, 255), (1e-6, 1)]
)
def test_semi_analytic_step(eps, step):
    assert tables.semi_analytic_step(eps) == step
    assert tables.semi_analytic_step(eps) > 16 * eps * 255 or step == 255


def test_design_follows_ranking_and_rule():
    delta = np.arange(64, dtype=np.float64)[::-1].reshape(8, 8)  # natural index 0 has the largest delta
    t = tables.design(delta, n=10, s_as=2, s_md=50)
    assert (t.reshape(64)[:10] == 2).all() and (t.reshape(64)[10:] == 50).all()
    assert (tables.design(delta, eps=8 / 255).reshape(64)[15:] == 129).all()
    assert (tables.design(delta).reshape(64)[15:] == 40).all()  # the paper's default s_md


def test_design_breaks_ties_deterministically():
    delta = np.ones((8, 8))
    t = tables.design(delta, n=3, s_as=1, s_md=40)
    assert np.flatnonzero(t.reshape(64) == 1).tolist() == [0, 1, 2]  # lowest natural index first


@given(st.integers(0, 64), st.integers(1, 255), st.integers(1, 255), st.integers(0, 2**31))
def test_designed_tables_are_legal_and_deterministic(n, s_as, s_md, seed):
    delta = np.random.default_rng(seed).random((8, 8))
    t1 = tables.design(delta, n=n, s_as=s_as, s_md=s_md)
    t2 = tables.design(delta.copy(), n=n, s_as=s_as, s_md=s_md)
    assert np.array_equal(t1, t2) and t1.dtype == np.uint16 and t1.shape == (8, 8)
    assert t1.min() >= 1 and t1.max() <= 255
    assert (t1 == s_as).sum() == n or s_as == s_md
    fdjpeg.encode(np.zeros((8, 8, 3), np.uint8), t1)  # a legal baseline table


def test_design_per_component_from_images():
    luma, chroma = tables.design(samples.load_all()[:2], per_component=True)
    assert (luma == 1).sum() == 15 and (chroma == 1).sum() == 15 and luma[0, 0] == 1 and chroma[0, 0] == 1


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n": 65}, "n must"),
        ({"s_as": 0}, "s_as"),
        ({"s_md": 256}, "s_md"),
        ({"s_md": 40, "eps": 0.01}, "not both"),
        ({"eps": 0}, "eps"),
        ({"eps": 2.0}, "eps"),
    ],
)
def test_design_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        tables.design(np.ones((8, 8)), **kwargs)


def test_presets():
    paper = tables.preset("paper")
    assert paper.shape == (8, 8) and (paper == 1).sum() == 15 and (paper == 40).sum() == 49
    assert paper[0, 0] == 1  # DC has by far the largest delta in natural photos
    assert np.array_equal(paper, tables.preset("paper"))
    released = tables.preset("released")
    assert (released[:4, :4] == 25).all() and (released == 30).sum() == 48
    with pytest.raises(ValueError, match="unknown preset"):
        tables.preset("nope")
    for name in tables.PRESETS:
        fdjpeg.encode(np.zeros((8, 8, 3), np.uint8), tables.preset(name))


def _as_pair(t):
    return t if isinstance(t, tuple) else (t, t)


def test_recommended_preset_is_the_imagenet_search_winner():
    assert tables.RECOMMENDED in tables.PRESETS and tables.RECOMMENDED == "robust"
    rec = tables.preset()
    assert all(np.array_equal(a, b) for a, b in zip(_as_pair(rec), _as_pair(tables.preset("robust"))))
    for t in _as_pair(rec):  # legal baseline tables
        assert t.dtype == np.uint16 and t.shape == (8, 8) and 1 <= t.min() and t.max() <= 255
    luma, chroma = _as_pair(rec)
    # documented values (spec/feature-distillation.md section 3): 15 accuracy-sensitive frequencies at step 20,
    # the other 49 at step 40, the same table for every component, DC in the AS band; no step-1 band
    assert np.array_equal(luma, chroma)
    assert (luma == 20).sum() == 15 and (luma == 40).sum() == 49 and luma[0, 0] == 20
    assert tables.certified_eps(luma) == 0.0  # empirical, not certified: certified(1/255) needs steps 21-25
    # the resolvers of the integrations and the CLI take the name
    from fdjpeg.tables import resolve_tables

    got = resolve_tables("robust")
    assert np.array_equal(got[0], luma) and np.array_equal(got[-1], chroma)
    img = samples.load("coffee")[:64, :64]
    data = fdjpeg.encode(img, tables=rec, subsampling="4:4:4")
    q = fdjpeg.read_header(data).quant_tables
    assert any(np.array_equal(v, luma) for v in q.values()) and any(np.array_equal(v, chroma) for v in q.values())


def test_save_load_round_trip(tmp_path):
    one = tables.preset("paper")
    tables.save(tmp_path / "one.json", one, description="paper preset")
    assert np.array_equal(tables.load(tmp_path / "one.json"), one)
    two = tables.standard(80)
    tables.save(tmp_path / "two.json", two)
    luma, chroma = tables.load(tmp_path / "two.json")
    assert np.array_equal(luma, two[0]) and np.array_equal(chroma, two[1])
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not an fdjpeg tables file"):
        tables.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ValueError, match="JSON"):
        tables.load(tmp_path / "junk.json")
    with pytest.raises(ValueError):
        tables.save(tmp_path / "x.json", np.zeros((8, 8)))
    assert not (tmp_path / "x.json").exists()
