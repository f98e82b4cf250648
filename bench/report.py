"""Markdown rendering of a benchmark run (``bench/RESULTS.md``).

Pure functions over plain dicts (the JSON records the workers write), so the report can be tested without
timing anything. Every speed figure is shown with both sides: fdjpeg's median time, the peer's median time
from the same process, and the ratio fdjpeg ÷ peer (below 1: fdjpeg is faster).
"""

from __future__ import annotations

from .cases import LIBRARIES, OPERATIONS
from .images import SIZES, describe

THREADS = (("1", "1 thread"), ("all", "all cores"))
NOT_RUN = "not run in this invocation (see `--only`)"

TITLES = {
    "encode": "Encode (NumPy array → JPEG bytes)",
    "decode": "Decode (JPEG bytes → NumPy array)",
    "distill": "Distill (feature distillation as a pixel → pixel transform)",
    "requantize": "Requantize (one-pass defense on a JPEG that arrives compressed)",
}

PEER_NOTES = {
    "encode": "Peers: Pillow `Image.fromarray(a).save(BytesIO(), 'JPEG', quality=75, subsampling=…, optimize=…)`; "
    "simplejpeg `encode_jpeg(a, quality=75, colorsubsampling=…, fastdct=False)`; OpenCV "
    "`cv2.imencode('.jpg', bgr, [IMWRITE_JPEG_QUALITY, 75, IMWRITE_JPEG_SAMPLING_FACTOR, …, IMWRITE_JPEG_OPTIMIZE, …])` "
    "(BGR copy made outside the timing). fdjpeg: `fdjpeg.encode(a, quality=75, subsampling=…, optimize=…)`. "
    "Progressive rows: Pillow `progressive=True`, OpenCV `IMWRITE_JPEG_PROGRESSIVE, 1`, fdjpeg `progressive=True`.",
    "decode": "Inputs written by Pillow (q75). Peers: Pillow `np.asarray(Image.open(BytesIO(data)))`; simplejpeg "
    "`decode_jpeg(data, fastdct=False, fastupsample=False)`; OpenCV `cv2.imdecode(buf, IMREAD_COLOR_RGB)` "
    "(`IMREAD_GRAYSCALE` for gray). fdjpeg: `fdjpeg.decode(data)`.",
    "distill": "Table: the authors' released table (25 on the top-left 4×4 frequencies, 30 elsewhere) for every "
    "component, 4:4:4. fdjpeg: `fdjpeg.distill(x, table, subsampling='4:4:4')`. Peers: (a) Pillow encode with "
    "`qtables=` + decode, in memory, image by image; (b) the NumPy/SciPy per-8×8-block loop in "
    "`bench/fd_reference.py` (a baseline written for this benchmark, of the kind the authors released).",
    "requantize": "Inputs written by Pillow (q75, 4:2:0). fdjpeg: `fdjpeg.requantize(data, table)` (coefficient "
    "domain). Peer: Pillow decode + re-encode with `qtables=` (the pixel round trip it replaces).",
}


# --------------------------------------------------------------------------------------------------
# Cell formatting


def fmt_ms(ms: float) -> str:
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def fmt_ratio(r: float) -> str:
    if r >= 10:
        return f"{r:.1f}"
    if r >= 0.1:
        return f"{r:.2f}"
    return f"{r:.2g}"


def fmt_s(s: float) -> str:
    return f"{s:.2f}"


def status_text(entry: dict | None) -> str | None:
    """The text shown instead of a number for a library that did not run (None when it did)."""
    if entry is None:
        return "—"
    if "na" in entry:
        return entry["na"]
    if "error" in entry:
        return f"error: {entry['error']}".replace("|", "\\|").replace("\n", " ")
    return None


def round_ratio_range(ours: dict, peer: dict) -> tuple[float, float] | None:
    """Lowest and highest per-round ratio (runs are paired: round i timed both sides back to back)."""
    a, b = ours.get("runs_ms"), peer.get("runs_ms")
    if not a or not b or len(a) != len(b) or len(a) < 2:
        return None
    ratios = [x / y for x, y in zip(a, b)]
    return min(ratios), max(ratios)


def ratio_cells(ours: dict | None, peer: dict | None) -> tuple[str, str, str]:
    """(fdjpeg ms, peer ms, fdjpeg ÷ peer [per-round range]) for one thread configuration."""
    a = status_text(ours) or fmt_ms(ours["median_ms"])
    b = status_text(peer) or fmt_ms(peer["median_ms"])
    if status_text(ours) is not None or status_text(peer) is not None:
        return a, b, "n/a"
    r = fmt_ratio(ours["median_ms"] / peer["median_ms"])
    spread = round_ratio_range(ours, peer)
    if spread is not None:
        r += f" ({fmt_ratio(spread[0])}–{fmt_ratio(spread[1])})"
    return a, b, r


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Sections


