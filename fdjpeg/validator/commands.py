"""The ``fdjpeg check`` and ``fdjpeg info`` subcommands (registered by cli.build_parser)."""

from __future__ import annotations

import json
import sys

from ..base.profile import HARDWARE_PROFILE
from .report import check, format_info, info


def cmd_check(args) -> int:
    failed = False
    for path in args.files:
        try:
            problems = check(path, profile=args.profile)
        except OSError as exc:
            print(f"{path}:0: error: cannot read: {exc.strerror or exc}", flush=True)
            failed = True
            continue
        for p in problems:
            if args.quiet and p.severity == "info":
                continue
            print(f"{path}:{p.offset}: {p.severity}: {p.message}")
        failed |= any(p.severity == "error" for p in problems)
        if args.strict:
            failed |= any(p.severity == "warning" for p in problems)
    sys.stdout.flush()
    return 1 if failed else 0


def cmd_info(args) -> int:
    try:
        d = info(args.file)
    except OSError as exc:
        print(f"fdjpeg: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    not_jpeg = [p["message"] for p in d["problems"] if p.get("code") == "no-soi"]
    if not_jpeg:  # nothing to describe: an error, not a report
        print(f"fdjpeg: {args.file}: {not_jpeg[0]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        print(format_info(d, args.file))
    return 0


def register(sub) -> None:
    """Add the ``check`` and ``info`` subcommands to the CLI's subparsers."""
    p = sub.add_parser("check", help="validate JPEG files: one line per problem, FILE:OFFSET: severity: message")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--profile",
        choices=[HARDWARE_PROFILE],
        default=None,
        help="treat departures from the hardware-safe profile as errors",
    )
    p.add_argument("--strict", action="store_true", help="exit non-zero on warnings too")
    p.add_argument("-q", "--quiet", action="store_true", help="omit info lines")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("info", help="print a JPEG file's structure: markers, tables, sampling, scans, metadata")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)
