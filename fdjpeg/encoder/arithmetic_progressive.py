"""Progressive arithmetic encoding (SOF10; T.81 Annex G.1.3 with the coder of Annex D), byte-identical to
``cjpeg -progressive -arithmetic`` and ``jpegtran -progressive -arithmetic`` (libjpeg-turbo's jcarith.c).

The scans are those of libjpeg's simple progression (progressive_encode.py ``simple_progression``);
each is coded with the QM coder and bins of arithmetic_encode.py, by one of four models (the mirror
of arithmetic_decode.py's SOF10 decoding):

* DC first scan (Ss = 0, Ah = 0): the point-transformed DC (arithmetic shift by Al) is coded as a
  sequential scan codes its DC (F.1.4.1), with the same difference contexts and conditioning (L, U);
* DC refinement (Ss = 0, Ah != 0): bit Al of each DC with the fixed 0.5 bin (G.1.3.1);
* AC first scan (Ss > 0, Ah = 0): |x| >> Al with the sign of x, coded as the sequential AC model
  codes the band Ss..Se (Figure F.5): the end-of-block decision before each coefficient from Ss up to
  the last nonzero one of the band, the low/high X2 band split at Kx as in sequential mode;
* AC refinement (Ss > 0, Ah != 0; Figure G.10): past EOBx (the previous stage's end of block) an
  end-of-block decision in SE; a coefficient that was nonzero gets its correction bit in SE + 2, a zero
  one a "still zero" (0) or "newly nonzero" (1, then the sign with the fixed bin) decision in SE + 1.

Every scan starts with fresh bins, predictions and coder (jcarith.c start_pass), and each restart
interval ends the segment and resets them again (emit_restart). libjpeg writes a DAC segment before
every scan that uses a conditioned table (jcmarker.c write_scan_header / emit_dac): the DC tables of
a DC first scan, the AC tables of an AC scan, none before a DC refinement scan, whose SOS
also writes its DC table selector as 0 (as the installed libjpeg-turbo does).
"""

from __future__ import annotations

import numpy as np

from ..base.arithmetic import AC_STAT_BINS, AC_STATS, DC_STAT_BINS, DC_STATS, FIXED_BIN, new_stats
from ..base.jit import kernel
from ..base.markers import SOF10
from . import markers
from .arithmetic import _NATURAL, _POS, _STATE_SIZE, _emit_restart, _encode, _flush, _reset, conditioning
from .progressive import _scan_plan, simple_progression


@kernel
def _magnitude(out, e, stats, s, base, k, v, ac_k, tbl, is_ac, dc_l, dc_u, ctx, ci):
    """Magnitude category and bits of v >= 1 (Figures F.8 and F.9), from the SP/SN bin ``s``.
    For a DC difference (``is_ac`` false) also updates the conditioning ``ctx[ci]`` (F.1.4.4.1.2)."""
    m = 0
    v -= 1
    if v != 0:
        _encode(out, e, stats, s, 1)
        m = 1
        v2 = v >> 1
        if is_ac:
            if v2 != 0:
                _encode(out, e, stats, s, 1)
                m <<= 1
                s = base + (189 if k <= ac_k[tbl] else 217)  # X2 of the low or high band
                v2 >>= 1
                while v2 != 0:
                    _encode(out, e, stats, s, 1)
                    m <<= 1
                    s += 1
                    v2 >>= 1
        else:
            s = base + 20  # X1
            while v2 != 0:
                _encode(out, e, stats, s, 1)
                m <<= 1
                s += 1
                v2 >>= 1
    _encode(out, e, stats, s, 0)
    if not is_ac:
        if m < ((1 << dc_l[tbl]) >> 1):
            ctx[ci] = 0
        elif m > ((1 << dc_u[tbl]) >> 1):
            ctx[ci] += 8
    s += 14
    m >>= 1
    while m != 0:
        _encode(out, e, stats, s, 1 if (m & v) != 0 else 0)
        m >>= 1


