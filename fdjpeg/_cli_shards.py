"""``fdjpeg distill`` on WebDataset tar shards: the report lines, and one shard from stdin to stdout
(cli.py orchestrates; fdjpeg.dataset.shards does the work)."""

from __future__ import annotations

import os
import sys

from . import _cli_io as cio


def report_failures(report) -> int:
    """Name each JPEG member of a distilled shard that was copied unchanged; return how many."""
    for member, why in report.failures:
        print(f"fdjpeg: warning: {report.src}: {member}: {why}", file=sys.stderr)
    return len(report.failures)


def summary(reports, shards: int) -> str:
    distilled = sum(r.distilled for r in reports)
    kept = sum(len(r.failures) for r in reports)
    return (
        f"{len(reports)} of {shards} shards ({distilled} JPEG members distilled"
        + (f", {kept} left unchanged" if kept else "")
        + ")"
    )


def distill_stdio(arg: str, table, args) -> int:
    """``fdjpeg distill SHARD|- -o -``: one shard, streamed to stdout (not atomic: a failure midway
    leaves a partial tar there, and exit status 1)."""
    from .base.errors import JPEGError
    from .dataset.shards import distill_shard

    if sys.stdout.isatty():
        raise cio.CLIError("refusing to write a tar shard to a terminal; redirect stdout", status=2)
    src = sys.stdin.buffer if arg == cio.STDIO else arg
    sys.stdout.flush()
    with cio.about(arg):
        try:
            report = distill_shard(
                src, sys.stdout.buffer, table, defense="one-pass" if args.one_pass else "requantize",
                jobs=args.jobs or os.cpu_count() or 1,
            )  # fmt: skip
        except JPEGError as exc:  # a broken tar; its message names the shard already
            raise cio.CLIError(str(exc).removeprefix(f"{getattr(src, 'name', src)}: ")) from exc
        sys.stdout.buffer.flush()
    report.src = "stdin" if arg == cio.STDIO else arg
    failed = report_failures(report)
    if not args.quiet:
        print(f"fdjpeg distill: {summary([report], 1)} written to stdout", file=sys.stderr)
    return 1 if failed else 0
