from __future__ import annotations

import pytest
from tap_quickbooks_online.webhooks.journal import Journal
from tap_quickbooks_online.webhooks.payloads import PayloadError, parse_events
from tap_quickbooks_online.webhooks.signature import is_valid, sign


def test_legacy_and_cloudevents_payloads_give_the_same_events():
    legacy = {"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [
        {"name": "Invoice", "id": "5", "operation": "Delete", "lastUpdated": "2026-11-02T09:15:02-0800"}]}}]}
    cloud = [{"specversion": "1.0", "id": "x", "type": "qbo.invoice.deleted.v1", "time": "2026-11-02T17:15:02Z",
              "intuitentityid": "5", "intuitaccountid": "1", "data": {}}]
    a, b = parse_events(legacy)[0], parse_events(cloud)[0]
    assert (a["realm_id"], a["entity"], a["id"], a["operation"]) == ("1", "Invoice", "5", "Delete")
    assert (b["realm_id"], b["entity"], b["id"], b["operation"]) == ("1", "Invoice", "5", "Delete")


def test_cloudevents_entity_names_get_intuit_spelling():
    event = parse_events([{"type": "qbo.journalentry.updated.v1", "intuitentityid": "7", "intuitaccountid": "1"}])[0]
    assert (event["entity"], event["operation"]) == ("JournalEntry", "Update")


def test_unknown_payload_is_refused():
    with pytest.raises(PayloadError):
        parse_events({"hello": "world"})


def test_signature_is_checked_against_the_raw_body():
    body = b'{"eventNotifications": []}'
    assert is_valid("verifier", body, sign("verifier", body))
    assert not is_valid("verifier", body + b" ", sign("verifier", body))
    assert not is_valid("verifier", body, None)
    assert not is_valid("", body, sign("", body))


def test_journal_sequences_survive_reopen_and_filter_by_realm(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([{"realm_id": "1", "entity": "Invoice", "id": "1", "operation": "Create"}])
    Journal(tmp_path / "j.jsonl").append([{"realm_id": "2", "entity": "Bill", "id": "9", "operation": "Create"},
                                         {"realm_id": "1", "entity": "Invoice", "id": "2", "operation": "Update"}])
    with open(tmp_path / "j.jsonl", "a") as handle:
        handle.write('{"seq": 99, "realm_id": "1"')  # torn write of a receiver mid-append
    assert [e["seq"] for e in journal.read(realm_id="1")] == [1, 3]
    assert [e["id"] for e in journal.read(realm_id="1", after_seq=1)] == ["2"]
    journal.append([{"realm_id": "1", "entity": "Invoice", "id": "3", "operation": "Create"}])
    assert [e["id"] for e in journal.read(realm_id="1", after_seq=1)] == ["2", "3"]


def test_prune_drops_committed_events_but_sequence_numbers_keep_growing(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([{"realm_id": "1", "entity": "Invoice", "id": str(i), "operation": "Update"} for i in range(5)])

    assert journal.prune(5) == 4  # the newest line stays as the sequence anchor
    assert journal.append([{"realm_id": "1", "entity": "Bill", "id": "9", "operation": "Create"}]) == 6
    assert [e["seq"] for e in journal.read(realm_id="1", after_seq=5)] == [6]


def test_a_writer_holding_the_old_file_follows_the_pruned_one(tmp_path):
    writer = Journal(tmp_path / "j.jsonl")
    writer.append([{"realm_id": "1", "entity": "Invoice", "id": "1", "operation": "Update"}] * 3)
    Journal(tmp_path / "j.jsonl").prune(2)  # another process replaces the file

    assert writer.append([{"realm_id": "1", "entity": "Invoice", "id": "2", "operation": "Update"}]) == 4
    assert [e["seq"] for e in Journal(tmp_path / "j.jsonl").read(realm_id="1")] == [3, 4]
