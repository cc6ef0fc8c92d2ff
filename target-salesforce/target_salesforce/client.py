"""Salesforce calls through simple-salesforce: version look-ups, sObject Collections upserts
(200 records a request) and Bulk API 2.0 upserts, with session renewal.

Errors leave as the kinds of ``failure_kinds``; retrying is the delivery contract's business
(a batch's whole load is retried, which the version guard makes idempotent).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import simplejson
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.retry import TransientError
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceOperationError,
)

from target_salesforce.auth import SalesforceSessionProvider
from target_salesforce.failure_kinds import (
    TRANSIENT_CODES,
    SalesforceRequestError,
    is_transient_status,
    network_failure,
)
from target_salesforce.legacy_versions import comparable

T = TypeVar("T")
COLLECTION_LIMIT = 200
IDS_PER_QUERY = 100


@dataclass(frozen=True)
class RecordResult:
    external_id: str
    success: bool
    error: str = ""
    code: str = ""  # Salesforce's statusCode of the record's first error


def _error_codes(exc: SalesforceError) -> frozenset[str]:
    content = exc.content
    if isinstance(content, list):
        return frozenset(str(item.get("errorCode")) for item in content if isinstance(item, dict))
    if isinstance(content, dict):
        return frozenset({str(content.get("errorCode") or content.get("error"))})
    return frozenset()


def _error_text(exc: SalesforceError) -> str:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode')}: {content[0].get('message')}"
    return str(content)[:300]


def soql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SalesforceWriter:
    def __init__(
        self,
        *,
        sessions: SalesforceSessionProvider,
        bulk_poll_seconds: float = 5.0,
        api_budget_share: float | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._sessions = sessions
        self._budget_share = api_budget_share
        self._last_client: Salesforce | None = None
        self._bulk_poll_seconds = bulk_poll_seconds
        self._logger = logger or logging.getLogger(__name__)
        self._described: dict[str, dict[str, dict[str, Any]]] = {}
        # (used, allowance) of the org's daily API requests from /limits, read before the
        # first request of a run: no answer has carried Sforce-Limit-Info yet then.
        self._daily_requests: tuple[int, int] | None = None
        self._limits_read = False

    # --- transport ---------------------------------------------------------------------------

    def _check_budget(self, describe: str) -> None:
        """Stop before the next request once the org's 24-hour API allowance is used up to
        ``api_budget_share``, as the last answer's Sforce-Limit-Info header counted it: the
        requests left stay for the org's other integrations and its users."""
        if self._budget_share is None or self._budget_share >= 1:
            return
        if not self._limits_read:
            self._limits_read = True
            self._daily_requests = self._call("read the org's API limits (/limits)", _daily_api_requests)
        usage = (getattr(self._last_client, "api_usage", None) or {}).get("api-usage")
        used, total = getattr(usage, "used", None), getattr(usage, "total", None)
        if not isinstance(used, int) and self._daily_requests is not None:
            used, total = self._daily_requests
        if isinstance(used, int) and isinstance(total, int) and total > 0 and used >= self._budget_share * total:
            raise SystemicFailure(
                f"the org has used {used:,} of its {total:,} daily API requests, the share api_budget_share "
                f"({self._budget_share:g}) leaves to this target; stopped before {describe}",
                "run again once the org's rolling 24-hour window frees requests (records not written are "
                "sent then), or raise api_budget_share")

    def _call(self, describe: str, operation: Callable[[Salesforce], T]) -> T:
        renewed = False
        self._check_budget(describe)
        while True:
            try:
                client = self._sessions.client()
                # simple-salesforce keeps the last answer's Sforce-Limit-Info on the client.
                self._last_client = client
                return operation(client)
            except SalesforceExpiredSession:
                if renewed:
                    raise SalesforceRequestError(
                        f"{describe}: a fresh Salesforce session was rejected too (INVALID_SESSION_ID)",
                        401, frozenset({"INVALID_SESSION_ID"})) from None
                # Not a retry: the org ended the session (timeout, logout), a new one is due.
                renewed = True
                self._logger.info("Salesforce session expired; logging in again")
                self._sessions.invalidate()
            except SalesforceError as exc:
                codes = _error_codes(exc)
                message = f"{describe}: {exc.status} {_error_text(exc)}"
                if codes & TRANSIENT_CODES or is_transient_status(exc.status):
                    raise TransientError(message) from exc
                raise SalesforceRequestError(message, exc.status, codes) from exc
            except requests.RequestException as exc:
                raise network_failure(exc, self._sessions.base_url) from exc

    # --- reads -------------------------------------------------------------------------------

    def fields(self, sobject: str) -> dict[str, dict[str, Any]]:
        """The sObject's described fields by name (once per run: the org's setup does not change
        under a run)."""
        if sobject not in self._described:
            answer = self._call(f"describe {sobject}", _describe(sobject))
            self._described[sobject] = {str(f.get("name")): f for f in answer.get("fields", [])}
        return self._described[sobject]

    def existing_versions(self, sobject: str, external_field: str, version_field: str,
                          external_ids: Iterable[str], deleted_field: str | None = None) -> dict[str, str | None]:
        """External id -> stored version (None when the record has no version yet), in the
        current encoding (``legacy_versions``; ``deleted_field`` tells an old one's deletions)."""
        ids = sorted(set(external_ids))
        found: dict[str, str | None] = {}
        extra = f", {deleted_field}" if deleted_field else ""
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            # Values are quoted by soql_literal; names come from settings, not from records.
            soql = (f"SELECT Id, {external_field}, {version_field}{extra} FROM {sobject} "  # noqa: S608
                    f"WHERE {external_field} IN ({', '.join(soql_literal(i) for i in chunk)})")
            result = self._call(f"query {sobject} versions", _query(soql))
            for row in result.get("records", []):
                version = row.get(version_field)
                deleted = bool(deleted_field and row.get(deleted_field))
                found[str(row[external_field])] = None if version is None else comparable(str(version), deleted)
        return found

    def rows(self, describe: str, soql: str) -> list[dict[str, Any]]:
        """Every row of a query (names come from this package, values through soql_literal)."""
        return list(self._call(describe, _query(soql)).get("records", []))

    def standard_pricebook_id(self) -> str:
        result = self._call("query the standard price book",
                            _query("SELECT Id FROM Pricebook2 WHERE IsStandard = true"))
        rows = result.get("records") or []
        if not rows:
            raise SalesforceRequestError(
                "the org has no standard price book (Pricebook2 IsStandard = true)", 404,
                frozenset({"NOT_FOUND"}))
        return str(rows[0]["Id"])

    def external_ids_like(self, sobject: str, external_field: str, prefix: str) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("'", "\\'").replace("%", "\\%").replace("_", "\\_")
        soql = f"SELECT Id, {external_field} FROM {sobject} WHERE {external_field} LIKE '{escaped}%'"  # noqa: S608
        result = self._call(f"query {sobject} children", _query(soql))
        return [str(row[external_field]) for row in result.get("records", [])]

    # --- writes ------------------------------------------------------------------------------

    def upsert_collection(self, sobject: str, external_field: str,
                          records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = records[start : start + COLLECTION_LIMIT]
            body = simplejson.dumps(
                {"allOrNone": False, "records": [{"attributes": {"type": sobject}, **r} for r in chunk]},
                use_decimal=True)
            # No count in the wording: the kit compares a batch's refusal with its records' alone.
            answer = self._call(f"upsert {sobject} by {external_field}",
                                _patch(f"composite/sobjects/{sobject}/{external_field}", body))
            for record, outcome in zip(chunk, answer or [], strict=False):
                errors = outcome.get("errors") or []
                message = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors)
                code = str(errors[0].get("statusCode") or "") if errors else ""
                results.append(RecordResult(str(record[external_field]), bool(outcome.get("success")), message, code))
        return results

    def upsert_bulk(self, sobject: str, external_field: str, records: Sequence[dict[str, Any]]) -> list[RecordResult]:
        rows = [_csv_row(r) for r in records]
        columns = sorted({c for row in rows for c in row})
        rows = [{c: row.get(c, "") for c in columns} for row in rows]

        def run(sf: Salesforce) -> list[RecordResult]:
            bulk = getattr(sf.bulk2, sobject)
            try:
                jobs = bulk.upsert(records=rows, external_id_field=external_field, wait=self._bulk_poll_seconds)
            except SalesforceOperationError as exc:
                raise SalesforceRequestError(f"Bulk API 2.0 upsert of {sobject} failed: {exc}",
                                             400) from exc
            failed: dict[str, str] = {}
            for job in jobs:
                if int(job.get("numberRecordsFailed", 0)):
                    for row in csv.DictReader(io.StringIO(bulk.get_failed_records(job["job_id"]))):
                        failed[row.get(external_field, "")] = row.get("sf__Error", "failed")
                for row in csv.DictReader(io.StringIO(bulk.get_unprocessed_records(job["job_id"]) or "")):
                    failed[row.get(external_field, "")] = "not processed by the Bulk API job"
            return [RecordResult(str(r[external_field]), str(r[external_field]) not in failed,
                                 failed.get(str(r[external_field]), ""),
                                 _bulk_code(failed.get(str(r[external_field]), "")))
                    for r in records]

        return self._call(f"bulk upsert {sobject}", run)


