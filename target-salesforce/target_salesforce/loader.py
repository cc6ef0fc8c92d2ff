"""Version-guarded upserts of one batch: map, de-duplicate, compare with the versions stored in
Salesforce, send (Collections or Bulk API 2.0), flag the lines of deleted invoices.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from qbc_plugin_kit.retry import TransientError

from target_salesforce.client import RecordResult, SalesforceRequestError, SalesforceWriter
from target_salesforce.mapping import (
    ACCOUNT_STREAMS,
    MappingSettings,
    Write,
    account_write,
    external_id,
    is_summary_line,
    line_write,
    opportunity_write,
    tombstone,
)

SUPPORTED_STREAMS = (*ACCOUNT_STREAMS, "invoices", "invoice_lines")
# Parents first, so references by external id resolve within one run.
LOAD_ORDER = {"customers": 0, "vendors": 0, "invoices": 1, "invoice_lines": 2}
REQUIRED_FIELDS = {"invoice_lines": ("company_id", "invoice_id", "line_id")}


class LoadFailed(Exception):
    """Salesforce could not be reached or refused the whole request; ``unsent`` is kept."""

    def __init__(self, stream: str, message: str, unsent: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.stream = stream
        self.unsent = unsent


@dataclass
class LoadReport:
    written: int = 0
    skipped: int = 0
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)


class SalesforceLoader:
    def __init__(self, *, writer: SalesforceWriter, settings: MappingSettings, bulk_threshold: int = 2000,
                 logger: logging.Logger | None = None) -> None:
        self.writer = writer
        self.settings = settings
        self.bulk_threshold = bulk_threshold
        self.logger = logger or logging.getLogger(__name__)
        self._lock = threading.RLock()

    def load(self, stream: str, records: list[dict[str, Any]]) -> LoadReport:
        with self._lock:
            report = LoadReport()
            writes: list[Write] = []
            for record in records:
                problem = _missing_fields(stream, record)
                if problem:
                    report.rejected.append((record, problem))
                elif stream == "invoice_lines" and is_summary_line(record):
                    report.skipped += 1
                else:
                    writes.append(self._map(stream, record))
            try:
                self._send(writes, report)
                if stream == "invoices":
                    self._flag_lines_of_deleted_invoices(writes, report)
            except (TransientError, SalesforceRequestError, requests.RequestException) as exc:
                rejected_ids = {id(r) for r, _ in report.rejected}
                raise LoadFailed(stream, str(exc), [r for r in records if id(r) not in rejected_ids]) from exc
            return report

    def _map(self, stream: str, record: Mapping[str, Any]) -> Write:
        if stream in ACCOUNT_STREAMS:
            return account_write(stream, record, self.settings)
        if stream == "invoices":
            return opportunity_write(record, self.settings)
        return line_write(record, self.settings)

    def _send(self, writes: Sequence[Write], report: LoadReport) -> None:
        if not writes:
            return
        newest: dict[str, Write] = {}
        for write in writes:
            current = newest.get(write.external_id)
            if current is None or write.version >= current.version:
                if current is not None:
                    report.skipped += 1
                newest[write.external_id] = write
            else:
                report.skipped += 1
        first = writes[0]
        stored = self.writer.existing_versions(first.sobject, first.external_field, self.settings.version_field,
                                               newest.keys())
        to_send: list[tuple[Write, bool]] = []
        for ext, write in newest.items():
            exists = ext in stored
            stored_version = stored.get(ext)
            if exists and stored_version is not None and write.version <= stored_version:
                report.skipped += 1  # Salesforce holds this version or a newer one
            elif write.deleted and not exists:
                report.skipped += 1  # never loaded, nothing to flag
            else:
                to_send.append((write, exists))
        if not to_send:
            return
        for exists in (True, False):
            group = [w for w, e in to_send if e is exists]
            if not group:
                continue
            payloads = [{w.external_field: w.external_id,
                         **{k: v for k, v in w.payload.items() if not (exists and k in w.create_only)}}
                        for w in group]
            if len(payloads) > self.bulk_threshold:
                results = self.writer.upsert_bulk(first.sobject, first.external_field, payloads)
            else:
                results = self.writer.upsert_collection(first.sobject, first.external_field, payloads)
            self._tally(group, results, report)

    def _tally(self, group: list[Write], results: list[RecordResult], report: LoadReport) -> None:
        by_ext = {r.external_id: r for r in results}
        for write in group:
            result = by_ext.get(write.external_id)
            if result is not None and result.success:
                report.written += 1
            elif write.source is not None:
                report.rejected.append((write.source, result.error if result else "no result returned"))
            else:
                self.logger.error("could not flag %s %s deleted: %s", write.sobject, write.external_id,
                                  result.error if result else "no result returned")

    def _flag_lines_of_deleted_invoices(self, writes: Sequence[Write], report: LoadReport) -> None:
        settings = self.settings
        line_object = settings.line_object
        tombstones: list[Write] = []
        for write in writes:
            if not write.deleted:
                continue
            children = self.writer.external_ids_like(line_object, settings.line_external_id_field,
                                                     f"{write.external_id}:line:")
            deleted_at = write.payload.get("QuickBooks_Deleted_At__c")
            tombstones.extend(tombstone(line_object, settings.line_external_id_field, child, deleted_at,
                                        write.version, settings) for child in children)
        if tombstones:
            line_report = LoadReport()
            self._send(tombstones, line_report)
            self.logger.info("flagged %d line(s) of deleted invoices as deleted", line_report.written)


def _missing_fields(stream: str, record: Mapping[str, Any]) -> str | None:
    required = REQUIRED_FIELDS.get(stream, ("company_id", "id"))
    missing = [f for f in required if record.get(f) in (None, "")]
    if missing:
        return f"missing {', '.join(missing)}: cannot build the Salesforce external id"
    return None


__all__ = ["LOAD_ORDER", "SUPPORTED_STREAMS", "LoadFailed", "LoadReport", "SalesforceLoader", "external_id"]
