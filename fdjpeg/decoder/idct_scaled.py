"""Scaled decoding: libjpeg-turbo's reduced-size IDCTs (jidctred.c) and the scaled pixel pipeline.

``decode(..., scale=1/2 | 1/4 | 1/8)`` reconstructs the image at 4x4, 2x2 or 1x1 samples per 8x8 block
exactly as libjpeg-turbo does with ``scale_num = 1, scale_denom = 2 | 4 | 8`` (``djpeg -scale 1/2``,
Pillow's ``Image.draft``). The steps and their sources (spec/scaled-decoding.md):

  * output size: ceil(W * N / 8) x ceil(H * N / 8) with N = 8 / denom (jdmaster.c,
    jpeg_core_output_dimensions: the "N/block_size scaling" branches);
  * each component's IDCT size: N, doubled while the component is subsampled relative to the largest
    sampling factors by a further factor of two in both directions (jdmaster.c,
    jpeg_calc_output_dimensions), so that 4:2:0 chroma at 1/2 scale is decoded with the full 8x8
    IDCT and needs no upsampling;
  * per component, downsampled size ceil(W * h * size / (hmax * 8)) (same function);
  * IDCT: jpeg_idct_4x4 / jpeg_idct_2x2 / jpeg_idct_1x1 for sizes 4 / 2 / 1 (jddctmgr.c), the islow
    IDCT (dct.py, unchanged) for size 8;
  * upsampling (jdsample.c, jinit_upsampler): by the "input group" h * size / N against hmax; fancy
    (triangle) upsampling only when N > 1 and, for h2v1 / h2v2, the downsampled width exceeds 2;
    otherwise sample replication;
  * colour conversion: unchanged (color.py), fused with upsampling as in decoder.py.

The reduced IDCTs are those libjpeg-turbo runs on x86-64, which Pillow and djpeg use: the SSE2
``jsimd_idct_4x4`` / ``jsimd_idct_2x2`` (16-bit dequantization, 32-bit sums, saturating packs) and the C
``jpeg_idct_1x1``. The C 4x4 and 2x2 (``_idct_4x4``, ``_idct_2x2``: 64-bit products, a 32-bit workspace,
the range limit looked up with ``& RANGE_MASK``) are kept as the step-by-step reference of
spec/scaled-decoding.md; they agree with the SSE2 versions for every coefficient a real encoder writes
and differ for hostile ones (values overflowing 16 bits, samples far outside 0..255).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..base.errors import JPEGError, UnsupportedJPEG
from ..base.fixedpoint import _wrap16, _wrap32
from ..base.jit import kernel
from .compose import _COMPOSE, _compose_rows, _four, validate_for_pixels
from .idct import _idct_planes_parallel, idct_multipliers, idct_tasks
from .idct_islow import _idct_islow_block, _sat16
from .smoothing import _block_row_setup, _gather_block, _idct_islow_plane_smoothed, _smooth_block, smoothing_state
from .upsample import METHOD_CODES

#: The reductions decode() accepts, as 1/denom: scale value -> denom.
SCALES = {1: 1, 0.5: 2, 0.25: 4, 0.125: 8}

# jidctred.c: CONST_BITS = 13, PASS1_BITS = 2; FIX(x) = round(x * 2**13).
CONST_BITS = 13
PASS1_BITS = 2
FIX_0_211164243 = 1730
FIX_0_509795579 = 4176
FIX_0_601344887 = 4926
FIX_0_720959822 = 5906
FIX_0_765366865 = 6270
FIX_0_850430095 = 6967
FIX_0_899976223 = 7373
FIX_1_061594337 = 8697
FIX_1_272758580 = 10426
FIX_1_451774981 = 11893
FIX_1_847759065 = 15137
FIX_2_172734803 = 17799
FIX_2_562915447 = 20995
FIX_3_624509785 = 29692

#: jdmaster.c prepare_range_limit_table: the post-IDCT table is indexed with ``x & RANGE_MASK``.
RANGE_MASK = 1023


def scale_denominator(scale) -> int:
    """1 / scale for the accepted scales (None, 1, 1/2, 1/4, 1/8, as numbers or "1/2"-style strings)."""
    if scale is None:
        return 1
    if isinstance(scale, str):
        table = {"1": 1, "1/1": 1, "1/2": 2, "1/4": 4, "1/8": 8}
        if scale.strip() in table:
            return table[scale.strip()]
    elif not isinstance(scale, bool) and isinstance(scale, numbers.Real):
        denom = SCALES.get(float(scale))
        if denom is not None:
            return denom
    raise ValueError(f"scale must be None, 1, 1/2, 1/4 or 1/8, got {scale!r}")


@kernel
def _range_limit(x):
    """libjpeg's post-IDCT range_limit[x & RANGE_MASK]: the low 10 bits as a signed number, +128, clamped."""
    t = x & RANGE_MASK
    if t >= 512:
        t -= 1024
    return np.uint8(min(max(t + 128, 0), 255))


