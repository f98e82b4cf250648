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

import functools
from typing import NamedTuple

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from . import markers
from ._jit import kernel
from .entropy_encode import (STATUS_BAD_COEF, STATUS_NEED_SPACE, STATUS_NO_CODE, STATUS_OK, _category, _flush_bytes,
                             _pad_to_byte, transmission_order)
from .huffman import HuffmanSpec, _gen_optimal_table
from .zigzag import ZIGZAG

#: Correction bits an AC refinement scan may hold back while an EOB run grows (jcphuff.c MAX_CORR_BITS).
MAX_CORR_BITS = 1000
#: The longest EOB run libjpeg lets grow before it codes it (jcphuff.c: 0x7FFF, EOB14 is the largest symbol).
MAX_EOBRUN = 0x7FFF
#: Bytes one block can need in the worst case: a flushed EOB run with its MAX_CORR_BITS correction
#: bits, then 63 coefficients of a 16-bit code and 10 bits plus four ZRLs, every byte stuffed.
MAX_BLOCK_BYTES = 2 * ((16 + 14 + MAX_CORR_BITS + 63 * (16 + 10) + 4 * 16) // 8 + 1)


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
# Kernels. The bit writer's state (accumulator, bit count, output position) lives in local scalars of
# ``_code_scan``: helpers that take arrays are called only for rare events (a coded EOB run, a
# restart), since each such call costs Numba reference counting on every array argument.


@kernel
def _acc(buf, nbits, code, size):
    """Append the low ``size`` (<= 16) bits of ``code`` to the right-aligned accumulator."""
    return (buf << np.uint64(size)) | np.uint64(code & ((np.int64(1) << size) - 1)), nbits + size


@kernel
def _emit_eobrun(buf, nbits, pos, run, be, t, corr, gather, freq, ehufco, ehufsi, out):
    """Code a pending EOB run as EOBn (n = floor(log2 run)) and its n low bits, then the ``be``
    correction bits buffered with it (T.81 G.1.2.2, G.1.2.3; jcphuff.c emit_eobrun).
    Returns (buf, nbits, pos, status)."""
    nb = _category(run) - 1
    sym = nb << 4
    if gather:
        freq[t, sym] += 1
        return buf, nbits, pos, STATUS_OK
    size = np.int64(ehufsi[t, sym])
    if size == 0:
        return buf, nbits, pos, STATUS_NO_CODE
    buf, nbits = _acc(buf, nbits, np.int64(ehufco[t, sym]), size)
    buf, nbits = _acc(buf, nbits, run, nb)
    nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
    for i in range(be):
        buf, nbits = _acc(buf, nbits, np.int64(corr[i]), 1)
        if nbits >= 32:
            nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
    return buf, nbits, pos, STATUS_OK


@kernel
def _code_scan(zz, masks, order, comp_in_mcu, tbl, ss, se, ah, al, restart_interval, gather, freq, ehufco, ehufsi,
               out, corr, result):
    """Gather the symbol counts of one scan into ``freq[table, symbol]`` (``gather``) or write its
    entropy-coded segment, RSTn markers included, into ``out`` (T.81 G.1.2; jcphuff.c).

    ``zz`` (blocks, 64) int16 in zigzag order and ``masks`` their nonzero positions (``_zigzag``);
    ``order`` the blocks of the scan in transmission
    order, ``comp_in_mcu[i]`` the scan component of the i-th block of each MCU and ``tbl[c]`` its
    Huffman table (DC tables in a DC scan, AC tables otherwise). ``corr``: MAX_CORR_BITS bytes.
    Returns a status and sets ``result[0]`` to the output length. STATUS_NEED_SPACE: ``out`` was too
    small for the worst case of the next MCU; the caller starts over with a larger one.

    Bits collect right-aligned in a 64-bit accumulator, flushed (with 0xFF stuffing, F.1.2.3) once it
    holds 32 bits or more, so that one more code of at most 16 bits always fits.
    """
    bpm = comp_in_mcu.shape[0]
    nmcu = order.shape[0] // bpm
    margin = (bpm + 1) * MAX_BLOCK_BYTES + 16  # this MCU, a restart and the final flush of an EOB run
    one = np.uint64(1)
    buf = np.uint64(0)
    nbits = 0
    pos = 0
    eobrun = 0  # blocks in the pending EOB run (G.1.2.2)
    be = 0  # correction bits buffered with that run (G.1.2.3, libjpeg's BE)
    last_dc = np.zeros(4, np.int64)
    absv = np.zeros(64, np.int64)
    sl = se - ss + 1
    band = (one << np.uint64(sl)) - one if sl < 64 else ~np.uint64(0)
    restarts_to_go = restart_interval
    next_restart = 0
    t = tbl[0]  # the AC table (AC scans hold one component)
    for m in range(nmcu):
        if not gather and pos + margin > out.shape[0]:
            return STATUS_NEED_SPACE
        if restart_interval > 0 and restarts_to_go == 0:
            # jcphuff.c emit_restart: code the pending run, pad, RSTn, reset the predictions and run.
            if eobrun > 0:
                buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco,
                                                       ehufsi, out)
                if status != STATUS_OK:
                    return status
            if not gather:
                pos = _pad_to_byte(buf, nbits, out, pos)
                buf = np.uint64(0)
                nbits = 0
                out[pos] = 0xFF
                out[pos + 1] = 0xD0 + next_restart
                pos += 2
            last_dc[:] = 0
            eobrun = 0
            be = 0
        if ss == 0 and ah == 0:
            # DC first scan (G.1.2.1): difference of the point-transformed DCs, coded as in F.1.2.1.
            for kk in range(bpm):
                c = comp_in_mcu[kk]
                dc = np.int64(zz[order[m * bpm + kk], 0]) >> al  # arithmetic shift (libjpeg IRIGHT_SHIFT)
                diff = dc - last_dc[c]
                last_dc[c] = dc
                nb = _category(abs(diff))
                if nb > 11:
                    return STATUS_BAD_COEF
                if gather:
                    freq[tbl[c], nb] += 1
                    continue
                size = np.int64(ehufsi[tbl[c], nb])
                if size == 0:
                    return STATUS_NO_CODE
                buf, nbits = _acc(buf, nbits, np.int64(ehufco[tbl[c], nb]), size)
                buf, nbits = _acc(buf, nbits, diff - 1 if diff < 0 else diff, nb)
                if nbits >= 32:
                    nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
        elif ss == 0:
            # DC refinement (G.1.2.1): bit Al of each DC, uncoded; no Huffman table.
            if not gather:
                for kk in range(bpm):
                    buf, nbits = _acc(buf, nbits, (np.int64(zz[order[m * bpm + kk], 0]) >> al) & 1, 1)
                    if nbits >= 32:
                        nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
        elif ah == 0:
            # AC first scan (G.1.2.2, Figure G.3): run/size symbols of the point-transformed band,
            # sign(x) * (|x| >> Al); blocks that end in zeros join an EOB run. A 64-bit map of the
            # nonzero positions lets the coder visit only those (as jcphuff.c does).
            b = order[m]
            nz = np.uint64(0)
            cand = (masks[b] >> np.uint64(ss)) & band  # nonzero before the point transform
            while cand != 0:
                k = np.int64(trailing_zeros(cand))
                cand &= cand - one
                v = np.int64(zz[b, ss + k])
                a = (v if v > 0 else -v) >> al
                if a != 0:
                    absv[k] = a if v > 0 else -a
                    nz |= one << np.uint64(k)
            if nz != 0 and eobrun > 0:
                buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco,
                                                       ehufsi, out)
                if status != STATUS_OK:
                    return status
                eobrun = 0
                be = 0
            last = -1
            while nz != 0:
                k = np.int64(trailing_zeros(nz))
                nz &= nz - one
                r = k - last - 1
                last = k
                v = absv[k]
                nb = _category(v if v > 0 else -v)
                if nb > 10:
                    return STATUS_BAD_COEF
                if gather:
                    freq[t, 0xF0] += r >> 4
                    freq[t, ((r & 15) << 4) + nb] += 1
                    continue
                while r > 15:  # ZRL: sixteen zeros
                    size = np.int64(ehufsi[t, 0xF0])
                    if size == 0:
                        return STATUS_NO_CODE
                    buf, nbits = _acc(buf, nbits, np.int64(ehufco[t, 0xF0]), size)
                    if nbits >= 32:
                        nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
                    r -= 16
                sym = (r << 4) + nb
                size = np.int64(ehufsi[t, sym])
                if size == 0:
                    return STATUS_NO_CODE
                buf, nbits = _acc(buf, nbits, np.int64(ehufco[t, sym]), size)
                buf, nbits = _acc(buf, nbits, v - 1 if v < 0 else v, nb)
                if nbits >= 32:
                    nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
            if last < sl - 1:
                eobrun += 1
                if eobrun == MAX_EOBRUN:
                    buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq,
                                                           ehufco, ehufsi, out)
                    if status != STATUS_OK:
                        return status
                    eobrun = 0
                    be = 0
        else:
            # AC refinement scan (G.1.2.3, Figure G.7). Coefficients that were already nonzero get
            # one correction bit, buffered until the next symbol is coded (or the EOB run that
            # holds this block); a newly nonzero one (|x| >> Al == 1) is a run/1 symbol and a sign
            # bit. Zeros are counted only among coefficients still zero; ZRLs past the last newly
            # nonzero coefficient are folded into the EOB (jcphuff.c encode_mcu_AC_refine).
            b = order[m]
            eob = 0
            nz = np.uint64(0)
            cand = (masks[b] >> np.uint64(ss)) & band
            while cand != 0:
                k = np.int64(trailing_zeros(cand))
                cand &= cand - one
                v = np.int64(zz[b, ss + k])
                a = (v if v > 0 else -v) >> al
                if a != 0:
                    absv[k] = a if v > 0 else -a
                    nz |= one << np.uint64(k)
                    if a == 1:
                        eob = k
            r = 0
            prev = -1
            br_start = be  # this block's correction bits follow those of the pending run
            br = 0
            while nz != 0:
                k = np.int64(trailing_zeros(nz))
                nz &= nz - one
                r += k - prev - 1
                prev = k
                v = absv[k]
                a = v if v > 0 else -v
                # r > 15 only before the last newly nonzero coefficient or on an already nonzero one.
                if r > 15 and k <= eob or a == 1:
                    if eobrun > 0:  # the pending run and its correction bits go first
                        buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq,
                                                               ehufco, ehufsi, out)
                        if status != STATUS_OK:
                            return status
                        eobrun = 0
                        be = 0
                    while r > 15 and k <= eob:  # ZRLs, each followed by the bits buffered so far
                        if gather:
                            freq[t, 0xF0] += 1
                        else:
                            size = np.int64(ehufsi[t, 0xF0])
                            if size == 0:
                                return STATUS_NO_CODE
                            buf, nbits = _acc(buf, nbits, np.int64(ehufco[t, 0xF0]), size)
                            for i in range(br):
                                if nbits >= 32:
                                    nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
                                buf, nbits = _acc(buf, nbits, np.int64(corr[br_start + i]), 1)
                            if nbits >= 32:
                                nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
                        r -= 16
                        br_start = 0
                        br = 0
                if a > 1:
                    corr[br_start + br] = a & 1
                    br += 1
                    continue
                sym = (r << 4) + 1
                if gather:
                    freq[t, sym] += 1
                else:
                    size = np.int64(ehufsi[t, sym])
                    if size == 0:
                        return STATUS_NO_CODE
                    buf, nbits = _acc(buf, nbits, np.int64(ehufco[t, sym]), size)
                    buf, nbits = _acc(buf, nbits, 1 if v > 0 else 0, 1)
                    for i in range(br):
                        if nbits >= 32:
                            nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
                        buf, nbits = _acc(buf, nbits, np.int64(corr[br_start + i]), 1)
                    if nbits >= 32:
                        nbits, pos = _flush_bytes(buf, nbits, out, pos, True)
                br_start = 0
                br = 0
                r = 0
            if r > 0 or prev < sl - 1 or br > 0:
                eobrun += 1
                be += br
                # Code the run before its counter or the next block's correction bits could overflow.
                if eobrun == MAX_EOBRUN or be > MAX_CORR_BITS - 64 + 1:
                    buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq,
                                                           ehufco, ehufsi, out)
                    if status != STATUS_OK:
                        return status
                    eobrun = 0
                    be = 0
        if restart_interval > 0:
            if restarts_to_go == 0:
                restarts_to_go = restart_interval
                next_restart = (next_restart + 1) & 7
            restarts_to_go -= 1
    if eobrun > 0:
        buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi,
                                               out)
        if status != STATUS_OK:
            return status
    if not gather:
        pos = _pad_to_byte(buf, nbits, out, pos)
    result[0] = pos
    return STATUS_OK


