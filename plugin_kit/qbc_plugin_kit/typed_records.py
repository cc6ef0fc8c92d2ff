"""Typed decoding of RECORD messages: one msgspec Struct per stream, made from its SCHEMA.

Decoding a record into a dict builds a Decimal for every number and a dict entry for every
field; a Struct generated from the stream's schema checks each field's JSON type while it
decodes and keeps numbers as their exact JSON text (``msgspec.Raw``), which a loader can send
to the database as it is (docs/architecture-notes.md, "Typed records").

A typed record is an optimisation only: whatever its Struct refuses (a wrong type, a missing
key property, NaN, a lone surrogate, a line that is not JSON) is decoded again as a dict by the
reader's ordinary path, which checks it fully, and a consumer that cannot vouch for a typed
record declines it (:class:`TypedRecordDeclined`) and gets the same dict path.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

# The envelope of any message: the record is skipped over (kept as its raw JSON), decoded
# afterwards by its stream's own decoder. A field of another type than these (a version that is
# not an integer, a stream name that is not a string) refuses the typed path.
_Envelope = msgspec.defstruct(
    "_Envelope",
    [("type", str), ("stream", t.Optional[str], None), ("record", msgspec.Raw, None),  # noqa: UP045 - a runtime type
     ("time_extracted", t.Optional[str], None), ("version", t.Optional[int], None)],  # noqa: UP045
    gc=False,
)
_ENVELOPE_DECODER: msgspec.json.Decoder[t.Any] = msgspec.json.Decoder(_Envelope)


class TypedMessage(t.NamedTuple):
    """A typed RECORD message's parts a consumer reads (as the one-pass Struct has them)."""

    record: t.Any
    time_extracted: str | None
    version: int | None


class TypedRecordDeclined(Exception):
    """The consumer cannot vouch for this typed record: decode its line as a dict instead."""


#: Kinds of a field: "str", "int", "bool" (checked by msgspec) or "raw" (the value's JSON text:
#: numbers, objects, arrays, and any property without one simple type).
RAW = "raw"


@dataclass(frozen=True)
class TypedFields:
    """How a stream's properties map onto its Struct's attributes."""

    struct: type[msgspec.Struct]
    decoder: msgspec.json.Decoder[t.Any]
    #: decodes a whole RECORD message of the stream in one pass (see TypedDecoders)
    message_decoder: msgspec.json.Decoder[t.Any]
    #: property name -> attribute name (``f0``, ``f1``…: property names need not be identifiers)
    attribute: Mapping[str, str]
    #: property name -> kind ("str", "int", "bool", RAW)
    kind: Mapping[str, str]
    #: property name -> whether JSON null is allowed (a RAW field holds null as ``b"null"``)
    nullable: Mapping[str, bool]

    def reader(self, names: Sequence[str]) -> t.Callable[[t.Any, Mapping[str, t.Any]], dict[str, t.Any]]:
        """A function ``read(record, last)`` that returns the record's values of ``names`` as a
        dict (one dict display, a third of ``dict(zip(names, attrgetter(...)(record)))``'s cost).
        A value equal to the one in ``last`` (the previous record's dict) is taken from there:
        a batch holding keys and versions for a long time keeps one copy of the values that
        repeat from record to record (a company id, a document's id and version on its lines)."""
        items = ", ".join(f"{name!r}: v if (v := record.{self.attribute[name]}) != (w := last[{name!r}]) else w"
                          for name in names)
        return t.cast(t.Callable[[t.Any, Mapping[str, t.Any]], dict[str, t.Any]],
                      eval(f"lambda record, last: {{{items}}}"))  # noqa: S307


_SIMPLE = {"string": ("str", str), "integer": ("int", int), "boolean": ("bool", bool)}


def _field(prop: t.Any) -> tuple[str, t.Any, bool]:
    """(kind, msgspec type, nullable) for a JSON Schema property."""
    declared = prop.get("type") if isinstance(prop, Mapping) else None
    if isinstance(declared, str):
        declared = [declared]
    if not isinstance(declared, list) or not declared:
        return RAW, msgspec.Raw, True
    types = {str(x) for x in declared}
    nullable = "null" in types
    types.discard("null")
    if len(types) == 1 and (simple := _SIMPLE.get(next(iter(types)))) is not None:
        kind, python_type = simple
        return kind, (python_type | None) if nullable else python_type, nullable
    return RAW, msgspec.Raw, nullable


