"""Decoding many small JPEGs in one compiled call (fdjpeg.dataset.batch uses it).

A 224x224 image costs fdjpeg more in Python (marker parsing, table set-up, a dozen kernel calls) than in
its kernels. Here each file's headers are still parsed in Python, up to its scan, by the same parser and
checks as ``read_coefficients`` (``plan``); then the heavy stages of every planned file -- entropy
decoding (entropy.py), the IDCT (idct.py) and upsampling fused with colour conversion (compose.py), and
for ``requantize`` the re-quantization (base/requantize.py) -- run in one kernel, ``prange`` over files,
the GIL released. Each file is one task that calls the same serial stage kernels as ``decode``: there is
no parallel region inside a task.

Only the common case is planned: 8-bit sequential Huffman files with one interleaved scan of every
component, in a colour space the pixel stage knows, parsed without any warning. Any other file, and any
planned file whose scan logged a warning (damaged data), did not end at EOI, or whose entropy data did
not end cleanly, is reported as not done; the caller decodes it again one at a time, so that its
pixels, warnings and errors are those of ``decode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..base.coefficients import JPEGCoefficients
from ..base.jit import kernel, parallel_kernel, prange
from ..base.layout import component_blocks
from ..base.requantize import _requantize_blocks
from . import entropy as ed
from .compose import _COMPONENTS, _COMPOSE, _compose_range
from .idct import _idct_rows
from .reader import _NATURAL_U8, _CoefficientReader
from .upsample import METHOD_CODES, upsample_method

#: Columns of the per-component parameter rows (``comp``) of the batch kernel.
C_BASE, C_STRIDE, C_BH, C_BW, C_PLANE, C_METHOD, C_HEXP, C_VEXP, C_DW, C_DH = range(10)
#: Columns of the per-file parameter rows (``item``).
I_NCOMP, I_NBLK, I_MCUS_X, I_MCUS_Y, I_INTERVAL, I_TABLES, I_WIDTH, I_HEIGHT, I_CSPACE, I_CHANNELS = range(10)


class _Planned(Exception):
    """Raised by the scan callback to stop the parser at the first scan of a plannable file."""


class _NotPlannable(Exception):
    """The file is outside the batch kernel's case: decode it one at a time."""


@dataclass
class Plan:
    """One file, parsed up to its scan: what the batch kernel needs, and what a JPEGCoefficients needs."""

    raw: bytes
    header: object
    blocks: np.ndarray  # entropy.py's per-block rows of the MCU
    mcus: tuple[int, int]
    interval: int
    tables: tuple  # reader._stacked_tables (shared between files with the same tables)
    scan_pos: int
    grids: list  # padded (blocks_y, blocks_x) per component
    bases: list
    quant: list  # latched tables per component


def plan(raw: bytes, max_pixels: int | None, max_scans: int | None) -> Plan | None:
    """Parse ``raw`` up to its first scan; None when the batch kernel does not cover it (or the parser
    raised: the caller's one-at-a-time decode raises the same error)."""
    reader = _CoefficientReader(raw, max_pixels, max_scans)
    parser = reader.parser
    found = []

    def on_scan(parser, scan):
        hdr = parser.header
        if (
            hdr.arithmetic
            or hdr.progressive
            or hdr.precision != 8
            or hdr.sof_marker == 0xC3
            or len(scan.components) != len(hdr.components)
            or len(hdr.components) > 4
            or reader.collected
            or scan.ss != 0
            or scan.se != 63
            or scan.ah != 0
            or scan.al != 0
            or hdr.width < 1
            or hdr.height < 1
            or _COMPONENTS.get(hdr.colorspace) != len(hdr.components)
        ):
            raise _NotPlannable
        hmax, vmax = hdr.max_sampling
        if any(hmax % h or vmax % v for h, v in hdr.sampling):
            raise _NotPlannable
        reader._allocate(hdr, scan.offset)
        blocks, mcus_x, mcus_y, _ = reader._geometry(hdr, scan)
        reader._latch_quant(hdr, scan)
        tables = reader._tables(scan, dc=True, ac=True)
        found.append(
            Plan(
                raw,
                hdr,
                blocks,
                (mcus_x, mcus_y),
                parser.restart_interval,
                tables,
                parser.pos,
                reader.grids,
                reader.bases,
                reader.latched,
            )
        )
        raise _Planned

    parser.on_scan = on_scan
    try:
        parser.run()
    except _Planned:
        return found[0]
    except Exception:  # noqa: BLE001  (the one-at-a-time decode raises it again, with its message)
        return None
    return None


