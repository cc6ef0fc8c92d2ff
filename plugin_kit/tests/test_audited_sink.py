"""A record that cannot be loaded is set aside with its reason; the rest carry audit columns."""

from __future__ import annotations

import io
import json
from typing import Any

from qbc_plugin_kit.audited_sink import AuditedBatchSink
from singer_sdk import typing as th
from singer_sdk.target_base import Target


class CollectingSink(AuditedBatchSink):
    kept: list[dict[str, Any]] = []
    rejected: list[tuple[dict[str, Any], str]] = []

    def process_record(self, record: dict, context: dict) -> None:
        reason = self.rejection(record)
        if reason is not None:
            CollectingSink.rejected.append((record, reason))
            return
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict) -> None:
        records = context.get("records", [])
        self.stamp_batch(records)
        CollectingSink.kept.extend(records)


class CollectingTarget(Target):
    name = "target-collecting"
    default_sink_class = CollectingSink
    config_jsonschema = th.PropertiesList().to_dict()


def run(records: list[dict[str, Any]]) -> None:
    CollectingSink.kept, CollectingSink.rejected = [], []
    schema = {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": {"type": "string"}, "id": {"type": "string"},
        "total": {"type": ["number", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["string", "null"]}}}
    lines = [json.dumps({"type": "SCHEMA", "stream": "invoices", "schema": schema,
                         "key_properties": ["company_id", "id"]})]
    lines += [json.dumps({"type": "RECORD", "stream": "invoices", "record": r}) for r in records]
    CollectingTarget(config={}, parse_env_config=False).listen(
        file_input=io.StringIO("\n".join(lines) + "\n"))


def test_loadable_records_carry_source_version_and_batch_audit_columns() -> None:
    run([{"company_id": "9130", "edition": "qbo", "id": "1", "total": 10.5,
          "updated_at": "2026-11-02T09:15:02-08:00", "sync_token": "3"}])
    (kept,) = CollectingSink.kept
    assert kept["_sdc_source"] == "qbo:9130"
    assert kept["_sdc_version"] and kept["_sdc_batched_at"] and kept["_sdc_received_at"]
    assert CollectingSink.rejected == []


def test_a_record_breaking_the_schema_is_set_aside_with_its_reason_and_the_rest_load() -> None:
    run([{"company_id": "9130", "edition": "qbo", "id": "1", "total": "ten"},
         {"company_id": "9130", "edition": "qbo", "id": "2", "total": 1}])
    assert [r["id"] for r in CollectingSink.kept] == ["2"]
    ((record, reason),) = CollectingSink.rejected
    assert record["id"] == "1" and "does not match the stream schema" in reason
