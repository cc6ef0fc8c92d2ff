"""The two QuickBooks editions as the soak drives them: settings for the tap, seeded changes, and
the truth to reconcile against. QuickBooks Desktop also needs its Web Connector played for each
run: a thread that waits for the tap's QBWC server and runs one session against the company.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import sandbox_settings, truth
from .books import Book
from .changes import ChangeLog, QBDChanges, QBOChanges


@dataclass
class QBOSource:
    sandbox: Any
    work: Path
    tap: str = "tap-quickbooks-online"
    edition: str = "qbo"
    company: str = sandbox_settings.REALM_ID
    log: ChangeLog = field(default_factory=ChangeLog)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = sandbox_settings.qbo(self.sandbox, self.work)

    @property
    def realm(self) -> Any:
        return self.sandbox.realm(self.company)

    def change(self, rng: random.Random, n: int) -> None:
        QBOChanges(self.realm, rng, self.log).apply(n)

    def book(self, streams: tuple[str, ...], *, subtotal_lines: bool = True) -> Book:
        return truth.qbo_book(self.realm, self.log.deleted, streams, subtotal_lines=subtotal_lines)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        yield  # QuickBooks Online is always there to answer


@dataclass
class QBDSource:
    company_file: Any  # sandboxes.qbwc.QuickBooksCompany
    work: Path
    port: int
    tap: str = "tap-quickbooks-desktop"
    edition: str = "qbd"
    company: str = "demo-company"
    log: ChangeLog = field(default_factory=ChangeLog)
    env: dict[str, str] = field(default_factory=dict)
    sessions: list[Any] = field(default_factory=list)
    faults: Any = None  # sandboxes.qbwc.Faults for the next session

    def __post_init__(self) -> None:
        self.env = sandbox_settings.qbd(self.port, self.work)

    def change(self, rng: random.Random, n: int) -> None:
        QBDChanges(self.company_file, rng, self.log).apply(n)

    def book(self, streams: tuple[str, ...], *, subtotal_lines: bool = True) -> Book:
        return truth.qbd_book(self.company_file, self.log.deleted, streams)

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """One Web Connector session against the tap's server during the run."""
        stop = threading.Event()
        thread = threading.Thread(target=self._connect, args=(stop,), daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()  # a run killed before its server listened gets no session
            thread.join(timeout=60)

    def _connect(self, stop: threading.Event) -> None:
        from sandboxes.qbwc import Faults, QWCFile, WebConnector

        while not sandbox_settings.wait_for_port(self.port, 0.5):
            if stop.is_set():
                return
        qwc = QWCFile(app_url=f"http://127.0.0.1:{self.port}/", user_name=sandbox_settings.QBD_USER,
                      owner_id="{57F3B9B6-86F1-4FCC-B1FF-966DE1813D20}",
                      file_id="{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}", qb_type="QBFS",
                      app_name="quickbooks-connectors reliability")
        faults, self.faults = self.faults or Faults(), None
        # As QBWC does: a session that did not complete is tried again once the server's postpone
        # hint has passed (a few times, while the tap run still waits for a session).
        for _attempt in range(3):
            connector = WebConnector(qwc=qwc, password=sandbox_settings.QBD_PASSWORD, company=self.company_file,
                                     faults=faults, timeout=30.0)
            report = connector.run_once()
            self.sessions.append(report)
            faults = Faults()
            if report.outcome == "completed" or stop.wait(min(float(report.postpone_seconds or 1), 15.0)):
                return


@contextlib.contextmanager
def open_source(edition: str, work: Path, transactions: int, seed: int, **qbo_options: Any) -> Iterator[Any]:
    """A QBOSource or a QBDSource (Any: the tests reach into the sandbox of the edition they chose)."""
    if edition == "qbo":
        from sandboxes.qbo import QBOSandbox, RealmSpec

        spec = RealmSpec(realm_id=sandbox_settings.REALM_ID, seed=seed, transactions=transactions)
        with QBOSandbox(realms=[spec], data_dir=work / "qbo", **qbo_options) as sandbox:
            yield QBOSource(sandbox, work)
    else:
        from sandboxes.qbwc import QuickBooksCompany

        company = QuickBooksCompany.generate(seed=seed, transactions=transactions, path=work / "qbd-company.sqlite",
                                             tz="-05:00")
        try:
            yield QBDSource(company, work, sandbox_settings.free_port())
        finally:
            company.close()
