"""singer-sdk standard target tests, against DuckDB and against PostgreSQL."""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import TargetTestRunner, get_target_test_class
from target_looker_warehouse.target import TargetLookerWarehouse

_StandardTests: t.Any = get_target_test_class(TargetLookerWarehouse, config={"dialect": "duckdb"})


class TestTargetDuckDB(_StandardTests):  # type: ignore[misc,valid-type]
    @pytest.fixture
    def runner(self, duckdb_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(target_class=TargetLookerWarehouse, config=duckdb_config)


class TestTargetPostgres(_StandardTests):  # type: ignore[misc,valid-type]
    @pytest.fixture
    def runner(self, postgres_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(target_class=TargetLookerWarehouse, config=postgres_config)

    def test_target_encoded_string_data(self, postgres_config: dict[str, t.Any]) -> None:  # type: ignore[override]
        # PostgreSQL text cannot hold NUL: the SDK's stream has three records carrying one.
        # They are set aside (never loaded with the character dropped) and the run says so.
        import io
        from importlib import resources

        from qbc_plugin_kit.dead_letters import DeadLetterStore
        from qbc_plugin_kit.failures import RecordsSetAside

        text = (resources.files("singer_sdk.testing") / "target_test_streams" / "encoded_string_data.singer").read_text(
            encoding="utf-8")
        target = TargetLookerWarehouse(config=postgres_config)
        with pytest.raises(RecordsSetAside):
            target.listen(io.StringIO(text))
        letters = DeadLetterStore(postgres_config["dead_letter_path"]).letters()
        assert sorted(letter.stream for letter in letters) == [
            "test_strings", "test_strings_in_arrays", "test_strings_in_objects"]
        assert all("NUL" in letter.reason for letter in letters)
