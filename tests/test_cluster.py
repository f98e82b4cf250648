"""fdjpeg.dataset.cluster: feature distillation of a directory on a Dask LocalCluster of two worker
processes (the numba kernels run in the workers), compared file for file with fdjpeg.requantize."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile

import imageio.v3 as iio
import numpy as np
import pytest

import fdjpeg
from fdjpeg import samples, tables

from helpers import make_image

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (the dask extra)")
pytest.importorskip("fsspec", reason="fsspec is not installed (the dask extra)")

from fdjpeg.dataset.cluster import REPORT_NAME, distill_dataset  # noqa: E402
from fdjpeg.dataset.shards import distill_shard  # noqa: E402

ROBUST = tables.resolve_tables("robust")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Seven JPEGs (colour 4:2:0 and 4:4:4, gray, progressive, in a sub-directory), one PNG, one corrupt
    JPEG and one file that is no image at all."""
    d = tmp_path_factory.mktemp("dataset")
    (d / "sub").mkdir()
    for i, name in enumerate(("coffee", "chelsea", "astronaut", "rocket")):
        img = samples.load(name)[: 64 + 16 * i, : 80 + 8 * i]
        (d / f"{name}.jpg").write_bytes(fdjpeg.encode(img, quality=90))
    (d / "sub" / "gray.jpeg").write_bytes(fdjpeg.encode(make_image(50, 70, gray=True), quality=85))
    (d / "sub" / "s444.jpg").write_bytes(fdjpeg.encode(make_image(40, 56, seed=3), quality=95, subsampling="4:4:4"))
    (d / "sub" / "prog.jpg").write_bytes(fdjpeg.encode(make_image(48, 48, seed=5), quality=90, progressive=True))
    iio.imwrite(d / "sub" / "picture.png", make_image(32, 40, seed=7))
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xdb\x00\x43\x00" + bytes(20))
    (d / "sub" / "readme.bmp").write_bytes(b"not an image at all")
    return d


def expected(src) -> bytes:
    """The one-at-a-time result the cluster must reproduce byte for byte."""
    data = src.read_bytes()
    if data[:2] == b"\xff\xd8":
        return fdjpeg.requantize(data, ROBUST)
    return fdjpeg.encode(iio.imread(src), ROBUST, subsampling="4:4:4", optimize=True)


GOOD = ["coffee.jpg", "chelsea.jpg", "astronaut.jpg", "rocket.jpg", "sub/gray.jpeg", "sub/s444.jpg", "sub/prog.jpg"]
GOOD += ["sub/picture.png"]
BAD = ["corrupt.jpg", "sub/readme.bmp"]


def out_name(rel: str) -> str:
    return os.path.splitext(rel)[0] + ".jpg"


def read_report(out) -> list[list[str]]:
    lines = (out / REPORT_NAME).read_text().splitlines()
    assert lines[0] == "input\terror"
    return [line.split("\t") for line in lines[1:]]


def test_outputs_equal_one_at_a_time_and_failures_reported(client, dataset, tmp_path):
    out = tmp_path / "out"
    report = distill_dataset(dataset, out, "robust", client=client, chunk_size=3)
    for rel in GOOD:
        assert (out / out_name(rel)).read_bytes() == expected(dataset / rel), rel
    assert report.written == len(GOOD) and report.skipped == 0
    assert sorted(os.path.relpath(src, dataset) for src, _ in report.failed) == sorted(BAD)
    rows = read_report(out)
    assert sorted(os.path.relpath(src, dataset) for src, _ in rows) == sorted(BAD)
    assert all(message for _, message in rows)
    for rel in BAD:
        assert not (out / out_name(rel)).exists()
    # atomic writes: nothing but the outputs and the report is left behind
    left = sorted(os.path.relpath(os.path.join(r, f), out) for r, _, fs in os.walk(out) for f in fs)
    assert left == sorted([out_name(rel) for rel in GOOD] + [REPORT_NAME])


def test_resume_redoes_only_missing_and_invalid_outputs(client, dataset, tmp_path):
    out = tmp_path / "out"
    first = distill_dataset([str(dataset)], f"file://{out}", client=client, chunk_size=2)
    assert first.written == len(GOOD)
    (out / "coffee.jpg").unlink()  # missing
    (out / "sub" / "gray.jpg").write_bytes((out / "sub" / "gray.jpg").read_bytes()[:100])  # truncated
    (out / "chelsea.jpg").write_bytes((dataset / "chelsea.jpg").read_bytes())  # valid, but not the FD tables
    kept = {rel: (out / out_name(rel)).stat().st_mtime_ns for rel in GOOD[2:4]}
    second = distill_dataset([str(dataset)], f"file://{out}", client=client, chunk_size=2)
    assert second.written == 3 and second.skipped == len(GOOD) - 3 and len(second.failed) == len(BAD)
    for rel in GOOD:
        assert (out / out_name(rel)).read_bytes() == expected(dataset / rel), rel
    assert {rel: (out / out_name(rel)).stat().st_mtime_ns for rel in kept} == kept  # not rewritten


