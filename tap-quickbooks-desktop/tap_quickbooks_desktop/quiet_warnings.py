"""Library warnings a user cannot act on, kept off every Desktop start.

spyne 2.14 (the SOAP server QBWC talks to) was written for older Pythons: importing it warns
about invalid escape sequences, deprecated stdlib modules and ``pkg_resources`` (six lines on
Python 3.12 before anything of ours runs). They say nothing about the user's setup, so they are
ignored for spyne's own modules only; any other library's warnings still show.
"""

from __future__ import annotations

import warnings

# The module a warning is attributed to: spyne's dotted name, or for warnings raised while
# compiling its sources (SyntaxWarning), the file path minus ".py".
SPYNE_MODULES = r"(.*[/\\])?spyne([./\\].*)?$"


def silence_library_warnings() -> None:
    """Idempotent: ``warnings.filterwarnings`` does not add a filter twice."""
    warnings.filterwarnings("ignore", module=SPYNE_MODULES)
    warnings.filterwarnings("ignore", message=r".*spyne.*")
    # spyne's vendored six registers an old-style import hook; the import system (not spyne)
    # is blamed for "_SixMetaPathImporter.find_spec() not found" and the like.
    warnings.filterwarnings("ignore", message=r"_SixMetaPathImporter", category=ImportWarning)
