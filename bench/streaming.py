"""Streaming (issue 17): peak memory and time of the streaming encode, decode and requantize against
the whole-array calls and Pillow, each run in a fresh process.

    python -m bench.streaming --size 12000x8400 --runs 3 --output bench/STREAMING.md

The image is the bundled photos mosaicked into a 256-row tile repeated over the frame (the streaming
encode takes its strips from one tile band, so the input never exists whole; the whole-array calls
get the full array, built before the measurement). In the child: import, warm up on a small input
(768x512: JIT, caches, the parallel kernels), return freed heap to the OS, reset the high-water mark (``/proc/self/clear_refs``),
read VmRSS, run the operation once, read VmHWM. "Peak over baseline" is VmHWM minus that VmRSS: the
memory the operation adds, output included, input excluded. Time is the operation's wall time, the
median over ``--runs`` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

STRIP = 64
TILE = 256  # rows of the repeated photo band (a multiple of STRIP)
OPS = {
    "encode": ["stream_encode", "encode", "pillow_encode"],
    "decode": ["stream_decode", "decode", "pillow_decode"],
    "requantize": ["stream_requantize", "requantize"],
}
LABELS = {
    "stream_encode": "fdjpeg.Encoder, 64-row strips",
    "encode": "fdjpeg.encode_to (whole array)",
    "pillow_encode": "Pillow Image.save (whole array)",
    "stream_decode": "fdjpeg.Decoder.rows(64)",
    "decode": "fdjpeg.decode (whole array)",
    "pillow_decode": "Pillow Image.open + np.asarray",
    "stream_requantize": "fdjpeg.requantize_stream",
    "requantize": "read_coefficients + requantize_coefficients + write_coefficients (= requantize(optimize=False))",
}


def _tile_band(width):
    """A (TILE, width, 3) band of the bundled photos side by side."""
    import fdjpeg

    photos = [p[:TILE, :512] for p in fdjpeg.samples.load_all() if p.ndim == 3]
    row = np.concatenate(photos, axis=1)
    reps = -(-width // row.shape[1])
    return np.ascontiguousarray(np.tile(row, (1, reps, 1))[:, :width])


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _release_and_reset():
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _run(op, width, height, jpeg, out):
    """The operation on a (height, width) frame (or on the file ``jpeg``), writing to ``out``."""
    import fdjpeg

    if op == "stream_encode":
        band = _BAND if width == _W else _tile_band(width)
        with fdjpeg.Encoder(out, width, height, quality=75) as enc:
            for y in range(0, height, STRIP):
                k = min(STRIP, height - y)
                enc.write(band[y % TILE : y % TILE + k])
    elif op == "encode":
        fdjpeg.encode_to(out, _IMAGE if width == _W else _frame(width, height), quality=75)
    elif op == "pillow_encode":
        from PIL import Image

        Image.fromarray(_IMAGE if width == _W else _frame(width, height)).save(out, quality=75)
    elif op == "stream_decode":
        total = 0
        for _, rows in fdjpeg.Decoder(jpeg, max_pixels=None).rows(STRIP):
            total += int(rows[0, 0, 0])
    elif op == "decode":
        fdjpeg.decode(jpeg, max_pixels=None)
    elif op == "pillow_decode":
        from PIL import Image

        with Image.open(jpeg) as im:
            np.asarray(im)
    elif op == "stream_requantize":
        fdjpeg.requantize_stream(jpeg, out, fdjpeg.tables.preset("paper"), max_pixels=None)
    elif op == "requantize":
        # requantize() itself, with the pixel guard off (it has no max_pixels argument; 100 MP is over it)
        coefs = fdjpeg.read_coefficients(jpeg, max_pixels=None)
        coefs = fdjpeg.requantize_coefficients(coefs, fdjpeg.tables.preset("paper"))
        data = fdjpeg.write_coefficients(coefs, optimize=False)
        del coefs
        with open(out, "wb") as f:
            f.write(data)


_W = -1
_BAND = _IMAGE = None


def _frame(width, height):
    band = _tile_band(width)
    return np.ascontiguousarray(np.tile(band, (-(-height // TILE), 1, 1))[:height])


def child(op, width, height, jpeg, small_jpeg, out):
    global _W, _BAND, _IMAGE
    import fdjpeg  # noqa: F401  (imports count in the baseline)

    _run(op, 768, 512, small_jpeg, out)  # warm-up above the parallel threshold: JIT, caches, thread pools
    _W = width
    if op in ("stream_encode",):
        _BAND = _tile_band(width)
    elif op in ("encode", "pillow_encode"):
        _IMAGE = _frame(width, height)
    _release_and_reset()
    base = _status_kib("VmRSS")
    t0 = time.perf_counter()
    _run(op, width, height, jpeg, out)
    seconds = time.perf_counter() - t0
    peak = _status_kib("VmHWM")
    print(json.dumps({"op": op, "seconds": seconds, "peak_mib": (peak - base) / 1024, "base_mib": base / 1024}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="12000x8400")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", default="encode,decode,requantize")
    p.add_argument("--output", default="bench/STREAMING.md")
    p.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        op, w, h, jpeg, small, out = args.child
        child(op, int(w), int(h), jpeg, small, out)
        return
    width, height = (int(v) for v in args.size.split("x"))
    import fdjpeg

    tmp = tempfile.mkdtemp(prefix="fdjpeg-stream-bench-")
    jpeg, small, out = (os.path.join(tmp, n) for n in ("in.jpg", "small.jpg", "out.jpg"))
    with fdjpeg.Encoder(jpeg, width, height, quality=75) as enc:  # the decode/requantize input, streamed
        band = _tile_band(width)
        for y in range(0, height, STRIP):
            enc.write(band[y % TILE : y % TILE + min(STRIP, height - y)])
    del band
    fdjpeg.encode_to(small, _frame(768, 512))
    rows = []
    for section in args.only.split(","):
        for op in OPS[section]:
            results = []
            for _ in range(args.runs):
                cmd = [
                    sys.executable,
                    "-m",
                    "bench.streaming",
                    "--child",
                    op,
                    str(width),
                    str(height),
                    jpeg,
                    small,
                    out,
                ]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                results.append(json.loads(res.stdout.strip().splitlines()[-1]))
            rows.append(
                (
                    section,
                    op,
                    statistics.median(r["seconds"] for r in results),
                    statistics.median(r["peak_mib"] for r in results),
                    statistics.median(r["base_mib"] for r in results),
                )
            )
            print(rows[-1], flush=True)
    lines = [
        f"# Streaming: {width}x{height} ({width * height / 1e6:.1f} MP), q75 4:2:0, {args.runs} runs per median",
        "",
        f"`python -m bench.streaming --size {args.size} --runs {args.runs}`; each run a fresh process "
        f"({os.cpu_count()} CPUs, Numba threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}).",
        "Peak = VmHWM minus VmRSS just before the call (input excluded, output included).",
        "",
        "| operation | call | time (s) | × whole-array | peak over baseline (MiB) | baseline RSS (MiB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    whole = {sec: t for sec, op, t, _, _ in rows if op == sec}
    for section, op, seconds, peak, base in rows:
        ratio = f"{seconds / whole[section]:.2f}" if section in whole else ""
        lines.append(f"| {section} | {LABELS[op]} | {seconds:.2f} | {ratio} | {peak:.0f} | {base:.0f} |")
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
