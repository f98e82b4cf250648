"""The ``fdjpeg`` command line: demo, encode, decode (more subcommands register themselves below).

Behaves like other Unix tools: results on stdout, diagnostics on stderr as ``fdjpeg: FILE: message``,
exit status 0 on success, 1 when some input or output failed, 2 for usage errors, 141 when stdout is
closed early; ``-`` is stdin/stdout for encode and decode. File and image I/O, error reporting and the
first-run compile notice live in _cli_io.py.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
from pathlib import Path

import numpy as np

from . import _cli_io as cio


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def cmd_demo(args) -> int:
    """Encode a bundled photo at quality 75 and with the recommended, released and paper feature-distillation tables."""
    import fdjpeg
    from fdjpeg import tables
    from fdjpeg.base import photos
    from fdjpeg.base.io import write_atomic

    image = photos.load(args.image)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (f"{args.image}-q75.jpg", "standard quality 75 (Annex K tables)", dict(quality=75)),
        (
            f"{args.image}-fd-robust.jpg",
            f"feature distillation, recommended table (tables.preset(), {tables.RECOMMENDED!r})",
            dict(tables=tables.preset()),
        ),
        (
            f"{args.image}-fd-released.jpg",
            "feature distillation, released table (25 on 4x4, 30 elsewhere)",
            dict(tables=tables.preset("released")),
        ),
        (
            f"{args.image}-fd-paper.jpg",
            "feature distillation, paper preset (15 bands at step 1, 49 at 40)",
            dict(tables=tables.preset("paper")),
        ),
    ]
    h, w = image.shape[:2]
    print(f"fdjpeg demo: {photos.path(args.image).name} ({w}x{h}, see fdjpeg/data/README.md for its source) -> {out}/")
    print(f"{'file':<28} {'bytes':>8} {'PSNR (dB)':>10}  what")
    for name, what, settings in jobs:
        data = fdjpeg.encode(image, **settings)
        write_atomic(out / name, data)
        decoded = fdjpeg.decode(data)
        if decoded.shape != image.shape:
            print(f"fdjpeg demo: {name} decoded to shape {decoded.shape}, expected {image.shape}", file=sys.stderr)
            return 1
        print(f"{name:<28} {len(data):>8} {_psnr(image, decoded):>10.2f}  {what}")
    print(
        f"all {len(jobs)} files decode with fdjpeg; they are standard baseline JPEGs (try: djpeg {out}/{jobs[1][0]} > /dev/null)"
    )
    return 0


def _load_tables(spec: str):
    from fdjpeg.fd.design import resolve_tables

    if os.path.exists(spec):
        with cio.about(spec):
            return resolve_tables(spec)
    try:
        return resolve_tables(spec)  # the resolver fdjpeg.torch and fdjpeg.art use: presets, q<N>, files
    except ValueError as exc:
        raise cio.CLIError(str(exc)) from None


def _icc_matches(icc: bytes | None, pixels: np.ndarray) -> bool:
    """Whether an ICC profile describes these pixels' colour space (a CMYK profile does not describe RGB)."""
    return icc is not None and icc[16:20] == (b"GRAY" if pixels.ndim == 2 else b"RGB ")


def cmd_encode(args) -> int:
    import fdjpeg

    settings = dict(
        subsampling=args.subsampling,
        optimize=args.optimize,
        restart_interval=args.restart_interval,
        restart_rows=args.restart_rows,
        arithmetic=args.arithmetic,
        progressive=args.progressive,
    )
    if args.tables:
        settings["tables"] = _load_tables(args.tables)
    else:
        settings["quality"] = 75 if args.quality is None else args.quality
    cio.check_output(args.output)
    data = cio.read_bytes(args.input)
    img = cio.load_image(args.input, data)
    if cio.is_jpeg(data) and not args.strip_metadata:  # keep what a re-encode should keep
        with cio.about(args.input):
            header = fdjpeg.read_header(data)
        settings.update(
            exif=header.exif,
            comment=header.comment,
            icc_profile=header.icc_profile if _icc_matches(header.icc_profile, img) else None,
        )
    with cio.about(args.input):
        result = fdjpeg.encode(img, **settings)
    cio.write_bytes(args.output, result)
    if not args.quiet:
        name = "stdout" if args.output == cio.STDIO else args.output
        print(f"fdjpeg: {name}: {len(result)} bytes", file=sys.stderr)
    return 0


