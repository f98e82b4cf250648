"""The validator's public face: ``check(data)`` lists every structural problem of a JPEG file, sorted
by offset, with the hardware-profile verdict; ``info(data)`` describes its structure (markers, tables,
sampling, scans, metadata) as a dict, and ``format_info`` as text. Both sit behind the ``fdjpeg check``
and ``fdjpeg info`` commands (commands.py).
"""

from __future__ import annotations

from dataclasses import asdict

from ..base import markers as M
from ..base.io import load_bytes
from ..base.profile import HARDWARE_PROFILE
from ..base.zigzag import ZIGZAG
from .profile import profile_problems
from .structure import SEVERITY_ORDER, Problem
from .walker import _u16, walk


def check(data, *, profile: str | None = None) -> list[Problem]:
    """Every structural problem of a JPEG file, sorted by offset: a list of ``Problem``.

    ``data``: bytes, a path or a binary file object. With ``profile="baseline-hw"`` the file's
    departures from the hardware-safe profile are errors; without it they are one ``info`` finding
    ("fits"/"does not fit"). Never raises on malformed data (an unreadable path raises ``OSError``).
    """
    if profile is not None and profile != HARDWARE_PROFILE:
        raise ValueError(f"unknown profile {profile!r}; the only profile is {HARDWARE_PROFILE!r}")
    s = walk(data)
    problems = list(s.problems)
    if not any(p.code in ("empty", "no-soi", "internal") for p in problems):
        hw = profile_problems(s)
        if profile is not None:
            problems += hw
        elif hw:
            reasons = "; ".join(p.message.split(": ", 1)[1] for p in hw)
            problems.append(
                Problem("info", hw[0].offset, f"outside the {HARDWARE_PROFILE} hardware profile: {reasons}", "profile")
            )
        else:
            problems.append(Problem("info", 0, f"fits the {HARDWARE_PROFILE} hardware profile", "profile"))
    return sorted(problems, key=lambda p: (p.offset, SEVERITY_ORDER.get(p.severity, 3)))


def errors(problems) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _natural(zigzag_values) -> list[list[int]]:
    out = [0] * 64
    for k, v in enumerate(zigzag_values):
        out[int(ZIGZAG[k])] = int(v)
    return [out[r * 8 : r * 8 + 8] for r in range(8)]


def _app_summary(n: int, p: bytes) -> dict:
    if n == 0 and p[:5] == b"JFIF\x00" and len(p) >= 14:
        units = {0: "none (aspect ratio)", 1: "dots per inch", 2: "dots per cm"}.get(p[7], f"unit {p[7]}")
        return {
            "type": "JFIF",
            "version": f"{p[5]}.{p[6]:02d}",
            "density": [_u16(p, 8), _u16(p, 10)],
            "density_unit": units,
            "thumbnail": [p[12], p[13]],
        }
    if n == 0 and p[:4] == b"AVI1":
        return {"type": "AVI1", "polarity": p[4] if len(p) > 4 else None}
    if n == 1 and p[:6] == b"Exif\x00\x00":
        order = {b"II": "little-endian (II)", b"MM": "big-endian (MM)"}.get(p[6:8], "unknown")
        return {"type": "EXIF", "bytes": len(p) - 6, "byte_order": order}
    if n == 1 and p.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
        return {"type": "XMP", "bytes": len(p) - 29}
    if n == 2 and p[:12] == b"ICC_PROFILE\x00" and len(p) >= 14:
        return {"type": "ICC_PROFILE", "chunk": p[12], "chunks": p[13], "bytes": len(p) - 14}
    if n == 14 and p[:5] == b"Adobe" and len(p) >= 12:
        return {"type": "Adobe", "transform": p[11]}
    ident = p[: p.find(b"\x00")] if b"\x00" in p[:32] else p[:16]
    return {"type": ident.decode("latin-1", "replace"), "bytes": len(p)}


