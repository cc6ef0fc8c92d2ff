"""Records mapped when the response arrives: the drain writes them, older buffers still drain.

The QBWC server stores each response's records beside its qbXML; a tap run writes the
stored records and maps the qbXML only of entries stored without records (a buffer from
an earlier version) or by other mapping code. Either way the output is the same, a drain
killed midway loses nothing, and a drain holds a bounded number of entries at a time.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
import tracemalloc
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn  # noqa: F401
from tap_quickbooks_desktop import streams as streams_module
from tap_quickbooks_desktop.streams import BufferStream
from tap_quickbooks_desktop.tap import TapQuickBooksDesktop

from .conftest import drain

pytestmark = pytest.mark.e2e

# The SDK's sync start time; every other field, time_extracted included, comes from the buffer.
_SIGNPOST = re.compile(r'"replication_key_signpost":"[^"]*"')
# Each stateless drain is a new buffer consumer with its own id (tap.py): not what is compared.
_CONSUMER = re.compile(r'"buffer_consumer":"[0-9a-f]+"')
ENTRIES_PER_QUERY = 2
# The columns of `entries` before records were stored (tap-quickbooks-desktop 0.x, main).
_PREVIOUS_COLUMNS = ["seq", "company", "tag", "section", "received_at", "skip_ids", "body"]


def _drain_lines(settings: dict[str, Any], state: dict[str, Any] | None = None) -> list[str]:
    tap = TapQuickBooksDesktop(config=settings, state=state or {}, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return _CONSUMER.sub('"buffer_consumer":"-"', _SIGNPOST.sub("", out.getvalue())).splitlines()


def _copy_buffer(settings: dict[str, Any], name: str) -> dict[str, Any]:
    target = Path(settings["buffer_path"]).with_name(name)
    source = sqlite3.connect(settings["buffer_path"])
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    return {**settings, "buffer_path": str(target)}


def _as_previous_version_wrote_it(path: str) -> None:
    """The file an earlier tap version leaves: entries alone, no stored records."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE entry_records")
    conn.execute("DROP TABLE entry_mappings")
    assert [row[1] for row in conn.execute("PRAGMA table_info(entries)")] == _PREVIOUS_COLUMNS
    conn.close()


def _no_xml(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_body: bytes) -> Any:
        raise AssertionError("the drain parsed qbXML")

    monkeypatch.setattr(streams_module, "iter_rets", refuse)


@pytest.fixture
def drained_session(company, settings, start_server, web_connector) -> dict[str, Any]:
    """A buffer filled by one session, with deletions, small pages and an edit re-read."""
    server = start_server({**settings, "max_returned": 10})
    web_connector(server, company).run_once()
    deleted, edited = company.control.ids("Invoice", limit=2)
    company.control.delete("Invoice", deleted)
    company.control.modify("Invoice", edited, Memo="edited")
    web_connector(server, company).run_once()
    return settings


def test_the_drain_writes_the_stored_records_without_parsing_xml(drained_session, monkeypatch):
    lines = _drain_lines(drained_session)
    _no_xml(monkeypatch)

    again = _drain_lines(drained_session)

    assert again == lines
    kinds = Counter(json.loads(line)["stream"] for line in lines if line.startswith('{"type":"RECORD"'))
    assert kinds["invoices"] > 10 and kinds["invoice_lines"] > kinds["invoices"]
    assert kinds["deleted_records"] >= 1


@pytest.mark.parametrize("older", ["previous format", "other mapping", "every other entry"])
def test_a_buffer_without_current_records_drains_to_the_same_lines(drained_session, older):
    expected = _drain_lines(drained_session)
    settings = _copy_buffer(drained_session, f"{older.replace(' ', '-')}.sqlite")
    if older == "previous format":
        _as_previous_version_wrote_it(settings["buffer_path"])
    else:
        conn = sqlite3.connect(settings["buffer_path"], isolation_level=None)
        where = "" if older == "other mapping" else " WHERE seq % 2 = 0"
        assert conn.execute(f"UPDATE entry_mappings SET mapping = 'qbd-records-0:older'{where}").rowcount > 3
        conn.close()

    lines = _drain_lines(settings)

    assert lines == expected
    assert sum(line.startswith('{"type":"RECORD"') for line in lines) > 100


def test_a_previous_format_buffer_gains_records_only_for_new_responses(company, settings, start_server,
                                                                       web_connector, monkeypatch):
    server = start_server(settings)
    web_connector(server, company).run_once()
    server.stop()
    _as_previous_version_wrote_it(settings["buffer_path"])
    conn = sqlite3.connect(settings["buffer_path"])
    before = conn.execute("SELECT max(seq) FROM entries").fetchone()[0]
    conn.close()
    server = start_server(settings)  # the upgraded server opens the old file
    company.control.modify("Invoice", company.control.ids("Invoice", limit=1)[0], Memo="after the upgrade")
    web_connector(server, company).run_once()

    conn = sqlite3.connect(settings["buffer_path"])
    mapped = conn.execute("SELECT e.seq > ?, m.mapping IS NOT NULL FROM entries e"
                          " LEFT JOIN entry_mappings m ON m.seq = e.seq", (before,)).fetchall()
    conn.close()
    assert (1, 1) in mapped and all(new == stored for new, stored in mapped)
    result = drain(settings)
    memos = [r["private_note"] for r in result.records("invoices")]
    assert memos.count("after the upgrade") == 1
    assert len(result.records("invoices")) == company.count("Invoice") + 1


