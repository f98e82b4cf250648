"""The baseline encoder: pixels -> quantized coefficients -> a JFIF file, byte-identical to libjpeg-turbo.

The pipeline follows libjpeg's compressor: colour conversion (jccolor), edge replication and
downsampling (jcprepct/jcsample), islow FDCT and quantization (jcdctmgr), MCU assembly with libjpeg's
dummy blocks (jccoefct), Huffman coding (jchuff) and the marker layout of jcmarker.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from . import markers
from .arithmetic_encode import conditioning, encode_scan_arithmetic
from .dct import quant_divisors
from .entropy_encode import components_in_mcu, encode_scan, gather_frequencies, transmission_order
from .huffman import STANDARD_AC, STANDARD_DC, optimal_spec
from .prepare import _prepare_strips
from .tables import standard

#: Luma sampling factors for each chroma subsampling name (chroma is always 1x1).
SUBSAMPLING = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2), "4:4:0": (1, 2), "4:1:1": (4, 1)}

#: libjpeg's JPEG_MAX_DIMENSION: its decoders (djpeg, Pillow) and fdjpeg's refuse larger frames, so
#: nothing fdjpeg writes may exceed it (the 16-bit SOF fields could carry up to 65535).
MAX_DIMENSION = 65500
ICC_CHUNK = markers.MAX_SEGMENT_PAYLOAD - 14  # "ICC_PROFILE\0" + sequence number + chunk count
EXIF_HEADER = b"Exif\x00\x00"


# --------------------------------------------------------------------------------------------------
# Argument validation


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


def check_dimensions(width: int, height: int, name: str) -> None:
    """ValueError unless both sides are in 1..MAX_DIMENSION (libjpeg's limit, which every writer enforces)."""
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise ValueError(f"{name} size {width}x{height} is outside 1..{MAX_DIMENSION} in width or height "
                         f"({MAX_DIMENSION} is libjpeg's limit: larger files are refused by its decoders and fdjpeg's)")


def _validate_table(table, name: str) -> np.ndarray:
    arr = np.asarray(table)
    if arr.size != 64 or arr.shape not in ((8, 8), (64,)):
        raise ValueError(f"{name} must be an 8x8 table (or 64 values in natural order), got shape {arr.shape}")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must contain integers 1..255") from None
    arr = arr.reshape(8, 8)
    bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 1) | (arr > 255) if arr.dtype.kind == "f" else (arr < 1) | (arr > 255)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}[{r}][{c}] = {arr[r, c]!r}: baseline quantization entries must be integers 1..255 "
                         "(16-bit tables of extended files are kept only by write_coefficients, which writes SOF1)")
    return arr.astype(np.uint16)


def _validate_tables(tables, quality) -> list[np.ndarray]:
    """-> list of 1 or 2 tables (natural order uint16). Custom tables are never rescaled.

    Besides one table or (luma, chroma), the tables of a file are taken as its reader gives them:
    ``read_header(d).quant_tables`` (a mapping of DQT slots 0 / 0 and 1) and
    ``read_coefficients(d).quant_tables`` (one table per component: Cb and Cr must share one)."""
    if tables is not None and quality is not None:
        raise ValueError("give either tables or quality, not both (custom tables are never rescaled)")
    if tables is None:
        if quality is None:
            quality = 75
        if isinstance(quality, bool) or not isinstance(quality, Integral):
            raise TypeError(f"quality must be an int in 1..100, got {quality!r}")
        if not 1 <= quality <= 100:
            raise ValueError(f"quality must be in 1..100, got {quality}")
        return list(standard(int(quality)))
    if isinstance(tables, Mapping):  # DQT slot -> table, as JPEGHeader.quant_tables
        slots = sorted(tables)
        if slots not in ([0], [0, 1]):
            raise ValueError(f"tables as a mapping of DQT slots (read_header(...).quant_tables) must hold slot 0, or "
                             f"0 (luma) and 1 (chroma); got slots {slots}")
        return [_validate_table(tables[k], f"tables[{k}]") for k in slots]
    if isinstance(tables, np.ndarray) and tables.ndim in (1, 2) or _looks_like_single_table(tables):
        return [_validate_table(tables, "tables")]
    try:
        seq = list(tables)
    except TypeError:
        raise TypeError(f"tables must be an 8x8 table or a sequence of two (luma, chroma), got {type(tables).__name__}") from None
    if len(seq) == 3:  # one per component (Y, Cb, Cr), as JPEGCoefficients.quant_tables
        y, cb, cr = (_validate_table(t, f"tables[{i}]") for i, t in enumerate(seq))
        if not np.array_equal(cb, cr):
            raise ValueError("tables holds 3 tables (one per component) whose Cb and Cr tables differ; "
                             "the encoder codes both chroma components with one table")
        return [y] if np.array_equal(y, cb) else [y, cb]
    if len(seq) not in (1, 2):
        raise ValueError(f"tables must be one 8x8 table, a sequence of two (luma, chroma) or three per-component "
                         f"tables (Y, Cb, Cr with Cb = Cr), got {len(seq)} tables")
    return [_validate_table(t, f"tables[{i}]") for i, t in enumerate(seq)]


