"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.

The public API is ``__all__`` (and what ``dir(fdjpeg)`` lists); the optional integrations
``fdjpeg.torch``, ``fdjpeg.art`` and the hypothesis strategies ``fdjpeg.testing`` are imported
explicitly (``import fdjpeg.torch``). Every other submodule is an implementation detail.

The package by layer (each imports only from the layers below it; CONTRIBUTING.md has the map):
base/ (tables, markers, geometry, limits, the coefficient container), encoder/ and decoder/ (one module
per stage), fd/ (feature distillation) and validator/, then the integrations at the top level.
"""

from . import tables
from ._imageio_register import register as _register_imageio
from .base import photos as samples  # the bundled photos, under the name the API has always used
from .base.coefficients import JPEGCoefficients
from .base.errors import JPEGError, JPEGWarning, UnsupportedJPEG
from .base.requantize import requantize_coefficients
from .dataset.batch import decode_batch, encode_batch, requantize_batch
from .decoder.decompress import decode
from .decoder.reader import read_coefficients, read_header
from .decoder.stream import Decoder
from .encoder.compress import encode, encode_to
from .encoder.stream import Encoder
from .encoder.transcode import write_coefficients
from .fd.distill import distill, requantize
from .fd.stream import requantize_stream
from .validator.report import check, info
from .validator.structure import Problem

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


def __dir__() -> list[str]:
    """Only the public API: internal modules stay importable but out of sight."""
    loaded = [name for name in _OPTIONAL_SUBMODULES if name in globals()]
    return sorted(__all__ + loaded)
