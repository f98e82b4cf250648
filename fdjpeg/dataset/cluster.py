"""Feature distillation of a whole dataset on a Dask cluster (one machine or many).

``distill_dataset`` lists the inputs (files, directories, WebDataset ``.tar`` shards; local paths or
fsspec URLs such as ``s3://bucket/train/``), cuts the image files into chunks of ``chunk_size``, and
maps one task per chunk (one per shard) over ``dask.distributed`` workers. Each task reads its inputs
through fsspec, requantizes the JPEGs with the feature-distillation tables in one batch call
(``fdjpeg.requantize_batch``; other images are encoded with them, as ``fdjpeg distill`` does; a shard
goes through ``fdjpeg.dataset.shards.distill_shard``), and writes every output atomically: a temporary name and a
rename on file systems that have renames, one ``put`` on object stores (where a put is atomic).

Resumable: an output that already exists and validates (``fdjpeg.check`` finds no error and its
quantization tables are the requested ones; a shard: a tar whose members can all be listed) is left
alone, so a run that was interrupted or had failures can simply be started again. Inputs that fail
are listed in ``distill-report.tsv`` (``input<TAB>error``) in the output directory.

Needs the ``dask`` extra (``pip install "fdjpeg[dask]"``: dask.distributed and fsspec); ``import fdjpeg``
never imports this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import posixpath
import sys
import tarfile
import uuid
import warnings
import zlib

import fsspec
import numpy as np
from distributed import Client, LocalCluster, get_client, progress, wait

import fdjpeg
from fdjpeg._cli_io import IMAGE_EXTENSIONS, CLIError, is_jpeg, load_image, short
from fdjpeg.base.io import write_atomic
from fdjpeg.fd.design import resolve_tables

from .batch import requantize_batch
from .shards import TAR_SUFFIXES, distill_shard

#: The report of failed inputs, written in the output directory by every run.
REPORT_NAME = "distill-report.tsv"

#: Object stores: one put of the whole object is atomic, and there is no rename to build one from.
_OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oci", "memory"}


@dataclasses.dataclass
class DatasetReport:
    """What a ``distill_dataset`` run did: outputs ``written``, outputs ``skipped`` because a valid one
    was already there, and the ``failed`` inputs as (input URL, error message); ``report`` is the URL
    of the TSV file that lists the failures."""

    written: int
    skipped: int
    failed: list[tuple[str, str]]
    report: str

    @property
    def total(self) -> int:
        return self.written + self.skipped + len(self.failed)


# -- work done on the workers ------------------------------------------------------------------------


def _requantize_many(datas: list[bytes], tables) -> list[bytes | Exception]:
    """Requantize a list of JPEGs in one batch call; a failure is returned in its place (the file's own
    error: the batch's names the item's index, which means nothing in the report)."""
    out = requantize_batch(datas, tables, errors="collect")
    return [r.__cause__ if isinstance(r, Exception) and r.__cause__ is not None else r for r in out]


def _is_local(fs) -> bool:
    return "file" in _protocols(fs)


def _protocols(fs) -> set[str]:
    p = fs.protocol
    return {p} if isinstance(p, str) else set(p)


def _write(fs, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old file or the whole new one, never a part."""
    if _is_local(fs):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, data)
    elif _protocols(fs) & _OBJECT_STORES:
        fs.pipe_file(path, data)  # one PUT: the object appears whole or not at all
    else:  # a remote file system with renames (sftp, hdfs, ...)
        _through_temporary(fs, path, lambda tmp: fs.pipe_file(tmp, data))


def _put(fs, local: str, path: str) -> None:
    """Upload the finished local file ``local`` to ``path`` atomically (see _write)."""
    if _protocols(fs) & _OBJECT_STORES:
        fs.put_file(local, path)
    else:
        _through_temporary(fs, path, lambda tmp: fs.put_file(local, tmp))


