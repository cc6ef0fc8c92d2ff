"""Salesforce REST, composite sObject Collections, Bulk API 2.0 ingest and the OAuth 2.0
client-credentials token endpoint of a My Domain, over TLS on 127.0.0.1.

Errors use Salesforce's shapes: a JSON list of ``{message, errorCode, fields}``;
``INVALID_SESSION_ID`` (401) for an expired session, ``REQUEST_LIMIT_EXCEEDED`` (403) when the
org's API request allowance is spent, HTTP 429 while throttled (``throttle``), and per-record
errors inside collection results. Every data answer carries ``Sforce-Limit-Info:
api-usage=used/allowance``; ``/limits`` answers ``DailyApiRequests`` (``Max``, ``Remaining``).
"""

from __future__ import annotations

import base64
import decimal
import hmac
import re
import secrets
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sandboxes.https_server import HttpsSandbox, Request, Response, bearer_token
from sandboxes.salesforce.bulk_ingest import BulkIngest
from sandboxes.salesforce.sobjects import Org, SalesforceError

MAX_COLLECTION_RECORDS = 200
_DATA = r"^/services/data/v(?P<version>\d+\.\d)"


class SalesforceSandbox(HttpsSandbox):
    label = "salesforce"

    def __init__(
        self,
        *,
        client_id: str = "3MVG9sandbox.consumer.key",
        client_secret: str = "sandbox-consumer-secret",  # noqa: S107 - a local test credential
        session_lifetime_seconds: float = 7200,
        daily_api_requests: int = 100_000,
        workdir: Path | None = None,
    ) -> None:
        super().__init__(workdir)
        self.client_id = client_id
        self.client_secret = client_secret
        self.session_lifetime_seconds = session_lifetime_seconds
        self.daily_api_requests = daily_api_requests
        self.api_requests_used = 0
        self.org = Org()
        self.bulk = BulkIngest(self.org)
        self._sessions: dict[str, float] = {}
        self._session_lock = threading.Lock()
        self.token_requests = 0
        self._throttled = 0
        self.throttled_answers = 0

    def target_config(self, **overrides: Any) -> dict[str, Any]:
        """Settings that point target-salesforce at this sandbox."""
        config: dict[str, Any] = {
            "login_url": self.url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "ca_bundle": str(self.ca_file),
        }
        config.update(overrides)
        return config

    def throttle(self, requests: int) -> None:
        """Answer the next ``requests`` data requests with HTTP 429 Too Many Requests (a
        concurrency throttle, not the daily allowance: no REQUEST_LIMIT_EXCEEDED code)."""
        with self._session_lock:
            self._throttled = requests

    def expire_sessions(self) -> None:
        with self._session_lock:
            for token in self._sessions:
                self._sessions[token] = 0.0

    # --- routing ------------------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        if not request.path.startswith("/services/data"):
            return Response(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        if request.path.rstrip("/") == "/services/data":
            return Response(200, [{"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"}])
        expires = self._session_expiry(bearer_token(request))
        if expires is None or expires <= time.time():
            return Response(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        with self._session_lock:
            throttled = self._throttled > 0
            if throttled:
                self._throttled -= 1
                self.throttled_answers += 1
        if throttled:
            # Salesforce's core REST reference documents no 429 body; a throttle answers in the
            # platform's error envelope, with an error code the target must not rely on.
            return Response(429, [{"message": "Too many requests, retry later", "errorCode": "TOO_MANY_REQUESTS",
                                   "fields": []}], headers={"Retry-After": "1"})
        self.api_requests_used += 1
        if self.api_requests_used > self.daily_api_requests:
            return Response(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
        try:
            response = self._data(request)
        except SalesforceError as exc:
            response = Response(exc.status, exc.body())
        except ValueError as exc:
            response = Response(400, [{"message": f"malformed request body: {exc}", "errorCode": "JSON_PARSER_ERROR"}])
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_requests_used}/{self.daily_api_requests}"
        return response

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form()
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = request.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            decoded = base64.b64decode(auth[6:]).decode("utf-8")
            client_id, _, client_secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        if not (hmac.compare_digest(client_id.encode(), self.client_id.encode())
                and hmac.compare_digest(client_secret.encode(), self.client_secret.encode())):
            return Response(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
        token = "00Dsandbox!" + secrets.token_urlsafe(32)
        with self._session_lock:
            self._sessions[token] = time.time() + self.session_lifetime_seconds
        issued_at = str(int(time.time() * 1000))
        return Response(200, {
            "access_token": token, "instance_url": self.url, "token_type": "Bearer",
            "id": f"{self.url}/id/00Dsandbox000001AAA/005sandbox000001AAA",
            "issued_at": issued_at, "scope": "api",
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
        })

    def _session_expiry(self, token: str | None) -> float | None:
        if not token:
            return None
        with self._session_lock:
            return self._sessions.get(token)

    def _data(self, request: Request) -> Response:
        path = request.path
        if re.match(_DATA + r"/limits/?$", path) and request.method == "GET":
            # The REST API's Limits resource: the org's rolling 24-hour API request allowance.
            remaining = max(self.daily_api_requests - self.api_requests_used, 0)
            return Response(200, {"DailyApiRequests": {"Max": self.daily_api_requests, "Remaining": remaining}})
        m = re.match(_DATA + r"/sobjects/(?P<obj>\w+)/describe/?$", path)
        if m and request.method == "GET":
            return Response(200, self.org.describe(m.group("obj")))
        m = re.match(_DATA + r"/sobjects/(?P<obj>\w+)/(?P<field>\w+)/(?P<value>[^/]+)$", path)
        if m and request.method == "PATCH":
            return self._upsert_one(m.group("obj"), m.group("field"), m.group("value"), request)
        m = re.match(_DATA + r"/composite/sobjects/(?P<obj>\w+)/(?P<field>\w+)/?$", path)
        if m and request.method == "PATCH":
            return self._upsert_collection(m.group("obj"), m.group("field"), request)
        m = re.match(_DATA + r"/query/?$", path)
        if m and request.method == "GET":
            soql = request.query_value("q") or ""
            records = self.org.query(soql)
            return Response(200, {"totalSize": len(records), "done": True, "records": records})
        m = re.match(_DATA + r"/jobs/ingest/?$", path)
        if m and request.method == "POST":
            job = self.bulk.create(request.json())
            return Response(200, job.info(m.group("version")))
        m = re.match(_DATA + r"/jobs/ingest/(?P<job>[\w-]+)/batches/?$", path)
        if m and request.method == "PUT":
            if not (request.headers.get("Content-Type") or "").startswith("text/csv"):
                raise SalesforceError(400, "INVALIDCONTENT", "Content-Type must be text/csv")
            self.bulk.upload(m.group("job"), request.body)
            return Response(201)
        m = re.match(_DATA + r"/jobs/ingest/(?P<job>[\w-]+)/?$", path)
        if m and request.method == "PATCH":
            job = self.bulk.set_state(m.group("job"), str((request.json() or {}).get("state")))
            return Response(200, job.info(m.group("version")))
        if m and request.method == "GET":
            return Response(200, self.bulk.job(m.group("job")).info(m.group("version")))
        m = re.match(_DATA + r"/jobs/ingest/(?P<job>[\w-]+)/(?P<kind>successfulResults|failedResults|unprocessed[rR]ecords)/?$", path)
        if m and request.method == "GET":
            return Response(200, self.bulk.results(m.group("job"), m.group("kind")), content_type="text/csv")
        return Response(404, [{"errorCode": "NOT_FOUND", "message": f"The requested resource does not exist: {request.method} {path}"}])

    def _upsert_one(self, sobject: str, external_field: str, value: str, request: Request) -> Response:
        body = request.json(parse_float=decimal.Decimal) or {}
        result = self.org.upsert(sobject, external_field, body, urllib.parse.unquote(value))
        if not result.success:
            error = result.errors[0]
            return Response(400, [{"message": error["message"], "errorCode": error["statusCode"], "fields": error["fields"]}])
        return Response(201 if result.created else 200, result.body())

    def _upsert_collection(self, sobject: str, external_field: str, request: Request) -> Response:
        body = request.json(parse_float=decimal.Decimal) or {}
        records = body.get("records") or []
        if len(records) > MAX_COLLECTION_RECORDS:
            raise SalesforceError(400, "EXCEEDED_ID_LIMIT",
                                  f"record limit reached. cannot submit more than {MAX_COLLECTION_RECORDS} records into this call")
        for record in records:
            declared = (record.get("attributes") or {}).get("type")
            if declared != sobject:
                raise SalesforceError(400, "INVALID_TYPE", f"each record needs attributes.type {sobject!r}")
        all_or_none = bool(body.get("allOrNone"))
        snapshot = self.org.snapshot(sobject) if all_or_none else None
        values = [r.get(external_field) for r in records]
        duplicates = {v for v in values if values.count(v) > 1}
        results: list[dict[str, Any]] = []
        for record in records:
            if record.get(external_field) in duplicates:
                results.append({"id": None, "success": False, "created": False, "errors": [{
                    "statusCode": "DUPLICATE_EXTERNAL_ID",
                    "message": f"Duplicate external id specified: {record.get(external_field)}",
                    "fields": [external_field]}]})
                continue
            results.append(self.org.upsert(sobject, external_field, record).body())
        if snapshot is not None and any(not r["success"] for r in results):
            # allOrNone: nothing is kept; every record reports the rollback.
            self.org.restore(sobject, snapshot)
            return Response(200, [{"id": None, "success": False, "created": False, "errors": r["errors"] or [
                {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]}
                for r in results])
        return Response(200, results)
