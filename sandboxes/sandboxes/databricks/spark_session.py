"""Helper statements run on the client's own Spark session, for what the adapter looks up.

The statements the adapter answers itself still need Spark: its catalog (does the schema exist,
which files has a table loaded) and its engine (COPY INTO's insert). Running them on the
client's own session resolves names against its current catalog and schema, and lets Spark
run nothing the client could not have sent it directly.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .backend_client import BackendClient
from .protocol_translator import display_message
from .statement_results import StatementFailed
from .thrift_messages import ttypes

_MAX_FETCH_PAGES = 1_000
_FETCH_PAGE_ROWS = 10_000


class SparkSession:
    """Runs statements synchronously on the caller's own Spark session."""

    def __init__(self, backend: BackendClient, session: Any) -> None:
        self._backend = backend
        self._session = session

    def rows(self, statement: str) -> list[list[Any]]:
        response = self._backend.call(
            "ExecuteStatement",
            ttypes.TExecuteStatementReq(
                sessionHandle=self._session, statement=statement, runAsync=False
            ),
        )
        status = response.status
        if status.statusCode == ttypes.TStatusCode.ERROR_STATUS:
            if response.operationHandle is not None:
                self._close(response.operationHandle)
            raise StatementFailed(
                display_message(status.errorMessage or ""), status.sqlState or "XX000"
            )
        handle = response.operationHandle
        if handle is None:
            return []
        try:
            return self._fetch_all(handle) if handle.hasResultSet else []
        finally:
            self._close(handle)

    def _fetch_all(self, handle: Any) -> list[list[Any]]:
        rows: list[list[Any]] = []
        for _ in range(_MAX_FETCH_PAGES):
            page = self._backend.call(
                "FetchResults",
                ttypes.TFetchResultsReq(
                    operationHandle=handle,
                    orientation=ttypes.TFetchOrientation.FETCH_NEXT,
                    maxRows=_FETCH_PAGE_ROWS,
                ),
            )
            columns = (
                [_column_values(c) for c in (page.results.columns or [])] if page.results else []
            )
            if not columns or not columns[0]:
                return rows
            rows.extend([list(row) for row in zip(*columns, strict=True)])
        raise RuntimeError("result larger than the sandbox reads back")

    def _close(self, handle: Any) -> None:
        with contextlib.suppress(Exception):
            self._backend.call("CloseOperation", ttypes.TCloseOperationReq(operationHandle=handle))


def _column_values(column: Any) -> list[Any]:
    for field in (
        "stringVal",
        "i64Val",
        "i32Val",
        "i16Val",
        "byteVal",
        "doubleVal",
        "boolVal",
        "binaryVal",
    ):
        typed = getattr(column, field)
        if typed is not None:
            nulls = typed.nulls or b""
            return [
                None if i // 8 < len(nulls) and nulls[i // 8] >> (i % 8) & 1 else value
                for i, value in enumerate(typed.values)
            ]
    return []
