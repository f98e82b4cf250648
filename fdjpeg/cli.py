"""The ``fdjpeg`` command line: demo, encode, decode (more subcommands register themselves below).

Behaves like other Unix tools: results on stdout, diagnostics on stderr, exit status 0 on success,
1 when some input failed, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def cmd_demo(args) -> int:
    """Encode a bundled photo at quality 75 and with the released feature-distillation table."""
    import fdjpeg
    from fdjpeg import samples, tables
    from fdjpeg.encoder import write_atomic

    image = samples.load(args.image)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (f"{args.image}-q75.jpg", "standard quality 75 (Annex K tables)", dict(quality=75)),
        (f"{args.image}-fd-released.jpg", "feature distillation, released table (25 on 4x4, 30 elsewhere)",
         dict(tables=tables.preset("released"))),
        (f"{args.image}-fd-paper.jpg", "feature distillation, paper preset (15 bands at step 1, 49 at 40)",
         dict(tables=tables.preset("paper"))),
    ]
    h, w = image.shape[:2]
    print(f"fdjpeg demo: {samples.path(args.image).name} ({w}x{h}, see fdjpeg/data/README.md for its source) -> {out}/")
    print(f"{'file':<28} {'bytes':>8} {'PSNR (dB)':>10}  what")
    for name, what, settings in jobs:
        data = fdjpeg.encode(image, **settings)
        write_atomic(out / name, data)
        decoded = fdjpeg.decode(data)
        if decoded.shape != image.shape:
            print(f"fdjpeg demo: {name} decoded to shape {decoded.shape}, expected {image.shape}", file=sys.stderr)
            return 1
        print(f"{name:<28} {len(data):>8} {_psnr(image, decoded):>10.2f}  {what}")
    print(f"all {len(jobs)} files decode with fdjpeg; they are standard baseline JPEGs (try: djpeg {out}/{jobs[1][0]} > /dev/null)")
    return 0


def _short(exc: Exception) -> str:
    """The first line of an exception message (imageio's are paragraphs)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_image(path: str) -> np.ndarray:
    import imageio.v3 as iio

    img = np.asarray(iio.imread(path))
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.dtype != np.uint8:
        raise ValueError(f"{path}: {img.dtype} images are not supported (8-bit only)")
    return img


def _load_tables(spec: str):
    from fdjpeg import tables

    if spec in tables.PRESETS:
        return tables.preset(spec)
    if os.path.exists(spec):
        return tables.load(spec)
    raise ValueError(f"unknown tables {spec!r}: give a preset name or a JSON file written by fdjpeg.tables.save")


def cmd_encode(args) -> int:
    import fdjpeg

    settings = dict(subsampling=args.subsampling, optimize=args.optimize, restart_interval=args.restart_interval,
                    restart_rows=args.restart_rows, progressive=args.progressive)
    if args.tables:
        settings["tables"] = _load_tables(args.tables)
    else:
        settings["quality"] = args.quality
    img = _read_image(args.input)
    n = fdjpeg.encode_to(args.output, img, **settings)
    if not args.quiet:
        print(f"{args.output}: {n} bytes", file=sys.stderr)
    return 0


def cmd_decode(args) -> int:
    import imageio.v3 as iio

    import fdjpeg
    from fdjpeg.encoder import write_atomic

    pixels = fdjpeg.decode(args.input, mode=args.mode)
    ext = os.path.splitext(args.output)[1] or ".png"
    write_atomic(args.output, iio.imwrite("<bytes>", pixels, extension=ext))
    return 0


IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".pnm"}


def _collect_inputs(inputs) -> list[tuple[Path, Path]]:
    """(file, path relative to its input root) for every file argument and every image under a directory."""
    found = []
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append((f, f.relative_to(p)))
        elif p.exists():
            found.append((p, Path(p.name)))
        else:
            raise FileNotFoundError(f"{arg}: no such file or directory")
    return found


