"""The fdjpeg command line, run as a user runs it (a subprocess with the real entry point)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import fdjpeg
from fdjpeg import samples, tables


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "fdjpeg", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600
    )


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
    assert names == [
        "astronaut-fd-paper.jpg",
        "astronaut-fd-released.jpg",
        "astronaut-fd-robust.jpg",
        "astronaut-q75.jpg",
    ]
    for name in names:
        assert name in res.stdout
        data = (tmp_path / "demo" / name).read_bytes()
        assert str(len(data)) in res.stdout
        assert fdjpeg.decode(data).shape == (512, 512, 3)
    released = fdjpeg.read_header((tmp_path / "demo" / "astronaut-fd-released.jpg").read_bytes())
    assert all(np.array_equal(t, tables.preset("released")) for t in released.quant_tables.values())
    robust = fdjpeg.read_header((tmp_path / "demo" / "astronaut-fd-robust.jpg").read_bytes())
    assert all(np.array_equal(t, tables.preset()) for t in robust.quant_tables.values())  # the recommended table
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
    res = run(
        "distill", photo_dir / "nested", photo_dir / "chelsea.png", "-o", out, "--one-pass", "--tables", table_file
    )
    assert res.returncode == 0, res.stderr
    src = (photo_dir / "nested" / "rocket.jpg").read_bytes()
    assert np.array_equal(iio.imread(out / "rocket.png"), fdjpeg.decode(src, defense=tables.preset("released")))
    chelsea = iio.imread(photo_dir / "chelsea.png")
    assert np.array_equal(iio.imread(out / "chelsea.png"), fdjpeg.distill(chelsea, tables.preset("released")))


def test_distill_defaults_to_the_recommended_table(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    coffee = samples.load("coffee")[:48, :64]
    iio.imwrite(src / "coffee.png", coffee)
    res = run("distill", src, "-o", tmp_path / "out", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "coffee.jpg").read_bytes() == fdjpeg.encode(
        coffee, tables.preset(), subsampling="4:4:4", optimize=True
    )
    assert tables.RECOMMENDED == "robust"


def test_distill_refuses_unknown_tables(tmp_path, photo_dir):
    res = run("distill", photo_dir, "-o", tmp_path / "o", "--tables", "nonsense")
    assert res.returncode == 1 and "nonsense" in res.stderr and not (tmp_path / "o").exists()


def test_design_tables(tmp_path, photo_dir):
    out = tmp_path / "fd.json"
    res = run("design-tables", photo_dir, "-o", out, "--n", 10, "--eps", 0.01)
    assert res.returncode == 1  # the broken file is reported and skipped, the table still written
    assert "broken.png" in res.stderr
    designed = tables.load(out)
    imgs = [
        iio.imread(photo_dir / "chelsea.png"),
        iio.imread(photo_dir / "coffee.png"),
        fdjpeg.decode(photo_dir / "nested" / "rocket.jpg"),
    ]
    assert np.array_equal(designed, tables.design(imgs, n=10, eps=0.01))
    assert json.loads(out.read_text())["format"] == "fdjpeg-quantization-tables"
    assert "# all components" in res.stdout


# -- issue 11 item 6: CMYK and alpha ------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "conformance"
CMYK_FILES = [
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-cmyk-1.jpg",
    "jpeg-decoder/tests/reftest/images/mozilla/jpg-cmyk-2.jpg",
    "jpeg-decoder/tests/reftest/images/ycck.jpg",
]


def _pillow_rgb(data: bytes) -> np.ndarray:
    Image = pytest.importorskip("PIL.Image")
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def cmyk_files(tmp_path_factory):
    """CMYK/YCCK JPEGs: the corpus's (when present) and one Pillow writes (Adobe, inverted CMYK)."""
    Image = pytest.importorskip("PIL.Image")
    d = tmp_path_factory.mktemp("cmyk")
    rng = np.random.default_rng(6)
    made = d / "pillow-cmyk.jpg"
    Image.fromarray(rng.integers(0, 256, (40, 56, 4), np.uint8), "CMYK").save(made, quality=90)
    return [made] + [CORPUS / f for f in CMYK_FILES if (CORPUS / f).exists()]


