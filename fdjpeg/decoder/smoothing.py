"""Inter-block smoothing of incomplete progressive JPEGs, as libjpeg-turbo's decoder applies it
(jdcoefct.c: ``smoothing_ok`` and ``decompress_smooth_data``, libjpeg-turbo 2.1+ with the 5x5 window).

When a progressive file stops before the low-frequency AC coefficients are known to full precision
(a truncated download, a file that ends after its DC scans), libjpeg estimates the first nine AC
coefficients of each block (zigzag positions 1..9) from the DC values of the block and its 24
neighbours, and uses the estimate wherever the received coefficient is still zero. When no AC data at
all has arrived for a component, it also re-estimates the DC from its neighbourhood, with a
Gaussian-like kernel. Estimates are rounded half away from zero, in units of the coefficient's
quantizer, and capped at 2**Al - 1 in magnitude where Al bits are still missing. The estimated block
feeds the IDCT only; the stored coefficients (and so the neighbours' DC values) are left unchanged.

Which state of the progression is used: libjpeg latches ``coef_bits`` (per component, zigzag-indexed:
the Al of the last scan that carried each coefficient, -1 if none did) when output starts. Rows of
iMCUs after the one where the entropy data ran out (``last_good_iMCU_row``) use the state from before
the last scan that touched the component (``prev_coef_bits``), since the last scan did not reach them.
"""

from __future__ import annotations

import numpy as np

from ..base.fixedpoint import _wrap16, _wrap32
from ..base.jit import kernel
from .idct_islow import _idct_islow_block

#: Natural-order positions of zigzag coefficients 1..9 (libjpeg's Q01_POS ... Q30_POS).
SMOOTHED_POSITIONS = (1, 8, 16, 9, 2, 3, 10, 17, 24)