def _index(timings: list[dict]) -> dict:
    """(case id, threads) -> record."""
    return {(t["case"]["id"], t["threads"]): t for t in timings}


def _ordered_cases(timings: list[dict], op: str) -> list[dict]:
    seen, out = set(), []
    for t in timings:
        c = t["case"]
        if c["op"] == op and c["id"] not in seen:
            seen.add(c["id"])
            out.append(c)
    return out


def speed_section(op: str, timings: list[dict], threads: tuple[str, ...] = ("1", "all")) -> str:
    """One operation's table: a row per (case, peer), both sides and the ratio for each thread column."""
    idx = _index(timings)
    header = ["case", "peer", "peer output vs fdjpeg"]
    for key, name in THREADS:
        if key in threads:
            header += [f"fdjpeg ms ({name})", f"peer ms ({name})", f"ratio ({name})"]
    rows = []
    for case in _ordered_cases(timings, op):
        for peer in LIBRARIES[op][1:]:
            check = "—"
            row_cells = []
            for key, _ in THREADS:
                if key not in threads:
                    continue
                rec = idx.get((case["id"], key))
                if rec is None:
                    row_cells += ["—", "—", "n/a"]
                    continue
                row_cells += list(ratio_cells(rec["libs"].get("fdjpeg"), rec["libs"].get(peer)))
                if check == "—":  # the output check is made once per process; show the first one found
                    check = rec.get("checks", {}).get(peer, "—")
            rows.append([case["label"], peer, check] + row_cells)
    return table(header, rows)


def _lookup(timings: list[dict], case_id: str, threads: str, peer: str):
    rec = _index(timings).get((case_id, threads))
    if rec is None:
        return None, None
    return rec["libs"].get("fdjpeg"), rec["libs"].get(peer)


def targets_section(meta: dict, timings: list[dict], memory: list[dict], firstcall: dict | None) -> str:
    """The speed targets of issue #5, each with both sides of its ratio and whether it is met."""
    ref, batch_spec = meta["reference"], meta["batch"]
    batch = describe(batch_spec)
    big = [k for k in meta.get("sizes", []) if SIZES[k][0] * SIZES[k][1] >= 6e6] or [ref]  # "6+ MP"
    specs = []
    for size in big:
        case_id = f"encode/rgb/{size}/4:2:0/standard"
        specs += [
            (f"encode 4:2:0 q75, {size}, vs Pillow, 1 thread", case_id, "1", "Pillow", 3.0),
            (f"encode 4:2:0 q75, {size}, vs Pillow, all cores", case_id, "all", "Pillow", 1.5),
        ]
    specs += [
        (
            f"decode baseline 4:2:0, {ref}, vs simplejpeg, 1 thread",
            f"decode/rgb/{ref}/4:2:0/baseline",
            "1",
            "simplejpeg",
            3.0,
        ),
        (f"distill {batch}, vs Pillow round trip, 1 thread", f"distill/{batch_spec}", "1", "Pillow round trip", 0.5),
        (f"distill {batch}, vs Pillow round trip, all cores", f"distill/{batch_spec}", "all", "Pillow round trip", 0.5),
        (
            f"distill {batch}, vs NumPy/SciPy block loop, 1 thread",
            f"distill/{batch_spec}",
            "1",
            "NumPy/SciPy block loop",
            0.01,
        ),
    ]
    rows = []
    for label, case_id, threads, peer, limit in specs:
        ours, theirs = _lookup(timings, case_id, threads, peer)
        a, b, r = ratio_cells(ours, theirs) if ours is not None else ("not run", "not run", "n/a")
        met = "n/a" if r == "n/a" else ("yes" if ours["median_ms"] / theirs["median_ms"] <= limit else "no")
        rows.append([label, a, b, r, f"≤ {limit:g}", met])
    if firstcall:
        enc = next((row for row in firstcall["rows"] if row["key"] == "encode"), None)
        for state, limit in (("warm", 1.0), ("empty", 20.0)):
            entry = enc.get(f"fdjpeg {state}") if enc else None
            pil = enc.get("Pillow") if enc else None
            ok = entry is not None and "median_s" in entry
            pil_ok = pil is not None and "median_s" in pil
            rows.append(
                [
                    f"fresh process: import + first encode 512², {state} Numba cache (absolute limit)",
                    f"{fmt_s(entry['median_s'])} s" if ok else (status_text(entry) or "not run"),
                    f"{fmt_s(pil['median_s'])} s (Pillow)" if pil_ok else (status_text(pil) or "not run"),
                    fmt_ratio(entry["median_s"] / pil["median_s"]) if ok and pil_ok else "n/a",
                    f"≤ {limit:g} s",
                    ("yes" if entry["median_s"] <= limit else "no") if ok else "n/a",
                ]
            )
    big_id = f"encode/rgb/{meta['largest']}/4:2:0/standard"
    mem = {m["lib"]: m for m in memory if m["case"]["id"] == big_id}
    if "fdjpeg" in mem:
        ours, pil = mem["fdjpeg"], mem.get("Pillow", {})
        ok, pil_ok = "peak_delta_bytes" in ours, "peak_delta_bytes" in pil
        mult = ours["peak_delta_bytes"] / ours["image_bytes"] if ok else None
        pil_mult = pil["peak_delta_bytes"] / pil["image_bytes"] if pil_ok else None
        rows.append(
            [
                f"peak RSS increase, encode {meta['largest']} 4:2:0 (multiple of the input array)",
                f"{mult:.2f}×" if ok else status_text(ours),
                f"{pil_mult:.2f}× (Pillow)" if pil_ok else (status_text(pil or None) or "—"),
                fmt_ratio(mult / pil_mult) if ok and pil_ok and pil_mult > 0 else "n/a",
                "≤ 1.5×",
                ("yes" if mult <= 1.5 else "no") if ok else "n/a",
            ]
        )
    return table(["target (issue #5)", "fdjpeg", "peer", "ratio", "limit", "met"], rows)


