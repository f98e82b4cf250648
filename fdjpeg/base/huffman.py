"""Huffman tables shared by the encoder and the decoder: the T.81 K.3 tables, code generation (T.81 Annex C),
validation, and libjpeg's optimal-table construction (T.81 K.2 as implemented in ``jchuff.c``).

A table is described the way DHT carries it: ``bits[0..15]`` = number of codes of length 1..16 and
``values`` = the symbols in order of increasing code length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .jit import kernel


@dataclass(frozen=True)
class HuffmanSpec:
    """One Huffman table as carried by a DHT segment (T.81 B.2.4.2)."""

    bits: tuple[int, ...]  # 16 counts: codes of length 1..16
    values: bytes  # the symbols, sorted by code length

    def __post_init__(self):
        if len(self.bits) != 16:
            raise ValueError(f"Huffman table needs 16 length counts, got {len(self.bits)}")
        if sum(self.bits) != len(self.values):
            raise ValueError(f"Huffman table: counts sum to {sum(self.bits)} but {len(self.values)} symbols given")

    def segment_payload(self) -> bytes:
        """The 16 counts followed by the symbols, as written after Tc/Th in DHT."""
        return bytes(self.bits) + bytes(self.values)


def _spec(bits, values) -> HuffmanSpec:
    return HuffmanSpec(tuple(bits), bytes(values))


# T.81 Table K.3 -- DC luminance.
STD_DC_LUMA = _spec([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], range(12))
# T.81 Table K.4 -- DC chrominance.
STD_DC_CHROMA = _spec([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], range(12))
# T.81 Table K.5 -- AC luminance.
STD_AC_LUMA = _spec(
    [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D],
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
        0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
        0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
        0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ],
)  # fmt: skip
# T.81 Table K.6 -- AC chrominance.
STD_AC_CHROMA = _spec(
    [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
        0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
        0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
        0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
        0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
        0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ],
)  # fmt: skip

#: (DC, AC) standard tables by table slot, as libjpeg's ``std_huff_tables`` installs them (slot 0 luma, 1 chroma).
STANDARD_DC = (STD_DC_LUMA, STD_DC_CHROMA)
STANDARD_AC = (STD_AC_LUMA, STD_AC_CHROMA)


class HuffmanTableError(ValueError):
    """A Huffman table whose counts and symbols do not form a valid prefix code."""


def canonical_codes(spec: HuffmanSpec) -> tuple[np.ndarray, np.ndarray]:
    """T.81 C.2 (Figures C.1-C.3): the code and length of each symbol position in ``spec.values``.

    Raises ``HuffmanTableError`` when the counts do not fit (T.81 C.2; libjpeg's "bad Huffman table"
    check ``code >= 1 << si``, which also forbids all-ones codes).
    """
    codes = np.zeros(len(spec.values), dtype=np.uint32)
    sizes = np.zeros(len(spec.values), dtype=np.uint8)
    code = 0
    k = 0
    for length in range(1, 17):
        for _ in range(spec.bits[length - 1]):
            codes[k] = code
            sizes[k] = length
            code += 1
            k += 1
        # T.81 C.2 / libjpeg: the last code of each length must not be all 1-bits (nor overflow).
        if code >= (1 << length):
            raise HuffmanTableError(f"Huffman table has too many codes of length <= {length} (an all-ones code)")
        code <<= 1
    return codes, sizes


def encoder_lookup(spec: HuffmanSpec, is_dc: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-symbol (code, length) arrays of size 256 for the encoder (libjpeg's ``jpeg_make_c_derived_tbl``).

    A length of 0 marks a symbol absent from the table; the encoder must never emit it.
    """
    if len(spec.values) > 256:
        raise HuffmanTableError(f"Huffman table has {len(spec.values)} symbols (at most 256)")
    codes, sizes = canonical_codes(spec)
    ehufco = np.zeros(256, dtype=np.uint32)
    ehufsi = np.zeros(256, dtype=np.uint8)
    for pos, sym in enumerate(spec.values):
        if is_dc and sym > 15:
            raise HuffmanTableError(f"DC Huffman table contains symbol {sym} (DC categories are 0..15)")
        if ehufsi[sym]:
            raise HuffmanTableError(f"Huffman table lists symbol {sym} twice")
        ehufco[sym] = codes[pos]
        ehufsi[sym] = sizes[pos]
    return ehufco, ehufsi