@kernel
def _encode_progressive_scan(
    flat, order, comp_in_mcu, tbl, ss, se, ah, al, dc_l, dc_u, ac_k, restart_interval, natural, stats, out
):
    """Code one scan of a progressive arithmetic file (jcarith.c encode_mcu_DC_first, encode_mcu_AC_first,
    encode_mcu_DC_refine, encode_mcu_AC_refine, with emit_restart and finish_pass).

    ``flat``: (blocks, 64) int16 in natural order; ``order``: the scan's blocks in transmission order;
    ``comp_in_mcu[i]``: the scan component of the i-th block of each MCU, ``tbl[c]`` its table (DC in
    a DC scan, AC otherwise). Returns the number of bytes the scan needs (written to ``out`` as far as
    it has room)."""
    e = np.zeros(_STATE_SIZE, dtype=np.int64)
    _reset(e, stats)
    bpm = comp_in_mcu.shape[0]
    nmcu = order.shape[0] // bpm
    last_dc = np.zeros(4, dtype=np.int64)
    ctx = np.zeros(4, dtype=np.int64)
    restarts_to_go = restart_interval
    next_restart = 0
    for mcu in range(nmcu):
        if restart_interval != 0:
            if restarts_to_go == 0:
                _emit_restart(out, e, stats, last_dc, ctx, next_restart)
                restarts_to_go = restart_interval
                next_restart = (next_restart + 1) & 7
            restarts_to_go -= 1
        for kk in range(bpm):
            b = order[mcu * bpm + kk]
            ci = comp_in_mcu[kk]
            t = tbl[ci]
            if ss == 0 and ah == 0:
                # DC first scan: the difference of the point-transformed DCs (Figure F.4).
                base = DC_STATS + t * DC_STAT_BINS
                s = base + ctx[ci]
                dc = np.int64(flat[b, 0]) >> al  # arithmetic shift (libjpeg IRIGHT_SHIFT)
                v = dc - last_dc[ci]
                if v == 0:
                    _encode(out, e, stats, s, 0)
                    ctx[ci] = 0
                    continue
                last_dc[ci] = dc
                _encode(out, e, stats, s, 1)
                if v > 0:
                    _encode(out, e, stats, s + 1, 0)
                    s += 2
                    ctx[ci] = 4
                else:
                    v = -v
                    _encode(out, e, stats, s + 1, 1)
                    s += 3
                    ctx[ci] = 8
                _magnitude(out, e, stats, s, base, 0, v, ac_k, t, False, dc_l, dc_u, ctx, ci)
            elif ss == 0:
                # DC refinement: bit Al, fixed 0.5 bin.
                _encode(out, e, stats, FIXED_BIN, (np.int64(flat[b, 0]) >> al) & 1)
            else:
                base = AC_STATS + t * AC_STAT_BINS
                ke = se  # the end of block at this stage: the last |x| >> Al != 0 (at most Se)
                while ke > 0:
                    v = np.int64(flat[b, natural[ke]])
                    if ((v if v >= 0 else -v) >> al) != 0:
                        break
                    ke -= 1
                if ah == 0:
                    # AC first scan (Figure F.5 on the band Ss..Se).
                    k = ss
                    while k <= ke:
                        s = base + 3 * (k - 1)
                        _encode(out, e, stats, s, 0)  # not the end of block
                        while True:
                            x = np.int64(flat[b, natural[k]])
                            v = (x if x >= 0 else -x) >> al
                            if v != 0:
                                _encode(out, e, stats, s + 1, 1)
                                _encode(out, e, stats, FIXED_BIN, 0 if x >= 0 else 1)
                                break
                            _encode(out, e, stats, s + 1, 0)
                            s += 3
                            k += 1
                        _magnitude(out, e, stats, s + 2, base, k, v, ac_k, t, True, dc_l, dc_u, ctx, ci)
                        k += 1
                else:
                    # AC refinement (Figure G.10). EOBx: the end of block of the previous stage (>> Ah).
                    kex = ke
                    while kex > 0:
                        v = np.int64(flat[b, natural[kex]])
                        if ((v if v >= 0 else -v) >> ah) != 0:
                            break
                        kex -= 1
                    k = ss
                    while k <= ke:
                        s = base + 3 * (k - 1)
                        if k > kex:
                            _encode(out, e, stats, s, 0)  # not the end of block
                        while True:
                            x = np.int64(flat[b, natural[k]])
                            v = (x if x >= 0 else -x) >> al
                            if v != 0:
                                if (v >> 1) != 0:  # nonzero before: its correction bit
                                    _encode(out, e, stats, s + 2, v & 1)
                                else:  # newly nonzero, then its sign
                                    _encode(out, e, stats, s + 1, 1)
                                    _encode(out, e, stats, FIXED_BIN, 0 if x >= 0 else 1)
                                break
                            _encode(out, e, stats, s + 1, 0)
                            s += 3
                            k += 1
                        k += 1
                if k <= se:
                    _encode(out, e, stats, base + 3 * (k - 1), 1)  # end of block
    _flush(out, e)
    return e[_POS]


