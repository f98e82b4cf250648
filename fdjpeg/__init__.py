"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.

The package by layer (each imports only from the layers below it; CONTRIBUTING.md has the map):
base/ (tables, markers, geometry, limits, the coefficient container), encoder/ and decoder/ (one module
per stage), fd/ (feature distillation) and validator/, then the integrations at the top level.
"""

from __future__ import annotations

from . import tables
from ._imageio_register import register as _register_imageio
from .base import photos
from .base.coefficients import JPEGCoefficients
from .base.errors import JPEGError, JPEGWarning, UnsupportedJPEG
from .base.requantize import requantize_coefficients
from .decoder.decompress import decode
from .decoder.reader import read_coefficients, read_header
from .encoder.compress import encode, encode_to
from .encoder.markers import write_coefficients
from .fd.distill import distill, requantize
from .validator.report import check, info

__version__ = "0.1.0"

#: The bundled photos under the name earlier releases used (``photos`` says what they are).
samples = photos

__all__ = [
    "JPEGError", "JPEGWarning", "UnsupportedJPEG", "JPEGCoefficients", "tables", "__version__",
    "encode", "encode_to", "write_coefficients", "samples", "photos", "distill", "requantize",
    "requantize_coefficients", "decode", "read_coefficients", "read_header", "check", "info",
]

_register_imageio()  # makes plugin="fdjpeg" available to imageio, lazily (imports nothing)
