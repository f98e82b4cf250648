"""Writing many small baseline files from coefficients in two compiled calls (fdjpeg.dataset.batch's
``requantize_batch`` uses it): one kernel counts every file's Huffman symbols (for optimal tables),
one codes every file's scan, each ``prange`` over files, one file per task calling the serial stage
kernels of entropy.py (no nested parallel region). Tables, markers and checks stay per file in Python,
the same code as ``write_coefficients`` (transcode.py), so the bytes are the same.
"""

from __future__ import annotations

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.huffman import STANDARD_AC, STANDARD_DC, optimal_spec
from ..base.jit import kernel, parallel_kernel, prange
from ..base.layout import FrameLayout
from .compress import frame_setup
from .entropy import (
    STATE_SIZE,
    STATUS_OK,
    _encode_range,
    _gather_range,
    _lookup_tables,
    _start_state,
    components_in_mcu,
)
from .markers import write_baseline, write_jfif
from .prepare import _prepare_strips
from .transcode import _check_coefficients, file_parts

#: The front end's serial twin, called per image by the batch kernel (never a nested parallel region).
_prepare_serial = _prepare_strips.serial

#: Columns of the per-image rows of _front_files.
F_H, F_W, F_CH, F_NCOMP, F_MCUS_X, F_MCUS_Y, F_BPM, F_MAX_V, F_PADDED = range(9)


@kernel
def _front_serial(pixels, poff, params, geoms, divisors, out, boff):
    for i in range(params.shape[0]):
        _front_task(pixels, poff, params, geoms, divisors, out, boff, i)


@kernel
def _front_task(pixels, poff, params, geoms, divisors, out, boff, i):
    """Image i: colour conversion, downsampling, FDCT and quantization (prepare.py) into its blocks."""
    p = params[i]
    img = pixels[poff[i] : poff[i + 1]].reshape(p[F_H], p[F_W], p[F_CH])
    n = p[F_NCOMP]
    _prepare_serial(
        img,
        p[F_H],
        p[F_W],
        geoms[i, :n],
        divisors[i, :n],
        p[F_MCUS_X],
        p[F_MCUS_Y],
        p[F_BPM],
        p[F_MAX_V],
        p[F_PADDED],
        out[boff[i] : boff[i + 1]],
    )


@parallel_kernel(
    work=lambda pixels, poff, params, geoms, divisors, out, boff: out.shape[0] if poff.shape[0] > 2 else 0,
    serial=_front_serial,
)
def _front_files(pixels, poff, params, geoms, divisors, out, boff):
    """The front end of every image, one image per parallel task."""
    for i in prange(params.shape[0]):
        _front_task(pixels, poff, params, geoms, divisors, out, boff, i)


