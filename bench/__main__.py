"""``python -m bench``: run the fdjpeg benchmark suite and write ``bench/RESULTS.md``.

    python -m bench                       # full run (sizes 224² … 24 MP, 7 runs per median)
    python -m bench --quick               # smoke test: 224² and 1 MP, 3 runs
    python -m bench --only encode,memory  # some sections: encode, decode, distill, requantize, memory, firstcall
    python -m bench --targets-only        # just the issue #16 targets vs raw libjpeg-turbo (= python -m bench.targets)

Every measurement runs in a child process: one per (operation, thread configuration) for the speed tables,
one per (operation, library, size) for peak memory, and fresh ``python -c`` processes for the first-call
times. See bench/README.md for how to read the results.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

from . import environment, firstcall, images, report
from .cases import LIBRARIES, OPERATIONS, SECTIONS, Case, make_plan, memory_cases, timing_cases
from .worker import SINGLE_THREAD_ENV

DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
#: Sections that other bench commands (bench.scaled, bench.streaming, ...) add to RESULTS.md after this line;
#: a full run rewrites everything above it and keeps them.
KEEP_MARKER = "<!-- sections below come from other bench commands"


def kept_sections(path: str) -> str:
    """The part of an existing RESULTS.md from KEEP_MARKER on ("" if there is none)."""
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except OSError:
        return ""
    i = old.find(KEEP_MARKER)
    return "" if i < 0 else "\n" + old[i:]


def replace_kept_section(path: str, title: str, text: str) -> None:
    """Put ``text`` (a section headed ``title``) at the end of RESULTS.md's kept part (after KEEP_MARKER),
    removing the earlier copy of that section; written atomically. The one writer the standalone bench
    commands (bench.batch, bench.shards, bench.dataset, bench.parallel_decode) share."""
    from fdjpeg.base.io import write_atomic

    with open(path, encoding="utf-8") as f:
        old = f.read()
    if KEEP_MARKER not in old:
        raise SystemExit(f"{path} has no kept-sections marker; run python -m bench first")
    start = old.find(title)
    if start >= 0:
        end = old.find("\n## ", start + len(title))
        old = old[:start] + (old[end + 1 :] if end >= 0 else "")
    write_atomic(path, (old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n").encode("utf-8"))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def child_env(threads: str) -> dict:
    """Environment of a worker: single-thread settings, or none of them for the all-cores column."""
    env = {k: v for k, v in os.environ.items() if k not in SINGLE_THREAD_ENV}
    if threads == "1":
        env.update(SINGLE_THREAD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(environment.REPO), os.environ.get("PYTHONPATH")) if p)
    return env


def _crashed(case: Case, threads: str, rc: int) -> dict:
    err = {"error": f"worker process died (exit code {rc}) on this case"}
    return {"case": case.as_dict(), "threads": threads, "libs": {lib: err for lib in LIBRARIES[case.op]}, "checks": {}}


def run_timings(plan, ops, threads_list, store, tmp, select=None) -> list[dict]:
    """Speed tables: one worker process per (operation, thread configuration). ``select``: keep only the
    cases whose id it accepts (bench.targets runs just the targets' cases)."""
    records = []
    for op in ops:
        cases = [c for c in timing_cases(plan, op) if select is None or select(c.id)]
        for spec in {c.image for c in cases}:
            store.get(spec)  # build images once, in the parent, outside every timing
        for threads in threads_list:
            log(f"{op}, {'1 thread' if threads == '1' else 'all cores'}:")
            out = os.path.join(tmp, f"{op}-{threads}.jsonl")
            cmd = [
                sys.executable, "-m", "bench.worker", "--threads", threads, "--store", store.root,
                "--cases", json.dumps([c.as_dict() for c in cases]), "--runs", str(plan.runs),
                "--min-run-s", str(plan.min_run_s), "--out", out,
            ]  # fmt: skip
            rc = subprocess.run(cmd, env=child_env(threads), cwd=environment.REPO).returncode
            done = []
            if os.path.exists(out):
                with open(out) as f:
                    done = [json.loads(line) for line in f if line.strip()]
            records += done
            ids = {r["case"]["id"] for r in done}
            records += [_crashed(c, threads, rc) for c in cases if c.id not in ids]
    return records


def run_memory(plan, ops, store) -> list[dict]:
    """Peak RSS: one fresh process per (operation, library, size), all cores."""
    records = []
    for op in ops:
        for case in memory_cases(plan, op):
            store.get(case.image)
            for lib in LIBRARIES[op]:
                log(f"memory: {case.id} {lib}")
                cmd = [sys.executable, "-m", "bench.memory", "--case", json.dumps(case.as_dict()), "--lib", lib,
                       "--store", store.root]  # fmt: skip
                proc = subprocess.run(cmd, env=child_env("all"), cwd=environment.REPO, capture_output=True, text=True)
                try:
                    rec = json.loads(proc.stdout.strip().splitlines()[-1])
                except (IndexError, json.JSONDecodeError):
                    rec = {"error": f"process died (exit code {proc.returncode})"}
                records.append({"case": case.as_dict(), "lib": lib, **rec})
    return records


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (224², 1 MP) and 3 runs: a smoke test")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections out of {','.join(SECTIONS)}")
    ap.add_argument("--runs", type=int, default=None, help="runs per median (default 7; 3 with --quick)")
    ap.add_argument("--threads", default="1,all", help="thread columns: 1, all, or 1,all (default)")
    ap.add_argument("--output", default=DEFAULT_OUTPUT, help="Markdown file to write (default bench/RESULTS.md)")
    ap.add_argument("--json", default=None, help="also write the raw measurements to this JSON file")
    ap.add_argument("--targets-only", action="store_true", help="run python -m bench.targets instead (its options)")
    args = ap.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in args.sections if s not in SECTIONS]
    if bad:
        ap.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    args.threads_list = [t.strip() for t in args.threads.split(",") if t.strip()]
    if not args.threads_list or any(t not in ("1", "all") for t in args.threads_list):
        ap.error("--threads must be 1, all, or 1,all")
    if args.runs is not None and args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--targets-only" in argv:
        from . import targets

        return targets.main([a for a in argv if a != "--targets-only"])
    args = parse_args(argv)
    plan = make_plan(args.quick, args.runs)
    ops = [op for op in OPERATIONS if op in args.sections]
    meta = {
        "command": " ".join(["python -m bench"] + [shlex.quote(a) for a in argv]),
        "environment": environment.describe(),
        "quick": plan.quick,
        "runs": plan.runs,
        "sections": args.sections,
        "threads": args.threads_list,
        "reference": plan.reference,
        "cores": environment.usable_cores(),
        "batch": plan.batch,
        "largest": plan.sizes[-1],
        "sizes": list(plan.sizes),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fdjpeg-bench-") as tmp:
        store = images.ImageStore(os.path.join(tmp, "images"))
        timings = run_timings(plan, ops, args.threads_list, store, tmp)
        memory = run_memory(plan, ops or list(OPERATIONS), store) if "memory" in args.sections else []
        first = None
        if "firstcall" in args.sections:
            first = firstcall.measure(images.mosaic(512, 512), plan.firstcall_runs, log=log)
    layers = sorted({t["numba_threading_layer"] for t in timings if t.get("numba_threading_layer")})
    meta["environment"]["Numba threading layer"] = ", ".join(layers) or "not started (no parallel kernel ran)"
    meta["environment"]["run time"] = f"{time.perf_counter() - started:.0f} s"
    text = report.render(meta, timings, memory, first)
    text += kept_sections(args.output)
    tmp_out = args.output + ".tmp"
    with open(tmp_out, "w") as f:
        f.write(text)
    os.replace(tmp_out, args.output)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "timings": timings, "memory": memory, "firstcall": first}, f, indent=1)
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
