"""Parallel entropy decoding (issue 16 item 3): one thread against two on large photos without restart
markers, entropy stage and whole decode, with simplejpeg as the peer. Prints Markdown; ``--write``
puts the section into bench/RESULTS.md after the marker that ``python -m bench`` keeps.

    python -m bench.parallel_decode                       # 6.3, 12 and 24 MP, 7 runs (a few minutes)
    python -m bench.parallel_decode --sizes 12MP --runs 5 --write

Per size (a mosaic of the bundled photos, Pillow q75 4:2:0, baseline, no restart markers), in
interleaved rounds (bench/timing.compare; same run, medians of ``--runs``):
  * entropy 1T / 2T: ``fdjpeg.read_coefficients`` with Numba at 1 / 2 threads (1 thread: the
    sequential decoder; 2 threads: parallel_entropy.py's chunks, synced and stitched);
  * decode 1T / 2T: ``fdjpeg.decode``; "decode 2T, sequential entropy" keeps the other stages'
    threads and turns the parallel entropy decoding off, which isolates its share;
  * simplejpeg: ``decode_jpeg(fastdct=False, fastupsample=False)`` (libjpeg-turbo, one thread).
Each call's CPU time (all threads) is recorded too: on a shared machine the wall-clock gain of a second
thread depends on whether a second core is free, the CPU time shows what the parallel path costs; a CPU-time
model of the two-core critical path (``critical_path_ms``) is the last column.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

import numba
import numpy as np

if __package__ in (None, ""):  # python bench/parallel_decode.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image

import fdjpeg
from bench import environment, images
from bench.timing import compare
from fdjpeg.decoder import parallel_entropy as pe

TITLE = "## Parallel entropy decoding (issue 16 item 3)"


def _at(threads: int, fn, sequential: bool = False):
    def call():
        numba.set_num_threads(threads)
        pe._MIN_BLOCKS = 1 << 62 if sequential else None
        try:
            return fn()
        finally:
            pe._MIN_BLOCKS = None

    return call


def _cpu_ms(fn, runs: int) -> float:
    out = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        out.append(time.process_time() - t0)
    return statistics.median(out) * 1e3


def critical_path_ms(data: bytes, runs: int) -> tuple[float, float]:
    """(sequential entropy CPU ms, modelled two-core entropy ms). The model: ``read_coefficients`` on one
    thread with two chunks forced (the kernels' serial twins), its two parallel kernels (the chunks'
    decoding and the scatter) timed on their own and counted half, everything else in full. It leaves
    out the threads' wake-up and assumes equal chunks; on a shared machine it is the honest number."""
    spent = {"_phase1": [], "_scatter": []}
    saved = {name: getattr(pe, name) for name in spent}

    def timed(name):
        def call(*args):
            t0 = time.process_time()
            out = saved[name](*args)
            spent[name].append(time.process_time() - t0)
            return out

        return call

    numba.set_num_threads(1)
    seq = _cpu_ms(lambda: fdjpeg.read_coefficients(data), runs)
    pe._FORCE_CHUNKS = 2
    for name in spent:
        setattr(pe, name, timed(name))
    try:
        fdjpeg.read_coefficients(data)
        for v in spent.values():
            v.clear()
        total = _cpu_ms(lambda: fdjpeg.read_coefficients(data), runs)
    finally:
        pe._FORCE_CHUNKS = None
        for name, fn in saved.items():
            setattr(pe, name, fn)
    halved = sum(statistics.median(v) for v in spent.values()) * 1e3 / 2
    return seq, total - halved