@kernel
def _entropy_one(data, store, blocks, item, tables, natural, state, log):
    lookup, maxcode, valoffset, huffval, fast = tables
    t = item[I_TABLES]
    return ed._decode_sequential(
        data,
        store,
        blocks[: item[I_NBLK]],
        item[I_MCUS_X],
        item[I_MCUS_Y],
        np.int64(1),
        item[I_INTERVAL],
        lookup[t],
        maxcode[t],
        valoffset[t],
        huffval[t],
        fast[t],
        natural,
        state,
        log,
    )


@kernel
def _pixels_one(store, comp, mults, planes_flat, item, out):
    """IDCT of every component of one file into its planes, then upsampling + colour into ``out``."""
    ncomp = item[I_NCOMP]
    p = []
    for c in range(4):
        cc = c if c < ncomp else 0
        bh = comp[cc, C_BH]
        bw = comp[cc, C_BW]
        po = comp[cc, C_PLANE]
        p.append(planes_flat[po : po + bh * bw * 64].reshape(bh * 8, bw * 8))
    for c in range(ncomp):
        stride = comp[c, C_STRIDE]
        base = comp[c, C_BASE]
        _idct_rows(store[base:], stride, mults[c], p[c], np.int64(0), comp[c, C_BH], np.int64(0), np.bool_(True))
    planes = (p[0], p[1], p[2], p[3])
    width = item[I_WIDTH]
    _compose_range(
        planes,
        comp[:, C_METHOD].copy(),
        comp[:, C_HEXP].copy(),
        comp[:, C_VEXP].copy(),
        comp[:, C_DW].copy(),
        comp[:, C_DH].copy(),
        item[I_CSPACE],
        out,
        width,
        np.int64(0),
        item[I_HEIGHT],
    )


@kernel
def _decode_serial(data, doff, soff, blocks, items, tables, natural, state, log, comp, qfile, mults, poff, out, ooff):
    for i in range(items.shape[0]):
        _decode_task(data, doff, soff, blocks, items, tables, natural, state, log, comp, qfile, mults, poff, out, ooff, i)