def _bulk_code(error: str) -> str:
    # Bulk API 2.0 failed-results rows read "STRING_TOO_LONG:Name: data value too large...".
    head = error.split(":", 1)[0].strip()
    return head if head.isupper() else ""


def _daily_api_requests(sf: Salesforce) -> tuple[int, int] | None:
    """(used, allowance) from the REST API's Limits resource (``DailyApiRequests``)."""
    daily = (sf.restful("limits") or {}).get("DailyApiRequests") or {}
    allowance, remaining = daily.get("Max"), daily.get("Remaining")
    if isinstance(allowance, int) and isinstance(remaining, int):
        return allowance - remaining, allowance
    return None


def _describe(sobject: str) -> Callable[[Salesforce], dict[str, Any]]:
    def run(sf: Salesforce) -> dict[str, Any]:
        return dict(sf.restful(f"sobjects/{sobject}/describe") or {})
    return run


def _query(soql: str) -> Callable[[Salesforce], dict[str, Any]]:
    def run(sf: Salesforce) -> dict[str, Any]:
        return dict(sf.query_all(soql))
    return run


def _patch(path: str, body: str) -> Callable[[Salesforce], Any]:
    def run(sf: Salesforce) -> Any:
        return sf.restful(path, method="PATCH", data=body)
    return run


def _csv_row(record: dict[str, Any]) -> dict[str, str]:
    row: dict[str, str] = {}
    for name, value in record.items():
        if isinstance(value, dict):
            for key_field, key_value in value.items():
                row[f"{name}.{key_field}"] = "" if key_value is None else str(key_value)
        elif value is None:
            row[name] = "#N/A"  # Bulk API 2.0: set the field to null
        elif isinstance(value, bool):
            row[name] = "true" if value else "false"
        else:
            row[name] = str(value)
    return row
