"""Input, output and diagnostics for the command line (cli.py only orchestrates).

Conventions, the ones Unix tools follow: ``-`` names stdin (inputs) or stdout (outputs); problems are
reported on stderr as ``fdjpeg: FILE: message`` (``CLIError``), warnings as
``fdjpeg: warning: FILE: message``; exit status 1 when an input or output failed, 2 when the command
line itself is wrong; a closed stdout pipe (``| head``) ends the run quietly with 141 (128 + SIGPIPE).

Images in: a JPEG (recognised by its SOI bytes, whatever its name) is decoded by fdjpeg; CMYK/YCCK
JPEGs become RGB exactly as Pillow's ``Image.convert("RGB")`` does. Other formats are read by imageio's
Pillow plugin (PNG, BMP, TIFF, WebP, GIF, PNM ...). JPEG has no alpha: an alpha channel that is fully
opaque is dropped (nothing is lost), any other alpha is refused, as ``fdjpeg.encode`` refuses it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings

import numpy as np

STDIO = "-"

#: Output formats ``decode`` and ``distill --one-pass`` write (through imageio's Pillow plugin): lossless
#: ones only -- JPEG output is what ``encode`` is for, and it must never come from Pillow.
PIXEL_FORMATS = (".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".pnm")

#: File names distill and design-tables pick up when they walk a directory (fdjpeg.dataset too).
IMAGE_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".jfif",
    ".png",
    ".bmp",
    ".tif",
    ".tiff",
    ".webp",
    ".gif",
    ".ppm",
    ".pgm",
    ".pnm",
}

#: Pillow modes read as RGB (converted by Pillow's own formulas) before encoding.
_CONVERT_TO_RGB = ("CMYK", "YCbCr", "LAB", "HSV")


class CLIError(Exception):
    """A failure reported as ``fdjpeg: FILE: message`` (or ``fdjpeg: message``); ``status`` 1 or 2."""

    def __init__(self, message: str, path=None, status: int = 1):
        super().__init__(message)
        self.message, self.path, self.status = message, path, status

    def __str__(self) -> str:
        return f"{os.fspath(self.path)}: {self.message}" if self.path is not None else self.message


def short(exc: BaseException) -> str:
    """An exception as one line: OSError's strerror, the first line of anything else (imageio's are paragraphs)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextlib.contextmanager
def about(path):
    """Report any failure inside as ``CLIError`` naming ``path`` (``-`` as stdin); warnings inside name it too."""
    if path is not None and os.fspath(path) == STDIO:
        path = "stdin"
    previous = getattr(_current, "path", None)
    _current.path = path
    try:
        yield
    except BrokenPipeError:
        raise  # stdout closed early: main exits quietly
    except CLIError as exc:
        if exc.path is None:
            exc.path = path
        raise
    except (ValueError, TypeError, OSError, MemoryError) as exc:  # JPEGError is a ValueError
        raise CLIError(short(exc), path) from exc
    finally:
        _current.path = previous


# -- diagnostics -----------------------------------------------------------------------------------

_current = threading.local()  # the file being worked on in this thread, for warnings


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    path = getattr(_current, "path", None)
    where = f"{os.fspath(path)}: " if path is not None else ""
    try:
        sys.stderr.write(f"fdjpeg: warning: {where}{message}\n")
    except (OSError, ValueError):
        pass


_compile_notice_lock = threading.Lock()
_compile_notice_given = False


def _on_compile(event) -> None:
    """Numba fires "numba:compile" only when it really compiles (a cache miss), before compiling."""
    global _compile_notice_given
    with _compile_notice_lock:
        if _compile_notice_given:
            return
        _compile_notice_given = True
    try:
        sys.stderr.write(
            "fdjpeg: compiling the Numba kernels for this machine (first run only, usually under a minute; "
            "later runs load them from the cache)...\n"
        )
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


@contextlib.contextmanager
def diagnostics():
    """While inside: warnings as ``fdjpeg: warning: FILE: message`` (each file's, not once per process),
    and a one-line notice on stderr when Numba starts compiling kernels that are not in its cache.
    Everything is restored on the way out (``main`` may run inside another program). The compile
    listener is registered when fdjpeg first loads Numba (``base.jit.when_numba_loaded``, before any
    kernel can compile), so commands that need no kernel (``info``, ``check``) never import Numba."""
    from .base.errors import JPEGWarning
    from .base.jit import cancel_when_numba_loaded, when_numba_loaded

    registered = []

    def register():
        from numba.core import event

        class CompileNotice(event.Listener):
            def on_start(self, ev):
                _on_compile(ev)

            def on_end(self, ev):
                pass

        listener = CompileNotice()
        event.register("numba:compile", listener)
        registered.append((event, listener))

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        warnings.simplefilter("always", JPEGWarning)
        when_numba_loaded(register)
        try:
            yield
        finally:
            cancel_when_numba_loaded(register)
            for event, listener in registered:
                event.unregister("numba:compile", listener)