@kernel
def _descale(x, n):
    """DESCALE(x, n): x / 2**n rounded (jdct.h), with an arithmetic shift."""
    return (x + (np.int64(1) << (n - 1))) >> n


@kernel
def _idct_4x4(blk, q, out, r0, c0, ws):
    """jpeg_idct_4x4: 4x4 samples from the 8x8 block ``blk`` (64 coefficients, natural order)."""
    # Pass 1: columns (column 4 is not used by pass 2), into the 4 x 8 workspace.
    for c in range(8):
        if c == 4:
            continue
        if (
            blk[8 + c] == 0
            and blk[16 + c] == 0
            and blk[24 + c] == 0
            and blk[40 + c] == 0
            and blk[48 + c] == 0
            and blk[56 + c] == 0
        ):
            dcval = _wrap32((np.int64(blk[c]) * q[c]) << PASS1_BITS)
            for k in range(4):
                ws[8 * k + c] = dcval
            continue
        tmp0 = (np.int64(blk[c]) * q[c]) << (CONST_BITS + 1)
        z2 = np.int64(blk[16 + c]) * q[16 + c]
        z3 = np.int64(blk[48 + c]) * q[48 + c]
        tmp2 = z2 * FIX_1_847759065 - z3 * FIX_0_765366865
        tmp10 = tmp0 + tmp2
        tmp12 = tmp0 - tmp2
        z1 = np.int64(blk[56 + c]) * q[56 + c]
        z2 = np.int64(blk[40 + c]) * q[40 + c]
        z3 = np.int64(blk[24 + c]) * q[24 + c]
        z4 = np.int64(blk[8 + c]) * q[8 + c]
        tmp0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803 + z4 * FIX_1_061594337
        tmp2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447
        n = CONST_BITS - PASS1_BITS + 1
        ws[c] = _wrap32(_descale(tmp10 + tmp2, n))
        ws[24 + c] = _wrap32(_descale(tmp10 - tmp2, n))
        ws[8 + c] = _wrap32(_descale(tmp12 + tmp0, n))
        ws[16 + c] = _wrap32(_descale(tmp12 - tmp0, n))
    # Pass 2: the 4 workspace rows, into 4 output rows.
    for r in range(4):
        w = 8 * r
        orow = out[r0 + r]
        if (
            ws[w + 1] == 0
            and ws[w + 2] == 0
            and ws[w + 3] == 0
            and ws[w + 5] == 0
            and ws[w + 6] == 0
            and ws[w + 7] == 0
        ):
            v = _range_limit(_wrap32(_descale(ws[w], PASS1_BITS + 3)))
            for k in range(4):
                orow[c0 + k] = v
            continue
        tmp0 = ws[w] << (CONST_BITS + 1)
        tmp2 = ws[w + 2] * FIX_1_847759065 - ws[w + 6] * FIX_0_765366865
        tmp10 = tmp0 + tmp2
        tmp12 = tmp0 - tmp2
        z1 = ws[w + 7]
        z2 = ws[w + 5]
        z3 = ws[w + 3]
        z4 = ws[w + 1]
        tmp0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803 + z4 * FIX_1_061594337
        tmp2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447
        n = CONST_BITS + PASS1_BITS + 3 + 1
        orow[c0] = _range_limit(_wrap32(_descale(tmp10 + tmp2, n)))
        orow[c0 + 3] = _range_limit(_wrap32(_descale(tmp10 - tmp2, n)))
        orow[c0 + 1] = _range_limit(_wrap32(_descale(tmp12 + tmp0, n)))
        orow[c0 + 2] = _range_limit(_wrap32(_descale(tmp12 - tmp0, n)))


