"""Smoke test of the benchmark harness (bench/): it imports, formats both sides of every ratio, and reports
missing fdjpeg operations as "n/a" instead of crashing. No assertion depends on a measured time."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bench import __main__ as bench_main  # noqa: E402
from bench import cases, environment, fd_reference, firstcall, images, memory, peers, report, timing, worker  # noqa: E402,F401

pytestmark = pytest.mark.slow


def _meta(**extra):
    meta = {
        "command": "python -m bench --quick",
        "environment": {"CPU": "test CPU", "cores": "2"},
        "quick": True,
        "runs": 3,
        "sections": ["encode", "decode"],
        "threads": ["1", "all"],
        "reference": "1MP",
        "batch": "batch:8x224",
        "largest": "1MP",
    }
    meta.update(extra)
    return meta


def _record(op, case_id, threads, libs, checks=None):
    return {
        "case": {"op": op, "id": case_id, "label": f"label of {case_id}", "image": "rgb:1MP", "params": {}},
        "threads": threads,
        "libs": libs,
        "checks": checks or {},
    }


def test_ratio_row_shows_both_sides_and_the_ratio():
    assert report.ratio_cells({"median_ms": 10.0}, {"median_ms": 4.0}) == ("10.0", "4.00", "2.50")
    paired = report.ratio_cells(
        {"median_ms": 10.0, "runs_ms": [9.0, 10.0, 11.0]}, {"median_ms": 5.0, "runs_ms": [5.0] * 3}
    )
    assert paired == ("10.0", "5.00", "2.00 (1.80–2.20)")
    fd, peer, ratio = report.ratio_cells({"na": peers.NOT_IMPLEMENTED}, {"median_ms": 4.0})
    assert (fd, peer, ratio) == (peers.NOT_IMPLEMENTED, "4.00", "n/a")


def test_render_quick_report_with_missing_operation():
    timings = [
        _record("encode", "encode/rgb/1MP/4:2:0/standard", t,
                {"fdjpeg": {"median_ms": 12.0}, "Pillow": {"median_ms": 4.0}, "simplejpeg": {"median_ms": 3.0},
                 "OpenCV": {"na": "not installed (pip install opencv-python-headless)"}},
                {"Pillow": "identical bytes"})
        for t in ("1", "all")
    ] + [
        _record("decode", "decode/rgb/1MP/4:2:0/baseline", t,
                {"fdjpeg": {"na": peers.NOT_IMPLEMENTED}, "Pillow": {"median_ms": 5.0},
                 "simplejpeg": {"median_ms": 2.0}, "OpenCV": {"median_ms": 2.5}})
        for t in ("1", "all")
    ]  # fmt: skip
    text = report.render(_meta(), timings, [], None)
    assert "Quick run" in text and "`python -m bench --quick`" in text
    encode_row = next(
        line for line in text.splitlines() if line.startswith("| label of encode") and "| Pillow |" in line
    )
    assert "| 12.0 | 4.00 | 3.00 |" in encode_row and "identical bytes" in encode_row
    decode_rows = [line for line in text.splitlines() if line.startswith("| label of decode")]
    assert len(decode_rows) == 3 and all(peers.NOT_IMPLEMENTED in row for row in decode_rows)
    assert "| 5.00 | n/a |" in decode_rows[0]
    assert "not run in this invocation" in text  # distill, requantize, memory, first call
    targets = text.split("## Targets")[1].split("##")[0]
    assert "| 12.0 | 4.00 | 3.00 | ≤ 3 | yes |" in targets


def test_turbo_targets_table_and_its_standalone_splice(tmp_path):
    from bench import targets

    ids = targets.target_case_ids("1MP")
    assert ids == {"encode/rgb/1MP/4:2:0/standard", "decode/rgb/1MP/4:2:0/baseline"}
    timings = [
        _record("encode", "encode/rgb/1MP/4:2:0/standard", t,
                {"fdjpeg": {"median_ms": 12.0 if t == "1" else 6.0}, "simplejpeg": {"median_ms": 10.0}})
        for t in ("1", "all")
    ] + [_record("decode", "decode/rgb/1MP/4:2:0/baseline", "1", {"fdjpeg": {"median_ms": 11.0},
                                                               "simplejpeg": {"median_ms": 10.0}})]  # fmt: skip
    first = {
        "rows": [
            {
                "key": "encode",
                "label": "encode",
                "fdjpeg warm": {"median_s": 0.7, "to_result_s": 0.4},
                "Pillow": {"median_s": 0.12, "to_result_s": 0.1},
            }
        ]
    }
    text = report.render(_meta(cores=2), timings, [], first)
    section = text.split(f"## {report.TURBO_TITLE}")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "target" not in line]
    assert "| 12.0 | 10.0 | 1.20 | ≤ 1.2 | yes |" in rows[0]
    assert "all cores (2) | 6.00 | 10.0 | 0.60 | ≤ 0.7 | yes |" in rows[1]
    assert "| 11.0 | 10.0 | 1.10 | ≤ 1.15 | yes |" in rows[2]
    assert "| not run | not run | n/a | ≤ 0.8 | n/a |" in rows[3]  # decode on all cores was not measured
    # the target is judged on the time to the result; the whole process (with the exit) is shown beside it
    assert "| 0.40 s (0.70 s) | 0.10 s (0.12 s) (Pillow) | 4.00 | ≤ 0.5 s | yes |" in rows[4]

    assert targets.busy_note(0.5, 1.9, 2) == "" and "Busy machine" in targets.busy_note(3.0, 1.0, 2)

    results = tmp_path / "RESULTS.md"
    results.write_text(f"# r\n\n## Targets (issue #5)\n\nold\n\n## {report.TITLES['encode']}\n\nenc\n")
    targets.splice_into_results(f"## {report.TURBO_TITLE}\n\nfirst\n", str(results))
    targets.splice_into_results(f"## {report.TURBO_TITLE}\n\nsecond\n", str(results))
    out = results.read_text()
    assert out.count(report.TURBO_TITLE) == 1 and "second" in out and "first" not in out
    assert out.index("old") < out.index("second") < out.index("enc")


def test_first_call_time_to_the_result_leaves_out_the_interpreters_exit(tmp_path):
    target = firstcall.Target(str(tmp_path))
    code = "import atexit, time; atexit.register(time.sleep, 0.3)" + firstcall.RESULT_MARK
    whole, to_result = firstcall._run(code, target)
    assert 0 < to_result and whole - to_result >= 0.3  # the exit (its 0.3 s sleep) comes after the result
    assert isinstance(firstcall._run("pass", target), float)  # an unmarked snippet: the whole process only
    cpu_whole, cpu_to_result = firstcall._run(code, target, cpu=True)
    assert 0 < cpu_to_result <= cpu_whole + 0.01


def test_memory_and_firstcall_tables():
    case = {"op": "encode", "id": "encode/x", "label": "24 MP", "image": "rgb:1MP", "params": {}}
    mem = [
        {"case": case, "lib": "fdjpeg", "image_bytes": 1_000_000, "method": "VmHWM", "peak_delta_bytes": 1_200_000},
        {"case": case, "lib": "Pillow", "na": peers.NOT_IMPLEMENTED, "image_bytes": 1_000_000},
    ]
    text = report.memory_section("encode", mem)
    assert "1.2 (1.20×)" in text and peers.NOT_IMPLEMENTED in text
    first = {
        "python -c pass": {"median_s": 0.02},
        "rows": [{"key": "encode", "label": "encode", "fdjpeg warm": {"median_s": 0.8},
                  "fdjpeg empty": {"na": peers.NOT_IMPLEMENTED}, "Pillow": {"median_s": 0.2}}],
    }  # fmt: skip
    text = report.firstcall_section(first)
    assert "| encode | 0.80 | n/a (not implemented yet) | 0.20 | 4.00 | n/a |" in text


def test_missing_fdjpeg_operation_is_reported_not_raised(tmp_path, monkeypatch):
    import fdjpeg

    monkeypatch.delattr(fdjpeg, "decode", raising=False)
    monkeypatch.delitem(fdjpeg._LAZY, "decode")  # public names resolve on first use (PEP 562)
    case = cases.Case("decode", "decode/t", "t", "rgb:224",
                      {"quality": 75, "subsampling": "4:2:0", "progressive": False})  # fmt: skip
    record = worker.run_case(case, images.ImageStore(str(tmp_path)), runs=1, min_run_s=0.0)
    assert record["libs"]["fdjpeg"] == {"na": peers.NOT_IMPLEMENTED}
    assert record["libs"]["Pillow"]["median_ms"] > 0
    assert record["checks"] == {}


def test_timing_compare_and_output_check():
    result = timing.compare({"a": lambda: None, "b": lambda: sum(range(10))}, runs=3)
    assert set(result) == {"a", "b"} and all(len(t.runs_s) == 3 for t in result.values())
    x = np.zeros((8, 8), np.uint8)
    y = x.copy()
    y[0, 0] = 3
    assert peers.same_output(x, x) == "identical pixels"
    assert peers.same_output(x, y).startswith("max Δ 3")
    assert peers.same_output(b"abc", b"abc") == "identical bytes"


def test_reference_loop_round_trips_a_flat_image():
    # The baseline loop is scipy.fft's, like the authors' code; scipy comes with ".[bench]", not ".[test]".
    pytest.importorskip(
        "scipy.fft", reason="scipy not installed (pip install '.[bench]'); the NumPy/SciPy baseline needs it"
    )
    flat = np.full((2, 16, 16, 3), 120, np.uint8)
    out = fd_reference.distill_blocks(flat, np.full((8, 8), 30))
    assert out.shape == flat.shape and np.abs(out.astype(int) - 120).max() <= 1


def test_cli_rejects_unknown_section():
    with pytest.raises(SystemExit):
        bench_main.parse_args(["--only", "encode,bogus"])
    args = bench_main.parse_args(["--quick", "--only", "encode,memory"])
    assert args.sections == ["encode", "memory"] and args.quick


def test_reference_loop_test_skips_visibly_without_scipy(tmp_path):
    """Issue 11 item 1: scipy is a ".[bench]" package, so after `pip install ".[test]"` the suite must skip
    the baseline's test with a reason, not fail. A stub package that cannot be imported stands in for
    an environment without scipy."""
    import os
    import subprocess

    stub = tmp_path / "scipy"
    stub.mkdir()
    (stub / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'scipy'\", name='scipy')\n")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(root)]))
    test = f"{Path(__file__).resolve()}::test_reference_loop_round_trips_a_flat_image"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", test, "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout and "scipy not installed" in run.stdout, run.stdout


def test_threads_report_renders_ratios_and_first_calls():
    """bench.threads' Markdown: one row per operation, after ÷ before with the per-round range."""
    from bench import threads

    labels = ["before", "after", "after, workqueue"]
    data = {
        (lab, op): [0.004, 0.002] if lab == "before" else [0.001, 0.001]
        for lab in labels
        for op, _ in threads.OPERATIONS
    }
    meta = {
        "command": "python -m bench.threads",
        "environment": {"CPU": "test CPU"},
        "before": "abc1234",
        "load": "1.00 / 1.00 / 1.00",
        "seconds": 12.0,
    }
    first = {(lab, n): [2.0, 3.0] for lab in ("before", "after") for n in (512, 224)}
    text = threads.render(meta, data, data, {"before": "omp", "after": "tbb"}, first, labels)
    assert text.count("| `encode` 224×224") == 2
    assert "| 3.00 | 1.00 | 1.00 | 0.33 (0.25–0.50) |" in text, text
    assert "| 512×512 | 2.50 | 2.50 | 1" in text


