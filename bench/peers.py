"""The measured calls: fdjpeg and each peer, for each operation, with settings aligned to fdjpeg's.

Every implementation is built by :func:`implementation` as a zero-argument callable over inputs prepared
outside the timing (:func:`prepare_inputs`). A library that lacks the operation or the setting raises
:class:`Unavailable` with the reason shown in the tables; an fdjpeg operation that does not exist yet is
reported as :data:`NOT_IMPLEMENTED`, so the suite can be rerun as features land.

Alignment with fdjpeg's defaults (so that every library does the same work and, where it can, produces the
same output; the tables' "output" column checks it):

* quality 75 everywhere (OpenCV's default is 95, simplejpeg's 85);
* subsampling passed explicitly (simplejpeg defaults to 4:4:4; OpenCV needs ``IMWRITE_JPEG_SAMPLING_FACTOR``);
* accurate integer DCT and fancy upsampling (``fastdct=False, fastupsample=False`` for simplejpeg). Observed
  with simplejpeg 1.9.0 (bundling libjpeg-turbo 3.1.2): ``encode_jpeg`` ignores ``fastdct=False`` and writes
  the same bytes as ``cjpeg -dct fast`` (the faster, less accurate ifast DCT), so its encode rows compare
  against slightly less work; the output column shows it ("other bytes"). Its decode honours both flags;
* Huffman optimization off unless the case says on (Pillow ``optimize=``, OpenCV ``IMWRITE_JPEG_OPTIMIZE``;
  simplejpeg has no such option);
* OpenCV works in BGR: its encode input is converted to BGR outside the timing, and it decodes with
  ``IMREAD_COLOR_RGB`` where this OpenCV has it;
* Pillow is timed as users call it from NumPy: ``Image.fromarray(a).save(BytesIO(), "JPEG", ...)`` and
  ``np.asarray(Image.open(BytesIO(data)))``, conversions included.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np

NOT_IMPLEMENTED = "n/a (not implemented yet)"

#: Subsampling name -> (Pillow value, simplejpeg value, OpenCV constant name).
_SUBSAMPLING = {
    "4:4:4": ("4:4:4", "444", "IMWRITE_JPEG_SAMPLING_FACTOR_444"),
    "4:2:2": ("4:2:2", "422", "IMWRITE_JPEG_SAMPLING_FACTOR_422"),
    "4:2:0": ("4:2:0", "420", "IMWRITE_JPEG_SAMPLING_FACTOR_420"),
}


class Unavailable(Exception):
    """This library cannot run this case; ``str(exc)`` says why (shown in the report)."""


# --------------------------------------------------------------------------------------------------
# Inputs


def quant_table(name: str) -> np.ndarray:
    """A named 8x8 quantization table (natural order) used by distill and requantize cases."""
    if name == "released":
        from fdjpeg.tables import released_table

        return np.asarray(released_table())
    raise ValueError(f"unknown table {name!r}")


def pillow_encode(image: np.ndarray, **kw) -> bytes:
    """Bytes written by Pillow (libjpeg-turbo) for a NumPy image."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", **kw)
    return buf.getvalue()


def _pillow_tables(table: np.ndarray) -> list[list[int]]:
    return [[int(v) for v in np.asarray(table).reshape(64)]]


def prepare_inputs(case, image: np.ndarray) -> dict:
    """Everything the callables of ``case`` need, made before timing starts."""
    p = case.params
    inputs = {"image": image}
    if case.op in ("decode", "requantize"):
        kw = {"quality": p["quality"], "progressive": p["progressive"]}
        if image.ndim == 3:
            kw["subsampling"] = _SUBSAMPLING[p["subsampling"]][0]
        inputs["data"] = pillow_encode(image, **kw)
    if "table" in p:
        inputs["table"] = quant_table(p["table"])
    return inputs


# --------------------------------------------------------------------------------------------------
# Implementations


def _fdjpeg_op(name: str) -> Callable:
    import fdjpeg

    fn = getattr(fdjpeg, name, None)
    if fn is None:
        raise Unavailable(NOT_IMPLEMENTED)
    return fn


def _cv2():
    try:
        import cv2
    except ImportError:
        raise Unavailable("not installed (pip install opencv-python-headless)") from None
    return cv2


def _simplejpeg():
    try:
        import simplejpeg
    except ImportError:
        raise Unavailable("not installed (pip install simplejpeg)") from None
    return simplejpeg


def _encode(lib: str, case, inp: dict) -> Callable:
    img, p = inp["image"], case.params
    q, sub, opt, gray = p["quality"], p["subsampling"], p["optimize"], inp["image"].ndim == 2
    if lib == "fdjpeg":
        encode = _fdjpeg_op("encode")
        # Grayscale: the default 1x1 factors, the peers' (an explicit subsampling would write 2x2 for 4:2:0).
        return lambda: encode(img, quality=q, subsampling=None if gray else sub, optimize=opt)
    if lib == "Pillow":
        kw = {"quality": q, "optimize": opt}
        if not gray:
            kw["subsampling"] = _SUBSAMPLING[sub][0]
        return lambda: pillow_encode(img, **kw)
    if lib == "simplejpeg":
        sj = _simplejpeg()
        if opt:
            raise Unavailable("— (no optimize option)")
        if gray:
            g = img[..., None]
            return lambda: sj.encode_jpeg(g, quality=q, colorspace="GRAY", colorsubsampling="Gray", fastdct=False)
        s = _SUBSAMPLING[sub][1]
        return lambda: sj.encode_jpeg(img, quality=q, colorspace="RGB", colorsubsampling=s, fastdct=False)
    if lib == "OpenCV":
        cv2 = _cv2()
        params = [cv2.IMWRITE_JPEG_QUALITY, q, cv2.IMWRITE_JPEG_OPTIMIZE, int(opt)]
        src = img
        if not gray:
            if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
                params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, getattr(cv2, _SUBSAMPLING[sub][2])]
            elif sub != "4:2:0":
                raise Unavailable(f"— (this OpenCV {cv2.__version__} cannot set {sub})")
            src = np.ascontiguousarray(img[..., ::-1])  # OpenCV encodes BGR
        return lambda: cv2.imencode(".jpg", src, params)[1]
    raise ValueError(lib)


