"""Progressive Huffman encoding (T.81 Annex G, libjpeg-turbo's jcphuff.c and jcparam.c), byte-identical
to libjpeg-turbo's ``jpeg_simple_progression`` files (Pillow ``save(progressive=True)``, ``cjpeg -progressive``).

A progressive file sends the same quantized coefficients as a baseline one, split into scans by
spectral selection (a band Ss..Se of zigzag positions) and successive approximation (the high bits
first, point transform Al; refinement scans, Ah = Al + 1, add one bit each). ``simple_progression``
is libjpeg's default script. Each scan is coded twice by ``progressive_scan._code_scan``, as libjpeg does in
progressive mode: a gather pass counts its Huffman symbols (optimal tables are always built in
progressive mode, jcmaster.c), then an output pass writes the entropy-coded segment with those tables.
Both passes run the same code, so the end-of-band runs (EOBRUN) and the correction-bit buffer flush
at the same places in both. Step-by-step description: spec/progressive-encoding.md.

The kernels are progressive_scan.py's.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..base.huffman import HuffmanSpec
from ..base.layout import transmission_order
from ..base.markers import SOF2
from . import markers
from .entropy import STATUS_BAD_COEF, STATUS_NEED_SPACE, STATUS_NO_CODE
from .progressive_scan import _encode_scans, _zigzag


class Scan(NamedTuple):
    """One scan of a progression: component indices (frame order), spectral band Ss..Se in zigzag
    positions, successive-approximation bit positions Ah (high, 0 on a first scan) and Al (low)."""

    components: tuple[int, ...]
    ss: int
    se: int
    ah: int
    al: int


def simple_progression(ncomp: int, ycbcr: bool) -> list[Scan]:
    """libjpeg's ``jpeg_simple_progression`` (jcparam.c): 10 scans for YCbCr colour, otherwise 2 DC
    scans and 4 AC scans per component (6 scans for grayscale). DC scans are interleaved (at most four
    components fit one scan, T.81 B.2.3); every AC scan holds one component (G.1.1.1.1)."""
    if ncomp == 3 and ycbcr:
        return [
            Scan((0, 1, 2), 0, 0, 0, 1),  # DC first, point transform 1
            Scan((0,), 1, 5, 0, 2),  # "get some luma data out in a hurry"
            Scan((2,), 1, 63, 0, 1),  # chroma: too small to be worth many scans (Cr first)
            Scan((1,), 1, 63, 0, 1),
            Scan((0,), 6, 63, 0, 2),  # complete the luma spectral selection
            Scan((0,), 1, 63, 2, 1),  # refine the next luma bit
            Scan((0, 1, 2), 0, 0, 1, 0),  # finish DC successive approximation
            Scan((2,), 1, 63, 1, 0),
            Scan((1,), 1, 63, 1, 0),
            Scan((0,), 1, 63, 1, 0),  # luma's bottom bit last: usually the largest scan
        ]
    comps = tuple(range(ncomp))
    dc = [Scan(comps, 0, 0, 0, 1)] if ncomp <= 4 else [Scan((c,), 0, 0, 0, 1) for c in comps]
    dc_refine = [Scan(comps, 0, 0, 1, 0)] if ncomp <= 4 else [Scan((c,), 0, 0, 1, 0) for c in comps]
    return (
        dc
        + [Scan((c,), 1, 5, 0, 2) for c in comps]
        + [Scan((c,), 6, 63, 0, 2) for c in comps]
        + [Scan((c,), 1, 63, 2, 1) for c in comps]
        + dc_refine
        + [Scan((c,), 1, 63, 1, 0) for c in comps]
    )


# --------------------------------------------------------------------------------------------------
# Scan layout and file assembly


def scan_order(layout, scan: Scan, offsets, mcus_x: int, mcus_y: int):
    """(block indices into the concatenated component grids in transmission order, components in MCU,
    MCUs per row) of one scan. An interleaved scan walks the MCU grid with the dummy blocks of the
    padded grid (T.81 A.2.3); a single-component scan walks the component's own blocks in raster
    order, one block per MCU, never the padding (A.2.2)."""
    if len(scan.components) > 1:
        sampling = [layout.sampling[c] for c in scan.components]
        order = transmission_order(
            [offsets[c] for c in scan.components],
            [layout.grid(c)[1] for c in scan.components],
            sampling,
            mcus_x,
            mcus_y,
        )
        comp_in_mcu = np.repeat(np.arange(len(sampling), dtype=np.int64), [h * v for h, v in sampling])
        return order, comp_in_mcu, mcus_x
    c = scan.components[0]
    rows, cols = layout.blocks(c)
    grid_cols = layout.grid(c)[1]
    order = (
        offsets[c] + np.arange(rows, dtype=np.int64)[:, None] * grid_cols + np.arange(cols, dtype=np.int64)[None, :]
    ).reshape(-1)
    return order, np.zeros(1, np.int64), cols


def _check_status(status: int) -> None:
    if status == STATUS_BAD_COEF:
        raise ValueError(
            "coefficient out of range for 8-bit progressive JPEG (differences of DC >> Al must "
            "fit 11 bits, |AC| >> Al 10 bits)"
        )
    if status == STATUS_NO_CODE:  # cannot happen: the tables come from the same scan's counts
        raise ValueError("the Huffman table has no code for a symbol this scan needs")


@functools.lru_cache(maxsize=32)
def _scan_plan(layout, script, htbl, restart_interval, restart_rows):
    """The kernel's description of a script for one frame layout (memoized: a batch of same-sized
    images shares it): block orders of all scans concatenated with their starts, components and table
    slots per scan, and (Ss, Se, Ah, Al, restart interval) per scan. Shared between calls: nothing
    writes to these arrays."""
    sizes = [r * c for r, c in (layout.grid(i) for i in range(len(layout.sampling)))]
    offsets = np.cumsum([0] + sizes[:-1]).astype(np.int64)
    mcus_x = -(-layout.width // (8 * layout.max_h))
    mcus_y = -(-layout.height // (8 * layout.max_v))
    nscans = len(script)
    orders = []
    comp_in_mcu = np.zeros((nscans, 10), np.int64)
    bpm = np.zeros(nscans, np.int64)
    tbl = np.zeros((nscans, 4), np.int64)
    params = np.zeros((nscans, 5), np.int64)
    for s, scan in enumerate(script):
        order, cim, per_row = scan_order(layout, scan, offsets, mcus_x, mcus_y)
        orders.append(order)
        comp_in_mcu[s, : cim.shape[0]] = cim
        bpm[s] = cim.shape[0]
        tbl[s, : len(scan.components)] = [htbl[c] for c in scan.components]
        interval = min(restart_rows * per_row, 65535) if restart_rows else restart_interval
        params[s] = (scan.ss, scan.se, scan.ah, scan.al, interval)
    order_start = np.cumsum([0] + [o.shape[0] for o in orders]).astype(np.int64)
    return np.concatenate(orders), order_start, comp_in_mcu, bpm, tbl, params


def encode_scans(layout, component_ids, flat, htbl, script, *, restart_interval=0, restart_rows=0) -> list[bytes]:
    """Every scan of ``script`` as its table and restart segments (DHT, DRI) plus SOS and entropy-coded
    data, in libjpeg's order (jcmarker.c write_scan_header): for each scan component its DC table
    (first DC scans only) then its AC table (AC scans), each once per scan since progressive mode
    builds a new optimal table for every scan; DRI whenever the interval differs from the last one
    written (with ``restart_rows`` it is rows x MCUs per row of each scan, jcmaster.c per_scan_setup).

    ``flat``: (blocks, 64) int16, natural order, the component grids of ``layout`` concatenated;
    ``htbl[c]``: Huffman table slot (DC and AC) of component c. One kernel call codes every scan.
    """
    flat = np.ascontiguousarray(flat, dtype=np.int16)
    script = tuple(script)
    orders, order_start, comp_in_mcu, bpm, tbl, params = _scan_plan(
        layout, script, tuple(int(t) for t in htbl), int(restart_interval), int(restart_rows)
    )
    nscans = len(script)
    scan_end = np.zeros(nscans, np.int64)
    bits = np.zeros((nscans, 2, 17), np.int64)
    values = np.zeros((nscans, 2, 256), np.uint8)
    nvalues = np.zeros((nscans, 2), np.int64)
    # A few bytes per block are typical; when the buffer runs short it doubles and the scan that did
    # not fit is coded again (every MCU needs at most (bpm + 1) * MAX_BLOCK_BYTES + 16 bytes).
    out = np.empty(16384 + orders.shape[0] * 6, np.uint8)
    zz, masks = _zigzag(flat)
    first, pos = 0, 0
    while True:
        status, first, pos = _encode_scans(
            zz,
            masks,
            orders,
            order_start,
            comp_in_mcu,
            bpm,
            tbl,
            params,
            first,
            out,
            pos,
            scan_end,
            bits,
            values,
            nvalues,
        )
        if status != STATUS_NEED_SPACE:
            break
        grown = np.empty(2 * out.shape[0], np.uint8)
        grown[:pos] = out[:pos]
        out = grown
    _check_status(int(status))
    pieces = []
    last_interval = 0
    start = 0
    for s, scan in enumerate(script):
        segments = []
        is_dc = scan.ss == 0
        if not (is_dc and scan.ah):
            for slot in dict.fromkeys(int(t) for t in tbl[s, : len(scan.components)]):  # once each, component order
                spec = HuffmanSpec(
                    tuple(int(b) for b in bits[s, slot, 1:17]), values[s, slot, : nvalues[s, slot]].tobytes()
                )
                segments.append(markers.write_dht(not is_dc, slot, spec))
        interval = int(params[s, 4])
        if interval != last_interval:
            segments.append(markers.write_dri(interval))
            last_interval = interval
        # Unused table selectors are written as 0, as libjpeg does (jcmarker.c emit_sos).
        sos = [
            (component_ids[c], htbl[c] if is_dc and not scan.ah else 0, htbl[c] if scan.se else 0)
            for c in scan.components
        ]
        segments.append(markers.write_sos(sos, scan.ss, scan.se, scan.ah, scan.al))
        segments.append(out[start : scan_end[s]].tobytes())
        start = scan_end[s]
        pieces.append(b"".join(segments))
    return pieces


#: Huffman table slot of each component for the colour spaces where libjpeg does not give chroma
#: tables 1 (jcparam.c jpeg_set_colorspace, which jpegtran applies to the colour space it copies).
HUFFMAN_SLOTS = {"RGB": (0, 0, 0), "CMYK": (0, 0, 0, 0), "YCCK": (0, 1, 1, 0)}


def write_progressive(
    layout,
    component_ids,
    flat,
    qtables,
    tq,
    *,
    ycbcr=True,
    htbl=None,
    restart_interval=0,
    restart_rows=0,
    app_segments=(),
    com_segments=(),
    colour_segment=None,
) -> bytes:
    """Assemble a progressive file (SOF2) with libjpeg's simple progression from quantized blocks.

    Marker order is libjpeg's: SOI, APP0 JFIF (or ``colour_segment``), APPn, COM, DQT per table, SOF2,
    then per scan its DHT/DRI segments and SOS with the entropy-coded data (``encode_scans``), EOI.
    ``flat``: (blocks, 64) int16 in natural order, the MCU-padded component grids concatenated;
    ``ycbcr``: a three-component frame holds YCbCr (selects the 10-scan script); ``htbl``: Huffman
    table slot per component, default luma 0 and chroma 1 (``HUFFMAN_SLOTS`` for other colour spaces).
    """
    ncomp = len(layout.sampling)
    if htbl is None:
        htbl = [0] + [1] * (ncomp - 1)  # luma tables 0, chroma tables 1, like jpeg_set_colorspace
    script = simple_progression(ncomp, ycbcr)
    scans = encode_scans(
        layout, component_ids, flat, htbl, script, restart_interval=restart_interval, restart_rows=restart_rows
    )
    out = [markers.write_soi(), colour_segment or markers.write_jfif(), *app_segments, *com_segments]
    for t in dict.fromkeys(tq):  # each table once, in component order (jcmarker.c emit_dqt)
        out.append(markers.write_dqt(t, qtables[t]))
    out.append(
        markers.write_sof(
            SOF2, layout.width, layout.height, [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)]
        )
    )
    out.extend(scans)
    out.append(markers.write_eoi())
    return b"".join(out)
