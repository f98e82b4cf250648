"""Kernels of the default encode (banded.py): the front end and the Huffman coder fused per cache-sized
band of iMCU rows, and the same on several threads, one contiguous range of iMCU rows per task.

A range is coded band by band through one small coefficient buffer (``band_strips`` iMCU rows), so
the quantized coefficients are written by the front end and read by the coder while still in the
core's cache; they never exist for the whole image. The coder's state (``entropy._encode_range``'s
slots) carries the DC predictors and the pending bits from band to band. A range that does not start
at the top first runs the front end of the last MCU of the iMCU row above it: its DCs are the
predictors a sequential pass would have there (jchuff.c keeps last_dc_val per component).
"""

from __future__ import annotations

import numpy as np

from ..base.bytes64 import load_be64  # (made here: the encoder imports Numba for its intrinsics anyway)
from ..base.jit import boundary, kernel, parallel_kernel, prange
from .entropy import (
    _HIGHS64,
    _ONES64,
    S_BITS,
    S_BUF,
    S_NEXT,
    S_PRED,
    STATE_SIZE,
    STATUS_NEED_SPACE,
    STATUS_OK,
    _encode_range,
    _flush_bytes,
    _stuff64,
)
from .huff_vec import store_be64
from .prepare import _prepare_strips

#: The front end's serial twin (never a nested parallel region), called per band through a boundary:
#: compiled once, not again inside each fused kernel (and in ``_code_ranges`` twice, its body and itself).
#: The pixels are typed read-only: a writable array converts to that, not the other way.
_prepare_serial = boundary(
    _prepare_strips.serial,
    "void(Array(uint8, 3, 'C', readonly=True), int64, int64, int64[:, ::1], int64[:, :, ::1], int64, int64, int64, int64, int64,"
    " int16[:, ::1])",
)

# Compile time: a literal argument in a call from one kernel to another (``f(x, 0)``, ``f(x, False)``, or a
# variable first assigned a literal and changed later) makes Numba compile the callee for that literal
# type, apart from the int64 / bool signature that Python callers get: a second copy of the whole
# callee (the front end, the Huffman coder) on a cold cache. The calls below therefore pass np.int64(...)
# and non-literal bools.

# Rows of ``_code_ranges``'s per-range results.
R_STATUS, R_LENGTH, R_BUF, R_BITS = range(4)


@kernel
def _front_band(pixels, height, width, geom, divisors, mcus_x, bpm, max_v, padded_width, s, nstrips, buf):
    """Quantized blocks of iMCU rows s .. s+nstrips-1 into ``buf[: nstrips * mcus_x * bpm]`` (MCU order):
    ``_prepare_strips`` on the rows of the band, with each component's block rows counted from the
    band's first. Its edge rule only looks inside the band except at the image's bottom, which the last
    band holds."""
    strip_rows = 8 * max_v
    g = geom.copy()
    for c in range(g.shape[0]):
        g[c, 3] = min(geom[c, 3] - s * geom[c, 1], nstrips * geom[c, 1])
    r0 = s * strip_rows
    nrows = min(height - r0, nstrips * strip_rows)
    _prepare_serial(
        pixels[r0 : r0 + nrows],
        nrows,
        width,
        g,
        divisors,
        mcus_x,
        nstrips,
        bpm,
        max_v,
        padded_width,
        buf[: nstrips * mcus_x * bpm],
    )


@kernel
def _last_mcu(pixels, height, width, geom, divisors, mcus_x, bpm, max_v, s, buf):
    """Quantized blocks of the last MCU of iMCU row s into ``buf[:bpm]``: ``_prepare_strips`` on that MCU's
    columns alone. Nothing there reaches across an MCU's left edge (no smoothing; the downsampling
    boxes and the alternating bias restart at every MCU, whose width is a multiple of 8 output samples),
    and the right edge is replicated from the image's last column as in the whole row."""
    mcu_cols = 8 * geom[0, 0] * geom[0, 4]  # h * h_expand is the same for every component
    x0 = (mcus_x - 1) * mcu_cols
    r0 = s * 8 * max_v
    nrows = min(height - r0, 8 * max_v)
    nch = pixels.shape[2]
    sub = np.empty((nrows, width - x0, nch), np.uint8)
    for y in range(nrows):
        for x in range(width - x0):
            for ch in range(nch):
                sub[y, x, ch] = pixels[r0 + y, x0 + x, ch]
    g = geom.copy()
    padded = np.int64(0)
    for c in range(g.shape[0]):
        g[c, 2] = geom[c, 2] - (mcus_x - 1) * geom[c, 0]
        g[c, 3] = min(geom[c, 3] - s * geom[c, 1], geom[c, 1])
        padded = max(padded, g[c, 2] * 8 * g[c, 4])
    one = np.int64(1)  # not the literal 1 (see the note on literals above)
    _prepare_serial(sub, nrows, width - x0, g, divisors, one, one, bpm, max_v, padded, buf[:bpm])


