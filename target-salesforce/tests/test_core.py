"""singer-sdk standard target tests, run against one Salesforce sandbox for the module."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from sandboxes.salesforce import SalesforceSandbox
from singer_sdk.testing import get_target_test_class
from target_salesforce.target import TargetSalesforce

_STATE_DIR = Path(tempfile.mkdtemp(prefix="target-salesforce-core-"))
_SANDBOX = SalesforceSandbox(workdir=_STATE_DIR / "sandbox").start()
atexit.register(_SANDBOX.stop)

SAMPLE_CONFIG = _SANDBOX.target_config(
    dead_letter_path=str(_STATE_DIR / "dead_letters"),
    backoff_base_seconds=0.01,
    backoff_max_seconds=0.05,
    bulk_poll_seconds=0.05,
)

StandardTargetTests = get_target_test_class(TargetSalesforce, config=SAMPLE_CONFIG)


class TestTargetSalesforce(StandardTargetTests):  # type: ignore[misc,valid-type]
    """Standard Target Tests."""