def _decode(lib: str, case, inp: dict) -> Callable:
    data, gray = inp["data"], inp["image"].ndim == 2
    if lib == "fdjpeg":
        decode = _fdjpeg_op("decode")
        return lambda: decode(data)
    if lib == "Pillow":
        from PIL import Image

        return lambda: np.asarray(Image.open(io.BytesIO(data)))
    if lib == "simplejpeg":
        sj = _simplejpeg()
        cs = "GRAY" if gray else "RGB"
        return lambda: sj.decode_jpeg(data, colorspace=cs, fastdct=False, fastupsample=False)
    if lib == "OpenCV":
        cv2 = _cv2()
        flag = cv2.IMREAD_GRAYSCALE if gray else getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)
        buf = np.frombuffer(data, dtype=np.uint8)
        return lambda: cv2.imdecode(buf, flag)
    raise ValueError(lib)


def _pillow_round_trip(image: np.ndarray, qtables: list, subsampling: str) -> np.ndarray:
    """What a user does without fdjpeg: encode with the tables and decode again, in memory."""
    from PIL import Image

    data = pillow_encode(image, qtables=qtables, subsampling=subsampling)
    return np.asarray(Image.open(io.BytesIO(data)))


def _distill(lib: str, case, inp: dict) -> Callable:
    x, table, sub = inp["image"], inp["table"], case.params["subsampling"]
    if lib == "fdjpeg":
        distill = _fdjpeg_op("distill")
        return lambda: distill(x, table, subsampling=sub)
    if lib == "Pillow round trip":
        qt = _pillow_tables(table)
        if x.ndim == 3:
            return lambda: _pillow_round_trip(x, qt, sub)

        def batch():
            out = np.empty_like(x)
            for i in range(len(x)):
                out[i] = _pillow_round_trip(x[i], qt, sub)
            return out

        return batch
    if lib == "NumPy/SciPy block loop":
        try:
            import scipy.fft  # noqa: F401
        except ImportError:
            raise Unavailable("scipy not installed") from None
        from .fd_reference import distill_blocks

        return lambda: distill_blocks(x, table)
    raise ValueError(lib)


def _requantize(lib: str, case, inp: dict) -> Callable:
    data, table = inp["data"], inp["table"]
    if lib == "fdjpeg":
        requantize = _fdjpeg_op("requantize")
        return lambda: requantize(data, table)
    if lib == "Pillow round trip":
        from PIL import Image

        qt, sub = _pillow_tables(table), _SUBSAMPLING[case.params["subsampling"]][0]

        def round_trip():
            buf = io.BytesIO()
            Image.open(io.BytesIO(data)).save(buf, "JPEG", qtables=qt, subsampling=sub)
            return buf.getvalue()

        return round_trip
    raise ValueError(lib)


_BUILDERS = {"encode": _encode, "decode": _decode, "distill": _distill, "requantize": _requantize}


def implementation(lib: str, case, inputs: dict) -> Callable[[], object]:
    """The zero-argument callable that runs ``case`` with ``lib``; raises :class:`Unavailable`."""
    return _BUILDERS[case.op](lib, case, inputs)


# --------------------------------------------------------------------------------------------------
# Output comparison


def normalize(output):
    """bytes for encoded files, a squeezed uint8 array for pixels."""
    if isinstance(output, (bytes, bytearray, memoryview)):
        return bytes(output)
    arr = np.asarray(output)
    if arr.dtype == np.uint8 and arr.ndim == 1:  # cv2.imencode's buffer
        return arr.tobytes()
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    return arr


def _pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def same_output(reference, other) -> str:
    """How ``other``'s output compares with fdjpeg's: identical bytes, identical pixels, or how far off."""
    a, b = normalize(reference), normalize(other)
    if isinstance(a, bytes) and isinstance(b, bytes):
        if a == b:
            return "identical bytes"
        try:
            a, b = _pixels(a), _pixels(b)
        except Exception as exc:  # a broken file from the code under test
            return f"unreadable ({type(exc).__name__})"
        prefix = "other bytes, "
    else:
        prefix = ""
    if isinstance(a, bytes) or isinstance(b, bytes) or a.shape != b.shape:
        return f"{prefix}different shape"
    if np.array_equal(a, b):
        return f"{prefix}identical pixels"
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return f"{prefix}max Δ {int(diff.max())}, {100 * np.count_nonzero(diff) / diff.size:.2g}% of samples differ"
