"""The decoder's public face: ``decode()`` and the reusable ``coefficients_to_pixels()`` stage.

Pixel reconstruction follows libjpeg-turbo's default decompression exactly, as Pillow runs it:
dequantization and the islow IDCT (dct.py; with inter-block smoothing for incomplete progressive
files, smoothing.py), fancy upsampling with edge replication (sampling.py), fixed-point colour
conversion (color.py). Parsing and entropy decoding live in reader.py and the modules it uses.

Output arrays (what ``np.asarray(PIL.Image.open(f))`` gives for the same file):
  * grayscale files: uint8 (H, W);
  * YCbCr and RGB files: uint8 (H, W, 3) RGB;
  * CMYK and YCCK files: uint8 (H, W, 4) CMYK, stored inverted (255 = no ink) as Pillow stores JPEG
    CMYK -- it always assumes the Adobe convention. ``mode="RGB"`` converts with Pillow's formula.
"""

from __future__ import annotations

import os

import numpy as np

from ._jit import kernel, parallel_kernel, prange
from .coefficients import JPEGCoefficients
from .color import _ycc_rgb_row, convert_mode
from .dct import _check_arithmetic, _idct_planes_parallel, idct_multipliers, idct_tasks
from .errors import JPEGError, UnsupportedJPEG
from .sampling import METHOD_CODES, _upsample_row, upsample_method
from .smoothing import _idct_islow_plane_smoothed, smoothing_state

#: Pillow's decompression-bomb threshold, ``PIL.Image.MAX_IMAGE_PIXELS`` = 1024 * 1024 * 1024 // 4 // 3.
MAX_PIXELS = 89_478_485

#: Number of components each colour space must have (libjpeg's jdcolor.c checks).
_COMPONENTS = {"L": 1, "YCbCr": 3, "RGB": 3, "CMYK": 4, "YCCK": 4}


#: Colour space -> code of _compose_rows, and the number of output channels.
_COMPOSE = {"L": (0, 1), "YCbCr": (1, 3), "RGB": (2, 3), "CMYK": (3, 4), "YCCK": (4, 4)}