@kernel
def _idct_2x2(blk, q, out, r0, c0, ws):
    """jpeg_idct_2x2: 2x2 samples from the 8x8 block ``blk`` (only columns/rows 0, 1, 3, 5, 7 matter)."""
    for c in range(8):
        if c == 2 or c == 4 or c == 6:
            continue
        if blk[8 + c] == 0 and blk[24 + c] == 0 and blk[40 + c] == 0 and blk[56 + c] == 0:
            dcval = _wrap32((np.int64(blk[c]) * q[c]) << PASS1_BITS)
            ws[c] = dcval
            ws[8 + c] = dcval
            continue
        tmp10 = (np.int64(blk[c]) * q[c]) << (CONST_BITS + 2)
        tmp0 = -(np.int64(blk[56 + c]) * q[56 + c]) * FIX_0_720959822
        tmp0 += (np.int64(blk[40 + c]) * q[40 + c]) * FIX_0_850430095
        tmp0 -= (np.int64(blk[24 + c]) * q[24 + c]) * FIX_1_272758580
        tmp0 += (np.int64(blk[8 + c]) * q[8 + c]) * FIX_3_624509785
        n = CONST_BITS - PASS1_BITS + 2
        ws[c] = _wrap32(_descale(tmp10 + tmp0, n))
        ws[8 + c] = _wrap32(_descale(tmp10 - tmp0, n))
    for r in range(2):
        w = 8 * r
        orow = out[r0 + r]
        if ws[w + 1] == 0 and ws[w + 3] == 0 and ws[w + 5] == 0 and ws[w + 7] == 0:
            v = _range_limit(_wrap32(_descale(ws[w], PASS1_BITS + 3)))
            orow[c0] = v
            orow[c0 + 1] = v
            continue
        tmp10 = ws[w] << (CONST_BITS + 2)
        tmp0 = (
            -ws[w + 7] * FIX_0_720959822
            + ws[w + 5] * FIX_0_850430095
            - ws[w + 3] * FIX_1_272758580
            + ws[w + 1] * FIX_3_624509785
        )
        n = CONST_BITS + PASS1_BITS + 3 + 2
        orow[c0] = _range_limit(_wrap32(_descale(tmp10 + tmp0, n)))
        orow[c0 + 1] = _range_limit(_wrap32(_descale(tmp10 - tmp0, n)))


@kernel
def _idct_1x1(blk, q, out, r0, c0):
    """jpeg_idct_1x1: the block's mean, DC * quantizer / 8 rounded."""
    dcval = _wrap32(np.int64(blk[0]) * q[0])
    out[r0, c0] = _range_limit(_wrap32(_descale(dcval, 3)))


@kernel
def _sat(x, lo, hi):
    return min(max(x, lo), hi)


@kernel
def _deq16(blk, q, k):
    """pmullw: the dequantized coefficient's low 16 bits, signed."""
    return _wrap16(np.int64(blk[k]) * q[k])


