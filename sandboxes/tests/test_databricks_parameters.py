"""Native query parameters: markers found as the warehouse's parser finds them, values bound as
typed literals, and the documented limits refused (no JVM needed; the engine tests run them too)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sandboxes.databricks import thrift_messages
from sandboxes.databricks.backend_client import BackendError, BackendResponse
from sandboxes.databricks.parameters import (
    MAX_PARAMETERS,
    MAX_VALUE_BYTES,
    ParameterLimitExceeded,
    bind,
    find_markers,
)
from sandboxes.databricks.protocol_translator import ProtocolTranslator
from sandboxes.databricks.statement_results import StatementFailed
from sandboxes.databricks.thrift_messages import ttypes

OK = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)


def param(value: str | None, name: str | None = None, sql_type: str = "STRING") -> Any:
    wrapped = None if value is None else ttypes.TSparkParameterValue(stringValue=value)
    return ttypes.TSparkParameter(name=name, type=sql_type, value=wrapped)


def bound_text(sql: str) -> str:
    """The text the first bound string parameter in ``sql`` evaluates to."""
    replaced = re.search(r"replace\(R'([^']*)', R'(.)', chr\(39\)\)", sql)
    plain = re.search(r"R'([^']*)'", sql)
    assert plain is not None
    if replaced is not None and replaced.start() < plain.start():
        return replaced.group(1).replace(replaced.group(2), "'")
    return plain.group(1)


def test_markers_inside_literals_identifiers_and_comments_are_not_parameters() -> None:
    statement = (
        "SELECT :a, ':b', \":c\", `:d`, x::STRING, 'it\\'s :e' -- :f\n"
        "/* :g /* nested :h */ :i */ , ?, :j_2"
    )
    assert [m.name for m in find_markers(statement)] == ["a", None, "j_2"]


def test_named_values_are_bound_with_their_types_and_no_escaping() -> None:
    text = "O'Hara \\ \"q\" é"
    bound = bind("SELECT :t, :n, :d, :z", [
        param(text, "t"), param("5", "n", "INT"), param("123.45", "d", "DECIMAL(5,2)"),
        param(None, "z", "VOID"),
    ])
    assert "'Hara" not in bound and "replace(R'" in bound
    assert bound_text(bound) == text
    assert "AS INT)" in bound and "AS DECIMAL(5,2))" in bound and bound.endswith("NULL")


def test_unnamed_markers_take_parameters_in_order() -> None:
    bound = bind("SELECT ?, ?", [param("first"), param("second")])
    first, second = bound.split(", ")
    assert (bound_text(first), bound_text(second)) == ("first", "second")


def test_an_unbound_marker_is_the_statement_s_error() -> None:
    with pytest.raises(StatementFailed) as refused:
        bind("SELECT :a, :missing", [param("1", "a")])
    assert str(refused.value) == "[UNBOUND_SQL_PARAMETER] Found the unbound parameter: missing."
    assert refused.value.sql_state == "42P02"


def test_named_and_unnamed_parameters_cannot_be_mixed() -> None:
    with pytest.raises(StatementFailed, match="INVALID_QUERY_MIXED_QUERY_PARAMETERS"):
        bind("SELECT :a, ?", [param("1", "a"), param("2")])


def test_a_type_that_is_not_a_type_name_is_refused_not_spliced() -> None:
    with pytest.raises(StatementFailed, match="INVALID_PARAMETER_TYPE"):
        bind("SELECT :a", [param("1", "a", "INT) FROM x; DROP TABLE y; --")])


def test_the_documented_limits_are_refused() -> None:
    bind("SELECT 1", [param("x", f"p{i}") for i in range(MAX_PARAMETERS)])
    with pytest.raises(ParameterLimitExceeded):
        bind("SELECT 1", [param("x", f"p{i}") for i in range(MAX_PARAMETERS + 1)])
    bind("SELECT :a", [param("x" * MAX_VALUE_BYTES, "a")])
    with pytest.raises(ParameterLimitExceeded):
        bind("SELECT :a, :b", [param("x" * MAX_VALUE_BYTES, "a"), param("y", "b")])


class RecordingSpark:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def post(self, body: bytes) -> BackendResponse:
        call = thrift_messages.decode_call(body)
        assert not call.body.req.parameters, "Spark must never see the parameters field"
        self.statements.append(call.body.req.statement)
        reply = thrift_messages.ThriftMessage(
            call.name, 2, call.seqid,
            thrift_messages.TCLIService.ExecuteStatement_result(
                success=ttypes.TExecuteStatementResp(status=OK)),
        )
        return BackendResponse(200, thrift_messages.encode(reply), "application/x-thrift")


def execute(spark: RecordingSpark, statement: str, parameters: list[Any]) -> Any:
    request = ttypes.TExecuteStatementReq(statement=statement, parameters=parameters)
    reply = ProtocolTranslator().handle(
        "ExecuteStatement", thrift_messages.call("ExecuteStatement", request), spark)  # type: ignore[arg-type]
    return thrift_messages.decode_reply(reply).body.success


def test_execute_statement_reaches_spark_bound_and_without_the_parameters_field() -> None:
    spark = RecordingSpark()
    assert execute(spark, "SELECT :a", [param("v", "a")]).status.statusCode == OK.statusCode
    assert bound_text(spark.statements[0]) == "v"


def test_an_unbound_parameter_fails_the_statement_before_spark_sees_it() -> None:
    spark = RecordingSpark()
    status = execute(spark, "SELECT :nope", [param("v", "a")]).directResults.operationStatus
    assert status.operationState == ttypes.TOperationState.ERROR_STATE
    assert status.sqlState == "42P02" and "nope" in status.errorMessage
    assert spark.statements == []


def test_too_large_a_request_is_answered_with_http_400() -> None:
    spark = RecordingSpark()
    with pytest.raises(BackendError) as refused:
        execute(spark, "SELECT :a", [param("x" * (MAX_VALUE_BYTES + 1), "a")])
    assert refused.value.response.status == 400
    assert spark.statements == []
