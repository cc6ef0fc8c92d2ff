"""Session tickets expire, and one server serves several companies at once."""

from __future__ import annotations

import threading
from pathlib import Path

from sandboxes.qbwc import QWCFile, WebConnector
from tap_quickbooks_desktop.auth.tickets import LoginThrottle, TicketStore, password_matches
from tap_quickbooks_desktop.buffer import Buffer
from tap_quickbooks_desktop.qwc import render_qwc

from .conftest import base_settings, drain


def test_ticket_expires_after_its_ttl(tmp_path: Path):
    now = [1000.0]
    store = TicketStore(Buffer(str(tmp_path / "buffer.sqlite")), ttl_seconds=60, clock=lambda: now[0])
    ticket = store.issue("acme", "{}")

    found = store.get(ticket)
    assert found is not None and found.company == "acme"
    now[0] += 61
    assert store.get(ticket) is None


def test_tickets_are_unguessable_and_revocable(tmp_path: Path):
    store = TicketStore(Buffer(str(tmp_path / "buffer.sqlite")), ttl_seconds=60)
    tickets = {store.issue(f"company-{n}", "{}") for n in range(100)}

    assert len(tickets) == 100 and all(len(t) == 32 for t in tickets)
    one = next(iter(tickets))
    store.revoke(one)
    assert store.get(one) is None


def test_repeated_bad_passwords_wait_longer_up_to_a_cap():
    throttle = LoginThrottle(base_delay=0.25, max_delay=2.0)

    delays = [throttle.record_failure("mallory") for _ in range(6)]

    assert delays == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    throttle.record_success("mallory")
    assert throttle.failures("mallory") == 0


def test_password_check_is_exact():
    assert password_matches("s3cret", "s3cret")
    assert not password_matches("s3cret ", "s3cret")


def test_two_companies_sync_concurrently_through_one_server(tmp_path: Path, start_server, qb_company_factory):
    companies = {
        "east": qb_company_factory(seed=1, transactions=60, tz="-05:00"),
        "west": qb_company_factory(seed=2, transactions=60, tz="-08:00"),
    }
    settings = base_settings(
        tmp_path / "buffer.sqlite", max_returned=5, streams=["invoices"],
        companies=[{"company": name, "username": f"user-{name}", "password": f"pw-{name}"} for name in companies],
    )
    server = start_server(settings)
    reports: dict[str, object] = {}

    def run(name: str) -> None:
        config = server.config
        entry = next(c for c in config.companies if c.company == name)
        path = tmp_path / f"{name}.qwc"
        path.write_text(render_qwc(config, entry).replace(":0/", f":{server.port}/"))
        connector = WebConnector(qwc=QWCFile.load(str(path)), password=f"pw-{name}", company=companies[name])
        reports[name] = connector.run_once()

    threads = [threading.Thread(target=run, args=(name,)) for name in companies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert {name: r.outcome for name, r in reports.items()} == {"east": "completed", "west": "completed"}  # type: ignore[attr-defined]
    result = drain(settings)
    for name, company in companies.items():
        rows = [r for r in result.records("invoices") if r["company_id"] == name]
        assert len(rows) == company.count("Invoice")
        assert all(r["updated_at"].endswith("-05:00" if name == "east" else "-08:00") for r in rows)