@kernel
def _idct_4x4_sse2(blk, q, out, r0, c0, ws):
    """jsimd_idct_4x4_sse2 (simd/x86_64/jidctred-sse2.asm): 16-bit dequantization (pmullw), 32-bit sums,
    the pass-1 results saturated to 16 bits (packssdw), the samples saturated to -128..127 (packsswb)
    before the +128 shift. Its all-zero-AC shortcut is per block and shifts the 16-bit DC with wraparound."""
    dc_only = True
    for k in range(8, 64):
        if k >> 3 != 4 and blk[k] != 0:
            dc_only = False
            break
    if dc_only:
        for c in range(8):
            v = _wrap16(_deq16(blk, q, c) << PASS1_BITS)
            for k in range(4):
                ws[8 * k + c] = v
    else:
        n = CONST_BITS - PASS1_BITS + 1
        rnd = np.int64(1) << (n - 1)
        for c in range(8):
            if c == 4:  # pass 2 never reads column 4
                continue
            if (
                blk[8 + c] == 0
                and blk[16 + c] == 0
                and blk[24 + c] == 0
                and blk[40 + c] == 0
                and blk[48 + c] == 0
                and blk[56 + c] == 0
            ):
                # what the formulas below give for a zero column (exact: deq is 16-bit)
                v = _sat16(_deq16(blk, q, c) << PASS1_BITS)
                for k in range(4):
                    ws[8 * k + c] = v
                continue
            tmp0 = _deq16(blk, q, c) << (CONST_BITS + 1)
            tmp2 = _deq16(blk, q, 16 + c) * FIX_1_847759065 - _deq16(blk, q, 48 + c) * FIX_0_765366865
            tmp10 = tmp0 + tmp2
            tmp12 = tmp0 - tmp2
            z1 = _deq16(blk, q, 56 + c)
            z2 = _deq16(blk, q, 40 + c)
            z3 = _deq16(blk, q, 24 + c)
            z4 = _deq16(blk, q, 8 + c)
            tmp0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803 + z4 * FIX_1_061594337
            tmp2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447
            ws[c] = _sat16(_wrap32(tmp10 + tmp2 + rnd) >> n)
            ws[24 + c] = _sat16(_wrap32(tmp10 - tmp2 + rnd) >> n)
            ws[8 + c] = _sat16(_wrap32(tmp12 + tmp0 + rnd) >> n)
            ws[16 + c] = _sat16(_wrap32(tmp12 - tmp0 + rnd) >> n)
    n = CONST_BITS + PASS1_BITS + 3 + 1
    rnd = np.int64(1) << (n - 1)
    for r in range(4):
        w = 8 * r
        orow = out[r0 + r]
        if (
            ws[w + 1] == 0
            and ws[w + 2] == 0
            and ws[w + 3] == 0
            and ws[w + 5] == 0
            and ws[w + 6] == 0
            and ws[w + 7] == 0
        ):
            # the formulas below for a zero row (exact: ws is 16-bit after the saturating pack)
            v = np.uint8(_sat((ws[w] + 16) >> 5, -128, 127) + 128)
            for k in range(4):
                orow[c0 + k] = v
            continue
        tmp0 = ws[w] << (CONST_BITS + 1)
        tmp2 = ws[w + 2] * FIX_1_847759065 - ws[w + 6] * FIX_0_765366865
        tmp10 = tmp0 + tmp2
        tmp12 = tmp0 - tmp2
        z1 = ws[w + 7]
        z2 = ws[w + 5]
        z3 = ws[w + 3]
        z4 = ws[w + 1]
        tmp0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803 + z4 * FIX_1_061594337
        tmp2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887 + z3 * FIX_0_899976223 + z4 * FIX_2_562915447
        orow[c0] = np.uint8(_sat(_wrap32(tmp10 + tmp2 + rnd) >> n, -128, 127) + 128)
        orow[c0 + 3] = np.uint8(_sat(_wrap32(tmp10 - tmp2 + rnd) >> n, -128, 127) + 128)
        orow[c0 + 1] = np.uint8(_sat(_wrap32(tmp12 + tmp0 + rnd) >> n, -128, 127) + 128)
        orow[c0 + 2] = np.uint8(_sat(_wrap32(tmp12 - tmp0 + rnd) >> n, -128, 127) + 128)


@kernel
def _idct_2x2_sse2(blk, q, out, r0, c0, ws):
    """jsimd_idct_2x2_sse2: no zero shortcut; 16-bit dequantization; the pass-1 results of columns 1, 3, 5,
    7 saturated to 16 bits, column 0 kept in 32 bits (shifted left with wraparound in pass 2); samples
    saturated to -128..127 before the +128 shift."""
    n = CONST_BITS - PASS1_BITS + 2
    rnd = np.int64(1) << (n - 1)
    for c in range(8):
        if c == 2 or c == 4 or c == 6:
            continue
        tmp10 = _deq16(blk, q, c) << (CONST_BITS + 2)
        tmp0 = (
            -_deq16(blk, q, 56 + c) * FIX_0_720959822
            + _deq16(blk, q, 40 + c) * FIX_0_850430095
            - _deq16(blk, q, 24 + c) * FIX_1_272758580
            + _deq16(blk, q, 8 + c) * FIX_3_624509785
        )
        a = _wrap32(tmp10 + tmp0 + rnd) >> n
        b = _wrap32(tmp10 - tmp0 + rnd) >> n
        if c == 0:
            ws[0] = a
            ws[8] = b
        else:
            ws[c] = _sat16(a)
            ws[8 + c] = _sat16(b)
    n = CONST_BITS + PASS1_BITS + 3 + 2
    rnd = np.int64(1) << (n - 1)
    for r in range(2):
        w = 8 * r
        orow = out[r0 + r]
        tmp10 = _wrap32(ws[w] << (CONST_BITS + 2))
        tmp0 = (
            -ws[w + 7] * FIX_0_720959822
            + ws[w + 5] * FIX_0_850430095
            - ws[w + 3] * FIX_1_272758580
            + ws[w + 1] * FIX_3_624509785
        )
        orow[c0] = np.uint8(_sat(_wrap32(tmp10 + tmp0 + rnd) >> n, -128, 127) + 128)
        orow[c0 + 1] = np.uint8(_sat(_wrap32(tmp10 - tmp0 + rnd) >> n, -128, 127) + 128)