def _through_temporary(fs, path: str, upload) -> None:
    """``upload(tmp)`` to a temporary name beside ``path``, then rename it over ``path`` (file systems
    with renames); the temporary is removed if the rename fails."""
    parent = posixpath.dirname(path)
    fs.makedirs(parent, exist_ok=True)
    tmp = posixpath.join(parent, f".fdjpeg-{uuid.uuid4().hex}.tmp")
    upload(tmp)
    try:
        fs.mv(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        raise


def _read(fs, path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None


def _valid_image(data: bytes, tables) -> bool:
    """An earlier output worth keeping: a JPEG without structural errors whose tables are ``tables``."""
    if any(p.severity == "error" for p in fdjpeg.check(data)):
        return False
    try:
        quant = fdjpeg.read_header(data).quant_tables
    except ValueError:
        return False
    return bool(quant) and all(any(np.array_equal(q, t) for t in tables) for q in quant.values())


def _valid_shard(fs, path: str) -> bool:
    """An earlier shard output worth keeping: it exists and every member header can be read to its end."""
    try:
        with fs.open(path, "rb") as f, tarfile.open(fileobj=f, mode="r|*") as tar:
            return sum(1 for _ in tar) > 0
    except FileNotFoundError:
        return False
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        return False


def _message(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, CLIError) else short(exc)
    return " ".join(str(text).split())  # one line, no tabs: a TSV field


def _distill_chunk(in_fs, out_fs, pairs, tables, subsampling, numba_threads) -> list[tuple[str, str, str]]:
    """One task: (input, output) paths -> a (input, status, error) record each; status is "written",
    "skipped" (a valid output was there) or "failed"."""
    import numba

    numba.set_num_threads(max(1, min(numba_threads, numba.config.NUMBA_NUM_THREADS)))
    with warnings.catch_warnings():  # damaged but readable inputs are distilled; the report lists failures only
        warnings.simplefilter("ignore", fdjpeg.JPEGWarning)
        return _distill_pairs(in_fs, out_fs, pairs, tables, subsampling)


def _distill_pairs(in_fs, out_fs, pairs, tables, subsampling) -> list[tuple[str, str, str]]:
    records: list[tuple[str, str, str] | None] = [None] * len(pairs)
    jpegs: list[tuple[int, bytes]] = []
    for i, (src, dst) in enumerate(pairs):
        try:
            old = _read(out_fs, dst)
            if old is not None and _valid_image(old, tables):
                records[i] = (src, "skipped", "")
                continue
            data = in_fs.cat_file(src)
            if is_jpeg(data):
                jpegs.append((i, data))  # requantized together below
                continue
            img = load_image(src, data)
            _write(out_fs, dst, fdjpeg.encode(img, tables, subsampling=subsampling, optimize=True))
            records[i] = (src, "written", "")
        except (ValueError, TypeError, OSError, MemoryError, CLIError) as exc:
            records[i] = (src, "failed", _message(exc))
    results = _requantize_many([d for _, d in jpegs], tables)
    for (i, _), result in zip(jpegs, results):
        src, dst = pairs[i]
        if isinstance(result, Exception):
            records[i] = (src, "failed", _message(result))
            continue
        try:
            _write(out_fs, dst, result)
            records[i] = (src, "written", "")
        except (ValueError, OSError) as exc:
            records[i] = (src, "failed", _message(exc))
    return records


def _distill_shard_task(in_fs, out_fs, src, dst, tables) -> list[tuple[str, str, str]]:
    """One task per WebDataset shard: ``distill_shard`` streams it member by member. A JPEG member that
    could not be distilled (copied unchanged into the output shard) is reported as ``SHARD/MEMBER``."""
    import tempfile

    if _valid_shard(out_fs, dst):
        return [(src, "skipped", "")]
    try:
        with warnings.catch_warnings(), in_fs.open(src, "rb") as fin:
            warnings.simplefilter("ignore", fdjpeg.JPEGWarning)
            if _is_local(out_fs):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                report = distill_shard(fin, dst, tables)  # written atomically by distill_shard
            else:
                with tempfile.TemporaryDirectory(prefix="fdjpeg-shard-") as tmp:
                    local = os.path.join(tmp, "out.tar")
                    report = distill_shard(fin, local, tables)
                    _put(out_fs, local, dst)
    except (ValueError, TypeError, OSError, MemoryError, tarfile.TarError) as exc:
        return [(src, "failed", _message(exc))]
    return [(src, "written", "")] + [(f"{src}/{m}", "failed", " ".join(str(r).split())) for m, r in report.failures]


# -- listing, on the client --------------------------------------------------------------------------


def _list_inputs(inputs, out_fs, out_path, storage_options):
    """(input file system, [(input path, path relative to its input root)]) per input; files under the
    output directory are left out (it may lie inside an input directory)."""
    listed = []
    for url in [inputs] if isinstance(inputs, (str, os.PathLike)) else inputs:
        fs, root = fsspec.core.url_to_fs(os.fspath(url), **storage_options)
        if fs.isdir(root):
            files = []
            for f in sorted(fs.find(root)):
                if type(fs) is type(out_fs) and (f + "/").startswith(out_path.rstrip("/") + "/"):
                    continue
                if posixpath.splitext(f)[1].lower() in IMAGE_EXTENSIONS or _is_shard(f):
                    files.append((f, posixpath.relpath(f, root)))
            listed.append((fs, files))
        elif fs.isfile(root):
            listed.append((fs, [(root, posixpath.basename(root))]))
        else:
            raise FileNotFoundError(2, "no such file or directory", os.fspath(url))
    return listed


def _is_shard(path: str) -> bool:
    return path.lower().endswith(TAR_SUFFIXES)


def _output_path(out_path: str, rel: str) -> str:
    return posixpath.join(out_path, rel if _is_shard(rel) else posixpath.splitext(rel)[0] + ".jpg")


@contextlib.contextmanager
def _client(client, workers: int | None):
    """The Dask client to use: the one given, a scheduler address, "local" (a LocalCluster of
    ``workers`` single-thread processes, closed afterwards), or None (the default client if there is
    one, else a LocalCluster)."""
    if isinstance(client, Client):
        yield client
        return
    if client is None:
        try:
            yield get_client()
            return
        except ValueError:
            client = "local"
    if client == "local":
        n = workers or os.cpu_count() or 1
        with (
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
            Client(cluster) as c,
        ):
            yield c
        return
    if not isinstance(client, str):
        raise TypeError(f"client must be a distributed.Client, a scheduler address, 'local' or None, got {client!r}")
    with Client(client) as c:
        yield c


def distill_dataset(
    inputs,
    output,
    tables="robust",
    *,
    client=None,
    chunk_size: int = 64,
    workers: int | None = None,
    subsampling: str = "4:4:4",
    numba_threads: int = 1,
    progress_bar: bool | None = None,
    storage_options: dict | None = None,
) -> DatasetReport:
    """Distill every image (and WebDataset ``.tar`` shard) of ``inputs`` into the directory ``output``.

    ``inputs``: a path or URL, or a list of them; each a file or a directory searched recursively
    (fsspec URLs: ``s3://``, ``gs://``, ``file://`` ...; ``storage_options`` go to fsspec). Outputs
    keep their path relative to their input directory, with the suffix ``.jpg`` (shards keep theirs).
    ``tables``: a preset name, ``q<N>``, a JSON tables file, or tables (``fdjpeg.tables.resolve_tables``).
    ``client``: a ``distributed.Client``, a scheduler address (``"tcp://10.0.0.1:8786"``), ``"local"``
    (a LocalCluster of ``workers`` processes, one thread each, closed at the end) or None (the current
    default client, else a local cluster). ``chunk_size``: images per task (each task pays Dask's
    overhead once). ``numba_threads``: Numba threads per task (1: the workers are the parallelism).
    ``subsampling``: for non-JPEG inputs, which are encoded with the tables. ``progress_bar``: Dask's
    progress bar on stderr (default: when stderr is a terminal).

    Outputs that exist and validate are skipped (resume); failures are listed, not raised, in
    ``output/distill-report.tsv`` and in the returned ``DatasetReport``.
    """
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    if not isinstance(numba_threads, int) or numba_threads < 1:
        raise ValueError(f"numba_threads must be a positive int, got {numba_threads!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers must be a non-negative int or None, got {workers!r}")
    table = resolve_tables(tables)
    storage_options = storage_options or {}
    out_fs, out_path = fsspec.core.url_to_fs(os.fspath(output), **storage_options)
    listed = _list_inputs(inputs, out_fs, out_path, storage_options)
    seen: dict[str, str] = {}
    for _, files in listed:
        for src, rel in files:
            dst = _output_path(out_path, rel)
            if dst in seen:
                raise ValueError(f"{src} and {seen[dst]} would both be written to {dst}")
            seen[dst] = src
    if _is_local(out_fs):
        os.makedirs(out_path, exist_ok=True)
    report_url = posixpath.join(out_path, REPORT_NAME)
    if progress_bar is None:
        progress_bar = sys.stderr.isatty()

    with _client(client, workers) as c:
        futures, batches = [], []
        for in_fs, files in listed:
            images = [(s, _output_path(out_path, r)) for s, r in files if not _is_shard(s)]
            shards = [(s, _output_path(out_path, r)) for s, r in files if _is_shard(s)]
            for k in range(0, len(images), chunk_size):
                pairs = images[k : k + chunk_size]
                futures.append(
                    c.submit(_distill_chunk, in_fs, out_fs, pairs, table, subsampling, numba_threads, pure=False)
                )
                batches.append([s for s, _ in pairs])
            for src, dst in shards:
                futures.append(c.submit(_distill_shard_task, in_fs, out_fs, src, dst, table, pure=False))
                batches.append([src])
        if progress_bar and futures:
            with contextlib.redirect_stdout(sys.stderr):  # Dask's text bar writes to stdout
                progress(futures)
        wait(futures)
        records = []
        for fut, srcs in zip(futures, batches):
            if fut.status == "finished":
                records += fut.result()
            else:  # the task itself failed (a worker died, a bug): every input in it is reported
                err = _message(fut.exception()) if fut.status == "error" else fut.status
                records += [(s, "failed", f"task failed: {err}") for s in srcs]
            fut.release()

    failed = [(src, err) for src, status, err in records if status == "failed"]
    lines = ["input\terror"] + [f"{src}\t{err}" for src, err in failed]
    _write(out_fs, report_url, ("\n".join(lines) + "\n").encode())
    return DatasetReport(
        written=sum(s == "written" for _, s, _ in records),
        skipped=sum(s == "skipped" for _, s, _ in records),
        failed=failed,
        report=report_url if _is_local(out_fs) else out_fs.unstrip_protocol(report_url),
    )
