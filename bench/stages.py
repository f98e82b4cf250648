"""Per-stage profile of a 6.3 MP 4:2:0 q75 encode and decode on one thread, optionally against an earlier
revision in the same process (issue 16: "the profile before and after, per stage").

    NUMBA_NUM_THREADS=1 python -m bench.stages [--before REV] [--rounds 7] [--size 6.3MP]

With ``--before REV`` the package at REV is extracted to a temporary directory as ``fdjpeg_before`` (the
codec imports itself relatively, so both copies live side by side) and every stage of both copies runs
on the same input, interleaved round by round; the table gives medians and the new/old ratio. The
simplejpeg rows (raw libjpeg-turbo, islow, fancy upsampling) are the issue's peer. Stages:

  encode: colour (RGB->YCbCr, whole image), downsample (Cb, Cr 2x2), fdct+quant (the three planes),
          front end (the fused per-strip pass the encoder runs), entropy (= encode - front end);
  decode: entropy (read_coefficients), IDCT (the three planes), upsample+colour (compose), whole.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np


def _extract(rev: str) -> str:
    dest = tempfile.mkdtemp(prefix="fdjpeg_before_")
    tar = subprocess.run(["git", "archive", rev, "fdjpeg"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")
    os.rename(os.path.join(dest, "fdjpeg"), os.path.join(dest, "fdjpeg_before"))
    return dest


def _stages(pkg: str, img: np.ndarray) -> dict:
    """name -> zero-argument callable, for the package ``pkg`` (fdjpeg or fdjpeg_before)."""
    top = importlib.import_module(pkg)
    color = importlib.import_module(pkg + ".encoder.color")
    down = importlib.import_module(pkg + ".encoder.downsample")
    fdct = importlib.import_module(pkg + ".encoder.fdct")
    comp = importlib.import_module(pkg + ".encoder.compress")
    tables = importlib.import_module(pkg + ".base.quant")
    reader = importlib.import_module(pkg + ".decoder.reader")
    idct = importlib.import_module(pkg + ".decoder.idct")
    compose = importlib.import_module(pkg + ".decoder.compose")

    data = top.encode(img, quality=75, subsampling="4:2:0")
    qt = [np.asarray(t).reshape(64) for t in tables.standard(75)]
    coefs = reader.read_coefficients(data)
    y, cb, cr = color.rgb_to_ycbcr(img)
    h, w = y.shape
    ph, pw = -(-h // 16) * 16, -(-w // 16) * 16
    cbp, crp = down.pad_plane(cb, ph, pw), down.pad_plane(cr, ph, pw)
    cbd, crd = down.downsample(cbp, 2, 2), down.downsample(crp, 2, 2)
    yp = down.pad_plane(y, -(-h // 8) * 8, -(-w // 8) * 8)
    cfs = [c.reshape(-1, 64) for c in coefs.components]
    nbxs = np.array([c.shape[1] for c in coefs.components], np.int64)
    mults = tuple(idct.idct_multipliers(np.asarray(q).reshape(64)) for q in coefs.quant_tables)
    planes = tuple(np.empty((c.shape[0] * 8, c.shape[1] * 8), np.uint8) for c in coefs.components)
    tasks = idct.idct_tasks([c.shape[0] for c in coefs.components])

    def run_idct():
        idct._idct_planes(tuple(cfs), nbxs, mults, planes, tasks, True)

    run_idct()

    return {
        "enc colour": lambda: color.rgb_to_ycbcr(img),
        "enc downsample": lambda: (down.downsample(cbp, 2, 2), down.downsample(crp, 2, 2)),
        "enc fdct+quant": lambda: (
            fdct.forward_dct_quantize(yp, qt[0]),
            fdct.forward_dct_quantize(cbd, qt[1]),
            fdct.forward_dct_quantize(crd, qt[1]),
        ),
        "enc front end (fused)": lambda: comp.image_to_mcu_blocks(
            img, [qt[0].reshape(8, 8), qt[1].reshape(8, 8)], "4:2:0"
        ),
        "enc whole": lambda: top.encode(img, quality=75, subsampling="4:2:0"),
        "dec entropy": lambda: reader.read_coefficients(data),
        "dec IDCT": run_idct,
        "dec upsample+colour": lambda: compose.compose(planes, coefs.sampling, coefs.width, coefs.height, "YCbCr"),
        "dec whole": lambda: top.decode(data),
    }, data


_CLOCK = time.perf_counter


def _time(fn) -> float:
    t = _CLOCK()
    fn()
    return _CLOCK() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", help="git revision to compare with, same process")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", default="6.3MP")
    ap.add_argument("--only", default="", help="comma-separated substrings of stage names")
    ap.add_argument("--cpu", action="store_true", help="time CPU time of the thread (less sensitive to load)")
    args = ap.parse_args(argv)
    global _CLOCK
    if args.cpu:
        _CLOCK = time.thread_time
    from bench.images import build

    img = build("rgb:" + args.size)
    sets = {}
    if args.before:
        sys.path.insert(0, _extract(args.before))
        sets["before"], _ = _stages("fdjpeg_before", img)
    sets["after"], data = _stages("fdjpeg", img)
    names = [n for n in sets["after"] if not args.only or any(s in n for s in args.only.split(","))]
    try:
        import simplejpeg

        peer = {
            "enc whole": lambda: simplejpeg.encode_jpeg(img, quality=75, colorsubsampling="420", fastdct=False),
            "dec whole": lambda: simplejpeg.decode_jpeg(data, fastdct=False, fastupsample=False),
        }
    except ImportError:
        peer = {}
    times = {(k, n): [] for k in list(sets) + ["simplejpeg"] for n in names}
    for fns in list(sets.values()) + [peer]:
        for n in names:
            if n in fns:
                fns[n]()  # warm-up (compile/load)
    for _ in range(args.rounds):
        for n in names:
            for k, fns in list(sets.items()) + [("simplejpeg", peer)]:
                if n in fns:
                    times[(k, n)].append(_time(fns[n]))
    load = os.getloadavg()[0]
    print(
        f"{args.size} 4:2:0 q75, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '?')}, "
        f"medians of {args.rounds} interleaved rounds (ms, {'thread CPU' if args.cpu else 'wall'} time), load {load:.2f}"
    )
    cols = list(sets) + (["new/old"] if "before" in sets else []) + (["simplejpeg", "vs sj"] if peer else [])
    print(f"| stage | {' | '.join(cols)} |")
    print("|---" * (len(cols) + 1) + "|")
    for n in names:
        med = {k: float(np.median(times[(k, n)])) * 1e3 for k in list(sets) + ["simplejpeg"] if times[(k, n)]}
        cells = [f"{med[k]:.1f}" for k in sets]
        if "before" in sets:
            cells.append(f"{med['after'] / med['before']:.3f}")
        if peer:
            sj = med.get("simplejpeg")
            cells += [f"{sj:.1f}", f"{med['after'] / sj:.2f}"] if sj else ["", ""]
        print(f"| {n} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
