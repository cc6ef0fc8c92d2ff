"""The thrift rewrites that make Spark's answers acceptable to databricks-sql-connector, checked
against a scripted Spark (no JVM needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxes.databricks import thrift_messages
from sandboxes.databricks.backend_client import BackendResponse
from sandboxes.databricks.protocol_translator import ProtocolTranslator
from sandboxes.databricks.thrift_messages import ThriftMessage, ttypes
from thrift.Thrift import TMessageType

OK = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
SESSION = ttypes.TSessionHandle(sessionId=ttypes.THandleIdentifier(guid=b"s" * 16, secret=b"x" * 16))
OPERATION = ttypes.TOperationHandle(
    operationId=ttypes.THandleIdentifier(guid=b"o" * 16, secret=b"y" * 16),
    operationType=ttypes.TOperationType.EXECUTE_STATEMENT,
    hasResultSet=True,
)


class ScriptedSpark:
    """Answers each thrift call with what a handler for that method returns; records calls."""

    def __init__(self, handlers: dict[str, Callable[[Any], Any]]) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, Any]] = []

    def post(self, body: bytes) -> BackendResponse:
        call = thrift_messages.decode_call(body)
        self.calls.append((call.name, call.body.req))
        result_cls = getattr(thrift_messages.TCLIService, f"{call.name}_result")
        reply = ThriftMessage(
            call.name, TMessageType.REPLY, call.seqid, result_cls(success=self.handlers[call.name](call.body.req))
        )
        return BackendResponse(200, thrift_messages.encode(reply), "application/x-thrift")

    def call(self, name: str, request: Any) -> Any:
        response = self.post(thrift_messages.call(name, request))
        return thrift_messages.decode_reply(response.body).body.success


def roundtrip(translator: ProtocolTranslator, spark: ScriptedSpark, name: str, request: Any) -> Any:
    reply = translator.handle(name, thrift_messages.call(name, request), spark)  # type: ignore[arg-type]
    return thrift_messages.decode_reply(reply).body.success


def string_rows(count: int) -> Any:
    values = [str(i) for i in range(count)]
    return ttypes.TRowSet(
        startRowOffset=0, rows=[], columns=[ttypes.TColumn(stringVal=ttypes.TStringColumn(values=values, nulls=b""))]
    )


def metadata_with(*types: int) -> Any:
    columns = [
        ttypes.TColumnDesc(
            columnName=f"c{i}",
            position=i,
            typeDesc=ttypes.TTypeDesc(types=[ttypes.TTypeEntry(primitiveEntry=ttypes.TPrimitiveTypeEntry(type=t))]),
        )
        for i, t in enumerate(types)
    ]
    return ttypes.TGetResultSetMetadataResp(status=OK, schema=ttypes.TTableSchema(columns=columns))


def fetch_request(max_rows: int) -> Any:
    return ttypes.TFetchResultsReq(
        operationHandle=OPERATION,
        orientation=ttypes.TFetchOrientation.FETCH_NEXT,
        maxRows=max_rows,
        includeResultSetMetadata=True,
    )


def test_open_session_reports_protocol_v8_and_sends_spark_a_hive_version() -> None:
    spark = ScriptedSpark(
        {
            "OpenSession": lambda req: ttypes.TOpenSessionResp(
                status=OK, serverProtocolVersion=ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10, sessionHandle=SESSION
            )
        }
    )
    request = ttypes.TOpenSessionReq(
        client_protocol=None, client_protocol_i64=ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V7
    )
    response = roundtrip(ProtocolTranslator(), spark, "OpenSession", request)
    # V8 is where the connector starts sending native query parameters, as to a SQL warehouse.
    assert response.serverProtocolVersion == ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8
    assert response.canUseMultipleCatalogs is True
    assert spark.calls[0][1].client_protocol == ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10


def test_open_session_with_initial_namespace_runs_use_on_the_new_session() -> None:
    statements: list[str] = []

    def execute(req: Any) -> Any:
        statements.append(req.statement)
        return ttypes.TExecuteStatementResp(status=OK, operationHandle=OPERATION)

    spark = ScriptedSpark(
        {
            "OpenSession": lambda req: ttypes.TOpenSessionResp(status=OK, serverProtocolVersion=9, sessionHandle=SESSION),
            "ExecuteStatement": execute,
            "CloseOperation": lambda req: ttypes.TCloseOperationResp(status=OK),
        }
    )
    request = ttypes.TOpenSessionReq(initialNamespace=ttypes.TNamespace(catalogName="main", schemaName="we`ird"))
    response = roundtrip(ProtocolTranslator(), spark, "OpenSession", request)
    assert statements == ["USE `main`.`we``ird`"]
    assert response.initialNamespace.schemaName == "we`ird"


def test_open_session_fails_and_closes_spark_session_when_the_schema_is_missing() -> None:
    error = ttypes.TStatus(statusCode=ttypes.TStatusCode.ERROR_STATUS, errorMessage="[SCHEMA_NOT_FOUND] main.nope")
    spark = ScriptedSpark(
        {
            "OpenSession": lambda req: ttypes.TOpenSessionResp(status=OK, serverProtocolVersion=9, sessionHandle=SESSION),
            "ExecuteStatement": lambda req: ttypes.TExecuteStatementResp(status=error),
            "CloseSession": lambda req: ttypes.TCloseSessionResp(status=OK),
        }
    )
    request = ttypes.TOpenSessionReq(initialNamespace=ttypes.TNamespace(catalogName="main", schemaName="nope"))
    response = roundtrip(ProtocolTranslator(), spark, "OpenSession", request)
    assert response.status.statusCode == ttypes.TStatusCode.ERROR_STATUS
    assert "SCHEMA_NOT_FOUND" in response.status.errorMessage
    assert response.sessionHandle is None
    assert [name for name, _ in spark.calls][-1] == "CloseSession"


def test_result_metadata_states_column_based_format() -> None:
    spark = ScriptedSpark({"GetResultSetMetadata": lambda req: metadata_with(ttypes.TTypeId.STRING_TYPE)})
    response = roundtrip(
        ProtocolTranslator(), spark, "GetResultSetMetadata", ttypes.TGetResultSetMetadataReq(operationHandle=OPERATION)
    )
    assert response.resultFormat == ttypes.TSparkRowSetType.COLUMN_BASED_SET
    assert response.lz4Compressed is False


def test_full_page_says_more_rows_may_follow() -> None:
    spark = ScriptedSpark(
        {
            "FetchResults": lambda req: ttypes.TFetchResultsResp(status=OK, hasMoreRows=False, results=string_rows(req.maxRows)),
            "GetResultSetMetadata": lambda req: metadata_with(ttypes.TTypeId.STRING_TYPE),
        }
    )
    response = roundtrip(ProtocolTranslator(), spark, "FetchResults", fetch_request(100))
    assert response.hasMoreRows is True


def test_short_or_empty_page_ends_the_result() -> None:
    pages = iter([37, 0])
    spark = ScriptedSpark(
        {
            "FetchResults": lambda req: ttypes.TFetchResultsResp(status=OK, hasMoreRows=False, results=string_rows(next(pages))),
            "GetResultSetMetadata": lambda req: metadata_with(ttypes.TTypeId.STRING_TYPE),
        }
    )
    translator = ProtocolTranslator()
    assert roundtrip(translator, spark, "FetchResults", fetch_request(100)).hasMoreRows is False
    assert roundtrip(translator, spark, "FetchResults", fetch_request(100)).hasMoreRows is False


def test_fetch_carries_result_metadata_fetched_once_per_operation() -> None:
    spark = ScriptedSpark(
        {
            "FetchResults": lambda req: ttypes.TFetchResultsResp(status=OK, results=string_rows(1)),
            "GetResultSetMetadata": lambda req: metadata_with(ttypes.TTypeId.STRING_TYPE),
        }
    )
    translator = ProtocolTranslator()
    first = roundtrip(translator, spark, "FetchResults", fetch_request(10))
    roundtrip(translator, spark, "FetchResults", fetch_request(10))
    assert first.resultSetMetadata.resultFormat == ttypes.TSparkRowSetType.COLUMN_BASED_SET
    assert [name for name, _ in spark.calls].count("GetResultSetMetadata") == 1


def test_empty_result_gets_one_empty_column_per_schema_field() -> None:
    spark = ScriptedSpark(
        {
            "FetchResults": lambda req: ttypes.TFetchResultsResp(
                status=OK, results=ttypes.TRowSet(startRowOffset=0, rows=[], columns=None)
            ),
            "GetResultSetMetadata": lambda req: metadata_with(ttypes.TTypeId.BIGINT_TYPE, ttypes.TTypeId.DECIMAL_TYPE),
        }
    )
    response = roundtrip(ProtocolTranslator(), spark, "FetchResults", fetch_request(10))
    assert response.results.columns[0].i64Val.values == []
    assert response.results.columns[1].stringVal.values == []
    assert response.hasMoreRows is False


def test_other_calls_pass_through_byte_for_byte() -> None:
    spark = ScriptedSpark(
        {"GetOperationStatus": lambda req: ttypes.TGetOperationStatusResp(status=OK, operationState=2)}
    )
    request = ttypes.TGetOperationStatusReq(operationHandle=OPERATION)
    body = thrift_messages.call("GetOperationStatus", request)
    reply = ProtocolTranslator().handle("GetOperationStatus", body, spark)  # type: ignore[arg-type]
    assert reply == spark.post(body).body


def test_failed_statement_gets_a_display_message_without_the_java_stack() -> None:
    spark_error = (
        "org.apache.hive.service.cli.HiveSQLException: Error running query: [TABLE_OR_VIEW_NOT_FOUND] "
        "org.apache.spark.sql.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`a`.`b` "
        "cannot be found.\n\tat org.apache.spark.sql.hive.thriftserver.X.run(X.scala:1)\nCaused by: ..."
    )
    spark = ScriptedSpark(
        {
            "GetOperationStatus": lambda req: ttypes.TGetOperationStatusResp(
                status=OK, operationState=ttypes.TOperationState.ERROR_STATE, errorMessage=spark_error
            )
        }
    )
    response = roundtrip(
        ProtocolTranslator(), spark, "GetOperationStatus", ttypes.TGetOperationStatusReq(operationHandle=OPERATION)
    )
    assert response.displayMessage == (
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`a`.`b` cannot be found."
    )
    assert response.errorMessage == spark_error