def cmd_decode(args) -> int:
    import fdjpeg

    ext = cio.pixel_format(args.output)
    cio.check_output(args.output)
    data = cio.read_bytes(args.input)
    with cio.about(args.input):
        if not cio.is_jpeg(data):
            raise cio.CLIError("not a JPEG file (it does not start with SOI, ff d8)")
        pixels = cio.as_rgb_or_gray(fdjpeg.decode(data, mode=args.mode))
    with cio.about("stdout" if args.output == cio.STDIO else args.output):
        cio.write_bytes(args.output, cio.pixels_to_bytes(pixels, ext))
    return 0


IMAGE_EXTENSIONS = cio.IMAGE_EXTENSIONS  # the names distill and design-tables pick up in directories


def _collect_inputs(inputs, skip: Path | None = None) -> list[tuple[Path, Path]]:
    """(file, path relative to its input root) for every file argument and every image under a directory;
    files under ``skip`` (distill's output directory, when it lies inside an input) are left out."""
    found = []
    skip = skip.resolve() if skip is not None else None
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if skip is not None and f.resolve().is_relative_to(skip):
                    continue
                if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append((f, f.relative_to(p)))
        elif p.exists():
            found.append((p, Path(p.name)))
        else:
            raise cio.CLIError("no such file or directory", arg)
    return found


def _safe_destination(out_root: Path, dest: Path) -> None:
    """Refuse to write through a symbolic link met below the output directory (it would write elsewhere)."""
    here = out_root
    for part in dest.relative_to(out_root).parts:
        here = here / part
        if here.is_symlink():
            raise cio.CLIError(f"{here} is a symbolic link; refusing to write through it", dest)


