"""The text of the Volume, COPY INTO and read_files statements: recognising, parsing and quoting it.

Kept apart from the store and free of I/O, so that which statements the adapter takes from
Spark, and how it reads them, is decided in this one place. Each pattern matches a whole
statement once :func:`strip_statement` has taken off leading comments and a trailing ``;``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parameters import past_literal_or_comment
from .statement_results import failure

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_STRING = r"'(?:[^'\\]|\\.)*'"
_NAME = r"(?:`(?:[^`]|``)+`|[A-Za-z_][\w]*)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[A-Za-z_][\w]*))*"
CREATE_VOLUME = re.compile(
    rf"^CREATE\s+(?P<external>EXTERNAL\s+)?VOLUME\s+(?P<if_not_exists>IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_NAME})(?:\s+LOCATION\s+(?P<location>{_STRING}))?"
    rf"(?:\s+COMMENT\s+{_STRING})?$",
    re.IGNORECASE | re.DOTALL,
)
DROP_VOLUME = re.compile(
    rf"^DROP\s+VOLUME\s+(?P<if_exists>IF\s+EXISTS\s+)?(?P<name>{_NAME})$", re.IGNORECASE | re.DOTALL
)
PUT = re.compile(
    rf"^PUT\s+(?P<local>{_STRING})\s+INTO\s+(?P<remote>{_STRING})(?P<overwrite>\s+OVERWRITE)?$",
    re.IGNORECASE | re.DOTALL,
)
GET = re.compile(
    rf"^GET\s+(?P<remote>{_STRING})\s+TO\s+(?P<local>{_STRING})$", re.IGNORECASE | re.DOTALL
)
REMOVE = re.compile(rf"^REMOVE\s+(?P<remote>{_STRING})$", re.IGNORECASE | re.DOTALL)
LIST = re.compile(
    rf"^LIST\s+(?P<remote>{_STRING})(?:\s+LIMIT\s+(?P<limit>\d+))?$", re.IGNORECASE | re.DOTALL
)
COPY_HEAD = re.compile(rf"^COPY\s+INTO\s+(?P<table>{_NAME})\s+FROM\s+", re.IGNORECASE | re.DOTALL)
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
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a"}
# LIST alone would also catch Spark's own LIST FILE / LIST JAR.
_STATEMENT_START = re.compile(
    r"^(?:CREATE\s+(?:EXTERNAL\s+)?VOLUME\b|DROP\s+VOLUME\b|(?:PUT|GET|REMOVE|LIST)\s+'|COPY\s+INTO\b)",
    re.IGNORECASE,
)


_READ_FILES = re.compile(r"read_files\s*\(", re.IGNORECASE)
_NAMED_ARGUMENT = re.compile(rf"\s*,\s*(?P<key>\w+)\s*=>\s*(?P<value>{_STRING})", re.DOTALL)
_SERVED_READ_FILES = "read_files('<volume path>'[, format => 'parquet'])"


@dataclass(frozen=True)
class FileRead:
    """A ``read_files('<path>', ...)`` call inside a statement: ``text[start:end]`` is the call."""

    start: int
    end: int
    path: str  # unquoted


@dataclass(frozen=True)
class CopyInto:
    """A ``COPY INTO`` statement: the table and projection are the client's own SQL."""

    table: str
    projection: str
    source: str  # the source path, unquoted
    force: bool


def is_volume_statement(statement: str) -> bool:
    return bool(_STATEMENT_START.match(_LEADING_NOISE.sub("", statement, count=1)))


def strip_statement(statement: str) -> str:
    text = _LEADING_NOISE.sub("", statement, count=1).strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def unquote_string(literal: str) -> str:
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def split_name(name: str) -> list[str]:
    parts = re.findall(r"`((?:[^`]|``)+)`|([A-Za-z_]\w*)", name)
    return [(quoted.replace("``", "`") if quoted else plain) for quoted, plain in parts]


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_copy_into(head: re.Match[str], text: str) -> CopyInto:
    """The statement whose start ``head`` (:data:`COPY_HEAD`) matched in ``text``."""
    rest = text[head.end() :]
    if rest.startswith("("):
        end = _matching_paren(rest, 0)
        select = _COPY_SELECT.match(rest[1 : end - 1])
        if not select:
            raise failure(
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
            raise failure(
                "PARSE_SYNTAX_ERROR", "42601", "COPY INTO needs a source path after FROM."
            )
        projection, source, rest = "*", source_match.group(0), rest[source_match.end() :]
    tail = _COPY_TAIL.match(rest)
    if not tail:
        raise failure(
            "PARSE_SYNTAX_ERROR",
            "42601",
            f"Syntax error in COPY INTO near '{rest.strip()[:40]}'.",
        )
    if tail.group("format").upper() != "PARQUET":
        raise failure(
            "UNSUPPORTED_FEATURE",
            "0A000",
            "The local warehouse's COPY INTO reads FILEFORMAT = PARQUET only.",
        )
    options = _options(tail.group("copy_options") or "")
    force = options.get("force", "false").lower() == "true"
    return CopyInto(head.group("table"), projection, unquote_string(source), force)


def find_file_reads(statement: str) -> list[FileRead]:
    """The ``read_files`` table-valued function calls in ``statement``, outside string literals,
    quoted identifiers and comments. Only the form a loader sends is served: a path literal and
    at most ``format => 'parquet'``; any other call fails as unsupported, never half-read."""
    reads: list[FileRead] = []
    i, n = 0, len(statement)
    while i < n:
        c = statement[i]
        if (past := past_literal_or_comment(statement, i)) is not None:
            i = past
        elif (c in "rR" and (i == 0 or not (statement[i - 1].isalnum() or statement[i - 1] in "_."))
              and (call := _READ_FILES.match(statement, i))):
            end = _matching_paren(statement, call.end() - 1)
            reads.append(FileRead(i, end, _read_files_path(statement[call.end() : end - 1])))
            i = end
        else:
            i += 1
    return reads


def _read_files_path(arguments: str) -> str:
    path = re.match(rf"\s*(?P<path>{_STRING})", arguments)
    if path is None:
        raise failure("UNSUPPORTED_FEATURE", "0A000",
                      f"The local warehouse serves {_SERVED_READ_FILES} only.")
    rest = arguments[path.end() :]
    while rest.strip():
        option = _NAMED_ARGUMENT.match(rest)
        if (option is None or option.group("key").lower() != "format"
                or unquote_string(option.group("value")).lower() != "parquet"):
            raise failure("UNSUPPORTED_FEATURE", "0A000",
                          f"The local warehouse serves {_SERVED_READ_FILES} only.")
        rest = rest[option.end() :]
    return unquote_string(path.group("path"))


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
    raise failure("PARSE_SYNTAX_ERROR", "42601", "Syntax error: unbalanced parentheses.")


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for match in _OPTION.finditer(text):
        value = match.group("value")
        options[unquote_string(match.group("key")).lower()] = (
            unquote_string(value) if value.startswith("'") else value
        )
    return options
