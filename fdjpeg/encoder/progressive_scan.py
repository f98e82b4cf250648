"""The kernels of progressive Huffman encoding (T.81 G.1.2, libjpeg-turbo's jcphuff.c): one scan coded
by ``_code_scan`` in a gather pass (symbol counts for the optimal tables) and an output pass, and
``_encode_scans``, which runs every scan of a file in one call. progressive.py plans the scans and
assembles the file. Kernels report problems with status codes (never exceptions), those of entropy.py.
"""

from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from ..base.huffman import _gen_optimal_table
from ..base.jit import kernel
from ..base.zigzag import ZIGZAG
from .entropy import (
    STATUS_BAD_COEF,
    STATUS_NEED_SPACE,
    STATUS_NO_CODE,
    STATUS_OK,
    _category,
    _flush_bytes,
    _pad_to_byte,
)

#: Correction bits an AC refinement scan may hold back while an EOB run grows (jcphuff.c MAX_CORR_BITS).
MAX_CORR_BITS = 1000
#: The longest EOB run libjpeg lets grow before it codes it (jcphuff.c: 0x7FFF, EOB14 is the largest symbol).
MAX_EOBRUN = 0x7FFF
#: Bytes one block can need in the worst case: a flushed EOB run with its MAX_CORR_BITS correction
#: bits, then 63 coefficients of a 16-bit code and 10 bits plus four ZRLs, every byte stuffed.
MAX_BLOCK_BYTES = 2 * ((16 + 14 + MAX_CORR_BITS + 63 * (16 + 10) + 4 * 16) // 8 + 1)


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
def _code_scan(
    zz,
    masks,
    order,
    comp_in_mcu,
    tbl,
    ss,
    se,
    ah,
    al,
    restart_interval,
    gather,
    freq,
    ehufco,
    ehufsi,
    out,
    corr,
    result,
):
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
                buf, nbits, pos, status = _emit_eobrun(
                    buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out
                )
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
                buf, nbits, pos, status = _emit_eobrun(
                    buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out
                )
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
                    buf, nbits, pos, status = _emit_eobrun(
                        buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out
                    )
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
                        buf, nbits, pos, status = _emit_eobrun(
                            buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out
                        )
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
                    buf, nbits, pos, status = _emit_eobrun(
                        buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out
                    )
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
        buf, nbits, pos, status = _emit_eobrun(buf, nbits, pos, eobrun, be, t, corr, gather, freq, ehufco, ehufsi, out)
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
def _encode_scans(
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
    bits_out,
    values_out,
    nvalues_out,
):
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
            status = _code_scan(
                zz, masks, order, cim, tbl[s], ss, se, ah, al, interval, True, freq, ehufco, ehufsi, out, corr, result
            )
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
        status = _code_scan(
            zz,
            masks,
            order,
            cim,
            tbl[s],
            ss,
            se,
            ah,
            al,
            interval,
            False,
            freq,
            ehufco,
            ehufsi,
            out[pos:],
            corr,
            result,
        )
        if status != STATUS_OK:
            return status, s, pos
        pos += result[0]
        scan_end[s] = pos
    return STATUS_OK, order_start.shape[0] - 1, pos
