"""The 8x8 DCT: libjpeg's accurate integer ("islow") forward transform and quantization (jfdctint.c,
jcdctmgr.c), plus a slow float reference.

The islow FDCT is the Loeffler-Ligtenberg-Moschytz algorithm in 13-bit fixed point with 2 extra bits
kept between the row and column passes (CONST_BITS = 13, PASS1_BITS = 2). Its output is the
orthonormal 2-D DCT of the level-shifted block scaled by 8, which is why quantization divides by
8*Q. Quantization uses libjpeg-turbo's reciprocal multiplication (``compute_reciprocal``), whose
results equal rounding |x| / (8Q) half-up with libjpeg's correction term.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

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


@kernel
def _fdct_islow(ws):
    """In-place islow FDCT of one block held as 64 int32 values in natural order (jfdctint.c)."""
    # Pass 1: rows. Results are scaled up by sqrt(8) and by 2**PASS1_BITS.
    for r in range(8):
        o = r * 8
        tmp0 = ws[o + 0] + ws[o + 7]
        tmp7 = ws[o + 0] - ws[o + 7]
        tmp1 = ws[o + 1] + ws[o + 6]
        tmp6 = ws[o + 1] - ws[o + 6]
        tmp2 = ws[o + 2] + ws[o + 5]
        tmp5 = ws[o + 2] - ws[o + 5]
        tmp3 = ws[o + 3] + ws[o + 4]
        tmp4 = ws[o + 3] - ws[o + 4]

        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2

        ws[o + 0] = (tmp10 + tmp11) << PASS1_BITS
        ws[o + 4] = (tmp10 - tmp11) << PASS1_BITS

        z1 = (tmp12 + tmp13) * FIX_0_541196100
        n = CONST_BITS - PASS1_BITS
        rnd = 1 << (n - 1)
        ws[o + 2] = (z1 + tmp13 * FIX_0_765366865 + rnd) >> n
        ws[o + 6] = (z1 - tmp12 * FIX_1_847759065 + rnd) >> n

        # Odd part (Figure 8 of the LL&M paper; the paper omits a factor of sqrt(2)).
        z1 = tmp4 + tmp7
        z2 = tmp5 + tmp6
        z3 = tmp4 + tmp6
        z4 = tmp5 + tmp7
        z5 = (z3 + z4) * FIX_1_175875602

        tmp4 = tmp4 * FIX_0_298631336
        tmp5 = tmp5 * FIX_2_053119869
        tmp6 = tmp6 * FIX_3_072711026
        tmp7 = tmp7 * FIX_1_501321110
        z1 = z1 * -FIX_0_899976223
        z2 = z2 * -FIX_2_562915447
        z3 = z3 * -FIX_1_961570560 + z5
        z4 = z4 * -FIX_0_390180644 + z5

        ws[o + 7] = (tmp4 + z1 + z3 + rnd) >> n
        ws[o + 5] = (tmp5 + z2 + z4 + rnd) >> n
        ws[o + 3] = (tmp6 + z2 + z3 + rnd) >> n
        ws[o + 1] = (tmp7 + z1 + z4 + rnd) >> n

    # Pass 2: columns. Removes the PASS1_BITS scaling; the output stays scaled up by 8.
    for c in range(8):
        tmp0 = ws[c + 0] + ws[c + 56]
        tmp7 = ws[c + 0] - ws[c + 56]
        tmp1 = ws[c + 8] + ws[c + 48]
        tmp6 = ws[c + 8] - ws[c + 48]
        tmp2 = ws[c + 16] + ws[c + 40]
        tmp5 = ws[c + 16] - ws[c + 40]
        tmp3 = ws[c + 24] + ws[c + 32]
        tmp4 = ws[c + 24] - ws[c + 32]

        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2

        rnd1 = 1 << (PASS1_BITS - 1)
        ws[c + 0] = (tmp10 + tmp11 + rnd1) >> PASS1_BITS
        ws[c + 32] = (tmp10 - tmp11 + rnd1) >> PASS1_BITS

        n = CONST_BITS + PASS1_BITS
        rnd = 1 << (n - 1)
        z1 = (tmp12 + tmp13) * FIX_0_541196100
        ws[c + 16] = (z1 + tmp13 * FIX_0_765366865 + rnd) >> n
        ws[c + 48] = (z1 - tmp12 * FIX_1_847759065 + rnd) >> n

        z1 = tmp4 + tmp7
        z2 = tmp5 + tmp6
        z3 = tmp4 + tmp6
        z4 = tmp5 + tmp7
        z5 = (z3 + z4) * FIX_1_175875602

        tmp4 = tmp4 * FIX_0_298631336
        tmp5 = tmp5 * FIX_2_053119869
        tmp6 = tmp6 * FIX_3_072711026
        tmp7 = tmp7 * FIX_1_501321110
        z1 = z1 * -FIX_0_899976223
        z2 = z2 * -FIX_2_562915447
        z3 = z3 * -FIX_1_961570560 + z5
        z4 = z4 * -FIX_0_390180644 + z5

        ws[c + 56] = (tmp4 + z1 + z3 + rnd) >> n
        ws[c + 40] = (tmp5 + z2 + z4 + rnd) >> n
        ws[c + 24] = (tmp6 + z2 + z3 + rnd) >> n
        ws[c + 8] = (tmp7 + z1 + z4 + rnd) >> n


def quant_divisors(qtable) -> np.ndarray:
    """libjpeg-turbo's ``compute_reciprocal`` for the islow DCT (divisor = 8*Q, 16-bit DCTELEM).

    Returns a (3, 64) int64 array: reciprocal, correction (rounding) and shift, natural order.
    """
    q = np.asarray(qtable, dtype=np.int64).reshape(64)
    out = np.zeros((3, 64), dtype=np.int64)
    for i in range(64):
        divisor = int(q[i]) << 3
        b = divisor.bit_length() - 1
        r = 16 + b
        fq, fr = divmod(1 << r, divisor)
        c = divisor // 2
        if fr == 0:  # power of two: fq would need 17 bits, so halve it
            fq >>= 1
            r -= 1
        elif fr <= divisor // 2:
            c += 1
        else:
            fq += 1
        out[0, i], out[1, i], out[2, i] = fq, c, r
    return out


@kernel
def _fdct_quantize_plane(plane, divisors, out):
    """Level-shift, FDCT and quantize every 8x8 block of a uint8 plane into out[by, bx, 64] (int16)."""
    nby, nbx = out.shape[0], out.shape[1]
    ws = np.empty(64, dtype=np.int32)
    for by in range(nby):
        for bx in range(nbx):
            for r in range(8):
                for c in range(8):
                    ws[r * 8 + c] = np.int32(plane[by * 8 + r, bx * 8 + c]) - 128
            _fdct_islow(ws)
            for i in range(64):
                x = np.int64(ws[i])
                if x < 0:
                    out[by, bx, i] = -(((-x + divisors[1, i]) * divisors[0, i]) >> divisors[2, i])
                else:
                    out[by, bx, i] = ((x + divisors[1, i]) * divisors[0, i]) >> divisors[2, i]


def forward_dct_quantize(plane: np.ndarray, qtable) -> np.ndarray:
    """Quantized islow DCT coefficients (by, bx, 64) int16, natural order, of a plane whose sides are multiples of 8."""
    rows, cols = plane.shape
    out = np.empty((rows // 8, cols // 8, 64), np.int16)
    _fdct_quantize_plane(np.ascontiguousarray(plane, dtype=np.uint8), quant_divisors(qtable), out)
    return out


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix C, so that a block's 2-D DCT is C @ B @ C.T."""
    k = np.arange(8)[:, None]
    n = np.arange(8)[None, :]
    c = np.cos((2 * n + 1) * k * np.pi / 16) * np.sqrt(2 / 8)
    c[0] /= np.sqrt(2)
    return c


def fdct_float_reference(block) -> np.ndarray:
    """Slow float reference: orthonormal 2-D DCT of an 8x8 block, times 8 (the islow scaling)."""
    c = dct_matrix()
    return 8.0 * (c @ np.asarray(block, dtype=np.float64) @ c.T)
