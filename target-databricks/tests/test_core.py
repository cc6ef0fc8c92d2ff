"""singer-sdk's standard target tests, run against the local Spark SQL warehouse."""

from __future__ import annotations

import typing as t

import pytest
from conftest import letters
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from target_databricks.target import TargetDatabricks

_StandardTests = get_target_test_class(TargetDatabricks, config={})


@pytest.mark.e2e
class TestTargetDatabricks(_StandardTests):  # type: ignore[misc, valid-type]
    """Each standard test gets the session's engine and a schema of its own."""

    @pytest.fixture(autouse=True)
    def nothing_dead_lettered(self, target_config: dict[str, t.Any]) -> t.Iterator[None]:
        """A standard test only checks that the target did not crash; a batch quietly sent
        to the dead-letter store would pass it, so that is checked here."""
        yield
        assert letters(target_config) == []

    @pytest.fixture
    def runner(self, target_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(TargetDatabricks, config=target_config)
