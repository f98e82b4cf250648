"""encoder/entropy.py's Huffman coding (the 64-bit put_buffer: code and extra bits in one put, 8-byte
flushes with stuffing) against the bit-by-bit reference of tests/naive.py: random blocks with extreme
magnitudes (11-bit DC differences, 10-bit AC values, long ZRL runs), Annex K and optimal tables,
restart intervals, and output buffers so small that the coder stops and resumes (STATUS_NEED_SPACE)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fdjpeg.base.huffman import STANDARD_AC, STANDARD_DC, optimal_spec
from fdjpeg.encoder.entropy import (
    MAX_BLOCK_BYTES,
    STATE_SIZE,
    STATUS_BAD_COEF,
    STATUS_NEED_SPACE,
    STATUS_OK,
    _encode_range,
    _lookup_tables,
    _start_state,
    encode_scan,
    gather_frequencies,
)

import naive

_LAYOUTS = {  # blocks per MCU of each scan component, table of each component
    "gray": ((1,), (0,)),
    "4:4:4": ((1, 1, 1), (0, 1, 1)),
    "4:2:0": ((4, 1, 1), (0, 1, 1)),
}


def _blocks(rng, nblocks, density, kind):
    """Transmission-order blocks: DC differences up to 11 bits, AC values up to 10 bits."""
    if kind == "small":
        ac = rng.integers(-3, 4, (nblocks, 64))
    elif kind == "ff":  # all-ones value bits: many 0xFF bytes to stuff
        ac = np.where(rng.random((nblocks, 64)) < 0.5, 1023, 255)
    else:
        ac = rng.integers(-1023, 1024, (nblocks, 64))
    blocks = (ac * (rng.random((nblocks, 64)) < density)).astype(np.int16)
    blocks[:, 0] = rng.integers(-1024, 1024, nblocks)  # differences up to 2047
    if kind == "extreme":
        blocks[:, 0] = np.where(np.arange(nblocks) % 2, 1023, -1024)
    return blocks


def _scan(seed, layout, nmcu, density, kind, optimal, restart):
    counts, tables = _LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    comp_in_mcu = np.repeat(np.arange(len(counts)), counts)
    blocks = _blocks(rng, nmcu * len(comp_in_mcu), density, kind)
    tbl = np.array(tables, np.int64)
    if optimal:
        dc_freq, ac_freq = gather_frequencies(blocks, comp_in_mcu, tbl, tbl, restart)
        dc_specs = [optimal_spec(dc_freq[t]) for t in (0, 1)]
        ac_specs = [optimal_spec(ac_freq[t]) for t in (0, 1)]
    else:
        dc_specs, ac_specs = list(STANDARD_DC), list(STANDARD_AC)
    return blocks, comp_in_mcu, tbl, dc_specs, ac_specs


_KIND = st.sampled_from(["small", "wide", "ff", "extreme"])


@given(
    seed=st.integers(0, 2**32 - 1),
    layout=st.sampled_from(sorted(_LAYOUTS)),
    nmcu=st.integers(1, 40),
    density=st.sampled_from([0.0, 0.03, 0.3, 1.0]),
    kind=_KIND,
    optimal=st.booleans(),
    restart=st.sampled_from([0, 1, 3, 17]),
)
def test_scan_bytes_equal_the_bitwise_reference(seed, layout, nmcu, density, kind, optimal, restart):
    blocks, cim, tbl, dc_specs, ac_specs = _scan(seed, layout, nmcu, density, kind, optimal, restart)
    got = encode_scan(blocks, cim, tbl, tbl, dc_specs, ac_specs, restart)
    assert got == naive.huffman_scan(blocks, cim, tbl, tbl, dc_specs, ac_specs, restart)


@given(
    seed=st.integers(0, 2**32 - 1),
    layout=st.sampled_from(sorted(_LAYOUTS)),
    nmcu=st.integers(1, 30),
    density=st.sampled_from([0.03, 0.3, 1.0]),
    kind=_KIND,
    restart=st.sampled_from([0, 2, 5]),
    spare=st.integers(0, 600),
)
def test_resuming_after_need_space_gives_the_same_bytes(seed, layout, nmcu, density, kind, restart, spare):
    """A buffer with room for about one MCU: the coder stops with STATUS_NEED_SPACE (pending bits kept in
    the state), the caller takes the bytes and calls again, as encoder/stream.py does."""
    blocks, cim, tbl, dc_specs, ac_specs = _scan(seed, layout, nmcu, density, kind, False, restart)
    ehufco, ehufsi = _lookup_tables(dc_specs, ac_specs)
    out = np.empty(len(cim) * MAX_BLOCK_BYTES + 2 + 16 + spare, np.uint8)
    state = np.zeros(STATE_SIZE, np.int64)
    _start_state(blocks, cim, restart, 0, state)
    pieces, calls = [], 0
    while True:
        st_, pos = _encode_range(blocks, cim, tbl, tbl, ehufco, ehufsi, restart, nmcu, True, True, out, 0, state)
        assert st_ in (STATUS_OK, STATUS_NEED_SPACE) and 0 <= state[2] < 8  # S_BITS: under a byte
        pieces.append(out[:pos].tobytes())
        calls += 1
        if st_ == STATUS_OK:
            break
        assert calls <= nmcu + 1
    assert b"".join(pieces) == naive.huffman_scan(blocks, cim, tbl, tbl, dc_specs, ac_specs, restart)


def test_out_of_range_values_are_reported():
    """An AC value of 11 bits or more (either sign, up to int16's extremes) or a DC difference of 12 is
    refused (8-bit baseline), never coded, by the coder and by the frequency count; +-1023 is coded."""
    blocks, cim, tbl, dc_specs, ac_specs = _scan(1, "gray", 4, 0.5, "wide", False, 0)
    ehufco, ehufsi = _lookup_tables(dc_specs, ac_specs)
    dc = blocks.copy()
    dc[0, 0], dc[1, 0] = -1024, 1024
    bads = [dc]
    for pos, value in ((17, 1024), (63, -1024), (1, 32767), (40, -32768)):
        ac = blocks.copy()
        ac[2, pos] = value
        bads.append(ac)
    for bad in bads:
        state = np.zeros(STATE_SIZE, np.int64)
        out = np.empty(1 << 16, np.uint8)
        st_, _ = _encode_range(bad, cim, tbl, tbl, ehufco, ehufsi, 0, 4, True, True, out, 0, state)
        assert st_ == STATUS_BAD_COEF
        with pytest.raises(ValueError, match="out of range"):
            gather_frequencies(bad, cim, tbl, tbl, 0)
    edge = blocks.copy()
    edge[2, 17], edge[3, 63] = 1023, -1023
    assert encode_scan(edge, cim, tbl, tbl, dc_specs, ac_specs, 0) == naive.huffman_scan(
        edge, cim, tbl, tbl, dc_specs, ac_specs, 0
    )


def test_strided_blocks_and_output_give_the_same_bytes():
    """Blocks and output buffers that are views with a step (not C-contiguous) take the kernels' scalar
    fallbacks (huff_vec) and give the bytes of contiguous ones."""
    blocks, cim, tbl, dc_specs, ac_specs = _scan(3, "4:2:0", 12, 0.3, "wide", False, 0)
    ehufco, ehufsi = _lookup_tables(dc_specs, ac_specs)
    results = []
    for blk, out in (
        (blocks, np.zeros(1 << 15, np.uint8)),
        (np.repeat(blocks, 2, axis=0)[::2], np.zeros(1 << 16, np.uint8)[::2]),
    ):
        state = np.zeros(STATE_SIZE, np.int64)
        st_, pos = _encode_range(blk, cim, tbl, tbl, ehufco, ehufsi, 0, 12, True, True, out, 0, state)
        assert st_ == STATUS_OK
        results.append(out[:pos].tobytes())
    assert results[0] == results[1] == naive.huffman_scan(blocks, cim, tbl, tbl, dc_specs, ac_specs, 0)
