"""The one place for Numba options (stumpy's config.py idea), including how fdjpeg uses threads.

Every kernel in fdjpeg is compiled with ``cache=True`` (the first-call compile time is part of the CLI's
user experience), ``fastmath`` off (every integer path must be bit-exact with libjpeg-turbo) and the NumPy
error model (a kernel never raises a Python exception for user data: wrappers validate first).

Threads (spec/codec.md section 5). fdjpeg runs inside other people's processes -- training loops,
PyTorch DataLoader workers forked from a parent that already encoded something, ``multiprocessing.Pool``,
user threads -- so its threading set-up must be:

* fork-safe: GNU OpenMP, Numba's default layer on Linux when TBB is not found, kills any forked child
  that starts a parallel region once the parent has run one;
* thread-safe: users call the codec from their own threads at once (``fdjpeg distill -j N`` does);
* quiet: waiting threads must not spin against the user's other processes, and small work must not
  pay for waking threads at all.

Hence: unless the user chose a layer (``NUMBA_THREADING_LAYER`` / ``NUMBA_THREADING_LAYER_PRIORITY``), the
layer is TBB (the ``tbb`` package, a dependency where wheels exist: fork-safe, thread-safe, idle workers
sleep), else Numba's ``workqueue`` (fork-safe, not thread-safe: at most one thread of the process is in
a parallel region at a time, the others run the serial twin). Every parallel kernel is a
:class:`ParallelKernel`: below :data:`PARALLEL_MIN_BLOCKS` blocks of work, or with one thread, the call
goes to a serial twin compiled from the same source and no parallel region is entered.

Start-up (issue 16). Importing Numba costs a few hundred milliseconds and every dispatcher's first call
loads its cache, so nothing here imports Numba until a kernel is first called: :func:`kernel` returns a
:class:`LazyKernel`, which makes its ``numba.njit`` dispatcher on first use. Inside another kernel a
LazyKernel is typed as its dispatcher (Numba's ``_numba_type_`` protocol), so kernels call each other as
before. ``import fdjpeg``, ``read_header``, ``info`` and ``check`` therefore never import Numba.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import types

_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

#: Work (8x8 blocks: 4096 = one 512x512 plane) below which a kernel runs serially on the calling thread.
#: Waking the workers costs tens of microseconds on a quiet machine and milliseconds when other
#: processes hold the cores; for a 224x224 image that is more than the whole job.
PARALLEL_MIN_BLOCKS = 4096

#: TBB_INTERFACE_VERSION that Numba's TBB layer needs (oneTBB 2021.6).
_TBB_MIN_INTERFACE = 12060
_TBB_NAME = {"win32": "tbb12.dll", "darwin": "libtbb.12.dylib"}.get(sys.platform, "libtbb.so.12")


def _tbb_library_paths():
    """Where pip's ``tbb`` wheel puts the library: <prefix>/lib, else wherever its RECORD says. The wheel
    installs into the environment's lib directory, which the dynamic loader does not search (numba
    issue 6108)."""
    path = os.path.join(sys.prefix, "lib", _TBB_NAME)
    if os.path.isfile(path):
        yield path
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("tbb")
    except PackageNotFoundError:
        return
    for f in dist.files or ():
        if f.name == _TBB_NAME and os.path.isfile(dist.locate_file(f)):
            yield str(dist.locate_file(f))


def _load_tbb() -> bool:
    """Make a usable libtbb loadable by its bare name (as Numba loads it); True if one is."""
    lib = None
    try:
        lib = ctypes.CDLL(_TBB_NAME)
    except OSError:
        for path in _tbb_library_paths():
            try:  # once loaded, the loader resolves Numba's tbbpool dependency to this copy by its soname
                lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError:
                continue
    if lib is None:
        return False
    try:
        version = lib.TBB_runtime_interface_version
    except AttributeError:
        return False
    version.restype = ctypes.c_int
    if version() < _TBB_MIN_INTERFACE:
        return False
    try:
        from numba.np.ufunc import tbbpool  # noqa: F401  (Numba's TBB layer, linked against this library)
    except ImportError:
        return False
    return True


_NUMBA = None
_LOAD_LOCK = threading.RLock()
_CHOSEN_LAYER = None
_ON_LOAD = []


def _numba():
    """The ``numba`` module, imported (and the threading layer chosen) on first use."""
    global _NUMBA, _CHOSEN_LAYER
    if _NUMBA is None:
        with _LOAD_LOCK:
            if _NUMBA is None:
                import numba

                _NUMBA = numba
                _CHOSEN_LAYER = _configure_threading()
                callbacks = _ON_LOAD[:]
                _ON_LOAD.clear()
                for callback in callbacks:
                    callback()
    return _NUMBA


def _compile_lock():
    """The lock held while a dispatcher is made or a boundary compiled: Numba's own compiler lock (a
    reentrant lock; Numba is loaded by then). Making a dispatcher may compile (a boundary's target), and
    a compilation in another thread, which holds Numba's lock, may type one of our kernels and so make
    its dispatcher: with a lock of our own taken first, the two threads would wait on each other
    forever (a cold-cache decode whose worker thread compiles while the caller compiles did)."""
    try:
        from numba.core.compiler_lock import global_compiler_lock
    except ImportError:  # a Numba without it: ours (the deadlock above needs Numba's lock anyway)
        return _LOAD_LOCK
    return global_compiler_lock


def when_numba_loaded(callback) -> None:
    """Run ``callback()`` once Numba is imported through :func:`_numba` (now, if it already is)."""
    with _LOAD_LOCK:
        if _NUMBA is None:
            _ON_LOAD.append(callback)
            return
    callback()


def cancel_when_numba_loaded(callback) -> None:
    """Forget a :func:`when_numba_loaded` callback that has not run yet."""
    with _LOAD_LOCK:
        if callback in _ON_LOAD:
            _ON_LOAD.remove(callback)


def __getattr__(name):
    """``prange`` and ``CHOSEN_LAYER`` need Numba: importing them from here loads it."""
    if name == "prange":
        return _numba().prange
    if name == "CHOSEN_LAYER":
        _numba()
        return _CHOSEN_LAYER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _configure_threading() -> str | None:
    """Choose the threading layer before Numba starts its threads; returns the choice (None: not ours)."""
    import numba

    if (
        os.environ.get("NUMBA_THREADING_LAYER")
        or os.environ.get("NUMBA_THREADING_LAYER_PRIORITY")
        or str(numba.config.THREADING_LAYER).lower() != "default"
    ):
        return None  # the user's explicit choice (environment or .numba_config.yaml) wins
    if _launched_layer() is not None:
        return None  # another library already started Numba's threads; too late to choose
    choice = "tbb" if _load_tbb() else "workqueue"
    numba.config.THREADING_LAYER = choice
    return choice


def _launched_layer() -> str | None:
    """The threading layer Numba is running, or None before its first parallel region."""
    try:
        return _numba().threading_layer()
    except ValueError:
        return None


#: Held while this process runs a parallel region under a layer that is not thread-safe (workqueue).
_REGION_LOCK = threading.Lock()
_THREADSAFE_LAYERS = ("tbb", "omp")


class NumbaGlobal:
    """A placeholder for a Numba object that kernels use as a global (an intrinsic such as
    ``numba.cpython.unsafe.numbers.trailing_zeros``): ``trailing_zeros = NumbaGlobal("numba.cpython.unsafe.numbers",
    "trailing_zeros")`` keeps the module importable without Numba. Before a kernel of that module is
    compiled or loaded, :class:`LazyKernel` puts the real object in the module's globals."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def resolve(self):
        import importlib

        return getattr(importlib.import_module(self.module), self.name)


_RESOLVED_GLOBALS: set[int] = set()


def _resolve_globals(namespace: dict) -> None:
    """Swap every :class:`NumbaGlobal` in a module's globals for the object it stands for, and register
    the symbol of every :class:`BoundaryKernel` there and in the modules of the kernels it holds, and
    theirs (once per module): a cached kernel may call a boundary through kernels of other modules."""
    if id(namespace) in _RESOLVED_GLOBALS:
        return
    for key, value in list(namespace.items()):
        if isinstance(value, NumbaGlobal):
            namespace[key] = value.resolve()
    _RESOLVED_GLOBALS.add(id(namespace))  # before the boundaries: their targets may live in this module
    for value in list(namespace.values()):
        if isinstance(value, ParallelKernel):
            value = value.parallel
        elif isinstance(value, BoundaryKernel):
            value = value.target
        if isinstance(value, LazyKernel):
            _resolve_globals(value.py_func.__globals__)
    _ensure_boundaries(namespace)


def _ensure_boundaries(namespace: dict) -> None:
    """:meth:`BoundaryKernel.ensure` every boundary kernel in a module's globals."""
    for value in list(namespace.values()):
        if isinstance(value, BoundaryKernel):
            value.ensure()


class LazyKernel:
    """A ``numba.njit`` dispatcher made on first use: calling it, reading an attribute of the dispatcher
    (``py_func``, ``signatures``, ``inspect_asm``...) or typing it inside another kernel. Until then
    neither Numba nor the kernel's cache is touched. :attr:`loaded` is the dispatcher, or None."""

    def __init__(self, fn, options):
        self.py_func = fn
        self.loaded = None
        self._options = options
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__wrapped__ = fn

    def dispatcher(self):
        """The Numba dispatcher (made now if it is not yet)."""
        loaded = self.loaded
        if loaded is None:
            numba = _numba()
            with _compile_lock():
                if self.loaded is None:
                    _resolve_globals(self.py_func.__globals__)
                    self.loaded = numba.njit(**self._options)(self.py_func)
                loaded = self.loaded
        return loaded

    def __call__(self, *args, **kwargs):
        return (self.loaded or self.dispatcher())(*args, **kwargs)

    @property
    def _numba_type_(self):  # how Numba types this object when another kernel calls it
        return self.dispatcher()._numba_type_

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dispatcher(), name)

    def __repr__(self):
        return f"<fdjpeg kernel {self.__module__}.{self.__qualname__} ({'loaded' if self.loaded else 'not loaded'})>"


