"""Fast RECORD output for the taps: the SDK's message text, without its per-record costs.

The SDK writes every message through ``simplejson`` and flushes stdout after each one, and
builds a ``RecordMessage`` (plus a selection walk and a stream-map pass) per record. A tap
whose records are already built to their schema can skip all of that when nothing would
change them: every property selected and no stream map configured. Then each record is
encoded once with msgspec and the line is identical, byte for byte, to the SDK's (the same
key order, separators and number text); a record whose encoding is not plain ASCII (the SDK
escapes non-ASCII characters and DEL) or holds a value msgspec writes differently goes through the
SDK's own serializer instead. RECORD lines are written without a flush; every other message
(SCHEMA, STATE, ...) flushes, so a STATE line never reaches the target before the records it
covers, and never waits behind them in a buffer.
"""

from __future__ import annotations

import datetime
import re
import sys
import typing as t

import msgspec
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.singerlib.json import serialize_json

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

__all__ = ["BufferedSingerWriter", "fast_record_writer", "is_sdk_text_of_json_values"]

# Where msgspec's text may differ from the SDK's for a record value: a number in exponent
# form (floats: 1e+16 vs 1e16) and a UTC datetime ("Z" vs "+00:00"). A line that could hold
# one (or a string that merely looks like one) goes through the SDK's serializer. Records
# here hold no sets, bytes, timedeltas or enums, the other types the two write differently.
_MAY_DIFFER = re.compile(rb'[:,\[]-?[0-9]+(?:\.[0-9]+)?[eE]|[0-9]Z"')


def _refuse(obj: t.Any) -> t.Any:
    # A type msgspec does not know is written by the SDK's serializer (its str()).
    raise TypeError(type(obj).__name__)


_ENCODER = msgspec.json.Encoder(enc_hook=_refuse, decimal_format="number")


def is_sdk_text_of_json_values(body: bytes) -> bool:
    """Whether msgspec's JSON ``body`` of values read back from JSON is the SDK's exact text.

    For strings, ints, Decimals (``float_hook=Decimal``), bools, None, lists and dicts,
    msgspec (``decimal_format="number"``) and the SDK's simplejson write the same text,
    exponents included, except for characters the SDK escapes: anything outside ASCII,
    and DEL. No datetime or float can be among such values, so ``_MAY_DIFFER`` (a regular
    expression scan, the costliest step of ``write_record``) is not needed: two C-speed
    byte checks decide for a whole batch of records at once.
    """
    return body.isascii() and b"\x7f" not in body


