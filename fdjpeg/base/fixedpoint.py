"""Fixed-point constants and integer helpers shared by the encoder's and the decoder's kernels.

The DCT constants are libjpeg's ``FIX(x) = round(x * 2**13)`` (jfdctint.c / jidctint.c; CONST_BITS = 13,
PASS1_BITS = 2 extra bits kept between the passes). The colour constants are the JFIF/CCIR 601
coefficients in 16.16 fixed point (jccolor.c / jdcolor.c), where ``FIX(x) = round(x * 2**16)``:
    Y  =  0.29900 R + 0.58700 G + 0.11400 B
    Cb = -0.16874 R - 0.33126 G + 0.50000 B + 128
    Cr =  0.50000 R - 0.41869 G - 0.08131 B + 128
``_wrap16``/``_wrap32`` reproduce C's wraparound of 16/32-bit integers (the IDCT, block smoothing and the
progressive entropy decoder need it for hostile files).
"""

from __future__ import annotations

from .jit import kernel

CONST_BITS = 13
PASS1_BITS = 2

# FIX(x) = round(x * 2**13), libjpeg's precomputed constants (jfdctint.c / jidctint.c).
FIX_0_298631336 = 2446
FIX_0_390180644 = 3196
FIX_0_541196100 = 4433
FIX_0_765366865 = 6270
FIX_0_899976223 = 7373
FIX_1_175875602 = 9633
FIX_1_501321110 = 12299
FIX_1_847759065 = 15137
FIX_1_961570560 = 16069
FIX_2_053119869 = 16819
FIX_2_562915447 = 20995
FIX_3_072711026 = 25172

#: Blocks per batch of the lane kernels (encoder/fdct.py, decoder/idct_lanes.py, fd/roundtrip.py): every
#: array of a batch is laid out [position][block], so each loop runs over the block index.
GROUP = 32

# Colour conversion (jccolor.c / jdcolor.c).
SCALEBITS = 16
ONE_HALF = 1 << (SCALEBITS - 1)
CBCR_OFFSET = 128 << SCALEBITS


def FIX(x: float) -> int:
    """libjpeg's colour ``FIX``: a coefficient in 16.16 fixed point, rounded to nearest."""
    return int(x * (1 << SCALEBITS) + 0.5)


FIX_0_29900 = FIX(0.29900)
FIX_0_58700 = FIX(0.58700)
FIX_0_11400 = FIX(0.11400)
FIX_0_16874 = FIX(0.16874)
FIX_0_33126 = FIX(0.33126)
FIX_0_50000 = FIX(0.50000)
FIX_0_41869 = FIX(0.41869)
FIX_0_08131 = FIX(0.08131)


@kernel
def _wrap16(x):
    """The low 16 bits of x as a signed value: C's conversion to a 16-bit short (JCOEF, vpaddw)."""
    return ((x + 32768) & 0xFFFF) - 32768


@kernel
def _wrap32(x):
    """The low 32 bits of x as a signed value: libjpeg's int arithmetic on overflow."""
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@kernel
def _sat16(x):
    return min(max(x, -32768), 32767)
