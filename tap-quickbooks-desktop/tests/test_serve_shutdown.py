"""`serve` as a process: SIGTERM or SIGINT ends it promptly, and nothing committed is lost.

Each test starts `tap-quickbooks-desktop serve` on a free loopback port, holds an idle
keep-alive connection open (the readiness probe's), signals it, and reads the buffer back
after the process is gone.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandboxes.qbwc import QuickBooksCompany, QWCFile, WebConnector
from tap_quickbooks_desktop.config import server_config
from tap_quickbooks_desktop.qwc import render_qwc
from tap_quickbooks_desktop.shutdown import SHUTDOWN_SECONDS

from .conftest import PASSWORD, USERNAME, base_settings
from .soap import call, envelope, post

RUN_SERVE = "\nimport sys\nfrom tap_quickbooks_desktop.cli import main\nmain(['serve', '--config', sys.argv[1]])\n"

# Delivers SIGTERM at the moment that hung `serve` (bench/tap_qbd, 100,000 transactions):
# while cheroot's selector loop checks its keep-alive connections for expiry, in a list
# comprehension over a generator holding the selector's lock. It reads each connection's
# `last_used` there; the first read raises the signal, once.
SIGNAL_DURING_EXPIRY_CHECK = """
import signal
from cheroot import server

class SignalOnFirstExpiryCheck(server.HTTPConnection):
    fired = False

    @property
    def last_used(self):
        if not SignalOnFirstExpiryCheck.fired:
            SignalOnFirstExpiryCheck.fired = True
            signal.raise_signal(signal.SIGTERM)
        return self._last_used

    @last_used.setter
    def last_used(self, value):
        self._last_used = value

server.HTTPServer.ConnectionClass = SignalOnFirstExpiryCheck
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    settings: dict
    stderr: Path
    keepalive: http.client.HTTPConnection | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings['port']}/"

    @property
    def buffer(self) -> Path:
        return Path(self.settings["buffer_path"])

    def wait_until_up(self) -> None:
        """Answer one WSDL request and keep its connection open: an idle keep-alive."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.settings["port"], timeout=5)
            try:
                conn.request("GET", "/?wsdl")
                conn.getresponse().read()
                self.keepalive = conn
                return
            except OSError:
                conn.close()
                time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.stderr.read_text()}")

    def exit_within(self, seconds: float, since: float) -> int:
        try:
            code = self.process.wait(timeout=max(0.1, since + seconds - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"serve still running {seconds} s after the signal:\n{self.log()}") from None
        return code

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")

    def last_line(self) -> str:
        return self.log().strip().splitlines()[-1]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(prelude: str = "") -> Serve:
        settings = base_settings(tmp_path / "buffer.sqlite", port=_free_port())
        config = tmp_path / "config.json"
        config.write_text(json.dumps(settings))
        stderr = tmp_path / "serve.log"
        process = subprocess.Popen([sys.executable, "-c", prelude + RUN_SERVE, str(config)],
                                   stdout=subprocess.DEVNULL, stderr=stderr.open("wb"))
        server = Serve(process, settings, stderr)
        started.append(server)
        server.wait_until_up()
        return server

    yield start
    for server in started:
        if server.keepalive is not None:
            server.keepalive.close()
        if server.process.poll() is None:  # a failed test: never leave a server behind
            server.process.kill()
            server.process.wait(timeout=10)


def _rows(buffer: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(buffer)) as db:
        return db.execute(sql).fetchall()


def _assert_intact(buffer: Path) -> None:
    assert _rows(buffer, "PRAGMA integrity_check") == [("ok",)]


def _one_session(serve: Serve, company: QuickBooksCompany, tmp_path: Path) -> None:
    config = server_config(serve.settings)
    qwc = tmp_path / "acme.qwc"
    qwc.write_text(render_qwc(config, config.companies[0]))
    report = WebConnector(qwc=QWCFile.load(str(qwc)), password=PASSWORD, company=company).run_once()
    assert report.outcome == "completed", report.errors


def test_a_signal_during_the_keepalive_expiry_check_still_ends_serve(serve):
    """The bench's hang: before the fix the signal raised SystemExit inside cheroot's loop
    while it held the selector's lock, and the shutdown waited for that lock forever."""
    signalled = time.monotonic()
    server = serve(SIGNAL_DURING_EXPIRY_CHECK)  # the signal comes within 0.5 s of the first answer

    assert server.exit_within(10, since=signalled) == 0, server.log()
    assert "QBWC server stopped" in server.last_line()
    assert not Path(f"{server.buffer}-wal").exists()  # closed: its WAL checkpointed
    _assert_intact(server.buffer)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_serve_promptly_with_connections_open_and_keeps_the_buffer(
    serve, company, tmp_path, signum
):
    server = serve()
    _one_session(server, company, tmp_path)
    entries = _rows(server.buffer, "SELECT COUNT(*) FROM entries")[0][0]
    assert entries > 0
    # A client that connected and sent nothing yet holds a worker in a read; the
    # readiness probe's connection sits idle in the selector.
    silent = socket.create_connection(("127.0.0.1", server.settings["port"]))
    time.sleep(0.3)

    signalled = time.monotonic()
    server.process.send_signal(signum)

    assert server.exit_within(6, since=signalled) == 0, server.log()
    silent.close()
    assert "QBWC server stopped" in server.last_line()
    assert not Path(f"{server.buffer}-wal").exists()  # closed once, its WAL checkpointed
    _assert_intact(server.buffer)
    assert _rows(server.buffer, "SELECT COUNT(*) FROM entries")[0][0] == entries