@kernel
def _decode_task(data, doff, soff, blocks, items, tables, natural, state, log, comp, qfile, mults, poff, out, ooff, i):
    """File i: entropy decoding, then pixels when the scan was clean (no warning logged); the caller
    redoes any other file one at a time. With a defense (``qfile`` has rows), the coefficients are
    re-quantized from ``qfile`` to ``mults`` first (base/requantize.py). The coefficients and planes
    are the task's own scratch (freed, and so reused while still in cache, by the thread's next file)."""
    item = items[i]
    st = np.zeros((soff[i + 1] - soff[i], 64), np.int16)
    _entropy_one(data[doff[i] : doff[i + 1]], st, blocks[i], item, tables, natural, state[i], log[i])
    if state[i, ed.S_NLOG] != 0:
        return
    if qfile.shape[0] != 0:
        ncomp = item[I_NCOMP]
        for c in range(ncomp):
            b0 = comp[i, c, C_BASE]
            b1 = comp[i, c + 1, C_BASE] if c + 1 < ncomp else st.shape[0]
            _requantize_blocks(st[b0:b1], qfile[i, c], mults[i, c], st[b0:b1])
    h = item[I_HEIGHT]
    o = out[ooff[i] : ooff[i + 1]].reshape(h, (ooff[i + 1] - ooff[i]) // h)
    planes = np.empty(poff[i + 1] - poff[i], np.uint8)
    _pixels_one(st, comp[i], mults[i], planes, item, o)


@parallel_kernel(work=lambda data, doff, soff, *args: soff[-1] if doff.shape[0] > 2 else 0, serial=_decode_serial)
def _decode_parallel(data, doff, soff, blocks, items, tables, natural, state, log, comp, qfile, mults, poff, out, ooff):
    """_decode_task for every file, one file per parallel task (nothing inside a task is parallel)."""
    for i in prange(items.shape[0]):
        _decode_task(data, doff, soff, blocks, items, tables, natural, state, log, comp, qfile, mults, poff, out, ooff, i)


@kernel
def _requantize_serial(data, doff, store, soff, blocks, items, tables, natural, state, log, comp, qfile, qnew, res):
    for i in range(items.shape[0]):
        _requantize_task(data, doff, store, soff, blocks, items, tables, natural, state, log, comp, qfile, qnew, res, i)


@kernel
def _requantize_task(data, doff, store, soff, blocks, items, tables, natural, state, log, comp, qfile, qnew, res, i):
    """File i: entropy decoding, then the one-pass defense (base/requantize.py) component by component."""
    item = items[i]
    st = store[soff[i] : soff[i + 1]]
    _entropy_one(data[doff[i] : doff[i + 1]], st, blocks[i], item, tables, natural, state[i], log[i])
    if state[i, ed.S_NLOG] != 0:
        return
    rs = res[soff[i] : soff[i + 1]]
    ends = item[I_NCOMP]
    for c in range(ends):
        b0 = comp[i, c, C_BASE]
        b1 = comp[i, c + 1, C_BASE] if c + 1 < ends else st.shape[0]
        _requantize_blocks(st[b0:b1], qfile[i, c], qnew[i, c], rs[b0:b1])


@parallel_kernel(work=lambda data, doff, store, *args: store.shape[0] if doff.shape[0] > 2 else 0, serial=_requantize_serial)
def _requantize_parallel(data, doff, store, soff, blocks, items, tables, natural, state, log, comp, qfile, qnew, res):
    """_requantize_task for every file, one file per parallel task."""
    for i in prange(items.shape[0]):
        _requantize_task(data, doff, store, soff, blocks, items, tables, natural, state, log, comp, qfile, qnew, res, i)


def _pack(plans: list[Plan], pixels: bool):
    """The flat arrays of the batch kernels for ``plans`` (offsets into concatenated data, stores, planes)."""
    n = len(plans)
    table_ids: dict[int, int] = {}
    table_sets = []
    items = np.zeros((n, 10), np.int64)
    comp = np.zeros((n, 4, 10), np.int64)
    blocks = np.zeros((n, 10, ed.B_COLUMNS), np.int64)
    doff = np.zeros(n + 1, np.int64)
    soff = np.zeros(n + 1, np.int64)
    poff = np.zeros(n + 1, np.int64)
    ooff = np.zeros(n + 1, np.int64)
    mults = np.zeros((n, 4, 64), np.int64)
    shapes = []
    for i, p in enumerate(plans):
        hdr = p.header
        key = id(p.tables)
        if key not in table_ids:
            table_ids[key] = len(table_sets)
            table_sets.append(p.tables)
        nb = p.blocks.shape[0]
        blocks[i, :nb] = p.blocks
        width, height = int(hdr.width), int(hdr.height)
        code, channels = _COMPOSE[hdr.colorspace]
        ncomp = len(hdr.components)
        items[i] = (ncomp, nb, p.mcus[0], p.mcus[1], p.interval, table_ids[key], width, height, code, channels)
        doff[i + 1] = doff[i] + len(p.raw)
        soff[i + 1] = soff[i] + sum(gy * gx for gy, gx in p.grids)
        hmax, vmax = hdr.max_sampling
        plane_size = 0
        for c, (h, v) in enumerate(hdr.sampling):
            bh, bw = component_blocks(width, height, h, v, hmax, vmax)
            dw = -(-width * h // hmax)
            dh = -(-height * v // vmax)
            method = METHOD_CODES[upsample_method(hmax // h, vmax // v, dw)]
            comp[i, c] = (p.bases[c], p.grids[c][1], bh, bw, plane_size, method, hmax // h, vmax // v, dw, dh)
            plane_size += bh * bw * 64
            mults[i, c] = np.asarray(p.quant[c]).reshape(64)
        for c in range(ncomp, 4):
            comp[i, c] = comp[i, 0]
        poff[i + 1] = poff[i] + plane_size
        ooff[i + 1] = ooff[i] + height * width * channels
        shapes.append((height, width) if channels == 1 else (height, width, channels))
    tables = tuple(np.ascontiguousarray(np.stack([ts[k] for ts in table_sets])) for k in range(5))
    data = np.frombuffer(b"".join(p.raw for p in plans), np.uint8)
    return data, doff, soff, poff, ooff, blocks, items, tables, comp, mults, shapes


def _finish(plans, state, data_ok):
    """Which files were decoded cleanly: no warning logged, and the scan ended at EOI."""
    ok = []
    for i, p in enumerate(plans):
        st = state[i]
        good = data_ok and st[ed.S_NLOG] == 0 and st[ed.S_DISCARDED] == 0
        if good:
            marker, pos = int(st[ed.S_MARKER]), int(st[ed.S_POS])
            good = marker == 0xD9 if marker else p.raw[pos : pos + 2] == b"\xff\xd9"
        ok.append(bool(good))
    return ok


def decode_planned(plans: list[Plan], defense: list[list[np.ndarray]] | None = None) -> list[np.ndarray | None]:
    """Pixels of every planned file (the arrays ``decode`` returns with mode=None, or with
    ``defense=``: ``defense[i]`` is file i's validated table per component), None where the file must
    be decoded one at a time after all."""
    if not plans:
        return []
    data, doff, soff, poff, ooff, blocks, items, tables, comp, mults, shapes = _pack(plans, True)
    n = len(plans)
    out = np.empty(int(ooff[-1]), np.uint8)
    state = np.zeros((n, ed.STATE_SIZE), np.int64)
    for i, p in enumerate(plans):
        state[i, ed.S_POS] = p.scan_pos
    log = np.zeros((n, ed.LOG_SIZE, 4), np.int64)
    qfile = np.ones((0, 4, 64), np.int64)
    if defense is not None:
        qfile = mults.copy()
        for i in range(n):
            for c, table in enumerate(defense[i]):
                mults[i, c] = np.asarray(table).reshape(64)
    _decode_parallel(data, doff, soff, blocks, items, tables, _NATURAL_U8, state, log, comp, qfile, mults, poff, out, ooff)
    ok = _finish(plans, state, True)
    return [out[ooff[i] : ooff[i + 1]].reshape(shapes[i]) if ok[i] else None for i in range(n)]


def requantize_planned(plans: list[Plan], new_tables: list[list[np.ndarray]]) -> list[JPEGCoefficients | None]:
    """``requantize_coefficients(read_coefficients(file), tables)`` of every planned file, None where the
    file must be done one at a time after all. ``new_tables[i]``: the validated table per component."""
    if not plans:
        return []
    data, doff, soff, _, _, blocks, items, tables, comp, _, _ = _pack(plans, False)
    n = len(plans)
    store = np.zeros((int(soff[-1]), 64), np.int16)
    res = np.empty_like(store)
    qfile = np.ones((n, 4, 64), np.int64)
    qnew = np.ones((n, 4, 64), np.int64)
    for i, p in enumerate(plans):
        for c, (qf, qn) in enumerate(zip(p.quant, new_tables[i])):
            qfile[i, c] = np.asarray(qf).reshape(64)
            qnew[i, c] = np.asarray(qn).reshape(64)
    state = np.zeros((n, ed.STATE_SIZE), np.int64)
    for i, p in enumerate(plans):
        state[i, ed.S_POS] = p.scan_pos
    log = np.zeros((n, ed.LOG_SIZE, 4), np.int64)
    _requantize_parallel(data, doff, store, soff, blocks, items, tables, _NATURAL_U8, state, log, comp, qfile, qnew, res)
    ok = _finish(plans, state, True)
    result = []
    for i, p in enumerate(plans):
        if not ok[i]:
            result.append(None)
            continue
        hdr = p.header
        rs = res[soff[i] : soff[i + 1]]
        components = [rs[base : base + gy * gx].reshape(gy, gx, 8, 8) for base, (gy, gx) in zip(p.bases, p.grids)]
        result.append(
            JPEGCoefficients(
                width=hdr.width,
                height=hdr.height,
                components=components,
                quant_tables=[t.copy() for t in new_tables[i]],
                sampling=hdr.sampling,
                component_ids=hdr.component_ids,
                colorspace=hdr.colorspace,
                progressive=hdr.progressive,
                header=hdr,
                precision=hdr.precision,
            )
        )
    return result
