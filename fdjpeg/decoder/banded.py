"""Banded reconstruction: a single-scan sequential Huffman file decoded band by band, as libjpeg-turbo's
decompressor works one iMCU row at a time, so that neither the whole coefficient array nor the
full-size component planes ever exist (spec/decoder-reconstruction.md, "Banded decoding").

One band is ``band`` iMCU rows. For each band, on one thread (``_decode_bands``):

1. entropy.py's ``_decode_sequential`` continues the scan over the band's MCU rows (its resume slots
   carry the bit buffer, DC predictors and restart countdown from band to band) into a small
   coefficient store, zeroed before each band;
2. ``_reconstruct_band``: the IDCT writes the band's block rows into small per-component plane
   buffers, and the fused upsample + colour kernel (compose.py) writes output rows straight into the
   result. Fancy upsampling reads one source row above and below each row (jdmainct.c's context rows),
   so a band composes its rows up to 2 before its end and leaves those to the next band, which finds
   the last 2 rows of every component copied to just above its own first row.

The planes of a band are in band-local coordinates: a band of iMCU rows [ma, mb) holds component c's
rows from 8 * v_c * (ma - 1) on (0 for the first band), and the output rows are composed in the same
frame (offset 8 * vmax * (ma - 1), a multiple of every vertical expansion), so each component's source
row, the parity that chooses the fancy filter's neighbour and the bottom clamp (its height shifted by
the same offset) are the whole-image ones: the pixels are ``coefficients_to_pixels``'s.

With two threads (pipeline.py) the scan is decoded in chunks, each into its own store, while another
thread reconstructs the chunks already decoded; ``_reconstruct_range`` reconstructs a range of iMCU
rows on its own, computing the block row above (and below) it for the context rows, or continuing
the previous range on the same buffers.
"""

from __future__ import annotations

import numpy as np

from ..base.jit import boundary, kernel
from . import entropy as ed
from .compose import _compose_range
from .entropy import _decode_sequential
from .idct import _idct_rows

#: iMCU rows per band. A band's coefficients, planes and output rows take about 370 kB per iMCU row at
#: 3072 pixels wide, 4:2:0, so they are still in cache when read back; at 6.3 MP 3 or 4 rows measured
#: ~2% less thread CPU time than 1 (fewer kernel calls and allocations), 16 rows 5% more.
BAND_ROWS = 4


@kernel
def _reconstruct_band(
    cfs, nbxs, mults, sbase, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, dhl, cspace, out, width, vmax, ncomp,
    ma, mb, first, last, total, fprev, simd,
):  # fmt: skip
    """Pixels of iMCU rows [ma, mb) (see the module docstring).

    cfs[c]: (n, 64) coefficients whose block row 0 is component block row sbase[c]; bufs[c]: the band's
    plane buffer, 8 * v * (band + 2) rows of 8 * nbx samples; bhs[c]: real block rows; dhs[c]: rows of
    the downsampled component (dhl: scratch for the band-local heights). ``first``: the first band of a
    range (nothing held back before it; the block row above is computed when ma > 0); ``last``: the last
    one (it composes up to its end, computing the block row below when mb < total); otherwise the band
    continues from the previous one, whose frame started at iMCU row ``fprev``.
    """
    f = max(ma - 1, 0)
    for c in range(ncomp):
        v = vs[c]
        buf = bufs[c]
        if not first:  # the previous band's last 2 rows, to just above this band's first row
            src = 8 * v * (ma - fprev) - 2
            dst = 8 * v * (ma - f) - 2
            if src != dst:
                for r in range(2):
                    buf[dst + r, :] = buf[src + r, :]
        lo = v * ma - 1 if (first and ma > 0) else v * ma
        hi = v * mb + 1 if (last and mb < total) else v * mb
        hi = min(hi, bhs[c])
        if lo < hi:
            _idct_rows(cfs[c], nbxs[c], mults[c], buf, lo - sbase[c], hi - sbase[c], v * f - sbase[c], simd)
        dhl[c] = dhs[c] - 8 * v * f
    for c in range(ncomp, 4):
        dhl[c] = dhl[0]
    height = out.shape[0]
    yf = 8 * vmax * f
    y0 = 8 * vmax * ma - (0 if first else 2)
    y1 = 8 * vmax * mb if last else 8 * vmax * mb - 2
    y1 = min(y1, height)
    if y0 < y1:
        _compose_range(bufs, methods, hexp, vexp, dws, dhl, cspace, out[yf:], width, y0 - yf, y1 - yf)


