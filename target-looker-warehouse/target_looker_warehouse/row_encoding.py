"""One encoder per stream: a record becomes the text of its warehouse row, column by column.

The load path's bulk form (docs/architecture-notes.md, "Bulk intake"): each column gets one
converter, chosen once from its JSON Schema property and its column family, that turns a value
into the text the database reads (PostgreSQL COPY text; DuckDB casts the same text from Arrow
strings). Timestamps, dates and decimals are parsed once, here, and checked exactly.

A converter takes only what it can vouch for on its own: the property's one declared type,
with no other keyword than a format, and a value that fits its column. Anything else
(``null`` where the schema has no ``null``, a constraint such as ``maxLength``, an unparsable
date, a number with more places than the column keeps) raises :class:`NeedsFullCheck`, and the
record is checked by the full JSON Schema validator (``qbc_plugin_kit.validation``) and
converted value by value (:func:`~target_looker_warehouse.load_values.to_load_value`): the fast
path never accepts a record the full check would refuse.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import typing as t

import msgspec
from qbc_plugin_kit.record_intake import fast_property, simple_record_schema
from qbc_plugin_kit.typed_records import RAW, TypedFields
from singer_sdk.singerlib.json import serialize_json

from target_looker_warehouse.column_types import Family
from target_looker_warehouse.load_values import ValueConversionError, to_load_value

_UTC = dt.UTC
_Decimal = decimal.Decimal
_datetime_fromisoformat = dt.datetime.fromisoformat
_date_fromisoformat = dt.date.fromisoformat

# PostgreSQL COPY text: backslash, tab, newline and carriage return are escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


class NeedsFullCheck(Exception):
    """This value is outside what its column's fast converter vouches for."""


def copy_text(value: str, column: str, keep_nul: bool = False) -> str:
    """``value`` as a PostgreSQL COPY text field (NUL as ``\\0`` when the database keeps it)."""
    if "\x00" in value:
        if not keep_nul:
            raise ValueConversionError(f"column '{column}': PostgreSQL text cannot hold the NUL character (U+0000)")
        return value.translate(_NUL_ESCAPES)
    return value.translate(_COPY_ESCAPES)


_NUL_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"})
_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "0": "\x00"}


def copy_field_value(field: str) -> str | None:
    """A COPY text field back to its value (the inverse of :func:`copy_text`)."""
    if field == COPY_NULL:
        return None
    return _UNESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], field)


def copy_json(text: str, column: str, keep_nul: bool = False) -> str:
    """JSON text as a PostgreSQL COPY text field for a jsonb column."""
    if not keep_nul and "\\u0000" in text and _JSON_NUL.search(text):
        raise ValueConversionError(f"column '{column}': PostgreSQL jsonb cannot hold the NUL character (U+0000)")
    return copy_text(text, column, keep_nul)


# An escaped NUL in JSON text: "\u0000" preceded by an even number of backslashes.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _is_rendered(value: str) -> bool:
    """Whether a timestamp text that ``datetime.fromisoformat`` read with an offset has the shape
    ``isoformat()`` renders (``YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM``), so it can be loaded as it
    is: re-rendering every timestamp of every record cost a tenth of the encoding."""
    size = len(value)
    return ((size == 25 or (size == 32 and value[19] == ".")) and value[4] == "-" and value[7] == "-"
            and value[10] == "T" and value[13] == ":" and value[16] == ":" and value[-6] in "+-"
            and value[-3] == ":")


def _decimal_token(scale: int, precision: int, column: str) -> t.Callable[[t.Any], str]:
    integer_digits = precision - scale

    def token(value: t.Any) -> str:
        kind = type(value)
        if kind is int:
            text = str(value)
            if len(text.lstrip("-")) > integer_digits:
                raise NeedsFullCheck
            return text
        if kind is not _Decimal:
            raise NeedsFullCheck
        text = str(value)
        # Plain notation only ("123.45", "-0.5"); exponents and non-finite values take the
        # full path, which checks them exactly.
        whole, _, places = text.partition(".")
        if len(places) > scale or len(whole.lstrip("-")) > integer_digits or "E" in text or "N" in text or "n" in text:
            raise NeedsFullCheck
        return text

    return token


# How the dict path decodes a record (qbc_plugin_kit.singer_input): a JSON column's value
# arriving as raw JSON text becomes the same Python value before it is serialised.
_DICT_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


