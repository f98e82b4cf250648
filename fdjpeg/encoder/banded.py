"""The whole-array encoder's memory-bounded path for sequential Huffman scans without restarts (the default
``encode()``): bands of whole iMCU rows go through the front end (``prepare._prepare_strips``) and the
Huffman coder one after the other, so the quantized coefficients of the whole image (2 bytes per sample:
as large as the RGB input for 4:2:0) never exist at once, as in libjpeg's single-pass compressor, which
keeps one iMCU row of coefficients.

The kernels are the whole-array encoder's; only the driving differs. Each band's coefficient buffer
starts with the previous band's last MCU, so the coder's own start rule (``entropy._start_state``: the
predictors are the DCs of the MCU before the first one coded) carries the DC predictors over. A band
coded on one thread continues the bit accumulator in the coder's state; a band coded by the parallel
chunks is stitched (``entropy._stitch``) after a zero-length first chunk that holds the bits pending
from the band before, and the 1-bits ``_stitch`` pads with are taken back unless the band is the
last. The bytes are therefore those of the whole-array path (spec/codec.md section 2).
"""

from __future__ import annotations

import numpy as np

from ..base.jit import kernel
from .entropy import (
    MAX_BLOCK_BYTES,
    S_BITS,
    S_BUF,
    STATE_SIZE,
    STATUS_NEED_SPACE,
    STATUS_OK,
    _check_status,
    _chunk_bounds,
    _encode_chunks,
    _encode_range,
    _start_state,
    _stitch,
)
from .prepare import _prepare_strips

#: Quantized 8x8 blocks per band (128 bytes each: 32 MiB; a 4:2:0 image up to about 14 MP is one band).
#: Each band costs a parallel region for its front end and one for its Huffman chunks, so bands stay
#: large enough that the extra regions and the re-stitching do not show next to the work (same-run
#: timings in bench/RESULTS.md), and small next to the images where memory matters.
BAND_BLOCKS = 1 << 18

#: Bytes reserved per block in the output buffer. The buffer is allocated once and only the pages the
#: coder writes become resident; a file that needs more grows it.
_BYTES_PER_BLOCK = 48


class _Output:
    """The entropy-coded data, written in place into one buffer that grows when a band needs more."""

    def __init__(self, capacity: int):
        self.buf = np.empty(capacity, np.uint8)
        self.pos = 0

    def grow(self) -> None:
        """Double the buffer (keeping what is written)."""
        self.reserve(self.buf.shape[0] - self.pos + 1)

    def reserve(self, n: int) -> None:
        if self.pos + n > self.buf.shape[0]:
            grown = np.empty(max(2 * self.buf.shape[0], self.pos + n), np.uint8)
            grown[: self.pos] = self.buf[: self.pos]
            self.buf = grown