@contextlib.contextmanager
def _request_stuck_in_the_buffer(server: Serve) -> Iterator[str]:
    """Commit one session (its ticket is yielded), then leave a second authenticate waiting on
    the buffer's write lock, held here the way another process's transaction would hold it."""
    ticket = call(server.url, "authenticate", strUserName=USERNAME, strPassword=PASSWORD)[0]
    holder = sqlite3.connect(server.buffer, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    payload = envelope("authenticate", strUserName=USERNAME, strPassword=PASSWORD)
    waiting = threading.Thread(target=_post_quietly, args=(server.url, payload), daemon=True)
    waiting.start()
    time.sleep(1.0)  # the request reaches a worker, which waits on the lock (busy_timeout 30 s)
    try:
        yield ticket
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _post_quietly(url: str, payload: bytes) -> None:
    with contextlib.suppress(Exception):  # the server goes away under it
        post(url, "authenticate", payload)


def _assert_committed_session_kept(server: Serve, ticket: str) -> None:
    _assert_intact(server.buffer)  # opening it replays what the WAL holds
    assert (ticket,) in _rows(server.buffer, "SELECT ticket FROM sessions")


def test_a_second_signal_during_a_stuck_shutdown_exits_at_once_naming_what_is_busy(serve):
    server = serve()
    with _request_stuck_in_the_buffer(server) as ticket:
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)

        code = server.exit_within(3, since=signalled)

    assert code == 1, server.log()
    last = server.last_line()
    assert "a second signal (SIGTERM) came during the shutdown" in last
    assert "create_session" in last and "Fix:" in last
    _assert_committed_session_kept(server, ticket)


def test_a_shutdown_still_busy_at_the_deadline_exits_1_naming_what_is_busy(serve):
    server = serve()
    with _request_stuck_in_the_buffer(server) as ticket:
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)

        code = server.exit_within(SHUTDOWN_SECONDS + 4, since=signalled)
        took = time.monotonic() - signalled

    assert code == 1, server.log()
    assert took >= SHUTDOWN_SECONDS - 0.5
    last = server.last_line()
    assert f"SIGTERM, then still busy after {SHUTDOWN_SECONDS:g} s" in last
    assert "create_session" in last and "Fix:" in last
    _assert_committed_session_kept(server, ticket)