def _number_pattern(scale: int, precision: int) -> t.Callable[[str], t.Any]:
    """``fullmatch`` of a JSON number's text that a column of ``scale`` places and ``precision``
    digits holds as it is: plain notation, at most ``precision - scale`` integer digits and
    ``scale`` places. What it refuses (exponents, more places, ``null``, anything not a number)
    takes the full check, so ``1e2``, ``12.345`` in a two-place column and ``true`` behave
    exactly as on the dict path (what :func:`_decimal_token` takes from a Decimal)."""
    integer_digits = precision - scale
    if integer_digits < 1:
        return re.compile(r"(?!)").fullmatch  # every JSON number has an integer digit: the full check decides
    places = rf"(?:\.[0-9]{{1,{scale}}})?" if scale > 0 else ""
    return re.compile(rf"-?[0-9]{{1,{integer_digits}}}{places}").fullmatch


def _raw_json(convert: t.Callable[[t.Any], str], nullable: bool) -> t.Callable[[t.Any], str]:
    """A JSON column's converter for the value's raw JSON text."""
    def token(raw: t.Any) -> str:
        value = _DICT_DECODER.decode(raw)
        if value is None:
            if nullable:
                return COPY_NULL
            raise NeedsFullCheck
        return convert(value)

    return token


class _Fast(t.NamedTuple):
    kind: str  # "text" (a str kept as it is, escaped for COPY) or "other"
    nullable: bool
    convert: t.Callable[[t.Any], str]  # for a non-null value


def _fast_converter(prop: t.Mapping[str, t.Any], family: Family, column: str, scale: int,
                    precision: int, keep_nul: bool) -> _Fast | None:
    """The column's fast converter, or None when the property needs the full check always."""
    found = fast_property(prop)
    if found is None:
        return None
    types, nullable, fmt = found

    def none_or(convert: t.Callable[[t.Any], str], kind: str = "other") -> _Fast:
        return _Fast(kind, nullable, convert)

    if types == {"string"} and fmt is None and family == Family.TEXT:
        def text(value: t.Any) -> str:
            if type(value) is not str:
                raise NeedsFullCheck
            return copy_text(value, column, keep_nul)
        return none_or(text, "text")
    if types == {"string"} and fmt == "date-time" and family == Family.TIMESTAMP:
        def timestamp(value: t.Any) -> str:
            if type(value) is not str:
                raise NeedsFullCheck
            try:
                parsed = _datetime_fromisoformat(value)
            except ValueError:
                raise NeedsFullCheck from None
            if parsed.tzinfo is not None and _is_rendered(value):
                return value  # already as isoformat() renders it: the databases read the same instant
            # Singer timestamps without an offset are UTC by the Singer spec.
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)).isoformat()
        return none_or(timestamp)
    if types == {"string"} and fmt == "date" and family == Family.DATE:
        def date(value: t.Any) -> str:
            if type(value) is not str:
                raise NeedsFullCheck
            try:
                return _date_fromisoformat(value).isoformat()
            except ValueError:
                raise NeedsFullCheck from None
        return none_or(date)
    if types == {"integer"} and family == Family.INTEGER:
        def integer(value: t.Any) -> str:
            if type(value) is not int:
                raise NeedsFullCheck
            return str(value)
        return none_or(integer)
    if types <= {"integer", "number"} and "number" in types and family == Family.DECIMAL:
        return none_or(_decimal_token(scale, precision, column))
    if types == {"integer"} and family == Family.DECIMAL:
        decimal_token = _decimal_token(scale, precision, column)

        def integer_decimal(value: t.Any) -> str:
            if type(value) is not int:
                raise NeedsFullCheck
            return decimal_token(value)
        return none_or(integer_decimal)
    if types == {"boolean"} and family == Family.BOOLEAN:
        def boolean(value: t.Any) -> str:
            if type(value) is not bool:
                raise NeedsFullCheck
            return "true" if value else "false"
        return none_or(boolean)
    if types in ({"object"}, {"array"}) and family == Family.JSON:
        expected = dict if types == {"object"} else list

        def json_value(value: t.Any) -> str:
            if type(value) is not expected:
                raise NeedsFullCheck
            text = serialize_json(value)
            return copy_json(text, column, keep_nul)
        return none_or(json_value)
    return None