#: Issue #16's targets against raw libjpeg-turbo: (label, case id at the reference size, threads, limit).
TURBO_TARGETS = (
    ("encode 4:2:0 q75, {ref}, 1 thread", "encode/rgb/{ref}/4:2:0/standard", "1", 1.2),
    ("encode 4:2:0 q75, {ref}, all cores ({cores})", "encode/rgb/{ref}/4:2:0/standard", "all", 0.7),
    ("decode baseline 4:2:0 q75 (no restart markers), {ref}, 1 thread", "decode/rgb/{ref}/4:2:0/baseline", "1", 1.15),
    (
        "decode baseline 4:2:0 q75 (no restart markers), {ref}, all cores ({cores})",
        "decode/rgb/{ref}/4:2:0/baseline",
        "all",
        0.8,
    ),
)
TURBO_TITLE = "Targets vs raw libjpeg-turbo (issue #16)"
#: Issue #16's absolute limit on a fresh process: import + first 512² encode, warm Numba cache.
TURBO_FIRSTCALL_LIMIT_S = 0.5

TURBO_NOTE = (
    "Peer: simplejpeg (libjpeg-turbo with its SIMD code, no Python-side conversions), in the same process as "
    "fdjpeg: `decode_jpeg(data, fastdct=False, fastupsample=False)` (accurate islow IDCT, fancy upsampling; "
    "both honoured) and `encode_jpeg(a, quality=75, colorsubsampling='420', fastdct=False)`, which simplejpeg "
    "1.9 ignores: its encoder runs the faster ifast FDCT, so the encode rows compare against slightly less "
    "work than fdjpeg's islow. Decode inputs are written by Pillow without restart markers. *All cores* is "
    "this machine's core count ({cores}); the issue's targets are stated for two. simplejpeg is "
    "single-threaded in both columns. `python -m bench.targets` reruns just these rows (a few minutes)."
)


def startup_environment(firstcall: dict | None) -> str:
    """Which environment a start-up figure comes from, in a few words: SciPy costs Numba's BLAS probe
    about 0.1 s (bench/firstcall.py), and ``pip install fdjpeg`` does not bring it."""
    env = (firstcall or {}).get("environment")
    if not env or "error" in env:
        return "environment not recorded"
    words = f"SciPy {env['scipy']} installed" if env.get("scipy") else "no SciPy"
    return words + ("" if env.get("bytecode_cached") else ", bytecode not cached")


def _to_result(entry: dict) -> float:
    """Seconds from a fresh process's start to its result (older records: the whole process)."""
    return entry.get("to_result_s", entry["median_s"])