def test_full_run_keeps_the_sections_of_other_bench_commands(tmp_path):
    """python -m bench rewrites RESULTS.md but keeps what bench.scaled / bench.streaming appended."""
    from bench.__main__ import KEEP_MARKER, kept_sections

    out = tmp_path / "RESULTS.md"
    assert kept_sections(str(out)) == ""
    out.write_text(f"# old run\n\n{KEEP_MARKER} -->\n\n## Streaming\n\n| a |\n", encoding="utf-8")
    kept = kept_sections(str(out))
    assert kept.startswith(f"\n{KEEP_MARKER}") and "## Streaming" in kept and "old run" not in kept


def test_batch_bench_section_formats_and_replaces_itself(tmp_path):
    from bench import batch
    from bench.__main__ import KEEP_MARKER

    us = {"fd_decode": 90, "sj_decode": 100, "fd_rq_opt": 300, "pil_rq_opt": 200, "fd_rq_std": 60, "pil_rq_std": 100}
    text = batch.section(
        [{"threads": 1, "us_per_image": us}, {"threads": 2, "us_per_image": us}], 3, (1, 2, 3), (1, 2, 3)
    )
    assert "| 1 | decode (peer: simplejpeg) | 90 | 100 | 0.90 | ≤ 1.0 (met) |" in text
    assert "| 2 | decode (peer: simplejpeg) | 90 | 100 | 0.90 | ≤ 0.6 (missed) |" in text
    path = tmp_path / "RESULTS.md"
    path.write_text(f"# head\n\n{KEEP_MARKER} -->\n\n## Other\n\nkept\n", encoding="utf-8")
    batch.write_section(text, str(path))
    batch.write_section(text.replace("| 90 |", "| 80 |"), str(path))
    out = path.read_text(encoding="utf-8")
    assert out.count(batch.TITLE) == 1 and "| 80 |" in out and "kept" in out