def encode_banded(pixels, layout, geom, divisors, max_v, padded_width, comp_in_mcu, htbl, ehufco, ehufsi):
    """Front end + Huffman coding of a whole image band by band; returns the entropy-coded segment (a
    uint8 array: stuffed, padded, no restart markers), byte for byte ``encode_scan`` of the whole
    image's blocks. ``pixels`` (H, W, C) uint8 C-contiguous; the other arguments are the values
    ``compress.image_to_mcu_blocks`` computes."""
    height, width = pixels.shape[:2]
    bpm = layout.blocks_per_mcu
    strip_rows = 8 * max_v
    nstrips_total = layout.mcus_y
    strips_per_band = max(1, BAND_BLOCKS // (layout.mcus_x * bpm))
    band_mcus = layout.mcus_x * min(strips_per_band, nstrips_total)
    buf = np.empty(((band_mcus + 1) * bpm, 64), np.int16)  # MCU 0: the previous band's last MCU
    buf[:bpm] = 0  # (none before the first band: predictors start at 0)
    out = _Output(4096 + layout.mcus_x * nstrips_total * bpm * _BYTES_PER_BLOCK)
    carry = ncarry = 0  # bits pending between bands (fewer than 8)
    s0 = 0
    while s0 < nstrips_total:
        nstrips = min(strips_per_band, nstrips_total - s0)
        last = s0 + nstrips == nstrips_total
        nmcu = layout.mcus_x * nstrips
        g = geom.copy()
        # Block rows of each component that hold image samples, counted from this band's first.
        g[:, 3] = np.minimum(g[:, 3] - s0 * g[:, 1], nstrips * g[:, 1])
        r0 = s0 * strip_rows
        nrows = min(height - r0, nstrips * strip_rows)
        blocks = buf[: (nmcu + 1) * bpm]
        _prepare_strips(
            pixels[r0 : r0 + nrows],
            nrows,
            width,
            g,
            divisors,
            layout.mcus_x,
            nstrips,
            bpm,
            max_v,
            padded_width,
            blocks[bpm:],
        )
        bounds = _chunk_bounds(nmcu, nmcu * bpm, 0) + 1
        if bounds.shape[0] == 2 and s0 == 0 and last:  # the whole image, one thread: nothing to carry
            _whole_serial(blocks, bounds, comp_in_mcu, htbl, ehufco, ehufsi, out)
        elif bounds.shape[0] == 2:
            carry, ncarry = _band_serial(blocks, nmcu, comp_in_mcu, htbl, ehufco, ehufsi, carry, ncarry, last, out)
        else:
            carry, ncarry = _band_parallel(blocks, bounds, comp_in_mcu, htbl, ehufco, ehufsi, carry, ncarry, last, out)
        buf[:bpm] = blocks[nmcu * bpm : (nmcu + 1) * bpm]
        s0 += nstrips
    return out.buf[: out.pos]


@kernel
def _encode_band(blocks, comp_in_mcu, tbl, ehufco, ehufsi, nmcu, carry, ncarry, finish, out, pos, pending):
    """Code MCUs 1..nmcu of a band buffer (MCU 0: the previous band's last) on this thread into
    ``out[pos:]``, after the ``ncarry`` pending bits ``carry``; leaves the new pending bits in
    ``pending``. Returns (status, pos). The coder state is local to this kernel, which lets LLVM keep
    it in registers (a state array passed in from Python may alias the output)."""
    state = np.zeros(STATE_SIZE, np.int64)
    _start_state(blocks, comp_in_mcu, 0, 1, state)  # predictors from MCU 0; S_NEXT = 1
    state[S_BUF] = carry
    state[S_BITS] = ncarry
    st, pos = _encode_range(blocks, comp_in_mcu, tbl, tbl, ehufco, ehufsi, 0, nmcu + 1, True, finish, out, pos, state)
    pending[0] = state[S_BUF]
    pending[1] = state[S_BITS]
    return st, pos


def _whole_serial(blocks, bounds, comp_in_mcu, htbl, ehufco, ehufsi, out):
    """One band, one chunk: the whole-array path's own call, finished and padded, into ``out``."""
    bpm = comp_in_mcu.shape[0]
    nblocks = int(bounds[1] - bounds[0]) * bpm
    lengths, tails, status = np.zeros(1, np.int64), np.zeros((1, 2), np.int64), np.zeros(1, np.int64)
    for _attempt in range(2):
        _encode_chunks(
            blocks, comp_in_mcu, htbl, htbl, ehufco, ehufsi, 0, bounds, False, out.buf[None], lengths, tails, status
        )
        if status[0] != STATUS_NEED_SPACE:
            break
        out.reserve(4096 + nblocks * MAX_BLOCK_BYTES + 4 * (nblocks + 1))  # the worst case
    _check_status(status[0])
    out.pos = int(lengths[0])


def _band_serial(blocks, nmcu, comp_in_mcu, htbl, ehufco, ehufsi, carry, ncarry, last, out):
    pending = np.zeros(2, np.int64)
    while True:
        st, pos = _encode_band(
            blocks, comp_in_mcu, htbl, ehufco, ehufsi, nmcu, carry, ncarry, last, out.buf, out.pos, pending
        )
        if st == STATUS_OK:
            out.pos = pos
            return int(pending[0]), int(pending[1])
        if st != STATUS_NEED_SPACE:
            _check_status(st)
        out.grow()  # the band is coded again from its start


def _band_parallel(blocks, bounds, comp_in_mcu, htbl, ehufco, ehufsi, carry, ncarry, last, out):
    nchunks = bounds.shape[0] - 1
    bpm = comp_in_mcu.shape[0]
    per_chunk_blocks = int(np.max(np.diff(bounds))) * bpm
    capacity = 4096 + per_chunk_blocks * _BYTES_PER_BLOCK
    for _attempt in range(2):
        # Row 0 is the zero-length chunk that carries the previous band's pending bits into _stitch.
        outs = np.empty((nchunks + 1, capacity), np.uint8)
        lengths = np.zeros(nchunks + 1, np.int64)
        tails = np.zeros((nchunks + 1, 2), np.int64)
        status = np.zeros(nchunks, np.int64)
        _encode_chunks(
            blocks, comp_in_mcu, htbl, htbl, ehufco, ehufsi, 0, bounds, True, outs[1:], lengths[1:], tails[1:], status
        )
        if not (status == STATUS_NEED_SPACE).any():
            break
        capacity = 4096 + per_chunk_blocks * MAX_BLOCK_BYTES + 4 * (per_chunk_blocks + 1)  # the worst case
    for st in status:
        _check_status(st)
    tails[0] = carry, ncarry
    total_bits = ncarry + 8 * int(lengths.sum()) + int(tails[1:, 1].sum())
    out.reserve(2 * (int(lengths.sum()) + 16))  # every byte stuffed, at worst
    end = out.pos + _stitch(outs, lengths, tails, out.buf[out.pos :])
    k = total_bits % 8
    if last or k == 0:
        out.pos = end
        return 0, 0
    # Take back the padded last byte (and the 0x00 stuffed after it when padding made it 0xFF): its
    # top k bits are the band's pending bits.
    if out.buf[end - 1] == 0:
        end -= 1
    end -= 1
    out.pos = end
    return int(out.buf[end]) >> (8 - k), k