@kernel
def _idct_reduced_block(blk, q, size, out, r0, c0, ws):
    """The reduced IDCT libjpeg-turbo runs on x86-64: the SSE2 4x4 and 2x2 kernels, the C 1x1."""
    if size == 4:
        _idct_4x4_sse2(blk, q, out, r0, c0, ws)
    elif size == 2:
        _idct_2x2_sse2(blk, q, out, r0, c0, ws)
    else:
        _idct_1x1(blk, q, out, r0, c0)


@kernel
def _idct_reduced_plane(cf, nbx_pad, q, size, out, nby, nbx):
    """The reduced IDCT of blocks [0, nby) x [0, nbx) of a component: ``cf`` (n, 64) int16 over a grid
    nbx_pad blocks wide -> out (nby * size, nbx * size)."""
    ws = np.zeros(32, np.int64)
    for by in range(nby):
        for bx in range(nbx):
            _idct_reduced_block(cf[by * nbx_pad + bx], q, size, out, by * size, bx * size, ws)


@kernel
def _idct_reduced_plane_smoothed(
    coefs, quantval, mult, size, out, bits_cur, bits_prev, last_good_imcu_row, v_samp, total_imcu_rows, nby, nbx
):
    """smoothing.py's decompress_smooth_data walk (the same neighbourhood rules) feeding the reduced IDCT:
    libjpeg smooths the coefficients and then calls whichever inverse_DCT the component was given."""
    blk = np.empty(64, dtype=np.int64)
    dc = np.empty(25, dtype=np.int64)
    rows = np.empty(5, dtype=np.int64)
    ws = np.zeros(128, dtype=np.int64)
    for r in range(nby):
        bits, change_dc = _block_row_setup(
            coefs, r, v_samp, total_imcu_rows, nby, rows, bits_cur, bits_prev, last_good_imcu_row
        )
        for bx in range(nbx):
            _gather_block(coefs, r, bx, nbx, rows, dc, blk)
            _smooth_block(blk, dc, quantval, bits, change_dc)
            if size == 8:
                _idct_islow_block(blk, mult, out, r * 8, bx * 8, True, ws)
            else:
                _idct_reduced_block(blk, mult, size, out, r * size, bx * size, ws)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def component_scaled_sizes(sampling, denom: int) -> list[int]:
    """Each component's IDCT size (samples per block side) at scale 1/denom (jdmaster.c)."""
    min_size = 8 // denom
    hmax = max(h for h, _ in sampling)
    vmax = max(v for _, v in sampling)
    sizes = []
    for h, v in sampling:
        ssize = min_size
        while ssize < 8 and (hmax * min_size) % (h * ssize * 2) == 0 and (vmax * min_size) % (v * ssize * 2) == 0:
            ssize *= 2
        sizes.append(ssize)
    return sizes


def scaled_output_size(width: int, height: int, denom: int) -> tuple[int, int]:
    """(width, height) of the image decoded at scale 1/denom: ceil(size / denom)."""
    return _ceil_div(width, denom), _ceil_div(height, denom)


def _upsample_params(h, v, hmax, vmax, ssize, min_size, dw):
    """(METHOD_CODES value, h_expand, v_expand) of jinit_upsampler for one component."""
    h_in = h * ssize // min_size
    v_in = v * ssize // min_size
    fancy = min_size > 1
    if (h_in, v_in) == (hmax, vmax):
        return METHOD_CODES["fullsize"], 1, 1
    if h_in * 2 == hmax and v_in == vmax:
        return (METHOD_CODES["h2v1_fancy"] if fancy and dw > 2 else METHOD_CODES["h2v1"]), 2, 1
    if h_in == hmax and v_in * 2 == vmax and fancy:
        return METHOD_CODES["h1v2_fancy"], 1, 2
    if h_in * 2 == hmax and v_in * 2 == vmax:
        return (METHOD_CODES["h2v2_fancy"] if fancy and dw > 2 else METHOD_CODES["h2v2"]), 2, 2
    if hmax % h_in == 0 and vmax % v_in == 0:
        return METHOD_CODES["int"], hmax // h_in, vmax // v_in
    raise UnsupportedJPEG(f"fractional upsampling: sampling {h}x{v} against {hmax}x{vmax} at IDCT size {ssize}")


