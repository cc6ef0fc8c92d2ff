"""A run's log holds what this target says, not databricks-sql-connector's chatter: one INFO line
per HTTP round trip (1,500 lines for a 200-transaction company) and, where pyarrow is not
installed, a WARNING about Arrow fetches this target never makes."""

from __future__ import annotations

import logging
import subprocess
import sys

import target_databricks  # noqa: F401  # its import sets the connector's loggers up


def test_the_connectors_per_request_info_lines_are_left_out_and_its_warnings_kept(caplog):
    with caplog.at_level(logging.INFO):  # the run's level: the SDK logs at INFO
        logging.getLogger("databricks.sql.auth.retry").info("Received status code 200 for POST request")
        logging.getLogger("databricks.sql.auth.retry").warning("a connector warning")
    assert [r.getMessage() for r in caplog.records] == ["a connector warning"]


def test_the_pyarrow_import_warning_is_left_out_but_another_connector_warning_shows():
    # A fresh interpreter where pyarrow cannot be imported, as in a plain install of the target.
    code = ("import sys, logging; sys.modules['pyarrow'] = None; logging.basicConfig(level=logging.INFO); "
            "import target_databricks.connector, databricks.sql.client; "
            "logging.getLogger('databricks.sql.client').warning('another connector warning')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "pyarrow is not installed" not in done.stderr
    assert "another connector warning" in done.stderr
