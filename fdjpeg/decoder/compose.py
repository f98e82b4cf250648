"""The decompressor's last stage, fused: upsampling (upsample.py) and colour conversion (color.py) row
by row, straight from the component planes the IDCT wrote to the output array -- libjpeg-turbo's
merged upsample+colour step (jdmerge.c) generalised to every sampling and colour space. Only row
buffers are allocated: no full-size upsampled planes.
"""

from __future__ import annotations

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.errors import JPEGError, UnsupportedJPEG
from ..base.jit import kernel, parallel_kernel, prange
from .color import _ycc_rgb_row
from .color_vec import VEC_N, ycc_h2v2_vec, ycc_vec
from .upsample import METHOD_CODES, _upsample_row, upsample_method

#: Colour space -> code of _compose_rows, and the number of output channels.
_COMPOSE = {"L": (0, 1), "YCbCr": (1, 3), "RGB": (2, 3), "CMYK": (3, 4), "YCCK": (4, 4)}

#: Output rows per parallel task of _compose_rows.
_ROWS_PER_TASK = 16


def _four(items: list) -> list:
    """Per-component items padded to 4 by repeating the first: one compiled signature of the pixel
    stage for 1-, 3- and 4-component files (the padding is never read)."""
    return items + [items[0]] * (4 - len(items))


@kernel
def _plane_row(plane, method, h_expand, v_expand, dw, dh, y, width, cs, buf):
    """Row y of one component at full resolution: the plane's own row when it is full size, else the
    upsampled row written into ``buf``."""
    if method == 0:
        return plane[y]
    _upsample_row(plane, method, h_expand, v_expand, dw, dh, y, width, cs, buf)
    return buf


@kernel
def _unit(a, b, c, d, e, f):
    return (
        a.strides[0] == 1
        and b.strides[0] == 1
        and c.strides[0] == 1
        and d.strides[0] == 1
        and e.strides[0] == 1
        and f.strides[0] == 1
    )


@kernel
def _h2v2_px(near, far, dw, x):
    """Pixel x of a row of a component h2v2-fancy-upsampled from its nearer and further rows
    (upsample.py's method 3, one pixel)."""
    j = x >> 1
    c3 = 3 * (3 * np.int32(near[j]) + np.int32(far[j]))
    if x & 1:
        k = min(j + 1, dw - 1)
        return np.uint8((c3 + 3 * np.int32(near[k]) + np.int32(far[k]) + 7) >> 4)
    k = max(j - 1, 0)
    return np.uint8((c3 + 3 * np.int32(near[k]) + np.int32(far[k]) + 8) >> 4)


