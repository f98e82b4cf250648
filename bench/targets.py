"""``python -m bench.targets`` (or ``python -m bench --targets-only``): just issue #16's targets against raw
libjpeg-turbo, in a few minutes, so they can be rerun on a quiet machine without the whole suite.

    python -m bench.targets                 # writes bench/TARGETS.md
    python -m bench.targets --results       # also replaces (or adds) that table in bench/RESULTS.md
    python -m bench.targets --runs 11       # more runs per median (default 7)
    python -m bench.targets --python /tmp/fresh/bin/python   # the first-call row in another environment

It times the two reference cases (encode and decode of the 6.3 MP 4:2:0 q75 photo mosaic; Pillow writes
the decode input, without restart markers) in the same worker processes as ``python -m bench`` (one
thread, then all cores), and the fresh-process first encode with a warm Numba cache: the seconds to the
result (the target) and the whole process with the interpreter's exit. That row says whether SciPy was
installed (Numba's BLAS probe imports ``scipy.linalg``, ~0.1 s that a plain ``pip install fdjpeg`` does
not pay); ``--python PATH`` measures it in another environment's installed fdjpeg instead, e.g. a venv
made exactly as the README's Quick start makes one (install this checkout there first).
The load average before and after is recorded: on a shared machine, rely on the ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from . import environment, firstcall, images, report
from .__main__ import log, run_timings
from .cases import make_plan

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "TARGETS.md")
RESULTS = os.path.join(HERE, "RESULTS.md")


def target_case_ids(reference: str) -> set[str]:
    return {case_id.format(ref=reference) for _, case_id, _, _ in report.TURBO_TARGETS}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def busy_note(start: float, end: float, cores: int) -> str:
    """A warning line when other processes held the cores during the run ("" on a quiet machine)."""
    if max(start, end) < cores:
        return ""
    return (
        f"> **Busy machine:** load average {start:.1f} at start and {end:.1f} at end on {cores} cores. Both sides "
        "of every ratio ran in the same process in interleaved rounds, but contention still skews them (the "
        "per-round ranges show how much); rerun `python -m bench.targets` on a quiet machine for the record."
    )


def render(meta: dict, timings: list[dict], first: dict | None) -> str:
    env = dict(meta["environment"])
    parts = [
        f"# {report.TURBO_TITLE}",
        "",
        f"Command: `{meta['command']}` ({meta['runs']} runs per median; {meta['date']})",
        "",
        *([meta["busy"], ""] if meta.get("busy") else []),
        report.table(["", ""], [[k, v] for k, v in env.items()]),
        "",
        report.turbo_targets_section(meta, timings, first),
        "",
    ]
    return "\n".join(parts)


def splice_into_results(section: str, path: str = RESULTS) -> None:
    """Replace the issue #16 targets section of RESULTS.md with ``section`` (a heading and its body), or
    insert it before the first operation table when the file has none yet."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    heading = f"## {report.TURBO_TITLE}"
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + len(heading))
        end = len(text) if end < 0 else end + 1
    else:
        start = end = text.find(f"## {report.TITLES['encode']}")
        if start < 0:
            start = end = len(text)
    text = text[:start] + section.rstrip("\n") + "\n\n" + text[end:]
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    ap.add_argument("--output", default=DEFAULT_OUTPUT, help="Markdown file to write (default bench/TARGETS.md)")
    ap.add_argument("--results", action="store_true", help="also put the table into bench/RESULTS.md")
    ap.add_argument("--python", help="the first-call row in this interpreter's installed fdjpeg (e.g. a fresh venv)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    plan = make_plan(False, args.runs)
    ids = target_case_ids(plan.reference)
    env = environment.describe()
    env["load average at start"] = load()
    meta = {
        "command": "python -m bench.targets" + "".join(f" {a}" for a in argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": plan.runs,
        "reference": plan.reference,
        "cores": environment.usable_cores(),
        "environment": env,
    }
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-targets-") as tmp:
        store = images.ImageStore(os.path.join(tmp, "images"))
        timings = run_timings(plan, ("encode", "decode"), ["1", "all"], store, tmp, select=ids.__contains__)
        log("first call:")
        first = firstcall.measure(
            images.mosaic(512, 512), 5, log=log, keys=("encode",), empty=False, python=args.python
        )
    env["load average at end"] = load()
    meta["busy"] = busy_note(load_start, os.getloadavg()[0], meta["cores"])
    env["run time"] = f"{time.perf_counter() - started:.0f} s"
    text = render(meta, timings, first)
    with open(args.output + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(args.output + ".tmp", args.output)
    log(f"wrote {args.output}")
    if args.results:
        section = text.replace(f"# {report.TURBO_TITLE}", f"## {report.TURBO_TITLE}", 1)
        section = section.replace(
            "\n\n",
            "\n\nWritten by `python -m bench.targets --results`; a full `python -m bench` run rewrites it.\n\n",
            1,
        )
        splice_into_results(section)
        log(f"updated {RESULTS}")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
