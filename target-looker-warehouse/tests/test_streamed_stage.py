"""A big batch's rows reach PostgreSQL while the batch is read (streamed_stage.py). What a user
would notice if that went wrong: rows missing or duplicated, an older version winning, or a run
that fails (or ends green without the rows) because the early COPY broke."""

from __future__ import annotations

import typing as t
from decimal import Decimal

import psycopg
import pytest
from target_looker_warehouse import sinks
from target_looker_warehouse.streamed_stage import StreamedStage

from tests.qb_records import singer_lines
from tests.target_runner import query, raw, run_target

ROWS = 600


def _line(n: int, amount: str, updated_at: str = "2026-11-02T09:00:00-08:00") -> dict[str, t.Any]:
    return {"company_id": "9130", "edition": "qbo", "invoice_id": str(n // 3), "line_id": str(n % 3),
            "amount": Decimal(amount), "updated_at": updated_at, "sync_token": 1, "edit_sequence": None,
            "_sdc_deleted_at": None}


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Batches stream from their 100th row; returns how each stage ended ("commit"/"discard")."""
    monkeypatch.setattr(sinks, "STREAM_FROM_ROWS", 100)
    monkeypatch.setattr(sinks, "ROWS_PER_WRITE", 50)
    ended: list[str] = []
    commit, discard = StreamedStage.commit, StreamedStage.discard

    def note_commit(self: StreamedStage) -> None:
        ended.append("commit")
        commit(self)

    def note_discard(self: StreamedStage) -> None:
        ended.append("discard")
        discard(self)

    monkeypatch.setattr(StreamedStage, "commit", note_commit)
    monkeypatch.setattr(StreamedStage, "discard", note_discard)
    return ended


def _landed(config: dict[str, t.Any]) -> tuple[int, int, Decimal]:
    (count, keys, total), = query(
        config, f"SELECT count(*), count(DISTINCT (invoice_id, line_id)), sum(amount) FROM {raw(config, 'invoice_lines')}")
    return count, keys, total


def test_a_streamed_batch_lands_every_row_once(postgres_config: dict[str, t.Any], streaming: list[str]) -> None:
    config = {**postgres_config, "batch_size_rows": 250}  # 600 rows: two full batches and a last one
    run_target(config, singer_lines({"invoice_lines": [_line(n, "1.25") for n in range(ROWS)]}))
    assert _landed(config) == (ROWS, ROWS, Decimal("750.00"))
    assert streaming.count("commit") == 3, streaming
    # Again, as an update run: every row replaced by a newer version, still once each.
    newer = [_line(n, "2.50", "2026-11-03T09:00:00-08:00") for n in range(ROWS)]
    run_target(config, singer_lines({"invoice_lines": newer}))
    assert _landed(config) == (ROWS, ROWS, Decimal("1500.00"))


def test_a_batch_holding_a_key_twice_loads_the_newest_version_the_usual_way(
        postgres_config: dict[str, t.Any], streaming: list[str]) -> None:
    records = [_line(n, "1.00") for n in range(ROWS)]
    # The same line again, an older version arriving later: the stored row stays the newer one.
    records[10] = _line(10, "5.00", "2026-11-04T09:00:00-08:00")
    records.append(_line(10, "9.00", "2026-11-01T09:00:00-08:00"))
    run_target(postgres_config, singer_lines({"invoice_lines": records}))
    assert _landed(postgres_config) == (ROWS, ROWS, Decimal(ROWS - 1) + Decimal("5.00"))
    assert streaming == ["discard"]


def test_a_stream_whose_connection_is_lost_mid_batch_still_lands_the_batch(
        postgres_config: dict[str, t.Any], postgres_dsn: str, streaming: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    send = StreamedStage.send
    killed: list[int] = []

    def send_then_lose_connection(self: StreamedStage) -> None:
        send(self)
        if not killed:  # the server ends the stage's session after its first write
            pid = self.connection.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
            with psycopg.connect(postgres_dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            killed.append(pid)

    monkeypatch.setattr(StreamedStage, "send", send_then_lose_connection)
    run_target(postgres_config, singer_lines({"invoice_lines": [_line(n, "1.00") for n in range(ROWS)]}))
    assert killed
    assert _landed(postgres_config) == (ROWS, ROWS, Decimal(ROWS))
    assert streaming == ["discard"]
