"""A full batch loads into PostgreSQL while the next records are read (qbc_plugin_kit.background_load):
what a user would notice if that went wrong is a run that ends green, or saves its state, after a
batch did not land. These tests stop the server while a batch is loading in the background."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time
import typing as t

import psycopg
import pytest
from sandboxes.postgres.cluster import PostgresCluster

SCHEMA = {"type": "SCHEMA", "stream": "customers", "key_properties": ["company_id", "id"],
          "schema": {"type": "object", "properties": {
              "company_id": {"type": "string"}, "id": {"type": "string"},
              "display_name": {"type": ["string", "null"]},
              "updated_at": {"type": ["string", "null"], "format": "date-time"}}}}


def _record(n: int) -> str:
    return json.dumps({"type": "RECORD", "stream": "customers", "record": {
        "company_id": "c1", "id": str(n), "display_name": f"Customer {n}",
        "updated_at": "2026-11-30T09:00:00-05:00"}}) + "\n"


def _stored(dsn: str, schema: str) -> int:
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            return int(conn.execute(f'SELECT count(*) FROM "{schema}".customers').fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return 0


@pytest.fixture
def own_postgres() -> t.Iterator[PostgresCluster]:
    with PostgresCluster() as cluster:  # stopped by the test: not the session's shared cluster
        yield cluster


def test_a_batch_that_fails_while_loading_in_the_background_stops_the_run_before_any_state(
        own_postgres: PostgresCluster, tmp_path: pathlib.Path) -> None:
    config = {"dialect": "postgres", "sqlalchemy_url": own_postgres.sqlalchemy_url(),
              "default_target_schema": "bg", "dead_letter_path": str(tmp_path / "dl"),
              "batch_size_rows": 3, "max_retries": 0, "model_enabled": False}
    (tmp_path / "config.json").write_text(json.dumps(config))
    target = subprocess.Popen(
        [sys.executable, "-c", "from target_looker_warehouse.cli import main; main()",
         "--config", str(tmp_path / "config.json")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert target.stdin is not None
    try:
        target.stdin.write(json.dumps(SCHEMA) + "\n" + "".join(_record(n) for n in range(3)))
        target.stdin.flush()
        # The first full batch lands while the target waits for more input.
        deadline = time.monotonic() + 60
        while _stored(own_postgres.dsn, "bg") < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _stored(own_postgres.dsn, "bg") == 3
        own_postgres.stop()
        # The second batch fills and goes to the worker; the server is gone.
        rest = "".join(_record(n) for n in range(3, 6))
        rest += json.dumps({"type": "STATE", "value": {"bookmarks": {"customers": 6}}}) + "\n"
        stdout, stderr = target.communicate(rest, timeout=120)
    finally:
        if target.poll() is None:
            target.kill()
    assert target.returncode != 0, stderr[-2000:]
    # No STATE: the batch behind it never landed, so the next run starts where this one did.
    assert "bookmarks" not in stdout
    last = stderr.strip().splitlines()[-1]
    assert "cannot be reached" in last and "Fix:" in last, last
