"""Singer streams that drain the durable buffer (one class per stream of the record model)."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from qbc_plugin_kit.singer_output import (
    fast_record_writer,
    is_sdk_text_of_json_values,
)
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import Stream

from .config import company_keys
from .qbxml_parser import iter_rets
from .query_catalog import DELETED_TAG
from .record_mapping import LINE_STREAMS, Node, Record, stream_records, to_node
from .store import Entry, StateStore
from .stored_records import MAPPING_VERSION, decode_record, decode_records, split_records

if TYPE_CHECKING:
    from .tap import TapQuickBooksDesktop

SCHEMAS_DIR = Path(__file__).parent / "schemas"
SEQUENCE_KEY = "buffer_sequence"
# This state's identity as a reader of the buffer (see run_and_wait.register_and_prune):
# generated on its first run, so each Meltano state id is its own consumer.
CONSUMER_KEY = "buffer_consumer"


def _object_id(ret: Node) -> str:
    return str(ret.get("TxnID") or ret.get("ListID") or "")


def _keep_newest_updated_at(stream: Stream, latest_record: Record, *,
                            context: Mapping[str, Any] | None = None) -> None:
    """The SDK's bookmark for an unsorted incremental stream, without its progress markers.

    Entries come in buffer order, not by `updated_at`: the SDK would keep the newest value
    apart ("progress markers") and warn on every run, for every stream, that progress is not
    resumable. Here it is: the run resumes from `buffer_sequence`. So the newest `updated_at`
    goes straight into the state (the value the SDK would promote at the end).
    """
    value = latest_record.get("updated_at")
    if value is None:
        return
    state = stream.get_context_state(context)
    if state.get("replication_key_value") is None or str(value) > str(state["replication_key_value"]):
        state["replication_key"] = "updated_at"
        state["replication_key_value"] = value


class BufferStream(Stream):
    """Reads the buffer entries after the sequence number in this stream's state.

    The state's `buffer_sequence` moves only past entries whose records have all been
    emitted, so a STATE message is always safe to resume from; `updated_at` stays the
    catalog's replication key (QuickBooks' TimeModified) for targets and Meltano.
    Records come as the QBWC server stored them when the response arrived
    (stored_records); an entry stored without them is mapped from its qbXML here.
    `time_extracted` is when the server received the response from QuickBooks.
    """

    primary_keys: ClassVar[list[str]] = ["company_id", "id"]  # type: ignore[misc]
    replication_key = "updated_at"
    # Records are built to the schema (Decimal money, ISO strings); re-walking every
    # nested line to "conform" them costs a third of the drain time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False
    _increment_stream_state = _keep_newest_updated_at  # type: ignore[assignment]
    # Buffer tags whose entries this stream reads.
    tags: ClassVar[tuple[str, ...]] = ()
    # Entries read per query: each is one page (MaxReturned objects) of one query, its
    # records up to a few MiB; 4 keeps the peak near 20 MiB above start-up, at no CPU cost.
    ENTRIES_PER_QUERY = 4

    def __init__(self, tap: TapQuickBooksDesktop) -> None:
        schema = json.loads((SCHEMAS_DIR / f"{self.name}.json").read_text(encoding="utf-8"))
        super().__init__(tap=tap, schema=schema)
        self._qbd_tap = tap
        self._time_extracted: datetime | None = None
        # The record being emitted and its stored JSON, when that is the SDK's text.
        self._stored_text: tuple[Record, bytes] | None = None

    def _write_record_message(self, record: Record) -> None:
        # Records are built to the schema: with every property selected and no stream map,
        # the SDK's per-record message building changes nothing, so the line is written
        # directly (the same text; see qbc_plugin_kit.singer_output).
        writer = fast_record_writer(self)
        if writer is None:
            super()._write_record_message(record)
            return
        stored = self._stored_text
        if stored is not None and stored[0] is record:
            writer.write_record_json(self.name, stored[1], self._time_extracted)
        else:
            writer.write_record(self.name, record, self._time_extracted)
        self.state_manager.is_flushed = False

    def _generate_record_messages(self, record: Record) -> Generator[RecordMessage, None, None]:
        # The SDK's path (stream maps, deselected properties) stamps the same time.
        for message in super()._generate_record_messages(record):
            if self._time_extracted is not None:
                message.time_extracted = self._time_extracted
            yield message

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[Record]:
        buffer: StateStore = self._qbd_tap.buffer
        companies = company_keys(self.config)
        state = self.stream_state
        after = int(state.get(SEQUENCE_KEY) or 0)
        upto = self._qbd_tap.drain_high_water
        for entry in buffer.iter_entries(
            self.tags, companies, after, upto, self.ENTRIES_PER_QUERY,
            stream=self.name, mapping=MAPPING_VERSION,
        ):
            self._time_extracted = entry.received_at
            if entry.records is None:
                yield from self.map_entry(entry)
            elif not entry.records:
                pass  # mapped: no records of this stream
            elif is_sdk_text_of_json_values(entry.records):
                # Each record's stored JSON is the line's text: written as it is, and
                # decoded only for the SDK's per-record bookkeeping (state, counts).
                for raw in split_records(entry.records):
                    record = decode_record(raw)
                    self._stored_text = (record, bytes(raw))
                    yield record
                self._stored_text = None
            else:
                yield from decode_records(entry.records)
            state[SEQUENCE_KEY] = entry.seq
        state[SEQUENCE_KEY] = max(after, upto)

    def map_entry(self, entry: Entry) -> Iterator[Record]:
        """This stream's records of an entry stored without them (qbXML only)."""
        for element in iter_rets(entry.body):
            ret = to_node(element)
            if _object_id(ret) in entry.skip_ids:
                continue
            for stream, record in stream_records(entry.company, entry.tag, ret):
                if stream == self.name:
                    yield record


