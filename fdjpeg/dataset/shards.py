"""WebDataset tar shards: distill every JPEG member of a shard into a drop-in replacement shard, and
iterate over a shard's samples for training code.

Both read the tar as a stream (``tarfile`` mode ``"r|*"``: plain, gzip, bzip2 or xz), one member at a
time, so neither a seekable source nor memory for the whole shard is needed; ``distill_shard`` writes
its output as a stream too (``"w|"``, the input's compression), holding at most ``batch_size`` JPEG
members (and the small members between them) before writing them out in their original order.

Members (WebDataset's naming: ``dir/key.ext``, the key up to the first dot of the base name, the
extension everything after it; consecutive members with one key form a sample):

* a JPEG member -- recognised by its content (SOI, ``ff d8``), whatever its name -- is requantized
  with the tables in the coefficient domain (``fdjpeg.requantize``, as ``fdjpeg distill`` does for
  JPEG files), keeping its name; with ``defense="one-pass"`` it is decoded with the one-pass defense
  (``fdjpeg.decode(data, defense=tables)``) and stored as a PNG, its last extension becoming ``.png``
  (``a.jpg`` -> ``a.png``, ``a.seg.jpg`` -> ``a.seg.png``), as ``fdjpeg distill --one-pass`` does (a
  sample that already has a ``.png`` member then holds two, which WebDataset refuses: not checked, since
  the stream cannot look ahead);
* a member fdjpeg cannot decode (``JPEGError``), or one named ``.jpg``/``.jpeg`` that holds no JPEG
  data, is copied unchanged and listed in ``ShardReport.failures``;
* every other member (class labels, JSON, text, PNG, directories, links) is copied byte for byte.

Names, order and tar header fields (mtime, mode, uid/gid, uname/gname, pax records) are kept; only a
distilled member's size (and, one-pass, its name) changes. The output is a POSIX (pax) tar.
A tar that is truncated or corrupt raises ``fdjpeg.JPEGError`` naming the shard; a ``dst`` path is
then left untouched (written atomically), while a ``dst`` file object holds what was written so far.
"""

from __future__ import annotations

import dataclasses
import io
import lzma
import os
import re
import tarfile
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

from ..base.errors import JPEGError, JPEGWarning
from ..base.io import atomic_output
from ..decoder.decompress import decode as _decode
from ..fd.design import resolve_tables
from ..fd.distill import requantize as _requantize

DEFENSES = ("requantize", "one-pass")

#: Extensions (WebDataset's, lower case, last component) that promise a JPEG.
JPEG_EXTENSIONS = ("jpg", "jpeg", "jpe", "jfif")

#: A non-JPEG member at most this large is buffered (so JPEG batches can span it); a larger one is
#: streamed straight through to the output.
BUFFER_LIMIT = 1 << 20

#: Names the CLI takes for tar shards (besides any file with a tar header, whatever its name).
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")

_SOI = b"\xff\xd8"
# Members webdataset.WebDataset skips as metadata: __x__ at the top level, or a path starting __x__/.
_META_TOP = re.compile(r"__[^/]*__$")
_META = re.compile(r"__[^/]*__($|/)")
# What a broken tar stream raises from tarfile and its decompressors (gzip's and bz2's are OSErrors).
_TAR_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError)


@dataclasses.dataclass
class ShardReport:
    """What ``distill_shard`` did. ``bytes_in``/``bytes_out``: the tar streams as read and written
    (compressed, if the shard is); ``jpeg_bytes_in``/``jpeg_bytes_out``: the JPEG members alone
    (failed ones counted on both sides). ``failures``: (member name, reason) of JPEG members copied
    unchanged."""

    src: str
    dst: str
    members: int = 0
    jpegs: int = 0
    distilled: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    jpeg_bytes_in: int = 0
    jpeg_bytes_out: int = 0
    failures: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def split_name(name: str) -> tuple[str | None, str | None]:
    """WebDataset's (key, extension) of a member name: ``"a/b.c.jpg"`` -> ``("a/b", "c.jpg")``;
    (None, None) for a name with no dot in its base name (WebDataset skips such members)."""
    folder, sep, base = name.rpartition("/")
    key, dot, ext = base.partition(".")
    if not dot or not key:
        return None, None
    return folder + sep + key, ext


def looks_like_shard(path) -> bool:
    """Whether the CLI treats the file ``path`` as a tar shard: a tar name (``TAR_SUFFIXES``), or a
    POSIX/GNU tar header (``ustar`` magic) at its start whatever its name."""
    if os.fspath(path).lower().endswith(TAR_SUFFIXES):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return len(head) == 512 and head[257:262] == b"ustar"


