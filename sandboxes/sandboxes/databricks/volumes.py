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

And inside any statement Spark runs, ``read_files('<volume path>'[, format => 'parquet'])`` (the
table-valued function a warehouse reads files with) becomes ``parquet.`<file or directory>```
(:meth:`VolumeStore.rewrite_file_reads`), after the same checks of volume, schema and path.

The statements' text is read in ``volume_sql.py``, their thrift replies are built in
``statement_results.py``, and what they need from Spark goes through ``spark_session.py``.

Error texts follow what the connector's own end-to-end tests expect from a warehouse
(``FILE_IN_STAGING_PATH_ALREADY_EXISTS``, ``NOT_FOUND: Catalog ...``, an HTTP 404 from the
presigned URL for a missing file); see the README for the ones that are guesses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backend_client import BackendClient
from .spark_session import SparkSession
from .statement_results import StatementFailed, failed_statement, failure, result_set
from .thrift_messages import ttypes
from .volume_sql import (
    COPY_HEAD,
    CREATE_VOLUME,
    DROP_VOLUME,
    GET,
    LIST,
    PUT,
    REMOVE,
    find_file_reads,
    is_volume_statement,
    parse_copy_into,
    quote,
    split_name,
    sql_string,
    strip_statement,
    unquote_string,
)