def _is_jpeg(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\xff\xd8"


class _Progress:
    """A one-line progress bar on stderr when it is a terminal (or when forced); silent otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.failed, self.enabled = total, 0, 0, enabled

    def step(self, ok: bool, name: str) -> None:
        self.done += 1
        self.failed += not ok
        if self.enabled:
            width = 30
            filled = width * self.done // max(self.total, 1)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                             f"{f' ({self.failed} failed)' if self.failed else ''} {name[:40]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_distill(args) -> int:
    """Apply feature distillation to many images, in parallel, writing each result atomically."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import imageio.v3 as iio

    import fdjpeg
    from fdjpeg.encoder import write_atomic

    table = _load_tables(args.tables)
    jobs = _collect_inputs(args.inputs)
    if not jobs:
        print("fdjpeg distill: no input images found", file=sys.stderr)
        return 1
    out_root = Path(args.output)
    suffix = ".png" if args.one_pass else ".jpg"
    targets: dict[Path, Path] = {}
    for src, rel in jobs:
        dest = out_root / rel.with_suffix(suffix)
        if dest in targets:
            raise ValueError(f"{src} and {targets[dest]} would both be written to {dest}")
        targets[dest] = src

    def work(src: Path, rel: Path) -> None:
        dest = out_root / rel.with_suffix(suffix)
        if _is_jpeg(src):  # coefficient domain: no pixel round trip
            data = src.read_bytes()
            if args.one_pass:
                result = iio.imwrite("<bytes>", fdjpeg.decode(data, defense=table), extension=".png")
            else:
                result = fdjpeg.requantize(data, table)
        else:
            img = _read_image(str(src))
            if args.one_pass:
                result = iio.imwrite("<bytes>", fdjpeg.distill(img, table, subsampling=args.subsampling), extension=".png")
            else:
                result = fdjpeg.encode(img, table, subsampling=args.subsampling, optimize=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, result)

    progress = _Progress(len(jobs), enabled=args.progress or (args.progress is None and sys.stderr.isatty()))
    lock = threading.Lock()
    failures = []

    def run(job):
        src, rel = job
        try:
            work(src, rel)
            ok = True
        except Exception as exc:  # one bad file must not stop the batch
            ok = False
            with lock:
                failures.append((src, exc))
        with lock:
            progress.step(ok, str(rel))

    workers = args.jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:  # kernels release the GIL
        list(pool.map(run, jobs))
    progress.close()
    for src, exc in failures:
        print(f"fdjpeg distill: {src}: {_short(exc)}", file=sys.stderr)
    if not args.quiet:
        print(f"fdjpeg distill: {len(jobs) - len(failures)} of {len(jobs)} images written to {out_root}/"
              + (f", {len(failures)} failed" if failures else ""), file=sys.stderr)
    return 1 if failures else 0


def cmd_design_tables(args) -> int:
    """Design feature-distillation tables from the band statistics of a set of images."""
    import fdjpeg
    from fdjpeg import tables

    files = [f for f, _ in _collect_inputs(args.inputs)]
    failures = []

    def readable():  # stream one image at a time; a bad file is reported and skipped
        for f in files:
            try:
                img = fdjpeg.decode(f) if _is_jpeg(f) else _read_image(str(f))
            except Exception as exc:
                failures.append(f)
                print(f"fdjpeg design-tables: {f}: skipped: {_short(exc)}", file=sys.stderr)
                continue
            yield img

    if not files:
        print("fdjpeg design-tables: no input images found", file=sys.stderr)
        return 1
    stats = tables.band_statistics(readable())
    designed = tables.design(stats, n=args.n, s_as=args.s_as, s_md=args.s_md, eps=args.eps,
                             per_component=args.per_component)
    how = f"n={args.n}, s_as={args.s_as}, " + (f"eps={args.eps}" if args.eps is not None else f"s_md={args.s_md or 40}")
    tables.save(args.output, designed, description=f"fdjpeg design-tables over {len(files)} images ({how})")
    for name, t in zip(("luma", "chroma") if args.per_component else ("all components",),
                       designed if args.per_component else (designed,)):
        print(f"# {name}")
        print("\n".join(" ".join(f"{int(v):3d}" for v in row) for row in t))
    print(f"fdjpeg design-tables: wrote {args.output} ({how}, {len(files) - len(failures)} images, "
          f"{stats.blocks('all')} blocks)", file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    from fdjpeg import __version__

    parser = argparse.ArgumentParser(prog="fdjpeg", description="A from-scratch JPEG codec with feature distillation.")
    parser.add_argument("--version", action="version", version=f"fdjpeg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="encode a bundled sample photo (q75 and feature distillation) into ./fdjpeg-demo/")
    p.add_argument("--out", default="fdjpeg-demo", help="output directory (default: %(default)s)")
    p.add_argument("--image", default="astronaut", help="bundled sample: astronaut, coffee, chelsea, rocket")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("encode", help="encode an image file (PNG, BMP, TIFF... anything imageio reads) as JPEG")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("-q", "--quality", type=int, default=75)
    p.add_argument("--tables", help="quantization tables: a preset name (e.g. released, paper) or a JSON file")
    p.add_argument("--subsampling", default="4:2:0", choices=["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"])
    p.add_argument("--optimize", action="store_true", help="optimal Huffman tables (two passes)")
    p.add_argument("--progressive", action="store_true",
                   help="progressive JPEG, libjpeg's default scan script (as cjpeg -progressive; tables always optimal)")
    p.add_argument("--restart-interval", type=int, default=0, metavar="MCUS")
    p.add_argument("--restart-rows", type=int, default=0, metavar="ROWS")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("distill", help="feature distillation over files and directories (JPEGs stay in the coefficient domain)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or directories (searched recursively)")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR")
    p.add_argument("--tables", default="paper", help="preset name (paper, released) or a JSON file (default: %(default)s)")
    p.add_argument("--one-pass", action="store_true",
                   help="write the defended pixels as PNG (decoder-side defense) instead of JPEGs carrying the tables")
    p.add_argument("--subsampling", default="4:4:4", choices=["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"],
                   help="chroma subsampling for non-JPEG inputs (default: %(default)s)")
    p.add_argument("-j", "--jobs", type=int, default=0, help="parallel workers (default: all cores)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_distill)

    p = sub.add_parser("design-tables", help="design feature-distillation tables from images' DCT band statistics")
    p.add_argument("inputs", nargs="+", metavar="IMAGES")
    p.add_argument("-o", "--output", required=True, metavar="TABLES.json")
    p.add_argument("--n", type=int, default=15, help="size of the accuracy-sensitive band (default: %(default)s)")
    p.add_argument("--s-as", type=int, default=1, help="step in the accuracy-sensitive band (default: %(default)s)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--s-md", type=int, default=None, help="step in the malicious-defense band (default 40)")
    group.add_argument("--eps", type=float, default=None, help="L-inf budget (0..1); sets s_md = smallest step > 16*eps*255")
    p.add_argument("--per-component", action="store_true", help="separate luma and chroma designs")
    p.set_defaults(func=cmd_design_tables)

    p = sub.add_parser("decode", help="decode a JPEG file to PNG (or any format imageio writes)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--mode", choices=["RGB", "L"], default=None)
    p.set_defaults(func=cmd_decode)

    from fdjpeg.check import register as register_check  # check, info (fdjpeg/check.py)

    register_check(sub)
    return parser


def main(argv=None) -> int:
    from fdjpeg.errors import JPEGError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (JPEGError, ValueError, TypeError, OSError) as exc:
        print(f"fdjpeg {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