def test_firstcall_says_which_environment_it_measured(tmp_path):
    """The start-up figures depend on SciPy (Numba's BLAS probe imports scipy.linalg) and on whether
    bytecode is cached: the bench records both, and the targets row and breakdown say them."""
    import importlib.util
    from importlib import metadata

    target = firstcall.Target(str(tmp_path))
    env = firstcall.environment(target)
    has_scipy = importlib.util.find_spec("scipy") is not None
    assert env["scipy"] == (metadata.version("scipy") if has_scipy else None)
    assert env["numba"] == metadata.version("numba")
    assert Path(env["fdjpeg"]) == Path(__file__).resolve().parents[1] / "fdjpeg"
    assert env["bytecode_cached"] is False  # the private bytecode cache starts empty...
    assert target.run("import fdjpeg.encoder.compress").returncode == 0
    assert firstcall.environment(target)["bytecode_cached"] is True  # ...and the warm-up fills it

    for scipy, words in (("1.17.1", "SciPy 1.17.1 installed"), (None, "no SciPy")):
        env = {"python": "3.11", "numpy": "2", "numba": "0.6", "scipy": scipy, "fdjpeg": "x", "bytecode_cached": True}
        first = {"rows": [{"key": "encode", "label": "e", "fdjpeg warm": {"median_s": 0.4}}], "environment": env}
        text = report.turbo_targets_section(_meta(cores=2), [], first)
        assert f"in brackets (absolute limit; {words})" in text
        assert words in report.firstcall_section({**first, "rows": []})
    first["environment"] = {**env, "bytecode_cached": False}
    assert "no SciPy, bytecode not cached)" in report.turbo_targets_section(_meta(cores=2), [], first)
    assert "environment not recorded" in report.turbo_targets_section(_meta(cores=2), [], {"rows": []})


def test_firstcall_breakdown_table_names_numbas_parts_and_the_environment():

    part = {k: 0.010 for k in firstcall.PARTS} | {"cache loads": 0.005, "second call": 0.002, "total": 0.08}
    part |= {"garbage collection": 0.02, "gc by part": {"look-up (lazy imports)": 0.02}, "kernels": {"_k": 0.005}}
    env = {"python": "3.11", "numpy": "2", "numba": "0.6", "scipy": None, "fdjpeg": "x", "bytecode_cached": True}
    text = firstcall.breakdown_section(
        {"python -c pass": 0.01, "encode": part, "environment": env, "clock": "wall time"}
    )
    assert text.startswith("Measured in: Python 3.11, NumPy 2, Numba 0.6, no SciPy")
    assert "| look-up (lazy imports) | 10.0 (GC 20) |" in text
    assert "| exit (interpreter teardown) | 10.0 |" in text
    assert "| of which Numba's own (import, BLAS probe, target set-up, exit) | 40 |" in text
    assert "| sum (interpreter .. exit) | 90 |" in text and "`_k` 5.0" in text
