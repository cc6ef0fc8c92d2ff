"""What a Desktop user sees on the logs: spyne's import warnings kept out, session progress in."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

from tap_quickbooks_desktop.quiet_warnings import silence_library_warnings


def test_warnings_attributed_to_spyne_are_ignored_and_others_still_show():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_library_warnings()
        warnings.warn_explicit("invalid escape sequence '\\d'", SyntaxWarning,
                               "/venv/lib/python3.12/site-packages/spyne/util/six.py", 12,
                               module="/venv/lib/python3.12/site-packages/spyne/util/six")
        warnings.warn_explicit("a spyne user warning", UserWarning, "x.py", 1, module="spyne.util")
        warnings.warn_explicit("something else", UserWarning, "y.py", 1, module="othermodule")
        # Left to Python's default (hidden outside __main__) and to spyne_compat's own tests.
        warnings.warn_explicit("cgi is deprecated", DeprecationWarning, "z.py", 1, module="spyne.server.wsgi")
    assert [str(w.message) for w in caught] == ["something else", "cgi is deprecated"]


def test_desktop_start_prints_no_warning():
    done = subprocess.run([sys.executable, "-W", "default", "-c", "import tap_quickbooks_desktop.tap"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0
    assert "Warning" not in done.stderr, done.stderr


def test_a_start_under_meltano_that_compiles_spyne_prints_no_warning(tmp_path):
    # Meltano runs plugins with PYTHONWARNINGS=once; an empty bytecode cache makes Python compile
    # spyne from source, as every start does where PYTHONDONTWRITEBYTECODE is set.
    env = {**os.environ, "PYTHONWARNINGS": "once", "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", "import tap_quickbooks_desktop.tap"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_the_server_logs_each_session_progress_and_its_end(company, settings, start_server, web_connector, caplog):
    server = start_server({**settings, "streams": ["customers"]})
    with caplog.at_level(logging.INFO, logger="tap_quickbooks_desktop.qbwc_handler"):
        assert web_connector(server, company).run_once().outcome == "completed"
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("company acme: 100% (") for m in messages), messages
    assert any(m.startswith("company acme: QBWC session closed: OK:") for m in messages), messages
