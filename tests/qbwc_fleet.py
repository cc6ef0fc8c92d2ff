"""Many QuickBooks companies, two QBWC server replicas, haproxy, one PostgreSQL: the harness.

Used by tests/test_scale_out.py (reduced size in CI) and bench/qbwc_scale_out.py (1 to 50
companies). Each replica is a real `tap-quickbooks-desktop serve` process; haproxy balances
every SOAP call round-robin with no stickiness; every Web Connector is the sandbox's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandboxes.qbwc import QuickBooksCompany, QWCFile, SessionReport, WebConnector
from tap_quickbooks_desktop.config import server_config
from tap_quickbooks_desktop.qwc import render_qwc

HAPROXY_CONFIG = """global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout check 10s
    retries 3
    # A call refused by a dead replica goes to a live one: the Web Connector never knows.
    option redispatch
    option http-server-close
frontend qbwc
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /?wsdl
{servers}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}) before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if not found:
        raise RuntimeError("haproxy is not installed: run scripts/test (install_scale_out_tools) "
                           "or apt-get install -y haproxy")
    return found


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a live process: its peak resident set so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes]
    peak_rss_mib: float = 0.0
    cpu_seconds: float = 0.0

    def sample(self) -> None:
        try:
            self.peak_rss_mib = max(self.peak_rss_mib, peak_rss_mib(self.process.pid))
            self.cpu_seconds = cpu_seconds(self.process.pid)
        except (FileNotFoundError, ProcessLookupError):
            pass  # the replica was killed: its last sample stands


@dataclass
class FleetCompany:
    key: str
    company: QuickBooksCompany
    reports: list[SessionReport] = field(default_factory=list)


class QbwcFleet:
    """`with QbwcFleet(tmp, dsn, companies=10) as fleet: fleet.run_wave()`."""

    def __init__(self, workdir: Path, database_url: str, *, companies: int, transactions: int,
                 replicas: int = 2, max_returned: int = 50) -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.count = companies
        self.transactions = transactions
        self.replica_count = replicas
        self.max_returned = max_returned
        self.companies: list[FleetCompany] = []
        self.replicas: list[Replica] = []
        self.haproxy: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._lock = threading.Lock()
        self.requests_answered = 0

    # --- set-up ---------------------------------------------------------------------------
    def settings(self) -> dict[str, object]:
        return {
            "companies": [{"company": c.key, "username": f"qbwc-{c.key}", "password": f"pw-{c.key}",
                           "company_file": c.company.company_file} for c in self.companies],
            "state_database_url": self.database_url,
            "host": "127.0.0.1",
            "max_returned": self.max_returned,
            "failure_backoff_seconds": 0,
        }

    def start(self) -> QbwcFleet:
        for index in range(self.count):
            company = QuickBooksCompany.generate(
                seed=1000 + index, transactions=self.transactions,
                path=self.workdir / f"company-{index:03d}.sqlite", tz="-05:00")
            self.companies.append(FleetCompany(f"company-{index:03d}", company))
        settings_path = self.workdir / "qbwc-settings.json"
        settings_path.write_text(json.dumps(self.settings()))
        serve = Path(sys.executable).parent / "tap-quickbooks-desktop"
        for index in range(self.replica_count):
            port = free_port()
            log = (self.workdir / f"replica-{index}.log").open("wb")
            process = subprocess.Popen(
                [str(serve), "serve", "--config", str(settings_path), "--port", str(port)],
                stdout=log, stderr=subprocess.STDOUT)
            self.replicas.append(Replica(port, process))
        for replica in self.replicas:
            wait_for_port(replica.port, 60, replica.process)
        self.port = free_port()
        servers = "\n".join(f"    server r{i} 127.0.0.1:{r.port} check inter 1s fall 2 rise 2"
                            for i, r in enumerate(self.replicas))
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        self.haproxy = subprocess.Popen([haproxy_binary(), "-f", str(config), "-db"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 30, self.haproxy)
        return self

    def stop(self) -> None:
        processes = [r.process for r in self.replicas] + ([self.haproxy] if self.haproxy else [])
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for entry in self.companies:
            entry.company.close()

    def __enter__(self) -> QbwcFleet:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- running --------------------------------------------------------------------------
    def connector(self, entry: FleetCompany, between_requests: Callable[[int], None]) -> WebConnector:
        settings = {**self.settings(), "app_url": f"http://localhost:{self.port}/"}
        config = server_config(settings)
        company = config.company_by_key(entry.key)
        assert company is not None
        qwc = self.workdir / f"{entry.key}.qwc"
        qwc.write_text(render_qwc(config, company))
        return WebConnector(qwc=QWCFile.load(str(qwc)), password=f"pw-{entry.key}", company=entry.company,
                            between_requests=between_requests, timeout=60)

    def run_wave(self, kill_replica_after: int | None = None, max_sessions_per_company: int = 4) -> float:
        """Every company's Web Connector at once, each until one session completes; wall seconds.

        With `kill_replica_after`, replica 0 gets SIGKILL once that many qbXML requests have been
        answered across the fleet. A session cut by it is followed by the next scheduled one,
        as QBWC does.
        """
        started = time.perf_counter()

        def answered(_n: int) -> None:
            with self._lock:
                self.requests_answered += 1
                kill = kill_replica_after is not None and self.requests_answered == kill_replica_after
            if kill:
                self.kill_replica(0)

        def run(entry: FleetCompany) -> None:
            connector = self.connector(entry, answered)
            for _ in range(max_sessions_per_company):
                report = connector.run_once()
                entry.reports.append(report)
                self.sample()
                if report.outcome == "completed":
                    return

        threads = [threading.Thread(target=run, args=(entry,)) for entry in self.companies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        return time.perf_counter() - started

    def sample(self) -> None:
        for replica in self.replicas:
            replica.sample()

    def kill_replica(self, index: int) -> None:
        """SIGKILL: no clean shutdown, whatever call it was answering is cut."""
        self.replicas[index].sample()
        os.kill(self.replicas[index].process.pid, signal.SIGKILL)
        self.replicas[index].process.wait(timeout=10)
