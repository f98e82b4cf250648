"""The baseline encoder: pixels -> quantized coefficients -> a JFIF file, byte-identical to libjpeg-turbo.

The pipeline follows libjpeg's compressor: colour conversion (jccolor), edge replication and
downsampling (jcprepct/jcsample), islow FDCT and quantization (jcdctmgr), MCU assembly with libjpeg's
dummy blocks (jccoefct), Huffman coding (jchuff) and the marker layout of jcmarker.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from . import markers
from .color import rgb_to_ycbcr
from .dct import forward_dct_quantize
from .entropy_encode import encode_scan, gather_frequencies, mcu_order
from .huffman import STANDARD_AC, STANDARD_DC, optimal_spec
from .sampling import downsample, pad_plane
from .tables import standard

#: Luma sampling factors for each chroma subsampling name (chroma is always 1x1).
SUBSAMPLING = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2), "4:4:0": (1, 2), "4:1:1": (4, 1)}

MAX_DIMENSION = 65535
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
    if h < 1 or w < 1 or h > MAX_DIMENSION or w > MAX_DIMENSION:
        raise ValueError(f"image size {w}x{h} is outside 1..{MAX_DIMENSION} in width or height")
    return np.ascontiguousarray(image)


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
        raise ValueError(f"{name}[{r}][{c}] = {arr[r, c]!r}: baseline quantization entries must be integers 1..255")
    return arr.astype(np.uint16)


def _validate_tables(tables, quality) -> list[np.ndarray]:
    """-> list of 1 or 2 tables (natural order uint16). Custom tables are never rescaled."""
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
    if isinstance(tables, np.ndarray) and tables.ndim in (1, 2) or _looks_like_single_table(tables):
        return [_validate_table(tables, "tables")]
    try:
        seq = list(tables)
    except TypeError:
        raise TypeError(f"tables must be an 8x8 table or a sequence of two (luma, chroma), got {type(tables).__name__}") from None
    if len(seq) not in (1, 2):
        raise ValueError(f"tables must be one 8x8 table or a sequence of two (luma, chroma), got {len(seq)} tables")
    return [_validate_table(t, f"tables[{i}]") for i, t in enumerate(seq)]


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


def plane_to_blocks(plane: np.ndarray, layout: FrameLayout, c: int, qtable) -> np.ndarray:
    """One full-resolution plane -> the component's quantized blocks on its MCU grid, (rows, cols, 64).

    Edge replication follows jcprepct/jcsample exactly: columns are replicated at full resolution
    out to the block grid; rows only up to a whole row group (max_v rows), and after downsampling the
    last downsampled row is replicated down to the block grid -- so a 4:2:0 chroma plane repeats
    avg(row H-2, row H-1), not a row made from copies of row H-1.
    Dummy blocks as jccoefct: a dummy block right of the image copies the DC of its left neighbour,
    a dummy row at the bottom copies the DC of the last block of the row above in the same MCU, and
    all their AC coefficients are zero.
    """
    h, v = layout.sampling[c]
    h_exp, v_exp = layout.max_h // h, layout.max_v // v
    by, bx = layout.blocks(c)
    group_rows = -(-layout.height // layout.max_v) * layout.max_v
    src = pad_plane(plane, group_rows, bx * 8 * h_exp)
    real = forward_dct_quantize(pad_plane(downsample(src, h_exp, v_exp), by * 8, bx * 8), qtable)
    gy, gx = layout.grid(c)
    if (gy, gx) == (by, bx):
        return real
    grid = np.zeros((gy, gx, 64), dtype=np.int16)
    grid[:by, :bx] = real
    grid[:by, bx:, 0] = real[:, bx - 1 : bx, 0]
    for r in range(by, gy):
        last_in_mcu = grid[r - 1, h - 1 :: h, 0]  # rightmost block of the row above, per MCU
        grid[r, :, 0] = np.repeat(last_in_mcu, h)
    return grid


def image_to_coefficients(image: np.ndarray, qtables: list[np.ndarray], subsampling: str):
    """Validated uint8 image -> (layout, [per-component (rows, cols, 64) int16 blocks], table index per component)."""
    height, width = image.shape[:2]
    if image.ndim == 2:
        planes = [image]
        sampling = ((1, 1),)
        tq = [0]
    else:
        planes = list(rgb_to_ycbcr(image))
        sampling = (SUBSAMPLING[subsampling], (1, 1), (1, 1))
        tq = [0, 1, 1] if len(qtables) == 2 else [0, 0, 0]
    layout = FrameLayout(width, height, sampling)
    blocks = [plane_to_blocks(p, layout, c, qtables[tq[c]]) for c, p in enumerate(planes)]
    return layout, blocks, tq


# --------------------------------------------------------------------------------------------------
# File assembly


def write_baseline(layout: FrameLayout, component_ids, blocks, qtables, tq, *, optimize=False, restart_interval=0,
                   restart_rows=0, app_segments=(), com_segments=(), colour_segment=None, write_dht=True) -> bytes:
    """Assemble a sequential file with one scan (interleaved when there are several components) from
    per-component quantized blocks of shape (grid rows, grid cols, 64).

    Marker order is libjpeg's: SOI, APP0 JFIF (or ``colour_segment``, e.g. Adobe APP14), APPn (EXIF,
    ICC), COM, DQT per table, SOF0 (SOF1 when a table needs 16-bit entries), DHT per table (DC then AC,
    component order), DRI, SOS, entropy-coded data, EOI. ``write_dht=False`` leaves the DHT segments
    out (a Motion-JPEG frame coded with the standard tables, which its decoders then assume).
    """
    ncomp = len(blocks)
    # Luma uses Huffman tables 0, chroma (every further component) tables 1, like jpeg_set_colorspace.
    htbl = [0] + [1] * (ncomp - 1)
    flat = [b.reshape(-1, 64) for b in blocks]
    offsets = np.cumsum([0] + [f.shape[0] for f in flat[:-1]])
    all_blocks = np.ascontiguousarray(np.concatenate(flat)) if ncomp > 1 else np.ascontiguousarray(flat[0])
    if layout.interleaved:
        order, order_comp = mcu_order(offsets, [layout.grid(c)[1] for c in range(ncomp)], layout.sampling,
                                      layout.mcus_x, layout.mcus_y)
        blocks_in_mcu = sum(h * v for h, v in layout.sampling)
    else:
        by, bx = layout.blocks(0)
        order, order_comp = mcu_order([0], [layout.grid(0)[1]], [(1, 1)], bx, by)
        blocks_in_mcu = 1
    if restart_rows:
        restart_interval = min(restart_rows * layout.mcus_x, 65535)
    if optimize:
        dc_freq, ac_freq = gather_frequencies(all_blocks, order, order_comp, blocks_in_mcu, htbl, htbl, restart_interval)
        used = sorted(set(htbl))
        dc_specs = [optimal_spec(dc_freq[t]) if t in used else None for t in range(2)]
        ac_specs = [optimal_spec(ac_freq[t]) if t in used else None for t in range(2)]
    else:
        dc_specs = list(STANDARD_DC)
        ac_specs = list(STANDARD_AC)
    data = encode_scan(all_blocks, order, order_comp, blocks_in_mcu, htbl, htbl, dc_specs, ac_specs, restart_interval)

    out = [markers.write_soi(), colour_segment or markers.write_jfif(), *app_segments, *com_segments]
    written = set()
    for c in range(ncomp):
        if tq[c] not in written:
            out.append(markers.write_dqt(tq[c], qtables[tq[c]]))
            written.add(tq[c])
    sof = markers.SOF0 if all(int(np.max(qtables[t])) <= 255 for t in set(tq)) else markers.SOF1
    out.append(markers.write_sof(sof, layout.width, layout.height,
                                 [(component_ids[c], *layout.sampling[c], tq[c]) for c in range(ncomp)]))
    sent = set() if write_dht else {(a, t) for a in (False, True) for t in (0, 1)}
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


def encode(image, tables=None, *, quality=None, subsampling="4:2:0", optimize=False, restart_interval=0,
           restart_rows=0, comment=None, exif=None, icc_profile=None, profile=None, mjpeg=False) -> bytes:
    """Encode a uint8 image as a baseline JPEG, byte-identical to libjpeg-turbo for the same settings.

    image: (H, W) or (H, W, 1) grayscale, or (H, W, 3) RGB, uint8, 1..65535 on each side.
    tables: one 8x8 quantization table for every component, or (luma, chroma); natural row-major
        order, integers 1..255, written as given (never rescaled). Mutually exclusive with quality.
    quality: 1..100, scaling the T.81 Annex K tables as libjpeg does (default 75 when neither is given).
    subsampling: "4:4:4", "4:2:2", "4:2:0" (default), "4:4:0" or "4:1:1"; ignored for grayscale.
    optimize: build optimal Huffman tables (libjpeg's two-pass optimize_coding) instead of Annex K.3.
    restart_interval: MCUs between restart markers; restart_rows: MCU rows between them (one or the other).
    comment / exif / icc_profile: COM, APP1 EXIF and APP2 ICC_PROFILE (chunked) segments.
    profile: "baseline-hw" refuses (ValueError) any setting or result outside what hardware decoders
        are documented to accept -- SOF0, 8-bit tables, one interleaved scan, ids 1-2-3, 4:4:4, 4:2:2,
        4:2:0 or grayscale, bounded APPn data (rules and sources: spec/hardware-profile.md).
    mjpeg: write a Motion-JPEG (UVC-style) frame: an AVI1 APP0 instead of JFIF and no DHT segments,
        the entropy data coded with the Annex K.3 tables that MJPEG decoders assume (so not with optimize).
    """
    image = _validate_image(image)
    qtables = _validate_tables(tables, quality)
    if not isinstance(subsampling, str) or subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {', '.join(SUBSAMPLING)}, got {subsampling!r}")
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
    apps, coms = metadata_segments(comment, exif, icc_profile)
    if profile is not None:
        from .check import hardware_settings_problem

        problem = hardware_settings_problem(profile, image.ndim == 3, subsampling, apps)
        if problem:
            raise ValueError(problem)
    layout, blocks, tq = image_to_coefficients(image, qtables, subsampling)
    ids = [1] if image.ndim == 2 else [1, 2, 3]
    data = write_baseline(layout, ids, blocks, qtables, tq, optimize=bool(optimize), restart_interval=restart_interval,
                          restart_rows=restart_rows, app_segments=apps, com_segments=coms,
                          colour_segment=markers.write_avi1() if mjpeg else None, write_dht=not mjpeg)
    if profile is not None:
        from .check import profile_problems, walk

        problems = profile_problems(walk(data), profile)
        if problems:  # a safety net: the argument checks above should have caught every case
            raise ValueError("; ".join(p.message for p in problems))
    return data


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
