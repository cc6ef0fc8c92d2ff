"""Drive the real target in-process on Singer text, and read the warehouse back."""

from __future__ import annotations

import contextlib
import io
import typing as t

import sqlalchemy as sa
from target_looker_warehouse.target import TargetLookerWarehouse


def run_target(config: t.Mapping[str, t.Any], singer_text: str) -> tuple[TargetLookerWarehouse, str]:
    """Run one target invocation; return it and what it wrote to stdout (STATE lines)."""
    target = TargetLookerWarehouse(config=dict(config), validate_config=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            target.listen(io.StringIO(singer_text))
        except Exception as error:
            error.add_note(f"stdout: {out.getvalue()}")  # what the target emitted before failing
            raise
    return target, out.getvalue()


def query(config: t.Mapping[str, t.Any], sql: str, **params: t.Any) -> list[tuple[t.Any, ...]]:
    connector = TargetLookerWarehouse(config=dict(config), validate_config=True).warehouse_connector
    try:
        with connector.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]
    finally:
        connector.dispose()


def raw(config: t.Mapping[str, t.Any], table: str) -> str:
    return f'"{config.get("default_target_schema", "quickbooks")}"."{table}"'


def model(config: t.Mapping[str, t.Any], table: str) -> str:
    return f'"{config.get("model_schema", "finance")}"."{table}"'
