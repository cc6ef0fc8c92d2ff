"""Bulk API 2.0 ingest jobs (upsert/insert/update) over the sandbox org.

Job life cycle as documented: ``Open`` -> data uploaded with PUT ``/batches`` (CSV) ->
PATCH ``state: UploadComplete`` -> ``JobComplete`` (processed synchronously here), then
``successfulResults/``, ``failedResults/`` and ``unprocessedrecords/`` as CSV.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandboxes.salesforce.sobjects import Org, SalesforceError


@dataclass
class IngestJob:
    id: str
    object: str
    operation: str
    external_id_field: str | None
    line_ending: str
    column_delimiter: str
    state: str = "Open"
    data: list[str] = field(default_factory=list)
    successful: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def info(self, api_version: str) -> dict[str, Any]:
        return {
            "id": self.id, "operation": self.operation, "object": self.object, "state": self.state,
            "externalIdFieldName": self.external_id_field, "concurrencyMode": "Parallel",
            "contentType": "CSV", "apiVersion": float(api_version), "jobType": "V2Ingest",
            "lineEnding": self.line_ending, "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": len(self.successful) + len(self.failed),
            "numberRecordsFailed": len(self.failed), "retries": 0, "totalProcessingTime": 1,
            "contentUrl": f"services/data/v{api_version}/jobs/ingest/{self.id}/batches",
        }


class BulkIngest:
    def __init__(self, org: Org) -> None:
        self.org = org
        self.jobs: dict[str, IngestJob] = {}
        self._lock = threading.Lock()

    def create(self, body: dict[str, Any]) -> IngestJob:
        operation = body.get("operation")
        if operation not in ("insert", "upsert", "update"):
            raise SalesforceError(400, "INVALIDJOB", f"InvalidJob : operation {operation!r} is not supported here")
        if body.get("contentType", "CSV") != "CSV":
            raise SalesforceError(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
        self.org.describe(str(body.get("object")))
        if operation == "upsert" and not body.get("externalIdFieldName"):
            raise SalesforceError(400, "INVALIDJOB", "InvalidJob : External ID was blank for upsert")
        delimiter = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
        job = IngestJob(str(uuid.uuid4())[:18], str(body["object"]), operation, body.get("externalIdFieldName"),
                        str(body.get("lineEnding", "LF")), delimiter[str(body.get("columnDelimiter", "COMMA"))])
        with self._lock:
            self.jobs[job.id] = job
        return job

    def job(self, job_id: str) -> IngestJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise SalesforceError(404, "NOT_FOUND", f"Job {job_id} not found")
        return job

    def upload(self, job_id: str, data: bytes) -> None:
        job = self.job(job_id)
        if job.state != "Open":
            raise SalesforceError(409, "INVALIDJOBSTATE", f"Job {job_id} is {job.state}; data can only be uploaded to an Open job")
        job.data.append(data.decode("utf-8"))

    def set_state(self, job_id: str, state: str) -> IngestJob:
        job = self.job(job_id)
        if state == "Aborted":
            job.state = "Aborted"
            return job
        if state != "UploadComplete" or job.state != "Open":
            raise SalesforceError(400, "INVALIDJOBSTATE", f"cannot move job from {job.state} to {state}")
        job.state = "UploadComplete"
        self._process(job)
        return job

    def _process(self, job: IngestJob) -> None:
        if not job.data:
            job.state = "Failed"
            return
        for chunk in job.data:
            reader = csv.DictReader(io.StringIO(chunk), delimiter=job.column_delimiter)
            job.columns = list(reader.fieldnames or [])
            for row in reader:
                record = _csv_record(row)
                result = self.org.upsert(job.object, job.external_id_field or "Id", record)
                if result.success:
                    job.successful.append({"sf__Id": result.id or "", "sf__Created": str(result.created).lower(), **row})
                else:
                    error = result.errors[0]
                    job.failed.append({"sf__Id": "", "sf__Error": f"{error['statusCode']}:{error['message']}", **row})
        job.state = "JobComplete"

    def results(self, job_id: str, kind: str) -> str:
        job = self.job(job_id)
        if kind == "successfulResults":
            return _to_csv(["sf__Id", "sf__Created", *job.columns], job.successful)
        if kind == "failedResults":
            return _to_csv(["sf__Id", "sf__Error", *job.columns], job.failed)
        return _to_csv(job.columns, [])


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    """CSV cells -> a record: ``Account.QuickBooks_Id__c`` is a relationship reference and
    ``#N/A`` sets null, as Bulk API 2.0 documents; empty cells are left unchanged."""
    record: dict[str, Any] = {}
    for column, value in row.items():
        if value == "":
            continue
        if "." in column:
            relationship, key_field = column.split(".", 1)
            record[relationship] = {key_field: value}
        else:
            record[column] = None if value == "#N/A" else value
    return record


def _to_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