@kernel
def _gen_optimal_table(freq_in):
    """libjpeg-turbo's ``jpeg_gen_optimal_table`` (T.81 K.2): optimal code lengths limited to 16 bits.

    ``freq_in`` holds 256 symbol counts. Returns (bits[17] with bits[0] unused, values[256], nvalues).
    Tie-breaking follows libjpeg exactly (the larger symbol number is merged first), which the
    byte-exact contract depends on.
    """
    MAX_CLEN = 32
    freq = np.zeros(257, dtype=np.int64)
    for i in range(256):
        freq[i] = freq_in[i]
    freq[256] = 1  # pseudo-symbol: guarantees no real symbol gets the all-ones code
    bits = np.zeros(MAX_CLEN + 2, dtype=np.int64)
    codesize = np.zeros(257, dtype=np.int64)
    others = np.full(257, -1, dtype=np.int64)
    nz_index = np.zeros(257, dtype=np.int64)
    nz = 0
    for i in range(257):
        if freq[i] != 0:
            nz_index[nz] = i
            freq[nz] = freq[i]
            nz += 1
    BIG = 1000000000
    while True:
        c1 = -1
        c2 = -1
        v = BIG
        v2 = BIG
        for i in range(nz):
            if freq[i] <= v2:
                if freq[i] <= v:
                    c2 = c1
                    v2 = v
                    v = freq[i]
                    c1 = i
                else:
                    v2 = freq[i]
                    c2 = i
        if c2 < 0:
            break
        freq[c1] += freq[c2]
        freq[c2] = BIG + 1
        codesize[c1] += 1
        while others[c1] >= 0:
            c1 = others[c1]
            codesize[c1] += 1
        others[c1] = c2
        codesize[c2] += 1
        while others[c2] >= 0:
            c2 = others[c2]
            codesize[c2] += 1
    for i in range(nz):
        bits[codesize[i]] += 1
    bit_pos = np.zeros(MAX_CLEN + 1, dtype=np.int64)
    p = 0
    for i in range(1, MAX_CLEN + 1):
        bit_pos[i] = p
        p += bits[i]
    # Limit code lengths to 16 bits (T.81 Figure K.3).
    i = MAX_CLEN
    while i > 16:
        while bits[i] > 0:
            j = i - 2
            while bits[j] == 0:
                j -= 1
            bits[i] -= 2
            bits[i - 1] += 1
            bits[j + 1] += 2
            bits[j] -= 1
        i -= 1
    while bits[i] == 0:
        i -= 1
    bits[i] -= 1  # drop the pseudo-symbol from the longest length
    values = np.zeros(256, dtype=np.uint8)
    for i in range(nz - 1):  # the pseudo-symbol is the last nonzero entry; skip it
        values[bit_pos[codesize[i]]] = nz_index[i]
        bit_pos[codesize[i]] += 1
    return bits[:17].copy(), values, nz - 1


def optimal_spec(freq) -> HuffmanSpec:
    """The optimal Huffman table libjpeg-turbo builds for 256 symbol frequencies (``optimize_coding``)."""
    freq = np.ascontiguousarray(freq, dtype=np.int64)
    if freq.shape != (256,):
        raise ValueError("frequency array must have 256 entries")
    bits, values, n = _gen_optimal_table(freq)
    return HuffmanSpec(tuple(int(b) for b in bits[1:17]), bytes(values[:n]))


# ---------------------------------------------------------------------------------------------------
# Decoder tables (libjpeg's ``jpeg_make_d_derived_tbl``, T.81 F.2.2.3 and Figure F.15/F.16).
# ---------------------------------------------------------------------------------------------------

#: Bits looked at in one step by the decoder's table lookup. Codes up to this length (nearly all of
#: them in real files) decode with one table read; longer codes go through ``maxcode``/``valoffset``.
LOOKAHEAD_BITS = 9


