"""WebDataset tar shards (fdjpeg.dataset.shards and ``fdjpeg distill SHARD.tar``): a distilled shard is the
original with every JPEG member replaced by its one-at-a-time ``fdjpeg.requantize`` (or one-pass) result,
everything else byte for byte and header for header, read and written as a stream."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile
import threading

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fdjpeg
from fdjpeg import cli, tables
from fdjpeg.dataset import shards
from tests.helpers import make_image

ROBUST = tables.preset("robust")


@pytest.fixture(scope="module")
def jpegs():
    """Small JPEGs of the kinds a shard holds: colour 4:2:0, gray, progressive, 4:4:4 with restarts."""
    photo = fdjpeg.samples.load("coffee")
    return [
        fdjpeg.encode(photo[:48, :64], quality=90),
        fdjpeg.encode(make_image(24, 40, gray=True, seed=1), quality=80),
        fdjpeg.encode(photo[100:140, 200:256], quality=95, progressive=True),
        fdjpeg.encode(make_image(32, 32, seed=2), quality=70, subsampling="4:4:4", restart_interval=2),
    ]


def _info(name, size=0, kind=tarfile.REGTYPE, **header):
    ti = tarfile.TarInfo(name)
    ti.size, ti.type = size, kind
    ti.mtime, ti.mode, ti.uid, ti.gid, ti.uname, ti.gname = 1_600_000_000, 0o640, 1000, 100, "alice", "users"
    for k, v in header.items():
        setattr(ti, k, v)
    return ti


def make_shard(members, fmt=tarfile.PAX_FORMAT, mode="w") -> bytes:
    """A tar from (name, bytes) or (TarInfo, bytes | None) pairs, in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as t:
        for entry, data in members:
            ti = entry if isinstance(entry, tarfile.TarInfo) else _info(entry, len(data))
            t.addfile(ti, None if data is None else io.BytesIO(data))
    return buf.getvalue()


def read_members(data: bytes) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return [(m, t.extractfile(m).read() if m.isreg() else None) for m in t.getmembers()]


HEADER_FIELDS = ("name", "type", "mode", "mtime", "uid", "gid", "uname", "gname", "linkname")


def expected_members(src: bytes, defense="requantize"):
    """What a distilled shard must hold: the one-at-a-time result for each JPEG member, the rest as is."""
    out = []
    for m, data in read_members(src):
        if data is not None and data[:2] == b"\xff\xd8":
            try:
                if defense == "requantize":
                    data = fdjpeg.requantize(data, ROBUST)
                else:
                    data = fdjpeg.decode(data, defense=ROBUST)
                    m.name = m.name.rpartition(".")[0] + ".png"
            except fdjpeg.JPEGError:
                pass
        out.append((m, data))
    return out


def assert_same_members(got, want):
    assert [m.name for m, _ in got] == [m.name for m, _ in want]
    for (g, gd), (w, wd) in zip(got, want):
        for field in HEADER_FIELDS:
            assert getattr(g, field) == getattr(w, field), (g.name, field)
        if isinstance(wd, np.ndarray):  # one-pass: a PNG of the defended pixels
            np.testing.assert_array_equal(iio.imread(gd, extension=".png"), wd)
        else:
            assert gd == wd, g.name


def distill(src: bytes, **kw) -> tuple[bytes, shards.ShardReport]:
    out = io.BytesIO()
    report = shards.distill_shard(io.BytesIO(src), out, "robust", **kw)
    return out.getvalue(), report


@pytest.fixture(scope="module")
def sample_shard(jpegs):
    png = iio.imwrite("<bytes>", make_image(8, 8), extension=".png")
    return make_shard(
        [
            (_info("train", kind=tarfile.DIRTYPE, mode=0o755), None),
            ("train/n01/000.jpg", jpegs[0]),
            ("train/n01/000.cls", b"7"),
            ("train/n01/000.json", b'{"label": 7, "caption": "cup"}'),
            ("train/n01/001.jpeg", jpegs[1]),
            ("train/n01/001.seg.png", png),
            ("train/n01/001.cls", b"3"),
            ("train/n02/002.webp.jpg", jpegs[2]),  # key.ext.ext: the last part says JPEG
            ("train/n02/002.txt", "naïve".encode()),
            ("train/n02/003.image", jpegs[3]),  # a JPEG under a name that does not say so
            (_info("train/latest.jpg", kind=tarfile.SYMTYPE, linkname="n01/000.jpg"), None),
        ]
    )