def test_cmyk_jpegs_become_rgb_as_pillow_converts(tmp_path, cmyk_files):
    for src in cmyk_files:
        data = src.read_bytes()
        assert fdjpeg.decode(data).shape[2] == 4
        res = run("decode", src, "-o", tmp_path / "x.png")
        assert res.returncode == 0, res.stderr
        assert np.array_equal(iio.imread(tmp_path / "x.png"), _pillow_rgb(data)), src.name
    src = cmyk_files[-1]
    res = run("encode", src, "-o", tmp_path / "e.jpg", "--quiet", "--strip-metadata")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "e.jpg").read_bytes() == fdjpeg.encode(_pillow_rgb(src.read_bytes()), quality=75)
    res = run("distill", src, "-o", tmp_path / "d", "--one-pass", "--tables", "released", "--quiet")
    assert res.returncode == 0, res.stderr
    requantized = fdjpeg.requantize(src.read_bytes(), tables.preset("released"))
    assert np.array_equal(iio.imread(tmp_path / "d" / (src.stem + ".png")), _pillow_rgb(requantized))


def test_alpha_is_refused_unless_opaque(tmp_path):
    rgb = samples.load("coffee")[:48, :64]
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    iio.imwrite(tmp_path / "opaque.png", np.dstack([rgb, alpha]))
    alpha[5, 7] = 0
    iio.imwrite(tmp_path / "clear.png", np.dstack([rgb, alpha]))
    iio.imwrite(tmp_path / "la.png", np.dstack([rgb[..., 0], alpha]))
    res = run("encode", tmp_path / "opaque.png", "-o", tmp_path / "o.jpg")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o.jpg").read_bytes() == fdjpeg.encode(rgb, quality=75)
    for name, kind in (("clear.png", "RGBA"), ("la.png", "LA")):
        res = run("encode", tmp_path / name, "-o", tmp_path / "x.jpg")
        assert res.returncode == 1 and res.stderr.startswith(f"fdjpeg: {tmp_path / name}: {kind} image")
        assert "alpha" in res.stderr and "Traceback" not in res.stderr and not (tmp_path / "x.jpg").exists()


# -- issue 11 item 7: behaving like a Unix tool ------------------------------------------------------------


def _no_noise(res) -> None:
    assert "Traceback" not in res.stderr and ".tmp" not in res.stderr and "pip install" not in res.stderr


def test_bad_outputs_are_one_line_errors(tmp_path, photo_dir):
    src = tmp_path / "c.jpg"
    src.write_bytes(fdjpeg.encode(samples.load("chelsea")[:32, :32]))
    res = run("decode", src, "-o", tmp_path / "x.xyz")
    assert res.returncode == 2 and res.stderr.startswith(f"fdjpeg: {tmp_path / 'x.xyz'}: ") and "'.xyz'" in res.stderr
    res = run("decode", src, "-o", tmp_path / "missing" / "x.png")
    assert res.returncode == 1 and "no such directory" in res.stderr
    res = run("decode", src, "-o", tmp_path)
    assert res.returncode == 1 and res.stderr == f"fdjpeg: {tmp_path}: is a directory (give a file name)\n"
    res = run("encode", photo_dir / "coffee.png", "-o", tmp_path / "nowhere" / "c.jpg")
    assert res.returncode == 1 and "no such directory" in res.stderr
    res = run("encode", photo_dir / "coffee.png", "-o", tmp_path / "t.jpg", "--tables", "paper", "-q", 90)
    assert res.returncode == 2 and "--quality" in res.stderr and not (tmp_path / "t.jpg").exists()
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"GIF89a not really")
    res = run("encode", fake, "-o", tmp_path / "f.jpg")
    assert res.returncode == 1 and res.stderr.startswith(f"fdjpeg: {fake}: not a JPEG")
    res = run("info", fake)
    assert res.returncode == 1 and res.stdout == "" and res.stderr.startswith(f"fdjpeg: {fake}: not a JPEG")
    _no_noise(res)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jpg", "fake.jpg"]


def test_decode_warnings_name_the_file(tmp_path):
    data = fdjpeg.encode(samples.load("rocket")[:64, :64], quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    res = run("decode", cut, "-o", tmp_path / "cut.png")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if "compiling" not in line]
    assert lines and all(line.startswith(f"fdjpeg: warning: {cut}: ") for line in lines), res.stderr
    assert "JPEGWarning" not in res.stderr and "warn(" not in res.stderr


