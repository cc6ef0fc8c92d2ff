"""The bulk record path every fast target shares: each record goes straight to its sink.

The SDK's per-record path (copy, map, metadata, validate, parse every timestamp, tally) cost
more than a whole warehouse load (docs/architecture-notes.md, "Records travel in bulk"). A
target that mixes in :class:`BulkIntake` hands each RECORD message to its sink's ``accept``,
which checks and encodes it once, with the SDK's ``_sdc_received_at``/``_sdc_sequence`` values
rendered once per millisecond. When stream maps or flattening are configured, records take the
SDK's path unchanged, so every SDK feature keeps working.

A sink that offers ``typed_fields()`` gets its stream's records as typed Structs
(typed_records.py) through ``accept_typed``, which takes one or declines it; a declined record
is decoded again as a dict and takes the path above.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from singer_sdk.mapper import SameRecordTransform

from qbc_plugin_kit.typed_records import TypedRecordDeclined, is_typed


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

    def _take_typed_record(self, message: t.Any) -> bool:
        """The reader's fast path (singer_input.py): a typed RECORD message straight to its sink;
        False (nothing kept) when the sink declines it."""
        sink = self._bulk_sinks.get(message.stream)
        if sink is None or not self._accept_typed(sink, message.record, message.time_extracted, message.version):
            return False
        self._taken(sink)
        return True

    def _accept_typed(self, sink: BulkSink, record: t.Any, time_extracted: str | None, version: int | None) -> bool:
        reader = self.message_reader
        return bool(sink.accept_typed(record, time_extracted, version,  # type: ignore[attr-defined]
                                      self._now_received(), reader.current_line, reader.current_letter))

    def _now_received(self) -> tuple[str, int]:
        millis = round(time.time() * 1000)
        if millis != self._received_ms:
            # The SDK's _sdc_received_at and _sdc_sequence, rendered once per millisecond.
            self._received_ms = millis
            self._received = (dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat(), millis)
        return self._received

    def _taken(self, sink: BulkSink) -> None:
        """What follows a record its sink took: the SDK's counters, and a full sink drained."""
        self._bulk_count += 1
        if self._bulk_count % 1024 == 0:
            self._handle_max_record_age()  # type: ignore[attr-defined]
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.logger.info(
                "Target sink for '%s' is full. Current size is '%s'. Draining...", sink.stream_name, sink.current_size)
            # Loaded while the next records are read, where the sink says that pays.
            sink.drain_in_background = True
            try:
                self.drain_one(sink)  # type: ignore[attr-defined]
            finally:
                sink.drain_in_background = False