@kernel
def _code_range(
    pixels,
    height,
    width,
    geom,
    divisors,
    mcus_x,
    max_v,
    padded_width,
    comp_in_mcu,
    htbl,
    ehufco,
    ehufsi,
    s0,
    s1,
    band_strips,
    stuff,
    finish,
    grow,
    out,
    pos,
    result,
):
    """Front end + Huffman coding of iMCU rows s0 .. s1-1 into ``out[pos:]``, ``band_strips`` rows at a
    time. ``stuff``: 0x00 after every 0xFF; ``finish``: pad the last byte with 1-bits, else leave the
    pending bits (fewer than 8) in result[R_BUF], result[R_BITS]. When ``out`` fills, a larger copy
    replaces it if ``grow``, else the call stops with STATUS_NEED_SPACE. Returns the output array (``out``
    or its larger copy); result[R_STATUS], result[R_LENGTH] = status, end position."""
    bpm = comp_in_mcu.shape[0]
    buf = np.empty((band_strips * mcus_x * bpm, 64), np.int16)
    state = np.zeros(STATE_SIZE, np.int64)  # local, not the caller's array: LLVM keeps it in registers
    if s0 > 0:  # predictors: the DCs of the last MCU of the iMCU row above
        _last_mcu(pixels, height, width, geom, divisors, mcus_x, bpm, max_v, s0 - 1, buf)
        for i in range(bpm):
            state[S_PRED + comp_in_mcu[i]] = buf[i, 0]
    result[R_STATUS] = STATUS_OK
    s = s0
    while s < s1:
        nstrips = min(band_strips, s1 - s)
        _front_band(pixels, height, width, geom, divisors, mcus_x, bpm, max_v, padded_width, s, nstrips, buf)
        state[S_NEXT] = 0
        done = s + nstrips == s1
        while True:
            st, pos = _encode_range(
                buf,
                comp_in_mcu,
                htbl,
                htbl,
                ehufco,
                ehufsi,
                np.int64(0),
                nstrips * mcus_x,
                stuff,
                finish and done,
                out,
                pos,
                state,
            )
            if st != STATUS_NEED_SPACE:
                break
            if not grow:
                result[R_STATUS] = st
                result[R_LENGTH] = pos
                return out
            larger = np.empty(2 * out.shape[0] + 4096, np.uint8)
            larger[:pos] = out[:pos]
            out = larger
        if st != STATUS_OK:
            result[R_STATUS] = st
            break
        s += nstrips
    result[R_LENGTH] = pos
    result[R_BUF] = state[S_BUF]
    result[R_BITS] = state[S_BITS]
    return out


def _ranges_work(*args):
    """Blocks coded by ``_code_ranges`` (0 for a single range: nothing to share)."""
    bounds, strip_blocks = args[12], args[-1]
    return int(bounds[-1] - bounds[0]) * strip_blocks if bounds.shape[0] > 2 else 0


@parallel_kernel(work=_ranges_work)
def _code_ranges(
    pixels,
    height,
    width,
    geom,
    divisors,
    mcus_x,
    max_v,
    padded_width,
    comp_in_mcu,
    htbl,
    ehufco,
    ehufsi,
    bounds,
    band_strips,
    out,
    offs,
    results,
    strip_blocks,
):
    """``_code_range`` of every range of iMCU rows [bounds[i], bounds[i+1]) in parallel, range 0 finished
    stuffed bytes when it is the only one, the others raw bits (no stuffing, pending bits left in
    results[i]) for ``_join``, each into out[offs[i]:offs[i+1]] without growing (STATUS_NEED_SPACE: the
    caller codes that range again)."""
    n = bounds.shape[0] - 1
    for i in prange(n):
        _code_range(
            pixels,
            height,
            width,
            geom,
            divisors,
            mcus_x,
            max_v,
            padded_width,
            comp_in_mcu,
            htbl,
            ehufco,
            ehufsi,
            bounds[i],
            bounds[i + 1],
            band_strips,
            i == 0,
            n == 1,
            n < 0,  # False, typed as the bool banded.py passes (a literal would compile its own copy)
            out[offs[i] : offs[i + 1]],
            np.int64(0),
            results[i],
        )


@kernel
def _join(first, length, carry, ncarry, raw, raw_length, tail, ntail):
    """Append the raw bit string ``raw[:raw_length]`` followed by the ``ntail`` bits ``tail`` to the
    stuffed bytes ``first[:length]`` whose ``ncarry`` (< 8) pending bits are ``carry``, stuffing as it
    goes; ``first`` must have room for every byte stuffed. Eight raw bytes at a time become eight
    output bytes (the pending bits on top, shifted down by ``ncarry``), written at once unless one of
    them is 0xFF. Returns (length, pending bits, their count)."""
    pos = length
    k = np.uint64(ncarry)
    low = (np.uint64(1) << k) - np.uint64(1)
    c = np.uint64(carry)
    j = 0
    while j + 8 <= raw_length:
        w = np.uint64(load_be64(raw, j))
        word = w if ncarry == 0 else (c << (np.uint64(64) - k)) | (w >> k)
        c = w & low
        x = ~word
        if ((x - _ONES64) & ~x & _HIGHS64) == 0:  # no 0xFF byte (the common case)
            store_be64(first, pos, word)
            pos += 8
        else:
            pos = _stuff64(word, first, pos)
        j += 8
    acc = c
    nbits = ncarry
    for i in range(j, raw_length):
        acc = (acc << np.uint64(8)) | np.uint64(raw[i])
        nbits += 8
        nbits, pos = _flush_bytes(acc, nbits, first, pos, True)
    acc = (acc << np.uint64(ntail)) | np.uint64(tail)
    nbits += ntail
    nbits, pos = _flush_bytes(acc, nbits, first, pos, True)
    return pos, np.int64(acc & ((np.uint64(1) << np.uint64(nbits)) - np.uint64(1))), nbits
