"""singer-sdk standard target tests, run against one Power BI sandbox for the module."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from sandboxes.powerbi import PowerBISandbox
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import (
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
)
from target_powerbi.target import TargetPowerBI

_STATE_DIR = Path(tempfile.mkdtemp(prefix="target-powerbi-core-"))
_SANDBOX = PowerBISandbox(workdir=_STATE_DIR / "sandbox").start()
atexit.register(_SANDBOX.stop)

SAMPLE_CONFIG = _SANDBOX.target_config(
    mirror_path=str(_STATE_DIR / "mirror.sqlite"),
    dead_letter_path=str(_STATE_DIR / "dead_letters"),
    backoff_base_seconds=0.01,
    backoff_max_seconds=0.05,
    # The suite sends a new stream, or a changed schema, to the same dataset test after test:
    # allow the target to rebuild or migrate it (test_dataset_schema.py covers the defaults).
    missing_table_action="recreate",
    schema_change_action="migrate",
)

# The SDK expects a record before its SCHEMA, or without its key, to end the run; the delivery
# contract sets it aside instead (test_delivery.py shows that).
CONTRACT_TESTS = SingerTestSuite(kind="target", tests=[
    test for test in target_tests.tests
    if test not in (TargetRecordBeforeSchemaTest, TargetRecordMissingKeyProperty)])
StandardTargetTests = get_target_test_class(TargetPowerBI, config=SAMPLE_CONFIG, include_target_tests=False,
                                            custom_suites=[CONTRACT_TESTS])


class TestTargetPowerBI(StandardTargetTests):  # type: ignore[misc,valid-type]
    """Standard Target Tests."""
