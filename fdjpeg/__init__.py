"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.

The public API is ``__all__`` (and what ``dir(fdjpeg)`` lists); the optional integrations
``fdjpeg.torch``, ``fdjpeg.art`` and the hypothesis strategies ``fdjpeg.testing`` are imported
explicitly (``import fdjpeg.torch``). Every other submodule is an implementation detail.
"""

from . import (
    _imageio_register,  # noqa: F401  -- registers the imageio v3 plugin "fdjpeg" (lazily)
    samples,
    tables,
)

# The validator: fdjpeg.check is the function, not the module fdjpeg/check.py it lives in; the module is
# loaded (and bound as the attribute) once, here, before the name is re-bound, so it stays the function.
# ``from fdjpeg.check import walk`` still reaches the module (``import fdjpeg.check as m`` does not).
from .check import Problem, check, info
from .coefficients import JPEGCoefficients, write_coefficients
from .decoder import decode
from .distill import distill, requantize, requantize_coefficients
from .encoder import encode, encode_to
from .errors import JPEGError, JPEGWarning, UnsupportedJPEG
from .reader import read_coefficients, read_header

__version__ = "0.1.0"

__all__ = [
    "JPEGCoefficients",
    "JPEGError",
    "JPEGWarning",
    "Problem",
    "UnsupportedJPEG",
    "__version__",
    "check",
    "decode",
    "distill",
    "encode",
    "encode_to",
    "info",
    "read_coefficients",
    "read_header",
    "requantize",
    "requantize_coefficients",
    "samples",
    "tables",
    "write_coefficients",
]  # fmt: skip

#: Public submodules with optional dependencies: listed by dir() once imported (``import fdjpeg.torch``).
_OPTIONAL_SUBMODULES = ("art", "testing", "torch")


def __dir__() -> list[str]:
    """Only the public API: internal modules stay importable but out of sight."""
    loaded = [name for name in _OPTIONAL_SUBMODULES if name in globals()]
    return sorted(__all__ + loaded)
