"""Pixel reconstruction of 12-bit DCT frames (P = 12: SOF1, SOF2, SOF9, SOF10, and SOF0 as libjpeg
accepts it), exactly as libjpeg-turbo 3.x's 12-bit pipeline (its ``jpeg12_*`` API, which imagecodecs
drives) reconstructs them. Output: uint16 samples 0..4095.

libjpeg-turbo has no SIMD code for 12-bit samples, so every stage is its portable C code compiled
with ``BITS_IN_JSAMPLE == 12`` (MAXJSAMPLE = 4095, CENTERJSAMPLE = 2048):

* islow IDCT (jidctint.c): CONST_BITS = 13 but PASS1_BITS = 1 (not 2: "lose a little precision to
  avoid overflow"), plain 64-bit multiplies (no MULTIPLY16C16), the pass-1 workspace in C ``int``;
  dequantization by the ``ISLOW_MULT_TYPE`` table, which is ``short`` in SIMD-enabled builds (a
  16-bit DQT entry above 32767 acts as negative, as in dct.py's "c16"/"simd" arithmetic);
* range limiting (jdmaster.c prepare_range_limit_table): the IDCT output x is masked to 14 bits
  (RANGE_MASK = 4 * 4095 + 3), read as signed around 8192, offset by 2048 and clamped to 0..4095;
* fancy upsampling (jdsample.c h2v1/h1v2/h2v2 fancy, int_upsample), the same filters as the 8-bit
  path (sampling.py) in wider arithmetic;
* colour conversion (jdcolor.c build_ycc_rgb_table/ycc_rgb_convert, ycck_cmyk_convert) with tables
  over 0..4095 centred at 2048: R = Y + Cr_r[Cr], G = Y + ((Cb_g[Cb] + Cr_g[Cr]) >> 16),
  B = Y + Cb_b[Cb], each clamped to 0..4095.

4-component output follows the 8-bit convention (decoder.py): CMYK stored inverted, 4095 - libjpeg's value.
Block smoothing of incomplete progressive 12-bit files is not implemented (``UnsupportedJPEG``).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .errors import JPEGError, UnsupportedJPEG
from .sampling import METHOD_CODES, upsample_method

MAXJ12 = 4095
CENTERJ12 = 2048
_CONST_BITS = 13
_PASS1_BITS = 1

_F0_298 = 2446
_F0_390 = 3196
_F0_541 = 4433
_F0_765 = 6270
_F0_899 = 7373
_F1_175 = 9633
_F1_501 = 12299
_F1_847 = 15137
_F1_961 = 16069
_F2_053 = 16819
_F2_562 = 20995
_F3_072 = 25172


@kernel
def _i32(x):
    """C's conversion of a 64-bit value to ``int`` (two's-complement wrap)."""
    return ((x + 2147483648) & 0xFFFFFFFF) - 2147483648


@kernel
def _limit12(x):
    """jidctint.c ``range_limit[(int)DESCALE(...) & RANGE_MASK]`` for 12-bit samples."""
    s = ((x + 8192) & 16383) - 8192
    v = s + CENTERJ12
    if v < 0:
        return 0
    if v > MAXJ12:
        return MAXJ12
    return v


@kernel
def _idct12_block(coef, q, ws, plane, y0, x0):
    """jpeg_idct_islow at BITS_IN_JSAMPLE == 12 for one block (coef: 64 int16, natural order)."""
    rnd1 = np.int64(1) << (_CONST_BITS - _PASS1_BITS - 1)
    sh1 = _CONST_BITS - _PASS1_BITS
    for c in range(8):
        if (coef[8 + c] == 0 and coef[16 + c] == 0 and coef[24 + c] == 0 and coef[32 + c] == 0
                and coef[40 + c] == 0 and coef[48 + c] == 0 and coef[56 + c] == 0):
            dcval = _i32((np.int64(coef[c]) * q[c]) << _PASS1_BITS)
            for r in range(8):
                ws[r * 8 + c] = dcval
            continue
        z2 = np.int64(coef[16 + c]) * q[16 + c]
        z3 = np.int64(coef[48 + c]) * q[48 + c]
        z1 = (z2 + z3) * _F0_541
        tmp2 = z1 + z3 * (-_F1_847)
        tmp3 = z1 + z2 * _F0_765
        z2 = np.int64(coef[c]) * q[c]
        z3 = np.int64(coef[32 + c]) * q[32 + c]
        tmp0 = (z2 + z3) << _CONST_BITS
        tmp1 = (z2 - z3) << _CONST_BITS
        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2
        tmp0 = np.int64(coef[56 + c]) * q[56 + c]
        tmp1 = np.int64(coef[40 + c]) * q[40 + c]
        tmp2 = np.int64(coef[24 + c]) * q[24 + c]
        tmp3 = np.int64(coef[8 + c]) * q[8 + c]
        z1 = tmp0 + tmp3
        z2 = tmp1 + tmp2
        z3 = tmp0 + tmp2
        z4 = tmp1 + tmp3
        z5 = (z3 + z4) * _F1_175
        tmp0 = tmp0 * _F0_298
        tmp1 = tmp1 * _F2_053
        tmp2 = tmp2 * _F3_072
        tmp3 = tmp3 * _F1_501
        z1 = z1 * (-_F0_899)
        z2 = z2 * (-_F2_562)
        z3 = z3 * (-_F1_961)
        z4 = z4 * (-_F0_390)
        z3 += z5
        z4 += z5
        tmp0 += z1 + z3
        tmp1 += z2 + z4
        tmp2 += z2 + z3
        tmp3 += z1 + z4
        ws[c] = _i32((tmp10 + tmp3 + rnd1) >> sh1)
        ws[56 + c] = _i32((tmp10 - tmp3 + rnd1) >> sh1)
        ws[8 + c] = _i32((tmp11 + tmp2 + rnd1) >> sh1)
        ws[48 + c] = _i32((tmp11 - tmp2 + rnd1) >> sh1)
        ws[16 + c] = _i32((tmp12 + tmp1 + rnd1) >> sh1)
        ws[40 + c] = _i32((tmp12 - tmp1 + rnd1) >> sh1)
        ws[24 + c] = _i32((tmp13 + tmp0 + rnd1) >> sh1)
        ws[32 + c] = _i32((tmp13 - tmp0 + rnd1) >> sh1)
    sh2 = _CONST_BITS + _PASS1_BITS + 3
    rnd2 = np.int64(1) << (sh2 - 1)
    for r in range(8):
        w = ws[r * 8: r * 8 + 8]
        out = plane[y0 + r]
        if w[1] == 0 and w[2] == 0 and w[3] == 0 and w[4] == 0 and w[5] == 0 and w[6] == 0 and w[7] == 0:
            dcval = _limit12((w[0] + (1 << (_PASS1_BITS + 2))) >> (_PASS1_BITS + 3))
            for k in range(8):
                out[x0 + k] = dcval
            continue
        z2 = w[2]
        z3 = w[6]
        z1 = (z2 + z3) * _F0_541
        tmp2 = z1 + z3 * (-_F1_847)
        tmp3 = z1 + z2 * _F0_765
        tmp0 = (w[0] + w[4]) << _CONST_BITS
        tmp1 = (w[0] - w[4]) << _CONST_BITS
        tmp10 = tmp0 + tmp3
        tmp13 = tmp0 - tmp3
        tmp11 = tmp1 + tmp2
        tmp12 = tmp1 - tmp2
        tmp0 = w[7]
        tmp1 = w[5]
        tmp2 = w[3]
        tmp3 = w[1]
        z1 = tmp0 + tmp3
        z2 = tmp1 + tmp2
        z3 = tmp0 + tmp2
        z4 = tmp1 + tmp3
        z5 = (z3 + z4) * _F1_175
        tmp0 = tmp0 * _F0_298
        tmp1 = tmp1 * _F2_053
        tmp2 = tmp2 * _F3_072
        tmp3 = tmp3 * _F1_501
        z1 = z1 * (-_F0_899)
        z2 = z2 * (-_F2_562)
        z3 = z3 * (-_F1_961)
        z4 = z4 * (-_F0_390)
        z3 += z5
        z4 += z5
        tmp0 += z1 + z3
        tmp1 += z2 + z4
        tmp2 += z2 + z3
        tmp3 += z1 + z4
        out[x0] = _limit12((tmp10 + tmp3 + rnd2) >> sh2)
        out[x0 + 7] = _limit12((tmp10 - tmp3 + rnd2) >> sh2)
        out[x0 + 1] = _limit12((tmp11 + tmp2 + rnd2) >> sh2)
        out[x0 + 6] = _limit12((tmp11 - tmp2 + rnd2) >> sh2)
        out[x0 + 2] = _limit12((tmp12 + tmp1 + rnd2) >> sh2)
        out[x0 + 5] = _limit12((tmp12 - tmp1 + rnd2) >> sh2)
        out[x0 + 3] = _limit12((tmp13 + tmp0 + rnd2) >> sh2)
        out[x0 + 4] = _limit12((tmp13 - tmp0 + rnd2) >> sh2)


@kernel
def _idct12_plane(blocks, q, plane):
    """Every block of blocks (by, bx, 64) int16 -> plane (8 by, 8 bx) uint16."""
    ws = np.empty(64, np.int64)
    for by in range(plane.shape[0] // 8):
        for bx in range(plane.shape[1] // 8):
            _idct12_block(blocks[by, bx], q, ws, plane, by * 8, bx * 8)


@kernel
def _fancy_row12(c, n, width, bias_even, bias_odd, shift, out):
    """The horizontal triangle filter of sampling._fancy_row (jdsample.c), in int64."""
    for j in range((width + 1) // 2):
        near = np.int64(c[j]) * 3
        if 2 * j < width:
            out[2 * j] = (near + np.int64(c[max(j - 1, 0)]) + bias_even) >> shift
        if 2 * j + 1 < width:
            out[2 * j + 1] = (near + np.int64(c[min(j + 1, n - 1)]) + bias_odd) >> shift


@kernel
def _upsample_row12(src, method, h_expand, v_expand, dw, dh, y, width, cs, out):
    """sampling._upsample_row for 12-bit samples (out: int64 row of at least width)."""
    if method == 0:
        row = src[y]
        for x in range(width):
            out[x] = row[x]
    elif method == 1:
        _fancy_row12(src[y], dw, width, 1, 2, 2, out)
    elif method == 2:
        i = y >> 1
        if y & 1:
            far = src[min(i + 1, dh - 1)]
            bias = 2
        else:
            far = src[max(i - 1, 0)]
            bias = 1
        near = src[i]
        for x in range(width):
            out[x] = (np.int64(near[x]) * 3 + np.int64(far[x]) + bias) >> 2
    elif method == 3:
        i = y >> 1
        near = src[i]
        far = src[min(i + 1, dh - 1)] if y & 1 else src[max(i - 1, 0)]
        for j in range(dw):
            cs[j] = np.int64(near[j]) * 3 + np.int64(far[j])
        _fancy_row12(cs, dw, width, 8, 7, 4, out)
    else:
        row = src[y // v_expand]
        for x in range(width):
            out[x] = row[x // h_expand]


@kernel
def _clamp12(v):
    if v < 0:
        return 0
    if v > MAXJ12:
        return MAXJ12
    return v


@kernel
def _compose12(planes, params, tables, cspace, out):
    """Upsample each component (params rows: method, h_expand, v_expand, dw, dh) and convert colour
    into out (H, W, channels) uint16. cspace: 0 L, 1 YCbCr, 2 RGB, 3 CMYK, 4 YCCK (as decoder._COMPOSE)."""
    height, width = out.shape[0], out.shape[1]
    nc = len(planes)
    rows = np.zeros((4, max(width, 1)), np.int64)
    cs = np.empty(max(width, 1) + 8, np.int64)
    crr, cbb, crg, cbg = tables[0], tables[1], tables[2], tables[3]
    for y in range(height):
        for ci in range(nc):
            p = params[ci]
            _upsample_row12(planes[ci], p[0], p[1], p[2], p[3], p[4], y, width, cs, rows[ci])
        orow = out[y]
        for x in range(width):
            if cspace == 0:
                orow[x, 0] = rows[0, x]
            elif cspace == 2:
                for k in range(3):
                    orow[x, k] = rows[k, x]
            elif cspace == 3:
                for k in range(4):
                    orow[x, k] = MAXJ12 - rows[k, x]
            else:
                yy = rows[0, x]
                cb = rows[1, x] & MAXJ12
                cr = rows[2, x] & MAXJ12
                r = _clamp12(yy + crr[cr])
                g = _clamp12(yy + ((cbg[cb] + crg[cr]) >> 16))
                b = _clamp12(yy + cbb[cb])
                if cspace == 1:
                    orow[x, 0] = r
                    orow[x, 1] = g
                    orow[x, 2] = b
                else:  # YCCK: libjpeg stores MAX - R/G/B and K; inverted as the 8-bit path does
                    orow[x, 0] = r
                    orow[x, 1] = g
                    orow[x, 2] = b
                    orow[x, 3] = MAXJ12 - rows[3, x]


def _ycc_tables12() -> np.ndarray:
    """jdcolor.c build_ycc_rgb_table at 12 bits: Cr_r, Cb_b, Cr_g, Cb_g over 0..4095."""
    x = np.arange(MAXJ12 + 1, dtype=np.int64) - CENTERJ12
    one_half = 1 << 15

    def fix(v):
        return int(v * 65536 + 0.5)

    t = np.empty((4, MAXJ12 + 1), np.int64)
    t[0] = (fix(1.40200) * x + one_half) >> 16
    t[1] = (fix(1.77200) * x + one_half) >> 16
    t[2] = -fix(0.71414) * x
    t[3] = -fix(0.34414) * x + one_half
    return t


_TABLES12 = _ycc_tables12()
_CSPACE = {"L": (0, 1), "YCbCr": (1, 3), "RGB": (2, 3), "CMYK": (3, 4), "YCCK": (4, 4)}


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def coefficients_to_pixels12(coefs) -> np.ndarray:
    """The 12-bit counterpart of decoder.coefficients_to_pixels (whose checks have already run):
    uint16 (H, W) or (H, W, channels)."""
    from .smoothing import smoothing_state

    if smoothing_state(coefs) is not None:
        raise UnsupportedJPEG("block smoothing of an incomplete 12-bit progressive file is not implemented")
    width, height = int(coefs.width), int(coefs.height)
    hmax, vmax = coefs.max_sampling
    planes, params = [], []
    for ci, (h, v) in enumerate(coefs.sampling):
        dw = _ceil_div(width * h, hmax)
        dh = _ceil_div(height * v, vmax)
        bw, bh = _ceil_div(dw, 8), _ceil_div(dh, 8)
        blocks = coefs.components[ci]
        if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
            raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
        blocks = np.ascontiguousarray(blocks[:bh, :bw], dtype=np.int16).reshape(bh, bw, 64)
        # ISLOW_MULT_TYPE is short in SIMD-enabled builds: entries above 32767 wrap.
        q = np.asarray(coefs.quant_tables[ci]).reshape(64).astype(np.int64)
        q = ((q + 32768) & 0xFFFF) - 32768
        plane = np.empty((bh * 8, bw * 8), np.uint16)
        _idct12_plane(blocks, q, plane)
        planes.append(plane)
        params.append((METHOD_CODES[upsample_method(hmax // h, vmax // v, dw)], hmax // h, vmax // v, dw, dh))
    code, channels = _CSPACE[coefs.colorspace]
    out = np.empty((height, width, channels), np.uint16)
    _compose12(tuple(planes), np.array(params, np.int64), _TABLES12, code, out)
    return out[:, :, 0] if channels == 1 else out
