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
                                                      typed_accepts: list[str]) -> None:
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
    if typed_accepts:
        # The typed path took the records it can vouch for, and only those.
        assert sorted(line.split('"id": "')[1][:2] for line in typed_accepts) == ["03", "08", "09", "11", "13", "16"]