def test_members_equal_the_one_at_a_time_result(sample_shard):
    out, report = distill(sample_shard)
    assert_same_members(read_members(out), expected_members(sample_shard))
    assert (report.members, report.jpegs, report.distilled, report.failures) == (11, 4, 4, [])
    assert report.bytes_in == len(sample_shard) and report.bytes_out == len(out)
    assert report.jpeg_bytes_out == sum(len(d) for m, d in read_members(out) if d and d[:2] == b"\xff\xd8")


@pytest.mark.parametrize("batch_size, jobs", [(1, 1), (2, 2), (64, 2)])
def test_batching_and_threads_do_not_change_the_bytes(sample_shard, batch_size, jobs):
    assert distill(sample_shard, batch_size=batch_size, jobs=jobs)[0] == distill(sample_shard)[0]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT, tarfile.PAX_FORMAT])
def test_headers_kept_whatever_the_tar_format(jpegs, fmt):
    long_dir = "d" * 120  # past ustar's 100-byte name field: a GNU longname or pax path record
    members = [
        (_info(f"{long_dir}/000.jpg", len(jpegs[0]), mtime=1_234_567_890, uid=4242, uname="bob"), jpegs[0]),
        (_info(f"{long_dir}/000.cls", 1, mode=0o600), b"1"),
        (_info("link.jpg", kind=tarfile.LNKTYPE, linkname=f"{long_dir}/000.jpg"), None),
    ]
    if fmt == tarfile.USTAR_FORMAT:
        members[0][0].name = members[1][0].name = "x/000.jpg"
        members[1][0].name = "x/000.cls"
        members[2][0].linkname = "x/000.jpg"
    src = make_shard(members, fmt=fmt)
    assert_same_members(read_members(distill(src)[0]), expected_members(src))


def test_pax_records_kept_and_size_record_replaced(jpegs):
    ti = _info("ä/000.jpg", len(jpegs[0]))
    ti.pax_headers = {"mtime": "1600000000.25", "comment": "kept", "size": str(len(jpegs[0]))}
    src = make_shard([(ti, jpegs[0])])
    ((m, data),) = read_members(distill(src)[0])
    assert data == fdjpeg.requantize(jpegs[0], ROBUST) and m.size == len(data)
    assert (m.name, m.mtime, m.pax_headers.get("comment")) == ("ä/000.jpg", 1600000000.25, "kept")


def test_corrupt_and_misnamed_jpeg_members_are_copied_and_reported(jpegs):
    png = iio.imwrite("<bytes>", make_image(8, 8), extension=".png")
    broken = b"\xff\xd8\xff\xdb" + b"\x00" * 20  # SOI, then a DQT that cannot be parsed
    src = make_shard([("0.jpg", jpegs[0]), ("1.jpg", broken), ("2.jpg", png), ("3.jpg", jpegs[1])])
    out, report = distill(src)
    got = read_members(out)
    assert got[1][1] == broken and got[2][1] == png
    assert got[0][1] == fdjpeg.requantize(jpegs[0], ROBUST) and got[3][1] == fdjpeg.requantize(jpegs[1], ROBUST)
    assert [name for name, _ in report.failures] == ["1.jpg", "2.jpg"]
    assert "copied unchanged" in report.failures[0][1] and "no JPEG data" in report.failures[1][1]
    assert (report.jpegs, report.distilled, report.ok) == (3, 2, False)


def test_empty_shard():
    src = make_shard([])
    out, report = distill(src)
    assert read_members(out) == [] and (report.members, report.jpegs) == (0, 0)
    assert list(shards.iter_shard(out)) == []


def test_truncated_or_corrupt_tar_raises_and_leaves_dst_untouched(sample_shard, tmp_path):
    dst = tmp_path / "out.tar"
    dst.write_bytes(b"previous")
    bad_header = bytearray(sample_shard)
    with tarfile.open(fileobj=io.BytesIO(sample_shard)) as t:
        at = t.getmembers()[3].offset
    bad_header[at + 148 : at + 156] = b"9999999\x00"  # a later member's header checksum
    cuts = [sample_shard[:n] for n in (0, 100, 512, 1024, 1500, 2048, at, at + 100, 5000)]
    compressed = [m(sample_shard) for m in (gzip.compress, bz2.compress, lzma.compress)]
    damaged = [c[:300] for c in compressed] + [c[:20] + bytes(400) + c[420:] for c in compressed]
    for broken in [*cuts, bytes(bad_header), b"not a tar at all" * 100, *damaged]:
        with pytest.raises(fdjpeg.JPEGError, match="tar shard"):
            shards.distill_shard(io.BytesIO(broken), dst)
        with pytest.raises(fdjpeg.JPEGError, match="tar shard"):
            list(shards.iter_shard(broken, decode=False))
    assert dst.read_bytes() == b"previous" and sorted(os.listdir(tmp_path)) == ["out.tar"]


