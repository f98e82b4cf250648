"""The baseline encoder: pixels -> quantized coefficients -> a JFIF file, byte-identical to libjpeg-turbo.

The pipeline follows libjpeg's compressor: colour conversion (jccolor), edge replication and
downsampling (jcprepct/jcsample), islow FDCT and quantization (jcdctmgr), MCU assembly with libjpeg's
dummy blocks (jccoefct), Huffman coding (jchuff) and the marker layout of jcmarker.
"""

from __future__ import annotations

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.huffman import STANDARD_AC, STANDARD_DC
from ..base.io import write_atomic
from ..base.layout import SUBSAMPLING, FrameLayout
from ..base.limits import check_dimensions
from ..base.profile import hardware_settings_problem
from ..base.quant import validate_tables
from .arithmetic_progressive import write_progressive_arithmetic
from .banded import encode_banded
from .entropy import _lookup_tables, components_in_mcu
from .fdct import quant_divisors
from .markers import (
    _check_arithmetic_coding,
    _int_arg,
    metadata_segments,
    write_avi1,
    write_baseline,
    write_eoi,
    write_jfif,
)
from .prepare import _prepare_strips
from .progressive import write_progressive


def _validate_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy uint8 array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(
            f"image must have dtype uint8, got {image.dtype}; scale and convert first, "
            "e.g. np.clip(np.rint(x * 255), 0, 255).astype(np.uint8) for floats in [0, 1]"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(
            "image has 4 channels (RGBA?); JPEG has no alpha: drop it (image[..., :3]) or composite it onto a background first"
        )
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"image must have shape (H, W), (H, W, 1) or (H, W, 3), got {image.shape}")
    h, w = image.shape[:2]
    check_dimensions(w, h, "image")
    return np.ascontiguousarray(image)


def frame_setup(height: int, width: int, gray: bool, qtables: list[np.ndarray], subsampling: str):
    """The front end's parameters for an image: (layout, table index per component, prepare geometry,
    divisors per component, sample rows per strip ``max_v`` / 8, padded row width)."""
    if gray:
        # One component: its sampling factors are written to SOF as libjpeg-turbo does for an explicit
        # subsampling (Pillow subsampling=1/2, cjpeg -sample 2x1/2x2); the single, non-interleaved scan
        # codes the same blocks whatever they are, so only the SOF bytes change.
        sampling, tq = (SUBSAMPLING[subsampling],), [0]
    else:
        sampling = (SUBSAMPLING[subsampling], (1, 1), (1, 1))
        tq = [0, 1, 1] if len(qtables) == 2 else [0, 0, 0]
    layout = FrameLayout(width, height, sampling)
    geom = layout.prepare_geometry()
    divisors = np.stack([quant_divisors(qtables[t]) for t in tq])
    # Strips are iMCU rows; a single-component scan has one-block MCUs, so its strips are 8 rows.
    max_v = layout.max_v if layout.interleaved else 1
    padded_width = int(max(geom[:, 2] * 8 * geom[:, 4]))
    return layout, tq, geom, divisors, max_v, padded_width


def _frame(image: np.ndarray, qtables: list[np.ndarray], subsampling: str):
    """``frame_setup`` for a validated uint8 image, with its pixels as a contiguous (H, W, C) array first."""
    height, width = image.shape[:2]
    pixels = np.ascontiguousarray(image[:, :, None] if image.ndim == 2 else image)
    layout, tq, geom, divisors, max_v, padded_width = frame_setup(height, width, image.ndim == 2, qtables, subsampling)
    return pixels, layout, geom, divisors, tq, max_v, padded_width


def image_to_mcu_blocks(image: np.ndarray, qtables: list[np.ndarray], subsampling: str):
    """Validated uint8 image -> (layout, quantized blocks (n, 64) int16 in transmission order, table
    index per component). Colour conversion, edge replication, downsampling, FDCT, quantization and
    libjpeg's dummy blocks all happen in ``prepare._prepare_strips`` (spec/codec.md section 2)."""
    pixels, layout, geom, divisors, tq, max_v, padded_width = _frame(image, qtables, subsampling)
    out = np.empty((layout.mcus_x * layout.mcus_y * layout.blocks_per_mcu, 64), np.int16)
    _prepare_strips(
        pixels,
        layout.height,
        layout.width,
        geom,
        divisors,
        layout.mcus_x,
        layout.mcus_y,
        layout.blocks_per_mcu,
        max_v,
        padded_width,
        out,
    )
    return layout, out, tq