def _dac_payload(dc_tables, ac_tables, dc_l, dc_u, ac_k) -> bytes:
    """jcmarker.c emit_dac: per table number, DC then AC, only the tables in use."""
    payload = bytearray()
    for t in range(16):
        if t in dc_tables:
            payload += bytes((t, int(dc_l[t]) | (int(dc_u[t]) << 4)))
        if t in ac_tables:
            payload += bytes((0x10 + t, int(ac_k[t])))
    return bytes(payload)


def encode_scans_arithmetic(
    layout, component_ids, flat, htbl, script, *, restart_interval=0, restart_rows=0
) -> list[bytes]:
    """Every scan of ``script`` as DAC (when the scan uses a conditioned table), DRI (when the
    interval changes), SOS and entropy-coded segment(s), in libjpeg's order (jcmarker.c
    write_scan_header). ``flat``: (blocks, 64) int16, natural order, the component grids of
    ``layout`` concatenated; ``htbl[c]``: the arithmetic table number (DC and AC) of component c."""
    flat = np.ascontiguousarray(flat, dtype=np.int16)
    script = tuple(script)
    orders, order_start, comp_in_mcu, bpm, tbl, params = _scan_plan(
        layout, script, tuple(int(t) for t in htbl), int(restart_interval), int(restart_rows)
    )
    dc_l, dc_u, ac_k, _ = conditioning(set(), set())
    pieces = []
    last_interval = 0
    capacity = 1024 + orders.shape[0] * 4
    for s, scan in enumerate(script):
        order = orders[order_start[s] : order_start[s + 1]]
        cim = np.ascontiguousarray(comp_in_mcu[s, : bpm[s]])
        ts = np.ascontiguousarray(tbl[s])
        ss, se, ah, al, interval = (int(x) for x in params[s])
        while True:
            out = np.empty(capacity, np.uint8)
            size = int(
                _encode_progressive_scan(
                    flat, order, cim, ts, ss, se, ah, al, dc_l, dc_u, ac_k, interval, _NATURAL, new_stats(), out
                )
            )
            if size <= capacity:
                break
            capacity = size
        used = {int(t) for t in tbl[s, : len(scan.components)]}
        segments = []
        dac = _dac_payload(used if ss == 0 and ah == 0 else set(), used if se else set(), dc_l, dc_u, ac_k)
        if dac:
            segments.append(markers.write_dac(dac))
        if interval != last_interval:
            segments.append(markers.write_dri(interval))
            last_interval = interval
        # Unused selectors are written as 0 (Ta in DC scans, Td in AC and DC refinement scans), as
        # libjpeg-turbo's cjpeg/jpegtran write them, the same as in Huffman progressive files.
        sos = [(component_ids[c], htbl[c] if ss == 0 and ah == 0 else 0, htbl[c] if se else 0) for c in scan.components]
        segments.append(markers.write_sos(sos, ss, se, ah, al))
        segments.append(out[:size].tobytes())
        pieces.append(b"".join(segments))
    return pieces


def write_progressive_arithmetic(
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
    """Assemble a progressive arithmetic file (SOF10) with libjpeg's simple progression: SOI, APP0 JFIF
    (or ``colour_segment``), APPn, COM, DQT per table, SOF10, then per scan DAC/DRI/SOS and its data
    (``encode_scans_arithmetic``), EOI. Arguments as progressive_encode.write_progressive."""
    ncomp = len(layout.sampling)
    if htbl is None:
        htbl = [0] + [1] * (ncomp - 1)
    script = simple_progression(ncomp, ycbcr)
    scans = encode_scans_arithmetic(
        layout, component_ids, flat, htbl, script, restart_interval=restart_interval, restart_rows=restart_rows
    )
    out = [markers.write_soi(), colour_segment or markers.write_jfif(), *app_segments, *com_segments]
    for t in dict.fromkeys(tq):
        out.append(markers.write_dqt(t, qtables[t]))
    out.append(
        markers.write_sof(
            SOF10,
            layout.width,
            layout.height,
            [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)],
        )
    )
    out.extend(scans)
    out.append(markers.write_eoi())
    return b"".join(out)
