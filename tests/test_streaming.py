"""Streaming (issue 17): fdjpeg.Encoder writes encode()'s bytes from rows given in any strips; bad
calls give clear errors and never leave a file at the path."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fdjpeg
import fdjpeg.encoder.stream as enc_stream
import fdjpeg.fd.stream as fd_stream

SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1")


def _stream_encode(img, step_sizes, **settings) -> bytes:
    h, w = img.shape[:2]
    out = io.BytesIO()
    with fdjpeg.Encoder(out, w, h, mode="RGB" if img.ndim == 3 else "L", **settings) as enc:
        y, i = 0, 0
        while y < h:
            k = step_sizes[i % len(step_sizes)]
            enc.write(img[y : y + k])
            y += k
            i += 1
    return out.getvalue()


@st.composite
def _encode_cases(draw):
    h = draw(st.integers(1, 70))
    w = draw(st.integers(1, 70))
    gray = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    img = np.random.default_rng(seed).integers(0, 256, (h, w) if gray else (h, w, 3), dtype=np.uint8)
    settings = {"subsampling": draw(st.sampled_from(SUBSAMPLINGS)), "quality": draw(st.integers(1, 100))}
    restart = draw(st.sampled_from(["none", "interval", "rows"]))
    if restart == "interval":
        settings["restart_interval"] = draw(st.integers(1, 9))
    elif restart == "rows":
        settings["restart_rows"] = draw(st.integers(1, 3))
    settings["optimize"] = draw(st.booleans())
    steps = draw(st.sampled_from([[1], [3], [5, 2], [8], [16], [17, 1], [h]]))
    return img, settings, steps


@given(_encode_cases())
def test_streamed_bytes_equal_encode(case):
    img, settings, steps = case
    assert _stream_encode(img, steps, **settings) == fdjpeg.encode(img, **settings)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (7, 13, 3), (13, 7), (33, 40, 3), (300, 517, 3)])
@pytest.mark.parametrize("steps", [[1], [7], [16], [10**6]])
def test_streamed_bytes_equal_encode_edge_sizes(shape, steps):
    img = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    for settings in ({}, {"restart_interval": 5, "comment": "x", "subsampling": "4:2:2"}):
        assert _stream_encode(img, steps, **settings) == fdjpeg.encode(img, **settings)


def test_small_bands_and_a_small_output_buffer_give_the_same_bytes(monkeypatch):
    """Many bands per write (BAND_BYTES) and output-buffer refills (STATUS_NEED_SPACE) keep the
    state across calls: the bytes do not change."""
    monkeypatch.setattr(enc_stream, "BAND_BYTES", 3000)
    monkeypatch.setattr(enc_stream, "OUT_BYTES", 8192)
    img = np.random.default_rng(5).integers(0, 256, (203, 301, 3), dtype=np.uint8)
    for settings in ({}, {"restart_interval": 4}, {"quality": 100, "subsampling": "4:4:4"}):
        assert _stream_encode(img, [203], **settings) == fdjpeg.encode(img, **settings)
        assert _stream_encode(img, [9], **settings) == fdjpeg.encode(img, **settings)


def test_path_is_written_atomically(tmp_path):
    img = fdjpeg.samples.load("chelsea")[:100, :120]
    path = tmp_path / "out.jpg"
    with fdjpeg.Encoder(path, 120, 100, quality=90, exif=b"Exif\x00\x00MM\x00*rest") as enc:
        for y in range(0, 100, 16):
            assert not path.exists()  # renamed into place by the write that completes the image
            enc.write(img[y : y + 16])
    assert path.read_bytes() == fdjpeg.encode(img, quality=90, exif=b"Exif\x00\x00MM\x00*rest")
    assert os.listdir(tmp_path) == ["out.jpg"]


def test_closing_early_leaves_no_file(tmp_path):
    path = tmp_path / "out.jpg"
    img = np.zeros((40, 30, 3), np.uint8)
    with pytest.raises(ValueError, match="closed after 16 of 40 rows"):
        with fdjpeg.Encoder(path, 30, 40) as enc:
            enc.write(img[:16])
    assert os.listdir(tmp_path) == []
    enc = fdjpeg.Encoder(path, 30, 40)
    enc.write(img[:3])
    with pytest.raises(ValueError, match="closed after 3 of 40"):
        enc.close()
    assert os.listdir(tmp_path) == []


def test_an_exception_in_the_loop_leaves_no_file(tmp_path):
    path = tmp_path / "out.jpg"
    with pytest.raises(RuntimeError, match="camera"):
        with fdjpeg.Encoder(path, 30, 40) as enc:
            enc.write(np.zeros((20, 30, 3), np.uint8))
            raise RuntimeError("camera unplugged")
    assert os.listdir(tmp_path) == []


def test_bad_rows_are_refused_by_name(tmp_path):
    path = tmp_path / "out.jpg"
    with pytest.raises(ValueError, match="too many rows: 38 written \\+ 3 given > height 40"):
        with fdjpeg.Encoder(path, 30, 40) as enc:
            enc.write(np.zeros((38, 30, 3), np.uint8))
            enc.write(np.zeros((3, 30, 3), np.uint8))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match=r"rows must have shape \(k, 30, 3\)"):
        with fdjpeg.Encoder(path, 30, 40) as enc:
            enc.write(np.zeros((8, 31, 3), np.uint8))
    with pytest.raises(TypeError, match="dtype uint8"):
        with fdjpeg.Encoder(path, 30, 40) as enc:
            enc.write(np.zeros((8, 30, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(k, 30\) or \(k, 30, 1\)"):
        with fdjpeg.Encoder(path, 30, 40, mode="L") as enc:
            enc.write(np.zeros((8, 30, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_bad_settings_are_refused_before_any_file(tmp_path):
    path = tmp_path / "out.jpg"
    with pytest.raises(ValueError, match="mode"):
        fdjpeg.Encoder(path, 30, 40, mode="RGBA")
    with pytest.raises(ValueError, match="width"):
        fdjpeg.Encoder(path, 0, 40)
    with pytest.raises(ValueError, match="subsampling"):
        fdjpeg.Encoder(path, 30, 40, subsampling="4:2:1")
    with pytest.raises(ValueError, match="quality"):
        fdjpeg.Encoder(path, 30, 40, quality=0)
    with pytest.raises(ValueError, match="encode\\(\\)"):
        fdjpeg.Encoder(path, 30, 40, progressive=True)
    with pytest.raises(ValueError, match="not both"):
        fdjpeg.Encoder(path, 30, 40, restart_interval=1, restart_rows=1)
    assert os.listdir(tmp_path) == []


def test_write_after_the_last_row_is_refused():
    out = io.BytesIO()
    enc = fdjpeg.Encoder(out, 8, 8, mode="L")
    enc.write(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="closed"):
        enc.write(np.zeros((1, 8), np.uint8))
    assert out.getvalue() == fdjpeg.encode(np.zeros((8, 8), np.uint8))


# --- fdjpeg.Decoder ------------------------------------------------------------------------------


def _stream_decode(source, strip, **kw):
    parts = list(fdjpeg.Decoder(source, **kw).rows(strip))
    ys = [y for y, _ in parts]
    pixels = np.concatenate([p for _, p in parts])
    assert ys == list(range(0, pixels.shape[0], strip))
    assert all(p.shape[0] == strip for _, p in parts[:-1])
    return pixels


@st.composite
def _decode_cases(draw):
    img, settings, _ = draw(_encode_cases())
    settings.pop("optimize")
    settings["progressive"] = draw(st.booleans())
    strip = draw(st.sampled_from([1, 2, 7, 8, 15, 16, 17, 32, 33, 1000]))
    return img, settings, strip


@given(_decode_cases())
def test_streamed_pixels_equal_decode(case):
    """Fancy upsampling reads the rows above and below: strips of every size equal decode()."""
    img, settings, strip = case
    data = fdjpeg.encode(img, **settings)
    assert np.array_equal(_stream_decode(data, strip), fdjpeg.decode(data))


@pytest.mark.parametrize("strip", [1, 5, 16, 48, 10**6])
def test_streamed_pixels_equal_decode_photo_from_a_file_object(strip, tmp_path):
    photo = fdjpeg.samples.load("astronaut")[:150, :171]
    for settings in ({}, {"subsampling": "4:2:2", "restart_interval": 2}, {"subsampling": "4:4:0"}):
        path = tmp_path / "p.jpg"
        fdjpeg.encode_to(path, photo, **settings)
        with open(path, "rb") as f:
            got = _stream_decode(f, strip)
        assert np.array_equal(got, fdjpeg.decode(path))
        assert np.array_equal(_stream_decode(path, strip, mode="L"), fdjpeg.decode(path, mode="L"))


def test_decoder_refuses_bad_arguments_and_bad_files():
    data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="strip must be at least 1"):
        fdjpeg.Decoder(data).rows(0)
    with pytest.raises(TypeError, match="strip must be an int"):
        fdjpeg.Decoder(data).rows(2.5)
    with pytest.raises(ValueError, match="mode"):
        fdjpeg.Decoder(data, mode="CMYK")
    with pytest.raises(fdjpeg.JPEGError), warnings.catch_warnings():
        warnings.simplefilter("ignore", fdjpeg.JPEGWarning)
        fdjpeg.Decoder(b"\xff\xd8\xff\xc0\x00")


class _CountingReader(io.RawIOBase):
    """A file object that records how far it has been read."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), len(self.data) - self.pos)
        b[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def test_baseline_file_is_read_as_the_strips_need_it():
    """A baseline file is entropy-decoded band by band from a window of the file: the first strip
    comes before the reader reaches the end, and the coefficient store holds a few iMCU rows only."""
    img = np.random.default_rng(3).integers(0, 256, (2400, 256, 3), dtype=np.uint8)
    data = fdjpeg.encode(img, quality=95)
    reader = _CountingReader(data)
    dec = fdjpeg.Decoder(reader)
    strips = dec.rows(16)
    y0, first = next(strips)
    assert y0 == 0 and reader.pos < len(data) // 4
    assert dec._scan.store.shape[0] <= 3 * 16 * 6  # (1 + 2 context) iMCU rows of 16 MCUs, 6 blocks each
    rest = np.concatenate([first] + [p for _, p in strips])
    assert np.array_equal(rest, fdjpeg.decode(data))


def test_window_refills_and_truncated_data_match_decode(monkeypatch):
    """A band that reads past the window is decoded again with more data (forced here with a tiny
    worst-case estimate); truncated data decodes as decode() does, with its warnings."""
    monkeypatch.setattr(enc_stream, "BAND_BYTES", 1 << 21)
    import fdjpeg.decoder.stream_entropy as stream_entropy

    monkeypatch.setattr(stream_entropy, "_BLOCK_BYTES", 1)
    photo = fdjpeg.samples.load("coffee")[:120, :200]
    for settings in ({}, {"restart_interval": 3, "subsampling": "4:4:4"}):
        data = fdjpeg.encode(photo, **settings)
        assert np.array_equal(_stream_decode(_CountingReader(data), 16), fdjpeg.decode(data))
        cut = data[: len(data) * 2 // 3]
        with pytest.warns(fdjpeg.JPEGWarning, match="premature end of data segment"):
            expected = fdjpeg.decode(cut)
        with pytest.warns(fdjpeg.JPEGWarning, match="premature end of data segment"):
            got = _stream_decode(cut, 16)
        assert np.array_equal(got, expected)


def test_a_stream_can_be_iterated_once():
    dec = fdjpeg.Decoder(fdjpeg.encode(np.zeros((16, 16), np.uint8)))
    list(dec.rows())
    with pytest.raises(ValueError, match="once"):
        dec.rows()


# --- requantize_stream ---------------------------------------------------------------------------


@st.composite
def _requantize_cases(draw):
    img, settings, _ = draw(_encode_cases())
    settings.pop("optimize")
    luma = np.full((8, 8), draw(st.integers(1, 60)), np.uint16)
    tables = luma if draw(st.booleans()) else (luma, np.full((8, 8), draw(st.integers(1, 60)), np.uint16))
    return img, settings, tables, draw(st.sampled_from([1, 2, 4]))


@given(_requantize_cases())
def test_streamed_requantize_equals_requantize(case):
    img, settings, tables, band_rows = case
    data = fdjpeg.encode(img, **settings)
    old = fd_stream.BAND_ROWS
    fd_stream.BAND_ROWS = band_rows
    try:
        out = io.BytesIO()
        fdjpeg.requantize_stream(_CountingReader(data), out, tables)
    finally:
        fd_stream.BAND_ROWS = old
    assert out.getvalue() == fdjpeg.requantize(data, tables, optimize=False)


def test_requantize_stream_keeps_metadata_writes_atomically_and_falls_back(tmp_path):
    photo = fdjpeg.samples.load("rocket")[:90, :130]
    tables = np.full((8, 8), 9, np.uint16)
    data = fdjpeg.encode(photo, comment="camera 7", exif=b"Exif\x00\x00MM\x00*x")
    path = tmp_path / "out.jpg"
    fdjpeg.requantize_stream(data, path, tables)
    assert path.read_bytes() == fdjpeg.requantize(data, tables, optimize=False)
    assert fdjpeg.read_header(path.read_bytes()).comment == b"camera 7"
    progressive = fdjpeg.encode(photo, progressive=True)  # not streamable: requantized whole, baseline out
    out = io.BytesIO()
    fdjpeg.requantize_stream(progressive, out, tables)
    assert out.getvalue() == fdjpeg.requantize(progressive, tables, optimize=False, progressive=False)
    with pytest.raises(ValueError):
        fdjpeg.requantize_stream(data, tmp_path / "bad.jpg", np.zeros((8, 8)))
    assert sorted(os.listdir(tmp_path)) == ["out.jpg"]