# -- bytes in and out --------------------------------------------------------------------------------


def read_bytes(path) -> bytes:
    """The whole input file (``-``: stdin)."""
    with about(path):
        if os.fspath(path) == STDIO:
            return sys.stdin.buffer.read()
        with open(path, "rb") as f:
            return f.read()


def check_output(path) -> None:
    """Refuse, before any work, an output that cannot be written: a directory, a missing folder."""
    if os.fspath(path) == STDIO:
        return
    if os.path.isdir(path):
        raise CLIError("is a directory (give a file name)", path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"no such directory: {folder}", path)


def write_bytes(path, data: bytes) -> None:
    """Write the output atomically, through a symbolic link (``-``: stdout, once all the data is ready);
    a device or FIFO is written directly."""
    from .base.io import write_atomic

    if os.fspath(path) == STDIO:
        sys.stdout.flush()
        view, fd = memoryview(data), sys.stdout.fileno()
        while view:  # os.write, not sys.stdout.buffer: a write cut short by a closed pipe must raise
            view = view[os.write(fd, view) :]  # BrokenPipeError goes up to main: quiet exit 141
        return
    check_output(path)
    with about(path):
        if os.path.exists(path) and not os.path.isfile(path):  # /dev/stdout to a pipe, a FIFO, a device
            with open(path, "wb") as f:
                f.write(data)
        else:  # an existing file through its symbolic links, as cp does: never replace a link
            write_atomic(os.path.realpath(path) if os.path.exists(path) else path, data)


def pixel_format(path, default: str = ".png") -> str:
    """The lossless format an output name asks for (usage error for anything else)."""
    ext = default if os.fspath(path) == STDIO else (os.path.splitext(os.fspath(path))[1].lower() or default)
    if ext not in PIXEL_FORMATS:
        hint = " (JPEG output: use fdjpeg encode)" if ext in (".jpg", ".jpeg", ".jpe", ".jfif") else ""
        raise CLIError(f"cannot write {ext!r} files{hint}; choose one of {' '.join(PIXEL_FORMATS)}", path, status=2)
    return ext


def pixels_to_bytes(pixels: np.ndarray, ext: str) -> bytes:
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", pixels, extension=ext, plugin="pillow")


# -- images in ---------------------------------------------------------------------------------------


def is_jpeg(data: bytes) -> bool:
    return data[:2] == b"\xff\xd8"


def as_rgb_or_gray(pixels: np.ndarray) -> np.ndarray:
    """A decoded JPEG as it goes into PNG or into the encoder: CMYK (4 channels) -> RGB, as Pillow converts."""
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        from .decoder.color import convert_mode

        return convert_mode(pixels, "RGB")
    return pixels


def _drop_alpha(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] in (2, 4):
        alpha = img[..., -1]
        if not np.all(alpha == 255):
            kind = "LA" if img.shape[2] == 2 else "RGBA"
            raise CLIError(
                f"{kind} image with transparency: JPEG has no alpha channel; flatten it onto a "
                f"background first (e.g. magick IN -background white -flatten OUT.png)"
            )
        img = img[..., :-1]
        if img.shape[2] == 1:
            img = img[..., 0]
    return img


def load_image(path, data: bytes | None = None) -> np.ndarray:
    """uint8 (H, W) gray or (H, W, 3) RGB pixels of an image file (see the module docstring)."""
    with about(path):
        if data is None:
            data = read_bytes(path)
        if is_jpeg(data):
            from .decoder.decompress import decode

            return as_rgb_or_gray(decode(data))
        return _drop_alpha(_read_other(data))


def _read_other(data: bytes) -> np.ndarray:
    import imageio.v3 as iio

    try:
        with iio.imopen(io.BytesIO(data), "r", plugin="pillow") as f:
            mode = f.metadata(index=0, exclude_applied=False).get("mode")
            img = np.asarray(f.read(index=0, mode="RGB" if mode in _CONVERT_TO_RGB else None))
    except Exception as exc:  # imageio/Pillow raise many types for files they cannot read
        raise CLIError(f"not a JPEG, nor an image Pillow can read ({short(exc)})") from exc
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    if img.dtype != np.uint8:
        raise CLIError(f"{img.dtype} samples ({mode}): only 8-bit images can be encoded as baseline JPEG")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 2, 3, 4)):
        raise CLIError(f"unsupported image layout {img.shape} ({mode})")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    return img
