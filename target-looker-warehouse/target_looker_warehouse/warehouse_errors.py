"""What a warehouse error means for the run (qbc_plugin_kit.failures): retry it, stop, or set
the record aside. DuckDB and PostgreSQL (psycopg) errors arrive wrapped by SQLAlchemy."""

from __future__ import annotations

import sqlalchemy as sa
from qbc_plugin_kit.failures import Kind, Verdict

from target_looker_warehouse.load_values import ValueConversionError

_TRANSIENT = (
    "connection", "timeout", "terminat", "server closed",
    # Sinks drain in parallel: a header's deletion cascade can meet its lines' merge.
    "deadlock detected", "could not serialize", "transaction conflict", "conflict on",
)
# (marker in the error text, what it means, what to do)
_SYSTEMIC = (
    ("password authentication failed", "PostgreSQL refused the login",
     "check the settings user and password (or sqlalchemy_url)"),
    ("no password supplied", "PostgreSQL asks for a password", "set the setting password"),
    ("does not exist", "the warehouse has no such database, schema or role",
     "check the settings database, default_target_schema and user"),
    ("permission denied", "the warehouse user lacks a permission",
     "grant the user CREATE and write rights on default_target_schema and model_schema"),
    ("could not connect", "the warehouse cannot be reached",
     "check the settings host and port (and that PostgreSQL is running)"),
    ("connection refused", "the warehouse cannot be reached",
     "check the settings host and port (and that PostgreSQL is running)"),
    ("could not set lock on file", "another process holds the DuckDB file open",
     "stop the other process using duckdb_path (DuckDB allows one writer), then run again"),
    ("read-only", "the warehouse is read-only", "point duckdb_path or the PostgreSQL user at a writable database"),
    ("no space left", "the warehouse's disk is full", "free disk space, then run again"),
)
# Errors about one value: the record holding it is set aside alone.
_DATA = ("conversion error", "out of range", "invalid input syntax", "numeric field overflow",
         "value too long", "invalid byte sequence", "datetime field overflow")


def classify(error: BaseException) -> Verdict:
    if isinstance(error, ValueConversionError):
        return Verdict(Kind.DATA, str(error))
    text = str(getattr(error, "orig", None) or error)
    lowered = text.lower()
    first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    for marker, cause, fix in _SYSTEMIC:
        if marker in lowered:
            return Verdict(Kind.SYSTEMIC, f"{cause}: {first_line}", fix)
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return Verdict(Kind.TRANSIENT, first_line)
    if any(marker in lowered for marker in _TRANSIENT) or isinstance(error, ConnectionError | TimeoutError):
        return Verdict(Kind.TRANSIENT, first_line)
    if isinstance(error, sa.exc.DataError) or any(marker in lowered for marker in _DATA):
        return Verdict(Kind.DATA, first_line)
    return Verdict(Kind.REFUSED, f"{type(error).__name__}: {first_line}")