def info(data) -> dict:
    """The structure of a JPEG file as plain data (JSON-serializable): markers, frame, tables, scans,
    metadata, the hardware-profile verdict and the problems ``check`` reports."""
    raw = load_bytes(data)
    s = walk(raw)
    problems = check(raw)
    hw = [p for p in problems if p.code == "profile"]
    frame = None
    if s.sof is not None:
        frame = {
            "marker": M.marker_name(s.sof),
            "process": M.SOF_PROCESS.get(s.sof),
            "precision": s.precision,
            "width": s.width,
            "height": s.height,
            "components": [{"id": c[0], "h": c[1], "v": c[2], "tq": c[3]} for c in s.components],
            "subsampling": s.subsampling(),
        }
    icc = [a for a in s.app if a[1] == 2 and a[2][:12] == b"ICC_PROFILE\x00"]
    exif = [a for a in s.app if a[1] == 1 and a[2][:6] == b"Exif\x00\x00"]
    return {
        "size": s.size,
        "markers": [{"offset": g.offset, "marker": g.name, "length": g.length} for g in s.segments],
        "frame": frame,
        "quantization_tables": {
            str(tq): {"precision_bits": 16 if pq else 8, "offset": off, "table": _natural(vals)}
            for tq, (pq, vals, off) in sorted(s.qtables.items())
        },
        "huffman_tables": [
            {
                "class": "AC" if tc else "DC",
                "index": th,
                "offset": off,
                "codes": sum(bits),
                "counts_by_length": list(bits),
                "max_length": max((k + 1 for k, b in enumerate(bits) if b), default=0),
            }
            for (tc, th), (bits, _, off) in sorted(s.htables.items())
        ],
        "restart_interval": s.restart_interval,
        "scans": [
            {
                "offset": sc.offset,
                "components": [{"id": c, "dc_table": td, "ac_table": ta} for c, td, ta in sc.components],
                "Ss": sc.ss,
                "Se": sc.se,
                "Ah": sc.ah,
                "Al": sc.al,
                "restart_interval": sc.restart_interval,
                "mcus": sc.mcus,
                "entropy_bytes": sc.data_bytes,
                "restart_markers": len(sc.restarts),
            }
            for sc in s.scans
        ],
        "metadata": {
            "app_segments": [{"offset": off, "marker": f"APP{n}", **_app_summary(n, p)} for off, n, p in s.app],
            "comments": [p.decode("utf-8", "replace") for _, p in s.comments],
            "exif_bytes": sum(len(p) - 6 for _, _, p in exif),
            "icc_profile_bytes": sum(max(len(p) - 14, 0) for _, _, p in icc),
        },
        "trailing_bytes": s.trailing,
        "hardware_profile": {
            "name": HARDWARE_PROFILE,
            "fits": bool(hw) and hw[0].message.startswith("fits"),
            "detail": hw[0].message if hw else "not checked (unreadable file)",
        },
        "problems": [asdict(p) for p in problems],
    }


def format_info(d: dict, name: str = "") -> str:
    """``info()`` as readable text (what ``fdjpeg info`` prints)."""
    lines = [f"{name}: {d['size']} bytes" if name else f"{d['size']} bytes"]
    f = d["frame"]
    if f:
        comps = ", ".join(f"id {c['id']} {c['h']}x{c['v']} q{c['tq']}" for c in f["components"])
        lines.append(
            f"frame: {f['marker']} {f['process']}, {f['precision']}-bit, {f['width']}x{f['height']}, "
            f"{len(f['components'])} components ({comps})" + (f", {f['subsampling']}" if f["subsampling"] else "")
        )
    lines.append("markers:")
    for m in d["markers"]:
        lines.append(
            (
                f"  {m['offset']:>10}  {m['marker']:<5}" + (f" length {m['length']}" if m["length"] is not None else "")
            ).rstrip()
        )
    for tq, q in d["quantization_tables"].items():
        lines.append(f"quantization table {tq} ({q['precision_bits']}-bit, natural order):")
        lines += ["  " + " ".join(f"{v:>3}" for v in row) for row in q["table"]]
    for h in d["huffman_tables"]:
        lines.append(
            f"Huffman table {h['class']}{h['index']}: {h['codes']} codes, lengths up to {h['max_length']} "
            f"(counts {' '.join(map(str, h['counts_by_length']))})"
        )
    if d["restart_interval"]:
        lines.append(f"restart interval: {d['restart_interval']} MCUs")
    for k, sc in enumerate(d["scans"]):
        comps = ", ".join(f"{c['id']} (DC{c['dc_table']} AC{c['ac_table']})" for c in sc["components"])
        lines.append(
            f"scan {k + 1} at {sc['offset']}: components {comps}; Ss={sc['Ss']} Se={sc['Se']} Ah={sc['Ah']} "
            f"Al={sc['Al']}; {sc['mcus']} MCUs, {sc['entropy_bytes']} bytes, {sc['restart_markers']} RST markers"
        )
    md = d["metadata"]
    for a in md["app_segments"]:
        extra = ", ".join(f"{k}={v}" for k, v in a.items() if k not in ("offset", "marker", "type"))
        lines.append(f"{a['marker']} {a['type']}" + (f": {extra}" if extra else ""))
    for c in md["comments"]:
        lines.append(f"comment: {c[:200]!r}")
    lines.append(f"hardware profile: {d['hardware_profile']['detail']}")
    for p in d["problems"]:
        if p["code"] != "profile":
            lines.append(f"{p['offset']}: {p['severity']}: {p['message']}")
    return "\n".join(lines)