def _encode_standard(image, qtables, subsampling, ids, header_args) -> bytes:
    """The default file (one sequential scan, the T.81 K.3 tables, no restarts) coded band by band
    (banded.py): the same bytes as ``write_baseline`` on the whole image's blocks, in a fraction of
    the memory. The output is assembled with one copy of the entropy-coded data."""
    pixels, layout, geom, divisors, tq, max_v, padded_width = _frame(image, qtables, subsampling)
    htbl = np.asarray([0] + [1] * (len(layout.sampling) - 1), np.int64)
    ehufco, ehufsi = _lookup_tables(list(STANDARD_DC), list(STANDARD_AC))
    data = encode_banded(
        pixels,
        layout,
        geom,
        divisors,
        max_v,
        padded_width,
        components_in_mcu(layout.scan_sampling),
        htbl,
        ehufco,
        ehufsi,
    )
    # write_baseline with no blocks: the headers, an empty scan, EOI.
    headers = write_baseline(layout, ids, np.zeros((0, 64), np.int16), qtables, tq, **header_args)
    return b"".join((memoryview(headers)[:-2], data, write_eoi()))


def image_to_coefficients(image: np.ndarray, qtables: list[np.ndarray], subsampling: str) -> JPEGCoefficients:
    """Validated uint8 image -> the encoder's quantized coefficients as a ``JPEGCoefficients`` (component
    ids 1[, 2, 3], "L" or "YCbCr"): what ``read_coefficients(encode(image, ...))`` returns, without
    entropy coding."""
    layout, mcu_blocks, tq = image_to_mcu_blocks(image, qtables, subsampling)
    grids = [np.zeros(layout.grid(c) + (64,), np.int16) for c in range(len(layout.sampling))]
    flat = np.concatenate([g.reshape(-1, 64) for g in grids]) if len(grids) > 1 else grids[0].reshape(-1, 64)
    flat[layout.transmission_order()] = mcu_blocks
    offset = 0
    for g in grids:
        n = g.shape[0] * g.shape[1]
        g.reshape(-1, 64)[:] = flat[offset : offset + n]
        offset += n
    gray = image.ndim == 2
    return JPEGCoefficients(
        layout.width,
        layout.height,
        [g.reshape(g.shape[0], g.shape[1], 8, 8) for g in grids],
        [np.asarray(qtables[t], np.uint16).reshape(8, 8) for t in tq],
        list(layout.sampling),
        [1] if gray else [1, 2, 3],
        "L" if gray else "YCbCr",
    )


