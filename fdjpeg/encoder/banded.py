"""The default ``encode()`` (sequential Huffman scan, standard tables, no restarts) without the image's
coefficient array: the front end (``prepare._prepare_strips``) and the Huffman coder run fused, band
by band of a few iMCU rows, through one small coefficient buffer that stays in the core's cache, as
libjpeg's single-pass compressor keeps one iMCU row of coefficients (kernels: fused.py).

On one thread the whole image is one range, coded straight into the output buffer. On several, the
iMCU rows are cut into contiguous ranges, one parallel task each; every range starts from the DC
predictors of the MCU before it (the front end of the last MCU of the row above, run again by that
task) and is coded as raw bits, except the first, which is coded stuffed in place. The others are then appended
to it, shifted to the bit where the range before ended, and stuffed (``fused._join``). The bytes are
therefore those of the whole-array path (spec/codec.md section 2).
"""

from __future__ import annotations

import numpy as np

from ..base.jit import num_threads, use_threads
from .entropy import STATUS_NEED_SPACE, _check_status
from .fused import R_BITS, R_BUF, R_LENGTH, R_STATUS, _code_range, _code_ranges, _join

#: Quantized 8x8 blocks per band (128 bytes each: 256 KiB), at least one iMCU row: the front end writes
#: a band's coefficients and the coder reads them back while they are still in the core's L2 cache.
BAND_BLOCKS = 2048

#: Ranges per thread in a parallel encode: more than one lets a thread that finishes early (the other
#: one shared its core with another process, or coded a busier part of the image) take another range.
RANGES_PER_THREAD = 4

#: Bytes reserved per block in an output buffer. Buffers are allocated once and only the pages the coder
#: writes become resident; a single range that needs more grows its buffer, one of several (which must
#: not reallocate inside the parallel region) is coded again afterwards into a buffer that grows.
_BYTES_PER_BLOCK = 48


def _range_bounds(nstrips: int, strip_blocks: int) -> np.ndarray:
    """iMCU-row boundaries of the parallel ranges; one range for small images or one thread."""
    if not use_threads(nstrips * strip_blocks):
        return np.array([0, nstrips], np.int64)
    n = min(nstrips, num_threads() * RANGES_PER_THREAD)
    return np.unique(np.linspace(0, nstrips, n + 1).astype(np.int64))


def encode_banded(pixels, layout, geom, divisors, max_v, padded_width, comp_in_mcu, htbl, ehufco, ehufsi):
    """Front end + Huffman coding of a whole image; returns the entropy-coded segment (a uint8 array:
    stuffed, padded, no restart markers), byte for byte ``encode_scan`` of the whole image's blocks.
    ``pixels`` (H, W, C) uint8 C-contiguous; the other arguments are the values
    ``compress.image_to_mcu_blocks`` computes."""
    height, width = pixels.shape[:2]
    nstrips = layout.mcus_y
    strip_blocks = layout.mcus_x * layout.blocks_per_mcu
    band_strips = max(1, BAND_BLOCKS // strip_blocks)
    args = (
        pixels,
        height,
        width,
        geom,
        divisors,
        layout.mcus_x,
        max_v,
        padded_width,
        comp_in_mcu,
        htbl,
        ehufco,
        ehufsi,
    )
    bounds = _range_bounds(nstrips, strip_blocks)
    nranges = bounds.shape[0] - 1
    # Range 0 is coded in place at the start of the buffer, with room for the whole image after it.
    sizes = 4096 + np.diff(bounds) * strip_blocks * _BYTES_PER_BLOCK
    sizes[0] = 4096 + nstrips * strip_blocks * _BYTES_PER_BLOCK
    offs = np.zeros(nranges + 1, np.int64)
    np.cumsum(sizes, out=offs[1:])
    out = np.empty(int(offs[-1]), np.uint8)
    results = np.zeros((nranges, 4), np.int64)
    if nranges == 1:
        out = _code_range(*args, 0, nstrips, band_strips, True, True, True, out, 0, results[0])
        _check_status(results[0, R_STATUS])
        return out[: results[0, R_LENGTH]]
    import numba  # loaded already: _range_bounds asked it for the thread count

    previous = numba.set_parallel_chunksize(1)  # ranges go to whichever thread is free (TBB work stealing)
    try:
        _code_ranges(*args, bounds, band_strips, out, offs, results, strip_blocks)
    finally:
        numba.set_parallel_chunksize(previous)
    pieces = []  # (array, start) of each range's bytes
    for i in range(nranges):
        if results[i, R_STATUS] == STATUS_NEED_SPACE:  # code it again, into a buffer that grows
            own = np.empty(int(2 * sizes[i]), np.uint8)
            own = _code_range(*args, bounds[i], bounds[i + 1], band_strips, i == 0, False, True, own, 0, results[i])
            pieces.append((own, 0))
        else:
            pieces.append((out, int(offs[i])))
        _check_status(results[i, R_STATUS])
    first, _ = pieces[0]
    need = int(results[0, R_LENGTH]) + 2 * int(results[1:, R_LENGTH].sum()) + 16  # every byte stuffed, at worst
    if first is out and need > offs[1] or first.shape[0] < need:
        grown = np.empty(need, np.uint8)
        grown[: results[0, R_LENGTH]] = first[: results[0, R_LENGTH]]
        first = grown
    pos, carry, ncarry = int(results[0, R_LENGTH]), int(results[0, R_BUF]), int(results[0, R_BITS])
    for i in range(1, nranges):
        raw, start = pieces[i]
        pos, carry, ncarry = _join(
            first, pos, carry, ncarry, raw[start:], results[i, R_LENGTH], results[i, R_BUF], results[i, R_BITS]
        )
    if ncarry:  # the last byte, padded with 1-bits (and the 0x00 stuffed after it when it is 0xFF)
        fill = 8 - ncarry
        byte = ((carry << fill) | ((1 << fill) - 1)) & 0xFF
        first[pos] = byte
        pos += 1
        if byte == 0xFF:
            first[pos] = 0
            pos += 1
    return first[:pos]
