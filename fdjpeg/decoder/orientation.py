"""EXIF orientation: find the Orientation tag and apply it as Pillow's ``ImageOps.exif_transpose`` does.

Where the tag is read: the first APP1 segment whose payload starts with ``Exif\\0\\0`` (the one Pillow
keeps as ``info["exif"]``), before the first SOS; in it a TIFF header ("II*\\0" little-endian or
"MM\\0*" big-endian, EXIF 2.32 section 4.5.2), the offset of IFD0, and in IFD0 the entry with tag
0x0112 (Orientation) of type SHORT (or LONG) and count 1. Values 1..8 are meaningful (1: as stored);
others are ignored, as Pillow ignores them. A damaged EXIF block (truncated, a bad byte-order mark, an
IFD0 offset or entry table outside the segment) gives one ``JPEGWarning`` and no transform -- never an
error: the pixels are good even when the metadata is not.
"""

from __future__ import annotations

import struct
import warnings

import numpy as np

from ..base.errors import JPEGWarning

#: EXIF IFD0 tag number of Orientation (TIFF 6.0 / EXIF 2.32 Table 4).
ORIENTATION_TAG = 0x0112

#: Orientation value -> the transform Pillow's exif_transpose applies (Image.Transpose names).
TRANSPOSE_NAMES = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


def _exif_payload(data: bytes) -> bytes | None:
    """The first APP1 Exif payload (after ``Exif\\0\\0``) before the first SOS, or None."""
    i = 2 if data[:2] == b"\xff\xd8" else None
    if i is None:
        return None
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            i += 1  # junk between segments: skip it, as the reader does
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker in (0xDA, 0xD9):
            return None
        length = (data[i + 2] << 8) | data[i + 3]
        if length < 2:
            return None
        payload = data[i + 4 : i + 2 + length]
        if marker == 0xE1 and payload[:6] == b"Exif\x00\x00":
            return payload[6:]
        i += 2 + length
    return None


def parse_orientation(tiff: bytes) -> int:
    """The Orientation value in a TIFF-structured EXIF block (1 when absent); raises ValueError when
    the block is damaged."""
    if len(tiff) < 8:
        raise ValueError(f"EXIF block of {len(tiff)} bytes is shorter than a TIFF header")
    if tiff[:4] == b"II*\x00":
        order = "<"
    elif tiff[:4] == b"MM\x00*":
        order = ">"
    else:
        raise ValueError(f"EXIF block starts with {tiff[:4]!r}, not a TIFF header")
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd < 8 or ifd + 2 > len(tiff):
        raise ValueError(f"IFD0 offset {ifd} outside the {len(tiff)}-byte EXIF block")
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    if ifd + 2 + 12 * count > len(tiff):
        raise ValueError(f"IFD0's {count} entries run past the end of the EXIF block")
    for k in range(count):
        tag, typ, n = struct.unpack_from(order + "HHI", tiff, ifd + 2 + 12 * k)
        if tag != ORIENTATION_TAG:
            continue
        if typ == 3 and n >= 1:
            return struct.unpack_from(order + "H", tiff, ifd + 2 + 12 * k + 8)[0]
        if typ == 4 and n == 1:
            return struct.unpack_from(order + "I", tiff, ifd + 2 + 12 * k + 8)[0]
        raise ValueError(f"Orientation entry has type {typ} and count {n}, not one SHORT")
    return 1


def exif_orientation(data: bytes) -> int:
    """The EXIF Orientation of a JPEG file's bytes: 1..8, or 1 when absent, invalid or damaged
    (damage also warns with ``JPEGWarning``)."""
    tiff = _exif_payload(bytes(data))
    if tiff is None:
        return 1
    try:
        value = parse_orientation(tiff)
    except (ValueError, struct.error) as exc:
        warnings.warn(f"damaged EXIF data ignored: {exc}", JPEGWarning, stacklevel=3)
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip an (H, W) or (H, W, C) array as exif_transpose does for ``orientation`` (a new
    contiguous array; the input itself for 1 and unknown values)."""
    if orientation == 2:
        out = pixels[:, ::-1]
    elif orientation == 3:
        out = pixels[::-1, ::-1]
    elif orientation == 4:
        out = pixels[::-1]
    elif orientation == 5:  # transpose: the main diagonal
        out = pixels.swapaxes(0, 1)
    elif orientation == 6:  # 90 degrees clockwise
        out = np.rot90(pixels, -1)
    elif orientation == 7:  # transverse: the anti-diagonal
        out = pixels[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:  # 90 degrees counter-clockwise
        out = np.rot90(pixels, 1)
    else:
        return pixels
    return np.ascontiguousarray(out)
