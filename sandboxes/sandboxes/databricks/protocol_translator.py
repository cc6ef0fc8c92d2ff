"""Rewrites HiveServer2 thrift traffic so Spark's Thrift Server answers as a Databricks SQL
warehouse does. Each rewrite fixes one difference the unmodified connector trips over
(``shared/notes/local-engines.md`` lists them in the order the connector meets them)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from thrift.Thrift import TMessageType

from . import grants, parameters, thrift_messages, workspace_endpoints
from .backend_client import BackendClient, BackendError, BackendResponse
from .statement_results import StatementFailed, failed_statement, failure
from .thrift_messages import TCLIService, ThriftMessage, ttypes

if TYPE_CHECKING:
    from .volumes import VolumeStore

# The connector refuses servers below SPARK_CLI_SERVICE_PROTOCOL_V2; from V8 on it sends
# native query parameters (as every current SQL warehouse takes them). Spark would drop them,
# so ExecuteStatement binds them first (parameters.py).
REPORTED_PROTOCOL_VERSION = ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8
# What Spark 3.5's server itself speaks; it requires the Hive `client_protocol` field that the
# connector leaves unset in favour of the Databricks-only `client_protocol_i64`.
SPARK_PROTOCOL_VERSION = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10
_METADATA_CACHE_SIZE = 4096


_WRAPPER_PREFIXES = re.compile(
    r"^(?:org\.apache\.hive\.service\.cli\.HiveSQLException: )?(?:Error running query: )?"
    # Spark's classified errors repeat "[CLASS]" after the exception name; keep the rest whole.
    r"(?:(?:\[[A-Z_.]+\] )?[a-z][\w.]*\.[A-Z]\w*(?:Exception|Error): (?=\[))?"
)


def display_message(error_message: str) -> str:
    """The user-facing part of a Spark error: no wrapper exception names, no stack trace."""
    message = error_message.split("\n\tat ", 1)[0].strip()
    return _WRAPPER_PREFIXES.sub("", message, count=1)


_USE = re.compile(r"^\s*USE\s+(?P<kind>CATALOG|SCHEMA|DATABASE)\s+(?P<name>.+?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_NAME_PART = re.compile(r"`(?:[^`]|``)+`|[^.\s`]+")


def use_namespace(statement: str, catalogs: frozenset[str]) -> str:
    """Databricks' ``USE CATALOG c`` and ``USE SCHEMA c.s`` as Spark 3.5 says them (``USE c``,
    ``USE c.s``: Spark resolves a first part that names a catalog as that catalog; its own
    ``USE SCHEMA`` would read ``c.s`` as a nested namespace of the current catalog), or the
    warehouse's failure for a catalog that does not exist."""
    found = _USE.match(statement)
    if found is None:
        return statement
    name = found.group("name")
    parts = _NAME_PART.findall(name)
    first = parts[0][1:-1].replace("``", "`") if parts and parts[0].startswith("`") else (parts or [""])[0]
    is_catalog = found.group("kind").upper() == "CATALOG"
    if (is_catalog or len(parts) > 1) and first.lower() not in catalogs:
        raise failure("NO_SUCH_CATALOG_EXCEPTION", "42704",
                      f"Catalog '{first}' was not found. Please verify the catalog name and then "
                      "retry the query or command again.")
    return f"USE {name}"


def _quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _empty_column(type_id: int) -> Any:
    t = ttypes.TTypeId
    if type_id == t.BOOLEAN_TYPE:
        return ttypes.TColumn(boolVal=ttypes.TBoolColumn(values=[], nulls=b""))
    if type_id == t.TINYINT_TYPE:
        return ttypes.TColumn(byteVal=ttypes.TByteColumn(values=[], nulls=b""))
    if type_id == t.SMALLINT_TYPE:
        return ttypes.TColumn(i16Val=ttypes.TI16Column(values=[], nulls=b""))
    if type_id == t.INT_TYPE:
        return ttypes.TColumn(i32Val=ttypes.TI32Column(values=[], nulls=b""))
    if type_id == t.BIGINT_TYPE:
        return ttypes.TColumn(i64Val=ttypes.TI64Column(values=[], nulls=b""))
    if type_id in (t.FLOAT_TYPE, t.DOUBLE_TYPE):
        return ttypes.TColumn(doubleVal=ttypes.TDoubleColumn(values=[], nulls=b""))
    if type_id == t.BINARY_TYPE:
        return ttypes.TColumn(binaryVal=ttypes.TBinaryColumn(values=[], nulls=b""))
    return ttypes.TColumn(stringVal=ttypes.TStringColumn(values=[], nulls=b""))


