"""JPEG marker codes (T.81 Table B.1) and the marker-segment writer (libjpeg's jcmarker.c).

Parsing lives in ``parser.py``; both sides use the constants below.
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
    fixed = {SOI: "SOI", EOI: "EOI", SOS: "SOS", DQT: "DQT", DNL: "DNL", DRI: "DRI", DHP: "DHP", EXP: "EXP",
             DHT: "DHT", DAC: "DAC", JPG: "JPG", COM: "COM", TEM: "TEM"}
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


# ---------------------------------------------------------------------------------------------------
# Writing (jcmarker.c). Each function returns one complete marker segment as bytes.


def _segment(code: int, payload: bytes) -> bytes:
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        raise ValueError(f"{marker_name(code)} payload of {len(payload)} bytes exceeds {MAX_SEGMENT_PAYLOAD}")
    return bytes((0xFF, code)) + (len(payload) + 2).to_bytes(2, "big") + payload


def write_soi() -> bytes:
    return b"\xff\xd8"


def write_eoi() -> bytes:
    return b"\xff\xd9"


def write_jfif(density_unit: int = 0, x_density: int = 1, y_density: int = 1) -> bytes:
    """JFIF APP0, version 1.01, no thumbnail (libjpeg's defaults: aspect ratio 1:1, unit 0)."""
    payload = b"JFIF\x00" + bytes((1, 1, density_unit)) + x_density.to_bytes(2, "big") + y_density.to_bytes(2, "big")
    return _segment(APP0, payload + b"\x00\x00")


def write_dqt(index: int, table) -> bytes:
    """One DQT segment for one table (T.81 B.2.4.1); 8-bit entries (Pq=0) when all fit, else 16-bit (Pq=1)."""
    from .zigzag import to_zigzag

    values = [int(v) for v in to_zigzag(table)]
    if max(values) <= 255:
        return _segment(DQT, bytes([index]) + bytes(values))
    return _segment(DQT, bytes([0x10 | index]) + b"".join(v.to_bytes(2, "big") for v in values))


def write_sof(code: int, width: int, height: int, components) -> bytes:
    """SOFn with 8-bit precision; ``components`` = [(id, h, v, tq), ...] (T.81 B.2.2).

    Sizes over libjpeg's 65500 are refused (the callers validate first; this is the last net)."""
    if not (1 <= width <= 65500 and 0 <= height <= 65500):
        raise ValueError(f"frame size {width}x{height} is outside libjpeg's limit of 65500")
    payload = bytes([8]) + height.to_bytes(2, "big") + width.to_bytes(2, "big") + bytes([len(components)])
    for cid, h, v, tq in components:
        payload += bytes([cid, (h << 4) | v, tq])
    return _segment(code, payload)


def write_dht(is_ac: bool, index: int, spec) -> bytes:
    """One DHT segment for one table (T.81 B.2.4.2), as libjpeg writes them: one table per segment."""
    return _segment(DHT, bytes([(0x10 if is_ac else 0) | index]) + spec.segment_payload())


def write_dac(payload: bytes) -> bytes:
    """DAC (T.81 B.2.4.3): pairs of Tc/Tb and conditioning value, as arithmetic_encode.conditioning builds them."""
    return _segment(DAC, bytes(payload))


def write_dri(interval: int) -> bytes:
    return _segment(DRI, interval.to_bytes(2, "big"))


def write_sos(components, ss: int = 0, se: int = 63, ah: int = 0, al: int = 0) -> bytes:
    """SOS header; ``components`` = [(id, dc_table, ac_table), ...] (T.81 B.2.3)."""
    payload = bytes([len(components)])
    for cid, td, ta in components:
        payload += bytes([cid, (td << 4) | ta])
    return _segment(SOS, payload + bytes([ss, se, (ah << 4) | al]))


def write_com(text: bytes) -> bytes:
    return _segment(COM, bytes(text))


def write_app(n: int, payload: bytes) -> bytes:
    return _segment(APP0 + n, bytes(payload))


def write_avi1() -> bytes:
    """The APP0 "AVI1" segment of Motion-JPEG frames (as AVI/UVC capture devices write it): the
    identifier, field polarity 0 (not interlaced), a reserved zero and two 32-bit field sizes left 0
    (unknown), the layout ffmpeg's mjpegdec.c documents for it."""
    return write_app(0, b"AVI1" + bytes(10))


def write_adobe(transform: int) -> bytes:
    """Adobe APP14 (version 100, no flags) carrying the colour transform: 0 none (RGB/CMYK), 1 YCbCr, 2 YCCK."""
    return write_app(14, b"Adobe" + (100).to_bytes(2, "big") + b"\x00\x00\x00\x00" + bytes([transform]))
