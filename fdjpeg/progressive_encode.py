"""Progressive Huffman encoding (T.81 Annex G, libjpeg-turbo's jcphuff.c and jcparam.c), byte-identical
to libjpeg-turbo's ``jpeg_simple_progression`` files (Pillow ``save(progressive=True)``, ``cjpeg -progressive``).

A progressive file sends the same quantized coefficients as a baseline one, split into scans by
spectral selection (a band Ss..Se of zigzag positions) and successive approximation (the high bits
first, point transform Al; refinement scans, Ah = Al + 1, add one bit each). ``simple_progression``
is libjpeg's default script. Each scan is coded twice by ``_code_scan``, as libjpeg does in
progressive mode: a gather pass counts its Huffman symbols (optimal tables are always built in
progressive mode, jcmaster.c), then an output pass writes the entropy-coded segment with those tables.
Both passes run the same code, so the end-of-band runs (EOBRUN) and the correction-bit buffer flush
at the same places in both. Step-by-step description: spec/progressive-encoding.md.

Kernels report problems with status codes (never exceptions), those of ``entropy_encode``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import markers
from ._jit import kernel
from .entropy_encode import (STATUS_BAD_COEF, STATUS_NEED_SPACE, STATUS_NO_CODE, STATUS_OK, _category, _flush_bytes,
                             _pad_to_byte, transmission_order)
from .huffman import encoder_lookup, optimal_spec
from .zigzag import ZIGZAG

#: Correction bits an AC refinement scan may hold back while an EOB run grows (jcphuff.c MAX_CORR_BITS).
MAX_CORR_BITS = 1000
#: The longest EOB run libjpeg lets grow before it codes it (jcphuff.c: 0x7FFF, EOB14 is the largest symbol).
MAX_EOBRUN = 0x7FFF
#: Bytes one block can need in the worst case: a flushed EOB run with its MAX_CORR_BITS correction
#: bits, then 63 coefficients of a 16-bit code and 10 bits plus four ZRLs, every byte stuffed.
MAX_BLOCK_BYTES = 2 * ((16 + 14 + MAX_CORR_BITS + 63 * (16 + 10) + 4 * 16) // 8 + 1)

# Coder state slots (int64), shared by the helpers below.
_BUF = 0  # bit accumulator, right-aligned
_NBITS = 1  # valid bits in the accumulator
_POS = 2  # next free byte of the output
_EOBRUN = 3  # blocks in the pending EOB run (T.81 G.1.2.2)
_BE = 4  # correction bits buffered with that run (T.81 G.1.2.3, libjpeg's BE)
_STATUS = 5
_STATE_SIZE = 6


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
    return (dc + [Scan((c,), 1, 5, 0, 2) for c in comps] + [Scan((c,), 6, 63, 0, 2) for c in comps]
            + [Scan((c,), 1, 63, 2, 1) for c in comps] + dc_refine + [Scan((c,), 1, 63, 1, 0) for c in comps])


# --------------------------------------------------------------------------------------------------
# Kernels


@kernel
def _put(st, code, size, out):
    """Append the low ``size`` (<= 16) bits of ``code`` to the output, stuffing 0x00 after 0xFF (F.1.2.3)."""
    mask = (np.int64(1) << size) - 1
    buf = (np.uint64(st[_BUF]) << np.uint64(size)) | np.uint64(code & mask)
    nbits = st[_NBITS] + size
    if nbits >= 32:
        nbits, pos = _flush_bytes(buf, nbits, out, st[_POS], True)
        st[_POS] = pos
    st[_BUF] = np.int64(buf & ((np.uint64(1) << np.uint64(nbits)) - np.uint64(1)))
    st[_NBITS] = nbits


@kernel
def _symbol(st, t, sym, gather, freq, ehufco, ehufsi, out):
    """Count (gather pass) or write (output pass) Huffman symbol ``sym`` of table ``t``."""
    if gather:
        freq[t, sym] += 1
        return
    size = np.int64(ehufsi[t, sym])
    if size == 0:
        st[_STATUS] = STATUS_NO_CODE
        return
    _put(st, np.int64(ehufco[t, sym]), size, out)


@kernel
def _emit_eobrun(st, t, corr, gather, freq, ehufco, ehufsi, out):
    """Code the pending EOB run as EOBn (n = floor(log2 run)) and its n low bits, then the correction
    bits buffered with it (T.81 G.1.2.2, G.1.2.3; jcphuff.c emit_eobrun)."""
    run = st[_EOBRUN]
    if run == 0:
        return
    nb = _category(run) - 1
    _symbol(st, t, nb << 4, gather, freq, ehufco, ehufsi, out)
    if not gather:
        if nb > 0:
            _put(st, run, nb, out)
        for i in range(st[_BE]):
            _put(st, np.int64(corr[i]), 1, out)
    st[_EOBRUN] = 0
    st[_BE] = 0


@kernel
def _flush_to_byte(st, out):
    """Pad the last partial byte with 1-bits (jcphuff.c flush_bits)."""
    st[_POS] = _pad_to_byte(np.uint64(st[_BUF]), st[_NBITS], out, st[_POS])
    st[_BUF] = 0
    st[_NBITS] = 0


@kernel
def _code_scan(flat, order, comp_in_mcu, tbl, ss, se, ah, al, restart_interval, gather, freq, ehufco, ehufsi,
               out, corr, st):
    """Gather the symbol counts of one scan into ``freq[table, symbol]`` (``gather``) or write its
    entropy-coded segment, RSTn markers included, into ``out`` (T.81 G.1.2; jcphuff.c).

    ``flat`` (blocks, 64) int16 in natural order; ``order`` the blocks of the scan in transmission
    order, ``comp_in_mcu[i]`` the scan component of the i-th block of each MCU and ``tbl[c]`` its
    Huffman table (DC tables in a DC scan, AC tables otherwise). ``corr``: MAX_CORR_BITS bytes.
    Returns a status; the output length is ``st[_POS]``. STATUS_NEED_SPACE: ``out`` was too small
    for the worst case of the next MCU; the caller starts over with a larger one.
    """
    bpm = comp_in_mcu.shape[0]
    nmcu = order.shape[0] // bpm
    margin = bpm * MAX_BLOCK_BYTES + 16
    st[:] = 0
    last_dc = np.zeros(4, np.int64)
    absv = np.zeros(64, np.int64)
    sl = se - ss + 1
    restarts_to_go = restart_interval
    next_restart = 0
    t_ac = tbl[0]
    for m in range(nmcu):
        if not gather and st[_POS] + margin > out.shape[0]:
            return STATUS_NEED_SPACE
        if restart_interval > 0 and restarts_to_go == 0:
            # jcphuff.c emit_restart: end the pending run, pad, RSTn, reset the predictions / run.
            _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
            if not gather:
                _flush_to_byte(st, out)
                out[st[_POS]] = 0xFF
                out[st[_POS] + 1] = 0xD0 + next_restart
                st[_POS] += 2
            last_dc[:] = 0
            st[_EOBRUN] = 0
            st[_BE] = 0
        if ss == 0 and ah == 0:
            # DC first scan (G.1.2.1): difference of the point-transformed DCs, coded as in F.1.2.1.
            for kk in range(bpm):
                c = comp_in_mcu[kk]
                dc = np.int64(flat[order[m * bpm + kk], 0]) >> al  # arithmetic shift (libjpeg IRIGHT_SHIFT)
                diff = dc - last_dc[c]
                last_dc[c] = dc
                nb = _category(abs(diff))
                if nb > 11:
                    return STATUS_BAD_COEF
                _symbol(st, tbl[c], nb, gather, freq, ehufco, ehufsi, out)
                if nb > 0 and not gather:
                    _put(st, diff - 1 if diff < 0 else diff, nb, out)
        elif ss == 0:
            # DC refinement (G.1.2.1): bit Al of each DC, uncoded; no Huffman table.
            if not gather:
                for kk in range(bpm):
                    _put(st, (np.int64(flat[order[m * bpm + kk], 0]) >> al) & 1, 1, out)
        elif ah == 0:
            # AC first scan (G.1.2.2, Figure G.3): run/size symbols of the point-transformed band,
            # |x| >> Al (rounding towards zero); blocks that end in zeros join an EOB run.
            b = order[m]
            any_nz = False
            for k in range(sl):
                v = np.int64(flat[b, ZIGZAG[ss + k]])
                a = (v if v >= 0 else -v) >> al
                absv[k] = a if v >= 0 else -a
                if a != 0:
                    any_nz = True
            if any_nz:
                _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
            r = 0
            for k in range(sl):
                v = absv[k]
                if v == 0:
                    r += 1
                    continue
                while r > 15:
                    _symbol(st, t_ac, 0xF0, gather, freq, ehufco, ehufsi, out)
                    r -= 16
                nb = _category(abs(v))
                if nb > 10:
                    return STATUS_BAD_COEF
                _symbol(st, t_ac, (r << 4) + nb, gather, freq, ehufco, ehufsi, out)
                if not gather:
                    _put(st, v - 1 if v < 0 else v, nb, out)
                r = 0
            if r > 0:
                st[_EOBRUN] += 1
                if st[_EOBRUN] == MAX_EOBRUN:
                    _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
        else:
            # AC refinement scan (G.1.2.3, Figure G.7). Coefficients that were already nonzero get
            # one correction bit, buffered until the next symbol is coded (or the EOB run that
            # holds this block); a newly nonzero one (|x| >> Al == 1) is a run/1 symbol and a sign
            # bit. Zeros are counted only among coefficients still zero; ZRLs past the last newly
            # nonzero coefficient are folded into the EOB (jcphuff.c encode_mcu_AC_refine).
            b = order[m]
            eob = 0
            for k in range(sl):
                v = np.int64(flat[b, ZIGZAG[ss + k]])
                a = (v if v >= 0 else -v) >> al
                absv[k] = a if v >= 0 else -a
                if a == 1:
                    eob = k
            r = 0
            br_start = st[_BE]  # this block's correction bits follow those of the pending run
            br = 0
            for k in range(sl):
                v = absv[k]
                a = v if v >= 0 else -v
                if a == 0:
                    r += 1
                    continue
                while r > 15 and k <= eob:
                    _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
                    _symbol(st, t_ac, 0xF0, gather, freq, ehufco, ehufsi, out)
                    r -= 16
                    if not gather:
                        for i in range(br):
                            _put(st, np.int64(corr[br_start + i]), 1, out)
                    br_start = 0
                    br = 0
                if a > 1:
                    corr[br_start + br] = a & 1
                    br += 1
                    continue
                _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
                _symbol(st, t_ac, (r << 4) + 1, gather, freq, ehufco, ehufsi, out)
                if not gather:
                    _put(st, 1 if v > 0 else 0, 1, out)
                    for i in range(br):
                        _put(st, np.int64(corr[br_start + i]), 1, out)
                br_start = 0
                br = 0
                r = 0
            if r > 0 or br > 0:
                st[_EOBRUN] += 1
                st[_BE] += br
                # Code the run before its counter or the next block's correction bits could overflow.
                if st[_EOBRUN] == MAX_EOBRUN or st[_BE] > MAX_CORR_BITS - 64 + 1:
                    _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
        if st[_STATUS] != STATUS_OK:
            return st[_STATUS]
        if restart_interval > 0:
            if restarts_to_go == 0:
                restarts_to_go = restart_interval
                next_restart = (next_restart + 1) & 7
            restarts_to_go -= 1
    _emit_eobrun(st, t_ac, corr, gather, freq, ehufco, ehufsi, out)
    if not gather:
        _flush_to_byte(st, out)
    return st[_STATUS]


# --------------------------------------------------------------------------------------------------
# Scan layout and file assembly


def scan_order(layout, scan: Scan, offsets, mcus_x: int, mcus_y: int):
    """(block indices into the concatenated component grids in transmission order, components in MCU,
    MCUs per row) of one scan. An interleaved scan walks the MCU grid with the dummy blocks of the
    padded grid (T.81 A.2.3); a single-component scan walks the component's own blocks in raster
    order, one block per MCU, never the padding (A.2.2)."""
    if len(scan.components) > 1:
        sampling = [layout.sampling[c] for c in scan.components]
        order = transmission_order([offsets[c] for c in scan.components],
                                   [layout.grid(c)[1] for c in scan.components], sampling, mcus_x, mcus_y)
        comp_in_mcu = np.repeat(np.arange(len(sampling), dtype=np.int64), [h * v for h, v in sampling])
        return order, comp_in_mcu, mcus_x
    c = scan.components[0]
    rows, cols = layout.blocks(c)
    grid_cols = layout.grid(c)[1]
    order = (offsets[c] + np.arange(rows, dtype=np.int64)[:, None] * grid_cols
             + np.arange(cols, dtype=np.int64)[None, :]).reshape(-1)
    return order, np.zeros(1, np.int64), cols


def _check_status(status: int) -> None:
    if status == STATUS_BAD_COEF:
        raise ValueError("coefficient out of range for 8-bit progressive JPEG "
                         "(|DC difference| >> Al must fit 11 bits, |AC| >> Al 10 bits)")
    if status == STATUS_NO_CODE:  # cannot happen: the tables come from the same scan's counts
        raise ValueError("the Huffman table has no code for a symbol this scan needs")


def _run_scan(flat, order, comp_in_mcu, tbl, scan: Scan, restart_interval: int, gather: bool, freq, ehufco, ehufsi):
    corr = np.zeros(MAX_CORR_BITS, np.uint8)
    st = np.zeros(_STATE_SIZE, np.int64)
    bpm = comp_in_mcu.shape[0]
    nblocks = order.shape[0]
    # Most scans need a few bytes per block; one that runs out is redone with its worst case.
    capacity = 0 if gather else 4096 + nblocks * 24
    while True:
        out = np.empty(capacity, np.uint8)
        status = _code_scan(flat, order, comp_in_mcu, tbl, scan.ss, scan.se, scan.ah, scan.al, restart_interval,
                            gather, freq, ehufco, ehufsi, out, corr, st)
        if status != STATUS_NEED_SPACE:
            break
        capacity = 4096 + (nblocks // bpm + 1) * (bpm * MAX_BLOCK_BYTES + 16 + 4)
    _check_status(int(status))
    return out[: st[_POS]].tobytes()


def encode_scans(layout, component_ids, flat, htbl, script, *, restart_interval=0, restart_rows=0) -> list[bytes]:
    """Every scan of ``script`` as its table and restart segments (DHT, DRI) plus SOS and entropy-coded
    data, in libjpeg's order (jcmarker.c write_scan_header): for each scan component its DC table
    (first DC scans only) then its AC table (AC scans), each once per scan since progressive mode
    builds a new optimal table for every scan; DRI whenever the interval differs from the last one
    written (with ``restart_rows`` it is rows x MCUs per row of each scan, jcmaster.c per_scan_setup).

    ``flat``: (blocks, 64) int16, natural order, the component grids of ``layout`` concatenated;
    ``htbl[c]``: Huffman table slot (DC and AC) of component c.
    """
    flat = np.ascontiguousarray(flat, dtype=np.int16)
    sizes = [r * c for r, c in (layout.grid(i) for i in range(len(layout.sampling)))]
    offsets = np.cumsum([0] + sizes[:-1]).astype(np.int64)
    mcus_x = -(-layout.width // (8 * layout.max_h))
    mcus_y = -(-layout.height // (8 * layout.max_v))
    last_interval = 0
    pieces = []
    for scan in script:
        order, comp_in_mcu, per_row = scan_order(layout, scan, offsets, mcus_x, mcus_y)
        interval = min(restart_rows * per_row, 65535) if restart_rows else restart_interval
        tbl = np.array([htbl[c] for c in scan.components], np.int64)
        freq = np.zeros((2, 256), np.int64)
        ehufco = np.zeros((2, 256), np.uint32)
        ehufsi = np.zeros((2, 256), np.uint8)
        segments = []
        is_dc = scan.ss == 0
        if not (is_dc and scan.ah):  # DC refinement scans carry raw bits: no table, no gather pass
            _run_scan(flat, order, comp_in_mcu, tbl, scan, interval, True, freq, ehufco, ehufsi)
            for slot in dict.fromkeys(int(t) for t in tbl):  # each table once, in component order
                spec = optimal_spec(freq[slot])
                ehufco[slot], ehufsi[slot] = encoder_lookup(spec, is_dc=is_dc)
                segments.append(markers.write_dht(not is_dc, slot, spec))
        if interval != last_interval:
            segments.append(markers.write_dri(interval))
            last_interval = interval
        # Unused table selectors are written as 0, as libjpeg does (jcmarker.c emit_sos).
        sos = [(component_ids[c], htbl[c] if is_dc and not scan.ah else 0, htbl[c] if scan.se else 0)
               for c in scan.components]
        segments.append(markers.write_sos(sos, scan.ss, scan.se, scan.ah, scan.al))
        segments.append(_run_scan(flat, order, comp_in_mcu, tbl, scan, interval, False, freq, ehufco, ehufsi))
        pieces.append(b"".join(segments))
    return pieces


#: Huffman table slot of each component for the colour spaces where libjpeg does not give chroma
#: tables 1 (jcparam.c jpeg_set_colorspace, which jpegtran applies to the colour space it copies).
HUFFMAN_SLOTS = {"RGB": (0, 0, 0), "CMYK": (0, 0, 0, 0), "YCCK": (0, 1, 1, 0)}


def write_progressive(layout, component_ids, flat, qtables, tq, *, ycbcr=True, htbl=None, restart_interval=0,
                      restart_rows=0, app_segments=(), com_segments=(), colour_segment=None) -> bytes:
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
    scans = encode_scans(layout, component_ids, flat, htbl, script, restart_interval=restart_interval,
                         restart_rows=restart_rows)
    out = [markers.write_soi(), colour_segment or markers.write_jfif(), *app_segments, *com_segments]
    for t in dict.fromkeys(tq):  # each table once, in component order (jcmarker.c emit_dqt)
        out.append(markers.write_dqt(t, qtables[t]))
    out.append(markers.write_sof(markers.SOF2, layout.width, layout.height,
                                 [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)]))
    out.extend(scans)
    out.append(markers.write_eoi())
    return b"".join(out)
