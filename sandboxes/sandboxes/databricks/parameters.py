"""Databricks native query parameters, bound into the statement text for Spark's Thrift Server.

A SQL warehouse (DBR 14.2+) receives parameter values beside the statement
(``TExecuteStatementReq.parameters``) and never parses them as SQL. Spark 3.5's Thrift Server
drops that field, so the adapter binds each marker itself before forwarding: named markers
(``:name``) or unnamed ones (``?``), found outside string literals, quoted identifiers and
comments, as the warehouse's parser finds them.

Each value becomes ``CAST(<text> AS <type>)`` where ``<text>`` is a raw string literal,
``R'...'``, which Spark takes verbatim. An ordinary string literal would not do: Spark's parser
unescapes it with regex attempts at every character, in time proportional to (backslash
escapes x length) -- a JSON payload of nested JSON took a minute to parse -- while a real
warehouse never parses a parameter value at all. A raw literal cannot hold a quote, so a value
with apostrophes travels with a character it does not contain in their place, put back by
``replace``.

The documented limits are enforced (databricks-sql-connector "native parameters": at most 255
markers and 1 MB of values per statement); the warehouse refuses a larger request with HTTP 400.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .statement_results import failure

MAX_PARAMETERS = 255
MAX_VALUE_BYTES = 1_000_000

_IDENTIFIER_START = re.compile(r"[A-Za-z_]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What the connector sends as a parameter's type (DatabricksSupportedType names, DECIMAL(p,s)).
_TYPE = re.compile(r"^(?:[A-Z_]+|DECIMAL\(\d+,\s*\d+\))$")


class ParameterLimitExceeded(Exception):
    """The request breaks a documented limit; the warehouse answers it with HTTP 400."""


@dataclass(frozen=True)
class _Marker:
    start: int
    end: int
    name: str | None  # None for an unnamed ``?`` marker


def find_markers(statement: str) -> list[_Marker]:
    """Parameter markers in ``statement``, skipping literals, quoted identifiers and comments."""
    markers: list[_Marker] = []
    i, n = 0, len(statement)
    while i < n:
        c = statement[i]
        if (past := past_literal_or_comment(statement, i)) is not None:
            i = past
        elif c == ":" and statement.startswith("::", i):
            i += 2  # the cast operator, not a marker
        elif c == ":" and i + 1 < n and _IDENTIFIER_START.match(statement[i + 1]):
            match = _IDENTIFIER.match(statement, i + 1)
            assert match is not None
            markers.append(_Marker(i, match.end(), match.group(0)))
            i = match.end()
        elif c == "?":
            markers.append(_Marker(i, i + 1, None))
            i += 1
        else:
            i += 1
    return markers


def past_literal_or_comment(text: str, i: int) -> int | None:
    """Index just past the string literal, quoted identifier or comment that opens at ``i``, or
    None when SQL code starts there: what a scanner of statement text skips."""
    c = text[i]
    if c in "'\"":
        return _end_of_string(text, i)
    if c == "`":
        return _end_of_quoted_identifier(text, i)
    if text.startswith("--", i):
        newline = text.find("\n", i)
        return len(text) if newline < 0 else newline + 1
    if text.startswith("/*", i):
        return _end_of_block_comment(text, i)
    return None


def _end_of_string(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    return len(text)


def _end_of_quoted_identifier(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "`":
            if text.startswith("``", i):
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _end_of_block_comment(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _literal(parameter: Any) -> str:
    sql_type = (parameter.type or "STRING").strip().upper()
    if not _TYPE.match(sql_type):
        raise failure("INVALID_PARAMETER_TYPE", "22023", f"unsupported parameter type {parameter.type!r}")
    value = parameter.value
    text = None if value is None else value.stringValue
    if sql_type == "VOID" or text is None:
        return "NULL" if sql_type == "VOID" else f"CAST(NULL AS {sql_type})"
    literal = text_literal(text)
    return literal if sql_type == "STRING" else f"CAST({literal} AS {sql_type})"


def text_literal(text: str) -> str:
    """A Spark SQL expression whose value is exactly ``text``, with nothing to unescape."""
    if "'" not in text:
        return f"R'{text}'"
    stand_in = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    return f"replace(R'{text.replace(chr(39), stand_in)}', R'{stand_in}', chr(39))"


def check_limits(parameters: Sequence[Any]) -> None:
    if len(parameters) > MAX_PARAMETERS:
        raise ParameterLimitExceeded(
            f"{len(parameters)} query parameters; a statement takes at most {MAX_PARAMETERS}"
        )
    size = sum(
        len(p.value.stringValue.encode("utf-8"))
        for p in parameters
        if p.value is not None and p.value.stringValue is not None
    )
    if size > MAX_VALUE_BYTES:
        raise ParameterLimitExceeded(
            f"query parameter values total {size} bytes; a statement takes at most {MAX_VALUE_BYTES}"
        )


def bind(statement: str, parameters: Sequence[Any]) -> str:
    """``statement`` with every marker replaced by its parameter's typed literal."""
    check_limits(parameters)
    markers = find_markers(statement)
    named = {p.name: p for p in parameters if p.name}
    unnamed = [p for p in parameters if not p.name]
    if named and unnamed:
        raise failure("INVALID_QUERY_MIXED_QUERY_PARAMETERS", "42613",
                           "Parameterized query must either use positional, or named parameters, but not both.")
    if any(m.name is None for m in markers) and any(m.name is not None for m in markers):
        raise failure("UNBOUND_SQL_PARAMETER", "42P02",
                           "A statement cannot mix named (:name) and unnamed (?) parameter markers.")
    pieces: list[str] = []
    position = 0
    for index, marker in enumerate(markers):
        if marker.name is not None:
            parameter = named.get(marker.name)
            if parameter is None:
                raise failure("UNBOUND_SQL_PARAMETER", "42P02",
                                   f"Found the unbound parameter: {marker.name}.")
        else:
            if index >= len(unnamed):
                raise failure("UNBOUND_SQL_PARAMETER", "42P02",
                                   f"Found the unbound parameter: _{index + 1}.")
            parameter = unnamed[index]
        pieces += [statement[position:marker.start], _literal(parameter)]
        position = marker.end
    pieces.append(statement[position:])
    return "".join(pieces)
