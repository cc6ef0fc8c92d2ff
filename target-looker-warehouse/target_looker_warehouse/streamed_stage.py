"""A batch's rows sent to its staging table while the batch is still being read (PostgreSQL).

A batch used to reach PostgreSQL only once it was full: COPY, then merge. After the last record
of the input, that meant the whole last batch's COPY before its merge could start (about a
quarter of the time after the input ended, issue 17). A :class:`StreamedStage` opens the COPY
once a batch is big enough to be worth it, and sends its rows a few thousand at a time as the
reading goes on; the server parses them on its own CPU meanwhile. When the batch drains, only
the end of the COPY and the merge are left.

It is only a head start: the batch's rows stay in memory as before, and the batch is loaded
the usual way (its own staging table and COPY) whenever the stage cannot be used as it is: the
COPY failed (a value the server refuses, a lost connection), or the batch held a key twice (the
staged rows must hold each key once). So the delivery contract's outcomes (what lands, what is
set aside, when the run stops) are those of the usual path.

The staging table is created in a transaction of its own, so the open COPY holds no lock on the
destination table while records are read (a new schema for the stream alters that table).
"""

from __future__ import annotations

import contextlib
import threading
import typing as t

import sqlalchemy as sa

#: Rows sent per COPY write (~1 MB of invoice lines).
ROWS_PER_WRITE = 2_000
#: A batch starts streaming once it holds this many rows: small batches load as before.
STREAM_FROM_ROWS = 10_000
#: Batches streaming at once, per target: each holds a connection while it is read.
MAX_STREAMING = 2

_streaming = threading.BoundedSemaphore(MAX_STREAMING)


class StreamedStage:
    """One batch's staging table, filled by an open COPY as rows arrive."""

    def __init__(self, connection: sa.Connection, staging: str, create_sql: str, copy_sql: str,
                 drop_sql: str) -> None:
        self.connection = connection
        self.staging = staging
        self.rows = 0
        self.pending: list[str] = []
        self.failed: BaseException | None = None
        self._drop_sql = drop_sql
        self._released = False
        with connection.begin():  # committed now: the COPY's transaction locks nothing shared
            connection.exec_driver_sql(create_sql)
        self._transaction: sa.RootTransaction | None = connection.begin()
        self._cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._copy_cm: t.Any = self._cursor.copy(copy_sql)
        self._copy = self._copy_cm.__enter__()

    @classmethod
    def open(cls, engine: sa.Engine, staging: str, create_sql: str, copy_sql: str, drop_sql: str,
             rows: t.Iterable[str]) -> StreamedStage | None:
        """A stage holding ``rows`` (the batch so far), or None when no stage is free or the
        database refused to open one (the batch then loads the usual way, which reports why)."""
        if not _streaming.acquire(blocking=False):
            return None
        try:
            connection = engine.connect()
        except Exception:  # the usual path meets the same cause and names it
            _streaming.release()
            return None
        try:
            stage = cls(connection, staging, create_sql, copy_sql, drop_sql)
        except Exception:  # as above
            with contextlib.suppress(Exception):
                connection.close()
            _streaming.release()
            return None
        stage.pending.extend(rows)
        stage.send()
        return stage

    def send(self) -> None:
        """Write the pending rows to the COPY (a failure is kept: the batch then loads the usual way)."""
        pending, self.pending = self.pending, []
        if self.failed is not None or not pending:
            return
        try:
            self._copy.write("\n".join(pending) + "\n")
            self.rows += len(pending)
        except Exception as error:  # kept: see finish()
            self.failed = error

    def finish(self) -> bool:
        """End the COPY; True when the staging table holds every row sent, in a transaction
        still open for the merge (on :attr:`connection`)."""
        self.send()
        if self.failed is not None or self._copy_cm is None:
            return False
        copy_cm, self._copy_cm = self._copy_cm, None
        try:
            copy_cm.__exit__(None, None, None)
        except Exception as error:
            self.failed = error
            return False
        return True

    def commit(self) -> None:
        """Commit the merge's transaction and give the connection back."""
        transaction, self._transaction = self._transaction, None
        try:
            if transaction is not None:
                transaction.commit()
        finally:
            self._close()

    def discard(self) -> None:
        """Drop what was staged (the usual path loads the batch) and give the connection back."""
        copy_cm, self._copy_cm = self._copy_cm, None
        with contextlib.suppress(Exception):
            if copy_cm is not None:
                copy_cm.__exit__(RuntimeError, RuntimeError("stage discarded"), None)
        with contextlib.suppress(Exception):
            if self._transaction is not None:
                self._transaction.rollback()
        self._transaction = None
        with contextlib.suppress(Exception), self.connection.begin():
            self.connection.exec_driver_sql(self._drop_sql)
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._cursor.close()
        with contextlib.suppress(Exception):
            self.connection.close()
        if not self._released:
            self._released = True
            _streaming.release()