class Unseekable(io.RawIOBase):
    """A forward-only stream whose seek and tell raise, as a socket or an HTTP body would."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        n = self._f.readinto(memoryview(b)[:4096])  # short reads, as a pipe gives
        return n

    def seekable(self):
        return False

    def seek(self, *a):
        raise io.UnsupportedOperation("seek")

    def tell(self):
        raise io.UnsupportedOperation("tell")


def test_streams_from_unseekable_sources_and_pipes(sample_shard):
    want = distill(sample_shard)[0]
    out = io.BytesIO()
    shards.distill_shard(Unseekable(sample_shard), out)
    assert out.getvalue() == want
    r, w = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(w, sample_shard), os.close(w)))
    writer.start()
    with os.fdopen(r, "rb", buffering=0) as pipe:
        out = io.BytesIO()
        shards.distill_shard(pipe, out)
    writer.join()
    assert out.getvalue() == want
    keys = [s["__key__"] for s in shards.iter_shard(Unseekable(sample_shard), decode=False)]
    assert keys == ["train/n01/000", "train/n01/001", "train/n02/002", "train/n02/003"]


def test_large_non_jpeg_members_stream_through(jpegs, monkeypatch):
    monkeypatch.setattr(shards, "BUFFER_LIMIT", 1000)
    blob = bytes(range(256)) * 20  # over the limit: written straight through, in order
    src = make_shard([("0.jpg", jpegs[0]), ("0.bin", blob), ("1.jpg", jpegs[1]), ("1.bin", blob[:10])])
    assert_same_members(read_members(distill(src, batch_size=8)[0]), expected_members(src))


@pytest.mark.parametrize("codec, magic", [(gzip, b"\x1f\x8b"), (bz2, b"BZh"), (lzma, b"\xfd7zXZ")])
def test_compressed_shards_stay_compressed(sample_shard, codec, magic):
    out, _ = distill(codec.compress(sample_shard))
    assert out.startswith(magic)
    assert_same_members(read_members(codec.decompress(out)), expected_members(sample_shard))


def test_one_pass_members_become_pngs_of_the_defended_pixels(sample_shard):
    out, report = distill(sample_shard, defense="one-pass")
    assert_same_members(read_members(out), expected_members(sample_shard, defense="one-pass"))
    names = [m.name for m, _ in read_members(out)]
    assert "train/n01/000.png" in names and "train/n02/002.webp.png" in names and "train/n02/003.png" in names
    assert report.distilled == 4


def test_paths_are_written_atomically_and_in_place(sample_shard, tmp_path):
    path = tmp_path / "shard-000.tar"
    path.write_bytes(sample_shard)
    report = shards.distill_shard(path, path)  # dst may be src: the rename comes after the last read
    assert path.read_bytes() == distill(sample_shard)[0] and report.src == report.dst == str(path)
    assert os.listdir(tmp_path) == ["shard-000.tar"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="defense"):
        shards.distill_shard(b"", io.BytesIO(), defense="two-pass")
    with pytest.raises(ValueError, match="batch_size"):
        shards.distill_shard(b"", io.BytesIO(), batch_size=0)
    with pytest.raises(ValueError, match="unknown tables"):
        shards.distill_shard(b"", io.BytesIO(), tables="nope")
    with pytest.raises(TypeError, match="src"):
        shards.distill_shard(42, io.BytesIO())
    with pytest.raises(TypeError, match="dst"):
        shards.distill_shard(make_shard([]), 42)
    with pytest.raises(TypeError, match="binary mode"):
        shards.distill_shard(io.StringIO("x"), io.BytesIO())
    with pytest.raises(ValueError, match="errors"):
        next(shards.iter_shard(b"", errors="ignore"))
    with pytest.raises(ValueError, match="decode=True"):
        next(shards.iter_shard(b"", decode=False, tables="robust", defense="one-pass"))


def test_split_name_follows_webdataset():
    assert shards.split_name("a/b.c/d.seg.png") == ("a/b.c/d", "seg.png")
    assert shards.split_name("key.jpg") == ("key", "jpg")
    assert shards.split_name("a.b/noext") == (None, None)
    assert shards.split_name(".hidden") == (None, None)


# -- iter_shard --------------------------------------------------------------------------------------


def test_iter_shard_samples(sample_shard, jpegs):
    raw = list(shards.iter_shard(sample_shard, decode=False))
    assert [sorted(s) for s in raw] == [
        ["__key__", "cls", "jpg", "json"],
        ["__key__", "cls", "jpeg", "seg.png"],
        ["__key__", "txt", "webp.jpg"],
        ["__key__", "image"],
    ]
    assert raw[0]["jpg"] == jpegs[0] and raw[0]["cls"] == b"7" and raw[2]["txt"] == "naïve".encode()
    decoded = list(shards.iter_shard(sample_shard, mode="RGB"))
    np.testing.assert_array_equal(decoded[1]["jpeg"], fdjpeg.decode(jpegs[1], mode="RGB"))
    assert decoded[1]["seg.png"] == raw[1]["seg.png"]  # only JPEGs are decoded
    distilled = list(shards.iter_shard(sample_shard, tables="robust"))
    again = list(shards.iter_shard(distill(sample_shard)[0]))  # equal to reading the distilled shard
    assert [sorted(s) for s in distilled] == [sorted(s) for s in again]
    for a, b in zip(distilled, again):
        for k in a:
            assert np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k], (a["__key__"], k)
    one_pass = next(shards.iter_shard(sample_shard, tables="robust", defense="one-pass"))
    np.testing.assert_array_equal(one_pass["jpg"], fdjpeg.decode(jpegs[0], defense=ROBUST))
    req = next(shards.iter_shard(sample_shard, decode=False, tables="robust"))
    assert req["jpg"] == fdjpeg.requantize(jpegs[0], ROBUST)


def test_iter_shard_bad_jpeg_raises_or_skips(jpegs):
    src = make_shard(
        [("0.jpg", jpegs[0]), ("1.jpg", b"\xff\xd8\xff\xdb" + bytes(20)), ("1.cls", b"1"), ("2.cls", b"2")]
    )
    with pytest.raises(fdjpeg.JPEGError, match="1.jpg"):
        list(shards.iter_shard(src))
    with pytest.warns(fdjpeg.JPEGWarning, match="sample '1' skipped"):
        keys = [s["__key__"] for s in shards.iter_shard(src, errors="skip")]
    assert keys == ["0", "2"]
    dup = make_shard([("0.cls", b"1"), ("0.cls", b"2")])
    with pytest.raises(fdjpeg.JPEGError, match="second 'cls'"):
        list(shards.iter_shard(dup))


def test_a_batch_module_serves_whole_groups(sample_shard, monkeypatch):
    """fdjpeg.dataset.batch.requantize_batch distills each group of members in one call."""
    import types

    calls = []

    def requantize_batch(items, tables, errors="raise"):
        calls.append((len(items), errors))
        return [shards._distill_one(d, tables, "requantize") for d in items]

    monkeypatch.setitem(sys.modules, "fdjpeg.dataset.batch", types.SimpleNamespace(requantize_batch=requantize_batch))
    assert distill(sample_shard, batch_size=3)[0] == expected_shard_bytes(sample_shard)
    assert calls == [(3, "collect"), (1, "collect")]


def expected_shard_bytes(src):
    monkey_free = io.BytesIO()
    with tarfile.open(fileobj=monkey_free, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m, data in expected_members(src):
            if data is not None:
                m.size = len(data)
            t.addfile(m, None if data is None else io.BytesIO(data))
    return monkey_free.getvalue()


def test_webdataset_reads_the_distilled_shard(sample_shard, tmp_path):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed: cannot check it reads the shard")
    (tmp_path / "in.tar").write_bytes(sample_shard)
    shards.distill_shard(tmp_path / "in.tar", tmp_path / "out.tar")

    def samples(path):
        return list(wds.WebDataset(str(path), shardshuffle=False, empty_check=False))

    before, after = samples(tmp_path / "in.tar"), samples(tmp_path / "out.tar")
    assert [s["__key__"] for s in after] == [s["__key__"] for s in before] != []
    assert [sorted(k for k in s if not k.startswith("__")) for s in after] == [
        sorted(k for k in s if not k.startswith("__")) for s in before
    ]
    ours = list(shards.iter_shard(tmp_path / "out.tar", decode=False))
    assert [{k: v for k, v in s.items() if not k.startswith("__")} for s in after] == [
        {k: v for k, v in s.items() if not k.startswith("__")} for s in ours
    ]


def test_iter_shard_groups_tricky_names_as_webdataset_does(tmp_path):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed: cannot compare with it")
    names = ["__meta__", "__x__/a.txt", "noext", "a.b/c.TXT", "a.b/c.Seg.PNG", "d.cls", "__k__.json", "e..x"]
    src = make_shard([(n, n.encode()) for n in names])
    (tmp_path / "s.tar").write_bytes(src)
    theirs = [
        {k: v for k, v in s.items() if k not in ("__url__", "__local_path__")}
        for s in wds.WebDataset(str(tmp_path / "s.tar"), shardshuffle=False, empty_check=False)
    ]
    assert list(shards.iter_shard(src, decode=False)) == theirs != []


# -- random member lists -----------------------------------------------------------------------------

_NAMES = st.tuples(
    st.sampled_from(["", "a/", "b.c/"]),
    st.text("xyz01", min_size=1, max_size=4),
    st.sampled_from(["jpg", "jpeg", "cls", "json", "png", "seg.jpg", "bin"]),
)


@given(
    st.lists(
        st.tuples(_NAMES, st.one_of(st.integers(0, 3), st.binary(max_size=64), st.just(b"\xff\xd8\xff\xc0"))),
        max_size=10,
    ),
    st.integers(1, 4),
)
def test_random_member_lists(jpegs, members, batch_size):
    entries = [
        (f"{folder}{key}.{ext}", jpegs[content] if isinstance(content, int) else content)
        for (folder, key, ext), content in members
    ]
    src = make_shard(entries)
    out, report = distill(src, batch_size=batch_size)
    assert_same_members(read_members(out), expected_members(src))
    assert report.members == len(entries)


# -- command line ------------------------------------------------------------------------------------


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "fdjpeg", *map(str, args)], input=stdin, capture_output=True, timeout=600
    )


def test_cli_distills_shards_and_images_into_outdir(sample_shard, jpegs, tmp_path, capsys):
    (tmp_path / "shard-000.tar").write_bytes(sample_shard)
    (tmp_path / "shard-001").write_bytes(make_shard([("0.jpg", jpegs[1]), ("1.jpg", b"\xff\xd8\xff\xdb" + bytes(9))]))
    (tmp_path / "photo.jpg").write_bytes(jpegs[0])
    inputs = [tmp_path / n for n in ("shard-000.tar", "shard-001", "photo.jpg")]
    status = cli.main(["distill", *map(str, inputs), "-o", str(tmp_path / "out"), "-j", "2"])
    err = capsys.readouterr().err
    assert status == 1  # a member left unchanged is reported, as a skipped file is
    assert f"fdjpeg: warning: {tmp_path / 'shard-001'}: 1.jpg:" in err and "copied unchanged" in err
    assert "2 of 2 shards (5 JPEG members distilled, 1 left unchanged) and 1 of 1 images written" in err
    assert (tmp_path / "out" / "shard-000.tar").read_bytes() == distill(sample_shard)[0]
    assert (tmp_path / "out" / "photo.jpg").read_bytes() == fdjpeg.requantize(jpegs[0], ROBUST)
    assert sorted(os.listdir(tmp_path / "out")) == ["photo.jpg", "shard-000.tar", "shard-001"]


def test_cli_broken_shard_is_an_error_without_output(sample_shard, tmp_path, capsys):
    (tmp_path / "cut.tar").write_bytes(sample_shard[:3000])
    assert cli.main(["distill", str(tmp_path / "cut.tar"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"fdjpeg: {tmp_path / 'cut.tar'}: truncated or corrupt tar shard" in err
    assert os.listdir(tmp_path / "out") == []
    assert cli.main(["distill", str(tmp_path / "cut.tar"), "-o", str(tmp_path)]) == 2  # would overwrite it
    assert "would overwrite the input" in capsys.readouterr().err


def test_cli_stdin_to_stdout(sample_shard, tmp_path):
    res = run("distill", "-", "-o", "-", stdin=sample_shard)
    assert res.returncode == 0, res.stderr
    assert res.stdout == distill(sample_shard)[0]
    assert b"1 of 1 shards (4 JPEG members distilled) written to stdout" in res.stderr
    (tmp_path / "s.tar").write_bytes(sample_shard)
    res = run("distill", tmp_path / "s.tar", "-o", "-", "--one-pass")
    assert res.returncode == 0 and res.stdout == distill(sample_shard, defense="one-pass")[0]
    res = run("distill", "-", "-o", "-", stdin=sample_shard[:2000])
    assert res.returncode == 1 and b"fdjpeg: stdin: truncated or corrupt tar shard" in res.stderr
    res = run("distill", "-", tmp_path / "s.tar", "-o", "-", stdin=b"")
    assert res.returncode == 2 and b"for one tar shard only" in res.stderr
