"""singer-sdk standard tap tests, over a buffer filled by one sandbox QBWC session."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from sandboxes.qbwc import QuickBooksCompany
from singer_sdk.testing import get_tap_test_class
from tap_quickbooks_desktop.config import server_config
from tap_quickbooks_desktop.server import QbwcServer
from tap_quickbooks_desktop.tap import TapQuickBooksDesktop

from .conftest import base_settings, connector_for


def _buffer_with_one_session() -> dict:
    # get_tap_test_class needs its config at import time, before any fixture runs.
    workdir = Path(tempfile.mkdtemp(prefix="tap-qbd-core-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    company = QuickBooksCompany.generate(seed=11, transactions=150, path=workdir / "company.sqlite", tz="-08:00")
    company.control.delete("Invoice", company.control.ids("Invoice", limit=1)[0])
    settings = base_settings(workdir / "buffer.sqlite")
    with QbwcServer(server_config(settings)) as server:
        report = connector_for(server, company, workdir).run_once()
    assert report.outcome == "completed", report.errors
    return {"company": "acme", "buffer_path": settings["buffer_path"]}


TestTapQuickBooksDesktop = get_tap_test_class(
    tap_class=TapQuickBooksDesktop,
    config=_buffer_with_one_session(),
)