#: Output rows per parallel task of _compose_rows.
_ROWS_PER_TASK = 16


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


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
def _compose_range(planes, methods, hexp, vexp, dws, dhs, cspace, out, width, y0, y1):
    """Upsampling (sampling.py) and colour conversion (color.py) fused row by row for output rows
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
    for y in range(y0, y1):
        orow = out[y]
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


# Below 4096 blocks' worth of output pixels (_jit.PARALLEL_MIN_BLOCKS) the rows are composed on the calling thread.
@parallel_kernel(work=lambda planes, methods, hexp, vexp, dws, dhs, cspace, out, width: out.shape[0] * width // 64,
                 serial=_compose_serial)
def _compose_rows(planes, methods, hexp, vexp, dws, dhs, cspace, out, width):
    """_compose_range over all rows, _ROWS_PER_TASK rows per parallel task."""
    height = out.shape[0]
    for t in prange((height + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK):
        y0 = t * _ROWS_PER_TASK
        _compose_range(planes, methods, hexp, vexp, dws, dhs, cspace, out, width, y0, min(y0 + _ROWS_PER_TASK, height))


def coefficients_to_pixels(coefs: JPEGCoefficients, *, arithmetic: str = "simd") -> np.ndarray:
    """Reconstruct the image from quantized coefficients exactly as libjpeg-turbo's default decode.

    ``arithmetic`` selects the IDCT's overflow behaviour for hostile coefficients: "simd" (default,
    libjpeg-turbo's x86-64 SSE2/AVX2 code, which Pillow uses), "c" (jidctint.c) or "c16" (jidctint.c
    in a SIMD-enabled build run without SIMD); see dct.py. Raises
    ``UnsupportedJPEG`` for sampling ratios libjpeg cannot upsample and for component counts with no
    defined colour space.
    """
    simd = _check_arithmetic(arithmetic)
    width, height = int(coefs.width), int(coefs.height)
    ncomp = len(coefs.components)
    if coefs.colorspace not in _COMPONENTS:
        raise UnsupportedJPEG(f"unsupported colour space {coefs.colorspace!r} ({ncomp} components)")
    if _COMPONENTS[coefs.colorspace] != ncomp:
        raise UnsupportedJPEG(f"colour space {coefs.colorspace} needs {_COMPONENTS[coefs.colorspace]} components, file has {ncomp}")
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

    smoothing = smoothing_state(coefs)
    total_imcu_rows = _ceil_div(height, 8 * vmax)
    planes, params, cfs, nbxs, mults, block_rows = [], [], [], [], [], []
    for ci, (h, v) in enumerate(coefs.sampling):
        dw = _ceil_div(width * h, hmax)
        dh = _ceil_div(height * v, vmax)
        bw, bh = _ceil_div(dw, 8), _ceil_div(dh, 8)
        blocks = coefs.components[ci]
        if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
            raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
        blocks = np.ascontiguousarray(blocks, dtype=np.int16)
        quantval = np.ascontiguousarray(np.asarray(coefs.quant_tables[ci]).reshape(64).astype(np.int64))
        mult = idct_multipliers(quantval, arithmetic)
        plane = np.empty((bh * 8, bw * 8), np.uint8)
        if smoothing is not None:
            cur, prev, last_good = smoothing
            _idct_islow_plane_smoothed(
                blocks, quantval, mult, plane, cur[ci], prev[ci], last_good, v, total_imcu_rows, simd
            )
        cfs.append(blocks.reshape(-1, 64))
        nbxs.append(blocks.shape[1])
        mults.append(mult)
        block_rows.append(bh)
        planes.append(plane)
        params.append((METHOD_CODES[upsample_method(hmax // h, vmax // v, dw)], hmax // h, vmax // v, dw, dh))
    if smoothing is None:
        tasks = idct_tasks(block_rows)
        # Threads only from 4096 blocks on (_jit.PARALLEL_MIN_BLOCKS); smaller images stay on this thread.
        _idct_planes_parallel(tuple(cfs), np.array(nbxs, np.int64), tuple(mults), tuple(planes), tasks, simd)
    code, channels = _COMPOSE[coefs.colorspace]
    out = np.empty((height, width * channels), np.uint8)
    methods, hexp, vexp, dws, dhs = (np.array(_four(list(p)), np.int64) for p in zip(*params))
    _compose_rows(tuple(_four(planes)), methods, hexp, vexp, dws, dhs, code, out, width)
    return out if channels == 1 else out.reshape(height, width, channels)


def _read_input(data) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    if hasattr(data, "read"):
        out = data.read()
        if not isinstance(out, (bytes, bytearray)):
            raise TypeError(f"file object must be opened in binary mode (read() returned {type(out).__name__})")
        return bytes(out)
    raise TypeError(f"data must be bytes, a path or a binary file object, got {type(data).__name__}")


def decode(data, *, mode: str | None = None, max_pixels: int | None = MAX_PIXELS, max_scans: int | None = 1000,
           defense=None) -> np.ndarray:
    """Decode a baseline or progressive Huffman JPEG to the pixels libjpeg-turbo (via Pillow) returns.

    ``data``: bytes, bytearray, memoryview, a path, or a binary file object.
    ``mode``: None (the file's own: (H, W) gray, (H, W, 3) RGB or (H, W, 4) CMYK, see the module
    docstring), "RGB" or "L" -- converted as ``PIL.Image.convert`` does.
    ``max_pixels``: refuse (``JPEGError``, before any large allocation) images with more pixels;
    None disables the guard. Default: Pillow's MAX_IMAGE_PIXELS. ``max_scans``: refuse files with more
    scans (a bound on decoding time; None: no limit).
    ``defense``: feature-distillation tables (one 8x8 table or (luma, chroma)) for the one-pass
    defense: coefficients are dequantized with the file's tables, re-quantized with these and
    reconstructed with them (spec/feature-distillation.md section 4); equals
    ``decode(requantize(data, defense))``.
    """
    if mode not in (None, "RGB", "L"):
        raise ValueError(f"mode must be None, 'RGB' or 'L', got {mode!r}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer))):
        raise TypeError(f"max_pixels must be an int or None, got {max_pixels!r}")
    from .reader import read_coefficients

    coefs = read_coefficients(_read_input(data), max_pixels=max_pixels, max_scans=max_scans)
    if defense is not None:
        from .distill import requantize_coefficients

        coefs = requantize_coefficients(coefs, defense)
    return convert_mode(coefficients_to_pixels(coefs), mode)