#: ``_reconstruct_range`` and ``_decode_bands`` call it through a boundary (base/jit.py): the IDCT and the
#: fused upsample + colour kernel are compiled once, not again inside each of them.
_reconstruct_band = boundary(
    _reconstruct_band,
    "void(UniTuple(int16[:, ::1], 4), int64[::1], UniTuple(int64[::1], 4), int64[::1], UniTuple(uint8[:, ::1], 4),"
    " int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64[::1], int64,"
    " uint8[:, ::1], int64, int64, int64, int64, int64, boolean, boolean, int64, int64, boolean)",
)


@kernel
def _reconstruct_range(
    cfs, s0, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, cspace, out, width, vmax, ncomp, a, b,
    total, band, cont, fin, fprev, simd,
):  # fmt: skip
    """Pixels of iMCU rows [a, b), band by band, from coefficients cfs[c] whose first block row is
    component c's first of iMCU row s0 (they must hold the block rows above a and below b that a
    range start and a ``fin`` end read). ``cont``: the range continues an earlier call's (same
    buffers; its frame started at iMCU row ``fprev``; it held back its last 2 rows); ``fin``: compose
    to the range's end (else hold back 2 rows for the next call). Returns ``fprev`` for the next call."""
    sbase = np.zeros(4, np.int64)
    for c in range(ncomp):
        sbase[c] = vs[c] * s0
    dhl = np.empty(4, np.int64)
    for ma in range(a, b, band):
        mb = min(b, ma + band)
        _reconstruct_band(
            cfs, nbxs, mults, sbase, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, dhl, cspace, out, width, vmax,
            ncomp, ma, mb, ma == a and not cont, mb == b and fin, total, fprev, simd,
        )  # fmt: skip
        fprev = max(ma - 1, 0)
    return fprev


@kernel
def _decode_bands(
    data, blocks, bases, mcus_x, mcus_y, imcu_div, interval, lookup, maxcode, valoffset, huffval, fast, natural,
    state, log, store, cfs, nbxs, mults, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, cspace, out, width, vmax,
    ncomp, total, band, simd,
):  # fmt: skip
    """The whole scan, band by band (module docstring): entropy decoding into ``store`` (band * v block
    rows per component, component c's rows viewed as cfs[c]), then _reconstruct_band. ``blocks`` is the
    scan's MCU geometry with ``bases`` (its B_BASE column) in ``store``; ``state`` has the resume slots."""
    bl = blocks.copy()
    sbase = np.zeros(4, np.int64)
    dhl = np.empty(4, np.int64)
    fprev = np.int64(0)
    for ma in range(0, total, band):
        mb = min(total, ma + band)
        store[:] = 0
        for i in range(bl.shape[0]):  # the band's first MCU row lands on the store's first block row
            bl[i, ed.B_BASE] = bases[i] - ma * imcu_div * blocks[i, ed.B_V] * blocks[i, ed.B_STRIDE]
        _decode_sequential(
            data, store, bl, mcus_x, min(mb * imcu_div, mcus_y), imcu_div, interval, lookup, maxcode, valoffset,
            huffval, fast, natural, state, log,
        )  # fmt: skip
        for c in range(ncomp):
            sbase[c] = vs[c] * ma
        _reconstruct_band(
            cfs, nbxs, mults, sbase, bufs, bhs, vs, methods, hexp, vexp, dws, dhs, dhl, cspace, out, width, vmax,
            ncomp, ma, mb, ma == 0, mb == total, total, fprev, simd,
        )  # fmt: skip
        fprev = max(ma - 1, 0)