@kernel
def _estimate(num, qk, al):
    """libjpeg's rounding of an estimate ``num`` (scaled by 2**8 * Q00) to a coefficient in units of qk."""
    if num >= 0:
        pred = _wrap32(((qk << 7) + num) // (qk << 8))
        if al > 0 and pred >= (1 << al):
            pred = (1 << al) - 1
    else:
        pred = _wrap32(((qk << 7) - num) // (qk << 8))
        if al > 0 and pred >= (1 << al):
            pred = (1 << al) - 1
        pred = _wrap32(-pred)
    return _wrap16(pred)


@kernel
def _smooth_block(blk, dc, q, bits, change_dc):
    """Apply decompress_smooth_data's estimates to one block (natural order) in place.

    ``dc`` holds the 25 DC values of the 5x5 neighbourhood, row-major (dc[12] is the block's own),
    which libjpeg calls DC01..DC25; ``bits`` is the latched coef_bits (zigzag-indexed).
    """
    q00 = np.int64(q[0])
    d01, d02, d03, d04, d05 = dc[0], dc[1], dc[2], dc[3], dc[4]
    d06, d07, d08, d09, d10 = dc[5], dc[6], dc[7], dc[8], dc[9]
    d11, d12, d13, d14, d15 = dc[10], dc[11], dc[12], dc[13], dc[14]
    d16, d17, d18, d19, d20 = dc[15], dc[16], dc[17], dc[18], dc[19]
    d21, d22, d23, d24, d25 = dc[20], dc[21], dc[22], dc[23], dc[24]

    # AC01 (horizontal first harmonic)
    al = bits[1]
    if al != 0 and blk[1] == 0:
        if change_dc:
            s = (
                -d01
                - d02
                + d04
                + d05
                - 3 * d06
                + 13 * d07
                - 13 * d09
                + 3 * d10
                - 3 * d11
                + 38 * d12
                - 38 * d14
                + 3 * d15
                - 3 * d16
                + 13 * d17
                - 13 * d19
                + 3 * d20
                - d21
                - d22
                + d24
                + d25
            )
        else:
            s = -7 * d11 + 50 * d12 - 50 * d14 + 7 * d15
        blk[1] = _estimate(q00 * s, np.int64(q[1]), al)
    # AC10
    al = bits[2]
    if al != 0 and blk[8] == 0:
        if change_dc:
            s = (
                -d01
                - 3 * d02
                - 3 * d03
                - 3 * d04
                - d05
                - d06
                + 13 * d07
                + 38 * d08
                + 13 * d09
                - d10
                + d16
                - 13 * d17
                - 38 * d18
                - 13 * d19
                + d20
                + d21
                + 3 * d22
                + 3 * d23
                + 3 * d24
                + d25
            )
        else:
            s = -7 * d03 + 50 * d08 - 50 * d18 + 7 * d23
        blk[8] = _estimate(q00 * s, np.int64(q[8]), al)
    # AC20
    al = bits[3]
    if al != 0 and blk[16] == 0:
        if change_dc:
            s = d03 + 2 * d07 + 7 * d08 + 2 * d09 - 5 * d12 - 14 * d13 - 5 * d14 + 2 * d17 + 7 * d18 + 2 * d19 + d23
        else:
            s = -d03 + 13 * d08 - 24 * d13 + 13 * d18 - d23
        blk[16] = _estimate(q00 * s, np.int64(q[16]), al)
    # AC11
    al = bits[4]
    if al != 0 and blk[9] == 0:
        if change_dc:
            s = -d01 + d05 + 9 * d07 - 9 * d09 - 9 * d17 + 9 * d19 + d21 - d25
        else:
            s = d10 + d16 - 10 * d17 + 10 * d19 - d02 - d20 + d22 - d24 + d04 - d06 + 10 * d07 - 10 * d09
        blk[9] = _estimate(q00 * s, np.int64(q[9]), al)
    # AC02
    al = bits[5]
    if al != 0 and blk[2] == 0:
        if change_dc:
            s = 2 * d07 - 5 * d08 + 2 * d09 + d11 + 7 * d12 - 14 * d13 + 7 * d14 + d15 + 2 * d17 - 5 * d18 + 2 * d19
        else:
            s = -d11 + 13 * d12 - 24 * d13 + 13 * d14 - d15
        blk[2] = _estimate(q00 * s, np.int64(q[2]), al)
    if change_dc:
        # AC03, AC12, AC21, AC30: estimated only when no AC data has arrived at all.
        al = bits[6]
        if al != 0 and blk[3] == 0:
            blk[3] = _estimate(q00 * (d07 - d09 + 2 * d12 - 2 * d14 + d17 - d19), np.int64(q[3]), al)
        al = bits[7]
        if al != 0 and blk[10] == 0:
            blk[10] = _estimate(q00 * (d07 - 3 * d08 + d09 - d17 + 3 * d18 - d19), np.int64(q[10]), al)
        al = bits[8]
        if al != 0 and blk[17] == 0:
            blk[17] = _estimate(q00 * (d07 - d09 - 3 * d12 + 3 * d14 + d17 - d19), np.int64(q[17]), al)
        al = bits[9]
        if al != 0 and blk[24] == 0:
            blk[24] = _estimate(q00 * (d07 + 2 * d08 + d09 - d17 - 2 * d18 - d19), np.int64(q[24]), al)
        # The DC itself, re-estimated with a Gaussian-like kernel (never capped: bits[0] >= 0 here).
        s = (
            -2 * d01
            - 6 * d02
            - 8 * d03
            - 6 * d04
            - 2 * d05
            - 6 * d06
            + 6 * d07
            + 42 * d08
            + 6 * d09
            - 6 * d10
            - 8 * d11
            + 42 * d12
            + 152 * d13
            + 42 * d14
            - 8 * d15
            - 6 * d16
            + 6 * d17
            + 42 * d18
            + 6 * d19
            - 6 * d20
            - 2 * d21
            - 6 * d22
            - 8 * d23
            - 6 * d24
            - 2 * d25
        )
        blk[0] = _estimate(q00 * s, q00, -1)


@kernel
def _block_row_setup(coefs, r, v_samp, total_imcu_rows, nby, rows, bits_cur, bits_prev, last_good_imcu_row):
    """jdcoefct.c's per-block-row set-up of decompress_smooth_data: the five block rows whose DC values
    the smoothing reads (into ``rows``), the coefficient-bit state that applies and whether DC may change.

    libjpeg counts rows with the current iMCU row's block count, which is smaller in the last iMCU row
    when the component height is not a multiple of v_samp blocks; the neighbour tests use those numbers,
    exactly as jdcoefct.c does."""
    nby_pad = coefs.shape[0]
    imcu = r // v_samp
    block_row = r - imcu * v_samp
    if imcu < total_imcu_rows - 1:
        block_rows = v_samp
    else:
        block_rows = nby - (total_imcu_rows - 1) * v_samp
    row_no = imcu * block_rows + block_row
    row_count = block_rows * total_imcu_rows
    prev = r - 1 if row_no > 0 else r
    prev2 = r - 2 if row_no > 1 else prev
    nxt = r + 1 if row_no < row_count - 1 else r
    nxt2 = r + 2 if row_no < row_count - 2 else nxt
    rows[0] = prev2
    rows[1] = prev
    rows[2] = r
    rows[3] = nxt
    rows[4] = nxt2
    for k in range(5):
        rows[k] = min(max(rows[k], 0), nby_pad - 1)
    bits = bits_prev if imcu > last_good_imcu_row else bits_cur
    change_dc = True
    for k in range(1, 10):
        if bits[k] != -1:
            change_dc = False
    return bits, change_dc


@kernel
def _gather_block(coefs, r, bx, nbx, rows, dc, blk):
    """The 5x5 neighbourhood of DC values (edge blocks replicated) and the block's own coefficients."""
    last_col = nbx - 1
    for k in range(5):
        for m in range(5):
            col = min(max(bx - 2 + m, 0), last_col)
            dc[k * 5 + m] = coefs[rows[k], col, 0, 0]
    for i in range(8):
        for j in range(8):
            blk[i * 8 + j] = coefs[r, bx, i, j]


@kernel
def _idct_islow_plane_smoothed(
    coefs, quantval, mult, out, bits_cur, bits_prev, last_good_imcu_row, v_samp, total_imcu_rows, simd
):
    """decompress_smooth_data for one component: smooth each block, then IDCT it into ``out``.

    ``coefs`` is the MCU-padded (by, bx, 8, 8) array; ``out`` covers the component's real blocks.
    ``quantval`` is the quantization table (the estimates' units), ``mult`` the IDCT's multipliers.
    """
    nby = out.shape[0] // 8
    nbx = out.shape[1] // 8
    blk = np.empty(64, dtype=np.int64)
    dc = np.empty(25, dtype=np.int64)
    rows = np.empty(5, dtype=np.int64)
    scratch = np.empty(128, dtype=np.int64)
    for r in range(nby):
        bits, change_dc = _block_row_setup(
            coefs, r, v_samp, total_imcu_rows, nby, rows, bits_cur, bits_prev, last_good_imcu_row
        )
        for bx in range(nbx):
            _gather_block(coefs, r, bx, nbx, rows, dc, blk)
            _smooth_block(blk, dc, quantval, bits, change_dc)
            _idct_islow_block(blk, mult, out, r * 8, bx * 8, simd, scratch)


def smoothing_state(coefs):
    """libjpeg's ``smoothing_ok``: None when block smoothing does not apply, else
    (per-component current bits, per-component previous bits, last_good_iMCU_row).

    Reads ``coefs.coef_bits`` and, when the reader provides them, ``coefs.prev_coef_bits`` (libjpeg's
    second half of coef_bits: each component's bits before the most recent scan that included it;
    None for a single-scan file, latched as -1) and ``coefs.last_good_imcu_row`` (the iMCU row in which
    the entropy data of the last scan ran out; None when every scan was complete).
    """
    if not coefs.progressive or coefs.coef_bits is None:
        return None
    useful = False
    cur, prev = [], []
    prev_all = getattr(coefs, "prev_coef_bits", None)
    for ci, qt in enumerate(coefs.quant_tables):
        qf = np.asarray(qt).reshape(64)
        if any(int(qf[pos]) == 0 for pos in (0,) + SMOOTHED_POSITIONS):
            return None
        bits = np.asarray(coefs.coef_bits[ci], dtype=np.int64).reshape(-1)
        if bits[0] < 0:
            return None
        c = np.full(10, -1, dtype=np.int64)
        c[:10] = bits[:10]
        if np.any(c[1:10] != 0):
            useful = True
        p = np.full(10, -1, dtype=np.int64)
        if prev_all is not None and prev_all[ci] is not None:
            p[1:10] = np.asarray(prev_all[ci], dtype=np.int64).reshape(-1)[1:10]
        elif prev_all is None:
            p[:] = c  # no information on the previous state: every row is treated as complete
        cur.append(c)
        prev.append(p)
    if not useful:
        return None
    last_good = getattr(coefs, "last_good_imcu_row", None)
    return cur, prev, (np.iinfo(np.int64).max if last_good is None else int(last_good))
