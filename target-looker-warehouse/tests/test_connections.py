"""A load closes its warehouse connections when it ends: none is left for the garbage collector
(psycopg warns of each: "connection ... was deleted while still open") nor held open on the
PostgreSQL server by a process that goes on (an orchestrator, a test session)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
import typing as t
import uuid

import sqlalchemy as sa

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import run_target

COMMAND = str(pathlib.Path(sys.executable).parent / "target-looker-warehouse")


def _sessions(config: t.Mapping[str, t.Any], application: str, settle_s: float = 5.0) -> int:
    """Sessions of ``application`` still on the server. A backend leaves pg_stat_activity a
    moment after its client closed the connection (it exits on its own schedule), so a count
    above zero is read again until ``settle_s`` has passed: a session really held stays."""
    engine = sa.create_engine(config["sqlalchemy_url"])
    deadline = time.monotonic() + settle_s
    try:
        while True:
            with engine.connect() as conn:
                found = int(conn.execute(
                    sa.text("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = :a"),
                    {"a": application}).scalar_one())
            if found == 0 or time.monotonic() >= deadline:
                return found
            time.sleep(0.1)
    finally:
        engine.dispose()


def test_a_postgresql_load_ends_without_a_connection_left_open(
    postgres_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(postgres_config))
    # Warnings shown as Python shows them in development (-X dev): ResourceWarning included.
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    result = subprocess.run([COMMAND, "--config", str(path)], input=singer_lines(QuickBooksData(invoices=3, bills=3).records),
                            capture_output=True, text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "deleted while still open" not in result.stderr, result.stderr[-3000:]
    assert "ResourceWarning" not in result.stderr, result.stderr[-3000:]


def test_the_target_holds_no_postgresql_session_once_its_run_is_over(postgres_config: dict[str, t.Any]) -> None:
    application = f"qbc-test-{uuid.uuid4().hex[:12]}"
    url = sa.make_url(postgres_config["sqlalchemy_url"]).update_query_dict({"application_name": application})
    config = {**postgres_config, "sqlalchemy_url": url.render_as_string(hide_password=False)}
    target, _ = run_target(config, singer_lines(QuickBooksData(invoices=3, bills=3).records))
    assert target.after_load_report.get("model"), "the run went as far as the modelled layer"
    assert _sessions(postgres_config, application) == 0