class Killed(BaseException):
    """The tap process dies here (a BaseException: nothing in the SDK catches it)."""


class DyingStdout(io.StringIO):
    def __init__(self, records_before_death: int) -> None:
        super().__init__()
        self.left = records_before_death

    def write(self, text: str) -> int:
        if text.startswith('{"type":"RECORD"'):
            if self.left == 0:
                raise Killed
            self.left -= 1
        return super().write(text)


def _messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _key(message: dict[str, Any]) -> str:
    return message["stream"] + json.dumps(message["record"], sort_keys=True)


def test_a_drain_killed_midway_re_emits_and_loses_nothing(drained_session, monkeypatch):
    # A STATE every 25 records, so the kill lands between two STATEs inside a stream.
    monkeypatch.setattr(BufferStream, "STATE_MSG_FREQUENCY", 25)
    complete = [m for m in drain(drained_session).messages if m["type"] == "RECORD"]
    invoices_start = next(i for i, m in enumerate(complete) if m["stream"] == "invoice_lines")

    out = DyingStdout(records_before_death=invoices_start + 60)
    with contextlib.redirect_stdout(out), pytest.raises(Killed):
        TapQuickBooksDesktop(config=drained_session, state={}, parse_env_config=False).sync_all()
    written = _messages(out.getvalue())
    last_state = max(i for i, m in enumerate(written) if m["type"] == "STATE")
    # What the target committed: the records before the last STATE it received.
    committed = [m for m in written[:last_state] if m["type"] == "RECORD"]
    uncommitted = [m for m in written[last_state:] if m["type"] == "RECORD"]
    assert uncommitted and written[last_state]["value"]["bookmarks"]["invoice_lines"]["buffer_sequence"] > 0

    resumed = [m for m in drain(drained_session, written[last_state]["value"]).messages if m["type"] == "RECORD"]

    assert {_key(m) for m in committed} | {_key(m) for m in resumed} == {_key(m) for m in complete}
    assert {_key(m) for m in uncommitted} <= {_key(m) for m in resumed}
    assert len(resumed) < len(complete) - len(committed) // 2  # it resumed; it did not start over


def _drain_growth(settings: dict[str, Any]) -> tuple[int, Counter[str]]:
    """Records per stream, and how far traced memory rose above its level at the first record."""
    counts: Counter[str] = Counter()
    mark: list[int] = []

    class CountingSink(io.TextIOBase):
        def write(self, text: str) -> int:
            if text.startswith('{"type":"RECORD","stream":"'):
                if not mark:
                    tracemalloc.reset_peak()
                    mark.append(tracemalloc.get_traced_memory()[0])
                counts[json.loads(text)["stream"]] += 1
            return len(text)

    tap = TapQuickBooksDesktop(config=settings, state={}, parse_env_config=False)
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(CountingSink()):
            tap.sync_all()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - mark[0], counts


def test_a_drain_holds_a_bounded_number_of_entries_whatever_the_buffer_holds(
        qb_company_factory, tmp_path, start_server, web_connector, monkeypatch):
    # Two entries per query; both buffers hold many times that, one four times the other.
    monkeypatch.setattr(BufferStream, "ENTRIES_PER_QUERY", ENTRIES_PER_QUERY)
    growth, records = {}, {}
    for transactions in (60, 240):
        company = qb_company_factory(seed=11, transactions=transactions, tz="-05:00")
        settings = {**_settings_in(tmp_path / str(transactions)), "max_returned": 5}
        server = start_server(settings)
        web_connector(server, company).run_once()
        growth[transactions], counts = _drain_growth(settings)
        assert counts["invoices"] == company.count("Invoice")
        records[transactions] = sum(counts.values())

    assert records[240] > 3 * records[60]
    assert growth[240] < 1.5 * growth[60]


def _settings_in(directory: Path) -> dict[str, Any]:
    from .conftest import base_settings

    directory.mkdir()
    return base_settings(directory / "buffer.sqlite")


def test_a_postgres_store_of_the_previous_version_drains_to_the_same_lines(
        postgres_dsn, company, tmp_path, start_server, web_connector):  # noqa: F811
    import psycopg

    database = f"qbd_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    url = postgres_dsn.rsplit("/", 1)[0] + f"/{database}"
    settings = {**_settings_in(tmp_path / "pg"), "state_database_url": url, "max_returned": 10}
    server = start_server(settings)
    web_connector(server, company).run_once()
    server.stop()
    expected = _drain_lines(settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE qbd_entry_records")
        conn.execute("DROP TABLE qbd_entry_mappings")

    lines = _drain_lines(settings)  # opening the store creates both tables again, empty

    assert lines == expected
    assert sum(line.startswith('{"type":"RECORD"') for line in lines) > 100
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM qbd_entry_mappings").fetchone()[0] == 0