class BoundaryKernel:
    """A kernel that other kernels call through a symbol instead of carrying a copy of its code.

    Numba links the LLVM module of every kernel a kernel calls into the caller's and optimizes and
    compiles all of it again there (and a parallel kernel's ``prange`` body is a module of its own,
    linked into the kernel: twice). A large callee with several callers is therefore compiled several
    times on an empty cache. Calls from kernels to a BoundaryKernel instead declare the external symbol
    :attr:`symbol` and call it with Numba's calling convention (an intrinsic): LLVM neither sees its
    code nor inlines it. The symbol is the target kernel compiled (or loaded from its cache) once, for
    its one ``signature`` (arguments are converted to it as in any call), and registered with LLVM
    (``llvmlite.binding.add_symbol``) by :meth:`ensure`. Calls from Python go to the target kernel.

    A cached caller refers to the symbol, which must be registered before the caller loads: a module whose
    kernels call a BoundaryKernel must hold it as a global. The first :meth:`LazyKernel.dispatcher` of a
    module calls :meth:`ensure` for the boundaries of that module and of every module whose kernels it
    holds as globals, transitively (so a kernel of another module may call those callers). A boundary
    costs one call per call (no inlining): put it around work of many blocks, not in per-block loops."""

    def __init__(self, target: LazyKernel, signature: str):
        import hashlib

        self.target = target
        self.signature = signature
        digest = hashlib.sha1(signature.encode()).hexdigest()[:12]
        self.symbol = f"fdjpeg_boundary.{target.__module__}.{target.__qualname__}.{digest}"
        self.__doc__ = target.__doc__
        self.__name__ = target.__name__
        self.__qualname__ = target.__qualname__
        self.__module__ = target.__module__
        self._sig = None  # Numba's signature of the compiled target, once registered
        self._busy = False
        self._intrinsic = None

    def ensure(self):
        """Compile or load the target for its signature and register its symbol (once); returns the
        signature."""
        if self._sig is None:
            numba = _numba()
            with _compile_lock():
                if self._sig is None and not self._busy and not numba.config.DISABLE_JIT:
                    from llvmlite import binding
                    from numba.core.sigutils import normalize_signature

                    dispatcher = self.target.dispatcher()
                    self._busy = True  # the target may call the other boundaries of its module: those first
                    try:
                        _ensure_boundaries(self.target.py_func.__globals__)
                        dispatcher.compile(self.signature)
                    finally:
                        self._busy = False
                    cres = dispatcher.overloads[tuple(normalize_signature(self.signature)[0])]
                    address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
                    binding.add_symbol(self.symbol, address)
                    self._sig = cres.signature
        return self._sig

    def __call__(self, *args):
        return self.target(*args)

    @property
    def _numba_type_(self):  # how Numba types this object when a kernel calls it: an intrinsic's type
        if self._intrinsic is None:
            _numba()
            with _compile_lock():
                if self._intrinsic is None:
                    self._intrinsic = self._make_type()
        return self._intrinsic

    def _make_type(self):
        from numba.core import cgutils, types
        from numba.core.typing.templates import make_intrinsic_template

        sig = self.ensure()
        symbol = self.symbol

        def type_call(typingctx, args):
            if len(args) != len(sig.args):
                return None
            if not all(typingctx.can_convert(a, e) for a, e in zip(args, sig.args)):
                return None

            def codegen(context, builder, signature, values):
                conv = context.call_conv
                fn = cgutils.get_or_insert_function(
                    builder.module, conv.get_function_type(sig.return_type, sig.args), symbol
                )
                status, res = conv.call_function(builder, fn, sig.return_type, sig.args, values)
                with cgutils.if_unlikely(builder, status.is_error):
                    conv.return_status_propagate(builder, status)
                return res

            return sig, codegen

        # An intrinsic's definition names its arguments (Numba folds calls by its signature): one with
        # exactly the target's, made here.
        names = ", ".join(f"a{i}" for i in range(len(sig.args)))
        scope = {"type_call": type_call}
        exec(f"def {self.__name__}(typingctx, {names}):\n    return type_call(typingctx, ({names},))\n", scope)
        return types.Function(make_intrinsic_template(self, scope[self.__name__], self.__name__))

    def __repr__(self):
        return f"<fdjpeg boundary kernel {self.__module__}.{self.__qualname__} {self.signature}>"


