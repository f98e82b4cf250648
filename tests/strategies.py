"""Hypothesis strategies and small parsers shared by the encoder test files (progressive Huffman and
progressive arithmetic): encoder settings with the FD presets, coefficient sets that reach every branch of
the progressive coders, and a segment lister."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st

import fdjpeg
from fdjpeg import JPEGCoefficients
from fdjpeg.testing import SUBSAMPLINGS, encoder_settings, quant_tables


@functools.cache
def _fd_preset(name: str) -> np.ndarray:
    return fdjpeg.tables.preset(name)


@st.composite
def progressive_settings(draw, subsamplings=SUBSAMPLINGS):
    """encoder_settings (quality or custom tables, restarts, optimize on or off) plus the FD presets."""
    kw = dict(draw(encoder_settings(subsamplings=subsamplings)))
    if draw(st.integers(0, 3)) == 0:
        kw.pop("quality", None)
        kw["tables"] = _fd_preset(draw(st.sampled_from(["paper", "released"])))
    kw["progressive"] = True
    return kw


def segment_markers(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment up to EOI, skipping entropy-coded data."""
    out, i = [], 2
    while i < len(data):
        code = data[i + 1]
        if code == 0xD9:
            break
        n = int.from_bytes(data[i + 2 : i + 4], "big")
        out.append((code, data[i + 4 : i + 2 + n]))
        i += 2 + n
        if code == 0xDA:  # entropy-coded data runs to the next marker that is not a stuffed 0xFF or RSTn
            while not (data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))):
                i += 1
    return out


_SAMPLINGS = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2), "4:4:0": (1, 2), "4:1:1": (4, 1)}


def _libjpeg_dummy_blocks(c, bh, bw, h, v):
    """Make the padding blocks of an MCU grid what libjpeg writes (jccoefct.c, and jctrans.c when
    jpegtran re-creates them): AC zero, DC that of the previous block of the MCU in coding order."""
    c[bh:] = 0
    c[:, bw:] = 0
    for my in range(c.shape[0] // v):
        for mx in range(c.shape[1] // h):
            prev = None
            for yi in range(v):
                for xi in range(h):
                    y, x = my * v + yi, mx * h + xi
                    if (y >= bh or x >= bw) and prev is not None:
                        c[y, x, 0, 0] = c[prev][0, 0]
                    prev = (y, x)


@st.composite
def coefficient_sets(draw):
    """Coefficients that reach every branch of the refinement coder: sparse ones with long zero runs
    (ZRL, and ZRLs folded into the EOB), dense even ones (correction bits only, filling the
    correction-bit buffer), all-zero blocks (EOB runs) and random image-like ones."""
    colorspace = draw(st.sampled_from(["L", "YCbCr", "RGB", "CMYK"]))
    ncomp = {"L": 1, "YCbCr": 3, "RGB": 3, "CMYK": 4}[colorspace]
    luma = _SAMPLINGS[draw(st.sampled_from(list(_SAMPLINGS)))] if colorspace == "YCbCr" else (1, 1)
    sampling = [luma] + [(1, 1)] * (ncomp - 1)
    width, height = draw(st.integers(1, 70)), draw(st.integers(1, 70))
    style = draw(st.sampled_from(["sparse", "dense_even", "zero", "mixed"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    hmax, vmax = max(h for h, _ in sampling), max(v for _, v in sampling)
    comps = []
    for h, v in sampling:
        bh, bw = -(-height * v // (8 * vmax)), -(-width * h // (8 * hmax))
        rows, cols = -(-bh // v) * v, -(-bw // h) * h
        shape = (rows, cols, 64)
        if style == "sparse":
            c = rng.integers(-60, 61, shape) * (rng.random(shape) < 0.06)
        elif style == "dense_even":
            c = 2 * rng.integers(1, 5, shape) * rng.choice([-1, 1], shape)
            c[..., -rng.integers(1, 8) :] = 0  # trailing zeros so that every block ends in an EOB
        elif style == "zero":
            c = np.zeros(shape, np.int64)
        else:
            c = np.round(rng.normal(0, 1, shape) * 300 / (1 + np.arange(64)) ** 1.2)
        c = c.reshape(rows, cols, 8, 8)  # natural order (the zigzag shuffle does not matter for random data)
        c[..., 0, 0] = rng.integers(-1000, 1000, (rows, cols))
        c = np.clip(c, -1023, 1023).astype(np.int16)
        _libjpeg_dummy_blocks(c, bh, bw, h if ncomp > 1 else 1, v if ncomp > 1 else 1)
        comps.append(c)
    qmax = draw(st.sampled_from([255, 4000]))  # 4000: 16-bit DQT entries (SOF1 baseline, Pq = 1 in SOF2)
    tables = [draw(quant_tables(max_value=qmax)) for _ in range(ncomp)]
    ids = {"RGB": [0x52, 0x47, 0x42], "CMYK": [0x43, 0x4D, 0x59, 0x4B]}.get(colorspace, list(range(1, ncomp + 1)))
    return JPEGCoefficients(
        width=width,
        height=height,
        components=comps,
        quant_tables=tables,
        sampling=sampling,
        component_ids=ids,
        colorspace=colorspace,
    )
