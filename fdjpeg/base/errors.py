"""The exceptions and warnings fdjpeg raises for JPEG data (Go's FormatError/UnsupportedError split)."""

from __future__ import annotations


class JPEGError(ValueError):
    """Malformed or undecodable JPEG data.

    ``offset`` is the byte offset in the stream where the problem was found, when known;
    ``str(err)`` includes it. Subclasses ``ValueError`` so that code catching bad input
    generically keeps working.
    """

    def __init__(self, message: str, offset: int | None = None):
        self.message = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte offset {offset})")

    def __reduce__(self):  # keep the offset across pickling (multiprocessing batches)
        return (type(self), (self.message, self.offset))


class UnsupportedJPEG(JPEGError):
    """Valid JPEG data that uses a feature fdjpeg does not implement (arithmetic coding, 12-bit, lossless...)."""


class JPEGWarning(UserWarning):
    """Recoverable damage, handled the way libjpeg-turbo handles it (e.g. truncated entropy data)."""
