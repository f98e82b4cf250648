"""Batch calls for data sets of small images: ``decode_batch``, ``requantize_batch``, ``encode_batch``.

Each is, item by item, exactly the one-at-a-time call (``decode``, ``requantize``, ``encode``), with the
per-call Python cost amortized over the batch. Decoding and requantizing parse each file's headers in
Python, then run entropy decoding, the IDCT, upsampling and colour conversion (decoding) or
re-quantization (requantizing) for the whole batch in one compiled call, parallel over files with the
GIL released (decoder/batch.py). Files outside that kernel's case (progressive, arithmetic, 12-bit,
lossless, several scans, damaged data, any warning) go through the one-at-a-time call, with its
warnings and errors; so do ``scale``/``apply_exif_orientation``/``defense`` decodes. Writing the
requantized files and ``encode_batch`` still run one file at a time after the batch stage.

Errors: with ``errors="collect"`` (default) a failed item's slot holds the ``fdjpeg.JPEGError`` (or
``UnsupportedJPEG``) whose message starts with ``item <index>:``, and the other items are done; with
``errors="raise"`` the first failed item's error is raised (the same message). Bad arguments raise
``TypeError``/``ValueError`` before any work.
"""

from __future__ import annotations

import numpy as np

from ..base.errors import JPEGError
from ..base.io import load_bytes
from ..base.limits import MAX_PIXELS, MAX_SCANS
from ..base.quant import validate_fd_tables
from ..base.requantize import component_tables
from ..decoder.batch import decode_planned, plan, requantize_planned
from ..decoder.color import convert_mode
from ..decoder.decompress import decode
from ..decoder.idct_scaled import scale_denominator
from ..encoder.compress import encode
from ..encoder.transcode import write_coefficients
from ..fd.design import resolve_tables
from ..fd.distill import requantize

_ERRORS = ("collect", "raise")


def _item_error(index: int, exc: Exception) -> JPEGError:
    """``exc`` as a JPEGError of the same kind whose message names the item."""
    if isinstance(exc, JPEGError):
        err = type(exc)(f"item {index}: {exc.message}", exc.offset)
    else:  # the item could not be read (a missing path, an unreadable file object)
        err = JPEGError(f"item {index}: cannot read the item: {exc}")
    err.__cause__ = exc
    return err


