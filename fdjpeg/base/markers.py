"""JPEG marker codes (T.81 Table B.1) and their names, shared by the writer (encoder/markers.py), the
parser (decoder/parser.py) and the validator's walker.
"""

from __future__ import annotations

# T.81 Table B.1 -- marker codes (the byte following 0xFF).
SOF0, SOF1, SOF2, SOF3 = 0xC0, 0xC1, 0xC2, 0xC3
DHT = 0xC4
SOF5, SOF6, SOF7 = 0xC5, 0xC6, 0xC7
JPG = 0xC8
SOF9, SOF10, SOF11 = 0xC9, 0xCA, 0xCB
DAC = 0xCC
SOF13, SOF14, SOF15 = 0xCD, 0xCE, 0xCF
RST0 = 0xD0  # RST0..RST7 = 0xD0..0xD7
SOI, EOI, SOS, DQT, DNL, DRI, DHP, EXP = 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF
APP0 = 0xE0  # APP0..APP15 = 0xE0..0xEF
COM = 0xFE
TEM = 0x01

#: Start-of-frame markers and the coding process each one announces (T.81 Table B.1).
SOF_PROCESS = {
    SOF0: "baseline",
    SOF1: "extended sequential Huffman",
    SOF2: "progressive Huffman",
    SOF3: "lossless Huffman",
    SOF5: "differential sequential Huffman (hierarchical)",
    SOF6: "differential progressive Huffman (hierarchical)",
    SOF7: "differential lossless Huffman (hierarchical)",
    SOF9: "extended sequential arithmetic",
    SOF10: "progressive arithmetic",
    SOF11: "lossless arithmetic",
    SOF13: "differential sequential arithmetic (hierarchical)",
    SOF14: "differential progressive arithmetic (hierarchical)",
    SOF15: "differential lossless arithmetic (hierarchical)",
}

#: Largest payload of one marker segment: the 16-bit length counts itself.
MAX_SEGMENT_PAYLOAD = 65533


def marker_name(code: int) -> str:
    """A readable name for a marker code, e.g. 0xC4 -> 'DHT', 0xE1 -> 'APP1', 0xD3 -> 'RST3'."""
    fixed = {
        SOI: "SOI",
        EOI: "EOI",
        SOS: "SOS",
        DQT: "DQT",
        DNL: "DNL",
        DRI: "DRI",
        DHP: "DHP",
        EXP: "EXP",
        DHT: "DHT",
        DAC: "DAC",
        JPG: "JPG",
        COM: "COM",
        TEM: "TEM",
    }
    if code in fixed:
        return fixed[code]
    if code in SOF_PROCESS:
        return f"SOF{code - SOF0}"
    if RST0 <= code <= RST0 + 7:
        return f"RST{code - RST0}"
    if APP0 <= code <= APP0 + 15:
        return f"APP{code - APP0}"
    if 0xF0 <= code <= 0xFD:
        return f"JPG{code - 0xF0}"
    return f"0x{code:02X}"