def rows(size_key: str, runs: int) -> tuple[list[str], str]:
    import simplejpeg

    rgb = images.build(f"rgb:{size_key}")
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=75)
    data = buf.getvalue()
    if not np.array_equal(_at(2, lambda: fdjpeg.decode(data))(), np.asarray(Image.open(io.BytesIO(data)))):
        raise AssertionError(f"fdjpeg's two-thread decode differs from Pillow on {size_key}")
    fns = {
        "entropy 1T": _at(1, lambda: fdjpeg.read_coefficients(data)),
        "entropy 2T": _at(2, lambda: fdjpeg.read_coefficients(data)),
        "decode 1T": _at(1, lambda: fdjpeg.decode(data)),
        "decode 2T": _at(2, lambda: fdjpeg.decode(data)),
        "decode 2T seq. entropy": _at(2, lambda: fdjpeg.decode(data), sequential=True),
        "simplejpeg": lambda: simplejpeg.decode_jpeg(data, fastdct=False, fastupsample=False),
    }
    for fn in fns.values():
        fn()  # warm-up (JIT compilation, caches)
    before = pe.STATS["parallel"]
    fns["entropy 2T"]()
    took = pe.STATS["parallel"] - before
    sync = f"{size_key}: parallel path taken {took}×, sync after {pe.STATS['sync_bits']} bits / {pe.STATS['sync_blocks']} discarded blocks"
    t = compare(fns, runs)
    cpu = {k: _cpu_ms(fns[k], 3) for k in ("entropy 1T", "entropy 2T")}
    seq_cpu, model = critical_path_ms(data, runs)
    ms = {k: v.median_s * 1e3 for k, v in t.items()}
    sj = ms["simplejpeg"]
    out = [
        f"| {images.size_label(size_key)} ({len(data) / 1e6:.1f} MB) | {ms['entropy 1T']:.1f} | {ms['entropy 2T']:.1f} "
        f"({ms['entropy 2T'] / ms['entropy 1T']:.2f}×) | {cpu['entropy 1T']:.0f} / {cpu['entropy 2T']:.0f} "
        f"| {ms['decode 1T']:.1f} ({ms['decode 1T'] / sj:.2f}×) | {ms['decode 2T']:.1f} ({ms['decode 2T'] / sj:.2f}×; "
        f"{ms['decode 2T'] / ms['decode 1T']:.2f}× of 1T) | {ms['decode 2T seq. entropy']:.1f} "
        f"({ms['decode 2T seq. entropy'] / sj:.2f}×) | {sj:.1f} | {seq_cpu:.1f} → {model:.1f} ({model / seq_cpu:.2f}×) |"
    ]
    return out, sync


def section(sizes: list[str], runs: int) -> str:
    env = environment.describe()
    load0 = os.getloadavg()
    lines, syncs = [], []
    for key in sizes:
        r, s = rows(key, runs)
        lines += r
        syncs.append(s)
        print(r[0], file=sys.stderr, flush=True)
    load1 = os.getloadavg()
    head = [
        TITLE,
        "",
        f"`python -m bench.parallel_decode --sizes {','.join(sizes)} --runs {runs}`: {env['CPU']}, {env['cores']}; "
        f"fdjpeg {env['fdjpeg']}; Numba layer {numba.threading_layer()}; {runs} interleaved runs per median. "
        f"Load average (1 min) {load0[0]:.1f} at the start, {load1[0]:.1f} at the end, on {os.cpu_count()} cores: "
        "the machine is shared, so a second thread only helps when a core is free; rely on the ratios.",
        "",
        "| file (Pillow q75 4:2:0, no RST) | entropy 1T ms | entropy 2T ms (× 1T) | entropy CPU ms 1T / 2T "
        "| decode 1T ms (× simplejpeg) | decode 2T ms (× simplejpeg; × 1T) | decode 2T, sequential entropy ms "
        "(× simplejpeg) | simplejpeg ms | entropy CPU ms: sequential → modelled 2-core critical path |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    tail = [
        "",
        "The last column is measured in CPU time, which the other processes disturb far less than wall time:",
        "the sequential decoder's, and a model of the two-core critical path (one thread, two chunks forced,",
        "the two parallel kernels' CPU time halved; thread wake-up left out; see `critical_path_ms`).",
        "",
        "Sync (chunks after the first; bits from the chunk's start, speculative blocks discarded):",
        "",
    ]
    tail += [f"* {s}" for s in syncs]
    return "\n".join(head + lines + tail) + "\n"


def write(text: str, path: str) -> None:
    """Replace this section (or append it) in RESULTS.md, after the kept-sections marker."""
    from bench.__main__ import replace_kept_section

    replace_kept_section(path, TITLE, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", default="6.3MP,12MP,24MP", help="comma-separated bench/images.py size keys")
    ap.add_argument("--write", action="store_true", help="put the section into bench/RESULTS.md")
    args = ap.parse_args(argv)
    text = section([s.strip() for s in args.sizes.split(",")], args.runs)
    print(text)
    if args.write:
        write(text, os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
