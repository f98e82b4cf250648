"""fdjpeg as an imageio v3 plugin, exercised through imageio's own API."""

from __future__ import annotations

import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

import fdjpeg

IMG = np.random.default_rng(3).integers(0, 256, (29, 41, 3), dtype=np.uint8)
ICC = bytes(36) + b"acsp" + bytes(100)
EXIF = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"


def test_registered_on_import_without_importing_imageio():
    code = (
        "import sys, fdjpeg; assert 'imageio' not in sys.modules; "
        "import imageio.config as c; print(c.known_plugins['fdjpeg'].module_name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "fdjpeg.imageio_plugin"
    import imageio.config

    assert "fdjpeg" in imageio.config.known_plugins  # and in this process, where imageio came first


def test_imwrite_equals_encode_and_imread_equals_decode(tmp_path):
    path = tmp_path / "a.jpg"
    kw = dict(quality=90, subsampling="4:4:4", optimize=True, restart_interval=2)
    iio.imwrite(path, IMG, plugin="fdjpeg", **kw)
    assert path.read_bytes() == fdjpeg.encode(IMG, **kw)
    np.testing.assert_array_equal(iio.imread(path, plugin="fdjpeg"), fdjpeg.decode(path.read_bytes()))
    tables = fdjpeg.tables.preset("paper")
    data = iio.imwrite("<bytes>", IMG, plugin="fdjpeg", extension=".jpg", tables=tables, subsampling="4:2:2")
    assert data == fdjpeg.encode(IMG, tables=tables, subsampling="4:2:2")
    np.testing.assert_array_equal(iio.imread(data, plugin="fdjpeg"), fdjpeg.decode(data))
    assert iio.imread(data, plugin="fdjpeg", mode="L").ndim == 2
    assert iio.imread(data, plugin="fdjpeg", index=...).shape == (1, 29, 41, 3)
    assert [f.shape for f in iio.imiter(data, plugin="fdjpeg")] == [(29, 41, 3)]


def test_improps_and_immeta(tmp_path):
    path = tmp_path / "m.jpg"
    iio.imwrite(
        path,
        IMG,
        plugin="fdjpeg",
        quality=80,
        subsampling="4:2:0",
        comment="hi",
        exif=EXIF,
        icc_profile=ICC,
        restart_rows=1,
    )
    props = iio.improps(path, plugin="fdjpeg")
    assert props.shape == (29, 41, 3) and props.dtype == np.uint8 and not props.is_batch
    assert iio.improps(path, plugin="fdjpeg", index=...).shape == (1, 29, 41, 3)
    meta = iio.immeta(path, plugin="fdjpeg")
    assert (meta["width"], meta["height"], meta["subsampling"]) == (41, 29, "4:2:0")
    assert meta["sampling"] == [(2, 2), (1, 1), (1, 1)] and meta["components"] == [1, 2, 3]
    np.testing.assert_array_equal(meta["quantization_tables"][0], fdjpeg.tables.standard(80)[0])
    np.testing.assert_array_equal(meta["quantization_tables"][2], fdjpeg.tables.standard(80)[1])
    assert meta["exif"] == EXIF and meta["icc_profile"] == ICC and meta["comment"] == b"hi"
    assert meta["restart_interval"] == 3 and meta["progressive"] is False and meta["jfif_version"] == (1, 1)
    gray = iio.imwrite("<bytes>", IMG[..., 0], plugin="fdjpeg", extension=".jpg")
    assert iio.improps(gray, plugin="fdjpeg").shape == (29, 41)
    assert iio.immeta(gray, plugin="fdjpeg")["subsampling"] == "gray"


def test_refusals(tmp_path):
    png = tmp_path / "x.png"
    iio.imwrite(png, IMG)
    with pytest.raises(OSError):  # imageio's wording for "this plugin cannot read it"
        iio.imread(png, plugin="fdjpeg")
    with pytest.raises(OSError):
        iio.imwrite(tmp_path / "y.png", IMG, plugin="fdjpeg")
    with pytest.raises(ValueError, match="one image"):
        iio.imwrite(tmp_path / "b.jpg", np.stack([IMG, IMG]), plugin="fdjpeg")
    with pytest.raises(ValueError, match="subsampling"):
        iio.imwrite(tmp_path / "c.jpg", IMG, plugin="fdjpeg", subsampling="4:1:1", profile="baseline-hw")
    assert not (tmp_path / "c.jpg").exists()  # encoding failed before the file was opened
    data = iio.imwrite("<bytes>", IMG, plugin="fdjpeg", extension=".jpg")
    with pytest.raises(IndexError):
        iio.imread(data, plugin="fdjpeg", index=1)