@kernel
def _huffman_codes(bits, values, nvalues, ehufco, ehufsi):
    """Code and length of each symbol of an optimal table (T.81 Annex C, Figures C.1-C.3: canonical
    codes, consecutive within a length, shifted left by one between lengths)."""
    ehufco[:] = 0
    ehufsi[:] = 0
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(bits[length]):
            if k < nvalues:
                ehufco[values[k]] = code
                ehufsi[values[k]] = length
            code += 1
            k += 1
        code <<= 1


@kernel
def _zigzag(flat):
    """Blocks (n, 64) in natural order -> (the same in zigzag order, 64-bit maps of their nonzero
    zigzag positions): read once, so that each scan visits only the nonzero coefficients of its band."""
    n = flat.shape[0]
    zz = np.empty((n, 64), np.int16)
    masks = np.zeros(n, np.uint64)
    for b in range(n):
        mask = np.uint64(0)
        for k in range(64):
            v = flat[b, ZIGZAG[k]]
            zz[b, k] = v
            if v != 0:
                mask |= np.uint64(1) << np.uint64(k)
        masks[b] = mask
    return zz, masks


@kernel
def _encode_scans(zz, masks, orders, order_start, comp_in_mcu, bpm, tbl, params, first, out, pos, scan_end, bits_out,
                  values_out, nvalues_out):
    """Code scans ``first``.. of a script into ``out[pos:]``: for each, a gather pass, optimal tables
    (``_gen_optimal_table``, T.81 K.2) for the slots it uses, then the output pass.

    Scan s: blocks ``orders[order_start[s]:order_start[s + 1]]``, ``bpm[s]`` blocks per MCU whose scan
    components are ``comp_in_mcu[s, :bpm[s]]``, table slot ``tbl[s, i]`` of scan component i, and
    ``params[s]`` = (Ss, Se, Ah, Al, restart interval). Returns (status, scan, pos): on
    STATUS_NEED_SPACE, ``scan`` is the one to start again from ``pos`` with a larger ``out``.
    ``scan_end[s]``: where its data ends in ``out``; ``bits_out``/``values_out``/``nvalues_out``
    [s, slot]: its tables as DHT carries them (bits[1..16]).
    """
    corr = np.zeros(MAX_CORR_BITS, np.uint8)
    result = np.zeros(1, np.int64)
    freq = np.zeros((2, 256), np.int64)
    ehufco = np.zeros((2, 256), np.uint32)
    ehufsi = np.zeros((2, 256), np.uint8)
    for s in range(first, order_start.shape[0] - 1):
        order = orders[order_start[s] : order_start[s + 1]]
        cim = comp_in_mcu[s, : bpm[s]]
        ss, se, ah, al, interval = params[s, 0], params[s, 1], params[s, 2], params[s, 3], params[s, 4]
        if not (ss == 0 and ah != 0):  # DC refinement scans carry raw bits: no table, no gather pass
            freq[:] = 0
            status = _code_scan(zz, masks, order, cim, tbl[s], ss, se, ah, al, interval, True, freq, ehufco, ehufsi,
                                out, corr, result)
            if status != STATUS_OK:
                return status, s, pos
            for slot in range(2):
                used = False
                for i in range(cim.shape[0]):
                    if tbl[s, cim[i]] == slot:
                        used = True
                if used:
                    bits, values, n = _gen_optimal_table(freq[slot])
                    bits_out[s, slot, :] = bits
                    values_out[s, slot, :] = values
                    nvalues_out[s, slot] = n
                    _huffman_codes(bits, values, n, ehufco[slot], ehufsi[slot])
        status = _code_scan(zz, masks, order, cim, tbl[s], ss, se, ah, al, interval, False, freq, ehufco, ehufsi,
                            out[pos:], corr, result)
        if status != STATUS_OK:
            return status, s, pos
        pos += result[0]
        scan_end[s] = pos
    return STATUS_OK, order_start.shape[0] - 1, pos


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
        raise ValueError("coefficient out of range for 8-bit progressive JPEG (differences of DC >> Al must "
                         "fit 11 bits, |AC| >> Al 10 bits)")
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
    orders, order_start, comp_in_mcu, bpm, tbl, params = _scan_plan(layout, script, tuple(int(t) for t in htbl),
                                                                    int(restart_interval), int(restart_rows))
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
        status, first, pos = _encode_scans(zz, masks, orders, order_start, comp_in_mcu, bpm, tbl, params, first, out, pos,
                                           scan_end, bits, values, nvalues)
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
                spec = HuffmanSpec(tuple(int(b) for b in bits[s, slot, 1:17]),
                                   values[s, slot, : nvalues[s, slot]].tobytes())
                segments.append(markers.write_dht(not is_dc, slot, spec))
        interval = int(params[s, 4])
        if interval != last_interval:
            segments.append(markers.write_dri(interval))
            last_interval = interval
        # Unused table selectors are written as 0, as libjpeg does (jcmarker.c emit_sos).
        sos = [(component_ids[c], htbl[c] if is_dc and not scan.ah else 0, htbl[c] if scan.se else 0)
               for c in scan.components]
        segments.append(markers.write_sos(sos, scan.ss, scan.se, scan.ah, scan.al))
        segments.append(out[start : scan_end[s]].tobytes())
        start = scan_end[s]
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
