"""Register fdjpeg as the imageio v3 plugin "fdjpeg" without importing imageio.

``import fdjpeg`` calls ``register()``. If imageio's plugin table (``imageio.config.plugins``) is
already loaded, the entry is added at once; otherwise a one-shot import hook adds it right after
imageio loads that module, so importing fdjpeg never pulls in imageio (or anything else) eagerly.
The entry itself is lazy too: imageio imports ``fdjpeg.imageio_plugin`` only when the plugin is used.
"""

from __future__ import annotations

import sys
from importlib.machinery import PathFinder

# The loader and the finder follow importlib's protocols without subclassing importlib.abc: importing
# that module pulls in importlib.resources and typing, a quarter of ``import fdjpeg``'s own time.

PLUGIN_NAME = "fdjpeg"
_TARGET = "imageio.config.plugins"


def _add(plugins_module) -> None:
    known = getattr(plugins_module, "known_plugins", None)
    config = getattr(plugins_module, "PluginConfig", None)
    if known is not None and config is not None and PLUGIN_NAME not in known:
        known[PLUGIN_NAME] = config(name=PLUGIN_NAME, class_name="FdjpegPlugin", module_name="fdjpeg.imageio_plugin")


class _Loader:
    """Runs imageio's own loader, then adds the entry and removes the hook."""

    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _add(module)
        _remove_hook()


class _Finder:
    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None  # an unusual install: let the normal machinery load it (call register() after)
        spec.loader = _Loader(spec.loader)
        return spec


def _remove_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]


def register() -> None:
    """Make ``plugin="fdjpeg"`` available to imageio (idempotent, cheap, imports nothing)."""
    loaded = sys.modules.get(_TARGET)
    if loaded is not None and hasattr(loaded, "known_plugins"):
        _add(loaded)
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