def typed_fields(properties: Mapping[str, t.Any], required: Iterable[str] = (),
                 extra: Mapping[str, t.Any] | None = None) -> TypedFields:
    """The Struct for records with these JSON Schema ``properties``.

    ``required`` properties (key properties) have no default: a record without one is refused,
    so its dict path names what is missing. The others default to None (absent; a RAW field
    holds JSON null as ``b"null"``). ``extra``: fields the consumer reads that the schema may not
    declare, with their msgspec type (a record holding another type there is refused).
    Properties and fields the Struct does not declare are skipped, as a dict consumer that reads
    only its columns would ignore them.
    """
    required = set(required)
    specs: list[tuple[t.Any, ...]] = []
    attribute: dict[str, str] = {}
    kind: dict[str, str] = {}
    nullable: dict[str, bool] = {}
    fields = [(name, _field(prop)) for name, prop in properties.items()]
    fields += [(name, ("extra", python_type, True)) for name, python_type in (extra or {}).items()
               if name not in properties]
    for index, (name, (field_kind, python_type, can_be_null)) in enumerate(fields):
        attr = attribute[name] = f"f{index}"
        kind[name], nullable[name] = field_kind, can_be_null
        specs.append((attr, python_type) if name in required else (attr, python_type, None))
    # Required fields first: a Struct cannot have a field without a default after one with it.
    specs.sort(key=len)
    struct = msgspec.defstruct("TypedRecord", specs, rename={a: n for n, a in attribute.items()}, gc=False)
    message = msgspec.defstruct(
        "TypedRecordMessage",
        [("type", str), ("stream", t.Optional[str], None), ("record", t.Optional[struct], None),  # noqa: UP045
         ("time_extracted", t.Optional[str], None), ("version", t.Optional[int], None)],  # noqa: UP045
        gc=False,
    )
    return TypedFields(struct, msgspec.json.Decoder(struct), msgspec.json.Decoder(message), attribute, kind,
                       nullable)


def is_typed(record: t.Any) -> bool:
    """Whether ``record`` came through a stream's typed decoder (else it is a dict)."""
    return isinstance(record, msgspec.Struct)


class TypedDecoders:
    """The typed decoders of a reader's streams, by stream name.

    A line is first decoded whole by the decoder of the stream the last typed record came
    from (a tap sends a stream's records in runs), in one pass; a line of another stream or
    message takes two (the envelope, then the record by its stream's decoder)."""

    def __init__(self) -> None:
        self._fields: dict[str, TypedFields] = {}
        self._last: tuple[str, msgspec.json.Decoder[t.Any]] | None = None

    def __bool__(self) -> bool:
        return bool(self._fields)

    def __contains__(self, stream: str) -> bool:
        return stream in self._fields

    def add(self, stream: str, fields: TypedFields) -> None:
        self._fields[stream] = fields

    def clear(self) -> None:
        self._fields.clear()
        self._last = None

    def decode_run(self, line: str) -> t.Any:
        """The typed RECORD message of ``line`` (a Struct: ``stream``, ``record``,
        ``time_extracted``, ``version``) when it continues the run of the stream the last typed
        record came from, decoded in one pass; else None."""
        # TypedRun holds the rule: a run of this one line.
        for message, _line in TypedRun(iter((line,)), self._last, _never):
            return message
        return None

    def run(self, lines: t.Iterator[str], ended: t.Callable[[], bool]) -> TypedRun:
        """The lines that follow in ``lines`` while they continue the current run (see
        :meth:`decode_run`); ``ended()`` is asked before each line is decoded: True ends the run
        there (a line the reader must take itself, such as a dead letter's)."""
        return TypedRun(lines, self._last, ended)

    def decode(self, line: str) -> dict[str, t.Any] | None:
        """The RECORD message of ``line`` with its record typed, or None when the line is another
        message, its stream has no decoder, or the decoder refuses it (the caller decodes it as
        a dict then)."""
        message = self.decode_run(line)
        if message is not None:
            return {"type": "RECORD", "stream": message.stream, "record": message.record,
                    "time_extracted": message.time_extracted, "version": message.version}
        try:
            envelope = _ENVELOPE_DECODER.decode(line)
        except msgspec.MsgspecError:
            return None
        if envelope.type != "RECORD" or envelope.record is None or envelope.stream not in self._fields:
            return None
        fields = self._fields[envelope.stream]
        try:
            record = fields.decoder.decode(envelope.record)
        except msgspec.MsgspecError:
            return None
        self._last = (envelope.stream, fields.message_decoder)
        return {"type": "RECORD", "stream": envelope.stream, "record": record,
                "time_extracted": envelope.time_extracted, "version": envelope.version}


def _never() -> bool:
    return False


class TypedRun:
    """A stream's run of typed RECORD messages, read line by line: iterating yields
    ``(message, line)`` while each line continues the run (the stream the last typed record came
    from, a RECORD with its record), in one loop with no call per line. The first line that does not is kept in
    :attr:`rest` for the reader (None: the input ended, or a consumer stopped early). A consumer
    may stop at any record and go on later with the same iterator."""

    __slots__ = ("_ended", "_lines", "_run", "rest")

    def __init__(self, lines: t.Iterator[str], run: tuple[str, msgspec.json.Decoder[t.Any]] | None,
                 ended: t.Callable[[], bool]) -> None:
        self.rest: str | None = None
        self._lines, self._run, self._ended = lines, run, ended

    def __iter__(self) -> t.Iterator[tuple[t.Any, str]]:
        if self._run is None:
            return
        stream, decode = self._run[0], self._run[1].decode
        ended, error = self._ended, msgspec.MsgspecError
        for line in self._lines:
            if ended():
                self.rest = line
                return
            try:
                message = decode(line)
            except error:
                self.rest = line
                return
            if message.stream != stream or message.type != "RECORD" or message.record is None:
                self.rest = line
                return
            yield message, line
