"""Spec tables and derived tables checked against T.81 and libjpeg (Go's TestZigUnzig / TestUnscaledQuant idea)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fdjpeg import tables
from fdjpeg.base import huffman
from fdjpeg.base.huffman import HuffmanSpec, HuffmanTableError, canonical_codes, encoder_lookup, optimal_spec
from fdjpeg.base.zigzag import UNZIGZAG, ZIGZAG, ZIGZAG_PADDED, from_zigzag, to_zigzag

# T.81 Figure A.6, written out: natural index of each zigzag position.
T81_ZIGZAG = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
    54, 47, 55, 62, 63,
]  # fmt: skip


def test_zigzag_matches_t81_and_inverts():
    assert ZIGZAG.tolist() == T81_ZIGZAG
    assert (ZIGZAG[UNZIGZAG] == np.arange(64)).all() and (UNZIGZAG[ZIGZAG] == np.arange(64)).all()
    assert ZIGZAG_PADDED[:64].tolist() == T81_ZIGZAG and set(ZIGZAG_PADDED[64:].tolist()) == {63}
    t = np.arange(64).reshape(8, 8)
    assert (from_zigzag(to_zigzag(t)) == t).all()


def test_annex_k_tables_are_what_libjpeg_writes_at_quality_50():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", quality=50)
    q = Image.open(io.BytesIO(buf.getvalue())).quantization  # Pillow reports natural order
    assert np.array_equal(np.array(q[0]).reshape(8, 8), tables.ANNEX_K_LUMA)
    assert np.array_equal(np.array(q[1]).reshape(8, 8), tables.ANNEX_K_CHROMA)
    assert tables.ANNEX_K_LUMA[0, 0] == 16 and tables.ANNEX_K_LUMA[7, 7] == 99 and tables.ANNEX_K_CHROMA[0, 0] == 17


@pytest.mark.parametrize("quality, scale", [(1, 5000), (10, 500), (49, 102), (50, 100), (51, 98), (75, 50), (100, 0)])
def test_quality_scaling(quality, scale):
    assert tables.quality_scaling(quality) == scale


def test_quality_endpoints():
    lo = tables.standard(1)
    hi = tables.standard(100)
    assert lo[0].max() == 255 and lo[0].min() == 255  # 16*50 clamps to the baseline maximum
    assert (hi[0] == 1).all() and (hi[1] == 1).all()  # scale 0 rounds to 0, clamped up to 1
    assert np.array_equal(tables.standard(50)[0], tables.ANNEX_K_LUMA)


@given(st.integers(1, 100))
def test_standard_tables_match_pillow(quality):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", quality=quality)
    q = Image.open(io.BytesIO(buf.getvalue())).quantization
    luma, chroma = tables.standard(quality)
    assert np.array_equal(np.array(q[0]).reshape(8, 8), luma) and np.array_equal(np.array(q[1]).reshape(8, 8), chroma)


def _kraft(spec: HuffmanSpec) -> float:
    return sum(n * 2.0 ** -(i + 1) for i, n in enumerate(spec.bits))


@pytest.mark.parametrize("spec", [*huffman.STANDARD_DC, *huffman.STANDARD_AC])
def test_standard_huffman_tables_are_valid(spec):
    codes, sizes = canonical_codes(spec)
    assert len(spec.values) == len(set(spec.values)) == sum(spec.bits)
    assert _kraft(spec) < 1.0  # strictly: no all-ones code
    assert sizes.max() <= 16
    # prefix-free: no code is a prefix of another
    words = {format(int(c), f"0{int(s)}b") for c, s in zip(codes, sizes)}
    assert not any(a != b and b.startswith(a) for a in words for b in words)


@given(st.lists(st.integers(0, 10**6), min_size=256, max_size=256))
def test_optimal_tables_are_valid_prefix_codes(freq):
    freq = np.array(freq)
    spec = optimal_spec(freq)
    assert sorted(spec.values) == sorted(np.flatnonzero(freq).tolist())
    assert _kraft(spec) < 1.0 and len(spec.bits) == 16
    if spec.values:
        ehufco, ehufsi = encoder_lookup(spec, is_dc=False)
        present = np.flatnonzero(freq)
        assert (ehufsi[present] >= 1).all() and (ehufsi[present] <= 16).all()


def test_optimal_table_limits_lengths_to_16_bits():
    # Fibonacci frequencies give the deepest possible Huffman tree (a chain): lengths would reach 30+.
    freq = np.zeros(256, np.int64)
    a, b = 1, 1
    for i in range(40):
        freq[i] = a
        a, b = b, a + b
    spec = optimal_spec(freq)
    assert sum(spec.bits) == 40 and _kraft(spec) < 1.0
    assert spec.bits[15] > 0  # the limiter pushed codes into the 16-bit bucket


def test_optimal_table_prefers_frequent_symbols():
    freq = np.zeros(256, np.int64)
    freq[[0, 1, 2, 3]] = [1000, 10, 10, 1]
    _, sizes = encoder_lookup(optimal_spec(freq), is_dc=True)
    assert sizes[0] < sizes[1] <= sizes[3]


def test_bad_tables_are_rejected():
    with pytest.raises(HuffmanTableError):
        canonical_codes(HuffmanSpec((2,) + (0,) * 15, b"\x00\x01"))  # "1" would be an all-ones code
    with pytest.raises(HuffmanTableError):
        encoder_lookup(HuffmanSpec((0, 2) + (0,) * 14, b"\x00\x10"), is_dc=True)  # DC category 16
    with pytest.raises(HuffmanTableError):
        encoder_lookup(HuffmanSpec((0, 2) + (0,) * 14, b"\x03\x03"), is_dc=False)  # duplicate symbol
    with pytest.raises(ValueError):
        HuffmanSpec((1,) * 16, b"\x00")
