"""libjpeg-turbo as the oracle: Pillow (which bundles libjpeg-turbo) and, where present, Debian's cjpeg."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from PIL import Image

CJPEG = shutil.which("cjpeg")
needs_cjpeg = pytest.mark.skipif(CJPEG is None, reason="cjpeg not installed (apt-get install libjpeg-turbo-progs)")

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
                    f.write("\n".join(" ".join(str(int(v)) for v in row) for row in np.asarray(x).reshape(8, 8)) + "\n\n")
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


def pillow_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def first_difference(a: bytes, b: bytes) -> str:
    """A readable pointer to where two byte strings diverge (for assertion messages)."""
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return f"lengths {len(a)} vs {len(b)}, first difference at byte {n}: {a[n:n + 8].hex()} vs {b[n:n + 8].hex()}"
