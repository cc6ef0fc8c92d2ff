"""Records decoded typed (qbc_plugin_kit.typed_records) load exactly as records decoded as dicts.

The fixture's edge cases (exponents, negative zero, more places than the column keeps, a string
where a number is declared, NaN, a missing key property, escapes, non-ASCII text, extra
properties, nested values) run once with typed decoding and once with every record decoded as
a dict: the warehouse and the set-aside letters must be the same, and as the contract says.
"""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import typing as t
from decimal import Decimal

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.failures import RecordsSetAside
from target_looker_warehouse import sinks

from .target_runner import query, raw, run_target

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "typed_edge_cases.singer"


@pytest.fixture(params=["typed", "dicts"])
def typed_accepts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which records the typed path took (none when every record is decoded as a dict)."""
    taken: list[str] = []
    if request.param == "dicts":
        monkeypatch.setattr(sinks.WarehouseSink, "typed_fields", lambda self: None)
    take_typed_run = sinks.WarehouseSink.take_typed_run

    def spy(self: sinks.WarehouseSink, first: t.Any, records: t.Any, *args: t.Any) -> tuple[int, str | None]:
        # The lines the sink was offered, in order: it takes the first ``took`` of them.
        offered = [first[1]] if first is not None else []

        def watched() -> t.Iterator[tuple[t.Any, str]]:
            for item in records or ():
                offered.append(item[1])
                yield item

        took, declined = take_typed_run(self, first, watched() if records is not None else None, *args)
        taken.extend(offered[:took])
        return took, declined

    monkeypatch.setattr(sinks.WarehouseSink, "take_typed_run", spy)
    return taken


def test_edge_cases_load_the_same_typed_or_as_dicts(warehouse_config: dict[str, t.Any],
                                                      typed_accepts: list[str],
                                                      request: pytest.FixtureRequest) -> None:
    config = {**warehouse_config, "decimal_scale": 2}
    text = FIXTURE.read_text(encoding="utf-8")
    with pytest.raises(RecordsSetAside):
        run_target(config, text)
    rows = query(config, f"SELECT id, amount, qty, memo, paid, txn_date, updated_at FROM {raw(config, 'edge_lines')} "
                         "ORDER BY id")
    found = {row[0]: row[1:] for row in rows}
    assert sorted(found) == ["01", "02", "03", "05", "08", "09", "11", "13", "15", "16"]
    assert [found[i][0] for i in ("01", "02", "03", "05", "15", "16")] == [
        Decimal("12.34"), Decimal("100"), Decimal("0"), Decimal("12.34"), Decimal("100"), None]
    assert found["01"][1:4] == (3, "Consulting", True)
    assert found["08"][2] == "tab\there back\\slash é"
    assert found["11"][2] == "Größe 名前"
    assert [str(found[i][5].astimezone(dt.UTC)) for i in ("01", "13")] == [
        "2026-01-01 17:00:00+00:00", "2026-01-01 09:00:00+00:00"]  # the offset kept; none means UTC
    assert str(found["01"][4]) == "2026-01-02"
    (meta, tags), = query(config, f"SELECT meta, tags FROM {raw(config, 'edge_lines')} WHERE id = '01'")
    assert [json.loads(v) if isinstance(v, str) else v for v in (meta, tags)] == [{"a": 1.5, "b": [1, 2]}, ["x", "y"]]

    sent = {line.split('"id": "')[1][:2] if '"id": "' in line else "no id": line
            for line in text.splitlines() if '"RECORD"' in line}
    letters = {(letter.key or {}).get("id", "no id"): letter for letter in DeadLetterStore(config["dead_letter_path"]).letters()}
    assert sorted(letters) == ["04", "06", "10", "12", "14", "17", "18", "no id"]
    for key, letter in letters.items():
        assert letter.line == sent[key], "set aside exactly as it arrived"
    assert "more than 2 decimal places" in letters["04"].reason
    assert "cannot hold" in letters["14"].reason
    assert "NaN" in letters["10"].reason
    assert "no value for key property id" in letters["no id"].reason
    if request.node.callspec.params["typed_accepts"] == "typed":
        # The typed path took the records it can vouch for, and only those.
        assert sorted(line.split('"id": "')[1][:2] for line in typed_accepts) == ["03", "08", "09", "11", "13", "16"]


def _run_input(records: int) -> tuple[str, Decimal]:
    """One stream's run of ``records`` invoice lines broken by each kind of line that ends the
    sink's own loop (take_typed_run): a record the typed path declines (``1e2``), a blank line,
    another stream's record, a STATE message; then the 11th record again, newer. Returns the
    text and the sum of amounts the table must hold."""
    schema = {"type": "object", "properties": {
        "company_id": {"type": "string"}, "id": {"type": "string"}, "amount": {"type": ["number", "null"]},
        "memo": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}
    lines = [json.dumps({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["company_id", "id"]})
             for stream in ("run_lines", "other_lines")]
    amounts: dict[str, Decimal] = {}

    def record(stream: str, i: int, amount: str, updated: str = "2026-01-01T09:00:00-08:00") -> str:
        if stream == "run_lines":
            amounts[f"r{i:05d}"] = Decimal(amount)
        # The number as its JSON text (json.dumps of a Decimal is not possible, of a float not exact).
        return (f'{{"type": "RECORD", "stream": "{stream}", "record": {{"company_id": "1", "id": "r{i:05d}", '
                f'"amount": {amount}, "memo": "line {i}", "updated_at": "{updated}", "sync_token": 0, '
                '"_sdc_deleted_at": null}}')

    for i in range(records):
        lines.append(record("run_lines", i, "1e2" if i == 300 else f"{i}.{i % 100:02d}"))
        if i == 301:
            lines.append("")
        elif i == 900:
            lines.append(record("other_lines", i, "1.50"))
        elif i == 1500:
            lines.append(json.dumps({"type": "STATE", "value": {"bookmarks": {"run_lines": i}}}))
    lines.append(record("run_lines", 10, "7.77", "2026-02-01T09:00:00-08:00"))
    return "\n".join(lines) + "\n", sum(amounts.values(), Decimal(0))


def test_a_run_broken_by_each_kind_of_line_loads_each_record_once(warehouse_config: dict[str, t.Any],
                                                                   typed_accepts: list[str],
                                                                   request: pytest.FixtureRequest) -> None:
    records = 12_500  # two batches of 11,000 and 1,500: PostgreSQL streams the first from 10,000 rows
    text, total = _run_input(records)
    config = {**warehouse_config, "batch_size_rows": 11_000, "decimal_scale": 2}
    _, stdout = run_target(config, text)
    (count, keys, amount), = query(config, f"SELECT COUNT(*), COUNT(DISTINCT id), SUM(amount) FROM {raw(config, 'run_lines')}")
    assert (count, keys, amount) == (records, records, total)
    assert query(config, f"SELECT amount, memo FROM {raw(config, 'run_lines')} WHERE id IN ('r00010', 'r00300') "
                         "ORDER BY id") == [(Decimal("7.77"), "line 10"), (Decimal("100.00"), "line 300")]
    assert query(config, f"SELECT id, amount FROM {raw(config, 'other_lines')}") == [("r00900", Decimal("1.50"))]
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]  # the values of STATE messages
    assert states[-1] == {"bookmarks": {"run_lines": 1500}}
    if request.node.callspec.params["typed_accepts"] == "typed":
        # Every record but each stream's first (which makes the stream's sink) and the declined
        # one went the typed way, each once.
        taken = [json.loads(line)["record"]["id"] for line in typed_accepts]
        assert len(taken) == records - 1
        assert sorted(set(taken)) == sorted({f"r{i:05d}" for i in range(1, records)} - {"r00300"} | {"r00900"})
        assert taken.count("r00010") == 2