def _named_jpeg(name: str) -> bool:
    return name.rpartition("/")[2].rpartition(".")[2].lower() in JPEG_EXTENSIONS


def _png_name(name: str) -> str:
    folder, sep, base = name.rpartition("/")
    stem, dot, _ = base.rpartition(".")
    return folder + sep + (stem if dot else base) + ".png"


# -- streams -----------------------------------------------------------------------------------------


class _Counting(io.RawIOBase):
    """Counts the bytes passing through a binary file object (needs only read, or only write)."""

    def __init__(self, f):
        self.f, self.count = f, 0

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def read(self, n=-1):
        data = self.f.read(n)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"src must be opened in binary mode (read() returned {type(data).__name__})")
        self.count += len(data)
        return data

    def write(self, data):
        n = self.f.write(data)
        self.count += len(data)
        return n


class _Prefixed:
    """The rest of a member's file object with the bytes already sniffed from it put back in front."""

    def __init__(self, head: bytes, rest):
        self.head, self.rest = head, rest

    def read(self, n=-1):
        if n is None or n < 0:
            out, self.head = self.head + self.rest.read(), b""
            return out
        out, self.head = self.head[:n], self.head[n:]
        return out + self.rest.read(n - len(out)) if len(out) < n else out


def _name_of(obj) -> str:
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj)
    name = getattr(obj, "name", None)
    return name if isinstance(name, str) else f"<{type(obj).__name__}>"


class _Reader:
    """The members of a tar stream; tar and decompression errors become ``JPEGError`` naming the shard."""

    def __init__(self, fileobj, name: str):
        self.raw, self.name, self.tar = _Counting(fileobj), name, None
        self.tar = self._guard(lambda: tarfile.open(fileobj=self.raw, mode="r|*", tarinfo=_TarInfo))

    def _guard(self, fn):
        try:
            return fn()
        except _TAR_ERRORS as exc:
            if isinstance(exc, OSError) and not _decompression_error(exc):
                raise
            what = "not a tar shard" if self.tar is None else "truncated or corrupt tar shard"
            raise JPEGError(f"{self.name}: {what} ({exc or type(exc).__name__})") from exc

    @property
    def comptype(self) -> str:
        return getattr(self.tar.fileobj, "comptype", "tar")

    def __iter__(self):
        while True:
            info = self._guard(self.tar.next)
            self.tar.members = []  # stream mode keeps every TarInfo otherwise
            if info is None:
                break
            yield info
        # tarfile ends quietly at a header it cannot read after the first one: only a zero block (the
        # end-of-archive marker) is a real end; anything else is a shard cut short or damaged.
        end = getattr(self.tar, "_fdjpeg_end", None)
        if not isinstance(end, tarfile.EOFHeaderError):
            why = (
                "it ends without the end-of-archive marker"
                if end is None or isinstance(end, (tarfile.EmptyHeaderError, tarfile.TruncatedHeaderError))
                else f"bad header ({end})"
            )
            raise JPEGError(f"{self.name}: truncated or corrupt tar shard ({why}, at byte {self.tar.offset})")
        while self._guard(lambda: self.raw.read(1 << 16)):
            pass  # the rest (padding): counted, and a pipe's writer is not cut off

    def open(self, info):
        f = self.tar.extractfile(info)
        return _GuardedFile(f, self)


class _TarInfo(tarfile.TarInfo):
    """Records why tarfile stopped reading headers (tarfile swallows it after the first member)."""

    @classmethod
    def fromtarfile(cls, tar):
        try:
            return super().fromtarfile(tar)
        except tarfile.HeaderError as exc:
            tar._fdjpeg_end = exc
            raise


def _decompression_error(exc: OSError) -> bool:
    """gzip's BadGzipFile and bz2's "Invalid data stream" are OSErrors without an errno; a failing
    disk or socket has one (and is not the shard's fault)."""
    return exc.errno is None


class _GuardedFile:
    def __init__(self, f, reader: _Reader):
        self.f, self.reader = f, reader

    def read(self, n=-1):
        return self.reader._guard(lambda: self.f.read(n))


def _open_src(src):
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(src), False
    if isinstance(src, (str, os.PathLike)):
        return open(src, "rb"), True
    if callable(getattr(src, "read", None)):
        return src, False
    raise TypeError(f"src must be a path, bytes or a binary file object, got {type(src).__name__}")