URL_PREFIX = "/volume-files/"
DEFAULT_URL_LIFETIME_S = 900.0
_MAX_GRANTS = 10_000
# Prefix of the table properties that record which files COPY INTO loaded (one per file).
_LOADED_PROPERTY = "sandbox.copy_into.loaded."
_VALID_NAME = re.compile(r"[^./\s\x00-\x1f\x7f]{1,255}")

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
        raise failure(
            "INVALID_VOLUME_PATH",
            "42K05",
            f"The path '{path}' is not a volume path: expected /Volumes/<catalog>/<schema>/<volume>/<path>.",
        )
    relative = parts[5:]
    # Nothing may climb out of the volume's directory.
    if any(p in ("", ".", "..") or "\x00" in p for p in relative):
        raise failure(
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
        return is_volume_statement(statement)

    def execute(self, statement: str, backend: BackendClient, session: Any) -> Any:
        """The ``TExecuteStatementResp`` for a statement :meth:`claims`."""
        text = strip_statement(statement)
        spark = SparkSession(backend, session)
        try:
            return self._execute(text, spark)
        except StatementFailed as error:
            return failed_statement(error)

    def rewrite_file_reads(self, statement: str, backend: BackendClient, session: Any) -> str:
        """``statement`` with each ``read_files`` call on a volume path replaced by the Parquet
        file (or directory) it names, for Spark to read; raises StatementFailed as the warehouse
        fails the statement (missing volume, schema or path, an unserved form of the call)."""
        if "read_files" not in statement.lower():
            return statement
        reads = find_file_reads(statement)
        if not reads:
            return statement
        spark = SparkSession(backend, session)
        pieces: list[str] = []
        position = 0
        for read in reads:
            target, path = self._existing(read.path, spark, whole_volume=True)
            if not path.exists():
                raise failure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {target.display}.")
            pieces += [statement[position : read.start], f"parquet.{quote(str(path))}"]
            position = read.end
        pieces.append(statement[position:])
        return "".join(pieces)

    def _execute(self, text: str, spark: SparkSession) -> Any:
        for pattern, handler in (
            (CREATE_VOLUME, self._create_volume),
            (DROP_VOLUME, self._drop_volume),
            (PUT, self._put),
            (GET, self._get),
            (REMOVE, self._remove),
            (LIST, self._list),
        ):
            match = pattern.match(text)
            if match:
                return handler(match, spark)
        head = COPY_HEAD.match(text)
        if head:
            return self._copy_into(head, text, spark)
        if re.match(r"COPY\s+INTO\b", text, re.IGNORECASE):
            raise failure(
                "UNSUPPORTED_FEATURE",
                "0A000",
                "The local warehouse serves COPY INTO <table> FROM <source> only "
                "(no BY POSITION or column list).",
            )
        raise failure(
            "PARSE_SYNTAX_ERROR", "42601", f"Syntax error at or near '{text.split()[0]}'."
        )

    def _volume_name(self, name: str, spark: SparkSession) -> tuple[str, str, str]:
        parts = split_name(name)
        if len(parts) > 3:
            raise failure(
                "INVALID_VOLUME_NAME", "42602", f"The volume name {name} has too many parts."
            )
        if len(parts) < 3:
            current = spark.rows("SELECT current_catalog(), current_database()")[0]
            parts = [str(p) for p in current][: 3 - len(parts)] + parts
        catalog, schema, volume = (_checked_name(p) for p in parts)
        return catalog, schema, volume

    def _require_schema(self, catalog: str, schema: str, spark: SparkSession) -> None:
        catalogs = {str(r[0]).lower() for r in spark.rows("SHOW CATALOGS")}
        if catalog not in catalogs:
            raise StatementFailed(f"NOT_FOUND: Catalog '{catalog}' does not exist.", "42704")
        schemas = {str(r[0]).lower() for r in spark.rows(f"SHOW SCHEMAS IN {quote(catalog)}")}
        if schema not in schemas:
            raise failure(
                "SCHEMA_NOT_FOUND",
                "42704",
                f"The schema `{catalog}`.`{schema}` cannot be found. Verify the spelling and "
                "correctness of the schema and catalog.",
            )

    def _volume_dir(self, key: tuple[str, str, str]) -> Path:
        return self.root.joinpath(*key)

    def _create_volume(self, match: re.Match[str], spark: SparkSession) -> Any:
        if match.group("external") or match.group("location"):
            raise failure(
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
                raise failure(
                    "VOLUME_ALREADY_EXISTS",
                    "42000",
                    f"Cannot create volume `{key[0]}`.`{key[1]}`.`{key[2]}` because it already exists.",
                )
            self._volume_dir(key).mkdir(parents=True, exist_ok=True)
            self._volumes.add(key)
        return result_set([], [])

    def _drop_volume(self, match: re.Match[str], spark: SparkSession) -> Any:
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
        self, remote: str, spark: SparkSession, *, whole_volume: bool = False
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

    def _put(self, match: re.Match[str], spark: SparkSession) -> Any:
        local = _local_file(match)
        target, path = self._existing(unquote_string(match.group("remote")), spark)
        overwrite = bool(match.group("overwrite"))
        if path.is_dir() or (path.exists() and not overwrite):
            raise failure(
                "FILE_IN_STAGING_PATH_ALREADY_EXISTS",
                "42K04",
                f"File in staging path {target.display} already exists but OVERWRITE is not specified.",
            )
        return self._staging_row("PUT", path, local, overwrite)

    def _get(self, match: re.Match[str], spark: SparkSession) -> Any:
        local = _local_file(match)
        # A missing file is the presigned URL's 404, as on a warehouse.
        _, path = self._existing(unquote_string(match.group("remote")), spark)
        return self._staging_row("GET", path, local, False)

    def _remove(self, match: re.Match[str], spark: SparkSession) -> Any:
        _, path = self._existing(unquote_string(match.group("remote")), spark)
        return self._staging_row("DELETE", path, None, False)

    def _list(self, match: re.Match[str], spark: SparkSession) -> Any:
        target, base = self._existing(
            unquote_string(match.group("remote")), spark, whole_volume=True
        )
        if base.is_file():
            entries = [base]
        elif base.is_dir():
            entries = sorted(p for p in base.iterdir() if not p.name.startswith(".upload-"))
        else:
            raise failure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {target.display}.")
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
    def _copy_into(self, head: re.Match[str], text: str, spark: SparkSession) -> Any:
        copy = parse_copy_into(head, text)
        files = self._source_files(copy.source, spark)
        loaded = self._loaded_properties(copy.table, spark)
        fresh = [(f, p) for f, p in files if copy.force or _loaded_key(f) not in loaded]
        if not fresh:
            return result_set(_COPY_COLUMNS, [[0, 0, 0]])
        # S608: the table and projection are the client's own SQL, run on the client's own
        # session, which could send them to Spark directly; file paths are quoted identifiers.
        union = " UNION ALL ".join(
            f"SELECT {copy.projection} FROM parquet.{quote(str(p))}"  # noqa: S608
            for _, p in fresh
        )
        count = int(spark.rows(f"SELECT COUNT(*) FROM ({union})")[0][0])  # noqa: S608
        # COPY INTO matches the source's columns to the table's by name, not position.
        spark.rows(f"INSERT INTO {copy.table} BY NAME SELECT * FROM ({union})")  # noqa: S608
        marks = ", ".join(
            f"{sql_string(_loaded_key(f))} = {sql_string(f.display)}" for f, _ in fresh
        )
        spark.rows(f"ALTER TABLE {copy.table} SET TBLPROPERTIES ({marks})")
        return result_set(_COPY_COLUMNS, [[count, count, 0]])

    def _source_files(self, source: str, spark: SparkSession) -> list[tuple[VolumeFile, Path]]:
        target, base = self._existing(source, spark, whole_volume=True)
        if base.is_file():
            return [(target, base)]
        if not base.is_dir():
            raise failure("PATH_NOT_FOUND", "42K03", f"Path does not exist: {target.display}.")
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
    def _loaded_properties(table: str, spark: SparkSession) -> set[str]:
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
        raise failure(
            "INVALID_SCHEMA_OR_RELATION_NAME",
            "42602",
            f"`{name}` is not a valid name for a volume.",
        )
    return name.lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _loaded_key(file: VolumeFile) -> str:
    return _LOADED_PROPERTY + hashlib.sha256(file.display.encode()).hexdigest()[:40]


def _local_file(match: re.Match[str]) -> str:
    local = unquote_string(match.group("local"))
    if not local:
        raise failure(
            "EMPTY_LOCAL_FILE_IN_STAGING_ACCESS_QUERY",
            "22023",
            "The local file path in a staging access query is empty.",
        )
    return local
