"""fdjpeg: a from-scratch baseline JPEG codec in NumPy + Numba, byte-exact with libjpeg-turbo, built to carry
feature distillation (a JPEG-based defense against adversarial examples) into standard .jpg files.
"""

from __future__ import annotations

from .base.errors import JPEGError, JPEGWarning, UnsupportedJPEG
from .base.coefficients import JPEGCoefficients
from . import tables

__version__ = "0.1.0"

__all__ = ["JPEGError", "JPEGWarning", "UnsupportedJPEG", "JPEGCoefficients", "tables", "__version__"]

from .encoder.compress import encode, encode_to  # noqa: E402

__all__ += ["encode", "encode_to"]

from .base.coefficients import write_coefficients  # noqa: E402

__all__ += ["write_coefficients"]

from .base import photos as samples  # noqa: E402
from .fd.distill import distill, requantize, requantize_coefficients  # noqa: E402

__all__ += ["samples", "distill", "requantize", "requantize_coefficients"]

from .decoder.decompress import decode  # noqa: E402

__all__ += ["decode"]

from .decoder.reader import read_coefficients, read_header  # noqa: E402

__all__ += ["read_coefficients", "read_header"]

from . import _imageio_register  # noqa: E402,F401  -- registers the imageio v3 plugin "fdjpeg" (lazily)
