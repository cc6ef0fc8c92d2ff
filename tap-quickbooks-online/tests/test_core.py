"""The singer-sdk standard tap tests, run against a QuickBooks Online sandbox company."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sandboxes.qbo import QBOSandbox, RealmSpec
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_quickbooks_online.tap import TapQuickBooksOnline

from .conftest import REALM, make_config

# The SDK builds the test class at import time, so the sandbox starts here (not in a fixture)
# and stops at interpreter exit.
_KEY_ENV = "TAP_QBO_CORE_TEST_KEY"
os.environ[_KEY_ENV] = Fernet.generate_key().decode()
_WORKDIR = Path(tempfile.mkdtemp(prefix="tap-qbo-core-"))
_SANDBOX = QBOSandbox(realms=[RealmSpec(REALM, seed=42, transactions=200)], data_dir=_WORKDIR / "sandbox").start()
_CONFIG = make_config(_SANDBOX, _WORKDIR, token_store_key_env=_KEY_ENV)

# deleted_records is empty on a first (query) sync by nature: deletions come from CDC runs,
# which test_sync_modes.py covers.
TestTapQuickBooksOnline = get_tap_test_class(
    tap_class=TapQuickBooksOnline,
    config=_CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["deleted_records"]),
)


@pytest.fixture(scope="session", autouse=True)
def _stop_core_sandbox():
    yield
    _SANDBOX.stop()
