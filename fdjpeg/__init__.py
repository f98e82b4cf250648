"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.

The public API is ``__all__`` (and what ``dir(fdjpeg)`` lists); the optional integrations
``fdjpeg.torch``, ``fdjpeg.art`` and the hypothesis strategies ``fdjpeg.testing`` are imported
explicitly (``import fdjpeg.torch``). Every other submodule is an implementation detail.

The package by layer (each imports only from the layers below it; CONTRIBUTING.md has the map):
base/ (tables, markers, geometry, limits, the coefficient container), encoder/ and decoder/ (one module
per stage), fd/ (feature distillation) and validator/, then the integrations at the top level.
"""

from ._imageio_register import register as _register_imageio
from .base.errors import JPEGError, JPEGWarning, UnsupportedJPEG

#: Where each public name lives. Nothing below is imported by ``import fdjpeg``: a name's module is
#: imported when the name is first used (PEP 562), so ``import fdjpeg`` + ``read_header``/``info``/``check``
#: never import the encoder, the decoder's kernels or Numba, and an encode imports only the encoder.
_LAZY = {
    "Decoder": ".decoder.stream",
    "Encoder": ".encoder.stream",
    "JPEGCoefficients": ".base.coefficients",
    "Problem": ".validator.structure",
    "check": ".validator.report",
    "decode": ".decoder.decompress",
    "decode_batch": ".dataset.batch",
    "distill": ".fd.distill",
    "encode": ".encoder.compress",
    "encode_batch": ".dataset.batch",
    "encode_to": ".encoder.compress",
    "info": ".validator.report",
    "read_coefficients": ".decoder.reader",
    "read_header": ".decoder.reader",
    "requantize": ".fd.distill",
    "requantize_batch": ".dataset.batch",
    "requantize_coefficients": ".base.requantize",
    "requantize_stream": ".fd.stream",
    "write_coefficients": ".encoder.transcode",
}
#: Public names that are modules: ``samples`` is the bundled photos under the name the API always used.
_LAZY_MODULES = {"samples": ".base.photos", "tables": ".tables"}

__version__ = "0.1.0"

__all__ = [
    "Decoder",
    "Encoder",
    "JPEGCoefficients",
    "JPEGError",
    "JPEGWarning",
    "Problem",
    "UnsupportedJPEG",
    "__version__",
    "check",
    "decode",
    "decode_batch",
    "distill",
    "encode",
    "encode_batch",
    "encode_to",
    "info",
    "read_coefficients",
    "read_header",
    "requantize",
    "requantize_batch",
    "requantize_coefficients",
    "requantize_stream",
    "samples",
    "tables",
    "write_coefficients",
]  # fmt: skip

#: Public submodules with optional dependencies: listed by dir() once imported (``import fdjpeg.torch``).
_OPTIONAL_SUBMODULES = ("art", "testing", "torch")

_register_imageio()  # makes plugin="fdjpeg" available to imageio, lazily (imports nothing)


def __getattr__(name: str):
    """Import a public name's module on first use and keep the name (later lookups are plain)."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(_LAZY_MODULES[name], __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Only the public API: internal modules stay importable but out of sight."""
    loaded = [name for name in _OPTIONAL_SUBMODULES if name in globals()]
    return sorted(__all__ + loaded)