class ProtocolTranslator:
    """Shared by all adapter connections; each call brings that connection's backend client."""

    REWRITTEN = frozenset(
        {"OpenSession", "ExecuteStatement", "GetOperationStatus", "GetResultSetMetadata",
         "FetchResults", "CloseOperation"}
    )

    def __init__(self, volumes: VolumeStore | None = None, catalogs: tuple[str, ...] = ("main",)) -> None:
        self._volumes = volumes
        # Spark 3.5 has no USE CATALOG (Databricks SQL does): see use_catalog.
        self._catalogs = frozenset(c.lower() for c in (*catalogs, "spark_catalog"))
        self._lock = threading.Lock()
        self._metadata: OrderedDict[bytes, Any] = OrderedDict()

    def handle(self, method: str, body: bytes, backend: BackendClient,
               denied: frozenset[str] = frozenset()) -> bytes:
        """Return the reply to ``body`` (a thrift call named ``method``) as the connector expects it;
        ``denied`` are the privileges the caller lacks (grants.py).

        Raises BackendError when Spark answers with a non-200 HTTP status.
        """
        if method not in self.REWRITTEN:
            return self._forward(body, backend)
        call = thrift_messages.decode_call(body)
        request = call.body.req
        if method == "OpenSession":
            return self._open_session(call, request, backend)
        if method == "ExecuteStatement":
            return self._execute_statement(call, request, body, backend, denied)
        reply = self._forward_decoded(call, backend)
        result = reply.body.success if reply.message_type == TMessageType.REPLY else None
        if result is not None:
            if method == "GetOperationStatus":
                self._fix_status(result)
            elif method == "GetResultSetMetadata":
                self._fix_metadata(result)
                self._remember_metadata(request.operationHandle, result)
            elif method == "FetchResults":
                self._fix_fetch(request, result, backend)
            elif method == "CloseOperation":
                self._forget_metadata(request.operationHandle)
        return thrift_messages.encode(reply)

    @staticmethod
    def _forward(body: bytes, backend: BackendClient) -> bytes:
        response = backend.post(body)
        if response.status != 200:
            raise BackendError(response)
        return response.body

    def _forward_decoded(self, call: ThriftMessage, backend: BackendClient) -> ThriftMessage:
        return thrift_messages.decode_reply(self._forward(thrift_messages.encode(call), backend))

    def _open_session(self, call: ThriftMessage, request: Any, backend: BackendClient) -> bytes:
        namespace = request.initialNamespace
        # Decoding fills the unset Hive field with the generated default (-7), not None.
        if request.client_protocol is None or request.client_protocol < 0:
            request.client_protocol = SPARK_PROTOCOL_VERSION
        reply = self._forward_decoded(call, backend)
        result = reply.body.success if reply.message_type == TMessageType.REPLY else None
        if result is None or result.status.statusCode not in (
            ttypes.TStatusCode.SUCCESS_STATUS,
            ttypes.TStatusCode.SUCCESS_WITH_INFO_STATUS,
        ):
            return thrift_messages.encode(reply)
        result.serverProtocolVersion = REPORTED_PROTOCOL_VERSION
        result.canUseMultipleCatalogs = True
        if namespace and (namespace.catalogName or namespace.schemaName):
            # Spark ignores the Databricks-only initialNamespace; a USE on the new session does
            # what the warehouse does, including failing the open for a missing schema.
            error = self._use_namespace(result.sessionHandle, namespace, backend)
            if error is not None:
                backend.call("CloseSession", ttypes.TCloseSessionReq(sessionHandle=result.sessionHandle))
                result.status = error
                result.sessionHandle = None
            else:
                result.initialNamespace = namespace
        return thrift_messages.encode(reply)

    def _execute_statement(
        self, call: ThriftMessage, request: Any, body: bytes, backend: BackendClient,
        denied: frozenset[str] = frozenset(),
    ) -> bytes:
        sent: bytes | None = body  # None once the statement was rewritten: re-encoded, not forwarded
        refused = grants.refusal(request.statement, denied)
        if refused is None:
            try:
                rewritten = use_namespace(request.statement, self._catalogs)
                if self._volumes is not None:
                    # Before the parameters are bound: their values are never read as SQL.
                    rewritten = self._volumes.rewrite_file_reads(rewritten, backend, request.sessionHandle)
            except StatementFailed as exc:
                refused = exc
            else:
                if rewritten != request.statement:
                    request.statement, sent = rewritten, None
        if refused is not None:
            result = TCLIService.ExecuteStatement_result(success=failed_statement(refused))
            return thrift_messages.encode(ThriftMessage(call.name, TMessageType.REPLY, call.seqid, result))
        if not request.parameters:
            return self._forward_statement(call, request, sent, backend)
        try:
            request.statement = parameters.bind(request.statement, request.parameters)
        except parameters.ParameterLimitExceeded as exc:
            refusal = workspace_endpoints.error(400, "BAD_REQUEST", str(exc))
            raise BackendError(BackendResponse(400, refusal.body(), "application/json")) from None
        except StatementFailed as exc:
            result = TCLIService.ExecuteStatement_result(success=failed_statement(exc))
            return thrift_messages.encode(
                ThriftMessage(call.name, TMessageType.REPLY, call.seqid, result)
            )
        request.parameters = None
        return self._forward_statement(call, request, None, backend)

    def _forward_statement(
        self, call: ThriftMessage, request: Any, body: bytes | None, backend: BackendClient
    ) -> bytes:
        # Volumes and COPY INTO exist only in the adapter (volumes.py); Spark gets the rest.
        if self._volumes is not None and self._volumes.claims(request.statement):
            response = self._volumes.execute(request.statement, backend, request.sessionHandle)
            return thrift_messages.encode(ThriftMessage(
                call.name, TMessageType.REPLY, call.seqid,
                TCLIService.ExecuteStatement_result(success=response),
            ))
        return self._forward(body if body is not None else thrift_messages.encode(call), backend)

    @staticmethod
    def _use_namespace(session: Any, namespace: Any, backend: BackendClient) -> Any | None:
        parts = [p for p in (namespace.catalogName, namespace.schemaName) if p]
        statement = "USE " + ".".join(_quote_identifier(p) for p in parts)
        response = backend.call(
            "ExecuteStatement",
            ttypes.TExecuteStatementReq(sessionHandle=session, statement=statement, runAsync=False),
        )
        if response.operationHandle is not None:
            backend.call("CloseOperation", ttypes.TCloseOperationReq(operationHandle=response.operationHandle))
        if response.status.statusCode == ttypes.TStatusCode.ERROR_STATUS:
            return response.status
        return None

    @staticmethod
    def _fix_status(status: Any) -> None:
        # The connector shows displayMessage when there is one, as Databricks sends it: the
        # error class and message, not the Java stack trace Spark puts in errorMessage.
        if (
            status.operationState == ttypes.TOperationState.ERROR_STATE
            and status.errorMessage
            and not status.displayMessage
        ):
            status.displayMessage = display_message(status.errorMessage)

    @staticmethod
    def _fix_metadata(metadata: Any) -> None:
        # Databricks always states the row-set format; Spark's server only speaks column-based.
        if metadata.resultFormat is None:
            metadata.resultFormat = ttypes.TSparkRowSetType.COLUMN_BASED_SET
        if metadata.lz4Compressed is None:
            metadata.lz4Compressed = False
        if metadata.isStagingOperation is None:
            metadata.isStagingOperation = False

    def _fix_fetch(self, request: Any, result: Any, backend: BackendClient) -> None:
        rows = thrift_messages.row_count(result.results)
        # Spark always says hasMoreRows=False, and the connector then stops after the first
        # page: a 250k-row SELECT came back with 100k rows and no error. Spark fills every page
        # it can, so a full page means there may be more; the next fetch tells (empty = done).
        result.hasMoreRows = rows > 0 and rows >= (request.maxRows or 0)
        if request.includeResultSetMetadata and result.resultSetMetadata is None:
            result.resultSetMetadata = self._metadata_for(request.operationHandle, backend)
        if result.results is not None and result.resultSetMetadata is not None and rows == 0:
            self._fill_empty_columns(result.results, result.resultSetMetadata)

    @staticmethod
    def _fill_empty_columns(row_set: Any, metadata: Any) -> None:
        # Spark 3.5 sends no column data at all for an empty result (DDL, DML), while the
        # connector zips the columns it gets with the schema and expects one per field.
        schema = metadata.schema
        if schema is None or not schema.columns:
            row_set.columns = row_set.columns or []
            return
        if row_set.columns and len(row_set.columns) == len(schema.columns):
            return
        row_set.columns = [
            _empty_column(column.typeDesc.types[0].primitiveEntry.type)
            if column.typeDesc.types and column.typeDesc.types[0].primitiveEntry
            else _empty_column(ttypes.TTypeId.STRING_TYPE)
            for column in schema.columns
        ]

    def _metadata_for(self, handle: Any, backend: BackendClient) -> Any:
        key = handle.operationId.guid
        with self._lock:
            cached = self._metadata.get(key)
        if cached is not None:
            return cached
        metadata = backend.call(
            "GetResultSetMetadata", ttypes.TGetResultSetMetadataReq(operationHandle=handle)
        )
        self._fix_metadata(metadata)
        self._remember_metadata(handle, metadata)
        return metadata

    def _remember_metadata(self, handle: Any, metadata: Any) -> None:
        with self._lock:
            self._metadata[handle.operationId.guid] = metadata
            while len(self._metadata) > _METADATA_CACHE_SIZE:
                self._metadata.popitem(last=False)

    def _forget_metadata(self, handle: Any) -> None:
        with self._lock:
            self._metadata.pop(handle.operationId.guid, None)