def test_explicit_files_and_bad_arguments(client, dataset, tmp_path):
    report = distill_dataset([dataset / "rocket.jpg", dataset / "sub" / "prog.jpg"], tmp_path, client=client)
    assert report.written == 2 and not report.failed
    assert (tmp_path / "prog.jpg").read_bytes() == expected(dataset / "sub" / "prog.jpg")
    with pytest.raises(ValueError, match="chunk_size"):
        distill_dataset(dataset, tmp_path, client=client, chunk_size=0)
    with pytest.raises(ValueError, match="unknown tables"):
        distill_dataset(dataset, tmp_path, "nonsense", client=client)
    with pytest.raises(FileNotFoundError):
        distill_dataset(dataset / "missing", tmp_path, client=client)
    with pytest.raises(ValueError, match="both be written"):
        distill_dataset([dataset / "rocket.jpg", dataset / "rocket.jpg"], tmp_path, client=client)


def write_shard(path, members) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.filterwarnings("ignore::fdjpeg.JPEGWarning")  # the direct distill_shard call on the bad member
def test_shards_equal_distill_shard_and_resume(client, tmp_path):
    src = tmp_path / "shards"
    src.mkdir()
    for k in range(2):
        write_shard(
            src / f"shard-{k:03d}.tar",
            [
                (f"{k}a.jpg", fdjpeg.encode(make_image(40, 48, seed=k), quality=90)),
                (f"{k}a.cls", b"7\n"),
                (f"{k}b.jpg", b"\xff\xd8 not a JPEG"),  # copied unchanged, reported
            ],
        )
    out = tmp_path / "out"
    report = distill_dataset(src, out, client=client)
    assert report.written == 2
    assert sorted(name for name, _ in report.failed) == [f"{src}/shard-000.tar/0b.jpg", f"{src}/shard-001.tar/1b.jpg"]
    for k in range(2):
        want = tmp_path / "want.tar"
        distill_shard(src / f"shard-{k:03d}.tar", want, "robust")
        assert (out / f"shard-{k:03d}.tar").read_bytes() == want.read_bytes()
    (out / "shard-001.tar").write_bytes((out / "shard-001.tar").read_bytes()[:700])  # truncated
    again = distill_dataset(src, out, client=client)
    assert (again.written, again.skipped) == (1, 1)
    assert (out / "shard-001.tar").read_bytes() == want.read_bytes()


@pytest.mark.slow
def test_cli_dask_local(dataset, tmp_path):
    out = tmp_path / "cli-out"
    res = subprocess.run(
        [sys.executable, "-m", "fdjpeg", "distill", dataset, "-o", out, "--dask", "local", "-j", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 1, res.stderr  # two inputs failed
    assert f"fdjpeg: {dataset / 'corrupt.jpg'}: " in res.stderr
    assert f"{len(GOOD)} of {len(GOOD) + len(BAD)} outputs written" in res.stderr
    for rel in GOOD:
        assert (out / out_name(rel)).read_bytes() == expected(dataset / rel), rel
    assert len(read_report(out)) == len(BAD)
    one_pass = subprocess.run(
        [sys.executable, "-m", "fdjpeg", "distill", dataset, "-o", out, "--dask", "local", "--one-pass"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert one_pass.returncode == 2 and "--one-pass is not available with --dask" in one_pass.stderr


def test_core_never_imports_dask():
    code = (
        "import sys, fdjpeg, fdjpeg.cli, fdjpeg.dataset\n"
        "fdjpeg.cli.build_parser()\n"
        "fdjpeg.decode(fdjpeg.encode(fdjpeg.samples.load('coffee')[:16, :16]))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'fsspec')))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_cli_without_dask_says_how_to_install(tmp_path):
    """A Python where `distributed` cannot be imported: a usage error naming the extra."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('No module named distributed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    img = tmp_path / "a.jpg"
    img.write_bytes(fdjpeg.encode(np.zeros((8, 8, 3), np.uint8)))
    res = subprocess.run(
        [sys.executable, "-m", "fdjpeg", "distill", img, "-o", tmp_path / "o", "--dask", "local"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert res.returncode == 2
    assert 'fdjpeg: --dask needs dask.distributed and fsspec: pip install "fdjpeg[dask]"' in res.stderr
