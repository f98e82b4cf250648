"""The ``baseline-hw`` hardware profile judged on a walked file (spec/hardware-profile.md). The rules the
encoder's settings can break are in base/profile.py, which ``encode(..., profile=)`` applies before
encoding.
"""

from __future__ import annotations

from ..base import markers as M
from ..base.profile import HARDWARE_PROFILE, HW_MAX_APP_BYTES, HW_SUBSAMPLINGS
from .structure import Problem, Structure

#: Why each family of non-baseline processes is outside the profile (T.81 Table B.1 markers).
_PROCESS_REASONS = (
    (
        (M.SOF2, M.SOF6, M.SOF10, M.SOF14),
        (
            "progressive: every coefficient must be buffered until the last scan; the hardware decoders the "
            "profile targets take one sequential scan"
        ),
    ),
    (
        (M.SOF9, M.SOF10, M.SOF11, M.SOF13, M.SOF14, M.SOF15),
        "arithmetic coding: hardware decoders implement Huffman entropy coding only",
    ),
    (
        (M.SOF3, M.SOF7, M.SOF11, M.SOF15),
        "lossless: a predictive process without the DCT, which DCT-based hardware does not implement",
    ),
    ((M.SOF5, M.SOF6, M.SOF7, M.SOF13, M.SOF14, M.SOF15), "hierarchical (differential) frames"),
)


def profile_problems(s: Structure, profile: str = HARDWARE_PROFILE) -> list[Problem]:
    """Each way the file falls outside the ``baseline-hw`` profile, as errors (spec/hardware-profile.md).

    The rules: baseline process (SOF0) with 8-bit samples; 8-bit quantization tables (Pq = 0); at most
    two quantization tables and at most two Huffman tables per class (Th 0 and 1); exactly one scan
    and it carries every component (interleaved when there are three); 1 component (grayscale, id 1,
    1x1) or 3 components with ids 1, 2, 3 in 4:4:4, 4:2:2 or 4:2:0; at most ``HW_MAX_APP_BYTES``
    bytes of APPn payload; no arithmetic coding, hierarchical or lossless segments.
    """
    if profile != HARDWARE_PROFILE:
        raise ValueError(f"unknown profile {profile!r}; the only profile is {HARDWARE_PROFILE!r}")
    out: list[Problem] = []

    def bad(offset, message):
        out.append(Problem("error", int(offset or 0), f"{HARDWARE_PROFILE}: {message}", "profile"))

    if s.sof is None:
        bad(0, "no frame header")
        return out
    if s.sof != M.SOF0:
        reasons = [reason for sofs, reason in _PROCESS_REASONS if s.sof in sofs]
        bad(
            s.sof_offset,
            f"{M.marker_name(s.sof)} ({M.SOF_PROCESS.get(s.sof)}): "
            + "; ".join(reasons + ["hardware decoders take baseline SOF0 only"]),
        )
    if s.precision != 8:
        bad(
            s.sof_offset,
            f"{s.precision}-bit samples: hardware decoders (and 8-bit libjpeg builds) take 8-bit samples only",
        )
    sixteen = sorted({tq for tq, defs in s.qtables_ever.items() if any(pq for pq, _ in defs)})
    if sixteen:
        bad(s.qtables_ever[sixteen[0]][0][1], f"16-bit quantization table(s) {sixteen} (Pq=1); 8-bit (Pq=0) only")
    used_q = {c[3] for c in s.components}
    if len(s.qtables_ever) > 2 or len(used_q) > 2 or any(t > 1 for t in used_q):
        bad(s.sof_offset, f"quantization tables {sorted(set(s.qtables_ever) | used_q)}; at most two (0 and 1)")
    for tc in (0, 1):
        slots = sorted(th for (c, th) in s.htables_ever if c == tc)
        if any(th > 1 for th in slots):
            bad(
                s.htables_ever[(tc, slots[-1])][0],
                f"{'AC' if tc else 'DC'} Huffman tables {slots}; at most two (0 and 1)",
            )
    nf = len(s.components)
    if nf not in (1, 3):
        bad(s.sof_offset, f"{nf} components; 1 (grayscale) or 3 (YCbCr) only")
    ids = [c[0] for c in s.components]
    if nf == 1 and ids != [1] or nf == 3 and ids != [1, 2, 3]:
        bad(s.sof_offset, f"component ids {ids}; must be {'[1]' if nf == 1 else '[1, 2, 3]'}")
    sub = s.subsampling()
    if nf == 1 and s.components[0][1:3] != (1, 1):
        bad(s.sof_offset, f"grayscale sampling {s.components[0][1]}x{s.components[0][2]}; must be 1x1")
    if nf == 3 and sub not in HW_SUBSAMPLINGS:
        desc = sub or " ".join(f"{c[1]}x{c[2]}" for c in s.components)
        bad(s.sof_offset, f"chroma subsampling {desc}; 4:4:4, 4:2:2 or 4:2:0 only")
    if len(s.scans) != 1:
        bad(s.scans[1].offset if len(s.scans) > 1 else s.sof_offset, f"{len(s.scans)} scans; exactly one")
    elif len(s.scans[0].components) != nf:
        bad(
            s.scans[0].offset,
            f"the scan codes {len(s.scans[0].components)} of {nf} components; one interleaved scan of all",
        )
    app_bytes = sum(len(p) for _, _, p in s.app)
    if app_bytes > HW_MAX_APP_BYTES:
        bad(s.app[0][0], f"{app_bytes} bytes of APPn payload in {len(s.app)} segments; at most {HW_MAX_APP_BYTES}")
    for seg in s.segments:
        if seg.marker in (M.DAC, M.DHP, M.EXP, M.DNL):
            bad(seg.offset, f"{seg.name} segment")
    return out
