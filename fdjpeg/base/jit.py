"""The one place for Numba options (stumpy's config.py idea).

Every kernel in fdjpeg is compiled with ``cache=True`` (the first-call compile time is part of the CLI's
user experience), ``fastmath`` off (every integer path must be bit-exact with libjpeg-turbo) and the NumPy
error model (a kernel never raises a Python exception for user data: wrappers validate first).
"""

from __future__ import annotations

import numba

_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


def kernel(fn=None, **extra):
    """``numba.njit`` with fdjpeg's options; use as ``@kernel`` or ``@kernel(parallel=True)``."""
    options = {**_OPTIONS, **extra}
    if fn is None:
        return numba.njit(**options)
    return numba.njit(**options)(fn)


prange = numba.prange
