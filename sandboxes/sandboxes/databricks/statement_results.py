"""Thrift replies for the statements the adapter answers itself instead of Spark.

Spark never sees these statements, so the adapter builds the ``TExecuteStatementResp`` a
warehouse would send: a finished result set, or a failure with the warehouse's error class and
SQLSTATE, both complete in the reply so the connector has nothing to ask Spark about.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from .thrift_messages import ttypes


class StatementFailed(Exception):
    """The statement fails as the warehouse fails it: an error class and SQLSTATE."""

    def __init__(self, message: str, sql_state: str) -> None:
        super().__init__(message)
        self.sql_state = sql_state


def failure(error_class: str, sql_state: str, detail: str) -> StatementFailed:
    return StatementFailed(f"[{error_class}] {detail}", sql_state)


def _success() -> Any:
    return ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)


def _operation_handle(*, has_result_set: bool) -> Any:
    return ttypes.TOperationHandle(
        operationId=ttypes.THandleIdentifier(guid=uuid.uuid4().bytes, secret=uuid.uuid4().bytes),
        operationType=ttypes.TOperationType.EXECUTE_STATEMENT,
        hasResultSet=has_result_set,
    )


def _column_desc(name: str, type_id: int, position: int) -> Any:
    entry = ttypes.TTypeEntry(primitiveEntry=ttypes.TPrimitiveTypeEntry(type=type_id))
    return ttypes.TColumnDesc(
        columnName=name, typeDesc=ttypes.TTypeDesc(types=[entry]), position=position
    )


def _nulls(values: Sequence[Any]) -> bytes:
    bitmap = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is None:
            bitmap[i // 8] |= 1 << (i % 8)
    return bytes(bitmap)


def _column(type_id: int, values: Sequence[Any]) -> Any:
    if type_id == ttypes.TTypeId.BIGINT_TYPE:
        return ttypes.TColumn(
            i64Val=ttypes.TI64Column(values=[v or 0 for v in values], nulls=_nulls(values))
        )
    return ttypes.TColumn(
        stringVal=ttypes.TStringColumn(values=[v or "" for v in values], nulls=_nulls(values))
    )


def result_set(
    columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[Any]], *, staging: bool = False
) -> Any:
    """A finished statement with its whole result in the reply, closed server side.

    A warehouse hands small results back this way (``directResults``), so the connector makes
    no further call for the operation: the synthetic handle is never seen by Spark.
    """
    handle = _operation_handle(has_result_set=True)
    schema = ttypes.TTableSchema(
        columns=[_column_desc(n, t, i + 1) for i, (n, t) in enumerate(columns)]
    )
    row_set = ttypes.TRowSet(
        startRowOffset=0,
        rows=[],
        columns=[_column(t, [row[i] for row in rows]) for i, (_, t) in enumerate(columns)],
    )
    direct = ttypes.TSparkDirectResults(
        operationStatus=ttypes.TGetOperationStatusResp(
            status=_success(), operationState=ttypes.TOperationState.FINISHED_STATE
        ),
        resultSetMetadata=ttypes.TGetResultSetMetadataResp(
            status=_success(),
            schema=schema,
            resultFormat=ttypes.TSparkRowSetType.COLUMN_BASED_SET,
            lz4Compressed=False,
            isStagingOperation=staging,
        ),
        resultSet=ttypes.TFetchResultsResp(status=_success(), hasMoreRows=False, results=row_set),
        closeOperation=ttypes.TCloseOperationResp(status=_success()),
    )
    return ttypes.TExecuteStatementResp(
        status=_success(), operationHandle=handle, directResults=direct
    )


def failed_statement(failure: StatementFailed) -> Any:
    """The statement ran and failed: the connector raises ServerOperationError, as for Spark's."""
    handle = _operation_handle(has_result_set=False)
    message = str(failure)
    status = ttypes.TGetOperationStatusResp(
        status=_success(),
        operationState=ttypes.TOperationState.ERROR_STATE,
        sqlState=failure.sql_state,
        errorMessage=message,
        displayMessage=message,
    )
    direct = ttypes.TSparkDirectResults(
        operationStatus=status, closeOperation=ttypes.TCloseOperationResp(status=_success())
    )
    return ttypes.TExecuteStatementResp(
        status=_success(), operationHandle=handle, directResults=direct
    )
