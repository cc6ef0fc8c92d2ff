"""The bulk record path every fast target shares: each record goes straight to its sink.

The SDK's per-record path (copy, map, metadata, validate, parse every timestamp, tally) cost
more than a whole warehouse load (docs/architecture-notes.md, "Records travel in bulk"). A
target that mixes in :class:`BulkIntake` hands each RECORD message to its sink's ``accept``,
which checks and encodes it once, with the SDK's ``_sdc_received_at``/``_sdc_sequence`` values
rendered once per millisecond. When stream maps or flattening are configured, records take the
SDK's path unchanged, so every SDK feature keeps working.

A sink that offers ``typed_fields()`` gets its stream's records as typed Structs
(typed_records.py) through ``take_typed_run``: a run of one stream's records at a time, read
from the input by the sink's own loop (one Python frame per record instead of six); the sink
takes each or declines it, and a declined record is decoded again as a dict and takes the path
above.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from singer_sdk.mapper import SameRecordTransform

from qbc_plugin_kit.typed_records import TypedMessage, TypedRecordDeclined, is_typed


class BulkSink(t.Protocol):
    """What a sink offers the bulk path."""

    stream_name: str
    drain_in_background: bool
    record_counter_metric: t.Any

    def accept(self, record: dict[str, t.Any], message: dict[str, t.Any],
               received: tuple[str, int]) -> None: ...

    @property
    def is_full(self) -> bool: ...

    @property
    def current_size(self) -> int: ...

    @property
    def max_size(self) -> int: ...


class TypedBulkSink(BulkSink, t.Protocol):
    """What a sink that offers ``typed_fields()`` offers besides: its stream's typed records."""

    def take_typed_run(self, first: tuple[t.Any, str, int | None] | None,
                       records: t.Iterator[tuple[t.Any, str]] | None, room: int,
                       now_received: t.Callable[[], tuple[str, int]]) -> tuple[int, str | None]:
        """Take ``first`` (a typed RECORD message, its line without the newline, its dead
        letter's id), then from ``records`` (``(message, line)`` of a TypedRun) until ``room``
        records are taken; each record's ``_sdc_received_at``/``_sdc_sequence`` from
        ``now_received()``. Returns how many it took and the line of the record it declined
        (nothing of which is kept; the reader decodes it as a dict), if any."""
        ...


class BulkIntake:
    """Mixin for a target; put it before the SDK's Target class and name ``bulk_sink_class``."""

    #: Sinks of this class (and its subclasses) take records through ``accept``.
    bulk_sink_class: t.ClassVar[type]

    mapper: t.Any
    message_reader: t.Any
    config: t.Any
    logger: t.Any
    _sinks_active: dict[str, t.Any]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._bulk_sinks: dict[str, BulkSink | None] = {}
        self._bulk_count = 0
        self._received_ms = 0
        self._received: tuple[str, int] = ("", 0)
        super().__init__(*args, **kwargs)
        self.message_reader.take_typed = self._take_typed_record

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)  # type: ignore[misc]
        self._bulk_sinks.clear()  # a new schema may have made a new sink
        self.message_reader.typed_decoders.clear()

    def _bulk_sink(self, stream: str) -> BulkSink | None:
        if stream in self._bulk_sinks:
            return self._bulk_sinks[stream]
        sink: BulkSink | None = None
        maps = self.mapper.stream_maps.get(stream) or []
        if (len(maps) == 1 and type(maps[0]) is SameRecordTransform and maps[0].stream_alias == stream
                and not self.config.get("stream_maps") and not self.config.get("flattening_enabled")):
            found = self._sinks_active.get(stream)
            sink = t.cast(BulkSink, found) if isinstance(found, self.bulk_sink_class) else None
        self._bulk_sinks[stream] = sink
        typed_fields = getattr(sink, "typed_fields", None)
        fields = typed_fields() if typed_fields is not None else None
        if fields is not None:
            self.message_reader.typed_decoders.add(stream, fields)  # the stream's next records come typed
        return sink

    def _process_record_message(self, message_dict: dict) -> None:
        stream = message_dict.get("stream")
        sink = self._bulk_sink(stream) if isinstance(stream, str) else None
        record = message_dict["record"]
        typed = is_typed(record)
        if sink is None:
            if typed:
                raise TypedRecordDeclined
            super()._process_record_message(message_dict)  # type: ignore[misc]
            return
        if typed:
            if not self._accept_typed(sink, record, message_dict["time_extracted"], message_dict["version"]):
                raise TypedRecordDeclined
        else:
            sink.accept(record, message_dict, self._now_received())
        self._taken(sink)

    def _take_typed_record(self, message: t.Any, lines: t.Iterator[str]) -> tuple[int, str | None]:
        """The reader's fast path (singer_input.py): the typed RECORD ``message``, then the
        records in ``lines`` that continue its stream's run, straight to the stream's sink
        (``take_typed_run``), a batch's room at a time. Returns how many the sink took (0: it
        declined ``message``, nothing kept) and the line read past the run, if any."""
        sink = self._bulk_sinks.get(message.stream)
        if sink is None:
            return 0, None
        reader = self.message_reader
        first: tuple[t.Any, str, int | None] | None = (message, reader.current_line, reader.current_letter)
        run = reader.typed_decoders.run(lines, lambda: reader.current_letter is not None)
        records = iter(run)
        total = 0
        while True:
            # Up to the batch's end and the next 1,024th record, where _taken looks after both.
            room = max(1, min(sink.max_size - sink.current_size, 1024 - self._bulk_count % 1024))
            taken, declined = t.cast(TypedBulkSink, sink).take_typed_run(first, records, room, self._now_received)
            if taken:
                total += taken
                self._taken(sink, taken)
            if declined is not None or taken < room:
                return total, declined if declined is not None else run.rest
            first = None

    def _accept_typed(self, sink: BulkSink, record: t.Any, time_extracted: str | None, version: int | None) -> bool:
        reader = self.message_reader
        first = (TypedMessage(record, time_extracted, version), reader.current_line, reader.current_letter)
        return t.cast(TypedBulkSink, sink).take_typed_run(first, None, 1, self._now_received)[0] == 1

    def _now_received(self) -> tuple[str, int]:
        millis = round(time.time() * 1000)
        if millis != self._received_ms:
            # The SDK's _sdc_received_at and _sdc_sequence, rendered once per millisecond.
            self._received_ms = millis
            self._received = (dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat(), millis)
        return self._received

    def _taken(self, sink: BulkSink, count: int = 1) -> None:
        """What follows records their sink took: the SDK's counters, and a full sink drained."""
        before = self._bulk_count
        self._bulk_count += count
        # The SDK's counter, without its clock read per record: its value counts each record,
        # and whether its interval has passed (it logs then) is asked every 1,024 records.
        sink.record_counter_metric.value += count
        if self._bulk_count >> 10 != before >> 10:
            self._handle_max_record_age()  # type: ignore[attr-defined]
            for each in self._bulk_sinks.values():
                if each is not None:
                    each.record_counter_metric.increment(0)
        if sink.is_full:
            self.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...", sink.stream_name, sink.current_size)
            # Loaded while the next records are read, where the sink says that pays.
            sink.drain_in_background = True
            try:
                self.drain_one(sink)  # type: ignore[attr-defined]
            finally:
                sink.drain_in_background = False
