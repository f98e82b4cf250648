"""Writing a file from quantized coefficients without changing any of them (libjpeg's jctrans.c, what
``jpegtran`` does): ``write_coefficients``, sequential (baseline or SOF1, Huffman or arithmetic) or
progressive, used by ``requantize`` and by users who edit coefficients.
"""

from __future__ import annotations

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.layout import FrameLayout
from ..base.limits import check_dimensions
from .arithmetic_progressive import write_progressive_arithmetic
from .markers import _check_arithmetic_coding, _int_arg, metadata_segments, write_adobe, write_baseline, write_com
from .progressive import HUFFMAN_SLOTS, write_progressive

_ADOBE_TRANSFORM = {"RGB": 0, "CMYK": 0, "YCCK": 2}


def _check_coefficients(coefs: JPEGCoefficients, layout) -> None:
    if coefs.precision != 8:
        raise ValueError(f"write_coefficients writes 8-bit files; these coefficients have precision {coefs.precision}")
    n = len(coefs.components)
    if n not in (1, 3, 4) or not (len(coefs.quant_tables) == len(coefs.sampling) == len(coefs.component_ids) == n):
        raise ValueError("JPEGCoefficients needs 1, 3 or 4 components, each with a table, sampling and id")
    check_dimensions(coefs.width, coefs.height, "JPEGCoefficients")
    for h, v in coefs.sampling:
        if not (1 <= h <= 4 and 1 <= v <= 4):
            raise ValueError(f"sampling factors must be 1..4, got {h}x{v}")
    if n > 1 and sum(h * v for h, v in coefs.sampling) > 10:
        raise ValueError("an interleaved MCU may hold at most 10 blocks (T.81 B.2.3)")
    for c, comp in enumerate(coefs.components):
        if not isinstance(comp, np.ndarray) or comp.dtype != np.int16:
            raise TypeError(f"components[{c}] must be an int16 array")
        want = layout.grid(c) + (8, 8)
        if comp.shape != want:
            raise ValueError(f"components[{c}] has shape {comp.shape}; this frame needs {want}")
        q = np.asarray(coefs.quant_tables[c])
        if q.shape != (8, 8) or q.min() < 1 or q.max() > 65535:
            raise ValueError(f"quant_tables[{c}] must be 8x8 with entries 1..65535")
    if len(set(coefs.component_ids)) != n or not all(0 <= i <= 255 for i in coefs.component_ids):
        raise ValueError(f"component ids must be distinct bytes, got {coefs.component_ids}")


def file_parts(coefs: JPEGCoefficients, keep_metadata: bool):
    """What every writer of ``coefs`` needs besides the entropy coder: the DQT slots, each component's
    slot, the APPn / COM / colour segments and the blocks of all components concatenated (n, 64)."""
    # One DQT slot per distinct table, in component order (at most 4 slots, T.81 B.2.4.1).
    slots: list[np.ndarray] = []
    tq = []
    for q in coefs.quant_tables:
        q = np.asarray(q, dtype=np.uint16).reshape(8, 8)
        match = next((i for i, s in enumerate(slots) if np.array_equal(s, q)), None)
        if match is None:
            slots.append(q)
            match = len(slots) - 1
        tq.append(match)
    header = coefs.header if keep_metadata else None
    apps, _ = metadata_segments(
        exif=getattr(header, "exif", None) or None, icc_profile=getattr(header, "icc_profile", None) or None
    )
    coms = [write_com(c) for c in getattr(header, "comments", ()) if c]  # every COM, in order
    colour = None
    if coefs.colorspace in _ADOBE_TRANSFORM:
        colour = write_adobe(_ADOBE_TRANSFORM[coefs.colorspace])
    flat = np.concatenate([np.asarray(c, dtype=np.int16).reshape(-1, 64) for c in coefs.components])
    return slots, tq, apps, coms, colour, flat


def write_coefficients(
    coefs: JPEGCoefficients,
    *,
    optimize: bool = False,
    restart_interval: int = 0,
    restart_rows: int = 0,
    keep_metadata: bool = True,
    progressive: bool = False,
    arithmetic: bool = False,
) -> bytes:
    """Write quantized coefficients as a JPEG without changing any coefficient.

    The frame keeps its size, sampling factors, component ids and quantization tables; the result is
    baseline (SOF0) unless a table has entries over 255 (then SOF1 with 16-bit DQT). Huffman tables are
    the T.81 K.3 ones or, with ``optimize``, optimal ones. With ``progressive`` the file is progressive (SOF2)
    with libjpeg's simple progression and optimal tables per scan, as ``jpegtran -progressive`` writes
    it (``optimize`` makes no difference then; AC coefficients of the MCU padding blocks are not sent,
    as no progressive AC scan covers them). ``arithmetic`` codes the scan with the arithmetic coder (SOF9,
    as ``jpegtran -arithmetic``; with ``progressive`` SOF10, as ``jpegtran -progressive -arithmetic``; not
    with ``optimize``). ``keep_metadata`` carries EXIF,
    ICC profile and comment over from ``coefs.header``. ``read_coefficients(write_coefficients(c)) == c``.
    """
    layout = FrameLayout(int(coefs.width), int(coefs.height), tuple((int(h), int(v)) for h, v in coefs.sampling))
    _check_coefficients(coefs, layout)
    _check_arithmetic_coding(arithmetic, optimize)
    if not isinstance(progressive, (bool, np.bool_)):
        raise TypeError(f"progressive must be a bool, got {progressive!r}")
    restart_interval = _int_arg(restart_interval, "restart_interval", 0, 65535)
    restart_rows = _int_arg(restart_rows, "restart_rows", 0, 65535)
    if restart_interval and restart_rows:
        raise ValueError("give restart_interval (in MCUs) or restart_rows (in MCU rows), not both")
    slots, tq, apps, coms, colour, flat = file_parts(coefs, keep_metadata)
    if progressive:
        writer = write_progressive_arithmetic if arithmetic else write_progressive
        return writer(
            layout,
            list(coefs.component_ids),
            flat,
            slots,
            tq,
            ycbcr=coefs.colorspace == "YCbCr",
            htbl=HUFFMAN_SLOTS.get(coefs.colorspace),
            restart_interval=restart_interval,
            restart_rows=restart_rows,
            app_segments=apps,
            com_segments=coms,
            colour_segment=colour,
        )
    blocks = flat[layout.transmission_order()]
    return write_baseline(
        layout,
        list(coefs.component_ids),
        blocks,
        slots,
        tq,
        optimize=bool(optimize),
        restart_interval=restart_interval,
        restart_rows=restart_rows,
        app_segments=apps,
        com_segments=coms,
        colour_segment=colour,
        arithmetic=bool(arithmetic),
    )