# -- distill_shard -----------------------------------------------------------------------------------


def _check_defense(defense) -> None:
    if defense not in DEFENSES:
        raise ValueError(f"defense must be one of {', '.join(map(repr, DEFENSES))}, got {defense!r}")


def _one_pass_png(data: bytes, tables) -> bytes:
    from .._cli_io import as_rgb_or_gray, pixels_to_bytes  # the CLI's PNG writer (imageio + Pillow)

    return pixels_to_bytes(as_rgb_or_gray(_decode(data, defense=tables)), ".png")


def _distill_one(data: bytes, tables, defense: str):
    try:
        return _requantize(data, tables) if defense == "requantize" else _one_pass_png(data, tables)
    except JPEGError as exc:
        return exc


def distill_group(datas: list, tables, defense: str = "requantize", pool=None) -> list:
    """Distill a group of JPEG member bytes; per item the new bytes or the ``JPEGError`` it raised.

    Requantizing, the group is one ``requantize_batch`` call (dataset/batch.py); the one-pass defense is
    one decode + encode per member, over ``pool`` if given.
    """
    if defense == "requantize":
        from .batch import requantize_batch

        return list(requantize_batch(datas, tables, errors="collect"))
    if pool is None:
        return [_distill_one(d, tables, defense) for d in datas]
    return list(pool.map(lambda d: _distill_one(d, tables, defense), datas))