def encode_images(images: list[np.ndarray], qtables: list[np.ndarray], subsampling, optimize: bool, apps, coms) -> list:
    """``encode(image, qtables, subsampling=..., optimize=..., comment/exif/icc segments)`` of every
    validated uint8 image (no restarts, progressive, arithmetic, MJPEG or profile), front end and
    entropy coding in batch kernels; None where an image must be encoded one at a time."""
    n = len(images)
    if n == 0:
        return []
    params = np.zeros((n, 9), np.int64)
    geoms = np.zeros((n, 3, 7), np.int64)
    divisors = None
    setups = []
    poff = np.zeros(n + 1, np.int64)
    boff = np.zeros(n + 1, np.int64)
    for i, img in enumerate(images):
        h, w = img.shape[:2]
        gray = img.ndim == 2
        sub = subsampling if subsampling is not None else ("4:4:4" if gray else "4:2:0")
        layout, tq, geom, div, max_v, padded = frame_setup(h, w, gray, qtables, sub)
        if divisors is None:
            divisors = np.zeros((n, 3, *div.shape[1:]), div.dtype)
        ncomp = geom.shape[0]
        geoms[i, :ncomp] = geom
        divisors[i, :ncomp] = div
        nblocks = layout.mcus_x * layout.mcus_y * layout.blocks_per_mcu
        params[i] = (h, w, 1 if gray else 3, ncomp, layout.mcus_x, layout.mcus_y, layout.blocks_per_mcu, max_v, padded)
        poff[i + 1] = poff[i] + img.size
        boff[i + 1] = boff[i] + nblocks
        setups.append((layout, tq))
    pixels = np.concatenate([img.reshape(-1) for img in images])
    out = np.empty((int(boff[-1]), 64), np.int16)
    _front_files(pixels, poff, params, geoms, divisors, out, boff)
    coded = code_scans([(setups[i][0], out[boff[i] : boff[i + 1]]) for i in range(n)], optimize)
    result: list = []
    for i, (layout, tq) in enumerate(setups):
        if coded[i] is None:
            result.append(None)
            continue
        result.append(
            write_baseline(
                layout,
                [1] if images[i].ndim == 2 else [1, 2, 3],
                out[boff[i] : boff[i + 1]],
                qtables,
                tq,
                app_segments=apps,
                com_segments=coms,
                colour_segment=write_jfif(),
                entropy=coded[i],
            )
        )
    return result


@kernel
def _gather_serial(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status):
    for i in range(boff.shape[0] - 1):
        _gather_task(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status, i)


@kernel
def _gather_task(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status, i):
    b = blocks[boff[i] : boff[i + 1]]
    c = cim[i, : ncim[i]]
    status[i] = _gather_range(
        b, c, tbl[i], tbl[i], np.int64(0), np.int64(0), b.shape[0] // ncim[i], dc_freq[i], ac_freq[i]
    )


@parallel_kernel(work=lambda blocks, boff, *args: blocks.shape[0] if boff.shape[0] > 2 else 0, serial=_gather_serial)
def _gather_files(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status):
    """Symbol counts of every file's scan, one file per parallel task."""
    for i in prange(boff.shape[0] - 1):
        _gather_task(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status, i)


@kernel
def _encode_serial(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, status):
    for i in range(boff.shape[0] - 1):
        _encode_task(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, status, i)


@kernel
def _encode_task(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, status, i):
    b = blocks[boff[i] : boff[i + 1]]
    c = cim[i, : ncim[i]]
    state = np.zeros(STATE_SIZE, np.int64)
    _start_state(b, c, np.int64(0), np.int64(0), state)
    whole = i >= 0  # True (stuffed, finished), typed as a plain bool: a literal would compile the coder again
    st, pos = _encode_range(
        b,
        c,
        tbl[i],
        tbl[i],
        ehufco[i],
        ehufsi[i],
        np.int64(0),
        b.shape[0] // ncim[i],
        whole,
        whole,
        out[ooff[i] : ooff[i + 1]],
        np.int64(0),
        state,
    )
    status[i] = st
    lengths[i] = pos


@parallel_kernel(work=lambda blocks, boff, *args: blocks.shape[0] if boff.shape[0] > 2 else 0, serial=_encode_serial)
def _encode_files(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, status):
    """Every file's scan coded into its slice of ``out``, one file per parallel task."""
    for i in prange(boff.shape[0] - 1):
        _encode_task(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, status, i)


