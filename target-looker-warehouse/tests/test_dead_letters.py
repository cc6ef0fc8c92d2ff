"""The delivery contract in the warehouse target: systemic failures stop the run, a record the
warehouse cannot hold is set aside alone exactly as it arrived, and replay sends it again."""

from __future__ import annotations

import json
import pathlib
import typing as t
from decimal import Decimal

import pytest
import sqlalchemy as sa
from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.failures import RecordsSetAside, SystemicFailure
from target_looker_warehouse import dialects
from target_looker_warehouse.cli import main
from target_looker_warehouse.warehouse_errors import classify

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


def _letters(config: dict[str, t.Any]) -> list[t.Any]:
    return DeadLetterStore(config["dead_letter_path"]).letters()


def test_a_refused_permission_stops_the_run_with_no_state(
    warehouse_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _Refusal(monkeypatch, _permission_error(), failures=1)
    with pytest.raises(SystemicFailure) as stopped:
        run_target(warehouse_config, singer_lines({"bills": _bills(3)}, state={"bookmark": 1}))
    assert "permission" in str(stopped.value) and "Fix: grant" in str(stopped.value)
    assert "bookmark" not in str(stopped.value.__notes__), "no state past what was committed"
    assert _letters(warehouse_config) == [], "a systemic failure sets nothing aside"


def test_one_value_the_column_cannot_hold_sets_aside_that_record_only(warehouse_config: dict[str, t.Any]) -> None:
    bills = _bills(4)
    bills[2]["total_amount"] = Decimal("1.00000000001")  # 11 places: DECIMAL(38, 10) would round it
    text = singer_lines({"bills": bills}, state={"bookmark": 1})
    with pytest.raises(RecordsSetAside) as ended:
        run_target(warehouse_config, text)
    assert '{"bookmark": 1}' in str(ended.value.__notes__), "the rest was committed: state is emitted"
    rows = query(warehouse_config, f"SELECT id, total_amount FROM {raw(warehouse_config, 'bills')} ORDER BY id")
    assert rows == [("0", Decimal("12.34")), ("1", Decimal("12.34")), ("3", Decimal("12.34"))]
    (letter,) = _letters(warehouse_config)
    assert letter.key == {"company_id": "9130", "id": "2"}
    assert "decimal_scale" in letter.reason
    (sent,) = [line for line in text.splitlines() if '"id": "2"' in line]
    assert letter.line == sent, "kept byte for byte as it arrived"


def test_on_data_failure_warn_ends_the_same_run_with_exit_zero(warehouse_config: dict[str, t.Any]) -> None:
    bills = _bills(2)
    bills[0]["total_amount"] = Decimal("1" * 40)
    run_target({**warehouse_config, "on_data_failure": "warn"}, singer_lines({"bills": bills}))
    assert query(warehouse_config, f"SELECT id FROM {raw(warehouse_config, 'bills')}") == [("1",)]
    assert "cannot hold" in _letters(warehouse_config)[0].reason


def test_nan_is_set_aside_as_sent_and_replay_never_loads_it_as_null(
    duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = singer_lines({"bills": _bills(2)}).replace('"total_amount": 12.34', '"total_amount": NaN', 1)
    with pytest.raises(RecordsSetAside):
        run_target(duckdb_config, text)
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(duckdb_config))
    capsys.readouterr()
    with pytest.raises(SystemExit) as listed:
        main(["replay", "--list", "--config", str(config_file)])
    assert listed.value.code == 0
    (shown,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert '"total_amount": NaN' in shown["line"] and "NaN" in shown["reason"]
    with pytest.raises(SystemExit) as replayed:
        main(["replay", "--config", str(config_file)])
    assert replayed.value.code == 1, "a letter refused again keeps the replay failing"
    assert query(duckdb_config, f"SELECT COUNT(*) FROM {raw(duckdb_config, 'bills')}") == [(1,)]
    (letter,) = _letters(duckdb_config)
    assert letter.attempts == 2 and '"total_amount": NaN' in letter.line


def test_a_record_refused_once_is_resent_by_the_next_run(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = _Refusal(monkeypatch, sa.exc.DataError("COPY", {}, Exception("value too long for type")), failures=10)
    with pytest.raises(RecordsSetAside):
        run_target(duckdb_config, singer_lines({"bills": _bills(1)}))
    assert len(_letters(duckdb_config)) == 1
    refusal.remaining = 0
    run_target(duckdb_config, singer_lines({"vendors": []}))
    assert _letters(duckdb_config) == []
    assert query(duckdb_config, f"SELECT id FROM {raw(duckdb_config, 'bills')}") == [("0",)]


def test_transient_connection_error_is_retried_then_lands(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qbc_plugin_kit.delivery.time.sleep", lambda _s: None)
    dropped = sa.exc.OperationalError("COPY", {}, Exception("server closed the connection unexpectedly"))
    refusal = _Refusal(monkeypatch, dropped, failures=2)
    run_target(duckdb_config, singer_lines({"bills": _bills(2)}))
    assert refusal.calls == 3
    assert _letters(duckdb_config) == []
    assert query(duckdb_config, f"SELECT COUNT(*) FROM {raw(duckdb_config, 'bills')}") == [(2,)]


def test_replay_reads_settings_from_the_environment_like_meltano_invoke(
    duckdb_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = _Refusal(monkeypatch, sa.exc.DataError("COPY", {}, Exception("value too long for type")), failures=10)
    with pytest.raises(RecordsSetAside):
        run_target({**duckdb_config, "dead_letter_retry_attempts": 0}, singer_lines({"bills": _bills(1)}))
    refusal.remaining = 0
    for key, value in duckdb_config.items():
        monkeypatch.setenv(f"TARGET_LOOKER_WAREHOUSE_{key.upper()}", str(value).lower() if isinstance(value, bool) else str(value))
    with pytest.raises(SystemExit) as replay:
        main(["replay"])
    assert replay.value.code == 0
    assert query(duckdb_config, f"SELECT COUNT(*) FROM {raw(duckdb_config, 'bills')}") == [(1,)]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (sa.exc.OperationalError("UPDATE", {}, Exception("deadlock detected")), "transient"),
        (sa.exc.DataError("COPY", {}, Exception("invalid input syntax for type numeric")), "data"),
        (_permission_error(), "systemic"),
        (sa.exc.OperationalError("connect", {}, Exception('password authentication failed for user "x"')), "systemic"),
        (sa.exc.ProgrammingError("INSERT", {}, Exception("syntax error at or near")), "refused"),
    ],
)
def test_warehouse_errors_are_classified(error: Exception, kind: str) -> None:
    assert classify(error).kind.value == kind


def test_a_record_the_database_refuses_at_load_is_set_aside_with_its_line_as_it_arrived(
    warehouse_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch's input lines wait in a file until it is delivered: the one refused by the database
    # (not by the converters) comes back from there, byte for byte, non-ASCII text included.
    bills = _bills(5)
    bills[3]["vendor_id"] = "Größe 名前 refuse-me"
    originals = {name: cls.bulk_load for name, cls in dialects.DIALECTS.items()}

    def make(name: str) -> t.Callable[..., None]:
        def bulk_load(dialect: t.Any, connection: t.Any, staging: str, columns: t.Any, families: t.Any,
                      rows: t.Sequence[t.Any]) -> None:
            if any("refuse-me" in str(row) for row in rows):
                raise sa.exc.DataError("COPY", {}, Exception("invalid input syntax for type numeric"))
            originals[name](dialect, connection, staging, columns, families, rows)
        return bulk_load

    for name, cls in dialects.DIALECTS.items():
        monkeypatch.setattr(cls, "bulk_load", make(name))
    text = singer_lines({"bills": bills}, state={"bookmark": 1})
    with pytest.raises(RecordsSetAside):
        run_target(warehouse_config, text)
    rows = query(warehouse_config, f"SELECT id FROM {raw(warehouse_config, 'bills')} ORDER BY id")
    assert rows == [("0",), ("1",), ("2",), ("4",)]
    (letter,) = _letters(warehouse_config)
    (sent,) = [line for line in text.splitlines() if "refuse-me" in line]
    assert letter.line == sent
    assert letter.key == {"company_id": "9130", "id": "3"}


def test_a_version_the_order_cannot_read_sets_aside_that_record_only(warehouse_config: dict[str, t.Any]) -> None:
    # A flat stream, so every column has a fast converter: both records pass the converters and
    # only the version order (record-model.md) refuses them.
    schema = {"type": "object", "properties": {
        "company_id": {"type": "string"}, "id": {"type": "string"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]}, "amount": {"type": ["number", "null"]}}}
    records = [{"company_id": "9130", "id": str(i), "updated_at": "2026-11-02T09:00:00-08:00", "sync_token": 1,
                "amount": 1} for i in range(4)]
    records[1]["sync_token"] = -1
    records[2]["updated_at"] = "9999-12-31T23:00:00-05:00"  # year 10000 once taken to UTC
    lines = [json.dumps({"type": "SCHEMA", "stream": "deposits", "schema": schema, "key_properties": ["company_id", "id"]})]
    lines += [json.dumps({"type": "RECORD", "stream": "deposits", "record": r}) for r in records]
    with pytest.raises(RecordsSetAside):
        run_target(warehouse_config, "\n".join(lines) + "\n")
    rows = query(warehouse_config, f"SELECT id FROM {raw(warehouse_config, 'deposits')} ORDER BY id")
    assert rows == [("0",), ("3",)]
    reasons = sorted(letter.reason for letter in _letters(warehouse_config))
    assert "negative" in reasons[0] and "9999" in reasons[1]
