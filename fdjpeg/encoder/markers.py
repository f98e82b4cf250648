"""The compressor's marker writer (libjpeg's jcmarker.c) and file assembly: marker segments, metadata
(EXIF, ICC, comments), one sequential scan wrapped in its headers (``write_baseline``), and
``write_coefficients``, which writes a ``JPEGCoefficients`` without changing any coefficient.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..base.huffman import STANDARD_AC, STANDARD_DC, optimal_spec
from ..base.layout import FrameLayout
from ..base.limits import MAX_DIMENSION
from ..base.markers import APP0, COM, DAC, DHT, DQT, DRI, MAX_SEGMENT_PAYLOAD, SOF0, SOF1, SOF9, SOS, marker_name
from ..base.zigzag import to_zigzag
from .arithmetic import conditioning, encode_scan_arithmetic
from .entropy import components_in_mcu, encode_scan, gather_frequencies

ICC_CHUNK = MAX_SEGMENT_PAYLOAD - 14  # "ICC_PROFILE\0" + sequence number + chunk count
EXIF_HEADER = b"Exif\x00\x00"


# --------------------------------------------------------------------------------------------------
# Marker segments. Each function returns one complete segment as bytes.


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
    values = [int(v) for v in to_zigzag(table)]
    if max(values) <= 255:
        return _segment(DQT, bytes([index]) + bytes(values))
    return _segment(DQT, bytes([0x10 | index]) + b"".join(v.to_bytes(2, "big") for v in values))


def write_sof(code: int, width: int, height: int, components) -> bytes:
    """SOFn with 8-bit precision; ``components`` = [(id, h, v, tq), ...] (T.81 B.2.2).

    Sizes over libjpeg's 65500 are refused (the callers validate first; this is the last net)."""
    if not (1 <= width <= MAX_DIMENSION and 0 <= height <= MAX_DIMENSION):
        raise ValueError(f"frame size {width}x{height} is outside libjpeg's limit of {MAX_DIMENSION}")
    payload = bytes([8]) + height.to_bytes(2, "big") + width.to_bytes(2, "big") + bytes([len(components)])
    for cid, h, v, tq in components:
        payload += bytes([cid, (h << 4) | v, tq])
    return _segment(code, payload)


def write_dht(is_ac: bool, index: int, spec) -> bytes:
    """One DHT segment for one table (T.81 B.2.4.2), as libjpeg writes them: one table per segment."""
    return _segment(DHT, bytes([(0x10 if is_ac else 0) | index]) + spec.segment_payload())


def write_dac(payload: bytes) -> bytes:
    """DAC (T.81 B.2.4.3): pairs of Tc/Tb and conditioning value, as arithmetic.conditioning builds them."""
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


# --------------------------------------------------------------------------------------------------
# Metadata