class BufferedSingerWriter(SimpleSingerWriter):
    """The SDK's writer, flushing stdout only for messages other than RECORD."""

    def write_message(self, message: t.Any) -> None:
        out = sys.stdout
        out.write(self.format_message(message) + "\n")
        if not isinstance(message, RecordMessage):
            out.flush()

    _stream_names: t.ClassVar[dict[str, str]] = {}

    _extracted: datetime.datetime | None = None
    _extracted_text = ""

    def write_record(
        self, stream: str, record: dict[str, t.Any], time_extracted: datetime.datetime | None = None,
    ) -> None:
        """One RECORD line for ``record`` as the SDK would write it (no version).

        ``time_extracted`` (an aware datetime) defaults to now; a tap that knows when
        the record was read from the source passes that.
        """
        extracted = datetime.datetime.now(datetime.UTC) if time_extracted is None else time_extracted
        try:
            body = _ENCODER.encode(record)
        except (TypeError, ValueError):  # a type it does not know; a NaN or infinite Decimal
            body = b""
        if body and body.isascii() and b"\x7f" not in body and _MAY_DIFFER.search(body) is None:
            # Plain ASCII JSON of strings, numbers, bools and None: the SDK's exact text.
            sys.stdout.write(
                f'{{"type":"RECORD","stream":{self._stream_json(stream)},"record":{body.decode()},'
                f'"time_extracted":"{self._time_text(extracted)}"}}\n'
            )
            return
        self.write_message(RecordMessage(stream=stream, record=record, time_extracted=extracted))

    def write_record_of_json_values(self, stream: str, record: dict[str, t.Any]) -> None:
        """``write_record`` for a record whose values all came from JSON or are built alike.

        Strings, ints, Decimals (exact, ``float_hook=Decimal``), bools, None, lists and dicts:
        no datetime and no float, so msgspec (``decimal_format="number"``) writes the SDK's
        simplejson text, exponents included, and the ``_MAY_DIFFER`` scan (the costliest step
        of ``write_record``) is not needed. Characters the SDK escapes (non-ASCII, DEL) still
        send the record through the SDK's serializer. The caller's tests must compare its
        lines with the SDK's (tap-quickbooks-online: tests/test_record_output.py).
        """
        extracted = datetime.datetime.now(datetime.UTC)
        try:
            body = _ENCODER.encode(record)
        except (TypeError, ValueError):  # a type msgspec does not know; a NaN or infinite Decimal
            body = b""
        if body and body.isascii() and b"\x7f" not in body:
            sys.stdout.write(
                f'{{"type":"RECORD","stream":{self._stream_json(stream)},"record":{body.decode()},'
                f'"time_extracted":"{extracted.isoformat(sep="T")}"}}\n'
            )
            return
        self.write_message(RecordMessage(stream=stream, record=record, time_extracted=extracted))

    def write_record_json(
        self, stream: str, body: bytes, time_extracted: datetime.datetime | None = None,
    ) -> None:
        """One RECORD line around ``body``, a record's JSON already known to be the SDK's text.

        For a tap that stores records as JSON and checked them with
        ``is_sdk_text_of_json_values``: no encoding and no check per record.
        """
        extracted = datetime.datetime.now(datetime.UTC) if time_extracted is None else time_extracted
        sys.stdout.write(
            f'{{"type":"RECORD","stream":{self._stream_json(stream)},"record":{body.decode()},'
            f'"time_extracted":"{self._time_text(extracted)}"}}\n'
        )

    def _time_text(self, extracted: datetime.datetime) -> str:
        # Formatted once per distinct time: a tap passing one time for a whole page of
        # records pays for it once.
        if extracted is not self._extracted:
            self._extracted = extracted
            self._extracted_text = extracted.astimezone(datetime.UTC).isoformat(sep="T")
        return self._extracted_text

    def _stream_json(self, stream: str) -> str:
        text = self._stream_names.get(stream)
        if text is None:
            text = self._stream_names[stream] = serialize_json(stream)
        return text


_CACHED = "_qbc_fast_record_writer"


def fast_record_writer(stream: Stream) -> BufferedSingerWriter | None:
    """The writer to use for ``stream``'s records, or None when the SDK's path must run.

    Decided at the stream's first record and kept on the stream: its maps, selection and
    version are fixed by then, and this is asked once per record.
    """
    cached = stream.__dict__.get(_CACHED)
    if cached is None:
        cached = (_fast_record_writer(stream),)
        setattr(stream, _CACHED, cached)
    return t.cast("BufferedSingerWriter | None", cached[0])


def _fast_record_writer(stream: Stream) -> BufferedSingerWriter | None:
    """Whether the fast path applies to ``stream`` (see :func:`fast_record_writer`).

    The fast path applies when the tap uses :class:`BufferedSingerWriter`, the stream
    builds its records to the schema itself (``TYPE_CONFORMANCE_LEVEL`` NONE), has
    only the SDK's identity map under its own name, every property is selected and no
    record version is set (full-table ACTIVATE_VERSION streams).
    """
    if stream.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:
        return None  # the SDK would change the record's values first
    writer = stream._tap.message_writer
    if not isinstance(writer, BufferedSingerWriter):
        return None
    maps = stream.stream_maps
    if len(maps) != 1 or type(maps[0]) is not SameRecordTransform or maps[0].stream_alias != stream.name:
        return None
    if stream._stream_version is not None:
        return None
    if not all(stream.mask.values()):
        return None
    return writer
