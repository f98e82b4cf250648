"""Decoding by strips (libjpeg's jpeg_read_scanlines): pixel rows of a file in order, each strip
reconstructed from the coefficients of the iMCU rows it needs, equal to ``decode()``'s rows.

Reconstruction works in bands of whole iMCU rows. For a band of iMCU rows [ma, mb) each component's
IDCT covers its block rows of the band plus one block row above and one below (the context rows of
jdmainct.c: fancy upsampling reads the downsampled row above and below each row), written into a
band-local plane whose first row is the component's row 8 * v * (ma - 1) (0 for the first band).
The fused upsample + colour kernel (compose.py) then runs on output rows in band-local coordinates
y - 8 * vmax * (ma - 1): since that offset is a multiple of every v_expand, each component's local
source row and the parity that picks the fancy filter's neighbour are the whole-image ones, and its
height in the local frame keeps the bottom clamp where the image's is. The pixels are therefore
``decode()``'s. spec/streaming.md section 2.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..base.errors import JPEGError, UnsupportedJPEG
from ..base.layout import ceil_div, component_blocks
from ..base.limits import MAX_PIXELS, MAX_SCANS
from .color import convert_high_precision, convert_mode
from .compose import _COMPONENTS, _COMPOSE, _compose_range, _four
from .decompress import coefficients_to_pixels
from .idct import _check_arithmetic, _idct_rows, idct_multipliers
from .lossless import decode_lossless, maybe_lossless
from .reader import read_coefficients
from .smoothing import smoothing_state
from .stream_entropy import NotStreamable, SequentialScan, open_source
from .upsample import METHOD_CODES, upsample_method


class Decoder:
    """Pixel strips of a JPEG in order: ``for y0, rows in Decoder(source).rows(strip=64): ...``.

    source: bytes, a path or a binary file object. mode, max_pixels, max_scans: as ``decode()``.
    The strips concatenated are ``decode(source, mode=mode)``. A file of one sequential Huffman scan
    (baseline) is read and entropy-decoded as the strips need it, holding a window of the file and
    (band + 2) iMCU rows of coefficients (stream_entropy.py); ``rows()`` can then be taken once.
    Other files are decoded to coefficients first and held (libjpeg's buffered-image mode: 128 bytes
    per 8x8 block); 12-bit, lossless and progressive files that need inter-block smoothing are
    reconstructed whole and sliced. spec/streaming.md section 2.
    """

    def __init__(self, source, *, mode=None, max_pixels=MAX_PIXELS, max_scans=MAX_SCANS):
        if mode not in (None, "RGB", "L"):
            raise ValueError(f"mode must be None, 'RGB' or 'L', got {mode!r}")
        self.mode = mode
        self._pixels = None  # set when the image is reconstructed whole (see the class docstring)
        self._coefs = self._scan = None
        self._started = False
        self._whole = False
        reader, opened = open_source(source)
        raw = None
        try:
            self._scan = SequentialScan(reader, max_pixels)
        except NotStreamable as stop:  # everything but one sequential Huffman scan: held coefficients
            raw = bytes(stop.args[0]) + reader.read()
        finally:
            if opened and self._scan is None:
                reader.close()
        if self._scan is not None:
            self._reader = reader if opened else None
            hdr = self._scan.header
            self.width, self.height = int(hdr.width), int(hdr.height)
            self._sampling, self._colorspace, self._quant = list(hdr.sampling), hdr.colorspace, self._scan.quant
            self._check_sampling()
            return
        if maybe_lossless(raw):  # SOF3: samples, no coefficients (lossless.py)
            samples = decode_lossless(raw, max_pixels, max_scans)
            if samples is not None:
                self._pixels = convert_high_precision(samples, mode)
                self.height, self.width = self._pixels.shape[:2]
                self.imcu_rows = 8
                return
        coefs = read_coefficients(raw, max_pixels=max_pixels, max_scans=max_scans)
        self._coefs = coefs
        self.width, self.height = int(coefs.width), int(coefs.height)
        self._sampling, self._colorspace, self._quant = list(coefs.sampling), coefs.colorspace, coefs.quant_tables
        self._check_sampling()
        self._whole = getattr(coefs, "precision", 8) != 8 or smoothing_state(coefs) is not None

    def _check_sampling(self):
        ncomp = len(self._sampling)
        if self._colorspace not in _COMPONENTS or _COMPONENTS[self._colorspace] != ncomp:
            raise UnsupportedJPEG(f"unsupported colour space {self._colorspace!r} ({ncomp} components)")
        if self.width < 1 or self.height < 1:
            raise JPEGError(f"empty image ({self.width}x{self.height})")
        hmax = max(h for h, _ in self._sampling)
        vmax = max(v for _, v in self._sampling)
        for ci, (h, v) in enumerate(self._sampling):
            if not (1 <= h <= 4 and 1 <= v <= 4):
                raise JPEGError(f"component {ci}: sampling factors {h}x{v} outside 1..4")
            if hmax % h or vmax % v:
                raise UnsupportedJPEG(
                    f"fractional upsampling: component {ci} has sampling {h}x{v} but the maximum is {hmax}x{vmax}"
                )
        self.imcu_rows = 8 * vmax  #: rows per iMCU row: strips of a multiple of it waste no work

    def rows(self, strip=None):
        """Yield (y0, pixels[y0 : y0 + strip]) from the top; ``strip`` rows each (default one iMCU
        row), the last strip shorter when the height is not a multiple."""
        if strip is None:
            strip = self.imcu_rows
        if isinstance(strip, bool) or not isinstance(strip, Integral):
            raise TypeError(f"strip must be an int, got {strip!r}")
        if strip < 1:
            raise ValueError(f"strip must be at least 1 row, got {strip}")
        strip = int(strip)
        if self._started and self._scan is not None:
            raise ValueError("rows() of a Decoder reading a stream can be taken once (the data is not kept)")
        self._started = True
        return self._rows(strip)

    def _rows(self, strip):
        if self._pixels is not None or self._whole:
            pixels = self._pixels
            if pixels is None:
                pixels = coefficients_to_pixels(self._coefs)
                convert = convert_high_precision if pixels.dtype != np.uint8 else convert_mode
                pixels = convert(pixels, self.mode)
            for y0 in range(0, self.height, strip):
                yield y0, pixels[y0 : y0 + strip]
            return
        per_band = max(1, strip // self.imcu_rows)
        total = ceil_div(self.height, self.imcu_rows)
        if self._scan is not None:
            self._scan.allocate(min(per_band + 2, total))
        held = None  # rows reconstructed but not yet handed out
        y_next = 0
        for ma in range(0, total, per_band):
            mb = min(total, ma + per_band)
            band = self._band(ma, mb)
            held = band if held is None else np.concatenate([held, band])
            while held.shape[0] >= strip or (mb == total and held.shape[0]):
                out, held = held[:strip], held[strip:]
                yield y_next, convert_mode(np.ascontiguousarray(out), self.mode)
                y_next += out.shape[0]
        if self._scan is not None:
            self._scan.store = None
            if self._reader is not None:
                self._reader.close()

    def _band(self, ma, mb):
        """Pixels of iMCU rows [ma, mb) (the last cut at the image height)."""
        width, height = self.width, self.height
        hmax = max(h for h, _ in self._sampling)
        vmax = max(v for _, v in self._sampling)
        total = ceil_div(height, 8 * vmax)
        m0 = max(ma - 1, 0)  # the band-local frame starts at iMCU row m0
        m1 = min(total, mb + 1)
        if self._scan is not None:
            self._scan.advance(m0, m1)
        planes, params = [], []
        for ci, (h, v) in enumerate(self._sampling):
            bh, bw = component_blocks(width, height, h, v, hmax, vmax)
            if self._scan is not None:
                blocks, off = self._scan.component(ci)
            else:
                blocks, off = self._coefs.components[ci], 0
                if blocks.ndim != 4 or blocks.shape[2:] != (8, 8) or blocks.shape[0] < bh or blocks.shape[1] < bw:
                    raise JPEGError(f"component {ci}: coefficient array {blocks.shape} does not cover {bh}x{bw} blocks")
            if blocks.dtype != np.int16 or not blocks.flags.c_contiguous:
                blocks = np.ascontiguousarray(blocks, dtype=np.int16)
            table = self._quant[ci] if self._quant[ci] is not None else np.zeros(64, np.uint16)
            quantval = np.ascontiguousarray(np.asarray(table).reshape(64).astype(np.int64))
            mult = idct_multipliers(quantval, "simd")
            plane = np.empty((8 * v * (m1 - m0), bw * 8), np.uint8)
            lo = v * ma - 1 if ma > 0 else 0
            hi = min(bh, v * mb + 1)
            _idct_rows(
                blocks.reshape(-1, 64),
                blocks.shape[1],
                mult,
                plane,
                np.int64(lo - off),
                np.int64(hi - off),
                np.int64(v * m0 - off),
                _check_arithmetic("simd"),
            )
            planes.append(plane)
            dw = -(-width * h // hmax)
            dh = -(-height * v // vmax)
            method = METHOD_CODES[upsample_method(hmax // h, vmax // v, dw)]
            params.append((method, hmax // h, vmax // v, dw, dh - 8 * v * m0))
        code, channels = _COMPOSE[self._colorspace]
        y_base = 8 * vmax * m0
        y0 = 8 * vmax * ma - y_base
        y1 = min(height, 8 * vmax * mb) - y_base
        out = np.empty((y1, width * channels), np.uint8)
        methods, hexp, vexp, dws, dhs = (np.array(_four(list(p)), np.int64) for p in zip(*params))
        _compose_range(tuple(_four(planes)), methods, hexp, vexp, dws, dhs, code, out, width, y0, y1)
        out = out[y0:]
        return out if channels == 1 else out.reshape(y1 - y0, width, channels)