class _Progress:
    """A one-line progress bar on stderr when it is a terminal (or when forced); silent otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.failed, self.enabled = total, 0, 0, enabled
        self.lock = threading.Lock()

    def note(self, text: str) -> None:
        """Show what the job under way has done (a shard's members) on the bar's line."""
        if self.enabled:
            with self.lock:
                self._draw(text)

    def _draw(self, name: str) -> None:
        width = 30
        filled = width * self.done // max(self.total, 1)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
            f"{f' ({self.failed} failed)' if self.failed else ''} {name[:40]:<40}"
        )
        sys.stderr.flush()

    def step(self, ok: bool, name: str) -> None:
        with self.lock:
            self.done += 1
            self.failed += not ok
            if self.enabled:
                self._draw(name)

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def cmd_distill(args) -> int:
    """Apply feature distillation to many images and tar shards, in parallel, writing each result atomically."""
    from concurrent.futures import ThreadPoolExecutor

    import fdjpeg
    from fdjpeg import _cli_shards as shard_cli
    from fdjpeg.dataset import shards as shardlib

    table = _load_tables(args.tables)
    if cio.STDIO in (args.output, *args.inputs):
        if args.output != cio.STDIO or len(args.inputs) != 1:
            raise cio.CLIError(
                "'-' (stdin or stdout) is for one tar shard only: fdjpeg distill SHARD.tar|- -o -", status=2
            )
        if args.inputs[0] != cio.STDIO and not (
            os.path.isfile(args.inputs[0]) and shardlib.looks_like_shard(args.inputs[0])
        ):
            raise cio.CLIError("-o - writes one tar shard to stdout; this input is not a tar shard", args.inputs[0], 2)
        return shard_cli.distill_stdio(args.inputs[0], table, args)
    out_root = Path(args.output)
    for arg in args.inputs:  # OUT inside an input directory is fine (skipped when walking it), not the reverse
        if Path(arg).is_dir() and Path(arg).resolve().is_relative_to(out_root.resolve()):
            raise cio.CLIError(
                f"the output directory holds the input {arg}: distill would overwrite or re-read "
                "its inputs; choose another OUTDIR",
                args.output,
                status=2,
            )
    if args.dask is not None:
        return _distill_dask(args, table)
    shard_files = {Path(a) for a in args.inputs if os.path.isfile(a) and shardlib.looks_like_shard(a)}
    jobs = [(Path(a), Path(Path(a).name)) for a in args.inputs if Path(a) in shard_files]
    jobs += _collect_inputs([a for a in args.inputs if Path(a) not in shard_files], skip=out_root)
    if not jobs:
        raise cio.CLIError("no input images found")
    suffix = ".png" if args.one_pass else ".jpg"

    def destination(src: Path, rel: Path) -> Path:
        return out_root / (rel if src in shard_files else rel.with_suffix(suffix))

    targets: dict[Path, Path] = {}
    for src, rel in jobs:
        dest = destination(src, rel)
        if dest in targets:
            raise cio.CLIError(f"{src} and {targets[dest]} would both be written to {dest}", status=2)
        if dest.exists() and dest.resolve() == src.resolve():
            raise cio.CLIError(f"would overwrite the input {src}; choose an OUTDIR outside the inputs", status=2)
        targets[dest] = src
    workers = args.jobs or os.cpu_count() or 1
    reports = []

    def distill_shard(src: Path, dest: Path) -> None:
        with cio.about(src):  # warnings from its members name the shard too
            try:
                report = shardlib.distill_shard(
                    src, dest, table, defense="one-pass" if args.one_pass else "requantize",
                    jobs=max(1, workers // len(jobs)),  # one shard alone still gets every core
                    progress=lambda r: progress.note(f"{src.name}: {r.jpegs} JPEGs"),
                )  # fmt: skip
            except fdjpeg.JPEGError as exc:  # a broken tar; its message names the shard already
                raise cio.CLIError(str(exc).removeprefix(f"{src}: ")) from exc
            except OSError as exc:
                raise cio.CLIError(cio.short(exc), getattr(exc, "filename", None) or src) from exc
        with lock:
            reports.append(report)

    def work(src: Path, rel: Path) -> None:
        dest = destination(src, rel)
        _safe_destination(out_root, dest)
        with cio.about(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
        _safe_destination(out_root, dest)
        if src in shard_files:
            distill_shard(src, dest)
            return
        data = cio.read_bytes(src)
        with cio.about(src):
            if cio.is_jpeg(data):  # coefficient domain: no pixel round trip
                if args.one_pass:
                    result = cio.pixels_to_bytes(cio.as_rgb_or_gray(fdjpeg.decode(data, defense=table)), ".png")
                else:
                    result = fdjpeg.requantize(data, table)
            else:
                img = cio.load_image(src, data)
                if args.one_pass:
                    result = cio.pixels_to_bytes(fdjpeg.distill(img, table, subsampling=args.subsampling), ".png")
                else:
                    result = fdjpeg.encode(img, table, subsampling=args.subsampling, optimize=True)
        cio.write_bytes(dest, result)

    progress = _Progress(len(jobs), enabled=args.progress or (args.progress is None and sys.stderr.isatty()))
    lock = threading.Lock()
    failures = []

    def run(job):
        src, rel = job
        try:
            work(src, rel)
            ok = True
        except Exception as exc:  # noqa: BLE001 -- one bad file must not stop the batch
            ok = False
            with lock:
                failures.append(exc if isinstance(exc, cio.CLIError) else cio.CLIError(cio.short(exc), src))
        with lock:
            progress.step(ok, str(rel))

    with ThreadPoolExecutor(max_workers=workers) as pool:  # kernels release the GIL
        list(pool.map(run, jobs))
    progress.close()
    for exc in failures:
        print(f"fdjpeg: {exc}", file=sys.stderr)
    kept = sum(shard_cli.report_failures(r) for r in sorted(reports, key=lambda r: r.src))
    if not args.quiet:
        images = len(jobs) - len(shard_files)
        done = [shard_cli.summary(reports, len(shard_files))] if shard_files else []
        if images or not shard_files:
            failed_images = len(failures) - (len(shard_files) - len(reports))
            done.append(f"{images - failed_images} of {images} images")
        print(
            f"fdjpeg distill: {' and '.join(done)} written to {out_root}/"
            + (f", {len(failures)} failed" if failures else ""),
            file=sys.stderr,
        )
    return 1 if failures or kept else 0


def _distill_dask(args, table) -> int:
    """distill --dask: the same job mapped over a Dask cluster by fdjpeg.dataset.cluster (the dask extra)."""
    if args.one_pass:
        raise cio.CLIError("--one-pass is not available with --dask (it writes JPEGs carrying the tables)", status=2)
    try:
        from fdjpeg.dataset.cluster import distill_dataset
    except ImportError as exc:
        raise cio.CLIError(
            f'--dask needs dask.distributed and fsspec: pip install "fdjpeg[dask]" ({cio.short(exc)})', status=2
        ) from None
    report = distill_dataset(  # a missing input or an unreachable scheduler: OSError, reported by main
        args.inputs,
        args.output,
        table,
        client=args.dask,
        workers=args.jobs or None,
        subsampling=args.subsampling,
        progress_bar=args.progress,
    )
    for src, message in report.failed:
        print(f"fdjpeg: {src}: {message}", file=sys.stderr)
    if report.total == 0:
        raise cio.CLIError("no input images found")
    if not args.quiet:
        print(
            f"fdjpeg distill: {report.written} of {report.total} outputs written to {args.output}/"
            + (f", {report.skipped} already there" if report.skipped else "")
            + (f", {len(report.failed)} failed (listed in {report.report})" if report.failed else ""),
            file=sys.stderr,
        )
    return 1 if report.failed else 0


def cmd_design_tables(args) -> int:
    """Design feature-distillation tables from the band statistics of a set of images.

    A file that cannot be read is reported and skipped; the tables are written from the rest (exit 1
    if any was skipped, like distill), and nothing is written when no usable image remains.
    """
    from fdjpeg import tables

    files = [f for f, _ in _collect_inputs(args.inputs)]
    if not files:
        raise cio.CLIError("no input images found")
    cio.check_output(args.output)
    usable = []

    def readable():  # stream one image at a time; a bad file is named and skipped
        for f in files:
            try:
                img = cio.load_image(f)
            except Exception as exc:  # noqa: BLE001 -- any unreadable file is named and skipped
                print(
                    f"fdjpeg: {exc if isinstance(exc, cio.CLIError) else f'{f}: {cio.short(exc)}'} (skipped)",
                    file=sys.stderr,
                )
                continue
            usable.append(f)
            yield img

    try:
        stats = tables.band_statistics(readable())
    except ValueError:
        if usable:
            raise
        raise cio.CLIError(f"none of the {len(files)} input files is a usable image; no tables written") from None
    images, failures = len(usable), len(files) - len(usable)
    designed = tables.design(
        stats, n=args.n, s_as=args.s_as, s_md=args.s_md, eps=args.eps, per_component=args.per_component
    )
    how = f"n={args.n}, s_as={args.s_as}, " + (f"eps={args.eps}" if args.eps is not None else f"s_md={args.s_md or 40}")
    with cio.about(args.output):
        tables.save(args.output, designed, description=f"fdjpeg design-tables over {images} images ({how})")
    for name, t in zip(
        ("luma", "chroma") if args.per_component else ("all components",),
        designed if args.per_component else (designed,),
    ):
        print(f"# {name}")
        print("\n".join(" ".join(f"{int(v):3d}" for v in row) for row in t))
    print(
        f"fdjpeg design-tables: wrote {args.output} ({how}, {images} images, {stats.blocks('all')} blocks)",
        file=sys.stderr,
    )
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

    p = sub.add_parser("encode", help="encode an image file (JPEG, PNG, BMP, TIFF... '-' for stdin) as JPEG")
    p.add_argument("input", help="image file, or - for stdin")
    p.add_argument("-o", "--output", required=True, help="JPEG file, or - for stdout")
    p.add_argument("-q", "--quality", type=int, default=None, help="1..100 (default 75; not with --tables)")
    p.add_argument("--tables", help="quantization tables: a preset name (e.g. released, paper) or a JSON file")
    p.add_argument(
        "--strip-metadata",
        action="store_true",
        help="drop the EXIF, ICC profile and comment of a JPEG input (kept by default)",
    )
    p.add_argument(
        "--subsampling",
        default=None,
        choices=["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"],
        help="chroma subsampling (default: 4:2:0 for colour, one 1x1 component for grayscale, as libjpeg)",
    )
    p.add_argument("--optimize", action="store_true", help="optimal Huffman tables (two passes)")
    p.add_argument(
        "--arithmetic",
        action="store_true",
        help="arithmetic coding (SOF9; SOF10 with --progressive), as cjpeg -arithmetic",
    )
    p.add_argument(
        "--progressive",
        action="store_true",
        help="progressive JPEG, libjpeg's default scan script (as cjpeg -progressive; tables always optimal)",
    )
    p.add_argument("--restart-interval", type=int, default=0, metavar="MCUS")
    p.add_argument("--restart-rows", type=int, default=0, metavar="ROWS")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser(
        "distill",
        help="feature distillation over files, directories and WebDataset tar shards (JPEGs stay in the "
        "coefficient domain)",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, directories (searched recursively for images) or tar shards (.tar, .tar.gz, ... or "
        "any file with a tar header; - for one shard on stdin, with -o -)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output directory (- : one shard to stdout)")
    p.add_argument(
        "--tables",
        default="robust",
        help="preset name (robust, released, paper) or a JSON file (default: %(default)s, the recommended one)",
    )
    p.add_argument(
        "--one-pass",
        action="store_true",
        help="write the defended pixels as PNG (decoder-side defense) instead of JPEGs carrying the tables "
        "(in tar shards: each JPEG member becomes a .png member)",
    )
    p.add_argument(
        "--subsampling",
        default="4:4:4",
        choices=["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"],
        help="chroma subsampling for non-JPEG inputs (default: %(default)s)",
    )
    p.add_argument("-j", "--jobs", type=int, default=0, help="parallel workers (default: all cores)")
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on a Dask cluster: a scheduler address (tcp://host:8786), or 'local' for a local cluster of "
        "-j worker processes; inputs and OUTDIR may then be fsspec URLs (s3://, gs://); outputs that exist "
        "and validate are skipped; failures are listed in OUTDIR/distill-report.tsv (needs fdjpeg[dask])",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_distill)

    p = sub.add_parser("design-tables", help="design feature-distillation tables from images' DCT band statistics")
    p.add_argument("inputs", nargs="+", metavar="IMAGES")
    p.add_argument("-o", "--output", required=True, metavar="TABLES.json")
    p.add_argument("--n", type=int, default=15, help="size of the accuracy-sensitive band (default: %(default)s)")
    p.add_argument("--s-as", type=int, default=1, help="step in the accuracy-sensitive band (default: %(default)s)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--s-md", type=int, default=None, help="step in the malicious-defense band (default 40)")
    group.add_argument(
        "--eps", type=float, default=None, help="L-inf budget (0..1); sets s_md = smallest step > 16*eps*255"
    )
    p.add_argument("--per-component", action="store_true", help="separate luma and chroma designs")
    p.set_defaults(func=cmd_design_tables)

    p = sub.add_parser("decode", help="decode a JPEG file to PNG, BMP, TIFF or PNM (CMYK is converted to RGB)")
    p.add_argument("input", help="JPEG file, or - for stdin")
    p.add_argument("-o", "--output", required=True, help=f"{', '.join(cio.PIXEL_FORMATS)} file, or - for PNG on stdout")
    p.add_argument(
        "--mode",
        choices=["RGB", "L"],
        default=None,
        help="convert as Pillow's Image.convert does (default: gray stays gray, colour and CMYK give RGB)",
    )
    p.set_defaults(func=cmd_decode)

    from fdjpeg.validator.commands import register as register_check  # check, info

    register_check(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "encode" and args.tables and args.quality is not None:
        parser.error("argument -q/--quality: not allowed with --tables (the tables set the quality)")
    try:
        with cio.diagnostics():
            return args.func(args)
    except cio.CLIError as exc:
        print(f"fdjpeg: {exc}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:  # stdout closed early (| head): stop quietly, as other tools do
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        except (OSError, ValueError):
            pass
        return 128 + 13  # killed by SIGPIPE, as the shell reports it
    except (ValueError, TypeError, OSError) as exc:  # JPEGError is a ValueError
        name = getattr(exc, "filename", None)
        print(f"fdjpeg: {f'{name}: ' if name else ''}{cio.short(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """The ``fdjpeg`` command: :func:`main`, then exit without the interpreter's final garbage collection,
    which otherwise walks the ~10^5 objects Numba's set-up leaves (about 0.2 s of a short command)."""
    try:
        status = main()
    finally:  # (also when argparse exits: --help, --version, usage errors)
        gc.freeze()  # this process ends here; its objects need no collection
    sys.exit(status)


if __name__ == "__main__":
    run()
