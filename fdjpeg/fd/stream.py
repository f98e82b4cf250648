"""The one-pass defense as a stream filter: a baseline JPEG in, the requantized baseline JPEG out,
band of iMCU rows by band, in memory that does not grow with the image (spec/streaming.md section 3).

The bytes are ``requantize(data, tables, optimize=False)``'s: the decoder side is
``decoder/stream_entropy.SequentialScan`` (the file read and entropy-decoded as needed), each band is
requantized with ``base/requantize``'s kernel, put in transmission order and coded with
``encoder/entropy._encode_range``, whose state slots carry the DC predictors and the partial byte
from band to band. Optimal Huffman tables (``requantize``'s default) need the whole scan first, so
the stream uses the T.81 K.3 tables.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from ..base.huffman import STANDARD_AC, STANDARD_DC
from ..base.io import _UMASK
from ..base.layout import FrameLayout, ceil_div
from ..base.limits import MAX_PIXELS
from ..base.requantize import _requantize_blocks_parallel, component_tables
from ..decoder.stream_entropy import NotStreamable, SequentialScan, open_source
from ..encoder.entropy import (
    STATE_SIZE,
    STATUS_NEED_SPACE,
    _check_status,
    _encode_range,
    _lookup_tables,
    components_in_mcu,
)
from ..encoder.markers import metadata_segments, write_adobe, write_baseline, write_com, write_eoi
from .distill import requantize

#: iMCU rows decoded, requantized and coded at a time.
BAND_ROWS = 4
OUT_BYTES = 1 << 20
_ADOBE_TRANSFORM = {"RGB": 0, "CMYK": 0, "YCCK": 2}


def requantize_stream(source, destination, tables, *, keep_metadata=True, max_pixels=MAX_PIXELS) -> None:
    """Requantize ``source`` (bytes, a path or a binary file object) with ``tables`` into
    ``destination`` (a path, written atomically, or a binary file object), band by band.

    The output equals ``requantize(source, tables, optimize=False)``. A file of one sequential
    Huffman scan (baseline, what cameras write) is streamed in bounded memory; any other input
    (progressive, arithmetic, several scans) is requantized whole to a baseline file (its
    coefficients held, like ``requantize``).
    """
    reader, opened = open_source(source)
    try:
        try:
            scan = SequentialScan(reader, max_pixels)
        except NotStreamable as stop:
            data = requantize(bytes(stop.args[0]) + reader.read(), tables, optimize=False, keep_metadata=keep_metadata,
                              progressive=False)  # fmt: skip
            _write_all(destination, [data])
            return
        new_tables = component_tables(tables, len(scan.header.components))
        _write_all(destination, _stream(scan, new_tables, keep_metadata))
    finally:
        if opened:
            reader.close()


def _headers(hdr, new_tables, keep_metadata) -> tuple[bytes, FrameLayout, list[int]]:
    """``write_coefficients``'s header for these tables (its DQT slot rule and metadata), from
    ``write_baseline`` with no blocks (its output is then the headers and EOI)."""
    layout = FrameLayout(int(hdr.width), int(hdr.height), tuple((int(h), int(v)) for h, v in hdr.sampling))
    slots, tq = [], []
    for q in new_tables:
        q = np.asarray(q, dtype=np.uint16).reshape(8, 8)
        match = next((i for i, s in enumerate(slots) if np.array_equal(s, q)), None)
        if match is None:
            slots.append(q)
            match = len(slots) - 1
        tq.append(match)
    header = hdr if keep_metadata else None
    apps, _ = metadata_segments(
        exif=getattr(header, "exif", None) or None, icc_profile=getattr(header, "icc_profile", None) or None
    )
    coms = [write_com(c) for c in getattr(header, "comments", ()) if c]
    colour = write_adobe(_ADOBE_TRANSFORM[hdr.colorspace]) if hdr.colorspace in _ADOBE_TRANSFORM else None
    empty = np.zeros((0, 64), np.int16)
    data = write_baseline(
        layout, list(hdr.component_ids), empty, slots, tq, app_segments=apps, com_segments=coms, colour_segment=colour
    )
    return data[:-2], layout


def _stream(scan, new_tables, keep_metadata):
    """The output file, piece by piece."""
    hdr = scan.header
    head, layout = _headers(hdr, new_tables, keep_metadata)
    yield head
    vmax = layout.max_v
    total = ceil_div(layout.height, 8 * vmax)
    scan.allocate(min(BAND_ROWS, total))
    ncomp = len(layout.sampling)
    htbl = np.asarray([0] + [1] * (ncomp - 1), np.int64)
    comp_in_mcu = components_in_mcu(layout.scan_sampling)
    ehufco, ehufsi = _lookup_tables(list(STANDARD_DC), list(STANDARD_AC))
    q_file = [np.asarray(q, np.int64).reshape(64) for q in scan.quant]
    q_new = [np.asarray(q, np.int64).reshape(64) for q in new_tables]
    state = np.zeros(STATE_SIZE, np.int64)
    out = np.empty(OUT_BYTES, np.uint8)
    for ma in range(0, total, BAND_ROWS):
        mb = min(total, ma + BAND_ROWS)
        scan.advance(ma, mb)
        band_h = min(layout.height, 8 * vmax * mb) - 8 * vmax * ma
        band = FrameLayout(layout.width, band_h, layout.sampling)
        grids = []
        for ci in range(ncomp):
            held, _ = scan.component(ci)
            rows = band.grid(ci)[0]
            flat = np.ascontiguousarray(held[:rows]).reshape(-1, 64)
            req = np.empty_like(flat)
            _requantize_blocks_parallel(flat, q_file[ci], q_new[ci], req)
            grids.append(req)
        flat = np.concatenate(grids) if ncomp > 1 else grids[0]
        blocks = np.ascontiguousarray(flat[band.transmission_order()])
        nmcu = blocks.shape[0] // comp_in_mcu.shape[0]
        state[0] = 0
        yield from _code(blocks, comp_in_mcu, htbl, ehufco, ehufsi, nmcu, False, out, state)
    yield from _code(np.zeros((0, 64), np.int16), comp_in_mcu, htbl, ehufco, ehufsi, 0, True, out, state)
    yield write_eoi()


def _code(blocks, comp_in_mcu, htbl, ehufco, ehufsi, nmcu, finish, out, state):
    state[0] = 0
    while True:
        st, pos = _encode_range(blocks, comp_in_mcu, htbl, htbl, ehufco, ehufsi, 0, nmcu, True, finish, out, 0, state)
        if st != STATUS_NEED_SPACE:
            _check_status(st)
        yield out[:pos].tobytes()
        if st != STATUS_NEED_SPACE:
            return


def _write_all(destination, pieces) -> None:
    """Write the pieces to a binary file object, or atomically to a path (nothing left there on error)."""
    if hasattr(destination, "write"):
        for piece in pieces:
            destination.write(piece)
        return
    path = os.fspath(destination)
    fd, tmp = tempfile.mkstemp(prefix=".fdjpeg-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            for piece in pieces:
                f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
