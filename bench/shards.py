"""WebDataset shard throughput (issue 14 item 2): ``fdjpeg.dataset.shards.distill_shard`` on one shard of
~500 ImageNet-style 224x224 JPEGs against a Pillow loop doing the same job, in the same run.

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m bench.shards --runs 5 --write   # about a minute

The shard: ``--images`` crops of the bundled photos (bench/images.crops_batch), each saved by Pillow as
a q90 4:2:0 JPEG, with a ``.cls`` and a ``.json`` member per sample (WebDataset layout), in a plain tar
on local disk. Each side reads that tar as a stream (tarfile ``r|``) and writes a new one (``w|``),
member by member, copying the non-JPEG members, and writes its output atomically (fsync, rename):
  * fdjpeg: ``distill_shard(src, dst, "robust", jobs=J)`` -- coefficient-domain requantization (no pixel
    round trip), optimal Huffman tables, output written atomically;
  * Pillow: per JPEG member ``Image.open`` + full decode, then ``save(..., qtables=<the same robust
    tables>, subsampling="4:2:0", optimize=True)`` -- what a Pillow user does to carry the same tables
    (it is not the same defense: it adds a second pixel-domain rounding), J threads over the members.
Times: whole shard, interleaved rounds (bench/timing.compare), medians of ``--runs``; images/s = images
/ median. ``--write`` puts the table into bench/RESULTS.md after the KEEP_MARKER (replacing an earlier
section of the same title).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor

if __package__ in (None, ""):  # python bench/shards.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
from PIL import Image

import fdjpeg
from bench import environment, images
from bench.timing import compare
from fdjpeg.base.io import atomic_output
from fdjpeg.dataset.shards import distill_shard

TITLE = "## WebDataset shards (issue 14 item 2)"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def build_shard(path: str, n: int, side: int) -> int:
    """Write the benchmark shard; return the total bytes of its JPEG members."""
    total = 0
    with tarfile.open(path, "w") as tar:
        for i, crop in enumerate(images.crops_batch(n, side)):
            buf = io.BytesIO()
            Image.fromarray(crop).save(buf, "JPEG", quality=90, subsampling="4:2:0")
            key = f"{i // 100:03d}/{i:06d}"
            members = [
                (f"{key}.jpg", buf.getvalue()),
                (f"{key}.cls", str(i % 1000).encode()),
                (f"{key}.json", f'{{"index": {i}}}'.encode()),
            ]
            for name, data in members:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mtime = len(data), 1_700_000_000
                tar.addfile(ti, io.BytesIO(data))
            total += len(members[0][1])
    return total


def pillow_shard(src: str, dst: str, qtables: list, jobs: int, group: int = 64) -> None:
    """The Pillow peer: stream the tar, re-encode each JPEG member with ``qtables``, copy the rest, write
    the output through the same atomic writer (temporary file, fsync, rename)."""

    def requant(data: bytes) -> bytes:
        im = Image.open(io.BytesIO(data))
        im.load()
        out = io.BytesIO()
        im.save(out, "JPEG", qtables=qtables, subsampling="4:2:0", optimize=True)
        return out.getvalue()

    pool = ThreadPoolExecutor(jobs) if jobs > 1 else None
    with atomic_output(dst) as f, tarfile.open(src, "r|") as tin, tarfile.open(fileobj=f, mode="w|") as tout:
        pending = []

        def flush():
            datas = [d for _, d in pending if d[:2] == b"\xff\xd8"]
            done = iter(pool.map(requant, datas) if pool else map(requant, datas))
            for info, data in pending:
                if data[:2] == b"\xff\xd8":
                    data = next(done)
                    info.size = len(data)
                tout.addfile(info, io.BytesIO(data))
            pending.clear()

        for info in tin:
            tin.members = []
            pending.append((info, tin.extractfile(info).read()))
            if len(pending) >= 3 * group:
                flush()
        flush()
    if pool:
        pool.shutdown()


def measure(n: int, side: int, runs: int) -> tuple[list[str], dict]:
    table = fdjpeg.tables.preset("robust")
    tabs = [table] if np.asarray(table).ndim == 2 else list(table)
    qtables = [[int(v) for v in np.asarray(t).reshape(64)] for t in tabs]  # natural order, as Pillow takes them
    cores = environment.usable_cores()
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-shards-") as tmp:
        src = os.path.join(tmp, "shard-000.tar")
        jpeg_bytes = build_shard(src, n, side)
        fns = {}
        for jobs in sorted({1, cores}):
            fns[f"fdjpeg distill_shard, {jobs} thread{'s' * (jobs > 1)}"] = lambda j=jobs: distill_shard(
                src, os.path.join(tmp, f"fd-{j}.tar"), "robust", jobs=j
            )
            fns[f"Pillow decode + encode loop, {jobs} thread{'s' * (jobs > 1)}"] = lambda j=jobs: pillow_shard(
                src, os.path.join(tmp, f"pil-{j}.tar"), qtables, j
            )
        for fn in fns.values():
            fn()  # warm-up: JIT compilation or cache loading, page cache
        report = distill_shard(src, os.path.join(tmp, "check.tar"), "robust")
        if report.distilled != n or report.failures:
            raise AssertionError(f"distill_shard distilled {report.distilled} of {n}: {report.failures}")
        load_before = os.getloadavg()
        t = compare(fns, runs)
        load_after = os.getloadavg()
        out_bytes = {k: os.path.getsize(os.path.join(tmp, f)) for k, f in (("fd", "fd-1.tar"), ("pil", "pil-1.tar"))}
    rows = []
    base = {jobs: t[f"Pillow decode + encode loop, {jobs} thread{'s' * (jobs > 1)}"].median_s for jobs in {1, cores}}
    for name, timing in t.items():
        jobs = int(name.rsplit(", ", 1)[1].split()[0])
        med = timing.median_s
        runs_s = ", ".join(f"{r:.2f}" for r in timing.runs_s)
        rows.append(f"| {name} | {med:.2f} | {n / med:.0f} | {med / base[jobs]:.2f} | {runs_s} |")
    info = dict(
        jpeg_mb=jpeg_bytes / 1e6,
        load_before=load_before,
        load_after=load_after,
        out_bytes=out_bytes,
        cores=cores,
    )
    return rows, info


def section(args, rows, info) -> str:
    env = environment.describe()
    lb, la = info["load_before"], info["load_after"]
    threads = os.environ.get("NUMBA_NUM_THREADS", "default")
    lines = [
        TITLE,
        "",
        f"`NUMBA_NUM_THREADS={threads} python -m bench.shards --images {args.images} --runs {args.runs} --write`; "
        f"{env['CPU']}, {env['cores']}; Pillow {env['Pillow']}; fdjpeg {env['fdjpeg']}. One shard of "
        f"{args.images} {args.side}×{args.side} q90 4:2:0 JPEGs made by Pillow from crops of the bundled photos "
        f"({info['jpeg_mb']:.1f} MB of JPEG members, plus a `.cls` and a `.json` per sample), read and written "
        "as tar streams on local disk; whole-shard times, interleaved rounds, medians of "
        f"{args.runs}. Load average (1/5/15 min) {lb[0]:.2f}/{lb[1]:.2f}/{lb[2]:.2f} before the timed rounds, "
        f"{la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f} after: the machine is shared, so the ratios (same run) "
        "mean more than the absolute times.",
        "",
        "| what | median s | images/s | × Pillow loop (same threads) | runs (s) |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        "fdjpeg requantizes in the coefficient domain (Huffman decode, requantize, optimal-table Huffman "
        "encode); the Pillow peer decodes to pixels and re-encodes them (libjpeg-turbo SIMD IDCT/FDCT and "
        "colour conversion). Output shards: fdjpeg "
        f"{info['out_bytes']['fd'] / 1e6:.2f} MB, Pillow {info['out_bytes']['pil'] / 1e6:.2f} MB. `distill_shard` "
        "requantizes each group of 64 JPEG members with one `fdjpeg.requantize_batch` call.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, path: str = RESULTS) -> None:
    """Put ``text`` into RESULTS.md after the keep marker, replacing this command's earlier section."""
    from bench.__main__ import replace_kept_section

    replace_kept_section(path, TITLE, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--side", type=int, default=224)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="put the section into bench/RESULTS.md")
    args = ap.parse_args(argv)
    rows, info = measure(args.images, args.side, args.runs)
    text = section(args, rows, info)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