def code_scans(scans: list[tuple[FrameLayout, np.ndarray]], optimize: bool) -> list:
    """Each (layout, blocks in transmission order) coded as ``write_baseline`` codes its one scan (no
    restarts): (data, dc_specs, ac_specs), or None where a coefficient does not fit the baseline coder
    or the data outgrows the buffer (the one-at-a-time writer then raises or retries)."""
    n = len(scans)
    if n == 0:
        return []
    boff = np.zeros(n + 1, np.int64)
    cim = np.zeros((n, 10), np.int64)
    ncim = np.zeros(n, np.int64)
    tbl = np.zeros((n, 4), np.int64)
    for i, (layout, blocks) in enumerate(scans):
        boff[i + 1] = boff[i] + blocks.shape[0]
        c = components_in_mcu(layout.scan_sampling)
        cim[i, : c.shape[0]] = c
        ncim[i] = c.shape[0]
        ncomp = len(layout.sampling)
        tbl[i, :ncomp] = [0] + [1] * (ncomp - 1)  # luma table 0, chroma table 1 (write_baseline's rule)
    blocks = np.ascontiguousarray(np.concatenate([b for _, b in scans]), dtype=np.int16)
    status = np.zeros(n, np.int64)
    specs: list = []
    if optimize:
        dc_freq = np.zeros((n, 2, 256), np.int64)
        ac_freq = np.zeros((n, 2, 256), np.int64)
        _gather_files(blocks, boff, cim, ncim, tbl, dc_freq, ac_freq, status)
        for i, (layout, _) in enumerate(scans):
            used = {0} if len(layout.sampling) == 1 else {0, 1}
            if status[i] != STATUS_OK:
                specs.append(None)
                continue
            specs.append(
                (
                    [optimal_spec(dc_freq[i, t]) if t in used else None for t in range(2)],
                    [optimal_spec(ac_freq[i, t]) if t in used else None for t in range(2)],
                )
            )
    else:
        specs = [(list(STANDARD_DC), list(STANDARD_AC))] * n
    ehufco = np.zeros((n, 4, 256), np.uint32)
    ehufsi = np.zeros((n, 4, 256), np.uint8)
    for i, sp in enumerate(specs):
        if sp is not None:
            ehufco[i], ehufsi[i] = _lookup_tables(*sp)
    # Typical files need well under 48 bytes per block (entropy.encode_scan's first guess); a file
    # that runs out is written one at a time.
    ooff = np.zeros(n + 1, np.int64)
    ooff[1:] = np.cumsum(4096 + np.diff(boff) * 48)
    out = np.empty(int(ooff[-1]), np.uint8)
    lengths = np.zeros(n, np.int64)
    estatus = np.zeros(n, np.int64)
    _encode_files(blocks, boff, cim, ncim, tbl, ehufco, ehufsi, out, ooff, lengths, estatus)
    return [
        None
        if specs[i] is None or estatus[i] != STATUS_OK
        else (out[ooff[i] : ooff[i] + lengths[i]].tobytes(), *specs[i])
        for i in range(n)
    ]


def write_baseline_batch(coefs_list: list[JPEGCoefficients], *, optimize: bool, keep_metadata: bool) -> list:
    """``write_coefficients(c, optimize=optimize, keep_metadata=keep_metadata)`` of each (sequential
    output, no restarts), or None where a file must be written one at a time (its checks failed, or a
    coefficient does not fit the baseline coder: the one-at-a-time call raises the error)."""
    prepared, where = [], []
    for k, coefs in enumerate(coefs_list):
        layout = FrameLayout(int(coefs.width), int(coefs.height), tuple((int(h), int(v)) for h, v in coefs.sampling))
        try:
            _check_coefficients(coefs, layout)
        except (ValueError, TypeError):
            continue
        slots, tq, apps, coms, colour, flat = file_parts(coefs, keep_metadata)
        prepared.append((layout, coefs, slots, tq, apps, coms, colour, flat[layout.transmission_order()]))
        where.append(k)
    result: list = [None] * len(coefs_list)
    coded = code_scans([(p[0], p[-1]) for p in prepared], optimize)
    for i, (layout, coefs, slots, tq, apps, coms, colour, fblocks) in enumerate(prepared):
        if coded[i] is not None:
            result[where[i]] = write_baseline(
                layout,
                list(coefs.component_ids),
                fblocks,
                slots,
                tq,
                app_segments=apps,
                com_segments=coms,
                colour_segment=colour,
                entropy=coded[i],
            )
    return result