class ObjectStream(BufferStream):
    """A list or transaction header stream; deletions become rows with _sdc_deleted_at."""

    @property
    def tags(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.name, DELETED_TAG)


class LineStream(BufferStream):
    """One row per transaction line, the header's key fields repeated."""

    @property
    def tags(self) -> tuple[str, ...]:  # type: ignore[override]
        return (LINE_STREAMS[self.name][0],)


class DeletedRecordsStream(BufferStream):
    """Every deletion QuickBooks reported (TxnDeletedQueryRq / ListDeletedQueryRq)."""

    name = "deleted_records"
    primary_keys: ClassVar[list[str]] = ["company_id", "stream", "id"]  # type: ignore[misc]
    tags: ClassVar[tuple[str, ...]] = (DELETED_TAG,)


class AccountsStream(ObjectStream):
    name = "accounts"


class CustomersStream(ObjectStream):
    name = "customers"


class VendorsStream(ObjectStream):
    name = "vendors"


class EmployeesStream(ObjectStream):
    name = "employees"


class ItemsStream(ObjectStream):
    name = "items"


class ClassesStream(ObjectStream):
    name = "classes"


class InvoicesStream(ObjectStream):
    name = "invoices"


class BillsStream(ObjectStream):
    name = "bills"


class PurchaseOrdersStream(ObjectStream):
    name = "purchase_orders"


class JournalEntriesStream(ObjectStream):
    name = "journal_entries"


class PaymentsStream(ObjectStream):
    name = "payments"


class BillPaymentsStream(ObjectStream):
    name = "bill_payments"


class CreditMemosStream(ObjectStream):
    name = "credit_memos"


class ChecksStream(ObjectStream):
    name = "checks"


class InvoiceLinesStream(LineStream):
    name = "invoice_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "invoice_id", "line_id"]  # type: ignore[misc]


class BillLinesStream(LineStream):
    name = "bill_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "bill_id", "line_id"]  # type: ignore[misc]


class PurchaseOrderLinesStream(LineStream):
    name = "purchase_order_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "purchase_order_id", "line_id"]  # type: ignore[misc]


class JournalEntryLinesStream(LineStream):
    name = "journal_entry_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "journal_entry_id", "line_id"]  # type: ignore[misc]


class CreditMemoLinesStream(LineStream):
    name = "credit_memo_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "credit_memo_id", "line_id"]  # type: ignore[misc]


class CheckLinesStream(LineStream):
    name = "check_lines"
    primary_keys: ClassVar[list[str]] = ["company_id", "check_id", "line_id"]  # type: ignore[misc]


STREAM_TYPES: list[type[BufferStream]] = [
    AccountsStream,
    CustomersStream,
    VendorsStream,
    EmployeesStream,
    ItemsStream,
    ClassesStream,
    InvoicesStream,
    BillsStream,
    PurchaseOrdersStream,
    JournalEntriesStream,
    PaymentsStream,
    BillPaymentsStream,
    CreditMemosStream,
    ChecksStream,
    InvoiceLinesStream,
    BillLinesStream,
    PurchaseOrderLinesStream,
    JournalEntryLinesStream,
    CreditMemoLinesStream,
    CheckLinesStream,
    DeletedRecordsStream,
]
