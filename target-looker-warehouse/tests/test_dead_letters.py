"""A batch the warehouse refuses is kept durably and can be replayed; transient errors retry."""


from __future__ import annotations

import json
import pathlib
import typing as t
from decimal import Decimal

import pytest
import sqlalchemy as sa
from target_looker_warehouse import dialects
from target_looker_warehouse.cli import main
from target_looker_warehouse.dead_letter import DeadLetterStore

from tests.qb_records import singer_lines
from tests.target_runner import query, raw, run_target


def _bills(n: int) -> list[dict[str, t.Any]]:
    return [
        {"company_id": "9130", "edition": "qbo", "id": str(i), "updated_at": "2026-11-02T09:00:00-08:00",
         "sync_token": 1, "total_amount": Decimal("12.34"), "balance": Decimal("12.34"), "txn_date": "2026-11-01",
         "due_date": "2026-11-15", "vendor_id": "V1"}
        for i in range(n)
    ]


class _Refusal:
    """Makes the warehouse refuse bulk loads ``failures`` times, like a dropped permission would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, error: Exception, failures: int) -> None:
        self.remaining = failures
        self.calls = 0
        originals = {name: cls.bulk_load for name, cls in dialects.DIALECTS.items()}

        def make(name: str) -> t.Callable[..., None]:
            def bulk_load(dialect: t.Any, *args: t.Any, **kwargs: t.Any) -> None:
                self.calls += 1
                if self.remaining > 0:
                    self.remaining -= 1
                    raise error
                originals[name](dialect, *args, **kwargs)

            return bulk_load

        for name, cls in dialects.DIALECTS.items():
            monkeypatch.setattr(cls, "bulk_load", make(name))


def _permission_error() -> Exception:
    return sa.exc.ProgrammingError("INSERT", {}, Exception("permission denied for table bills"))


def test_refused_batch_is_kept_and_the_run_goes_on(
    warehouse_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {**warehouse_config, "dead_letter_enabled": True}
    _Refusal(monkeypatch, _permission_error(), failures=1)
    target, stdout = run_target(config, singer_lines({"bills": _bills(3)}, state={"bookmark": 1}))
    letters = DeadLetterStore(config["dead_letter_path"]).pending()
    assert [(x.stream, len(x.records)) for x in letters] == [("bills", 3)]
    assert "permission denied" in letters[0].error
    assert letters[0].records[0]["total_amount"] == Decimal("12.34")
    assert target.dead_lettered_batches == [letters[0].id]
    assert stdout.strip().endswith('{"bookmark": 1}')
    assert query(config, f"SELECT COUNT(*) FROM {raw(config, 'bills')}") == [(0,)]


def test_replay_loads_dead_letters_once(
    warehouse_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    config = {**warehouse_config, "dead_letter_enabled": True}
    refusal = _Refusal(monkeypatch, _permission_error(), failures=1)
    run_target(config, singer_lines({"bills": _bills(3)}))
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    with pytest.raises(SystemExit) as first:
        main(["replay", "--config", str(config_file)])
    assert first.value.code == 0
    rows = query(config, f"SELECT id, total_amount, _sdc_source FROM {raw(config, 'bills')} ORDER BY id")
    assert rows == [(str(i), Decimal("12.34"), "qbo:9130") for i in range(3)]
    assert DeadLetterStore(config["dead_letter_path"]).pending() == []
    # The replay also rebuilt the model from the now complete raw data.
    assert query(config, f'SELECT COUNT(*) FROM "{config.get("model_schema", "finance")}"."ap_aging"') == [(3,)]

    calls = refusal.calls
    with pytest.raises(SystemExit) as second:
        main(["replay", "--config", str(config_file)])
    assert second.value.code == 0
    assert refusal.calls == calls, "nothing left to replay"


def test_replay_that_fails_again_keeps_the_letter(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    config = {**duckdb_config, "dead_letter_enabled": True}
    _Refusal(monkeypatch, _permission_error(), failures=2)
    run_target(config, singer_lines({"bills": _bills(2)}))
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as replay:
        main(["replay", "--config", str(config_file)])
    assert replay.value.code == 1
    assert len(DeadLetterStore(config["dead_letter_path"]).pending()) == 1


def test_transient_connection_error_is_retried_not_dead_lettered(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {**duckdb_config, "dead_letter_enabled": True}
    monkeypatch.setattr("target_looker_warehouse.sinks.time.sleep", lambda _s: None)
    dropped = sa.exc.OperationalError("COPY", {}, Exception("server closed the connection unexpectedly"))
    refusal = _Refusal(monkeypatch, dropped, failures=2)
    run_target(config, singer_lines({"bills": _bills(2)}))
    assert refusal.calls == 3
    assert DeadLetterStore(config["dead_letter_path"]).pending() == []
    assert query(config, f"SELECT COUNT(*) FROM {raw(config, 'bills')}") == [(2,)]


def test_with_dead_letters_disabled_a_refused_batch_fails_the_run(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _Refusal(monkeypatch, _permission_error(), failures=1)
    with pytest.raises(sa.exc.ProgrammingError):
        run_target({**duckdb_config, "dead_letter_enabled": False}, singer_lines({"bills": _bills(1)}))


def test_value_too_precise_for_the_column_is_refused_not_rounded(duckdb_config: dict[str, t.Any]) -> None:
    config = {**duckdb_config, "dead_letter_enabled": True}
    bills = _bills(1)
    bills[0]["total_amount"] = Decimal("1.00000000001")
    run_target(config, singer_lines({"bills": bills}))
    (letter,) = DeadLetterStore(config["dead_letter_path"]).pending()
    assert "decimal_scale" in letter.error
    assert letter.records[0]["total_amount"] == Decimal("1.00000000001")


def test_replay_reads_settings_from_the_environment_like_meltano_invoke(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {**duckdb_config, "dead_letter_enabled": True}
    _Refusal(monkeypatch, _permission_error(), failures=1)
    run_target(config, singer_lines({"bills": _bills(2)}))
    for key, value in config.items():
        monkeypatch.setenv(f"TARGET_LOOKER_WAREHOUSE_{key.upper()}", str(value).lower() if isinstance(value, bool) else str(value))
    with pytest.raises(SystemExit) as replay:
        main(["replay"])
    assert replay.value.code == 0
    assert query(config, f"SELECT COUNT(*) FROM {raw(config, 'bills')}") == [(2,)]


def test_deadlock_is_transient_but_a_type_error_is_not() -> None:
    from target_looker_warehouse.sinks import is_transient

    assert is_transient(sa.exc.OperationalError("UPDATE", {}, Exception("deadlock detected")))
    assert not is_transient(sa.exc.DataError("COPY", {}, Exception("invalid input syntax for type numeric")))
    assert not is_transient(_permission_error())
