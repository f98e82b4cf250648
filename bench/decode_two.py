"""Two-thread decode plans against simplejpeg (issue 16: decode of a file without restart markers on two
threads <= 0.8x simplejpeg on one). Interleaved rounds: each plan's ``fdjpeg.decode`` (Numba at 2
threads, the plan forced through ``pipeline._FORCE``) followed at once by simplejpeg's, the per-round
ratio kept; medians. Also the split plan's thread CPU per thread (split.STATS), which shows its critical
path on a shared machine where two-thread wall times are only indicative.

    NUMBA_NUM_THREADS=2 python -m bench.decode_two [--rounds 21] [--plans split,pipeline,coefficients,bands]

The input: the 6.3 MP (3072x2048; ``--size``) photo mosaic written by Pillow at q75 4:2:0, no restart markers.
Plans: split (the default at 2 threads: split.py), pipeline (the former default), coefficients
(parallel_entropy.py + whole-image stages, the plan for more threads), bands (one thread).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

import numpy as np
import simplejpeg
from PIL import Image

import fdjpeg
from bench import images
from fdjpeg.decoder import pipeline, split


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--plans", default="split,pipeline,coefficients,bands")
    ap.add_argument("--size", default="3072x2048", help="the mosaic's WIDTHxHEIGHT (default 3072x2048, 6.3 MP)")
    args = ap.parse_args(argv)
    plans = args.plans.split(",")
    buf = io.BytesIO()
    width, height = (int(v) for v in args.size.lower().split("x"))
    Image.fromarray(images.mosaic(width, height)).save(buf, "JPEG", quality=75)
    raw = buf.getvalue()
    ref = simplejpeg.decode_jpeg(raw, fastdct=False, fastupsample=False)
    for plan in plans:  # (compiles; checks the pixels)
        pipeline._FORCE = plan
        assert np.array_equal(fdjpeg.decode(raw), ref), plan
    ratios = {p: [] for p in plans}
    wall = {p: [] for p in plans}
    peer, cpu = [], []
    load0 = os.getloadavg()[0]
    for _ in range(args.rounds):
        for plan in plans:
            pipeline._FORCE = plan
            t0 = time.perf_counter()
            fdjpeg.decode(raw)
            t1 = time.perf_counter()
            if plan == "split":
                cpu.append(split.STATS["cpu"])
            simplejpeg.decode_jpeg(raw, fastdct=False, fastupsample=False)
            t2 = time.perf_counter()
            ratios[plan].append((t1 - t0) / (t2 - t1))
            wall[plan].append(1e3 * (t1 - t0))
            peer.append(1e3 * (t2 - t1))
    pipeline._FORCE = None
    print(f"load average {load0:.2f} -> {os.getloadavg()[0]:.2f}; {args.rounds} rounds; {width}x{height} q75 4:2:0")
    print(f"simplejpeg (1 thread): median {statistics.median(peer):.2f} ms")
    print("| plan | median ratio to simplejpeg | range | median ms |")
    print("|---|---|---|---|")
    for plan in plans:
        r = sorted(ratios[plan])
        print(f"| {plan} | {statistics.median(r):.3f} | {r[0]:.2f}-{r[-1]:.2f} | {statistics.median(wall[plan]):.2f} |")
    if cpu:
        c = np.median(np.array([x[:2] for x in cpu]), axis=0) * 1e3
        print(
            f"split, thread CPU ms (medians): calling thread {c[0]:.2f}, worker {c[1]:.2f}; rows {split.STATS['rows']}"
        )


if __name__ == "__main__":
    main()
