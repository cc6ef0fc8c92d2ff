"""spyne 2.14.0 on Python 3.12 and 3.13: two upstream fixes spyne never released, applied on import.

spyne's last release (2.14.0, 2022) predates both fixes; they were merged upstream but never
shipped, and the design names spyne for the QBWC SOAP contract. pyproject pins
``spyne==PATCHED_SPYNE``: this module patches exactly that version and the WSDL contract tests
prove it on 3.11, 3.12 and 3.13 (tests/test_pythons.py). The package's ``__init__`` calls
:func:`install` so it runs before any spyne module is imported.

1. spyne vendors an old ``six`` whose meta-path importer has only ``find_module``/``load_module``.
   Python 3.12 dropped that fallback (PEP 451 loaders only), so ``spyne.util.six.moves`` cannot
   be found ("No module named 'spyne.util.six.moves'"). We add ``find_spec``, ``create_module``
   and ``exec_module`` to the importer, the three methods six 1.16 itself added.
2. ``spyne.server.wsgi`` and ``spyne.protocol.soap.soap11`` ``import cgi`` for ``parse_header``
   only; Python 3.13 removed ``cgi`` (PEP 594). While those modules execute, a stand-in ``cgi``
   holding ``parse_header`` (built on ``email.message``, the replacement the 3.11 ``cgi`` docs
   name) sits in ``sys.modules``; it is taken out afterwards, so no other import sees it. The
   stand-in is used on 3.11 and 3.12 as well (one code path on every Python, and no
   "'cgi' is deprecated" warning), unless the real ``cgi`` is already loaded.

The six patch is feature-detected: on 3.11, or on a spyne that has the fix, it adds nothing.
"""

from __future__ import annotations

import contextlib
import email.message
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from typing import Any

PATCHED_SPYNE = "2.14.0"

_SIX = "spyne.util.six"
# Every spyne 2.14.0 module with a top-level `import cgi` (the twisted one is never loaded here,
# but a user's own spyne import through this package should behave the same).
_CGI_USERS = frozenset({"spyne.server.wsgi", "spyne.protocol.soap.soap11", "spyne.server.twisted.http"})


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """``cgi.parse_header``: ``'text/xml; charset=utf-8'`` -> ``('text/xml', {'charset': 'utf-8'})``."""
    message = email.message.Message()
    message["content-type"] = line
    params = message.get_params() or [("", "")]
    main, _ = params[0]
    return main, {name: value for name, value in params[1:] if isinstance(value, str)}


@contextlib.contextmanager
def _cgi_stand_in() -> Iterator[None]:
    if "cgi" in sys.modules:
        yield  # someone already imported the real one (Python < 3.13)
        return
    stand_in = types.ModuleType("cgi", "parse_header only, for spyne 2.14.0 (cgi left Python in 3.13).")
    stand_in.parse_header = parse_header  # type: ignore[attr-defined]
    sys.modules["cgi"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("cgi") is stand_in:
            del sys.modules["cgi"]


def _add_pep451_methods(importer_class: type) -> None:
    if "find_spec" in vars(importer_class):
        return

    def find_spec(self: Any, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if fullname in self.known_modules:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self: Any, spec: ModuleSpec) -> types.ModuleType:
        module: types.ModuleType = self.load_module(spec.name)
        return module

    def exec_module(self: Any, module: types.ModuleType) -> None:
        """load_module already returned a finished module."""

    importer_class.find_spec = find_spec  # type: ignore[attr-defined]
    importer_class.create_module = create_module  # type: ignore[attr-defined]
    importer_class.exec_module = exec_module  # type: ignore[attr-defined]


class _PatchingLoader(importlib.abc.Loader):
    """Runs spyne's own loader, with the patch its module needs around or after it."""

    def __init__(self, loader: importlib.abc.Loader, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        if self._name == _SIX:
            self._loader.exec_module(module)
            _add_pep451_methods(module._SixMetaPathImporter)
            return
        with _cgi_stand_in():
            self._loader.exec_module(module)


class _SpyneFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: types.ModuleType | None = None) -> ModuleSpec | None:
        if fullname != _SIX and fullname not in _CGI_USERS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, fullname)
        return spec


def install() -> None:
    """Put the patching finder first on ``sys.meta_path`` (once); must run before spyne imports."""
    if not any(isinstance(finder, _SpyneFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SpyneFinder())