def validate_fd_tables(tables) -> list[np.ndarray]:
    """``_validate_tables`` for the feature-distillation calls (distill, requantize, the defense):
    there the tables are required, never a silent quality-75 default."""
    if tables is None:
        raise TypeError("tables is required: e.g. fdjpeg.tables.preset('paper') or fdjpeg.tables.standard(75)")
    return _validate_tables(tables, None)


def _looks_like_single_table(tables) -> bool:
    try:
        arr = np.asarray(tables)
    except (ValueError, TypeError):
        return False
    return arr.dtype != object and arr.shape in ((8, 8), (64,))


def _int_arg(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return int(value)


def _as_bytes(value, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be bytes (or str for comment), got {type(value).__name__}")


def metadata_segments(comment=None, exif=None, icc_profile=None) -> tuple[list[bytes], list[bytes]]:
    """APPn segments (EXIF then ICC chunks) and COM segments, in the order Pillow/libjpeg write them."""
    apps: list[bytes] = []
    coms: list[bytes] = []
    if exif is not None:
        exif = _as_bytes(exif, "exif")
        if exif and not exif.startswith(EXIF_HEADER):
            if exif[:4] not in (b"II*\x00", b"MM\x00*"):
                raise ValueError("exif must start with b'Exif\\x00\\x00' or a TIFF header (b'II*\\x00' / b'MM\\x00*')")
            exif = EXIF_HEADER + exif
        if len(exif) > markers.MAX_SEGMENT_PAYLOAD:
            raise ValueError(f"exif is {len(exif)} bytes; one APP1 segment holds at most {markers.MAX_SEGMENT_PAYLOAD}")
        if exif:
            apps.append(markers.write_app(1, exif))
    if icc_profile is not None:
        icc = _as_bytes(icc_profile, "icc_profile")
        if icc:
            if len(icc) < 128 or icc[36:40] != b"acsp":
                raise ValueError("icc_profile is not an ICC profile (no 'acsp' signature at byte 36)")
            chunks = [icc[i : i + ICC_CHUNK] for i in range(0, len(icc), ICC_CHUNK)]
            if len(chunks) > 255:
                raise ValueError(f"icc_profile of {len(icc)} bytes needs {len(chunks)} APP2 chunks; at most 255 fit")
            for i, chunk in enumerate(chunks, 1):
                apps.append(markers.write_app(2, b"ICC_PROFILE\x00" + bytes([i, len(chunks)]) + chunk))
    if comment is not None:
        text = _as_bytes(comment, "comment")
        if len(text) > markers.MAX_SEGMENT_PAYLOAD:
            raise ValueError(f"comment is {len(text)} bytes; one COM segment holds at most {markers.MAX_SEGMENT_PAYLOAD}")
        if text:
            coms.append(markers.write_com(text))
    return apps, coms


# --------------------------------------------------------------------------------------------------
# Geometry and coefficients


@dataclass(frozen=True)
class FrameLayout:
    """Block geometry of a frame (T.81 A.1.1, libjpeg's jdinput/jcmaster per-component sizes)."""

    width: int
    height: int
    sampling: tuple[tuple[int, int], ...]

    @property
    def max_h(self) -> int:
        return max(h for h, _ in self.sampling)

    @property
    def max_v(self) -> int:
        return max(v for _, v in self.sampling)

    @property
    def interleaved(self) -> bool:
        return len(self.sampling) > 1

    @property
    def mcus_x(self) -> int:
        return -(-self.width // (8 * self.max_h)) if self.interleaved else self.blocks(0)[1]

    @property
    def mcus_y(self) -> int:
        return -(-self.height // (8 * self.max_v)) if self.interleaved else self.blocks(0)[0]

    def blocks(self, c: int) -> tuple[int, int]:
        """(height_in_blocks, width_in_blocks): the blocks that hold image samples."""
        h, v = self.sampling[c]
        return -(-self.height * v // (8 * self.max_v)), -(-self.width * h // (8 * self.max_h))

    def grid(self, c: int) -> tuple[int, int]:
        """(rows, cols) of the MCU-padded block grid of component c."""
        h, v = self.sampling[c]
        by, bx = self.blocks(c)
        return -(-by // v) * v, -(-bx // h) * h

    @property
    def scan_sampling(self) -> tuple[tuple[int, int], ...]:
        """Blocks per MCU of each component in the (single) scan: the sampling factors when
        interleaved, one block for a single-component scan (T.81 A.2.2)."""
        return self.sampling if self.interleaved else ((1, 1),)

    @property
    def blocks_per_mcu(self) -> int:
        return sum(h * v for h, v in self.scan_sampling)

    def transmission_order(self) -> np.ndarray:
        """Indices into the concatenated component grids (rows * cols, 64) in transmission order."""
        sizes = [r * c for r, c in (self.grid(i) for i in range(len(self.sampling)))]
        offsets = np.cumsum([0] + sizes[:-1])
        return transmission_order(offsets, [self.grid(c)[1] for c in range(len(self.sampling))],
                                  self.scan_sampling, self.mcus_x, self.mcus_y)

    def prepare_geometry(self) -> np.ndarray:
        """Per component (h, v, width_in_blocks, height_in_blocks, h_expand, v_expand, first block in
        the MCU), the table that prepare._prepare_strips works from."""
        geom = np.zeros((len(self.sampling), 7), np.int64)
        offset = 0
        for c, ((h, v), (sh, sv)) in enumerate(zip(self.sampling, self.scan_sampling)):
            by, bx = self.blocks(c)
            geom[c] = (sh, sv, bx, by, self.max_h // h, self.max_v // v, offset)
            offset += sh * sv
        return geom


def image_to_mcu_blocks(image: np.ndarray, qtables: list[np.ndarray], subsampling: str):
    """Validated uint8 image -> (layout, quantized blocks (n, 64) int16 in transmission order, table
    index per component). Colour conversion, edge replication, downsampling, FDCT, quantization and
    libjpeg's dummy blocks all happen in ``prepare._prepare_strips`` (spec/codec.md section 2)."""
    height, width = image.shape[:2]
    if image.ndim == 2:
        # One component: its sampling factors are written to SOF as libjpeg-turbo does for an explicit
        # subsampling (Pillow subsampling=1/2, cjpeg -sample 2x1/2x2); the single, non-interleaved scan
        # codes the same blocks whatever they are, so only the SOF bytes change.
        sampling, tq = (SUBSAMPLING[subsampling],), [0]
        pixels = image[:, :, None]
    else:
        sampling = (SUBSAMPLING[subsampling], (1, 1), (1, 1))
        tq = [0, 1, 1] if len(qtables) == 2 else [0, 0, 0]
        pixels = image
    layout = FrameLayout(width, height, sampling)
    geom = layout.prepare_geometry()
    divisors = np.stack([quant_divisors(qtables[t]) for t in tq])
    out = np.empty((layout.mcus_x * layout.mcus_y * layout.blocks_per_mcu, 64), np.int16)
    # Strips are iMCU rows; a single-component scan has one-block MCUs, so its strips are 8 rows.
    max_v = layout.max_v if layout.interleaved else 1
    padded_width = int(max(geom[:, 2] * 8 * geom[:, 4]))
    _prepare_strips(np.ascontiguousarray(pixels), height, width, geom, divisors, layout.mcus_x, layout.mcus_y,
                    layout.blocks_per_mcu, max_v, padded_width, out)
    return layout, out, tq


def image_to_coefficients(image: np.ndarray, qtables: list[np.ndarray], subsampling: str):
    """Validated uint8 image -> (layout, [per-component (rows, cols, 64) int16 blocks on the MCU grid],
    table index per component): the encoder's coefficients, arranged per component."""
    layout, mcu_blocks, tq = image_to_mcu_blocks(image, qtables, subsampling)
    grids = [np.zeros(layout.grid(c) + (64,), np.int16) for c in range(len(layout.sampling))]
    flat = np.concatenate([g.reshape(-1, 64) for g in grids]) if len(grids) > 1 else grids[0].reshape(-1, 64)
    flat[layout.transmission_order()] = mcu_blocks
    offset = 0
    for c, g in enumerate(grids):
        n = g.shape[0] * g.shape[1]
        g.reshape(-1, 64)[:] = flat[offset : offset + n]
        offset += n
    return layout, grids, tq


# --------------------------------------------------------------------------------------------------
# File assembly


def write_baseline(layout: FrameLayout, component_ids, blocks, qtables, tq, *, optimize=False, restart_interval=0,
                   restart_rows=0, app_segments=(), com_segments=(), colour_segment=None, write_dht=True,
                   arithmetic=False) -> bytes:
    """Assemble a sequential file with one scan (interleaved when there are several components) from
    quantized blocks (n, 64) int16 in transmission order (see ``FrameLayout.transmission_order``).

    Marker order is libjpeg's: SOI, APP0 JFIF (or ``colour_segment``, e.g. Adobe APP14), APPn (EXIF,
    ICC), COM, DQT per table, SOF0 (SOF1 when a table needs 16-bit entries), DHT per table (DC then AC,
    component order), DRI, SOS, entropy-coded data, EOI. ``write_dht=False`` leaves the DHT segments
    out (a Motion-JPEG frame coded with the standard tables, which its decoders then assume).
    ``arithmetic=True`` codes the scan with the arithmetic coder instead (arithmetic_encode.py): SOF9
    and a DAC segment with libjpeg's default conditioning where SOF0/1 and DHT would be, as
    ``cjpeg -arithmetic`` writes them (``optimize`` does not apply).
    """
    ncomp = len(layout.sampling)
    # Luma uses Huffman tables 0, chroma (every further component) tables 1, like jpeg_set_colorspace.
    htbl = [0] + [1] * (ncomp - 1)
    comp_in_mcu = components_in_mcu(layout.scan_sampling)
    blocks = np.ascontiguousarray(blocks, dtype=np.int16)
    if restart_rows:
        restart_interval = min(restart_rows * layout.mcus_x, 65535)
    if arithmetic:
        dc_l, dc_u, ac_k, dac = conditioning(set(htbl), set(htbl))
        data = encode_scan_arithmetic(blocks, comp_in_mcu, htbl, htbl, dc_l, dc_u, ac_k, restart_interval)
        dc_specs = ac_specs = []
    elif optimize:
        dc_freq, ac_freq = gather_frequencies(blocks, comp_in_mcu, htbl, htbl, restart_interval)
        used = sorted(set(htbl))
        dc_specs = [optimal_spec(dc_freq[t]) if t in used else None for t in range(2)]
        ac_specs = [optimal_spec(ac_freq[t]) if t in used else None for t in range(2)]
    else:
        dc_specs = list(STANDARD_DC)
        ac_specs = list(STANDARD_AC)
    if not arithmetic:
        data = encode_scan(blocks, comp_in_mcu, htbl, htbl, dc_specs, ac_specs, restart_interval)

    out = [markers.write_soi(), colour_segment or markers.write_jfif(), *app_segments, *com_segments]
    written = set()
    for c in range(ncomp):
        if tq[c] not in written:
            out.append(markers.write_dqt(tq[c], qtables[tq[c]]))
            written.add(tq[c])
    sof = markers.SOF0 if all(int(np.max(qtables[t])) <= 255 for t in set(tq)) else markers.SOF1
    if arithmetic:
        sof = markers.SOF9
    out.append(markers.write_sof(sof, layout.width, layout.height,
                                 [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)]))
    sent = set() if write_dht and not arithmetic else {(a, t) for a in (False, True) for t in (0, 1)}
    if arithmetic:
        out.append(markers.write_dac(dac))
    for c in range(ncomp):
        for is_ac, specs in ((False, dc_specs), (True, ac_specs)):
            if (is_ac, htbl[c]) not in sent:
                out.append(markers.write_dht(is_ac, htbl[c], specs[htbl[c]]))
                sent.add((is_ac, htbl[c]))
    if restart_interval:
        out.append(markers.write_dri(restart_interval))
    out.append(markers.write_sos([(component_ids[c], htbl[c], htbl[c]) for c in range(ncomp)]))
    out.append(data)
    out.append(markers.write_eoi())
    return b"".join(out)


def encode(image, tables=None, *, quality=None, subsampling=None, optimize=False, restart_interval=0,
           restart_rows=0, comment=None, exif=None, icc_profile=None, profile=None, mjpeg=False,
           arithmetic=False) -> bytes:
    """Encode a uint8 image as a baseline JPEG, byte-identical to libjpeg-turbo for the same settings.

    image: (H, W) or (H, W, 1) grayscale, or (H, W, 3) RGB, uint8, 1..65500 on each side (libjpeg's limit).
    tables: one 8x8 quantization table for every component, or (luma, chroma); natural row-major
        order, integers 1..255, written as given (never rescaled). Mutually exclusive with quality.
    quality: 1..100, scaling the T.81 Annex K tables as libjpeg does (default 75 when neither is given).
    subsampling: "4:4:4", "4:2:2", "4:2:0", "4:4:0" or "4:1:1"; default (None) "4:2:0" for colour, 1x1
        for grayscale. Given explicitly for a grayscale image, its luma factors become the single
        component's (e.g. 2x2 for "4:2:0"), as libjpeg-turbo writes them; the pixels coded are the same.
    optimize: build optimal Huffman tables (libjpeg's two-pass optimize_coding) instead of Annex K.3.
    restart_interval: MCUs between restart markers; restart_rows: MCU rows between them (one or the other).
    comment / exif / icc_profile: COM, APP1 EXIF and APP2 ICC_PROFILE (chunked) segments.
    profile: "baseline-hw" refuses (ValueError) any setting or result outside what hardware decoders
        are documented to accept -- SOF0, 8-bit tables, one interleaved scan, ids 1-2-3, 4:4:4, 4:2:2,
        4:2:0 or grayscale, bounded APPn data (rules and sources: spec/hardware-profile.md).
    mjpeg: write a Motion-JPEG (UVC-style) frame: an AVI1 APP0 instead of JFIF and no DHT segments,
        the entropy data coded with the Annex K.3 tables that MJPEG decoders assume (so not with optimize).
    arithmetic: code the scan with the arithmetic coder (T.81 Annex D, SOF9), byte-identical to
        ``cjpeg -arithmetic``: 3-9 % smaller than optimize=True on the bundled photos, but many decoders (browsers,
        hardware, MJPEG) cannot read it. Not with optimize (arithmetic coding adapts its own statistics),
        mjpeg or profile.
    """
    image = _validate_image(image)
    qtables = _validate_tables(tables, quality)
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
    _check_arithmetic(arithmetic, optimize)
    if arithmetic and mjpeg:
        raise ValueError("arithmetic=True cannot be combined with mjpeg=True: Motion-JPEG decoders read Huffman "
                         "coding only")
    if arithmetic and profile is not None:
        raise ValueError(f"arithmetic=True cannot be combined with profile={profile!r}: hardware decoders read "
                         "baseline Huffman coding only (spec/hardware-profile.md)")
    apps, coms = metadata_segments(comment, exif, icc_profile)
    if profile is not None:
        from .check import hardware_settings_problem

        problem = hardware_settings_problem(profile, image.ndim == 3, subsampling, apps)
        if problem:
            raise ValueError(problem)
    layout, blocks, tq = image_to_mcu_blocks(image, qtables, subsampling)
    ids = [1] if image.ndim == 2 else [1, 2, 3]
    data = write_baseline(layout, ids, blocks, qtables, tq, optimize=bool(optimize), restart_interval=restart_interval,
                          restart_rows=restart_rows, app_segments=apps, com_segments=coms,
                          colour_segment=markers.write_avi1() if mjpeg else None, write_dht=not mjpeg,
                          arithmetic=bool(arithmetic))
    if profile is not None:
        from .check import profile_problems, walk

        problems = profile_problems(walk(data), profile)
        if problems:  # a safety net: the argument checks above should have caught every case
            raise ValueError("; ".join(p.message for p in problems))
    return data


def _check_arithmetic(arithmetic, optimize) -> None:
    """The ``arithmetic`` argument: a bool, and not with ``optimize`` (libjpeg silently drops
    optimize_coding for arithmetic coding, jcmaster.c; asking for both is a mistake worth naming)."""
    if not isinstance(arithmetic, (bool, np.bool_)):
        raise TypeError(f"arithmetic must be a bool, got {arithmetic!r}")
    if arithmetic and optimize:
        raise ValueError("arithmetic=True adapts its own statistics; optimize=True (optimal Huffman tables) does "
                         "not apply to it: drop one of them")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once: os.umask is process-wide and not thread-safe to query


def write_atomic(path, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file in the same directory and an atomic rename.

    The file gets the permissions a plain ``open(path, "wb")`` would give (0666 minus the umask).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fdjpeg-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
