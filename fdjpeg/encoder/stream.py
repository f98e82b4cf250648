"""Streaming compression (libjpeg's jpeg_write_scanlines): rows in, entropy-coded data out as each
iMCU row completes, in memory that does not grow with the image height.

The per-strip work is the whole-array encoder's own: ``prepare._prepare_strips`` run on a band of
whole iMCU rows (its edge rule only looks inside the band, except at the bottom, where the band's
last real row plays the image's last row), and ``entropy._encode_range``, whose state slots carry
what must survive from one band to the next: the DC predictors, the bit accumulator (the partial
byte), the restart countdown and the next RSTn number. The bytes are therefore those of ``encode()``
for the same settings (spec/streaming.md).
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from ..base.huffman import STANDARD_AC, STANDARD_DC
from ..base.io import _UMASK
from ..base.layout import SUBSAMPLING, FrameLayout
from ..base.limits import check_dimensions
from ..base.profile import hardware_settings_problem
from ..base.quant import validate_tables
from .entropy import (
    S_RST_TO_GO,
    STATE_SIZE,
    STATUS_NEED_SPACE,
    _check_status,
    _encode_range,
    _lookup_tables,
    components_in_mcu,
)
from .fdct import quant_divisors
from .markers import _int_arg, metadata_segments, write_avi1, write_baseline, write_eoi, write_jfif
from .prepare import _prepare_strips

#: Input bytes per band handed to the front end at once (whole iMCU rows, at least one).
BAND_BYTES = 1 << 21
#: Size of the entropy coder's output buffer; it is flushed to the file whenever it fills.
OUT_BYTES = 1 << 20

_MODES = {"RGB": 3, "L": 1}


class Encoder:
    """Write a JPEG from rows as they arrive: ``with Encoder(path, width, height) as enc: enc.write(rows)``.

    path_or_file: a path (written atomically: a temporary file in the same directory, renamed into
        place only when the last row is coded; any error or an early close removes it) or a binary
        file object (written as the data is produced; on an error what was written stays written).
    width, height: the image size, 1..65500 each.
    mode: "RGB" (rows (k, W, 3)) or "L" (rows (k, W) or (k, W, 1)), uint8.
    The other keywords are ``encode()``'s, with the same defaults, validation and bytes: quality,
    tables, subsampling, restart_interval, restart_rows, comment, exif, icc_profile, profile, mjpeg.
    optimize=True needs the symbol statistics of the whole scan before the first byte of it
    (libjpeg's two-pass optimize_coding): the quantized coefficients are buffered, as libjpeg
    buffers them in a full-image coefficient array, at 128 bytes per 8x8 block (2 bytes per
    sample: 3 bytes per pixel for 4:2:0 colour, more than the RGB input), and the scan is written
    at close. arithmetic and progressive are not streamed (use ``encode``): ValueError.
    """

    def __init__(
        self,
        path_or_file,
        width,
        height,
        *,
        mode="RGB",
        tables=None,
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
    ):
        self._file = None
        self._tmp = None
        width = _int_arg(width, "width", 1, 65500)
        height = _int_arg(height, "height", 1, 65500)
        check_dimensions(width, height, "image")
        if mode not in _MODES:
            raise ValueError(f"mode must be 'RGB' or 'L', got {mode!r}")
        qtables = validate_tables(tables, quality)
        if subsampling is None:
            subsampling = "4:2:0" if mode == "RGB" else "4:4:4"
        if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
            raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)} (or None), got {subsampling!r}")
        for name, value in (("optimize", optimize), ("mjpeg", mjpeg), ("arithmetic", arithmetic)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        if not isinstance(progressive, (bool, np.bool_)):
            raise TypeError(f"progressive must be a bool, got {progressive!r}")
        if arithmetic or progressive:
            raise ValueError(
                "the streaming Encoder writes baseline Huffman files; arithmetic=True and progressive=True "
                "need encode() (the whole image)"
            )
        restart_interval = _int_arg(restart_interval, "restart_interval", 0, 65535)
        restart_rows = _int_arg(restart_rows, "restart_rows", 0, 65535)
        if restart_interval and restart_rows:
            raise ValueError("give restart_interval (in MCUs) or restart_rows (in MCU rows), not both")
        if mjpeg and optimize:
            raise ValueError("mjpeg=True frames carry no DHT, so they must use the standard tables: drop optimize=True")
        apps, coms = metadata_segments(comment, exif, icc_profile)
        colour = write_avi1() if mjpeg else write_jfif()
        if profile is not None:
            problem = hardware_settings_problem(profile, mode == "RGB", subsampling, [colour, *apps])
            if problem:
                raise ValueError(problem)

        self.width, self.height, self.mode = width, height, mode
        self._nch = _MODES[mode]
        if mode == "L":
            sampling, tq = (SUBSAMPLING[subsampling],), [0]
        else:
            sampling = (SUBSAMPLING[subsampling], (1, 1), (1, 1))
            tq = [0, 1, 1] if len(qtables) == 2 else [0, 0, 0]
        layout = FrameLayout(width, height, sampling)
        self._layout = layout
        self._geom = layout.prepare_geometry()
        self._divisors = np.stack([quant_divisors(qtables[t]) for t in tq])
        self._max_v = layout.max_v if layout.interleaved else 1
        self._strip_rows = 8 * self._max_v
        self._padded_width = int(max(self._geom[:, 2] * 8 * self._geom[:, 4]))
        self._bpm = layout.blocks_per_mcu
        self._comp_in_mcu = components_in_mcu(layout.scan_sampling)
        ncomp = len(sampling)
        self._htbl = np.asarray([0] + [1] * (ncomp - 1), np.int64)
        if restart_rows:
            restart_interval = min(restart_rows * layout.mcus_x, 65535)
        self._restart_interval = restart_interval
        self._optimize = bool(optimize)
        self._held = [] if optimize else None  # optimize: the quantized blocks of every band
        self._header_args = dict(
            qtables=qtables,
            tq=tq,
            restart_interval=restart_interval,
            app_segments=apps,
            com_segments=coms,
            colour_segment=colour,
            with_dht=not mjpeg,
        )
        self._ehufco, self._ehufsi = _lookup_tables(list(STANDARD_DC), list(STANDARD_AC))
        self._state = np.zeros(STATE_SIZE, np.int64)
        self._state[S_RST_TO_GO] = restart_interval
        self._out = np.empty(OUT_BYTES, np.uint8)
        self._pending = np.empty((self._strip_rows, width, self._nch), np.uint8)
        self._pending_rows = 0
        self._rows = 0  # rows received
        self._strips_done = 0
        self._closed = False

        if hasattr(path_or_file, "write"):
            self._file = path_or_file
            self._path = None
        else:
            self._path = os.fspath(path_or_file)
            directory = os.path.dirname(os.path.abspath(self._path))
            fd, self._tmp = tempfile.mkstemp(prefix=".fdjpeg-", suffix=".tmp", dir=directory)
            os.fchmod(fd, 0o666 & ~_UMASK)
            self._file = os.fdopen(fd, "wb")
        if not self._optimize:
            try:
                self._file.write(self._headers(None))
            except BaseException:
                self._abort()
                raise

    # ----------------------------------------------------------------------------------------------

    @property
    def rows_written(self) -> int:
        """Rows received so far."""
        return self._rows

    def _headers(self, blocks) -> bytes:
        """Everything before the entropy-coded data, from ``write_baseline`` itself (with no blocks its
        scan is empty, so its output is the headers followed by EOI); with ``blocks`` the whole file."""
        empty = blocks is None
        if empty:
            blocks = np.zeros((0, 64), np.int16)
        ids = [1] if self.mode == "L" else [1, 2, 3]
        a = self._header_args
        data = write_baseline(
            self._layout,
            ids,
            blocks,
            a["qtables"],
            a["tq"],
            optimize=self._optimize,
            restart_interval=a["restart_interval"],
            app_segments=a["app_segments"],
            com_segments=a["com_segments"],
            colour_segment=a["colour_segment"],
            with_dht=a["with_dht"],
        )
        return data[:-2] if empty else data

    def write(self, rows) -> None:
        """Append full-width rows: uint8 (k, W, 3) for "RGB", (k, W) or (k, W, 1) for "L", any k >= 0."""
        if self._closed:
            raise ValueError("write() on a closed Encoder")
        rows = self._check_rows(rows)
        k = rows.shape[0]
        if k == 0:
            return
        try:
            i = 0
            if self._pending_rows:
                take = min(k, self._strip_rows - self._pending_rows)
                self._pending[self._pending_rows : self._pending_rows + take] = rows[:take]
                self._pending_rows += take
                self._rows += take
                i = take
                if self._pending_rows == self._strip_rows or self._rows == self.height:
                    self._band(self._pending, self._pending_rows)
                    self._pending_rows = 0
            per_band = max(1, BAND_BYTES // (self._strip_rows * self.width * self._nch)) * self._strip_rows
            while i < k:
                remaining = k - i
                ends = self._rows + remaining == self.height
                if remaining >= self._strip_rows:
                    n = min(per_band, (remaining // self._strip_rows) * self._strip_rows)
                    if ends and remaining - n < self._strip_rows:
                        n = remaining  # the image's last rows go with this band
                elif ends:
                    n = remaining
                else:
                    break
                self._band(rows[i : i + n], n)
                self._rows += n
                i += n
            if i < k:
                rest = k - i
                self._pending[:rest] = rows[i:]
                self._pending_rows = rest
                self._rows += rest
            if self._rows == self.height:
                self._finish()
        except BaseException:
            self._abort()
            raise

    def _check_rows(self, rows) -> np.ndarray:
        if not isinstance(rows, np.ndarray):
            raise TypeError(f"rows must be a numpy uint8 array, got {type(rows).__name__}")
        if rows.dtype != np.uint8:
            raise TypeError(f"rows must have dtype uint8, got {rows.dtype}")
        if rows.ndim == 2 and self._nch == 1:
            rows = rows[:, :, None]
        want = (self.width, self._nch)
        if rows.ndim != 3 or rows.shape[1:] != want:
            shape = f"(k, {self.width}, 3)" if self._nch == 3 else f"(k, {self.width}) or (k, {self.width}, 1)"
            raise ValueError(f"rows must have shape {shape} for mode {self.mode!r}, got {rows.shape}")
        if self._rows + rows.shape[0] > self.height:
            raise ValueError(f"too many rows: {self._rows} written + {rows.shape[0]} given > height {self.height}")
        return np.ascontiguousarray(rows)

    def _band(self, pixels, nrows) -> None:
        """Code ``nrows`` rows (whole iMCU rows, or the image's last rows) at pixels[:nrows]."""
        layout = self._layout
        nstrips = -(-nrows // self._strip_rows)
        s0 = self._strips_done
        geom = self._geom.copy()
        # Block rows of each component that hold image samples, counted from this band's first.
        geom[:, 3] = np.minimum(geom[:, 3] - s0 * geom[:, 1], nstrips * geom[:, 1])
        nmcu = layout.mcus_x * nstrips
        blocks = np.empty((nmcu * self._bpm, 64), np.int16)
        _prepare_strips(
            pixels[:nrows],
            nrows,
            self.width,
            geom,
            self._divisors,
            layout.mcus_x,
            nstrips,
            self._bpm,
            self._max_v,
            self._padded_width,
            blocks,
        )
        self._strips_done += nstrips
        if self._optimize:
            self._held.append(blocks)
            return
        self._entropy(blocks, nmcu, finish=False)

    def _entropy(self, blocks, nmcu, finish) -> None:
        state = self._state
        state[0] = 0  # S_NEXT: MCU index within this band
        while True:
            st, pos = _encode_range(
                blocks,
                self._comp_in_mcu,
                self._htbl,
                self._htbl,
                self._ehufco,
                self._ehufsi,
                self._restart_interval,
                nmcu,
                True,
                finish,
                self._out,
                0,
                state,
            )
            if st != STATUS_NEED_SPACE:
                _check_status(st)
            self._file.write(self._out[:pos].tobytes())
            if st != STATUS_NEED_SPACE:
                return

    def _finish(self) -> None:
        if self._optimize:
            blocks = np.concatenate(self._held) if len(self._held) > 1 else self._held[0]
            self._held = None
            self._file.write(self._headers(blocks))
        else:
            self._entropy(np.zeros((0, 64), np.int16), 0, finish=True)
            self._file.write(write_eoi())
        self._pending = None
        if self._tmp is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._tmp, self._path)
            self._tmp = None
        self._closed = True

    def _abort(self) -> None:
        """Stop for good; a temporary file is closed and removed (the path is never touched)."""
        self._closed = True
        self._held = self._pending = None
        if self._tmp is not None:
            try:
                self._file.close()
            finally:
                try:
                    os.unlink(self._tmp)
                except OSError:
                    pass
                self._tmp = None

    def close(self) -> None:
        """Check that every row was written; otherwise remove the temporary file and raise ValueError."""
        if self._closed:
            return
        if self._rows < self.height:
            self._abort()
            raise ValueError(f"Encoder closed after {self._rows} of {self.height} rows: the file was not written")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._abort()
            return False
        self.close()
        return False

    def __del__(self):
        if getattr(self, "_tmp", None) is not None:
            self._abort()
