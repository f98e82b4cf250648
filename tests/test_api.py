"""The public API as README.md documents it (issue 11): the namespace, fdjpeg.check / fdjpeg.info, the
65500 size limit, grayscale sampling factors, and the argument checks that replaced silent surprises."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import tables

from helpers import (
    CJPEG_SAMPLE,
    cjpeg_encode,
    first_difference,
    needs_cjpeg,
    pillow_encode,
)

PUBLIC = {
    "encode", "encode_to", "decode", "read_header", "read_coefficients", "write_coefficients", "JPEGCoefficients",
    "distill", "requantize", "requantize_coefficients", "check", "info", "Problem",
    "JPEGError", "JPEGWarning", "UnsupportedJPEG", "tables", "samples", "__version__",
    "Encoder", "Decoder", "requantize_stream",  # issue 17: streaming
    "decode_batch", "requantize_batch", "encode_batch",  # issue 14: batch calls
}  # fmt: skip


def _photo(h=37, w=45):
    return fdjpeg.samples.load("coffee")[:h, :w]


# --- item 3: the namespace and the validator functions -----------------------------------------------


def test_namespace_is_exactly_the_public_api():
    assert set(fdjpeg.__all__) == PUBLIC and len(fdjpeg.__all__) == len(PUBLIC)
    shown = set(dir(fdjpeg))
    optional = {"art", "testing", "torch"}  # listed once imported (this session may have imported them)
    assert PUBLIC <= shown <= PUBLIC | optional
    assert not [n for n in shown if n.startswith("_") and n != "__version__"]
    assert "annotations" not in shown
    for name in fdjpeg.__all__:
        getattr(fdjpeg, name)


def test_check_and_info_are_the_readme_functions():
    data = fdjpeg.encode(_photo())
    problems = fdjpeg.check(data)
    assert problems == [fdjpeg.Problem("info", 0, "fits the baseline-hw hardware profile", "profile")]
    bad = fdjpeg.check(data[:-2])
    assert any(p.severity == "error" and "EOI" in p.message for p in bad)
    assert fdjpeg.check(data, profile="baseline-hw") == []
    meta = fdjpeg.info(data)
    assert meta["frame"]["width"] == 45 and meta["frame"]["height"] == 37
    assert meta["frame"]["subsampling"] == "4:2:0" and meta["hardware_profile"]["fits"]
    assert meta["problems"] == [
        {"severity": "info", "offset": 0, "message": "fits the baseline-hw hardware profile", "code": "profile"}
    ]
    # The validator's modules behind them are still reachable for their helpers.
    from fdjpeg.validator.walker import walk

    assert walk(data).width == 45


def test_distill_default_is_the_documented_round_trip():
    img, t = _photo(), tables.preset("paper")
    assert np.array_equal(fdjpeg.distill(img, t), fdjpeg.decode(fdjpeg.encode(img, t, subsampling="4:4:4")))


# --- item 4: libjpeg's 65500 limit ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 65501), (65501, 1), (8, 65535), (65535, 8)])
def test_encode_refuses_sizes_over_65500(shape):
    img = np.zeros(shape, np.uint8)
    with pytest.raises(ValueError, match="65500"):
        fdjpeg.encode(img)
    with pytest.raises(ValueError, match="65500"):
        fdjpeg.encode_to(io.BytesIO(), img)
    with pytest.raises(ValueError, match="65500"):
        fdjpeg.distill(img, tables.preset("paper"))


def test_encode_accepts_65500_and_the_decoders_read_it():
    img = np.full((1, 65500), 77, np.uint8)
    data = fdjpeg.encode(img)
    assert fdjpeg.decode(data).shape == (1, 65500)
    assert np.asarray(Image.open(io.BytesIO(data))).shape == (1, 65500)


def test_write_coefficients_refuses_sizes_over_65500():
    coefs = fdjpeg.read_coefficients(fdjpeg.encode(np.zeros((8, 8), np.uint8)))
    coefs.width = 65501
    coefs.components = [np.zeros((1, 8189, 8, 8), np.int16)]
    with pytest.raises(ValueError, match="65500"):
        fdjpeg.write_coefficients(coefs)


# --- item 5: grayscale sampling factors as libjpeg-turbo writes them -----------------------------------


def _sof_factors(data: bytes) -> tuple[int, int]:
    c = fdjpeg.read_header(data).components[0]
    return c.h, c.v


@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    sub=st.sampled_from(["4:4:4", "4:2:2", "4:2:0", None]),
    restart=st.sampled_from(
        [{}, {"restart_interval": 1}, {"restart_interval": 3}, {"restart_rows": 1}, {"restart_rows": 2}]
    ),
    optimize=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_grayscale_bytes_equal_pillow_for_every_subsampling(h, w, sub, restart, optimize, seed):
    img = np.random.default_rng(seed).integers(0, 256, (h, w), np.uint8)
    kw = dict(restart, optimize=optimize)
    ours = fdjpeg.encode(img, subsampling=sub, **kw)
    want = pillow_encode(img, subsampling=sub, **kw)  # Pillow: subsampling=2/1/0, or its default for "L"
    assert ours == want, first_difference(ours, want)
    assert _sof_factors(ours) == {"4:2:0": (2, 2), "4:2:2": (2, 1)}.get(sub, (1, 1))


@needs_cjpeg
@pytest.mark.parametrize("sub", ["4:2:0", "4:2:2", "4:4:0", "4:1:1"])
@pytest.mark.parametrize("restart", [{}, {"restart_rows": 1}, {"restart_interval": 5}])
def test_grayscale_bytes_equal_cjpeg_sample(sub, restart):
    img = _photo(29, 51)[..., 1]
    ours = fdjpeg.encode(img, subsampling=sub, **restart)
    want = cjpeg_encode(img, subsampling=sub, **restart)  # cjpeg -sample HxV on a PGM
    assert ours == want, first_difference(ours, want)
    assert _sof_factors(ours) == tuple(int(v) for v in CJPEG_SAMPLE[sub].split("x"))
    assert np.array_equal(fdjpeg.decode(ours), fdjpeg.decode(fdjpeg.encode(img, **restart)))


def test_grayscale_subsampling_outside_the_hardware_profile_names_the_argument():
    img = _photo()[..., 0]
    assert fdjpeg.encode(img, profile="baseline-hw") == fdjpeg.encode(img)
    with pytest.raises(ValueError, match="subsampling='4:2:0' on a grayscale image"):
        fdjpeg.encode(img, subsampling="4:2:0", profile="baseline-hw")


# --- item 8: errors instead of silent surprises --------------------------------------------------------


@pytest.mark.parametrize("scale", [255.0, 2.0])
def test_distill_refuses_floats_outside_0_1(scale):
    x = _photo().astype(np.float32) / 255.0
    x[0, 0] = 1.0
    x *= scale
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fdjpeg.distill(x, tables.preset("paper"))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fdjpeg.distill(x - 0.5 * scale, tables.preset("paper"))  # mean-normalized


def test_distill_accepts_rounding_noise_at_the_ends_of_0_1():
    x = _photo().astype(np.float64) / 255.0
    x[0, 0, 0], x[0, 1, 0] = 1.0 + 1e-6, -1e-6
    out = fdjpeg.distill(x, tables.preset("paper"))
    assert out.dtype == x.dtype and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("call", ["distill", "requantize", "requantize_coefficients", "decode"])
def test_feature_distillation_tables_are_required(call):
    img = _photo()
    data = fdjpeg.encode(img)
    if call == "decode":  # defense=None means no defense (the plain decode), not a default table
        assert np.array_equal(fdjpeg.decode(data, defense=None), fdjpeg.decode(data))
        return
    arg = {"distill": img, "requantize": data, "requantize_coefficients": fdjpeg.read_coefficients(data)}[call]
    with pytest.raises(TypeError, match="tables is required"):
        getattr(fdjpeg, call)(arg, None)


def test_torch_refuses_normalized_input_like_art():
    torch = pytest.importorskip("torch", reason="torch not installed (optional extra: pip install torch)")
    import fdjpeg.torch as fdt

    x = torch.from_numpy(_photo().astype(np.float32).transpose(2, 0, 1)[None] / 255.0)
    fd = fdt.FeatureDistillation("paper")
    assert fd(x).shape == x.shape
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fd((x - 0.5) / 0.25)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fd(x * 255.0)


def test_art_refuses_values_above_clip_values():
    pytest.importorskip("art", reason="ART not installed (optional extra: pip install '.[art]')")
    from fdjpeg.art import FeatureDistillation

    x = _photo().astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    x[..., 0, 0] = 1.0
    pre = FeatureDistillation("paper", clip_values=(0.0, 1.0), channels_first=True)
    assert pre(x)[0].shape == x.shape
    with pytest.raises(ValueError, match="clip_values"):
        pre(x * 2.0)


def _truncations():
    data = fdjpeg.encode(_photo(), restart_interval=2, comment="c")
    sof = data.index(b"\xff\xc0")
    sos = data.index(b"\xff\xda")
    return [data[:n] for n in (3, 4, 5, 20, sof + 3, sof + 9, sos + 2, sos + 6)] + [data[:sos] + b"\xff"]


@pytest.mark.parametrize("i", range(9))
def test_jpeg_error_offsets_stay_inside_the_data(i):
    data = _truncations()[i]
    for read in (fdjpeg.read_header, fdjpeg.read_coefficients, fdjpeg.decode):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                read(data)
            except fdjpeg.JPEGError as e:
                assert e.offset is None or 0 <= e.offset <= len(data), (read.__name__, e)
        for w in caught:
            m = re.search(r"at byte offset (\d+)", str(w.message))
            assert m is None or int(m.group(1)) <= len(data), (read.__name__, str(w.message))


@pytest.mark.parametrize("quality", [50, 90])
def test_tables_read_from_a_file_can_be_passed_back_to_encode(quality):
    img = _photo()
    data = fdjpeg.encode(img, quality=quality)
    header_tables = fdjpeg.read_header(data).quant_tables  # {slot: table}
    coef_tables = fdjpeg.read_coefficients(data).quant_tables  # one per component
    assert fdjpeg.encode(img, header_tables) == data
    assert fdjpeg.encode(img, coef_tables) == data
    assert fdjpeg.encode(
        img[..., 0], fdjpeg.read_coefficients(fdjpeg.encode(img[..., 0], quality=quality)).quant_tables
    ) == fdjpeg.encode(img[..., 0], quality=quality)
    same = fdjpeg.encode(img, tables.preset("paper"))
    assert fdjpeg.encode(img, fdjpeg.read_coefficients(same).quant_tables) == same  # one table for all: [t, t, t]
    assert np.array_equal(fdjpeg.distill(img, coef_tables), fdjpeg.distill(img, fdjpeg.tables.standard(quality)))


def test_tables_that_encode_cannot_express_are_refused_by_name():
    t = tables.standard(75)
    with pytest.raises(ValueError, match="Cb and Cr"):
        fdjpeg.encode(_photo(), [t[0], t[1], t[0]])
    with pytest.raises(ValueError, match="slots"):
        fdjpeg.encode(_photo(), {0: t[0], 2: t[1]})


def test_write_coefficients_keeps_16_bit_steps_that_encode_refuses():
    """Documented: encode writes baseline tables (1..255); write_coefficients keeps any table a file may
    carry (1..65535, as extended SOF1 files do) so that reading and writing back loses nothing."""
    img = _photo()
    step300 = np.full((8, 8), 300)
    with pytest.raises(ValueError, match="1..255.*write_coefficients"):
        fdjpeg.encode(img, step300)
    coefs = fdjpeg.read_coefficients(fdjpeg.encode(img, np.full((8, 8), 200)))
    coefs.quant_tables = [step300.astype(np.uint16)] * 3
    out = fdjpeg.write_coefficients(coefs)
    assert fdjpeg.read_header(out).sof_marker == 0xC1  # extended sequential, 16-bit DQT
    assert fdjpeg.read_coefficients(out) == coefs
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(out))), fdjpeg.decode(out))
