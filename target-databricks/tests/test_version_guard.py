"""The MERGE's version guard, run on the local Spark engine over a table of cases: the SQL the
plugin kit generates for Databricks must agree with the kit's Python version order and with
the rule as written (docs/delivery-contract.md)."""

from __future__ import annotations

import typing as t

import pytest
from qbc_plugin_kit.version_order import supersedes
from target_databricks import merge_sql
from target_databricks.merge_sql import Column
from target_databricks.row_encoding import timestamp_text

pytestmark = pytest.mark.e2e

AT = "2026-11-02T11:00:00+00:00"
EARLIER = "2026-11-02T10:59:59.999999+00:00"
SAME_INSTANT_PACIFIC = "2026-11-02T03:00:00-08:00"
Version = dict[str, t.Any]


def v(updated_at: str | None = AT, sync_token: int | None = None, edit_sequence: str | None = None,
      deleted: bool = False) -> Version:
    return {"updated_at": updated_at, "sync_token": sync_token, "edit_sequence": edit_sequence,
            "_sdc_deleted_at": updated_at if deleted else None}


# (what the case shows, incoming, stored, whether incoming replaces stored)
CASES: list[tuple[str, Version, Version, bool]] = [
    ("a later instant wins over a higher sync_token", v(AT, 1), v(EARLIER, 9), True),
    ("an earlier instant loses", v(EARLIER, 9), v(AT, 1), False),
    ("same instant in another offset: sync_token decides", v(SAME_INSTANT_PACIFIC, 3), v(AT, 2), True),
    ("same instant, lower sync_token loses", v(SAME_INSTANT_PACIFIC, 1), v(AT, 2), False),
    ("equal versions: the later arrival wins", v(AT, 2, "5"), v(AT, 2, "5"), True),
    ("a deletion beats a live version of the same instant", v(AT, deleted=True), v(AT, 7, "9"), True),
    ("a live version of the same instant cannot undo a deletion", v(AT, 7, "9"), v(AT, deleted=True), False),
    ("a missing updated_at is the oldest", v(None, 5), v(EARLIER), False),
    ("any updated_at beats a missing one", v(EARLIER), v(None, 5), True),
    ("a missing sync_token is older than 0", v(AT, None), v(AT, 0), False),
    ("edit_sequence compares as integers", v(AT, None, "10"), v(AT, None, "9"), True),
    ("9 is older than 10", v(AT, None, "9"), v(AT, None, "10"), False),
    ("leading zeros do not count", v(AT, None, "0010"), v(AT, None, "10"), True),
    ("40 digits beat 39", v(AT, None, "1" + "0" * 39), v(AT, None, "9" * 39), True),
    ("text is newer than any number", v(AT, None, "abc"), v(AT, None, "99"), True),
    ("a number is older than text", v(AT, None, "99"), v(AT, None, "abc"), False),
    ("text compares by code point", v(AT, None, "B"), v(AT, None, "a"), False),
    ("a missing edit_sequence is the oldest", v(AT, None, None), v(AT, None, "1"), False),
    ("Desktop: null sync_token, edit_sequence decides",
     v(AT, None, "1700000001"), v(AT, None, "1699999999"), True),
]
COLUMNS = [Column("n", "INT"), Column("updated_at", "TIMESTAMP"), Column("sync_token", "BIGINT"),
           Column("edit_sequence", "STRING"), Column("_sdc_deleted_at", "TIMESTAMP")]


def _literal(value: t.Any, sql_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if sql_type == "TIMESTAMP":
        return f"CAST('{timestamp_text(value)}' AS TIMESTAMP)"
    if sql_type == "STRING":
        return merge_sql.quote_string(str(value))
    return f"CAST({int(value)} AS {sql_type})"


def _values(side: int) -> str:
    rows = []
    for n, case in enumerate(CASES):
        version = {"n": n, **case[side]}
        rows.append("(" + ", ".join(_literal(version[c.name], c.sql_type) for c in COLUMNS) + ")")
    names = ", ".join(c.name for c in COLUMNS)
    return f"SELECT * FROM VALUES {', '.join(rows)} AS v({names})"


def test_the_written_rule_and_the_kits_python_order_agree_on_every_case() -> None:
    assert [supersedes(incoming, stored) for _, incoming, stored, _ in CASES] == [
        expected for *_, expected in CASES]


def test_the_generated_guard_decides_every_case_as_the_rule_does_on_spark(
        sql: t.Callable[..., list[t.Any]]) -> None:
    guard = merge_sql.version_guard(COLUMNS)
    rows = sql(f"SELECT s.n, {guard} FROM ({_values(1)}) AS s JOIN ({_values(2)}) AS t "
               "ON s.n = t.n ORDER BY s.n")
    decided = {CASES[row[0]][0]: bool(row[1]) for row in rows}
    assert decided == {name: expected for name, _, _, expected in CASES}
