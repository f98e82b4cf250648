"""What the tests share: test images, libjpeg-turbo as the oracle (Pillow, which bundles libjpeg-turbo,
and, where present, Debian's cjpeg), the conformance corpus path, and tools to cut and edit JPEG files
segment by segment. Float references live in naive.py; crafted coefficient files in jpeg_craft.py."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fdjpeg import JPEGWarning, read_coefficients

#: The shared conformance corpus (../shared/conformance from the repository root; MANIFEST.tsv lists it).
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "conformance"


def needs_corpus(test):
    """Mark a test as a corpus test (``-m corpus``) that skips, with the reason, where the corpus is missing."""
    skip = pytest.mark.skipif(
        not (CORPUS / "MANIFEST.tsv").exists(), reason=f"conformance corpus not found at {CORPUS}"
    )
    return pytest.mark.corpus(skip(test))


CJPEG = shutil.which("cjpeg")
needs_cjpeg = pytest.mark.skipif(CJPEG is None, reason="cjpeg not installed (apt-get install libjpeg-turbo-progs)")
JPEGTRAN = shutil.which("jpegtran")
needs_jpegtran = pytest.mark.skipif(
    JPEGTRAN is None, reason="jpegtran not installed (apt-get install libjpeg-turbo-progs)"
)

#: fdjpeg subsampling name -> luma sampling "HxV" for cjpeg -sample.
CJPEG_SAMPLE = {"4:4:4": "1x1", "4:2:2": "2x1", "4:2:0": "2x2", "4:4:0": "1x2", "4:1:1": "4x1"}
PILLOW_SUBSAMPLING = ("4:4:4", "4:2:2", "4:2:0")


def pillow_encode(img: np.ndarray, **settings) -> bytes:
    """Pillow's bytes for fdjpeg.encode-style settings (tables in natural order, as fdjpeg takes them)."""
    kw = {}
    if "tables" in settings:
        t = settings["tables"]
        tabs = [t] if np.asarray(t).ndim == 2 else list(t)
        kw["qtables"] = [[int(v) for v in np.asarray(x).reshape(64)] for x in tabs]
    elif "quality" in settings:
        kw["quality"] = settings["quality"]
    if img.ndim == 3:
        kw["subsampling"] = settings.get("subsampling") or "4:2:0"
    elif settings.get("subsampling") is not None:  # grayscale: an explicit subsampling sets the one component's factors
        kw["subsampling"] = settings["subsampling"]
    kw["optimize"] = settings.get("optimize", False)
    if settings.get("progressive"):
        kw["progressive"] = True  # jpeg_simple_progression; libjpeg then always optimizes the tables
    if settings.get("restart_interval"):
        kw["restart_marker_blocks"] = settings["restart_interval"]
    if settings.get("restart_rows"):
        kw["restart_marker_rows"] = settings["restart_rows"]
    for key in ("comment", "exif", "icc_profile"):
        if settings.get(key) is not None:
            kw[key] = settings[key]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **kw)
    return buf.getvalue()


def cjpeg_encode(img: np.ndarray, **settings) -> bytes:
    """cjpeg -baseline with the same settings (for subsamplings Pillow cannot write). ``arithmetic=True``
    adds -arithmetic, ``progressive=True`` -progressive (-baseline then only keeps the tables 8-bit)."""
    args = [CJPEG, "-baseline"]
    if settings.get("arithmetic"):
        args.append("-arithmetic")
    if settings.get("progressive"):
        args.append("-progressive")
    with tempfile.TemporaryDirectory() as d:
        if "tables" in settings:
            t = settings["tables"]
            tabs = [t] if np.asarray(t).ndim == 2 else list(t)
            qpath = os.path.join(d, "q.txt")
            with open(qpath, "w") as f:
                for x in tabs:
                    f.write(
                        "\n".join(" ".join(str(int(v)) for v in row) for row in np.asarray(x).reshape(8, 8)) + "\n\n"
                    )
            args += ["-qtables", qpath, "-qslots", "0,1,1" if len(tabs) == 2 else "0,0,0"]
        else:
            args += ["-quality", str(settings.get("quality", 75))]
        if img.ndim == 3:
            args += ["-sample", CJPEG_SAMPLE[settings.get("subsampling") or "4:2:0"] + ",1x1,1x1"]
        elif settings.get("subsampling") is not None:
            args += ["-sample", CJPEG_SAMPLE[settings["subsampling"]]]
        if settings.get("optimize"):
            args.append("-optimize")
        if settings.get("restart_interval"):
            args += ["-restart", f"{settings['restart_interval']}B"]
        if settings.get("restart_rows"):
            args += ["-restart", str(settings["restart_rows"])]
        src = os.path.join(d, "in.ppm" if img.ndim == 3 else "in.pgm")
        Image.fromarray(img).save(src)
        return subprocess.run(args + [src], check=True, capture_output=True).stdout