def distill_shard(
    src, dst, tables="robust", *, defense: str = "requantize", batch_size: int = 64, jobs: int = 1, progress=None
) -> ShardReport:
    """Distill the JPEG members of the tar shard ``src`` into the tar shard ``dst`` (module docstring).

    src: a path, bytes, or a binary file object read from its current position (need not be seekable).
    dst: a path (written atomically: a temporary file renamed over it at the end; it may be ``src``
        itself) or a binary file object (written from its current position, left open).
    tables: what ``fdjpeg distill --tables`` takes: a preset name (default "robust", the recommended
        one), "q<N>", a JSON tables file, one 8x8 table or (luma, chroma).
    defense: "requantize" (JPEG members stay JPEGs, carrying the tables) or "one-pass" (PNG members).
    batch_size: JPEG members distilled together (and held in memory at once); jobs: threads for them.
    progress: None, or a callable given the ``ShardReport`` so far after each group is written.
    """
    _check_defense(defense)
    for name, value in (("batch_size", batch_size), ("jobs", jobs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    tabs = resolve_tables(tables)
    report = ShardReport(_name_of(src), _name_of(dst))
    fin, owned = _open_src(src)
    try:
        reader = _Reader(fin, report.src)
        with ThreadPoolExecutor(jobs) if jobs > 1 else _no_pool() as pool:
            if isinstance(dst, (str, os.PathLike)):
                with atomic_output(dst) as fout:
                    _distill_stream(reader, fout, tabs, defense, batch_size, pool, report, progress)
            elif callable(getattr(dst, "write", None)):
                _distill_stream(reader, dst, tabs, defense, batch_size, pool, report, progress)
            else:
                raise TypeError(f"dst must be a path or a binary file object, got {type(dst).__name__}")
        report.bytes_in = reader.raw.count
    finally:
        if owned:
            fin.close()
    return report


class _no_pool:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _distill_stream(reader: _Reader, fout, tabs, defense, batch_size, pool, report: ShardReport, progress) -> None:
    out = _Counting(fout)
    comp = reader.comptype
    tout = tarfile.open(fileobj=out, mode="w|" + ("" if comp == "tar" else comp), format=tarfile.PAX_FORMAT)
    try:
        _copy_members(reader, tout, tabs, defense, batch_size, pool, report, progress)
    except BaseException:
        tout.fileobj.closed = tout.closed = True  # abandon: no flush of a half tar into dst at garbage collection
        raise
    tout.close()  # the end-of-archive blocks (and the compressor's trailer)
    report.bytes_out = out.count


def _copy_members(reader: _Reader, tout, tabs, defense, batch_size, pool, report: ShardReport, progress) -> None:
    pending = []  # (TarInfo, data or None, is_jpeg) in shard order, written by flush()
    jpegs = 0

    def flush():
        results = iter(distill_group([d for _, d, j in pending if j], tabs, defense, pool))
        for info, data, is_jpeg in pending:
            if is_jpeg:
                _write_distilled(tout, info, data, next(results), defense, report)
            elif data is not None and _named_jpeg(info.name):
                report.failures.append((info.name, "named like a JPEG but holds no JPEG data; copied unchanged"))
                _add(tout, info, data)
            else:
                _add(tout, info, data)
        if pending and progress is not None:
            progress(report)
        pending.clear()

    for info in reader:
        report.members += 1
        if not info.isreg():
            pending.append((info, None, False))
            continue
        f = reader.open(info)
        head = f.read(len(_SOI))
        if head == _SOI or info.size <= BUFFER_LIMIT or _named_jpeg(info.name):
            data = head + f.read()
            is_jpeg = head == _SOI
            pending.append((info, data, is_jpeg))
            jpegs += is_jpeg
            if jpegs >= batch_size:
                flush()
                jpegs = 0
        else:  # a large member that is no JPEG: straight through, in order
            flush()
            jpegs = 0
            tout.addfile(info, _Prefixed(head, f))
    flush()


def _add(tout, info, data) -> None:
    tout.addfile(info, None if data is None else io.BytesIO(data))


def _write_distilled(tout, info, data: bytes, result, defense: str, report: ShardReport) -> None:
    report.jpegs += 1
    report.jpeg_bytes_in += len(data)
    if isinstance(result, BaseException):
        report.failures.append((info.name, f"{result}; copied unchanged"))
        result = data
    else:
        report.distilled += 1
        info.size = len(result)
        info.pax_headers.pop("size", None)  # a pax size record would override the new size
        if defense == "one-pass":
            info.name = _png_name(info.name)
            info.pax_headers.pop("path", None)
    report.jpeg_bytes_out += len(result)
    _add(tout, info, result)


# -- iter_shard --------------------------------------------------------------------------------------


def iter_shard(src, *, decode: bool = True, tables=None, defense: str = "requantize", mode=None, errors="raise"):
    """WebDataset-style samples of a tar shard, streaming: dicts with ``"__key__"`` and one entry per
    extension (lower case, e.g. ``"jpg"``, ``"cls"``, ``"seg.png"``), as ``webdataset.WebDataset``
    groups them; non-regular members, names without an extension and ``__meta__`` members are skipped.

    Non-JPEG values are the member's bytes. A JPEG member (recognised by content) is:
      decode=True: a uint8 array, ``fdjpeg.decode(data, mode=mode)``; with ``tables``, distilled first:
        ``defense="requantize"``: the decode of ``fdjpeg.requantize(data, tables)``, what a distilled
        shard gives; ``"one-pass"``: ``fdjpeg.decode(data, defense=tables)``;
      decode=False: its bytes, requantized with ``tables`` if given (one-pass needs decode=True).
    errors: "raise" (a JPEGError naming the member) or "skip" (drop that sample, with a JPEGWarning).
    """
    _check_defense(defense)
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    if defense == "one-pass" and tables is not None and not decode:
        raise ValueError("defense='one-pass' gives pixels: use decode=True (or defense='requantize')")
    tabs = None if tables is None else resolve_tables(tables)
    fin, owned = _open_src(src)
    try:
        reader = _Reader(fin, _name_of(src))
        sample, bad = None, False
        for info in reader:
            key, ext = split_name(info.name)
            if not info.isreg() or key is None or _META.match(info.name) or _META_TOP.match(info.name):
                continue
            if sample is None or key != sample["__key__"]:
                if sample is not None and not bad:
                    yield sample
                sample, bad = {"__key__": key}, False
            ext = ext.lower()
            if ext in sample:
                raise JPEGError(f"{reader.name}: {info.name}: a second {ext!r} member for key {key!r}")
            data = reader.open(info).read()
            if data[:2] == _SOI and not bad:
                try:
                    data = _sample_jpeg(data, decode, tabs, defense, mode)
                except JPEGError as exc:
                    if errors == "raise":
                        raise JPEGError(f"{reader.name}: {info.name}: {exc}") from exc
                    warnings.warn(f"{reader.name}: {info.name}: {exc}; sample {key!r} skipped", JPEGWarning, 2)
                    bad = True
            sample[ext] = data
        if sample is not None and not bad:
            yield sample
    finally:
        if owned:
            fin.close()


def _sample_jpeg(data: bytes, decode: bool, tabs, defense: str, mode):
    if tabs is not None and defense == "requantize":
        data = _requantize(data, tabs)
    if not decode:
        return data
    return _decode(data, mode=mode, defense=tabs if defense == "one-pass" else None)
