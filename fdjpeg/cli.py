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
         dict(tables=tables.released_table())),
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
    print(f"both files decode; open them in any viewer, or check them with: djpeg {out}/{jobs[1][0]} > /dev/null")
    return 0


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

    if spec == "released":
        return tables.released_table()
    if hasattr(tables, "preset"):
        try:
            return tables.preset(spec)
        except (KeyError, ValueError):
            pass
    if os.path.exists(spec) and hasattr(tables, "load"):
        return tables.load(spec)
    raise ValueError(f"unknown tables {spec!r}: give a preset name or a JSON file written by fdjpeg.tables.save")


def cmd_encode(args) -> int:
    import fdjpeg

    settings = dict(subsampling=args.subsampling, optimize=args.optimize, restart_interval=args.restart_interval,
                    restart_rows=args.restart_rows)
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
    p.add_argument("--restart-interval", type=int, default=0, metavar="MCUS")
    p.add_argument("--restart-rows", type=int, default=0, metavar="ROWS")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", help="decode a JPEG file to PNG (or any format imageio writes)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--mode", choices=["RGB", "L"], default=None)
    p.set_defaults(func=cmd_decode)
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
