"""Version-guarded upserts of one batch: map, de-duplicate, compare with the versions stored in
Salesforce, send (Collections or Bulk API 2.0), flag the lines of deleted invoices.

``load`` is the batch's one write for the delivery contract: it raises for what stops or
retries the whole batch (``failure_kinds``) and returns the records Salesforce refused one by
one, with Salesforce's reason, while it took the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from qbc_plugin_kit.failures import Kind, RecordRefused, SystemicFailure
from qbc_plugin_kit.retry import TransientError
from qbc_plugin_kit.version_order import DELETED_AT, VERSION_COLUMNS, version_key

from target_salesforce import account_summary as summaries
from target_salesforce.client import IDS_PER_QUERY, RecordResult, SalesforceWriter, soql_literal
from target_salesforce.failure_kinds import SETUP_FIX, record_error
from target_salesforce.mapping import (
    ACCOUNT_STREAMS,
    AUDIT_FIELDS,
    CHART_STREAM,
    HEADER_STREAMS,
    ITEM_STREAM,
    LINE_STREAMS,
    TERMS_FIELD,
    TERMS_NAME,
    TERMS_STREAM,
    HeaderDeletion,
    MappingSettings,
    Write,
    account_write,
    chart_write,
    external_id,
    header_external_id,
    is_summary_line,
    item_external_id,
    line_write,
    opportunity_write,
    order_write,
    price_write,
    product_write,
    tombstone,
    unfit_number,
    unlisted_item,
    went_out,
)

SUPPORTED_STREAMS = (*ACCOUNT_STREAMS, CHART_STREAM, ITEM_STREAM, *HEADER_STREAMS, *LINE_STREAMS,
                     *summaries.PAYMENT_STREAMS, TERMS_STREAM)
# Parents first, so references by external id resolve within one run (terms name Accounts' terms).
LOAD_ORDER = {TERMS_STREAM: -1, "customers": 0, "vendors": 0, CHART_STREAM: 0, ITEM_STREAM: 0,
              **dict.fromkeys(HEADER_STREAMS, 1), **dict.fromkeys(LINE_STREAMS, 2),
              **dict.fromkeys(summaries.PAYMENT_STREAMS, 3)}
REQUIRED_FIELDS = {lines: ("company_id", column, "line_id") for lines, (_, column) in LINE_STREAMS.items()}


@dataclass
class LoadReport:
    written: int = 0
    skipped: int = 0
    refused: list[tuple[dict[str, Any], str]] = field(default_factory=list)


class SalesforceLoader:
    def __init__(self, *, writer: SalesforceWriter, settings: MappingSettings, bulk_threshold: int = 2000,
                 logger: logging.Logger | None = None) -> None:
        self.writer = writer
        self._settings = settings
        # Invoices held back by sent_invoices_only in this run: their lines are held back too.
        self.held_back: set[str] = set()
        self._known_items: set[str] = set()
        # Accounts whose documents this run wrote: their summaries are refreshed.
        self.touched_accounts: set[str] = set()
        self.last_payments: dict[str, str] = {}
        self.bulk_threshold = bulk_threshold
        self.logger = logger or logging.getLogger(__name__)
        self._lock = threading.RLock()
        # Invoices deleted in this run, by external id: their lines arriving later in the run
        # are flagged deleted too (the lines stream drains after the invoices stream).
        self.deleted_headers: dict[str, HeaderDeletion] = {}
        # (sObject, external id) of deletions Salesforce could not create (an Order without
        # its Account): their children are not created either.
        self.not_created: set[tuple[str, str]] = set()
        # (edition, company, terms id) -> the terms' name, from the terms stream or Salesforce.
        self.terms_names: dict[tuple[str, str, str], str | None] = {}

    def load(self, stream: str, records: list[dict[str, Any]]) -> LoadReport:
        with self._lock:
            report = LoadReport()
            if stream in summaries.PAYMENT_STREAMS:
                # Payments are not mirrored one by one: they date the Account's last payment.
                for ext, day in summaries.last_payments(records, stream, external_id).items():
                    self.last_payments[ext] = max(day, self.last_payments.get(ext, ""))
                report.skipped += len(records)
                return report
            if stream == TERMS_STREAM:
                report.written += self._name_terms(records)
                report.skipped += len(records)
                return report
            if stream in ACCOUNT_STREAMS:
                self._look_up_terms(records)
            writes: list[tuple[Write, dict[str, Any]]] = []
            # The record each write was made from: a deletion completed with its live version.
            sources: dict[int, Mapping[str, Any]] = {}
            live = _newest_live(stream, records)
            if stream in LINE_STREAMS and self.settings.line_detail == "order":
                self._size_order_items()
            for record in records:
                problem = _missing_fields(stream, record)
                if problem:
                    report.refused.append((record, problem))
                elif self._skipped(stream, record):
                    report.skipped += 1
                else:
                    source = self._with_terms_name(stream, _with_live_values(record, live.get(_record_key(stream, record))))
                    try:
                        writes.append((self._map(stream, source), record))
                    except RecordRefused as exc:
                        report.refused.append((record, exc.reason))
                    else:
                        sources[id(record)] = source
            if stream in LINE_STREAMS and self.settings.line_detail == "order":
                self._ensure_items(stream, [sources[id(r)] for _, r in writes])
            if stream in ACCOUNT_STREAMS:
                # A sub-customer's Parent must exist when it is written: shallow names first.
                for depth in sorted({_depth(r) for _, r in writes}):
                    self._send([(w, r) for w, r in writes if _depth(r) == depth], report)
            else:
                self._send(writes, report)
            refused = {id(r) for r, _ in report.refused}
            accepted = [(w, r) for w, r in writes if id(r) not in refused]
            self._note_accounts(stream, [r for _, r in writes])
            if stream in HEADER_STREAMS:
                if self.settings.line_detail == "order":
                    self._send([(order_write(sources[id(r)], self._priced(), stream), r) for _, r in accepted],
                               report)
                self._flag_lines_of_deleted_invoices([w for w, _ in writes], report)
            elif stream == ITEM_STREAM:
                self._send([(price_write(sources[id(r)], self._priced()), r) for _, r in accepted], report)
            return report

    def _name_terms(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Keep each terms' name for the Accounts of this run, and rename it on the Accounts
        Salesforce holds with those terms; returns how many Accounts were written."""
        named: dict[tuple[str, str, str], str | None] = {}
        for record in records:
            if record.get("id") not in (None, ""):
                named[_terms_key(record, record["id"])] = \
                    None if record.get(DELETED_AT) else _text_or_none(record.get("name"))
        self.terms_names.update(named)
        field = self.settings.account_external_id_field
        payloads = []
        for row in self._accounts_with_terms(sorted({terms_id for _, _, terms_id in named})):
            parts = str(row.get(field) or "").split(":")
            key = (parts[0], parts[1], str(row.get("QuickBooks_Terms_Id__c"))) if len(parts) > 2 else None
            if key in named and row.get(TERMS_FIELD) != named[key]:
                payloads.append({field: row[field], TERMS_FIELD: named[key]})
        results = self.writer.upsert_collection("Account", field, payloads) if payloads else []
        for result in results:
            if not result.success:
                self.logger.error("could not write the terms' name on Account %s: %s", result.external_id,
                                  result.error)
        return sum(1 for result in results if result.success)

    def _accounts_with_terms(self, terms_ids: Sequence[str]) -> list[dict[str, Any]]:
        field = self.settings.account_external_id_field
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(terms_ids)):
            rows += self.writer.rows("query accounts by terms", (
                f"SELECT Id, {field}, QuickBooks_Terms_Id__c, {TERMS_FIELD} FROM Account "  # noqa: S608
                f"WHERE QuickBooks_Terms_Id__c IN ({', '.join(soql_literal(i) for i in chunk)})"))
        return rows

    def _look_up_terms(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Names of the terms these customers/vendors name that this run has not seen, from the
        Accounts Salesforce holds with the same terms (once per terms and run)."""
        wanted = {_terms_key(r, r["terms_id"]) for r in records
                  if r.get("terms_id") and not r.get(DELETED_AT) and not _text_or_none(r.get(TERMS_NAME))}
        missing = sorted({terms_id for key in wanted - set(self.terms_names) for terms_id in [key[2]]})
        if not missing:
            return
        field = self.settings.account_external_id_field
        for row in self._accounts_with_terms(missing):
            parts = str(row.get(field) or "").split(":")
            if len(parts) > 2 and row.get(TERMS_FIELD):
                self.terms_names.setdefault((parts[0], parts[1], str(row["QuickBooks_Terms_Id__c"])),
                                            str(row[TERMS_FIELD]))

    def _with_terms_name(self, stream: str, record: Mapping[str, Any]) -> Mapping[str, Any]:
        if stream not in ACCOUNT_STREAMS or not record.get("terms_id"):
            return record
        if _text_or_none(record.get(TERMS_NAME)):
            # The record names its own terms (QBD TermsRef/FullName, a QBO ref's name): that name.
            return record
        # Not known to this run nor to Salesforce: no name rather than the name of other terms.
        return {**record, TERMS_NAME: self.terms_names.get(_terms_key(record, record["terms_id"]))}

    def _note_accounts(self, stream: str, records: Sequence[Mapping[str, Any]]) -> None:
        # Only documents move a summary (a customer's own edit does not): a run of customers
        # alone costs the summary step one query.
        if stream in HEADER_STREAMS:
            _, _, column, entity = HEADER_STREAMS[stream]
            self.touched_accounts.update(external_id(r, entity, column) for r in records if r.get(column))

    def refresh_account_summaries(self, today: dt.date) -> int:
        """Open/paid documents, aging and last payment on the Accounts this run touched and on
        every Account with an open document; returns how many Accounts were written."""
        with self._lock:
            field = self.settings.account_external_id_field
            types = ", ".join(soql_literal(t) for t in summaries.DOCUMENT_TYPES)
            columns = ", ".join(summaries.OPPORTUNITY_FIELDS)
            # Names come from this package and the settings; values through soql_literal.
            open_rows = self.writer.rows("query open documents", (
                f"SELECT {columns} FROM Opportunity WHERE QuickBooks_Balance__c > 0 "  # noqa: S608
                f"AND Type IN ({types})"))
            touched_ids = self._account_ids(sorted(self.touched_accounts | set(self.last_payments)), field)
            by_account: dict[str, summaries.Summary] = {}
            for row in open_rows:
                if row.get("AccountId"):
                    by_account.setdefault(str(row["AccountId"]), summaries.Summary()).add(row, today)
            touched = set(touched_ids.values())
            # A touched Account is summarised from all its documents (paid ones too), even none.
            for account_id in touched:
                by_account[account_id] = summaries.Summary()
            for chunk in _chunks(sorted(touched)):
                for row in self.writer.rows("query documents of accounts", (
                        f"SELECT {columns} FROM Opportunity WHERE Type IN ({types}) "  # noqa: S608
                        f"AND AccountId IN ({', '.join(soql_literal(i) for i in chunk)})")):
                    by_account[str(row["AccountId"])].add(row, today)
            stored = self._stored_summaries(sorted(by_account), field)
            payloads = []
            for account_id, summary in by_account.items():
                current = stored.get(account_id)
                if current is None or not current.get(field):
                    continue  # not an Account this target keeps
                values = summaries.summary_values(summary, today, with_paid=account_id in touched)
                paid_on = summaries.later_date(current.get(summaries.LAST_PAYMENT),
                                               self.last_payments.get(str(current[field])))
                if paid_on:
                    values[summaries.LAST_PAYMENT] = paid_on
                elif summaries.nothing_to_show(summary, current):
                    continue  # an Account without documents keeps its fields empty, unwritten
                if summaries.differs(current, values):
                    payloads.append({field: current[field], **values})
            written = 0
            if payloads:
                for result in self.writer.upsert_collection("Account", field, payloads):
                    if result.success:
                        written += 1
                    else:
                        self.logger.error("could not write the summary of Account %s: %s", result.external_id,
                                          result.error)
            self.touched_accounts.clear()
            self.last_payments.clear()
            return written

    def _account_ids(self, external_ids: Sequence[str], field: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(external_ids)):
            for row in self.writer.rows("query accounts", (
                    f"SELECT Id, {field} FROM Account "  # noqa: S608
                    f"WHERE {field} IN ({', '.join(soql_literal(i) for i in chunk)})")):
                found[str(row[field])] = str(row["Id"])
        return found

    def _stored_summaries(self, account_ids: Sequence[str], field: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(list(account_ids)):
            for row in self.writer.rows("query account summaries", (
                    f"SELECT Id, {field}, {', '.join(summaries.SUMMARY_FIELDS)} FROM Account "  # noqa: S608
                    f"WHERE Id IN ({', '.join(soql_literal(i) for i in chunk)})")):
                found[str(row["Id"])] = row
        return found

    def _skipped(self, stream: str, record: Mapping[str, Any]) -> bool:
        """A subtotal line, an invoice held back by sent_invoices_only, or a line of one."""
        if stream in LINE_STREAMS:
            header = header_external_id(record, stream)
            # The lines of a deleted document whose Order Salesforce could not create.
            orderless = self.settings.line_detail == "order" and ("Order", header) in self.not_created
            return is_summary_line(record) or header in self.held_back or orderless
        return self._held_back(stream, record)

    def _held_back(self, stream: str, record: Mapping[str, Any]) -> bool:
        """An invoice not yet emailed or printed, when only sent invoices are mirrored (its
        lines are held back with it). A deletion always passes: it may flag one sent earlier."""
        if stream != "invoices" or not self.settings.sent_invoices_only or record.get(DELETED_AT):
            return False
        if went_out(record):
            return False
        self.held_back.add(external_id(record, HEADER_STREAMS[stream][0]))
        return True

    @property
    def settings(self) -> MappingSettings:
        return self._settings

    def _priced(self) -> MappingSettings:
        """The settings with the org's standard price book, where Orders and entries live
        (looked up once, by the first write that needs it)."""
        if self._settings.standard_pricebook_id is None:
            self._settings = replace(self._settings, standard_pricebook_id=self.writer.standard_pricebook_id())
        return self._settings

    def _size_order_items(self) -> None:
        """The org's precision and scale of OrderItem Quantity and UnitPrice, read once."""
        if self._settings.order_item_sizes:
            return
        fields = self.writer.fields("OrderItem")
        sizes = tuple((name, int(fields[name]["precision"]), int(fields[name]["scale"]))
                      for name in ("Quantity", "UnitPrice")
                      if isinstance((fields.get(name) or {}).get("precision"), int)
                      and isinstance(fields[name].get("scale"), int) and fields[name]["precision"] > 0)
        self._settings = replace(self._settings, order_item_sizes=sizes or (("", 0, 0),))

    def _map(self, stream: str, record: Mapping[str, Any]) -> Write:
        settings = self.settings
        if stream in ACCOUNT_STREAMS:
            return account_write(stream, record, settings)
        if stream in HEADER_STREAMS:
            write = opportunity_write(record, settings, stream)
            if write.deleted and stream == "invoices" and settings.sent_invoices_only:
                # An invoice Salesforce never had may never have been sent: its deletion only
                # flags one that is there.
                write = replace(write, creatable=False)
            return write
        if stream == CHART_STREAM:
            return chart_write(record, settings)
        if stream == ITEM_STREAM:
            return product_write(record, settings)
        return line_write(record, settings, self.deleted_headers.get(header_external_id(record, stream)), stream)

    def _ensure_items(self, stream: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Every item the lines name has a Product2 and a standard PricebookEntry before its
        OrderItems are written: one made from the line (its item name, lowest version) when the
        items stream was not selected or has not reached it yet; the item's own record, newer,
        completes it later. Lines without an item share one product per company."""
        stubs: dict[str, dict[str, Any]] = {}
        for record in records:
            # Deleted lines too: one Salesforce does not hold yet is created flagged.
            if stream not in LINE_STREAMS or record.get("amount") is None:
                continue
            if record.get("item_id"):
                name = record.get("item_name") or record.get("item_id")
                stub = {"company_id": record.get("company_id"), "edition": record.get("edition"),
                        "id": record.get("item_id"), "name": name, "fully_qualified_name": name, "active": True}
            else:
                stub = unlisted_item(record)
            ext = item_external_id(stub)
            if ext not in self._known_items:
                stubs[ext] = stub
        if not stubs:
            return
        existing = self.writer.existing_versions("PricebookEntry", self.settings.product_external_id_field,
                                                 self.settings.version_field, stubs.keys())
        missing = [stub for ext, stub in stubs.items() if ext not in existing]
        self._known_items.update(stubs)
        if not missing:
            return
        report = LoadReport()
        self._send([(product_write(stub, self.settings), stub) for stub in missing], report)
        self._send([(price_write(stub, self._priced()), stub) for stub in missing], report)
        for stub, reason in report.refused:
            # Its lines are then refused one by one, naming the missing PricebookEntry.
            self.logger.error("could not create the product of item %s: %s", item_external_id(stub), reason)

    def _send(self, writes: Sequence[tuple[Write, dict[str, Any] | None]], report: LoadReport) -> None:
        if not writes:
            return
        newest: dict[str, tuple[Write, dict[str, Any] | None]] = {}
        for write, record in writes:
            current = newest.get(write.external_id)
            if current is None or write.version >= current[0].version:
                if current is not None:
                    report.skipped += 1
                newest[write.external_id] = (write, record)
            else:
                report.skipped += 1
        first = writes[0][0]
        stored = self.writer.existing_versions(first.sobject, first.external_field, self.settings.version_field,
                                               newest.keys(), AUDIT_FIELDS[DELETED_AT])
        to_send: list[tuple[Write, dict[str, Any] | None, bool]] = []
        for ext, (write, record) in newest.items():
            exists = ext in stored
            stored_version = stored.get(ext)
            if exists and stored_version is not None and write.version <= stored_version:
                report.skipped += 1  # Salesforce holds this version or a newer one
            elif not exists and not write.creatable:
                report.skipped += 1  # only flags a record Salesforce holds; it holds none
                self.not_created.add((write.sobject, ext))
            else:
                to_send.append((write, record, exists))
            if write.deleted and write.sobject == "Opportunity":
                self.deleted_headers[ext] = HeaderDeletion(write.payload.get(AUDIT_FIELDS[DELETED_AT]),
                                                           write.version)
        to_send = self._fitting(to_send, report)
        for exists in (True, False):
            group = [(w, r) for w, r, e in to_send if e is exists]
            if not group:
                continue
            payloads = [{w.external_field: w.external_id,
                         **({} if exists else w.create_defaults),
                         **{k: v for k, v in w.payload.items() if not (exists and k in w.create_only)}}
                        for w, _ in group]
            if len(payloads) > self.bulk_threshold:
                results = self.writer.upsert_bulk(first.sobject, first.external_field, payloads)
            else:
                results = self.writer.upsert_collection(first.sobject, first.external_field, payloads)
            self._tally(group, results, report)

    def _fitting(self, to_send: list[tuple[Write, dict[str, Any] | None, bool]],
                 report: LoadReport) -> list[tuple[Write, dict[str, Any] | None, bool]]:
        """The writes whose numbers the org's fields hold exactly; the others are refused."""
        if not to_send or all(record is None for _, record, _ in to_send):
            return to_send
        fields = self.writer.fields(to_send[0][0].sobject)
        kept = []
        for write, record, exists in to_send:
            problem = unfit_number(write.payload, fields)
            if problem is not None and record is not None:
                if all(r is not record for r, _ in report.refused):
                    report.refused.append((record, problem))
            else:
                kept.append((write, record, exists))
        return kept

    def _tally(self, group: list[tuple[Write, dict[str, Any] | None]], results: list[RecordResult],
               report: LoadReport) -> None:
        by_ext = {r.external_id: r for r in results}
        refused: list[tuple[Write, dict[str, Any] | None, str]] = []
        for write, record in group:
            result = by_ext.get(write.external_id)
            if result is not None and result.success:
                report.written += 1
                continue
            error = result.error if result else "Salesforce returned no result for the record"
            kind = record_error(result.code, error) if result else Kind.DATA
            if kind is Kind.TRANSIENT:
                # Retried as a whole batch; what landed is skipped then by the version guard.
                raise TransientError(f"upsert {write.sobject} {write.external_id}: {error}")
            if kind is Kind.SYSTEMIC:
                raise SystemicFailure(f"Salesforce refused {write.sobject} {write.external_id}: {error}", SETUP_FIX)
            refused.append((write, record, error))
        already = {id(r) for r, _ in report.refused}
        for write, record, error in refused:
            if record is not None and id(record) not in already:
                report.refused.append((record, error))
            else:
                self.logger.error("could not flag %s %s deleted: %s", write.sobject, write.external_id, error)

    def _flag_lines_of_deleted_invoices(self, writes: Sequence[Write], report: LoadReport) -> None:
        settings = self.settings
        line_object = settings.line_object
        tombstones: list[tuple[Write, dict[str, Any] | None]] = []
        for write in writes:
            if not write.deleted:
                continue
            children = self.writer.external_ids_like(line_object, settings.line_external_id_field,
                                                     f"{write.external_id}:line:")
            deleted_at = write.payload.get(AUDIT_FIELDS[DELETED_AT])
            tombstones.extend((tombstone(line_object, settings.line_external_id_field, child, deleted_at,
                                         write.version, settings), None) for child in children)
        if tombstones:
            line_report = LoadReport()
            self._send(tombstones, line_report)
            self.logger.info("flagged %d line(s) of deleted invoices as deleted", line_report.written)


def _terms_key(record: Mapping[str, Any], terms_id: Any) -> tuple[str, str, str]:
    """The key of a company's terms, spelled as the Accounts' external ids spell the company."""
    return (str(record.get("edition") or "qb"), str(record.get("company_id")), str(terms_id))


def _text_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _record_key(stream: str, record: Mapping[str, Any]) -> tuple[Any, ...]:
    if stream in LINE_STREAMS:
        return (record.get("edition"), record.get("company_id"), record.get(LINE_STREAMS[stream][1]),
                record.get("line_id"))
    return (record.get("edition"), record.get("company_id"), record.get("id"))


def _newest_live(stream: str, records: Sequence[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The newest live version of each key in the batch (what its deletion can be completed with)."""
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        if record.get(DELETED_AT):
            continue
        key = _record_key(stream, record)
        try:
            if key not in newest or version_key(record) >= version_key(newest[key]):
                newest[key] = record
        except ValueError:
            continue  # an unreadable version: the record is refused on its own
    return newest


def _with_live_values(record: dict[str, Any], live: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A deletion completed with the values of its live version from the same batch (a document
    created and deleted between two runs), so Salesforce shows what was deleted; the version and
    the deletion stay the deletion's. A live version newer than the deletion is left alone (the
    version order then keeps the live one)."""
    if live is None or not record.get(DELETED_AT):
        return record
    try:
        if version_key(live) > version_key(record):
            return record
    except ValueError:
        return record
    merged = {**live, **{k: v for k, v in record.items() if v is not None}}
    merged.update({column: record.get(column) for column in VERSION_COLUMNS})
    return merged


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + IDS_PER_QUERY] for i in range(0, len(values), IDS_PER_QUERY)]


def _depth(record: Mapping[str, Any]) -> int:
    if not record.get("parent_id"):
        return 0
    return max(1, str(record.get("fully_qualified_name") or "").count(":"))


def _missing_fields(stream: str, record: Mapping[str, Any]) -> str | None:
    required = REQUIRED_FIELDS.get(stream, ("company_id", "id"))
    missing = [f for f in required if record.get(f) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}: cannot build the Salesforce external id"
    return None


__all__ = ["LOAD_ORDER", "SUPPORTED_STREAMS", "LoadReport", "SalesforceLoader", "external_id"]
