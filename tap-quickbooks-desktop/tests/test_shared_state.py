"""Sessions, buffer and bookmarks behind one store: any replica answers any call.

Every test runs on both backends: the embedded SQLite file and a shared PostgreSQL
database (a throwaway cluster from the sandboxes).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn  # noqa: F401
from sandboxes.qbwc import QuickBooksCompany, QWCFile, WebConnector
from tap_quickbooks_desktop.config import ConfigError, server_config
from tap_quickbooks_desktop.qwc import render_qwc
from tap_quickbooks_desktop.server import QbwcServer
from tap_quickbooks_desktop.store import SectionToStore, SessionWrite, StaleSession, open_store

from .conftest import PASSWORD, base_settings, drain

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgres"])
def shared_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    settings = base_settings(tmp_path / "buffer.sqlite", max_returned=20)
    if request.param == "postgres":
        import psycopg

        dsn = request.getfixturevalue("postgres_dsn")
        database = f"qbd_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        settings["state_database_url"] = dsn.rsplit("/", 1)[0] + f"/{database}"
    return settings


@pytest.fixture
def replicas(shared_settings: dict[str, Any]) -> Iterator[list[QbwcServer]]:
    """Two QBWC servers, each with its own handle on the same store."""
    servers = [QbwcServer(server_config(shared_settings)).start() for _ in range(2)]
    yield servers
    for server in servers:
        server.stop()


class RoundRobinConnector(WebConnector):
    """The sandbox Web Connector behind a round-robin balancer: each call to the next replica."""

    def __init__(self, urls: Callable[[], list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._urls = urls
        self.calls_per_replica: Counter[str] = Counter()
        self._turn = 0

    def _post(self, operation: str, body: bytes) -> tuple[int, str, bytes]:
        from urllib.parse import urlsplit

        urls = self._urls()
        url = urls[self._turn % len(urls)]
        self._turn += 1
        self._url = urlsplit(url)
        self.calls_per_replica[url] += 1
        return super()._post(operation, body)


def _connector(servers: list[QbwcServer], live: Callable[[], list[str]], company: QuickBooksCompany,
               tmp_path: Path) -> RoundRobinConnector:
    config = servers[0].config
    path = tmp_path / "acme.qwc"
    path.write_text(render_qwc(config, config.companies[0]).replace(":0/", f":{servers[0].port}/"))
    return RoundRobinConnector(urls=live, qwc=QWCFile.load(str(path)), password=PASSWORD, company=company)


def _assert_each_object_once(settings: dict[str, Any], company: QuickBooksCompany) -> None:
    result = drain(settings)
    for stream, qb_type in [("invoices", "Invoice"), ("customers", "Customer"), ("bills", "Bill")]:
        ids = [r["id"] for r in result.records(stream)]
        assert len(ids) == len(set(ids)) == company.count(qb_type), stream


def test_every_call_of_a_session_may_land_on_a_different_replica(
    replicas, shared_settings, company, tmp_path: Path
):
    urls = [server.url for server in replicas]
    connector = _connector(replicas, lambda: urls, company, tmp_path)

    report = connector.run_once()

    assert report.outcome == "completed", (report.errors, report.last_error)
    assert report.requests_answered > 4
    assert all(connector.calls_per_replica[url] >= 3 for url in urls)
    _assert_each_object_once(shared_settings, company)


def test_a_replica_stopped_mid_session_loses_and_repeats_nothing(
    replicas, shared_settings, company, tmp_path: Path
):
    live = [server.url for server in replicas]
    connector = _connector(replicas, lambda: list(live), company, tmp_path)

    def kill_first_replica(answered: int) -> None:
        if answered == 3 and len(live) == 2:
            replicas[0].stop()

    connector.between_requests = kill_first_replica
    first = connector.run_once()
    live.remove(replicas[0].url)  # the balancer's health check takes it out
    second = connector.run_once()

    assert first.outcome == "http_error" and second.outcome == "completed", (first.errors, second.errors)
    _assert_each_object_once(shared_settings, company)


def test_a_call_replayed_after_another_replica_answered_it_writes_nothing(shared_settings):
    store = open_store(shared_settings)
    other = store.reopen()
    try:
        store.create_session("t" * 32, "acme", '{"step": 0}', expires_at=4_000_000_000)
        seen = store.load_session("t" * 32, now=0)
        assert seen is not None
        section = SectionToStore(tag="invoices", section="InvoiceRet", body=b"<InvoiceRs/>",
                                 versions=[("1-1", "7")])
        other.append("acme", [section], {"Invoice": "2026-01-01T00:00:00"},
                     session=SessionWrite(seen.ticket, '{"step": 1}', seen.version))

        with pytest.raises(StaleSession):
            store.append("acme", [SectionToStore("invoices", "InvoiceRet", b"<x/>", [("2-1", "1")])],
                         {"Invoice": "2026-02-02T00:00:00"},
                         session=SessionWrite(seen.ticket, '{"step": 1}', seen.version))

        assert store.count_entries() == 1
        assert store.bookmarks("acme") == {"Invoice": "2026-01-01T00:00:00"}
    finally:
        store.close()
        other.close()


def test_a_drain_never_passes_an_entry_another_replica_has_not_committed_yet(postgres_dsn):  # noqa: F811
    """Replica A has taken a sequence number but not committed; replica B appends meanwhile.

    A tap run reading up to the highest visible seq must not be able to step over A's entry,
    or it would be lost for good once the run's state moves past it.
    """
    import psycopg
    from tap_quickbooks_desktop.store_postgres import _SEQ_LOCK

    database = f"qbd_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    url = postgres_dsn.rsplit("/", 1)[0] + f"/{database}"
    store, reader = open_store({"state_database_url": url}), open_store({"state_database_url": url})
    replica_a = psycopg.connect(url)
    try:
        # Replica A, mid-append: the same lock and insert its store takes, not yet committed.
        replica_a.execute("SELECT pg_advisory_xact_lock(%s)", (_SEQ_LOCK,))
        a_seq = replica_a.execute(
            "INSERT INTO qbd_entries (company, tag, section, received_at, body)"
            " VALUES ('a', 'invoices', 'InvoiceRet', now(), '<x/>') RETURNING seq").fetchone()[0]
        replica_b = threading.Thread(target=store.append, args=(
            "b", [SectionToStore("invoices", "InvoiceRet", b"<y/>", [("1", "1")])]))
        replica_b.start()
        with psycopg.connect(postgres_dsn.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as probe:
            for _ in range(300):  # until B either finished or waits on a lock (bounded)
                waiting = probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()").fetchone()[0]
                if waiting or not replica_b.is_alive():
                    break
                replica_b.join(0.1)

        high = reader.max_seq()
        seen = {e.seq for e in reader.iter_entries(["invoices"], ["a", "b"], 0, high)}

        replica_a.commit()
        replica_b.join(timeout=30)
        assert a_seq in seen or a_seq > high, "a drain up to the visible maximum skipped replica A's entry"
        assert reader.count_entries() == 2
    finally:
        replica_a.close()
        store.close()
        reader.close()


def test_only_company_limits_a_run_to_one_company_file(tmp_path: Path, start_server, qb_company_factory):
    companies = {"east": qb_company_factory(seed=1, transactions=30), "west": qb_company_factory(seed=2, transactions=30)}
    settings = base_settings(
        tmp_path / "buffer.sqlite", streams=["invoices"],
        companies=[{"company": name, "username": f"user-{name}", "password": f"pw-{name}"} for name in companies],
    )
    server = start_server(settings)
    for name, company in companies.items():
        entry = server.config.company_by_key(name)
        assert entry is not None
        path = tmp_path / f"{name}.qwc"
        path.write_text(render_qwc(server.config, entry).replace(":0/", f":{server.port}/"))
        assert WebConnector(qwc=QWCFile.load(str(path)), password=f"pw-{name}", company=company).run_once().outcome == "completed"

    east = drain({**settings, "only_company": "east"})
    west = drain({**settings, "only_company": "west"}, state={})

    assert {r["company_id"] for r in east.records("invoices")} == {"east"}
    assert len(east.records("invoices")) == companies["east"].count("Invoice")
    assert len(west.records("invoices")) == companies["west"].count("Invoice")
    # Each company's job prunes only its own entries once its state comes back.
    drain({**settings, "only_company": "east"}, state=east.state)
    assert len(drain({**settings, "only_company": "west"}).records("invoices")) == companies["west"].count("Invoice")


def test_only_company_naming_no_configured_company_says_which_exist(tmp_path: Path):
    settings = base_settings(tmp_path / "buffer.sqlite", only_company="north")

    with pytest.raises(ConfigError, match=r"only_company .north.*acme"):
        server_config(settings)


def test_a_company_stalled_mid_session_holds_no_other_company_back(
    shared_settings, qb_company_factory, tmp_path: Path
):
    settings = {**shared_settings, "streams": ["invoices", "customers"], "max_returned": 10, "companies": [
        {"company": name, "username": f"user-{name}", "password": f"pw-{name}"} for name in ("stalled", "quick")]}
    servers = [QbwcServer(server_config(settings)).start() for _ in range(2)]
    stalled_mid_session, quick_done = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}
    waited: list[bool] = []

    def stall(answered: int) -> None:
        # QuickBooks "hangs" after the first answered request, until the other company is done.
        if answered == 1:
            stalled_mid_session.set()
            waited.append(quick_done.wait(timeout=120))

    def run(name: str, **kwargs: Any) -> None:
        entry = servers[0].config.company_by_key(name)
        assert entry is not None
        path = tmp_path / f"{name}.qwc"
        path.write_text(render_qwc(servers[0].config, entry).replace(":0/", f":{servers[0].port}/"))
        urls = [s.url for s in servers]
        connector = RoundRobinConnector(urls=lambda: urls, qwc=QWCFile.load(str(path)), password=f"pw-{name}",
                                        company=qb_company_factory(seed=len(name), transactions=40), **kwargs)
        outcomes[name] = connector.run_once().outcome

    try:
        stalled = threading.Thread(target=run, args=("stalled",), kwargs={"between_requests": stall})
        stalled.start()
        assert stalled_mid_session.wait(timeout=120)
        run("quick")
        quick_done.set()
        stalled.join(timeout=300)
    finally:
        for server in servers:
            server.stop()

    assert waited == [True], "the quick company's session did not finish while the other one was stalled"
    assert outcomes == {"quick": "completed", "stalled": "completed"}