def scaled_planes(coefs, denom: int):
    """IDCT every component at scale 1/denom: (planes, upsampling parameters, output width, height).

    ``coefs`` has been validated by decoder.coefficients_to_pixels' checks (see reconstruct)."""
    width, height = int(coefs.width), int(coefs.height)
    out_w, out_h = scaled_output_size(width, height, denom)
    sampling = [tuple(int(x) for x in s) for s in coefs.sampling]
    hmax = max(h for h, _ in sampling)
    vmax = max(v for _, v in sampling)
    min_size = 8 // denom
    sizes = component_scaled_sizes(sampling, denom)
    smoothing = smoothing_state(coefs)
    total_imcu_rows = _ceil_div(height, 8 * vmax)
    planes, params = [], []
    for ci, ((h, v), ssize) in enumerate(zip(sampling, sizes)):
        dw = _ceil_div(width * h * ssize, hmax * 8)
        dh = _ceil_div(height * v * ssize, vmax * 8)
        bw, bh = _ceil_div(dw, ssize), _ceil_div(dh, ssize)
        blocks = coefs.components[ci]
        if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
            raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
        blocks = np.ascontiguousarray(blocks, dtype=np.int16)
        quantval = np.ascontiguousarray(np.asarray(coefs.quant_tables[ci]).reshape(64).astype(np.int64))
        # SIMD builds (Pillow's, Debian's djpeg) store the multipliers as 16-bit shorts.
        mult = idct_multipliers(quantval, "c16" if ssize < 8 else "simd")
        plane = np.empty((bh * ssize, bw * ssize), np.uint8)
        if smoothing is not None:
            cur, prev, last_good = smoothing
            if ssize == 8:
                _idct_islow_plane_smoothed(
                    blocks, quantval, mult, plane, cur[ci], prev[ci], last_good, v, total_imcu_rows, True
                )
            else:
                _idct_reduced_plane_smoothed(
                    blocks, quantval, mult, ssize, plane, cur[ci], prev[ci], last_good, v, total_imcu_rows, bh, bw
                )
        elif ssize == 8:  # the full-size decoder's batched islow IDCT, over this component's blocks
            # (threads only from _jit.PARALLEL_MIN_BLOCKS blocks on: the kernel decides)
            _idct_planes_parallel(
                (blocks.reshape(-1, 64),),
                np.array([blocks.shape[1]], np.int64),
                (mult,),
                (plane,),
                idct_tasks([bh]),
                True,
            )
        else:
            _idct_reduced_plane(blocks.reshape(-1, 64), blocks.shape[1], mult, ssize, plane, bh, bw)
        planes.append(plane)
        method, hexp, vexp = _upsample_params(h, v, hmax, vmax, ssize, min_size, dw)
        params.append((method, hexp, vexp, dw, dh))
    return planes, params, out_w, out_h


def reconstruct(coefs, denom: int, *, raw_ycc: bool = False) -> np.ndarray:
    """The pixels libjpeg-turbo gives at scale 1/denom (1, 2, 4 or 8), in decompress.py's output layout.

    ``raw_ycc``: for YCbCr files, return the upsampled Y, Cb, Cr samples without colour conversion
    (libjpeg's ``out_color_space = JCS_YCbCr``)."""
    validate_for_pixels(coefs)
    planes, params, out_w, out_h = scaled_planes(coefs, denom)
    code, channels = _COMPOSE[coefs.colorspace]
    if raw_ycc:
        code = 2  # plain interleave, as for RGB files
    out = np.empty((out_h, out_w * channels), np.uint8)
    methods, hexp, vexp, dws, dhs = (np.array(_four(list(p)), np.int64) for p in zip(*params))
    _compose_rows(tuple(_four(planes)), methods, hexp, vexp, dws, dhs, code, out, out_w)  # threads when large
    return out if channels == 1 else out.reshape(out_h, out_w, channels)
