"""The validator (fdjpeg.check, fdjpeg check/info), the baseline-hw profile and MJPEG frames."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

import fdjpeg
from fdjpeg import markers as M
from fdjpeg.check import HARDWARE_PROFILE, check, info, walk
from fdjpeg.cli import main
from fdjpeg.testing import encoder_settings, images, jpeg_files

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
needs_corpus = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").exists(), reason=f"conformance corpus not found at {CORPUS}")


def _errors(problems):
    return [p for p in problems if p.severity == "error"]


def _codes(problems):
    return {p.code for p in problems if p.severity != "info"}


IMG = np.random.default_rng(7).integers(0, 256, (37, 53, 3), dtype=np.uint8)


def _std(**kw) -> bytes:
    return fdjpeg.encode(IMG, **kw)


def _segment_offset(data: bytes, code: int, nth: int = 0) -> int:
    return [s.offset for s in walk(data).segments if s.marker == code][nth]


# --------------------------------------------------------------------------------------------------
# Valid files


@given(images(max_side=48), encoder_settings(metadata=True))
def test_every_fdjpeg_file_is_clean(img, kw):
    problems = check(fdjpeg.encode(img, **kw))
    assert not [p for p in problems if p.severity != "info"], problems
    fits = [p for p in problems if p.code == "profile"][0].message.startswith("fits")
    # A grayscale image with an explicit subsampling other than 4:4:4 gets non-1x1 factors (issue 11 item 5).
    assert fits == (kw["subsampling"] == "4:4:4" if img.ndim == 2 else kw["subsampling"] in ("4:4:4", "4:2:2", "4:2:0"))


@settings(max_examples=15)
@given(jpeg_files(mjpeg=True))
def test_jpeg_files_strategy_matches_pillow(f):
    data, pixels = f
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)
    assert not _errors(check(data))


def test_info_structure():
    data = _std(restart_interval=2, comment="hello", exif=b"II*\x00\x08\x00\x00\x00\x00\x00", subsampling="4:2:2")
    d = info(data)
    assert [m["marker"] for m in d["markers"]][:4] == ["SOI", "APP0", "APP1", "COM"]
    assert d["markers"][-1] == {"offset": len(data) - 2, "marker": "EOI", "length": None}
    assert d["frame"]["subsampling"] == "4:2:2" and (d["frame"]["width"], d["frame"]["height"]) == (53, 37)
    np.testing.assert_array_equal(np.array(d["quantization_tables"]["0"]["table"]), fdjpeg.tables.standard(75)[0])
    (scan,) = d["scans"]
    assert (scan["Ss"], scan["Se"], scan["Ah"], scan["Al"]) == (0, 63, 0, 0)
    assert scan["mcus"] == 4 * 5 and scan["restart_markers"] == 9
    assert d["metadata"]["comments"] == ["hello"] and d["metadata"]["exif_bytes"] == 10
    assert d["hardware_profile"]["fits"]
    json.dumps(d)


# --------------------------------------------------------------------------------------------------
# Each kind of problem, on a deliberately broken file


def test_missing_eoi_and_trailing_garbage():
    data = _std()
    assert "no-eoi" in _codes(check(data[:-2]))
    p = [p for p in check(data + b"junk") if p.code == "trailing"]
    assert p and p[0].offset == len(data) and p[0].severity == "warning"


def test_truncated_segment_and_bad_length():
    data = bytearray(_std())
    sof = _segment_offset(bytes(data), M.SOF0)
    assert "truncated" in _codes(check(bytes(data[: sof + 6])))
    data[sof + 2 : sof + 4] = (1).to_bytes(2, "big")
    problems = check(bytes(data))
    assert any(p.code == "length" and p.offset == sof for p in problems)


def test_sof_length_mismatch_and_bad_sampling():
    data = bytearray(_std())
    sof = _segment_offset(bytes(data), M.SOF0)
    data[sof + 4 + 7] = 0x55  # component 1 sampling 5x5
    assert any(p.code == "sof" and "5x5" in p.message for p in check(bytes(data)))


def test_undefined_tables():
    data = _std()
    dqt = _segment_offset(data, M.DQT, 1)
    no_chroma_dqt = data[:dqt] + data[dqt + 2 + 67 :]
    assert "undefined-dqt" in _codes(check(no_chroma_dqt))
    dht = [s for s in walk(data).segments if s.marker == M.DHT]
    start, end = dht[2].offset, dht[3].offset + 2 + dht[3].length  # DC1 and AC1
    problems = check(data[:start] + data[end:])
    assert any(p.code == "undefined-dht" and p.severity == "warning" for p in problems)  # Annex K fallback
    # a scan that names table 2, never defined: an error (no decoder has a default for it)
    sos = _segment_offset(data, M.SOS)
    bad = bytearray(data)
    bad[sos + 6] = 0x22
    assert any(p.code in ("undefined-dht", "sos") and p.severity == "error" for p in check(bytes(bad)))


def test_invalid_huffman_table():
    data = bytearray(_std())
    dht = _segment_offset(bytes(data), M.DHT)
    data[dht + 5 : dht + 8] = bytes([3, 0, 3])  # three 1-bit codes (same total as 0, 1, 5): impossible
    assert "huffman" in _codes(check(bytes(data)))


def test_scan_parameters():
    data = bytearray(_std())
    sos = _segment_offset(bytes(data), M.SOS)
    length = int.from_bytes(data[sos + 2 : sos + 4], "big")
    data[sos + 2 + length - 2] = 5  # Se = 5 in a sequential scan
    assert "scan-params" in _codes(check(bytes(data)))


def test_restart_markers():
    data = _std(restart_interval=1)
    assert not _errors(check(data))
    i = data.index(b"\xff\xd1")  # RST1 -> RST5
    bad = data[:i] + b"\xff\xd5" + data[i + 2 :]
    assert any(p.code == "rst-sequence" and p.offset == i for p in check(bad))
    no_dri = data.replace(b"\xff\xdd\x00\x04\x00\x01", b"")
    assert "rst-unexpected" in _codes(check(no_dri))
    missing = data[:i] + data[i + 2 :]
    assert "rst-count" in _codes(check(missing))


def test_marker_order_and_junk():
    data = _std()
    sof = _segment_offset(data, M.SOF0)
    sof_len = 2 + int.from_bytes(data[sof + 2 : sof + 4], "big")
    no_sof = data[:sof] + data[sof + sof_len :]
    assert "order" in _codes(check(no_sof))
    dht = _segment_offset(data, M.DHT)
    junk = data[:dht] + b"\x00\x01\x02" + data[dht:]
    assert any(p.code == "junk" and p.offset == dht for p in check(junk))


def test_not_jpeg_and_empty():
    assert _codes(check(b"")) == {"empty"}
    assert _codes(check(b"\x89PNG\r\n\x1a\n")) == {"no-soi"}


@settings(max_examples=150)
@given(st.data())
def test_never_raises_on_mutations(data):
    """Random truncations, byte flips and insertions: a report, never an exception."""
    base = data.draw(st.sampled_from([_std(), _std(restart_interval=3, optimize=True), _std(mjpeg=True)]))
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos : pos + data.draw(st.integers(1, 64))]
        else:
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
    problems = check(bytes(buf))
    assert isinstance(problems, list) and all(p.severity in ("error", "warning", "info") for p in problems)
    info(bytes(buf))


def test_huge_lengths_do_not_hang():
    data = b"\xff\xd8" + b"\xff\xe1\xff\xff" + b"\x00" * 10 + b"\xff" * 100_000
    t = time.perf_counter()
    check(data)
    check(b"\xff\xd8" + b"\xff\x00" * 200_000)
    assert time.perf_counter() - t < 5


# --------------------------------------------------------------------------------------------------
# The conformance corpus


@needs_corpus
def test_corpus_reports_agree_with_libjpeg_turbo():
    """Every file: a report and no exception. Files libjpeg-turbo decodes without a warning have no
    errors; files it rejects have at least one error or warning (MANIFEST.tsv records its verdicts)."""
    rows = list(csv.DictReader(open(CORPUS / "MANIFEST.tsv", newline=""), delimiter="\t"))
    assert rows
    for row in rows:
        problems = check(CORPUS / row["path"])
        verdict = row["djpeg_3.2.0"]
        if verdict.startswith("decode") and not verdict.startswith("decode+warning"):
            assert not _errors(problems), (row["path"], problems)
        if verdict.startswith("error"):
            assert [p for p in problems if p.severity != "info"], (row["path"], verdict)


# --------------------------------------------------------------------------------------------------
# The hardware-safe profile and MJPEG frames


@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_profile_accepts_and_keeps_bytes(subsampling):
    for kw in ({}, {"optimize": True, "restart_rows": 1}, {"tables": fdjpeg.tables.preset("paper")}):
        assert fdjpeg.encode(IMG, subsampling=subsampling, profile=HARDWARE_PROFILE, **kw) == _std(subsampling=subsampling, **kw)
    assert fdjpeg.encode(IMG[..., 0], profile=HARDWARE_PROFILE) == fdjpeg.encode(IMG[..., 0])


@pytest.mark.parametrize("kw, words", [
    ({"subsampling": "4:1:1"}, "subsampling='4:1:1'"),
    ({"subsampling": "4:4:0"}, "subsampling='4:4:0'"),
    ({"icc_profile": bytes(36) + b"acsp" + bytes(70_000)}, "APPn"),
    ({"profile": "nvjpeg"}, "profile must be"),
])
def test_profile_refuses(kw, words):
    kw.setdefault("profile", HARDWARE_PROFILE)
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        fdjpeg.encode(IMG, **kw)


def test_profile_check_flags_progressive_and_ids():
    buf = io.BytesIO()
    Image.fromarray(IMG).save(buf, "JPEG", progressive=True)
    problems = check(buf.getvalue(), profile=HARDWARE_PROFILE)
    msgs = " ".join(p.message for p in _errors(problems))
    assert "SOF2" in msgs and "scans; exactly one" in msgs
    data = bytearray(_std())
    sof = _segment_offset(bytes(data), M.SOF0)
    data[sof + 10] = 0  # component ids 0, 2, 3
    sos = _segment_offset(bytes(data), M.SOS)
    data[sos + 5] = 0
    msgs = " ".join(p.message for p in check(bytes(data), profile=HARDWARE_PROFILE))
    assert "component ids [0, 2, 3]" in msgs


def test_mjpeg_frame_layout_and_decoders():
    frame = fdjpeg.encode(IMG, subsampling="4:2:2", mjpeg=True, restart_interval=4)
    std = fdjpeg.encode(IMG, subsampling="4:2:2", restart_interval=4)
    assert frame[2:20] == b"\xff\xe0\x00\x10AVI1" + bytes(10)
    assert [s.name for s in walk(frame).segments if s.marker == M.DHT] == []
    np.testing.assert_array_equal(fdjpeg.decode(frame), fdjpeg.decode(std))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(frame))), fdjpeg.decode(std))
    problems = check(frame, profile=HARDWARE_PROFILE)
    assert not _errors(problems) and "no-dht" in _codes(problems)
    with pytest.raises(ValueError, match="optimize"):
        fdjpeg.encode(IMG, mjpeg=True, optimize=True)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (apt-get install ffmpeg)")
def test_mjpeg_frame_ffmpeg_same_as_standard_file(tmp_path):
    outs = []
    for name, data in (("frame", fdjpeg.encode(IMG, subsampling="4:2:2", mjpeg=True)),
                       ("std", fdjpeg.encode(IMG, subsampling="4:2:2"))):
        (tmp_path / f"{name}.jpg").write_bytes(data)
        outs.append(subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / f"{name}.jpg"), "-f", "rawvideo", "-"],
                                   capture_output=True, check=True).stdout)
    assert outs[0] == outs[1] and len(outs[0]) == 37 * 53 + 2 * 27 * 37


@pytest.mark.skipif(shutil.which("djpeg") is None, reason="djpeg not installed (apt-get install libjpeg-turbo-progs)")
def test_mjpeg_frame_djpeg(tmp_path):
    frame = tmp_path / "frame.jpg"
    frame.write_bytes(fdjpeg.encode(IMG, subsampling="4:2:2", mjpeg=True))
    ppm = subprocess.run(["djpeg", str(frame)], capture_output=True, check=True).stdout
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(ppm))), fdjpeg.decode(frame.read_bytes()))


# --------------------------------------------------------------------------------------------------
# Command line


def test_cli_check_and_info(tmp_path, capsys):
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(_std())
    bad.write_bytes(_std()[:-2] + b"")
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert out == f"{good}:0: info: fits the {HARDWARE_PROFILE} hardware profile\n"
    assert main(["check", "-q", str(good), str(bad), str(tmp_path / "missing.jpg")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{bad}:") and ": error: missing EOI" in line for line in lines)
    assert any(line.startswith(f"{tmp_path / 'missing.jpg'}:0: error: cannot read") for line in lines)
    assert main(["check", "--profile", HARDWARE_PROFILE, str(good)]) == 0
    (tmp_path / "411.jpg").write_bytes(_std(subsampling="4:1:1"))
    assert main(["check", "--profile", HARDWARE_PROFILE, str(tmp_path / "411.jpg")]) == 1
    capsys.readouterr()
    assert main(["info", str(good)]) == 0
    text = capsys.readouterr().out
    assert "quantization table 0 (8-bit, natural order):" in text and "4:2:0" in text
    assert main(["info", "--json", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["frame"]["width"] == 53