def encode(
    image,
    tables=None,
    *,
    quality=None,
    subsampling=None,
    optimize=False,
    restart_interval=0,
    restart_rows=0,
    comment=None,
    exif=None,
    icc_profile=None,
    profile=None,
    mjpeg=False,
    arithmetic=False,
    progressive=False,
) -> bytes:
    """Encode a uint8 image as a baseline JPEG, byte-identical to libjpeg-turbo for the same settings.

    image: (H, W) or (H, W, 1) grayscale, or (H, W, 3) RGB, uint8, 1..65500 on each side (libjpeg's limit).
    tables: one 8x8 quantization table for every component, or (luma, chroma); natural row-major
        order, integers 1..255, written as given (never rescaled). Mutually exclusive with quality.
    quality: 1..100, scaling the T.81 Annex K tables as libjpeg does (default 75 when neither is given).
    subsampling: "4:4:4", "4:2:2", "4:2:0", "4:4:0" or "4:1:1"; default (None) "4:2:0" for colour, 1x1
        for grayscale. Given explicitly for a grayscale image, its luma factors become the single
        component's (e.g. 2x2 for "4:2:0"), as libjpeg-turbo writes them; the pixels coded are the same.
    optimize: build optimal Huffman tables (libjpeg's two-pass optimize_coding) instead of the T.81 K.3 tables.
    restart_interval: MCUs between restart markers; restart_rows: MCU rows between them (one or the other).
    comment / exif / icc_profile: COM, APP1 EXIF and APP2 ICC_PROFILE (chunked) segments.
    profile: "baseline-hw" refuses (ValueError) any setting or result outside what hardware decoders
        are documented to accept -- SOF0, 8-bit tables, one interleaved scan, ids 1-2-3, 4:4:4, 4:2:2,
        4:2:0 or grayscale, bounded APPn data (rules and sources: spec/hardware-profile.md).
    mjpeg: write a Motion-JPEG (UVC-style) frame: an AVI1 APP0 instead of JFIF and no DHT segments,
        the entropy data coded with the T.81 K.3 tables that MJPEG decoders assume (so not with optimize).
    arithmetic: code the scan with the arithmetic coder (T.81 Annex D, SOF9), byte-identical to
        ``cjpeg -arithmetic``: 3-9 % smaller than optimize=True on the bundled photos, but many decoders (browsers,
        hardware, MJPEG) cannot read it. Not with optimize (arithmetic coding adapts its own statistics),
        mjpeg or profile. With ``progressive`` the file is progressive arithmetic (SOF10), byte-identical
        to ``cjpeg -progressive -arithmetic``.
    progressive: write a progressive file (SOF2) with libjpeg's default scan script
        (``jpeg_simple_progression``), byte-identical to Pillow ``save(progressive=True)`` and
        ``cjpeg -progressive``. Progressive scans always get optimal Huffman tables, as in libjpeg,
        so ``optimize`` makes no difference; not with ``mjpeg`` or ``profile`` (both mean baseline).
        Steps and sources: spec/progressive-encoding.md.
    """
    image = _validate_image(image)
    qtables = validate_tables(tables, quality)
    if subsampling is None:
        subsampling = "4:2:0" if image.ndim == 3 else "4:4:4"
    if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)} (or None), got {subsampling!r}")
    if not isinstance(optimize, (bool, np.bool_)):
        raise TypeError(f"optimize must be a bool, got {optimize!r}")
    restart_interval = _int_arg(restart_interval, "restart_interval", 0, 65535)
    restart_rows = _int_arg(restart_rows, "restart_rows", 0, 65535)
    if restart_interval and restart_rows:
        raise ValueError("give restart_interval (in MCUs) or restart_rows (in MCU rows), not both")
    if not isinstance(mjpeg, (bool, np.bool_)):
        raise TypeError(f"mjpeg must be a bool, got {mjpeg!r}")
    if mjpeg and optimize:
        raise ValueError("mjpeg=True frames carry no DHT, so they must use the standard tables: drop optimize=True")
    _check_arithmetic_coding(arithmetic, optimize)
    if arithmetic and mjpeg:
        raise ValueError(
            "arithmetic=True cannot be combined with mjpeg=True: Motion-JPEG decoders read Huffman coding only"
        )
    if arithmetic and profile is not None:
        raise ValueError(
            f"arithmetic=True cannot be combined with profile={profile!r}: hardware decoders read "
            "baseline Huffman coding only (spec/hardware-profile.md)"
        )
    if not isinstance(progressive, (bool, np.bool_)):
        raise TypeError(f"progressive must be a bool, got {progressive!r}")
    if progressive and mjpeg:
        raise ValueError("mjpeg=True frames are baseline (one scan, standard tables): drop progressive=True")
    if progressive and profile is not None:
        raise ValueError(f"profile={profile!r} asks for a baseline (SOF0) file: drop progressive=True")
    apps, coms = metadata_segments(comment, exif, icc_profile)
    colour = write_avi1() if mjpeg else write_jfif()
    if profile is not None:
        # Every rule of the profile that encoder settings can break; what the encoder always writes
        # (SOF0, 8-bit tables, one interleaved scan, ids 1-2-3) is checked on its output by the tests.
        problem = hardware_settings_problem(profile, image.ndim == 3, subsampling, [colour, *apps])
        if problem:
            raise ValueError(problem)
    ids = [1] if image.ndim == 2 else [1, 2, 3]
    if not (progressive or arithmetic or optimize or restart_interval or restart_rows):
        header_args = dict(app_segments=apps, com_segments=coms, colour_segment=colour, with_dht=not mjpeg)
        return _encode_standard(image, qtables, subsampling, ids, header_args)
    layout, blocks, tq = image_to_mcu_blocks(image, qtables, subsampling)
    if progressive:
        # The component grids, MCU-padded and concatenated, from transmission order (a single component
        # with factors over 1x1 sends fewer blocks than its padded grid holds).
        grid_blocks = sum(r * c for r, c in (layout.grid(i) for i in range(len(layout.sampling))))
        flat = np.zeros((grid_blocks,) + blocks.shape[1:], dtype=blocks.dtype)
        flat[layout.transmission_order()] = blocks
        writer = write_progressive_arithmetic if arithmetic else write_progressive
        return writer(
            layout,
            ids,
            flat,
            qtables,
            tq,
            ycbcr=image.ndim == 3,
            restart_interval=restart_interval,
            restart_rows=restart_rows,
            app_segments=apps,
            com_segments=coms,
        )
    return write_baseline(
        layout,
        ids,
        blocks,
        qtables,
        tq,
        optimize=bool(optimize),
        restart_interval=restart_interval,
        restart_rows=restart_rows,
        app_segments=apps,
        com_segments=coms,
        colour_segment=colour,
        with_dht=not mjpeg,
        arithmetic=bool(arithmetic),
    )


def encode_to(path_or_file, image, tables=None, **options) -> int:
    """Encode like ``encode`` and write the file; returns the number of bytes written.

    A path is written atomically (temporary file + rename), so an error never leaves a partial file;
    a binary file object receives the bytes only once encoding has succeeded.
    """
    data = encode(image, tables, **options)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)
    else:
        write_atomic(path_or_file, data)
    return len(data)