def _check_common(items, errors, name: str = "items") -> list:
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'collect' or 'raise', got {errors!r}")
    if isinstance(items, (bytes, bytearray, memoryview, str)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{name} must be a list of bytes, paths or binary file objects, got {type(items).__name__}")
    return list(items)


def _load_all(items: list, results: list) -> list:
    """The bytes of every item; a failed read leaves its error in ``results`` (TypeError escapes)."""
    raws = []
    for i, item in enumerate(items):
        try:
            raws.append(load_bytes(item))
        except TypeError as exc:
            raise TypeError(f"items[{i}]: {exc}") from None
        except OSError as exc:
            raws.append(None)
            results[i] = _item_error(i, exc)
    return raws


def _one(index: int, call, results: list) -> None:
    try:
        results[index] = call()
    except JPEGError as exc:
        results[index] = _item_error(index, exc)


def _raise_first(results: list) -> None:
    for r in results:
        if isinstance(r, JPEGError):
            raise r


def decode_batch(
    items,
    *,
    mode: str | None = None,
    stack="auto",
    errors: str = "collect",
    max_pixels: int | None = MAX_PIXELS,
    max_scans: int | None = MAX_SCANS,
    defense=None,
    scale=None,
    apply_exif_orientation: bool = False,
):
    """Decode many JPEGs; item ``i`` of the result equals ``fdjpeg.decode(items[i], mode=..., ...)``.

    ``items``: a list (any iterable) of bytes, paths or binary file objects. ``mode``, ``max_pixels``,
    ``max_scans``, ``defense``, ``scale``, ``apply_exif_orientation``: as ``decode``.
    ``stack``: "auto" (default) returns one (N, H, W[, C]) array when every item decoded to the same
    shape and dtype, else the list; False always the list; True always the array (ValueError when the
    shapes differ; a failed item raises its error). ``errors``: "collect" or "raise" (module docstring).
    An empty batch gives an empty list (stack=True: a (0,) uint8 array).
    """
    items = _check_common(items, errors)
    if stack not in ("auto", True, False):
        raise ValueError(f"stack must be 'auto', True or False, got {stack!r}")
    options = dict(
        mode=mode,
        max_pixels=max_pixels,
        max_scans=max_scans,
        defense=defense,
        scale=scale,
        apply_exif_orientation=apply_exif_orientation,
    )
    _check_decode_options(mode, max_pixels, max_scans, defense, scale, apply_exif_orientation)
    results: list = [None] * len(items)
    raws = _load_all(items, results)
    fast = scale_denominator(scale) == 1 and not apply_exif_orientation and mode != "YCbCr"
    plans, where = [], []
    for i, raw in enumerate(raws):
        if raw is None:
            continue
        p = plan(raw, max_pixels, max_scans) if fast else None
        if p is not None:
            plans.append(p)
            where.append(i)
    per_component = None
    if defense is not None:
        per_component = [component_tables(defense, len(p.header.components)) for p in plans]
    done = decode_planned(plans, per_component)
    for i, pixels in zip(where, done):
        if pixels is not None:
            results[i] = pixels if mode is None else _converted(pixels, mode)
    for i, raw in enumerate(raws):
        if raw is not None and results[i] is None:
            _one(i, lambda raw=raw: decode(raw, **options), results)
            if errors == "raise" and isinstance(results[i], JPEGError):
                raise results[i]
    if errors == "raise" or stack is True:
        _raise_first(results)
    return _stacked(results, stack)


def _check_decode_options(mode, max_pixels, max_scans, defense, scale, apply_exif_orientation) -> None:
    """decode's argument checks, made once for the batch before any item is read."""
    if mode not in (None, "RGB", "L", "BGR", "YCbCr"):
        raise ValueError(f"mode must be None, 'RGB', 'L', 'BGR' or 'YCbCr', got {mode!r}")
    for name, value in (("max_pixels", max_pixels), ("max_scans", max_scans)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise TypeError(f"{name} must be an int or None, got {value!r}")
    if not isinstance(apply_exif_orientation, (bool, np.bool_)):
        raise TypeError(f"apply_exif_orientation must be a bool, got {apply_exif_orientation!r}")
    scale_denominator(scale)
    if defense is not None:
        validate_fd_tables(defense)


def _converted(pixels: np.ndarray, mode: str) -> np.ndarray:
    if mode == "BGR":
        return np.ascontiguousarray(convert_mode(pixels, "RGB")[:, :, ::-1])
    return convert_mode(pixels, mode)


def _opt_int(value):
    return None if value is None else int(value)


def _stacked(results: list, stack):
    if stack is False:
        return results
    if not results:
        return np.zeros((0,), np.uint8) if stack is True else results
    first = results[0]
    same = all(
        isinstance(r, np.ndarray) and r.shape == first.shape and r.dtype == first.dtype for r in results
    ) and isinstance(first, np.ndarray)
    if not same:
        if stack is True:
            shapes = sorted({getattr(r, "shape", None) for r in results}, key=str)
            raise ValueError(f"stack=True needs images of one shape and dtype, got shapes {shapes}")
        return results
    base = first.base
    # Items decoded by the batch kernel are consecutive views of one buffer: stack without copying.
    if (
        base is not None
        and all(r.base is base for r in results)
        and base.size == first.size * len(results)
        and all(r.__array_interface__["data"][0] == first.__array_interface__["data"][0] + k * r.nbytes for k, r in enumerate(results))
    ):
        return base.reshape((len(results), *first.shape))
    return np.stack(results)


def requantize_batch(
    items, tables, *, errors: str = "collect", optimize: bool = True, keep_metadata: bool = True, progressive=None
) -> list:
    """Requantize many JPEGs; item ``i`` equals ``fdjpeg.requantize(items[i], tables, ...)`` (bytes), or
    its error (``errors="collect"``). ``tables``: as ``requantize`` (arrays, or a preset name such as
    "robust"). Entropy decoding and re-quantization run for the whole batch in one compiled call;
    the files are then written one at a time (encoder/transcode.py)."""
    items = _check_common(items, errors)
    if isinstance(tables, str):  # a preset name (as the CLI takes it): the tables it names
        resolved = resolve_tables(tables)
        tables = resolved[0] if len(resolved) == 1 else tuple(resolved)
    write_options = dict(optimize=optimize, keep_metadata=keep_metadata)
    if progressive is not None and not isinstance(progressive, (bool, np.bool_)):
        raise TypeError(f"progressive must be None or a bool, got {progressive!r}")
    per_component = {n: component_tables(tables, n) for n in (1, 3, 4)}  # validates tables (ValueError)
    results: list = [None] * len(items)
    raws = _load_all(items, results)
    plans, where = [], []
    if not progressive:  # a progressive output is written by the one-at-a-time path
        for i, raw in enumerate(raws):
            if raw is not None:
                p = plan(raw, MAX_PIXELS, MAX_SCANS)
                if p is not None:
                    plans.append(p)
                    where.append(i)
    done = requantize_planned(plans, [per_component[len(p.header.components)] for p in plans])
    for i, coefs in zip(where, done):
        if coefs is not None:
            _one(i, lambda coefs=coefs: write_coefficients(coefs, progressive=False, **write_options), results)
    for i, raw in enumerate(raws):
        if raw is not None and results[i] is None:
            _one(i, lambda raw=raw: requantize(raw, tables, progressive=progressive, **write_options), results)
        if errors == "raise" and isinstance(results[i], JPEGError):
            raise results[i]
    return results


def encode_batch(images, tables=None, **options) -> list[bytes]:
    """Encode many images; item ``i`` equals ``fdjpeg.encode(images[i], tables, **options)``.

    ``images``: a list of arrays, or one (N, H, W[, C]) array. Errors are argument errors
    (ValueError/TypeError, naming the image), raised. Images are encoded one at a time (the encoder's
    stages are not batched yet)."""
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4):
            raise ValueError(f"images as one array must be (N, H, W) or (N, H, W, C), got shape {images.shape}")
        images = list(images)
    elif isinstance(images, (bytes, str)) or not hasattr(images, "__iter__"):
        raise TypeError(f"images must be a list of arrays or an (N, H, W[, C]) array, got {type(images).__name__}")
    out = []
    for i, image in enumerate(images):
        try:
            out.append(encode(image, tables, **options))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"images[{i}]: {exc}") from exc
    return out

