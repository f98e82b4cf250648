"""The one set of limits: frame sizes, components, blocks per MCU, and the decoder's resource guards."""

from __future__ import annotations

#: Largest width or height T.81 can express (16-bit X and Y in the SOF, T.81 B.2.2): the encoder's limit.
MAX_DIMENSION = 65535
#: libjpeg's JPEG_MAX_DIMENSION: the decoder refuses larger frames (jdinput.c initial_setup).
JPEG_MAX_DIMENSION = 65500
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