def startup_cell(entry: dict, unit: str = " s") -> str:
    """``0.45 s (0.70 s)``: to the result, and the whole process with its exit."""
    if "to_result_s" not in entry:
        return f"{fmt_s(entry['median_s'])}{unit}"
    return f"{fmt_s(entry['to_result_s'])}{unit} ({fmt_s(entry['median_s'])}{unit})"


def turbo_targets_section(meta: dict, timings: list[dict], firstcall: dict | None) -> str:
    """Issue #16's targets against raw libjpeg-turbo (simplejpeg), with both sides of each ratio."""
    ref = meta["reference"]
    cores = meta.get("cores", "?")
    rows = []
    for label, case_id, threads, limit in TURBO_TARGETS:
        ours, theirs = _lookup(timings, case_id.format(ref=ref), threads, "simplejpeg")
        a, b, r = ratio_cells(ours, theirs) if ours is not None else ("not run", "not run", "n/a")
        met = "n/a" if r == "n/a" else ("yes" if ours["median_ms"] / theirs["median_ms"] <= limit else "no")
        rows.append([label.format(ref=ref, cores=cores), a, b, r, f"≤ {limit:g}", met])
    enc = next((row for row in firstcall["rows"] if row["key"] == "encode"), None) if firstcall else None
    entry, pil = (enc.get("fdjpeg warm"), enc.get("Pillow")) if enc else (None, None)
    ok = entry is not None and "median_s" in entry
    pil_ok = pil is not None and "median_s" in pil
    rows.append(
        [
            "fresh process: import + first encode 512², warm Numba cache: seconds to the result, the whole "
            "process (with the interpreter's exit) in brackets (absolute limit; "
            + startup_environment(firstcall)
            + ")",
            startup_cell(entry) if ok else (status_text(entry) if enc else "not run"),
            startup_cell(pil) + " (Pillow)" if pil_ok else (status_text(pil) if enc else "not run"),
            fmt_ratio(_to_result(entry) / _to_result(pil)) if ok and pil_ok else "n/a",
            f"≤ {TURBO_FIRSTCALL_LIMIT_S:g} s",
            ("yes" if _to_result(entry) <= TURBO_FIRSTCALL_LIMIT_S else "no") if ok else "n/a",
        ]
    )
    header = ["target (issue #16)", "fdjpeg ms", "simplejpeg ms", "ratio", "limit", "met"]
    return TURBO_NOTE.format(cores=cores) + "\n\n" + table(header, rows)


def memory_section(op: str, memory: list[dict]) -> str:
    """Peak RSS increase per (case, library), in MB and as a multiple of the image array."""
    libs = LIBRARIES[op]
    rows, order = [], []
    by_case: dict[str, dict] = {}
    for m in memory:
        if m["case"]["op"] != op:
            continue
        cid = m["case"]["id"]
        if cid not in by_case:
            by_case[cid] = {"case": m["case"], "libs": {}}
            order.append(cid)
        by_case[cid]["libs"][m["lib"]] = m
    approx = False
    for cid in order:
        entry = by_case[cid]
        image_bytes = next((m["image_bytes"] for m in entry["libs"].values() if "image_bytes" in m), None)
        row = [entry["case"]["label"], f"{image_bytes / 1e6:.1f}" if image_bytes else "—"]
        for lib in libs:
            m = entry["libs"].get(lib)
            text = status_text(m)
            if text is None and "peak_delta_bytes" not in m:
                text = "—"
            if text is None:
                approx |= m.get("method") == "ru_maxrss"
                mb = m["peak_delta_bytes"] / 1e6
                text = f"{mb:.1f} ({m['peak_delta_bytes'] / m['image_bytes']:.2f}×)"
            row.append(text)
        rows.append(row)
    out = table(["case", "image array MB"] + [f"{lib} MB (× image)" for lib in libs], rows)
    if approx:
        out += "\n\n(Some figures used `ru_maxrss` because `/proc/self/clear_refs` was not writable; they may under-report.)"
    return out


