"""The bulk path's per-record rules every target shares."""

from __future__ import annotations

import pytest
from qbc_plugin_kit.failures import RecordRefused
from qbc_plugin_kit.record_intake import FullCheck, check_version, extracted_at, stamp_audit_columns


def test_the_message_time_extracted_wins_else_the_record_keeps_its_own():
    record = {"id": "1", "_sdc_extracted_at": "2026-01-01T00:00:00+00:00"}
    assert extracted_at(record, {"time_extracted": "2026-02-01T00:00:00+00:00"}) == "2026-02-01T00:00:00+00:00"
    # A replayed dead letter: its message has no time_extracted, the record still has the original.
    assert extracted_at(record, {}) == "2026-01-01T00:00:00+00:00"
    assert extracted_at({"id": "1"}, {}) is None


def test_audit_columns_are_stamped_with_the_source():
    record = {"id": "1", "edition": "qbo", "company_id": "9130"}
    stamp_audit_columns(record, {"version": 7, "time_extracted": "2026-01-01T00:00:00Z"},
                        ("2026-01-01T00:00:01+00:00", 1767225601000), stream="invoices",
                        batched_at="2026-01-01T00:00:02+00:00", sync_started_at=1767225600000)
    assert record == {"id": "1", "edition": "qbo", "company_id": "9130",
                      "_sdc_extracted_at": "2026-01-01T00:00:00Z",
                      "_sdc_received_at": "2026-01-01T00:00:01+00:00", "_sdc_sequence": 1767225601000,
                      "_sdc_batched_at": "2026-01-01T00:00:02+00:00", "_sdc_deleted_at": None,
                      "_sdc_table_version": 7, "_sdc_sync_started_at": 1767225600000,
                      "_sdc_source": "qbo:9130"}


@pytest.mark.parametrize("record", [{"updated_at": "0001-01-01T00:00:00+01:00"}, {"sync_token": -1}])
def test_a_version_the_order_cannot_read_refuses_its_record_even_when_vouched(record):
    with pytest.raises(RecordRefused, match="unreadable value"):
        check_version(record, vouched=True)


def test_the_full_check_refuses_with_the_validator_reason_and_only_when_enabled():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with pytest.raises(RecordRefused, match="n"):
        FullCheck(schema, enabled=True).refuse_invalid({"n": "x"})
    FullCheck(schema, enabled=False).refuse_invalid({"n": "x"})
