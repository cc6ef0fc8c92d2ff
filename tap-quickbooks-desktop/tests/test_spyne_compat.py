"""spyne_compat: spyne 2.14.0 imports and parses SOAP content types on every supported Python.

tests/test_pythons.py runs this file on 3.12 and 3.13 as well; the imports are checked in a fresh
interpreter, where nothing has loaded spyne (or cgi) before the package does.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from tap_quickbooks_desktop import spyne_compat

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def fresh_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_spyne_pin_is_the_version_the_layer_patches() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert f"spyne=={spyne_compat.PATCHED_SPYNE}" in dependencies
    assert metadata.version("spyne") == spyne_compat.PATCHED_SPYNE


def test_every_spyne_module_the_server_uses_imports_without_a_deprecation_warning() -> None:
    out = fresh_python(
        "import tap_quickbooks_desktop.server, spyne.util.six.moves.collections_abc as c, sys;"
        "print(c.MutableSet.__name__, 'cgi' in sys.modules)")
    # The stand-in cgi is gone again once spyne has loaded: no other import can pick it up.
    assert out == "MutableSet False"


def test_importing_spyne_first_is_what_breaks_on_new_pythons() -> None:
    """Without the layer (spyne imported before the package) 3.12+ fail as the issue reported."""
    result = subprocess.run([sys.executable, "-c", "import spyne.server.wsgi"],
                            capture_output=True, text=True, timeout=120, check=False)
    if sys.version_info >= (3, 12):
        assert "No module named 'spyne.util.six.moves'" in result.stderr
    else:
        assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(("header", "expected"), [
    ("text/xml; charset=utf-8", ("text/xml", {"charset": "utf-8"})),
    ("text/xml", ("text/xml", {})),
    ('application/soap+xml; Charset="UTF-8"; action="urn:x"',
     ("application/soap+xml", {"charset": "UTF-8", "action": "urn:x"})),
    ("text/xml;charset=", ("text/xml", {"charset": ""})),
    ("", ("", {})),
])
def test_parse_header_answers_as_cgi_parse_header_did(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert spyne_compat.parse_header(header) == expected