def _int_arg(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return int(value)


def _as_bytes(value, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes (or str for comment), got {type(value).__name__}")


def _check_arithmetic_coding(arithmetic, optimize) -> None:
    """The ``arithmetic`` argument: a bool, and not with ``optimize`` (libjpeg silently drops
    optimize_coding for arithmetic coding, jcmaster.c; asking for both is a mistake worth naming)."""
    if not isinstance(arithmetic, (bool, np.bool_)):
        raise TypeError(f"arithmetic must be a bool, got {arithmetic!r}")
    if arithmetic and optimize:
        raise ValueError(
            "arithmetic=True adapts its own statistics; optimize=True (optimal Huffman tables) does "
            "not apply to it: drop one of them"
        )


def metadata_segments(comment=None, exif=None, icc_profile=None) -> tuple[list[bytes], list[bytes]]:
    """APPn segments (EXIF then ICC chunks) and COM segments, in the order Pillow/libjpeg write them."""
    apps: list[bytes] = []
    coms: list[bytes] = []
    if exif is not None:
        exif = _as_bytes(exif, "exif")
        if exif and not exif.startswith(EXIF_HEADER):
            if exif[:4] not in (b"II*\x00", b"MM\x00*"):
                raise ValueError("exif must start with b'Exif\\x00\\x00' or a TIFF header (b'II*\\x00' / b'MM\\x00*')")
            exif = EXIF_HEADER + exif
        if len(exif) > MAX_SEGMENT_PAYLOAD:
            raise ValueError(f"exif is {len(exif)} bytes; one APP1 segment holds at most {MAX_SEGMENT_PAYLOAD}")
        if exif:
            apps.append(write_app(1, exif))
    if icc_profile is not None:
        icc = _as_bytes(icc_profile, "icc_profile")
        if icc:
            if len(icc) < 128 or icc[36:40] != b"acsp":
                raise ValueError("icc_profile is not an ICC profile (no 'acsp' signature at byte 36)")
            chunks = [icc[i : i + ICC_CHUNK] for i in range(0, len(icc), ICC_CHUNK)]
            if len(chunks) > 255:
                raise ValueError(f"icc_profile of {len(icc)} bytes needs {len(chunks)} APP2 chunks; at most 255 fit")
            for i, chunk in enumerate(chunks, 1):
                apps.append(write_app(2, b"ICC_PROFILE\x00" + bytes([i, len(chunks)]) + chunk))
    if comment is not None:
        text = _as_bytes(comment, "comment")
        if len(text) > MAX_SEGMENT_PAYLOAD:
            raise ValueError(f"comment is {len(text)} bytes; one COM segment holds at most {MAX_SEGMENT_PAYLOAD}")
        if text:
            coms.append(write_com(text))
    return apps, coms


# --------------------------------------------------------------------------------------------------
# File assembly


def write_baseline(
    layout: FrameLayout,
    component_ids,
    blocks,
    qtables,
    tq,
    *,
    optimize=False,
    restart_interval=0,
    restart_rows=0,
    app_segments=(),
    com_segments=(),
    colour_segment=None,
    with_dht=True,
    arithmetic=False,
    entropy=None,
) -> bytes:
    """Assemble a sequential file with one scan (interleaved when there are several components) from
    quantized blocks (n, 64) int16 in transmission order (see ``FrameLayout.transmission_order``).

    Marker order is libjpeg's: SOI, APP0 JFIF (or ``colour_segment``, e.g. Adobe APP14), APPn (EXIF,
    ICC), COM, DQT per table, SOF0 (SOF1 when a table needs 16-bit entries), DHT per table (DC then AC,
    component order), DRI, SOS, entropy-coded data, EOI. ``with_dht=False`` leaves the DHT segments
    out (a Motion-JPEG frame coded with the standard tables, which its decoders then assume).
    ``arithmetic=True`` codes the scan with the arithmetic coder instead (arithmetic.py): SOF9
    and a DAC segment with libjpeg's default conditioning where SOF0/1 and DHT would be, as
    ``cjpeg -arithmetic`` writes them (``optimize`` does not apply). ``entropy``: the scan already
    coded, (data, dc_specs, ac_specs) with the Huffman tables it was coded with (encoder/batch.py).
    """
    ncomp = len(layout.sampling)
    # Luma uses Huffman tables 0, chroma (every further component) tables 1, like jpeg_set_colorspace.
    htbl = [0] + [1] * (ncomp - 1)
    comp_in_mcu = components_in_mcu(layout.scan_sampling)
    blocks = np.ascontiguousarray(blocks, dtype=np.int16)
    if restart_rows:
        restart_interval = min(restart_rows * layout.mcus_x, 65535)
    if entropy is not None:
        data, dc_specs, ac_specs = entropy
    elif arithmetic:
        dc_l, dc_u, ac_k, dac = conditioning(set(htbl), set(htbl))
        data = encode_scan_arithmetic(blocks, comp_in_mcu, htbl, htbl, dc_l, dc_u, ac_k, restart_interval)
        dc_specs = ac_specs = []
    elif optimize:
        dc_freq, ac_freq = gather_frequencies(blocks, comp_in_mcu, htbl, htbl, restart_interval)
        used = sorted(set(htbl))
        dc_specs = [optimal_spec(dc_freq[t]) if t in used else None for t in range(2)]
        ac_specs = [optimal_spec(ac_freq[t]) if t in used else None for t in range(2)]
    else:
        dc_specs = list(STANDARD_DC)
        ac_specs = list(STANDARD_AC)
    if not arithmetic and entropy is None:
        # No blocks (the headers alone, for the banded and streaming encoders) code to nothing: skip the
        # coder, whose kernel would otherwise be loaded for no work.
        data = (
            b""
            if blocks.shape[0] == 0
            else encode_scan(blocks, comp_in_mcu, htbl, htbl, dc_specs, ac_specs, restart_interval)
        )

    out = [write_soi(), colour_segment or write_jfif(), *app_segments, *com_segments]
    written = set()
    for c in range(ncomp):
        if tq[c] not in written:
            out.append(write_dqt(tq[c], qtables[tq[c]]))
            written.add(tq[c])
    sof = SOF0 if all(int(np.max(qtables[t])) <= 255 for t in set(tq)) else SOF1
    if arithmetic:
        sof = SOF9
    out.append(
        write_sof(
            sof, layout.width, layout.height, [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)]
        )
    )
    sent = set() if with_dht and not arithmetic else {(a, t) for a in (False, True) for t in (0, 1)}
    if arithmetic:
        out.append(write_dac(dac))
    for c in range(ncomp):
        for is_ac, specs in ((False, dc_specs), (True, ac_specs)):
            if (is_ac, htbl[c]) not in sent:
                out.append(write_dht(is_ac, htbl[c], specs[htbl[c]]))
                sent.add((is_ac, htbl[c]))
    if restart_interval:
        out.append(write_dri(restart_interval))
    out.append(write_sos([(component_ids[c], htbl[c], htbl[c]) for c in range(ncomp)]))
    out.append(data)
    out.append(write_eoi())
    return b"".join(out)
