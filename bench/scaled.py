"""Scaled decoding (issue 15 item 4): ``decode(data, scale=1/N)`` against a full decode followed by a
resize, with Pillow's ``draft`` (libjpeg-turbo's own scaled decode) as the peer. Prints Markdown.

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.scaled          # about two minutes
    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.scaled --runs 3 --sizes 1MP

Per size and scale, in interleaved rounds (bench/timing.compare; same run, medians of ``--runs``):
  * fdjpeg scaled: ``fdjpeg.decode(data, scale=1/N)``;
  * fdjpeg full + resize: ``fdjpeg.decode(data)`` then OpenCV ``cv2.resize(..., INTER_AREA)`` to the
    same ceil(W/N) x ceil(H/N) size (the cheapest good-quality box downscale a user would reach for);
  * Pillow draft: ``Image.open``, ``draft("RGB", (W // N, H // N))``, ``np.asarray`` (libjpeg-turbo's
    reduced IDCT; fdjpeg's scaled output is pixel-identical to it, checked before timing).
Ratios are per-call medians divided by fdjpeg scaled's median of the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

import numpy as np

if __package__ in (None, ""):  # python bench/scaled.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image

import fdjpeg
from bench import environment, images
from bench.timing import compare


def _pillow_draft(data: bytes, denom: int) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    im.draft("RGB", (w // denom, h // denom))
    return np.asarray(im)


def rows(size_key: str, runs: int) -> list[str]:
    import cv2

    rgb = images.build(f"rgb:{size_key}")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=75)  # baseline 4:2:0, Pillow's defaults
    data = buf.getvalue()
    h, w = rgb.shape[:2]
    out = []
    for denom in (2, 4, 8):
        size = (-(-w // denom), -(-h // denom))
        ours = fdjpeg.decode(data, scale=1 / denom)
        if not np.array_equal(ours, _pillow_draft(data, denom)):
            raise AssertionError(f"fdjpeg scale=1/{denom} differs from Pillow's draft on {size_key}")
        fns = {
            "scaled": lambda d=denom: fdjpeg.decode(data, scale=1 / d),
            "full+resize": lambda s=size: cv2.resize(fdjpeg.decode(data), s, interpolation=cv2.INTER_AREA),
            "pillow": lambda d=denom: _pillow_draft(data, d),
        }
        for fn in fns.values():
            fn()  # warm-up (JIT compilation, caches)
        t = compare(fns, runs, min_run_s=0.2)
        base = t["scaled"].median_s
        cells = [
            f"{t[k].median_s * 1e3:.2f}" + ("" if k == "scaled" else f" ({t[k].median_s / base:.2f}×)")
            for k in ("scaled", "full+resize", "pillow")
        ]
        out.append(f"| {images.size_label(size_key)} → 1/{denom} ({size[0]}×{size[1]}) | " + " | ".join(cells) + " |")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", default="1MP,12MP", help="comma-separated bench/images.py size keys")
    args = ap.parse_args(argv)
    env = environment.describe()
    print(
        f"Environment: {env['CPU']}, {env['cores']}; Pillow {env['Pillow']}; OpenCV {env['OpenCV (cv2)']}; fdjpeg {env['fdjpeg']}; NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}; "
        f"{args.runs} runs per median.\n"
    )
    print(
        "| case (Pillow q75 4:2:0 file) | fdjpeg scaled ms | fdjpeg full decode + cv2 INTER_AREA ms (× scaled) "
        "| Pillow draft ms (× scaled) |"
    )
    print("|---|---|---|---|")
    for key in args.sizes.split(","):
        for line in rows(key.strip(), args.runs):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
