# Fixtures are imported by name, so each use looks like a redefinition to ruff.
# ruff: noqa: F811
"""The local warehouse runs each call once, whatever happens to the link to Spark.

A warehouse's gateway never replays a statement. The adapter used to resend any request whose
answer it lost on a kept-alive connection to Spark, although Spark had already run it: a lost
CloseOperation answer came back as ``Invalid OperationHandle`` (the error that failed a
four-stream load in CI), a lost ExecuteStatement answer inserted the rows twice. These tests put
a proxy between the adapter and Spark that lets a request through and then loses Spark's answer.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from databricks.sql.exc import Error
from sandboxes.databricks import LocalWarehouse, thrift_messages
from sandboxes.databricks.fixtures import databricks_engine, unique_schema  # noqa: F401
from sandboxes.server_thread import ServerThread

# The target's own settings: one attempt, the connector never sleeps to retry by itself.
NO_RETRIES: dict[str, Any] = {
    "_retry_stop_after_attempts_count": 1,
    "_retry_stop_after_attempts_duration": 1,
}


class _LossyLink(ThreadingHTTPServer):
    daemon_threads = True
    spark_port: int
    lock: threading.Lock
    lose: Counter[str]
    seen: Counter[str]
    lost: set[bytes]


class _LinkHandler(BaseHTTPRequestHandler):
    """Forwards one keep-alive connection to Spark; loses armed answers after Spark ran them."""

    protocol_version = "HTTP/1.1"
    server: _LossyLink
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        method = thrift_messages.message_name(body)
        if self._upstream is None:
            self._upstream = http.client.HTTPConnection("127.0.0.1", self.server.spark_port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
        self._upstream.request("POST", self.path, body=body, headers=headers)
        answer = self._upstream.getresponse()
        payload = answer.read()
        with self.server.lock:
            self.server.seen[method] += 1
            # Never the same request twice: each loss is a separate accident.
            lose = self.server.lose[method] > 0 and body not in self.server.lost
            if lose:
                self.server.lose[method] -= 1
                self.server.lost.add(body)
        if lose:
            # Spark has run the call; the adapter sees its keep-alive connection reset instead
            # of an answer, as when the link drops at that moment.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "application/x-thrift")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._upstream is not None:
            self._upstream.close()


@pytest.fixture
def lossy_link(databricks_engine: LocalWarehouse) -> Iterator[_LossyLink]:
    """Connections opened while this fixture is active reach Spark through the lossy link."""
    adapter, engine = databricks_engine.adapter, databricks_engine.engine
    assert adapter is not None and engine is not None
    link = _LossyLink(("127.0.0.1", 0), _LinkHandler)
    link.spark_port = engine.port
    link.lock = threading.Lock()
    link.lose = Counter()
    link.seen = Counter()
    link.lost = set()
    serving = ServerThread.start(link, name="lossy-link", poll_interval=0.1)
    original = adapter.backend_port
    # Each adapter connection opens its Spark connection on its first call, to this port.
    adapter.backend_port = serving.port
    try:
        yield link
    finally:
        adapter.backend_port = original
        serving.stop()


def _count(warehouse: LocalWarehouse, table: str) -> int:
    with warehouse.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


def _table(warehouse: LocalWarehouse) -> str:
    schema = f"{warehouse.catalog}.{unique_schema('conc')}"
    with warehouse.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute(f"CREATE TABLE {schema}.t (id INT)")
    return f"{schema}.t"


def test_a_lost_close_answer_does_not_fail_the_statement(
    databricks_engine: LocalWarehouse, lossy_link: _LossyLink
) -> None:
    table = _table(databricks_engine)
    with databricks_engine.connect(**NO_RETRIES) as connection:
        lossy_link.lose["CloseOperation"] = 1
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} VALUES (1)")
        # The connection goes on working after the lost answer.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] == 1
    assert lossy_link.lose["CloseOperation"] == 0  # the armed loss did happen


def test_a_statement_whose_answer_is_lost_runs_once_and_fails_as_a_gateway_error(
    databricks_engine: LocalWarehouse, lossy_link: _LossyLink
) -> None:
    table = _table(databricks_engine)
    with databricks_engine.connect(**NO_RETRIES) as connection:
        lossy_link.lose["ExecuteStatement"] = 1
        with pytest.raises(Error) as raised, connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} VALUES (1)")
        assert "Invalid OperationHandle" not in str(raised.value)
        # The same client connection still works: the failed exchange left nothing half-read.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone()[0] == 1
    assert lossy_link.seen["ExecuteStatement"] >= 2
    # Spark ran the INSERT once; the client knows it failed and decides whether to run it again.
    assert _count(databricks_engine, table) == 1


def test_parallel_connections_each_see_their_own_statements(
    databricks_engine: LocalWarehouse, lossy_link: _LossyLink
) -> None:
    """Four sessions at once, as the target's parallel streams use them, while answers to
    closes and status polls get lost now and then."""
    tables = [_table(databricks_engine) for _ in range(4)]
    lossy_link.lose.update({"CloseOperation": 3, "GetOperationStatus": 3})

    def load(table: str) -> int:
        with databricks_engine.connect(**NO_RETRIES) as connection:
            for i in range(6):
                with connection.cursor() as cursor:
                    cursor.execute(f"INSERT INTO {table} VALUES ({i})")
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*), sum(id) FROM {table}")
                count, total = cursor.fetchone()
                return int(count) * 1000 + int(total)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(load, tables, timeout=180))
    assert results == [6 * 1000 + 15] * 4
    assert lossy_link.lose["CloseOperation"] == 0 and lossy_link.lose["GetOperationStatus"] == 0