def token_of(value: t.Any, family: Family, column: str, keep_nul: bool) -> str:
    """A load value (from :func:`to_load_value`) as its COPY text field."""
    if value is None:
        return COPY_NULL
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    elif isinstance(value, _Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    if family == Family.JSON:
        return copy_json(text, column, keep_nul)
    return copy_text(text, column, keep_nul)


class TypedEncoder:
    """A stream's encoder of typed records (:meth:`RowEncoder.typed`)."""

    def __init__(self, encode: t.Callable[[t.Any, tuple[str, ...]], str],
                 encode_unescaped: t.Callable[[t.Any, tuple[str, ...]], str], given: list[_Fast | None]) -> None:
        #: ``encode(record, tokens)``: the row; ``tokens`` from :meth:`tokens`
        self.encode = encode
        #: the same for a record whose input line holds no backslash (no string needs a COPY escape)
        self.encode_unescaped = encode_unescaped
        self._given = given

    def tokens(self, values: t.Sequence[t.Any]) -> tuple[str, ...]:
        """The COPY text of the given columns' values (NeedsFullCheck as a column's converter)."""
        tokens = []
        for spec, value in zip(self._given, values, strict=True):
            if spec is None:
                tokens.append("")  # not a column of the table
            elif value is None:
                if not spec.nullable:
                    raise NeedsFullCheck
                tokens.append(COPY_NULL)
            else:
                tokens.append(spec.convert(value))
        return tuple(tokens)


class RowEncoder:
    """Encodes records of one stream into rows of text tokens, one converter per column.

    A row is one line of PostgreSQL COPY text (fields escaped, ``\\N`` for NULL, no newline):
    PostgreSQL reads it with COPY; DuckDB gets its fields as Arrow strings and casts them.
    ``keep_nul``: the database stores the NUL character (DuckDB), else a value holding one is
    refused (PostgreSQL text and jsonb cannot).
    """

    def __init__(self, schema: t.Mapping[str, t.Any], columns: t.Sequence[str], sources: t.Sequence[str],
                 families: t.Sequence[Family], scale: int, precision: int, *, keep_nul: bool) -> None:
        self.columns, self.sources, self.families = list(columns), list(sources), list(families)
        self.scale, self.precision, self.keep_nul = scale, precision, keep_nul
        self.source_of = dict(zip(columns, sources, strict=True))
        properties = schema.get("properties", {})
        fast = [
            _fast_converter(properties.get(source, {}), family, column, scale, precision, keep_nul)
            for column, source, family in zip(columns, sources, families, strict=True)
        ]
        simple_schema = simple_record_schema(schema) and set(properties) == set(sources)
        self._fast_specs = fast
        self.fast = simple_schema and all(f is not None for f in fast)
        self.encode_fast = (self._compile([f for f in fast if f is not None]) if self.fast
                            else self._never_fast)

    @staticmethod
    def _never_fast(record: t.Mapping[str, t.Any]) -> t.Any:
        raise NeedsFullCheck

    def _compile(self, fast: list[_Fast], access: list[str] | None = None, params: str = "record",
                 modes: list[str] | None = None) -> t.Callable[..., t.Any]:
        """One function per stream, every column's check written out in line (a call per cell
        cost as much as the conversion): like fastjsonschema, the checks become Python code.
        ``access``: the expression that reads each column's value (``get(source)`` by default);
        ``modes`` (typed records, see :meth:`typed`): "token" (the expression is the column's
        COPY text already), "number" (a number's raw JSON text, see :func:`_number_pattern`),
        "memo" (a string converted once per distinct value), "int" (an int whose type msgspec
        checked), "str" (a str whose type msgspec checked), "plain" (a str known to need no
        COPY escape), else "".

        It returns the row (a COPY line, or a tuple of tokens), or raises NeedsFullCheck or
        ValueConversionError."""
        body = [f"def encode({params}):"]
        if access is None:
            body.append("    get = record.get")
            access = [f"get({source!r})" for source in self.sources]
        modes = modes or [""] * len(fast)
        namespace: dict[str, t.Any] = {"COPY_NULL": COPY_NULL, "NeedsFullCheck": NeedsFullCheck}
        for i, (read, spec, mode) in enumerate(zip(access, fast, modes, strict=True)):
            namespace[f"c{i}"] = spec.convert
            if mode == "token":
                body.append(f"    t{i} = {read}")
                continue
            if mode == "number":
                # A number's JSON text (msgspec.Raw) goes into the row as it arrived, written out
                # here: a call per number cost a tenth of the intake. Raw holds JSON null as "null".
                namespace[f"n{i}"] = _number_pattern(self.scale, self.precision)
                null = f"t{i} = COPY_NULL" if spec.nullable else "raise NeedsFullCheck"
                body += [f"    v = {read}", "    if v is None:", f"        {null}", "    else:",
                         "        v = bytes(v).decode()", f"        if n{i}(v) is not None:", f"            t{i} = v",
                         "        elif v == 'null':", f"            {null}", "        else:",
                         "            raise NeedsFullCheck"]
                continue
            body += [f"    v = {read}", "    if v is None:",
                     f"        t{i} = COPY_NULL" if spec.nullable else "        raise NeedsFullCheck"]
            if spec.kind == "text" and mode == "plain":
                body += ["    else:", f"        t{i} = v"]
                continue
            if spec.kind == "text":
                # Printable text without a backslash needs no COPY escape (tab, newline, CR and
                # NUL are not printable): kept as it is; anything else goes through c{i}.
                plain = "v.isprintable() and '\\\\' not in v"
                body += [f"    elif {plain if mode in ('str', 'plain') else 'type(v) is str and ' + plain}:",
                         f"        t{i} = v"]
            if mode == "int":
                body += ["    else:", f"        t{i} = str(v)"]
            elif mode == "memo":
                # Dates and timestamps repeat (a document's lines share them): each distinct
                # text is parsed once; the cache is bounded.
                namespace[f"m{i}"] = {}
                body += ["    else:", f"        t{i} = m{i}.get(v)", f"        if t{i} is None:",
                         f"            t{i} = c{i}(v)", f"            if len(m{i}) >= 4096:",
                         f"                m{i}.clear()", f"            m{i}[v] = t{i}"]
            else:
                body += ["    else:", f"        t{i} = c{i}(v)"]
        tokens = ", ".join(f"t{i}" for i in range(len(fast)))
        body.append(f"    return '\\t'.join(({tokens},))")
        exec(compile("\n".join(body), f"<row encoder {self.columns[:1]}>", "exec"), namespace)  # noqa: S102
        return t.cast(t.Callable[..., t.Any], namespace["encode"])

    def typed(self, fields: TypedFields, given: t.Sequence[str]) -> TypedEncoder | None:
        """The encoder of this stream's typed records (qbc_plugin_kit.typed_records), or None
        when a column cannot be converted from its typed form (the stream stays on dicts).

        The columns named in ``given`` (audit columns the target sets) take tokens made by
        ``TypedEncoder.tokens`` (once per distinct set of values), the others the record's
        attributes. Numbers arrive as their JSON text and go into the row as they are, after
        the same check as a Decimal's (:func:`_number_pattern`); JSON columns are decoded as
        the dict path decodes them. Raises NeedsFullCheck or ValueConversionError as
        :meth:`encode_fast`."""
        if not self.fast:
            return None
        specs: list[_Fast] = []
        access: list[str] = []
        modes: list[str] = []
        given_specs: list[_Fast | None] = [None] * len(given)
        for source, spec, family in zip(self.sources, self._fast_specs, self.families, strict=True):
            if spec is None:
                return None
            if source in given:
                given_specs[given.index(source)] = spec
                access.append(f"given[{given.index(source)}]")
                specs.append(spec)
                modes.append("token")
                continue
            kind = fields.kind.get(source)
            mode = ""
            if kind == RAW and family == Family.DECIMAL:
                mode = "number"
            elif kind == RAW and family == Family.JSON:
                spec = spec._replace(convert=_raw_json(spec.convert, spec.nullable))
            elif kind == "str":
                mode = "memo" if family in (Family.TIMESTAMP, Family.DATE) else "str"
            elif kind == "int" and family == Family.INTEGER:
                mode = "int"
            elif kind not in ("int", "bool"):
                return None
            access.append(f"rec.{fields.attribute[source]}")
            specs.append(spec)
            modes.append(mode)
        # A line without a backslash holds no JSON escape, so none of its strings holds a
        # character COPY text escapes (JSON strings cannot hold raw control characters): the
        # encoder for such lines takes text as it is.
        plain = ["plain" if mode == "str" else mode for mode in modes]
        return TypedEncoder(self._compile(specs, access, "rec, given", modes),
                            self._compile(specs, access, "rec, given", plain), given_specs)

    def row(self, tokens: tuple[str, ...]) -> str:
        """Tokens as the row the dialect loads: one COPY text line, without its newline."""
        return "\t".join(tokens)

    def encode_checked(self, record: t.Mapping[str, t.Any]) -> tuple[str, ...]:
        """The row of a record the full validator accepted; ValueConversionError when a value
        does not fit its column."""
        return tuple(
            token_of(to_load_value(record.get(source), family, column, self.scale, self.precision),
                     family, column, self.keep_nul)
            for column, source, family in zip(self.columns, self.sources, self.families, strict=True)
        )