def decoder_tables(spec: HuffmanSpec, is_dc: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build the decoder's view of one table: (lookup, maxcode, valoffset, huffval).

    * ``lookup[2**LOOKAHEAD_BITS]`` int32: for the next 9 bits of the stream, ``(length << 8) | symbol``
      of the code they start with, or 0 when that code is longer than 9 bits (or no code matches).
    * ``maxcode[18]``/``valoffset[18]`` int64: T.81 Figure F.15's MAXCODE and the offset that maps a
      code of length l to its index in ``huffval`` (-1 in ``maxcode`` when there is no code of length l).
    * ``huffval[256]`` int32: the symbols, zero-padded.

    Validation is libjpeg's (raises ``HuffmanTableError``): at most 256 symbols, codes that fit their
    lengths without an all-ones code (T.81 C.2), and DC symbols 0..15 (T.81 F.1.2.1.1). AC symbols
    are not checked: any byte is a legal run/size pair for the decoder.
    """
    if len(spec.values) > 256:
        raise HuffmanTableError(f"Huffman table has {len(spec.values)} symbols (at most 256)")
    codes, sizes = canonical_codes(spec)
    if is_dc:
        for sym in spec.values:
            if sym > 15:
                raise HuffmanTableError(f"DC Huffman table contains symbol {sym} (DC categories are 0..15)")
    lookup = np.zeros(1 << LOOKAHEAD_BITS, dtype=np.int32)
    maxcode = np.full(18, -1, dtype=np.int64)
    valoffset = np.zeros(18, dtype=np.int64)
    huffval = np.zeros(256, dtype=np.int32)
    huffval[: len(spec.values)] = np.frombuffer(spec.values, dtype=np.uint8)
    p = 0
    for length in range(1, 17):
        count = spec.bits[length - 1]
        if count:
            valoffset[length] = p - int(codes[p])
            maxcode[length] = int(codes[p + count - 1])
        for _ in range(count):
            if length <= LOOKAHEAD_BITS:
                shift = LOOKAHEAD_BITS - length
                first = int(codes[p]) << shift
                lookup[first : first + (1 << shift)] = (length << 8) | spec.values[p]
            p += 1
    return lookup, maxcode, valoffset, huffval


#: Bits looked at by the decoder's combined code-and-value table (``fast_lookup``).
FAST_BITS = 11


def fast_lookup(spec: HuffmanSpec, is_dc: bool) -> np.ndarray:
    """The decoder's combined table (stb's ``fast_ac``, jpeg-decoder's ``ac_lut``, extended to DC):
    for the next ``FAST_BITS`` bits of the stream, one int32 holding

    * bits 0-7: the symbol of the code they start with (DC: the size category; AC: run << 4 | size),
    * bits 8-11: that code's length, 0 when it is longer than ``FAST_BITS`` (or no code matches),
    * bits 12-15: code length plus the symbol's value bits when both fit in ``FAST_BITS``, else 0,
    * bits 16-31: then the signed value those bits encode (T.81 F.12 EXTEND; 0 for EOB, ZRL and DC 0).

    A decoder holding at least as many bits as an entry's length uses it without a refill; in that
    case the bit-serial path (``decoder_tables``) would not refill either, so results are identical.
    Validation is ``decoder_tables``'s, which the caller runs first.
    """
    codes, sizes = canonical_codes(spec)
    fast = np.zeros(1 << FAST_BITS, dtype=np.int32)
    for p, sym in enumerate(spec.values):
        length = int(sizes[p])
        if length > FAST_BITS:
            break
        s = sym if is_dc else sym & 15
        shift = FAST_BITS - length
        first = int(codes[p]) << shift
        entry = np.full(1 << shift, (length << 8) | sym, dtype=np.int64)
        if length + s <= FAST_BITS:
            # The s bits after the code are the top bits of the remaining index bits.
            v = np.arange(1 << shift, dtype=np.int64) >> (shift - s)
            if s:
                v = np.where(v < (1 << (s - 1)), v - (1 << s) + 1, v)
            entry |= ((length + s) << 12) | (v << 16)
        fast[first : first + (1 << shift)] = (entry & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    return fast