@kernel
def _ycc_h2v2_row(yr, cbn, cbf, crn, crf, orow, width, dw, b1, b2):
    """One output row of a YCbCr file with full-size Y and h2v2-fancy-upsampled Cb, Cr (method 3, chroma
    width dw) -> orow[0:3 width] RGB: groups of VEC_N pixels by the vector kernel (color_vec.py) from
    pixel 2 on, the last one placed as far right as the chroma columns it reads allow (it may overlap
    the one before: the same values again), and the ends pixel by pixel (_h2v2_px into the scratch rows
    b1, b2, then _ycc_rgb_row): pixels 0, 1 and the last one or two."""
    x0 = min(2, width)
    x = x0
    last = min(width - VEC_N, 2 * (dw - 1 - VEC_N // 2)) & ~1
    if last >= 2 and _unit(yr, cbn, cbf, crn, crf, orow):
        while x < last:
            ycc_h2v2_vec(yr, cbn, cbf, crn, crf, orow, x)
            x += VEC_N
        ycc_h2v2_vec(yr, cbn, cbf, crn, crf, orow, last)
        x = last + VEC_N
    for a, e in ((0, x0), (x, width)):
        if a < e:
            for k in range(a, e):
                b1[k] = _h2v2_px(cbn, cbf, dw, k)
                b2[k] = _h2v2_px(crn, crf, dw, k)
            _ycc_rgb_row(yr[a:], b1[a:], b2[a:], orow[3 * a :], e - a)


@kernel
def _ycc_full_row(yr, cbr, crr, orow, width):
    """One output row of a YCbCr file with full-size components -> orow[0:3 width] RGB: groups of VEC_N
    pixels by the vector kernel (color_vec.py), the last one ending at the row's end (it may overlap the
    one before), a row narrower than a group by _ycc_rgb_row."""
    if width >= VEC_N and _unit(yr, cbr, crr, orow, yr, yr):
        for x in range(0, width - VEC_N, VEC_N):
            ycc_vec(yr, cbr, crr, orow, x)
        ycc_vec(yr, cbr, crr, orow, width - VEC_N)
    else:
        _ycc_rgb_row(yr, cbr, crr, orow, width)


@kernel
def _compose_range(planes, methods, hexp, vexp, dws, dhs, cspace, out, width, y0, y1):
    """Upsampling (upsample.py) and colour conversion (color.py) fused row by row for output rows
    [y0, y1): component planes (the IDCT output) -> out (H, W * channels) uint8, Pillow's layout.

    ``planes`` always holds 4 planes and the parameter arrays 4 entries (unused components repeat
    component 0; see ``_four``), so that every parameter is read once, before the row loop: handing the
    tuple and the parameter arrays to a per-row helper cost ~300 ns a row (2.4x at 224 pixels wide).
    cspace: 0 L, 1 YCbCr -> RGB, 2 RGB, 3 CMYK (inverted, as Pillow stores it), 4 YCCK -> inverted CMYK.
    Only row buffers are allocated: no full-size upsampled planes.
    """
    p0, p1, p2, p3 = planes[0], planes[1], planes[2], planes[3]
    m0, m1, m2, m3 = methods[0], methods[1], methods[2], methods[3]
    h0, h1, h2, h3 = hexp[0], hexp[1], hexp[2], hexp[3]
    v0, v1, v2, v3 = vexp[0], vexp[1], vexp[2], vexp[3]
    w0, w1, w2, w3 = dws[0], dws[1], dws[2], dws[3]
    d0, d1, d2, d3 = dhs[0], dhs[1], dhs[2], dhs[3]
    n = max(width, 1)
    b0 = np.empty(n, np.uint8)
    b1 = np.empty(n, np.uint8)
    b2 = np.empty(n, np.uint8)
    b3 = np.empty(n, np.uint8)
    rgb = np.empty(3 * n, np.uint8)
    cs = np.empty(max(1, w0, w1, w2, w3), np.int16)
    ycc = cspace == 1 and m0 == 0 and w1 == w2 and d1 == d2
    h2v2 = ycc and m1 == 3 and m2 == 3  # 4:2:0 (the vector kernels of color_vec.py)
    full = ycc and m1 == 0 and m2 == 0  # 4:4:4
    for y in range(y0, y1):
        orow = out[y]
        if h2v2:
            i = y >> 1
            f = min(i + 1, d1 - 1) if y & 1 else max(i - 1, 0)
            _ycc_h2v2_row(p0[y], p1[i], p1[f], p2[i], p2[f], orow, width, w1, b1, b2)
            continue
        if full:
            _ycc_full_row(p0[y], p1[y], p2[y], orow, width)
            continue
        r0 = _plane_row(p0, m0, h0, v0, w0, d0, y, width, cs, b0)
        if cspace == 0:
            for x in range(width):
                orow[x] = r0[x]
            continue
        r1 = _plane_row(p1, m1, h1, v1, w1, d1, y, width, cs, b1)
        r2 = _plane_row(p2, m2, h2, v2, w2, d2, y, width, cs, b2)
        if cspace == 1:
            _ycc_rgb_row(r0, r1, r2, orow, width)
        elif cspace == 2:
            for x in range(width):
                orow[3 * x] = r0[x]
                orow[3 * x + 1] = r1[x]
                orow[3 * x + 2] = r2[x]
        else:
            r3 = _plane_row(p3, m3, h3, v3, w3, d3, y, width, cs, b3)
            if cspace == 3:
                for x in range(width):
                    orow[4 * x] = 255 - r0[x]
                    orow[4 * x + 1] = 255 - r1[x]
                    orow[4 * x + 2] = 255 - r2[x]
                    orow[4 * x + 3] = 255 - r3[x]
            else:
                # libjpeg stores 255 - RGB for C, M, Y; Pillow inverts again, so C' = RGB's R, etc.
                _ycc_rgb_row(r0, r1, r2, rgb, width)
                for x in range(width):
                    orow[4 * x] = rgb[3 * x]
                    orow[4 * x + 1] = rgb[3 * x + 1]
                    orow[4 * x + 2] = rgb[3 * x + 2]
                    orow[4 * x + 3] = 255 - r3[x]


def _compose_serial(planes, methods, hexp, vexp, dws, dhs, cspace, out, width):
    _compose_range(planes, methods, hexp, vexp, dws, dhs, cspace, out, width, 0, out.shape[0])


# Below 4096 blocks' worth of output pixels (base/jit.PARALLEL_MIN_BLOCKS) the rows are composed on the calling thread.
@parallel_kernel(
    work=lambda planes, methods, hexp, vexp, dws, dhs, cspace, out, width: out.shape[0] * width // 64,
    serial=_compose_serial,
)
def _compose_rows(planes, methods, hexp, vexp, dws, dhs, cspace, out, width):
    """_compose_range over all rows, _ROWS_PER_TASK rows per parallel task."""
    height = out.shape[0]
    for t in prange((height + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        y0 = t * _ROWS_PER_TASK
        _compose_range(planes, methods, hexp, vexp, dws, dhs, cspace, out, width, y0, min(y0 + _ROWS_PER_TASK, height))


#: Number of components each colour space must have (libjpeg's jdcolor.c checks).
_COMPONENTS = {"L": 1, "YCbCr": 3, "RGB": 3, "CMYK": 4, "YCCK": 4}


def validate_for_pixels(coefs: JPEGCoefficients) -> None:
    """The checks made before any pixel work: a colour space with its component count, a non-empty
    image, and sampling factors libjpeg can upsample (jdsample.c)."""
    width, height = int(coefs.width), int(coefs.height)
    ncomp = len(coefs.components)
    if coefs.colorspace not in _COMPONENTS:
        raise UnsupportedJPEG(f"unsupported colour space {coefs.colorspace!r} ({ncomp} components)")
    if _COMPONENTS[coefs.colorspace] != ncomp:
        raise UnsupportedJPEG(
            f"colour space {coefs.colorspace} needs {_COMPONENTS[coefs.colorspace]} components, file has {ncomp}"
        )
    if width < 1 or height < 1:
        raise JPEGError(f"empty image ({width}x{height})")
    hmax, vmax = coefs.max_sampling
    # jdsample.c: every component must divide the largest sampling factors (checked before any work).
    for ci, (h, v) in enumerate(coefs.sampling):
        if not (1 <= h <= 4 and 1 <= v <= 4):
            raise JPEGError(f"component {ci}: sampling factors {h}x{v} outside 1..4")
        if hmax % h or vmax % v:
            raise UnsupportedJPEG(
                f"fractional upsampling: component {ci} has sampling {h}x{v} but the maximum is {hmax}x{vmax}"
            )


def compose_params(sampling, width: int, height: int) -> tuple[np.ndarray, ...]:
    """The per-component parameter arrays of _compose_range (methods, h and v expansions, downsampled
    widths and heights), padded to 4 entries (``_four``)."""
    hmax = max(h for h, _ in sampling)
    vmax = max(v for _, v in sampling)
    params = []
    for h, v in sampling:
        dw = -(-width * h // hmax)
        dh = -(-height * v // vmax)
        params.append((METHOD_CODES[upsample_method(hmax // h, vmax // v, dw)], hmax // h, vmax // v, dw, dh))
    return tuple(np.array(_four(list(p)), np.int64) for p in zip(*params))


def compose(planes, sampling, width: int, height: int, colorspace: str) -> np.ndarray:
    """Component planes (the IDCT output, one per entry of ``sampling``) -> the output array: uint8
    (H, W) for "L", (H, W, 3) RGB for "YCbCr"/"RGB", (H, W, 4) inverted CMYK for "CMYK"/"YCCK"."""
    code, channels = _COMPOSE[colorspace]
    out = np.empty((height, width * channels), np.uint8)
    _compose_rows(tuple(_four(list(planes))), *compose_params(sampling, width, height), code, out, width)
    return out if channels == 1 else out.reshape(height, width, channels)
