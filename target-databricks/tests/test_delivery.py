"""The delivery contract (docs/delivery-contract.md) through the `target-databricks` command.

Systemic failures stop the run (exit 1, no STATE, a last line naming the setting or file);
a record the warehouse cannot hold is set aside alone, exactly as it arrived, while its
neighbours land and STATE is emitted; `replay` and the next run re-send what was set aside.
"""

from __future__ import annotations

import json
import socket
import typing as t
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import letters, run_cli

pytestmark = pytest.mark.e2e

SCHEMA = json.dumps({
    "type": "SCHEMA", "stream": "invoices", "key_properties": ["company_id", "id"],
    "schema": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "id": {"type": "string"},
        # what singer-sdk SQL taps emit for a NUMERIC(p,2) column
        "total_amount": {"type": ["number", "null"], "multipleOf": 0.01},
        "memo": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"}}}})
STATE = '{"type":"STATE","value":{"bookmarks":{"invoices":{"replication_key_value":"2026-11-02"}}}}'


def invoice(id_: str, amount: str, memo: str = "") -> str:
    """A RECORD line as a tap writes it; ``amount`` is spliced in as written (NaN, 40 digits)."""
    memo_json = json.dumps(memo, ensure_ascii=False)
    return ('{"type":"RECORD","stream":"invoices","record":{"company_id":"c1","id":"' + id_
            + '","total_amount":' + amount + ',"memo":' + memo_json
            + ',"updated_at":"2026-11-02T10:00:00-05:00"}}')


def stored(sql: t.Callable[..., list[t.Any]], config: dict[str, t.Any]) -> dict[str, t.Any]:
    name = f"`{config['catalog']}`.`{config['default_target_schema']}`.`invoices`"
    return {row[0]: row[1] for row in sql(f"SELECT id, total_amount FROM {name}")}


def tables(sql: t.Callable[..., list[t.Any]], config: dict[str, t.Any]) -> list[str]:
    sql(f"CREATE SCHEMA IF NOT EXISTS `{config['catalog']}`.`{config['default_target_schema']}`")
    return [row[1] for row in sql(f"SHOW TABLES IN `{config['catalog']}`.`{config['default_target_schema']}`")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


GOOD = [SCHEMA, invoice("1", "10.10"), invoice("2", "20.20"), STATE]


@pytest.mark.parametrize("case", ["http_path", "ca_bundle", "server_hostname", "access_token"])
def test_a_run_that_cannot_deliver_stops_with_no_state_and_names_the_setting(
        case: str, target_config: dict[str, t.Any], sql: t.Callable[..., list[t.Any]],
        tmp_path: Path) -> None:
    wrong = {
        "http_path": "/sql/1.0/warehouses/no-such-warehouse",
        "ca_bundle": str(tmp_path / "missing-ca.pem"),
        "server_hostname": f"127.0.0.1:{_free_port()}",
        "access_token": "dapi-wrong-token-0123",
    }[case]
    run = run_cli({**target_config, case: wrong}, tmp_path, GOOD)
    assert run.returncode == 1
    assert run.states == []  # Meltano saves no bookmark: the next run reads the data again
    assert case in run.last_line and "Fix:" in run.last_line
    if case == "access_token":
        assert wrong not in run.stderr
    else:
        assert wrong in run.last_line
    assert letters(target_config) == []  # nothing was the records' fault
    assert "invoices" not in tables(sql, target_config)


def test_a_warehouse_refusing_every_statement_stops_the_run(
        target_config: dict[str, t.Any], databricks_faults: t.Any, tmp_path: Path) -> None:
    # HTTP 400 on every statement: not transient, not attributable to a record.
    databricks_faults.fail_next(100, 400, method="ExecuteStatement")
    run = run_cli(target_config, tmp_path, [SCHEMA, *(invoice(str(i), "1.00") for i in range(4)), STATE])
    databricks_faults.clear()
    assert run.returncode == 1
    assert run.states == []
    assert "refused the whole batch of 4 records, and 3 of its records alone" in run.last_line
    assert letters(target_config) == []


def test_only_the_records_the_warehouse_cannot_hold_are_set_aside_exactly_as_sent(
        target_config: dict[str, t.Any], sql: t.Callable[..., list[t.Any]], tmp_path: Path) -> None:
    bad = {
        "nan": invoice("2", "NaN"),
        "huge": invoice("3", "1234567890123456789012345678901234567890"),  # DECIMAL(38,10) holds 28
        "cents": invoice("4", "0.001"),  # not a multiple of 0.01
        "unicode": invoice("5", "Infinity", "café ✓ \u2028"),
        "not json": '{"type":"RECORD","stream":"invoices","record":{"id":',
    }
    lines = [SCHEMA, invoice("1", "10.10"), *bad.values(), invoice("6", "0.30"), STATE]
    run = run_cli(target_config, tmp_path, lines)

    assert run.returncode == 1
    assert run.states == [json.loads(STATE)["value"]]
    assert stored(sql, target_config) == {"1": Decimal("10.10"), "6": Decimal("0.30")}
    kept = letters(target_config)
    assert sorted(letter.line for letter in kept) == sorted(bad.values())
    reasons = {letter.line: letter.reason for letter in kept}
    assert "total_amount" in reasons[bad["nan"]] and "NaN" in reasons[bad["nan"]]
    assert "28 integer digits" in reasons[bad["huge"]]
    assert "multiple of 0.01" in reasons[bad["cents"]]
    assert "not JSON" in reasons[bad["not json"]]
    assert "replay --list" in run.last_line

    # The same input again with on_data_failure: warn. The letters are re-sent first and
    # refused again; the records that arrive again keep their one letter each.
    again = run_cli({**target_config, "on_data_failure": "warn"}, tmp_path, lines)
    assert again.returncode == 0
    assert again.states == [json.loads(STATE)["value"]]
    assert "set aside" in again.stderr and "replay --list" in again.stderr
    assert sorted(letter.line for letter in letters(target_config)) == sorted(bad.values())
    assert stored(sql, target_config) == {"1": Decimal("10.10"), "6": Decimal("0.30")}


def test_replay_lists_letters_byte_for_byte_loads_the_fixed_and_keeps_the_unfixable(
        target_config: dict[str, t.Any], sql: t.Callable[..., list[t.Any]], tmp_path: Path) -> None:
    big = invoice("big", "1.00", "x" * 1_050_000)  # over a statement's 1 MB of native parameters
    nan = invoice("nan", "NaN")
    run = run_cli(target_config, tmp_path, [SCHEMA, invoice("1", "1.00"), big, nan, STATE])
    assert run.returncode == 1
    assert "staging: volume" in next(letter.reason for letter in letters(target_config)
                                     if letter.line == big)

    listed = run_cli(target_config, tmp_path, replay=["--list"])
    assert listed.returncode == 0
    assert sorted(json.loads(line)["line"] for line in listed.stdout.splitlines()) == sorted([big, nan])
    dry = [json.loads(line) for line in run_cli(target_config, tmp_path, replay=["--dry-run"]).stdout.splitlines()]
    assert sorted((d["would_pass"], "NaN" in (d["reason"] or "")) for d in dry) == [(False, True), (True, False)]

    # The fix the reason names: inline parameters carry no 1 MB cap.
    replayed = run_cli({**target_config, "parameter_style": "inline"}, tmp_path, replay=[])
    assert replayed.returncode == 1  # the NaN letter is still pending
    assert json.loads(replayed.stdout.splitlines()[-1]) == {"replayed": 1, "still_pending": 1}
    assert "refused again" in replayed.last_line
    assert set(stored(sql, target_config)) == {"1", "big"}  # never a NULL for the NaN
    (pending,) = letters(target_config)
    assert (pending.line, pending.attempts) == (nan, 2)


def test_each_run_first_resends_the_letters_still_pending(
        target_config: dict[str, t.Any], sql: t.Callable[..., list[t.Any]], tmp_path: Path) -> None:
    big = invoice("big", "1.00", "x" * 1_050_000)
    nan = invoice("nan", "NaN")
    run_cli(target_config, tmp_path, [SCHEMA, big, nan, invoice("1", "1.00"), STATE])
    config = {**target_config, "parameter_style": "inline", "dead_letter_retry_attempts": 2}

    second = run_cli(config, tmp_path, [SCHEMA, invoice("2", "2.00"), STATE])
    assert second.returncode == 0  # nothing new was set aside
    assert "1 record(s) from the dead-letter store delivered" in second.stderr
    assert set(stored(sql, target_config)) == {"1", "2", "big"}
    (pending,) = letters(target_config)
    assert (pending.line, pending.attempts) == (nan, 2)

    # Tried dead_letter_retry_attempts times: only `replay` sends it now.
    third = run_cli(config, tmp_path, [SCHEMA, invoice("3", "3.00"), STATE])
    assert third.returncode == 0
    assert "dead-letter store" not in third.stderr
    assert letters(target_config)[0].attempts == 2