def test_stdin_stdout_and_closed_pipe(tmp_path, photo_dir):
    png = (photo_dir / "coffee.png").read_bytes()
    enc = subprocess.run(
        [sys.executable, "-m", "fdjpeg", "encode", "-", "-o", "-", "-q", "90"],
        input=png,
        capture_output=True,
        timeout=600,
    )
    assert enc.returncode == 0 and enc.stdout == fdjpeg.encode(iio.imread(png), quality=90)
    assert enc.stderr.decode().endswith("fdjpeg: stdout: " + str(len(enc.stdout)) + " bytes\n")
    dec = subprocess.run(
        [sys.executable, "-m", "fdjpeg", "decode", "-", "-o", "-"], input=enc.stdout, capture_output=True, timeout=600
    )
    assert dec.returncode == 0 and np.array_equal(iio.imread(dec.stdout), fdjpeg.decode(enc.stdout))
    big = tmp_path / "big.jpg"
    big.write_bytes(fdjpeg.encode(samples.load("astronaut"), quality=95))  # decodes to a PNG larger than a pipe
    proc = subprocess.Popen(
        [sys.executable, "-m", "fdjpeg", "decode", big, "-o", "-"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout.read(8) == b"\x89PNG\r\n\x1a\n"
    proc.stdout.close()  # like `| head -c 8`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=600) == 141  # what a shell reports for a writer stopped by SIGPIPE
    assert all("compiling" in line for line in err.splitlines()), err  # no "Broken pipe", no traceback


def test_encode_keeps_jpeg_metadata(tmp_path):
    icc = bytearray(200)
    icc[16:20], icc[36:40] = b"RGB ", b"acsp"
    src = tmp_path / "meta.jpg"
    src.write_bytes(
        fdjpeg.encode(
            samples.load("chelsea")[:40, :40],
            exif=b"Exif\0\0MM\0*fake",
            icc_profile=bytes(icc),
            comment=b"shot on a test",
        )
    )
    res = run("encode", src, "-o", tmp_path / "kept.jpg", "--tables", "released")
    assert res.returncode == 0, res.stderr
    kept = fdjpeg.read_header((tmp_path / "kept.jpg").read_bytes())
    assert (kept.exif, kept.icc_profile, kept.comment) == (b"Exif\0\0MM\0*fake", bytes(icc), b"shot on a test")
    res = run("encode", src, "-o", tmp_path / "bare.jpg", "--tables", "released", "--strip-metadata")
    assert res.returncode == 0, res.stderr
    bare = (tmp_path / "bare.jpg").read_bytes()
    assert bare == fdjpeg.encode(fdjpeg.decode(src), tables.preset("released"))
    Image = pytest.importorskip("PIL.Image")
    cmyk_icc = bytearray(icc)
    cmyk_icc[16:20] = b"CMYK"
    Image.new("CMYK", (16, 16), (10, 20, 30, 40)).save(tmp_path / "cmyk.jpg", icc_profile=bytes(cmyk_icc))
    res = run("encode", tmp_path / "cmyk.jpg", "-o", tmp_path / "rgb.jpg")
    assert res.returncode == 0, res.stderr  # the CMYK profile does not describe the RGB output
    assert fdjpeg.read_header((tmp_path / "rgb.jpg").read_bytes()).icc_profile is None


def test_output_through_a_symlink_keeps_the_link(tmp_path):
    src = tmp_path / "c.jpg"
    src.write_bytes(fdjpeg.encode(samples.load("chelsea")[:32, :32]))
    (tmp_path / "real.png").write_bytes(b"old")
    (tmp_path / "link.png").symlink_to("real.png")  # e.g. /dev/stdout -> /proc/self/fd/1 redirected to a file
    res = run("decode", src, "-o", tmp_path / "link.png")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "link.png").is_symlink() and np.array_equal(
        iio.imread(tmp_path / "real.png"), fdjpeg.decode(src)
    )


def test_design_tables_skips_unusable_files(tmp_path, photo_dir):
    d = tmp_path / "in"
    d.mkdir()
    rgb = samples.load("coffee")[:64, :64]
    iio.imwrite(d / "good.png", rgb)
    iio.imwrite(d / "la.png", np.dstack([rgb[..., 0], np.zeros(rgb.shape[:2], np.uint8)]))
    (d / "fake.jpg").write_bytes(b"not an image")
    res = run("design-tables", d, "-o", tmp_path / "t.json")
    assert res.returncode == 1, res.stderr  # written from the usable image; the others named
    assert f"fdjpeg: {d / 'la.png'}: LA image" in res.stderr and f"fdjpeg: {d / 'fake.jpg'}: " in res.stderr
    assert np.array_equal(tables.load(tmp_path / "t.json"), tables.design([rgb]))
    (d / "good.png").unlink()
    res = run("design-tables", d, "-o", tmp_path / "none.json")
    assert res.returncode == 1 and "no tables written" in res.stderr and not (tmp_path / "none.json").exists()
    _no_noise(res)


def test_distill_output_inside_or_equal_to_input(tmp_path, photo_dir):
    src = tmp_path / "in"
    shutil.copytree(photo_dir / "nested", src)  # rocket.jpg
    out = src / "out"
    for _ in range(2):  # the second run must not pick up the first run's outputs
        res = run("distill", src, "-o", out, "--quiet")
        assert res.returncode == 0, res.stderr
    assert sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()) == ["out/rocket.jpg", "rocket.jpg"]
    before = (src / "rocket.jpg").read_bytes()
    res = run("distill", src, "-o", src)
    assert res.returncode == 2 and "overwrite" in res.stderr and (src / "rocket.jpg").read_bytes() == before


