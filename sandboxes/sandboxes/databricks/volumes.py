"""Unity Catalog Volumes and COPY INTO, which a SQL warehouse has and Spark does not.

The adapter keeps the volumes itself, each one a directory under ``root``, and answers the
statements a warehouse answers without Spark:

* ``CREATE VOLUME [IF NOT EXISTS]`` / ``DROP VOLUME [IF EXISTS]`` (the schema is looked up in
  Spark, as Unity Catalog needs it to exist);
* ``PUT`` / ``GET`` / ``REMOVE`` on ``/Volumes/<catalog>/<schema>/<volume>/<path>``: a result
  set flagged ``isStagingOperation`` whose one row tells the connector which HTTP request to
  make against a presigned URL; the adapter serves those URLs (:meth:`VolumeStore.serve`);
* ``LIST '<volume path>' [LIMIT n]``;
* ``COPY INTO <table> FROM [(SELECT ... FROM] '<path>'[)] FILEFORMAT = PARQUET``: rewritten to
  an ``INSERT INTO <table> BY NAME SELECT ... FROM parquet.`<file>``` that Spark runs. As COPY
  INTO does, a file already loaded into the table is skipped unless ``'force' = 'true'``; the
  record of loaded files is kept in table properties, so it goes when the table is dropped,
  as Delta's log does.

Error texts follow what the connector's own end-to-end tests expect from a warehouse
(``FILE_IN_STAGING_PATH_ALREADY_EXISTS``, ``NOT_FOUND: Catalog ...``, an HTTP 404 from the
presigned URL for a missing file); see the README for the ones that are guesses.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backend_client import BackendClient
from .protocol_translator import display_message
from .thrift_messages import ttypes

URL_PREFIX = "/volume-files/"
DEFAULT_URL_LIFETIME_S = 900.0
_MAX_GRANTS = 10_000
_MAX_FETCH_PAGES = 1_000
_FETCH_PAGE_ROWS = 10_000
# Prefix of the table properties that record which files COPY INTO loaded (one per file).
_LOADED_PROPERTY = "sandbox.copy_into.loaded."

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_STRING = r"'(?:[^'\\]|\\.)*'"
_NAME = r"(?:`(?:[^`]|``)+`|[A-Za-z_][\w]*)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[A-Za-z_][\w]*))*"
_CREATE_VOLUME = re.compile(
    rf"^CREATE\s+(?P<external>EXTERNAL\s+)?VOLUME\s+(?P<if_not_exists>IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_NAME})(?:\s+LOCATION\s+(?P<location>{_STRING}))?"
    rf"(?:\s+COMMENT\s+{_STRING})?$",
    re.IGNORECASE | re.DOTALL,
)
_DROP_VOLUME = re.compile(
    rf"^DROP\s+VOLUME\s+(?P<if_exists>IF\s+EXISTS\s+)?(?P<name>{_NAME})$", re.IGNORECASE | re.DOTALL
)
_PUT = re.compile(
    rf"^PUT\s+(?P<local>{_STRING})\s+INTO\s+(?P<remote>{_STRING})(?P<overwrite>\s+OVERWRITE)?$",
    re.IGNORECASE | re.DOTALL,
)
_GET = re.compile(
    rf"^GET\s+(?P<remote>{_STRING})\s+TO\s+(?P<local>{_STRING})$", re.IGNORECASE | re.DOTALL
)
_REMOVE = re.compile(rf"^REMOVE\s+(?P<remote>{_STRING})$", re.IGNORECASE | re.DOTALL)
_LIST = re.compile(
    rf"^LIST\s+(?P<remote>{_STRING})(?:\s+LIMIT\s+(?P<limit>\d+))?$", re.IGNORECASE | re.DOTALL
)
_COPY_HEAD = re.compile(rf"^COPY\s+INTO\s+(?P<table>{_NAME})\s+FROM\s+", re.IGNORECASE | re.DOTALL)
_COPY_SELECT = re.compile(
    rf"^\s*SELECT\s+(?P<projection>.+)\s+FROM\s+(?P<source>{_STRING})\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COPY_TAIL = re.compile(
    r"^\s*FILEFORMAT\s*=\s*(?P<format>\w+)"
    r"(?:\s+FORMAT_OPTIONS\s*\((?P<format_options>[^)]*)\))?"
    r"(?:\s+COPY_OPTIONS\s*\((?P<copy_options>[^)]*)\))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OPTION = re.compile(rf"\s*(?P<key>{_STRING})\s*=\s*(?P<value>{_STRING}|\w+)\s*(?:,|$)", re.DOTALL)
_VALID_NAME = re.compile(r"[^./\s\x00-\x1f\x7f]{1,255}")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a"}
# LIST alone would also catch Spark's own LIST FILE / LIST JAR.
_STATEMENT_START = re.compile(
    r"^(?:CREATE\s+(?:EXTERNAL\s+)?VOLUME\b|DROP\s+VOLUME\b|(?:PUT|GET|REMOVE|LIST)\s+'|COPY\s+INTO\b)",
    re.IGNORECASE,
)


class StatementFailed(Exception):
    """The statement fails as the warehouse fails it: an error class and SQLSTATE."""

    def __init__(self, message: str, sql_state: str) -> None:
        super().__init__(message)
        self.sql_state = sql_state


def _failure(error_class: str, sql_state: str, detail: str) -> StatementFailed:
    return StatementFailed(f"[{error_class}] {detail}", sql_state)


def _unquote_string(literal: str) -> str:
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _split_name(name: str) -> list[str]:
    parts = re.findall(r"`((?:[^`]|``)+)`|([A-Za-z_]\w*)", name)
    return [(quoted.replace("``", "`") if quoted else plain) for quoted, plain in parts]


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _strip_statement(statement: str) -> str:
    text = _LEADING_NOISE.sub("", statement, count=1).strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _matching_paren(text: str, start: int) -> int:
    """Index just past the ``)`` closing the ``(`` at ``start``, skipping literals."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c in "'\"`":
            i += 1
            while i < len(text) and text[i] != c:
                i += 2 if c != "`" and text[i] == "\\" else 1
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise _failure(
        "PARSE_SYNTAX_ERROR", "42601", "Syntax error: unbalanced parentheses in COPY INTO."
    )


# Result sets ----------------------------------------------------------------------------------
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


_STAGING_COLUMNS = [
    ("operation", ttypes.TTypeId.STRING_TYPE),
    ("presignedUrl", ttypes.TTypeId.STRING_TYPE),
    ("localFile", ttypes.TTypeId.STRING_TYPE),
    ("headers", ttypes.TTypeId.STRING_TYPE),
]
_LIST_COLUMNS = [
    ("path", ttypes.TTypeId.STRING_TYPE),
    ("name", ttypes.TTypeId.STRING_TYPE),
    ("size", ttypes.TTypeId.BIGINT_TYPE),
    ("modification_time", ttypes.TTypeId.BIGINT_TYPE),
]
_COPY_COLUMNS = [
    ("num_affected_rows", ttypes.TTypeId.BIGINT_TYPE),
    ("num_inserted_rows", ttypes.TTypeId.BIGINT_TYPE),
    ("num_skipped_corrupt_files", ttypes.TTypeId.BIGINT_TYPE),
]


# Spark, for what the adapter needs to look up -----------------------------------------------
class _SparkSession:
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


# Volumes --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeFile:
    catalog: str
    schema: str
    volume: str
    relative: str  # the path inside the volume, '/'-separated

    @property
    def display(self) -> str:
        return f"/Volumes/{self.catalog}/{self.schema}/{self.volume}/{self.relative}"


@dataclass(frozen=True)
class _Grant:
    method: str
    path: Path
    overwrite: bool
    expires_at: float


def parse_volume_path(path: str, *, whole_volume: bool = False) -> VolumeFile:
    """``/Volumes/<catalog>/<schema>/<volume>/<path>`` (or ``dbfs:/Volumes/...``); with
    ``whole_volume`` the path may stop at the volume (``relative`` is then empty)."""
    text = path[len("dbfs:") :] if path.lower().startswith("dbfs:") else path
    parts = (text.rstrip("/") if whole_volume else text).split("/")
    if (
        len(parts) < (5 if whole_volume else 6)
        or parts[0] != ""
        or parts[1] != "Volumes"
        or not all(_VALID_NAME.fullmatch(p) for p in parts[2:5])
    ):
        raise _failure(
            "INVALID_VOLUME_PATH",
            "42K05",
            f"The path '{path}' is not a volume path: expected /Volumes/<catalog>/<schema>/<volume>/<path>.",
        )
    relative = parts[5:]
    # Nothing may climb out of the volume's directory.
    if any(p in ("", ".", "..") or "\x00" in p for p in relative):
        raise _failure(
            "INVALID_VOLUME_PATH",
            "42K05",
            f"The path '{path}' is not a valid file path in a volume.",
        )
    return VolumeFile(parts[2].lower(), parts[3].lower(), parts[4].lower(), "/".join(relative))


class VolumeStore:
    """The warehouse's volumes, its presigned URLs and the statements that use them."""

    def __init__(
        self,
        root: Path,
        *,
        url_lifetime_s: float = DEFAULT_URL_LIFETIME_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.url_lifetime_s = url_lifetime_s
        self.base_url = ""  # set by the adapter once it listens
        self._clock = clock
        self._lock = threading.Lock()
        self._volumes: set[tuple[str, str, str]] = set()
        self._grants: OrderedDict[str, _Grant] = OrderedDict()

    # Statements ---------------------------------------------------------------------------
    @staticmethod
    def claims(statement: str) -> bool:
        """Whether ``statement`` is one the adapter answers instead of Spark."""
        return bool(_STATEMENT_START.match(_LEADING_NOISE.sub("", statement, count=1)))

    def execute(self, statement: str, backend: BackendClient, session: Any) -> Any:
        """The ``TExecuteStatementResp`` for a statement :meth:`claims`."""
        text = _strip_statement(statement)
        spark = _SparkSession(backend, session)
        try:
            return self._execute(text, spark)
        except StatementFailed as failure:
            return failed_statement(failure)

    def _execute(self, text: str, spark: _SparkSession) -> Any:
        for pattern, handler in (
            (_CREATE_VOLUME, self._create_volume),
            (_DROP_VOLUME, self._drop_volume),
            (_PUT, self._put),
            (_GET, self._get),
            (_REMOVE, self._remove),
            (_LIST, self._list),
        ):
            match = pattern.match(text)
            if match:
                return handler(match, spark)
        head = _COPY_HEAD.match(text)
        if head:
            return self._copy_into(head, text, spark)
        if re.match(r"COPY\s+INTO\b", text, re.IGNORECASE):
            raise _failure(
                "UNSUPPORTED_FEATURE",
                "0A000",
                "The local warehouse serves COPY INTO <table> FROM <source> only "
                "(no BY POSITION or column list).",
            )
        raise _failure(
            "PARSE_SYNTAX_ERROR", "42601", f"Syntax error at or near '{text.split()[0]}'."
        )

    def _volume_name(self, name: str, spark: _SparkSession) -> tuple[str, str, str]:
        parts = _split_name(name)
        if len(parts) > 3:
            raise _failure(
                "INVALID_VOLUME_NAME", "42602", f"The volume name {name} has too many parts."
            )
        if len(parts) < 3:
            current = spark.rows("SELECT current_catalog(), current_database()")[0]
            parts = [str(p) for p in current][: 3 - len(parts)] + parts
        catalog, schema, volume = (_checked_name(p) for p in parts)
        return catalog, schema, volume

    def _require_schema(self, catalog: str, schema: str, spark: _SparkSession) -> None:
        catalogs = {str(r[0]).lower() for r in spark.rows("SHOW CATALOGS")}
        if catalog not in catalogs:
            raise StatementFailed(f"NOT_FOUND: Catalog '{catalog}' does not exist.", "42704")
        schemas = {str(r[0]).lower() for r in spark.rows(f"SHOW SCHEMAS IN {_quote(catalog)}")}
        if schema not in schemas:
            raise _failure(
                "SCHEMA_NOT_FOUND",
                "42704",
                f"The schema `{catalog}`.`{schema}` cannot be found. Verify the spelling and "
                "correctness of the schema and catalog.",
            )

    def _volume_dir(self, key: tuple[str, str, str]) -> Path:
        return self.root.joinpath(*key)

    def _create_volume(self, match: re.Match[str], spark: _SparkSession) -> Any:
        if match.group("external") or match.group("location"):
            raise _failure(
                "UNSUPPORTED_FEATURE",
                "0A000",
                "External volumes are not served by the local warehouse; create a managed volume.",
            )
        key = self._volume_name(match.group("name"), spark)
        self._require_schema(key[0], key[1], spark)
        with self._lock:
            if key in self._volumes:
                if match.group("if_not_exists"):
                    return result_set([], [])
                raise _failure(
                    "VOLUME_ALREADY_EXISTS",
                    "42000",
                    f"Cannot create volume `{key[0]}`.`{key[1]}`.`{key[2]}` because it already exists.",
                )
            self._volume_dir(key).mkdir(parents=True, exist_ok=True)
            self._volumes.add(key)
        return result_set([], [])

    def _drop_volume(self, match: re.Match[str], spark: _SparkSession) -> Any:
        key = self._volume_name(match.group("name"), spark)
        with self._lock:
            if key not in self._volumes:
                if match.group("if_exists"):
                    return result_set([], [])
                raise self._volume_missing(key)
            self._volumes.discard(key)
            # A managed volume's files go with it.
            shutil.rmtree(self._volume_dir(key), ignore_errors=True)
        return result_set([], [])

    @staticmethod
    def _volume_missing(key: tuple[str, str, str]) -> StatementFailed:
        return StatementFailed(f"NOT_FOUND: Volume '{'.'.join(key)}' does not exist.", "42704")

    def _existing(
        self, remote: str, spark: _SparkSession, *, whole_volume: bool = False
    ) -> tuple[VolumeFile, Path]:
        """The file (or, with ``whole_volume``, directory) a volume path names.

        Fails as the warehouse does when the volume, its schema or its catalog is missing."""
        target = parse_volume_path(remote, whole_volume=whole_volume)
        key = (target.catalog, target.schema, target.volume)
        with self._lock:
            known = key in self._volumes
        if not known:
            self._require_schema(target.catalog, target.schema, spark)
            raise self._volume_missing(key)
        path = self._volume_dir(key)
        return target, path.joinpath(*target.relative.split("/")) if target.relative else path

    def _put(self, match: re.Match[str], spark: _SparkSession) -> Any:
        local = _unquote_string(match.group("local"))
        if not local:
            raise _failure(
                "EMPTY_LOCAL_FILE_IN_STAGING_ACCESS_QUERY",
                "22023",
                "The local file path in a staging access query is empty.",
            )
        target, path = self._existing(_unquote_string(match.group("remote")), spark)
        overwrite = bool(match.group("overwrite"))
        if path.is_dir() or (path.exists() and not overwrite):
            raise _failure(
                "FILE_IN_STAGING_PATH_ALREADY_EXISTS",
                "42K04",
                f"File in staging path {target.display} already exists but OVERWRITE is not specified.",
            )
        return self._staging_row("PUT", path, local, overwrite)

    def _get(self, match: re.Match[str], spark: _SparkSession) -> Any:
        local = _unquote_string(match.group("local"))
        if not local:
            raise _failure(
                "EMPTY_LOCAL_FILE_IN_STAGING_ACCESS_QUERY",
                "22023",
                "The local file path in a staging access query is empty.",
            )
        # A missing file is the presigned URL's 404, as on a warehouse.
        _, path = self._existing(_unquote_string(match.group("remote")), spark)
        return self._staging_row("GET", path, local, False)

    def _remove(self, match: re.Match[str], spark: _SparkSession) -> Any:
        _, path = self._existing(_unquote_string(match.group("remote")), spark)
        return self._staging_row("DELETE", path, None, False)

    def _list(self, match: re.Match[str], spark: _SparkSession) -> Any:
        target, base = self._existing(
            _unquote_string(match.group("remote")), spark, whole_volume=True
        )
        if base.is_file():
            entries = [base]
        elif base.is_dir():
            entries = sorted(p for p in base.iterdir() if not p.name.startswith(".upload-"))
        else:
            raise _failure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {target.display}.")
        limit = int(match.group("limit")) if match.group("limit") else None
        prefix = target.display.rstrip("/")
        rows = []
        for entry in entries[:limit]:
            stat = entry.stat()
            directory = entry.is_dir()
            name = entry.name + ("/" if directory else "")
            path = prefix if entry == base else f"{prefix}/{name}"
            rows.append([path, name, 0 if directory else stat.st_size, int(stat.st_mtime * 1000)])
        return result_set(_LIST_COLUMNS, rows)

    def _staging_row(self, method: str, path: Path, local: str | None, overwrite: bool) -> Any:
        url = self.base_url + URL_PREFIX + self._grant(method, path, overwrite)
        operation = "REMOVE" if method == "DELETE" else method
        return result_set(_STAGING_COLUMNS, [[operation, url, local, json.dumps({})]], staging=True)

    # Presigned URLs -------------------------------------------------------------------------
    def _grant(self, method: str, path: Path, overwrite: bool) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for key in [k for k, g in self._grants.items() if g.expires_at <= now]:
                del self._grants[key]
            self._grants[_digest(token)] = _Grant(
                method, path, overwrite, now + self.url_lifetime_s
            )
            while len(self._grants) > _MAX_GRANTS:
                self._grants.popitem(last=False)
        return token

    def serve(self, method: str, url_path: str, body: bytes | None) -> tuple[int, bytes]:
        """Answer an HTTP request to a presigned URL: (status, body)."""
        token = url_path[len(URL_PREFIX) :]
        with self._lock:
            # Looked up by digest: the token itself is never compared byte by byte.
            grant = self._grants.get(_digest(token))
        if grant is None or grant.expires_at <= self._clock():
            return 403, b"AccessDenied: the presigned URL is unknown or has expired."
        if grant.method != method:
            return 403, b"AccessDenied: the presigned URL was not issued for this method."
        if method == "GET":
            try:
                return 200, grant.path.read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                return 404, b"NotFound: the file does not exist."
        if method == "DELETE":
            try:
                grant.path.unlink()
            except (FileNotFoundError, IsADirectoryError):
                return 404, b"NotFound: the file does not exist."
            return 204, b""
        return self._store(grant, body or b"")

    def _store(self, grant: _Grant, body: bytes) -> tuple[int, bytes]:
        if not self._volume_of(grant.path):
            return 404, b"NotFound: the volume no longer exists."
        try:
            grant.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            return 409, b"Conflict: a file is in the way of the path."
        handle, temporary = tempfile.mkstemp(dir=grant.path.parent, prefix=".upload-")
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        if not grant.overwrite and grant.path.exists():
            os.unlink(temporary)
            return 409, b"Conflict: the file already exists."
        os.replace(temporary, grant.path)
        return 201, b""

    def _volume_of(self, path: Path) -> bool:
        with self._lock:
            return any(self._volume_dir(k) in path.parents for k in self._volumes)

    # COPY INTO ----------------------------------------------------------------------------
    def _copy_into(self, head: re.Match[str], text: str, spark: _SparkSession) -> Any:
        table = head.group("table")
        rest = text[head.end() :]
        if rest.startswith("("):
            end = _matching_paren(rest, 0)
            select = _COPY_SELECT.match(rest[1 : end - 1])
            if not select:
                raise _failure(
                    "PARSE_SYNTAX_ERROR",
                    "42601",
                    "COPY INTO takes (SELECT <expressions> FROM '<path>') as its source.",
                )
            projection, source, rest = (
                select.group("projection"),
                select.group("source"),
                rest[end:],
            )
        else:
            source_match = re.match(_STRING, rest)
            if not source_match:
                raise _failure(
                    "PARSE_SYNTAX_ERROR", "42601", "COPY INTO needs a source path after FROM."
                )
            projection, source, rest = "*", source_match.group(0), rest[source_match.end() :]
        tail = _COPY_TAIL.match(rest)
        if not tail:
            raise _failure(
                "PARSE_SYNTAX_ERROR",
                "42601",
                f"Syntax error in COPY INTO near '{rest.strip()[:40]}'.",
            )
        if tail.group("format").upper() != "PARQUET":
            raise _failure(
                "UNSUPPORTED_FEATURE",
                "0A000",
                "The local warehouse's COPY INTO reads FILEFORMAT = PARQUET only.",
            )
        options = _options(tail.group("copy_options") or "")
        force = options.get("force", "false").lower() == "true"
        files = self._source_files(_unquote_string(source), spark)
        loaded = self._loaded_properties(table, spark)
        fresh = [(f, p) for f, p in files if force or _loaded_key(f) not in loaded]
        if not fresh:
            return result_set(_COPY_COLUMNS, [[0, 0, 0]])
        # S608: the table and projection are the client's own SQL, run on the client's own
        # session, which could send them to Spark directly; file paths are quoted identifiers.
        union = " UNION ALL ".join(
            f"SELECT {projection} FROM parquet.{_quote(str(p))}"  # noqa: S608
            for _, p in fresh
        )
        count = int(spark.rows(f"SELECT COUNT(*) FROM ({union})")[0][0])  # noqa: S608
        # COPY INTO matches the source's columns to the table's by name, not position.
        spark.rows(f"INSERT INTO {table} BY NAME SELECT * FROM ({union})")  # noqa: S608
        marks = ", ".join(
            f"{_sql_string(_loaded_key(f))} = {_sql_string(f.display)}" for f, _ in fresh
        )
        spark.rows(f"ALTER TABLE {table} SET TBLPROPERTIES ({marks})")
        return result_set(_COPY_COLUMNS, [[count, count, 0]])

    def _source_files(self, source: str, spark: _SparkSession) -> list[tuple[VolumeFile, Path]]:
        target, base = self._existing(source, spark, whole_volume=True)
        if base.is_file():
            return [(target, base)]
        if not base.is_dir():
            raise _failure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {target.display}.")
        found = []
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith((".", "_")):
                relative = path.relative_to(
                    self._volume_dir((target.catalog, target.schema, target.volume))
                )
                found.append(
                    (
                        VolumeFile(
                            target.catalog, target.schema, target.volume, relative.as_posix()
                        ),
                        path,
                    )
                )
        return found

    @staticmethod
    def _loaded_properties(table: str, spark: _SparkSession) -> set[str]:
        return {
            str(r[0])
            for r in spark.rows(f"SHOW TBLPROPERTIES {table}")
            if str(r[0]).startswith(_LOADED_PROPERTY)
        }


def _checked_name(name: str) -> str:
    """A catalog, schema or volume name, lower-cased as Unity Catalog stores it.

    Each one is a directory here, so a name that could leave the volumes root (``..``, ``/``)
    must not get through; Unity Catalog refuses periods, slashes, spaces and control characters.
    """
    if not _VALID_NAME.fullmatch(name):
        raise _failure(
            "INVALID_SCHEMA_OR_RELATION_NAME",
            "42602",
            f"`{name}` is not a valid name for a volume.",
        )
    return name.lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _loaded_key(file: VolumeFile) -> str:
    return _LOADED_PROPERTY + hashlib.sha256(file.display.encode()).hexdigest()[:40]


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for match in _OPTION.finditer(text):
        value = match.group("value")
        options[_unquote_string(match.group("key")).lower()] = (
            _unquote_string(value) if value.startswith("'") else value
        )
    return options
