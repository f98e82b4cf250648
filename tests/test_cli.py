"""The fdjpeg command line, run as a user runs it (a subprocess with the real entry point)."""

from __future__ import annotations

import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

import fdjpeg
from fdjpeg import samples, tables


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fdjpeg", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    for name in ("coffee", "chelsea"):
        iio.imwrite(d / f"{name}.png", samples.load(name)[:96, :128])
    sub = d / "nested"
    sub.mkdir()
    (sub / "rocket.jpg").write_bytes(fdjpeg.encode(samples.load("rocket")[:80, :112], quality=93))
    (d / "broken.png").write_bytes(b"\x89PNG not really")
    return d


def test_demo_writes_and_reports(tmp_path):
    res = run("demo", "--out", tmp_path / "demo")
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == ["astronaut-fd-paper.jpg", "astronaut-fd-released.jpg", "astronaut-q75.jpg"]
    for name in names:
        assert name in res.stdout
        data = (tmp_path / "demo" / name).read_bytes()
        assert str(len(data)) in res.stdout
        assert fdjpeg.decode(data).shape == (512, 512, 3)
    released = fdjpeg.read_header((tmp_path / "demo" / "astronaut-fd-released.jpg").read_bytes())
    assert all(np.array_equal(t, tables.preset("released")) for t in released.quant_tables.values())
    assert "PSNR" in res.stdout


def test_encode_decode_round_trip(tmp_path, photo_dir):
    out = tmp_path / "c.jpg"
    res = run("encode", photo_dir / "coffee.png", "-o", out, "--quality", 90, "--subsampling", "4:4:4", "--optimize")
    assert res.returncode == 0, res.stderr
    img = iio.imread(photo_dir / "coffee.png")
    assert out.read_bytes() == fdjpeg.encode(img, quality=90, subsampling="4:4:4", optimize=True)
    res = run("decode", out, "-o", tmp_path / "c.png")
    assert res.returncode == 0, res.stderr
    assert np.array_equal(iio.imread(tmp_path / "c.png"), fdjpeg.decode(out))


def test_encode_progressive(tmp_path, photo_dir):
    out = tmp_path / "p.jpg"
    res = run("encode", photo_dir / "chelsea.png", "-o", out, "--quality", 85, "--progressive", "--restart-rows", 1)
    assert res.returncode == 0, res.stderr
    img = iio.imread(photo_dir / "chelsea.png")
    assert out.read_bytes() == fdjpeg.encode(img, quality=85, progressive=True, restart_rows=1)
    assert fdjpeg.read_coefficients(out.read_bytes()).progressive


def test_errors_are_one_line_with_status(tmp_path):
    res = run("decode", tmp_path / "missing.jpg", "-o", tmp_path / "x.png")
    assert res.returncode == 1 and "missing.jpg" in res.stderr and "Traceback" not in res.stderr
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xdb\x00\x02")
    res = run("decode", tmp_path / "bad.jpg", "-o", tmp_path / "x.png")
    assert res.returncode == 1 and "Traceback" not in res.stderr and not (tmp_path / "x.png").exists()
    assert run("encode").returncode == 2  # usage error
    assert run("--version").stdout.startswith("fdjpeg ")


def test_distill_batch_keeps_going_past_a_bad_file(tmp_path, photo_dir):
    out = tmp_path / "out"
    res = run("distill", photo_dir, "-o", out, "--tables", "paper", "--no-progress")
    assert res.returncode == 1  # one input is broken
    assert "broken.png" in res.stderr and "3 of 4" in res.stderr
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["chelsea.jpg", "coffee.jpg", "nested/rocket.jpg"]  # no temporaries, no partial file
    paper = tables.preset("paper")
    # Non-JPEG inputs are encoded with the tables; JPEG inputs are requantized in the coefficient domain.
    coffee = iio.imread(photo_dir / "coffee.png")
    assert (out / "coffee.jpg").read_bytes() == fdjpeg.encode(coffee, paper, subsampling="4:4:4", optimize=True)
    src = (photo_dir / "nested" / "rocket.jpg").read_bytes()
    assert (out / "nested" / "rocket.jpg").read_bytes() == fdjpeg.requantize(src, paper)


def test_distill_one_pass_writes_defended_pixels(tmp_path, photo_dir):
    out = tmp_path / "px"
    table_file = tmp_path / "t.json"
    tables.save(table_file, tables.preset("released"))
    res = run("distill", photo_dir / "nested", photo_dir / "chelsea.png", "-o", out, "--one-pass", "--tables", table_file)
    assert res.returncode == 0, res.stderr
    src = (photo_dir / "nested" / "rocket.jpg").read_bytes()
    assert np.array_equal(iio.imread(out / "rocket.png"), fdjpeg.decode(src, defense=tables.preset("released")))
    chelsea = iio.imread(photo_dir / "chelsea.png")
    assert np.array_equal(iio.imread(out / "chelsea.png"), fdjpeg.distill(chelsea, tables.preset("released")))


def test_distill_refuses_unknown_tables(tmp_path, photo_dir):
    res = run("distill", photo_dir, "-o", tmp_path / "o", "--tables", "nonsense")
    assert res.returncode == 1 and "nonsense" in res.stderr and not (tmp_path / "o").exists()


def test_design_tables(tmp_path, photo_dir):
    out = tmp_path / "fd.json"
    res = run("design-tables", photo_dir, "-o", out, "--n", 10, "--eps", 0.01)
    assert res.returncode == 1  # the broken file is reported and skipped, the table still written
    assert "broken.png" in res.stderr
    designed = tables.load(out)
    imgs = [iio.imread(photo_dir / "chelsea.png"), iio.imread(photo_dir / "coffee.png"),
            fdjpeg.decode(photo_dir / "nested" / "rocket.jpg")]
    assert np.array_equal(designed, tables.design(imgs, n=10, eps=0.01))
    assert json.loads(out.read_text())["format"] == "fdjpeg-quantization-tables"
    assert "# all components" in res.stdout