def test_distill_does_not_write_through_symlinks(tmp_path, photo_dir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "nested").symlink_to(elsewhere, target_is_directory=True)
    res = run("distill", photo_dir, "-o", out, "--no-progress")
    assert res.returncode == 1 and "symbolic link" in res.stderr and "rocket.jpg" in res.stderr
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["chelsea.jpg", "coffee.jpg", "nested"]


# -- issue 11 item 10: say that the first run compiles ---------------------------------------------------


def test_first_run_says_it_compiles(tmp_path):
    """Slow (~30-60 s: compiles the encoder's kernels into an empty cache once; the second run loads them)."""
    iio.imwrite(tmp_path / "s.png", samples.load("coffee")[:16, :16])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    notices = []
    for name in ("a.jpg", "b.jpg"):
        res = subprocess.run(
            [sys.executable, "-m", "fdjpeg", "encode", tmp_path / "s.png", "-o", tmp_path / name],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
        assert res.returncode == 0, res.stderr
        notices.append([line for line in res.stderr.splitlines() if "compiling the Numba kernels" in line])
    assert len(notices[0]) == 1 and notices[0][0].startswith("fdjpeg: ")  # one line, before the wait
    assert notices[1] == []  # cached: nothing to say


def test_encode_grayscale_default_matches_libjpeg(tmp_path):
    """A grayscale PNG encodes as libjpeg-turbo's default grayscale file (one 1x1 component), byte for byte."""
    from PIL import Image

    gray = samples.load("coffee")[:37, :53].mean(axis=2).astype(np.uint8)
    iio.imwrite(tmp_path / "g.png", gray)
    res = run("encode", tmp_path / "g.png", "-o", tmp_path / "g.jpg", "--quality", "80")
    assert res.returncode == 0, res.stderr
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "JPEG", quality=80)
    assert (tmp_path / "g.jpg").read_bytes() == buf.getvalue()
    assert fdjpeg.read_header((tmp_path / "g.jpg").read_bytes()).components[0].h == 1


@pytest.mark.parametrize("args, status", [(["--version"], 0), (["info", "missing.jpg"], 1)])
def test_command_exits_with_its_status_and_skips_the_final_collection(tmp_path, args, status):
    """The console entry point returns main()'s status and freezes the heap first, so the interpreter's
    exit does not walk Numba's objects (about 0.2 s of a short command)."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "from fdjpeg.cli import run\n"
        "sys.argv[1:] = " + repr(args) + "\n"
        "run()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert res.returncode == status, res.stderr
    assert res.stdout.splitlines()[-1] == "frozen True"
