"""singer-sdk's standard target tests, run against the local Spark SQL warehouse."""

from __future__ import annotations

import typing as t
from importlib import resources

import pytest
from conftest import letters
from qbc_plugin_kit.failures import RecordsSetAside
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from target_databricks.target import TargetDatabricks

# The SDK expects these two streams to crash the run; under the delivery contract
# (docs/delivery-contract.md) the offending record is set aside alone, the rest lands.
SET_ASIDE_BY_THE_CONTRACT = {"record_before_schema": 1, "record_missing_key_property": 1}

_StandardTests = get_target_test_class(TargetDatabricks, config={})


@pytest.mark.e2e
class TestTargetDatabricks(_StandardTests):  # type: ignore[misc, valid-type]
    """Each standard test gets the session's engine and a schema of its own."""

    @pytest.fixture(autouse=True)
    def nothing_dead_lettered(self, target_config: dict[str, t.Any],
                              request: pytest.FixtureRequest) -> t.Iterator[None]:
        """A standard test only checks that the target did not crash; a record quietly set
        aside in the dead-letter store would pass it, so that is checked here."""
        yield
        expected = SET_ASIDE_BY_THE_CONTRACT.get(request.node.name.removeprefix("test_target_"), 0)
        assert len(letters(target_config)) == expected

    @staticmethod
    def _set_aside_alone(target_config: dict[str, t.Any], name: str) -> None:
        stream = resources.files("singer_sdk.testing.target_test_streams") / f"{name}.singer"
        lines = stream.read_text(encoding="utf-8").splitlines()
        target = TargetDatabricks(config=target_config, parse_env_config=False)
        with stream.open(encoding="utf-8") as singer_input, pytest.raises(RecordsSetAside):
            target.listen(file_input=singer_input)
        (letter,) = letters(target_config)
        assert letter.line in lines and '"RECORD"' in letter.line

    def test_target_record_before_schema(self, target_config: dict[str, t.Any]) -> None:
        self._set_aside_alone(target_config, "record_before_schema")

    def test_target_record_missing_key_property(self, target_config: dict[str, t.Any]) -> None:
        self._set_aside_alone(target_config, "record_missing_key_property")

    @pytest.fixture
    def runner(self, target_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(TargetDatabricks, config=target_config)
