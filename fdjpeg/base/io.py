"""The one byte loader and the one atomic writer every entry point uses."""

from __future__ import annotations

import contextlib
import os
import tempfile


def load_bytes(data) -> bytes:
    """The bytes of ``data``: bytes, bytearray, memoryview, a path (str or os.PathLike) or a binary
    file object (read from its current position)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    read = getattr(data, "read", None)
    if callable(read):
        out = read()
        if not isinstance(out, (bytes, bytearray, memoryview)):
            raise TypeError(f"file object must be opened in binary mode (read() returned {type(out).__name__})")
        return bytes(out)
    raise TypeError(
        f"data must be bytes, bytearray, memoryview, a path or a binary file object, got {type(data).__name__}"
    )


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once: os.umask is process-wide and not thread-safe to query


@contextlib.contextmanager
def atomic_output(path):
    """A binary file to write ``path`` through, for outputs too large to hold in memory: it is a temporary
    file in the same directory, renamed over ``path`` (atomically, after fsync) only when the ``with``
    block ends normally; on any exception it is removed and ``path`` is left as it was.

    The file gets the permissions a plain ``open(path, "wb")`` would give (0666 minus the umask).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fdjpeg-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path, data: bytes) -> None:
    """Write bytes to ``path`` via a temporary file in the same directory and an atomic rename
    (``atomic_output``)."""
    with atomic_output(path) as f:
        f.write(data)