def firstcall_section(firstcall: dict) -> str:
    def cell(entry):
        text = status_text(entry)
        return text if text is not None else startup_cell(entry, unit="")

    def ratio(a, b):
        if status_text(a) is None and status_text(b) is None:
            return fmt_ratio(_to_result(a) / _to_result(b))
        return "n/a"

    rows = []
    for row in firstcall["rows"]:
        warm, empty, pil = row.get("fdjpeg warm"), row.get("fdjpeg empty"), row.get("Pillow")
        rows.append([row["label"], cell(warm), cell(empty), cell(pil), ratio(warm, pil), ratio(empty, pil)])
    out = table(
        [
            "fresh `python -c` process",
            "fdjpeg s (warm cache)",
            "fdjpeg s (empty cache)",
            "Pillow s",
            "ratio (warm)",
            "ratio (empty)",
        ],
        rows,
    )
    out += (
        "\n\nEach cell: seconds from the process's start to the result, then in brackets the whole process "
        "with the interpreter's exit (for fdjpeg a few tenths of a second: the final collection walks the "
        "objects Numba made). Ratios compare the times to the result."
    )
    if firstcall.get("environment"):
        from .firstcall import environment_text

        out += f"\n\nMeasured in: {environment_text(firstcall['environment'])}."
    base = firstcall.get("python -c pass")
    if base and "median_s" in base:
        out += f"\n\nFor scale: a bare `python -c pass` takes {fmt_s(base['median_s'])} s on this machine (included in every figure)."
    return out


# --------------------------------------------------------------------------------------------------
# The document


HOW_TO_READ = """\
How to read the tables: every speed figure is a **median over runs** measured in one process, with fdjpeg and
its peer timed in interleaved rounds after an excluded warm-up call (so Numba compilation is not counted).
`ratio` = fdjpeg time ÷ peer time: **below 1 means fdjpeg is faster**. The *1 thread* columns run in a process
with `NUMBA_NUM_THREADS=1` and `cv2.setNumThreads(1)`; *all cores* uses the defaults (Pillow and simplejpeg are
single-threaded in both). Absolute times are only meaningful next to the peer's time from the same run.
In parentheses after a ratio: the lowest and highest ratio of single rounds, a measure of the noise.
"peer output vs fdjpeg" checks that both sides did the same work: *identical bytes/pixels*, or how far apart.
"n/a (not implemented yet)" marks fdjpeg operations that do not exist yet; rerun the suite when they land."""


def render(meta: dict, timings: list[dict], memory: list[dict], firstcall: dict | None) -> str:
    """The whole RESULTS.md."""
    sections = meta["sections"]
    parts = ["# fdjpeg benchmark results", ""]
    if meta.get("quick"):
        parts += [
            f"> **Quick run** (`--quick`: small sizes, {meta['runs']} runs per median) — a smoke test of the "
            "harness, not the reference results. The full run is `python -m bench`.",
            "",
        ]
    elif meta["runs"] < 5:
        parts += [f"> **Only {meta['runs']} runs per median** (`--runs`); the reference results use ≥ 5.", ""]
    parts += [f"Command: `{meta['command']}`", ""]
    parts += [
        "Threading set-up before/after, quiet and with a busy core: [THREADS.md](THREADS.md) (`python -m bench.threads`).",
        "",
    ]
    parts += [table(["", ""], [[k, v] for k, v in meta["environment"].items()]), "", HOW_TO_READ, ""]
    parts += ["## Targets (issue #5)", "", targets_section(meta, timings, memory, firstcall), ""]
    parts += [f"## {TURBO_TITLE}", "", turbo_targets_section(meta, timings, firstcall), ""]
    threads = tuple(meta.get("threads", ("1", "all")))
    for op in OPERATIONS:
        parts += [f"## {TITLES[op]}", ""]
        if op not in sections:
            parts += [NOT_RUN, ""]
            continue
        parts += [PEER_NOTES[op], "", speed_section(op, timings, threads), ""]
    parts += ["## Peak memory (RSS)", ""]
    if "memory" in sections:
        parts += [
            "Peak resident-set increase of one call, in a fresh process per (operation, library, size), all cores: "
            "the high-water mark after the call minus the resident set before it (after imports, input loaded and "
            "a warm-up call on a small image). The input is excluded; the output is included. "
            "`× image` = multiple of the uncompressed image array (H×W×C bytes, the whole batch for distill).",
            "",
        ]
        for op in OPERATIONS:
            if any(m["case"]["op"] == op for m in memory):
                parts += [f"### {op}", "", memory_section(op, memory), ""]
    else:
        parts += [NOT_RUN, ""]
    parts += ["## First call in a fresh process", ""]
    if firstcall is not None:
        parts += [
            "Each figure: median wall-clock time of fresh `python -c` processes, interpreter start-up included. "
            "*Warm cache*: `NUMBA_CACHE_DIR` filled by one excluded warm-up process; *empty cache*: a new empty "
            "`NUMBA_CACHE_DIR` for every process (full JIT compilation). Pillow has nothing to compile.",
            "",
            firstcall_section(firstcall),
            "",
        ]
    else:
        parts += [NOT_RUN, ""]
    return "\n".join(parts)