def oracle_encode(img: np.ndarray, **settings) -> bytes:
    """libjpeg-turbo's bytes: Pillow where it has the option, cjpeg for 4:4:0 / 4:1:1."""
    if (settings.get("subsampling") or "4:2:0") not in PILLOW_SUBSAMPLING:
        if CJPEG is None:
            pytest.skip("cjpeg not installed (apt-get install libjpeg-turbo-progs); needed for 4:4:0 / 4:1:1")
        return cjpeg_encode(img, **settings)
    return pillow_encode(img, **settings)


def jpegtran_progressive(data: bytes, *extra: str) -> bytes:
    """``jpegtran -progressive -copy none``: the same coefficients rewritten with jpeg_simple_progression."""
    return subprocess.run(
        [JPEGTRAN, "-progressive", "-copy", "none", *extra], input=data, check=True, capture_output=True
    ).stdout


def pillow_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def first_difference(a: bytes, b: bytes) -> str:
    """A readable pointer to where two byte strings diverge (for assertion messages)."""
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return f"lengths {len(a)} vs {len(b)}, first difference at byte {n}: {a[n : n + 8].hex()} vs {b[n : n + 8].hex()}"


# --- test images and segment-level editing ----------------------------------------------------------


def make_image(height: int = 40, width: int = 48, gray: bool = False, seed: int = 0) -> np.ndarray:
    """A smooth image with some texture: realistic coefficient statistics, deterministic."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(x / 7.0 + seed) * np.cos(y / 5.0) + rng.normal(0, 10, (height, width))
    img = np.stack([base, np.roll(base, 5, 1) * 0.8 + 20, 255 - base], -1)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., 0] if gray else img


def pillow_jpeg(img: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    if img.ndim == 3 and img.shape[2] == 4:
        pil = Image.frombytes("CMYK", (img.shape[1], img.shape[0]), np.ascontiguousarray(img).tobytes())
    else:
        pil = Image.fromarray(img)
    pil.save(buf, "JPEG", **kw)
    return buf.getvalue()


def split_segments(data: bytes) -> list[bytes]:
    """Cut a well-formed JPEG into its markers: SOI, each segment (an SOS together with the entropy-coded
    data that follows it, RSTn included), EOI and whatever trails it."""
    out = [data[:2]]
    pos = 2
    while pos < len(data):
        assert data[pos] == 0xFF, pos
        marker = data[pos + 1]
        if marker == 0xD9:
            out.append(data[pos:])
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] not in (0, *range(0xD0, 0xD8))):
                end += 1
        out.append(data[pos:end])
        pos = end
    return out


def segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def edit(data: bytes, marker: int, fn, nth: int = 0) -> bytes:
    """Replace the nth segment with this marker by fn(segment bytes)."""
    segs = split_segments(data)
    hits = [i for i, s in enumerate(segs) if len(s) > 1 and s[1] == marker]
    segs[hits[nth]] = fn(segs[hits[nth]])
    return b"".join(segs)


def drop(data: bytes, marker: int) -> bytes:
    return b"".join(s for s in split_segments(data) if not (len(s) > 1 and s[1] == marker))


def quiet_coefficients(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JPEGWarning)
        return read_coefficients(data, **kw)


def set_byte(seg: bytes, index: int, value: int) -> bytes:
    return seg[:index] + bytes([value]) + seg[index + 1 :]
