"""The one set of limits: frame sizes, components, blocks per MCU, and the decoder's resource guards."""

from __future__ import annotations

#: libjpeg's JPEG_MAX_DIMENSION: its decoders (djpeg, Pillow) and fdjpeg's refuse larger frames
#: (jdinput.c initial_setup), so nothing fdjpeg writes may exceed it either (the 16-bit X and Y of the
#: SOF, T.81 B.2.2, could carry up to 65535).
MAX_DIMENSION = 65500
#: libjpeg's MAX_COMPONENTS (components per frame) and MAX_COMPS_IN_SCAN (T.81 B.2.3: Ns <= 4).
MAX_COMPONENTS = 10
MAX_COMPS_IN_SCAN = 4
#: T.81 B.2.3: an interleaved MCU holds at most 10 blocks (libjpeg's D_MAX_BLOCKS_IN_MCU).
MAX_BLOCKS_IN_MCU = 10

#: The decoders' default bound on pixels: Pillow's decompression-bomb threshold,
#: ``PIL.Image.MAX_IMAGE_PIXELS`` = 1024 * 1024 * 1024 // 4 // 3.
MAX_PIXELS = 89_478_485
#: The decoders' default bound on scans (real progressive files have about 10; jpegtran scripts rarely 100).
MAX_SCANS = 1000


def check_dimensions(width: int, height: int, name: str) -> None:
    """ValueError unless both sides are in 1..MAX_DIMENSION (libjpeg's limit, which every writer enforces)."""
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise ValueError(
            f"{name} size {width}x{height} is outside 1..{MAX_DIMENSION} in width or height "
            f"({MAX_DIMENSION} is libjpeg's limit: larger files are refused by its decoders and fdjpeg's)"
        )