def boundary(target: LazyKernel, signature: str) -> BoundaryKernel:
    """``target`` called from other kernels through a symbol (:class:`BoundaryKernel`), compiled once for
    ``signature`` (a Numba signature string)."""
    return BoundaryKernel(target, signature)


def kernel(fn=None, **extra):
    """``numba.njit`` with fdjpeg's options, made on first use; use as ``@kernel`` or ``@kernel(...)``.
    Parallel kernels use :func:`parallel_kernel`."""
    options = {**_OPTIONS, **extra}
    if fn is None:
        return lambda f: LazyKernel(f, options)
    return LazyKernel(fn, options)


def _serial_copy(fn):
    """The same code under another qualified name: Numba's cache files are named by it and do not record
    the ``parallel`` flag, so the twins must not share one."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + "__serial"
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return copy


class ParallelKernel:
    """A ``prange`` kernel compiled twice, parallel and serial (``prange`` is ``range`` there), each only
    when first used. A call runs the parallel one only when ``work(*args)`` (8x8 blocks) reaches
    :data:`PARALLEL_MIN_BLOCKS` and the calling thread has more than one Numba thread."""

    def __init__(self, fn, work, serial=None):
        self.parallel = LazyKernel(fn, {**_OPTIONS, "parallel": True})
        self.serial = serial if serial is not None else LazyKernel(_serial_copy(fn), dict(_OPTIONS))
        self.work = work
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    def __call__(self, *args):
        if use_threads(self.work(*args)):
            layer = _launched_layer()
            if layer in _THREADSAFE_LAYERS:
                return self.parallel(*args)
            if _REGION_LOCK.acquire(blocking=False):  # workqueue, or not started yet
                try:
                    return self.parallel(*args)
                finally:
                    _REGION_LOCK.release()
        return self.serial(*args)


def parallel_kernel(*, work, serial=None):
    """Decorator: a :class:`ParallelKernel` whose parallel size is ``work(*args)`` blocks; ``serial`` is an
    existing function with the same arguments to use instead of compiling a twin."""
    return lambda fn: ParallelKernel(fn, work, serial)


def num_threads() -> int:
    """Numba's thread count (imports Numba and starts its thread pool: call it only for large work)."""
    return _numba().get_num_threads()


def use_threads(work_blocks: int) -> bool:
    """Whether ``work_blocks`` 8x8 blocks of work are worth a parallel region on the calling thread."""
    return work_blocks >= PARALLEL_MIN_BLOCKS and _numba().get_num_threads() > 1
