from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from qbc_plugin_kit.dead_letters import DeadLetterStore

SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}, "total": {"type": "number"}}}


def test_a_letter_survives_reopening_with_decimals_exact(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl")
    letter_id = store.add("invoices", SCHEMA, ["id"], [{"id": "1", "total": Decimal("10.10")}], "HTTP 503")
    store.close()

    reopened = DeadLetterStore(tmp_path / "dl")
    try:
        [letter] = reopened.pending()
    finally:
        reopened.close()
    assert letter.id == letter_id
    assert (letter.stream, letter.schema, letter.key_properties) == ("invoices", SCHEMA, ["id"])
    assert letter.records == [{"id": "1", "total": Decimal("10.10")}]
    assert isinstance(letter.records[0]["total"], Decimal)
    assert (letter.error, letter.attempts) == ("HTTP 503", 1)
    assert letter.created_at.endswith("+00:00")


def test_pending_filters_by_stream_and_keeps_insertion_order(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path)
    first = store.add("customers", SCHEMA, ["id"], [{"id": "a"}], "e1")
    store.add("invoices", SCHEMA, ["id"], [{"id": "b"}], "e2")
    third = store.add("customers", SCHEMA, ["id"], [{"id": "c"}], "e3")
    assert [letter.id for letter in store.pending("customers")] == [first, third]
    assert len(store.pending()) == 3
    store.close()


def test_replayed_letters_leave_pending_and_failures_count_attempts(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path)
    done = store.add("customers", SCHEMA, ["id"], [{"id": "a"}], "first error")
    again = store.add("customers", SCHEMA, ["id"], [{"id": "b"}], "first error")
    store.mark_replayed(done)
    store.record_failure(again, "second error")
    [letter] = store.pending()
    store.close()
    assert letter.id == again
    assert (letter.attempts, letter.error) == (2, "second error")


def test_keep_pending_leaves_only_the_refused_records(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path)
    letter_id = store.add("invoices", SCHEMA, ["id"],
                          [{"id": "1", "total": Decimal("1.00")}, {"id": "2", "total": Decimal("2.50")}], "e")
    store.keep_pending(letter_id, [{"id": "2", "total": Decimal("2.50")}], "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    [letter] = store.pending()
    store.close()
    assert letter.records == [{"id": "2", "total": Decimal("2.50")}]
    assert (letter.attempts, letter.error) == (2, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
