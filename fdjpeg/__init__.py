"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.

The public API is ``__all__`` (and what ``dir(fdjpeg)`` lists); the optional integrations
``fdjpeg.torch``, ``fdjpeg.art`` and the hypothesis strategies ``fdjpeg.testing`` are imported
explicitly (``import fdjpeg.torch``). Every other submodule is an implementation detail.
"""

from .errors import JPEGError, JPEGWarning, UnsupportedJPEG
from .coefficients import JPEGCoefficients, write_coefficients
from . import samples, tables
from .encoder import encode, encode_to
from .distill import distill, requantize, requantize_coefficients
from .decoder import decode
from .reader import read_coefficients, read_header

# The validator: the functions, not the module fdjpeg/check.py they live in (``from fdjpeg.check import
# walk`` still reaches the module). Bound after every import above, so fdjpeg.check stays the function.
from .check import Problem, check, info

from . import _imageio_register  # noqa: F401  -- registers the imageio v3 plugin "fdjpeg" (lazily)

__version__ = "0.1.0"

__all__ = [
    "encode", "encode_to", "decode", "read_header", "read_coefficients", "write_coefficients", "JPEGCoefficients",
    "distill", "requantize", "requantize_coefficients", "check", "info", "Problem",
    "JPEGError", "JPEGWarning", "UnsupportedJPEG", "tables", "samples", "__version__",
]  # fmt: skip

#: Public submodules with optional dependencies: listed by dir() once imported (``import fdjpeg.torch``).
_OPTIONAL_SUBMODULES = ("art", "testing", "torch")


def __dir__() -> list[str]:
    """Only the public API: internal modules stay importable but out of sight."""
    loaded = [name for name in _OPTIONAL_SUBMODULES if name in globals()]
    return sorted(__all__ + loaded)
