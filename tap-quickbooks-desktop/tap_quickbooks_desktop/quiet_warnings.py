"""Library warnings a user cannot act on, kept off every Desktop start.

spyne 2.14 (the SOAP server QBWC talks to) was written for older Pythons: compiling it on 3.12+
warns about invalid escape sequences (SyntaxWarning, shown by default), and its vendored six's
import hook draws ImportWarnings. They say nothing about the user's setup, so they are ignored
for spyne's own modules only; any other library's warnings still show. DeprecationWarnings are
left alone: Python hides them outside ``__main__`` anyway, and spyne_compat's tests turn them
into errors to prove its layer works (filtering them here would make those tests unable to fail).
"""

from __future__ import annotations

import warnings

# The module a warning is attributed to: spyne's dotted name, or for warnings raised while
# compiling its sources (SyntaxWarning), the file path minus ".py".
SPYNE_MODULES = r"(.*[/\\])?spyne([./\\].*)?$"
_QUIETED = (SyntaxWarning, ImportWarning, UserWarning, RuntimeWarning, ResourceWarning)


def silence_library_warnings() -> None:
    """Idempotent: ``warnings.filterwarnings`` does not add a filter twice."""
    for category in _QUIETED:
        warnings.filterwarnings("ignore", category=category, module=SPYNE_MODULES)
    # On Python 3.11 the same invalid escapes are DeprecationWarnings, which Meltano shows: it runs
    # every plugin with PYTHONWARNINGS=once. Only when spyne is compiled at start (no bytecode:
    # PYTHONDONTWRITEBYTECODE, common in containers); the message keeps spyne_compat's tests able
    # to fail.
    warnings.filterwarnings("ignore", message=r"invalid escape sequence", category=DeprecationWarning,
                            module=SPYNE_MODULES)
    # spyne's vendored six registers an old-style import hook; the import system (not spyne)
    # is blamed for "_SixMetaPathImporter.find_spec() not found" and the like.
    warnings.filterwarnings("ignore", message=r"_SixMetaPathImporter", category=ImportWarning)
