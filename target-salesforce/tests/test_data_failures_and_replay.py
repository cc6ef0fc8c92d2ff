"""Data failures: only the record Salesforce cannot hold is set aside, exactly as it arrived; the
rest lands, STATE is saved, the run exits 1 (0 with on_data_failure: warn); `replay` and the
next run re-send what was set aside."""

from __future__ import annotations

import json
from decimal import Decimal

from .singer_io import (
    console,
    customer,
    invoice,
    last_line,
    letters,
    line,
    record,
    run_target,
    schema,
    singer_text,
)

STATE = {"type": "STATE", "value": {"bookmarks": {"customers": {"replication_key_value": "2026-11-01"}}}}
NAN_CUSTOMER = ('{"type": "RECORD", "stream": "customers", "record": {"company_id": "9130", "edition": "qbo", '
                '"id": "2", "display_name": "Bob \u00e9", "balance": NaN, "updated_at": "2026-11-01T09:00:00Z", '
                '"sync_token": 0}}')


def _accounts(sandbox) -> dict[str, str]:
    return {r["QuickBooks_Id__c"]: r["Name"] for r in sandbox.org.records["Account"].values()}


def _input_with_nan() -> str:
    before = singer_text([schema("customers"), customer("1", "Ada")])
    after = singer_text([customer("3", "Cy"), STATE])
    return before + NAN_CUSTOMER + "\n" + after


def test_nan_sets_aside_only_its_record_and_the_state_is_saved_exit_1(salesforce_sandbox, salesforce_config, tmp_path):
    run = console(salesforce_config, tmp_path, messages=_input_with_nan())
    assert run.returncode == 1, run.stderr[-3000:]
    assert json.loads(last_line(run.stdout)) == STATE["value"]
    assert _accounts(salesforce_sandbox) == {"qbo:9130:customer:1": "Ada", "qbo:9130:customer:3": "Cy"}
    assert "target-salesforce replay --list" in last_line(run.stderr)
    listed = console(salesforce_config, tmp_path, "replay", "--list")
    assert listed.returncode == 0, listed.stderr[-2000:]
    (letter,) = [json.loads(text) for text in listed.stdout.splitlines()]
    assert letter["line"] == NAN_CUSTOMER  # byte for byte: NaN stays NaN, the accent stays
    assert letter["stream"] == "customers" and letter["key"] == {"company_id": "9130", "id": "2"}
    assert "balance" in letter["reason"] and "NaN" in letter["reason"]


def test_on_data_failure_warn_exits_0_with_the_same_summary(salesforce_sandbox, salesforce_config, tmp_path):
    run = console({**salesforce_config, "on_data_failure": "warn"}, tmp_path, messages=_input_with_nan())
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(last_line(run.stdout)) == STATE["value"]
    assert "customers: 1 record(s) set aside" in run.stderr
    assert len(letters(salesforce_config)) == 1


def test_a_record_breaking_its_schema_is_set_aside_naming_the_field(salesforce_sandbox, salesforce_config):
    bad = record("customers", {"company_id": "9130", "edition": "qbo", "id": "2", "balance": "lots",
                               "updated_at": "2026-11-01T09:00:00Z"})
    run = run_target(salesforce_config, [schema("customers"), customer("1", "Ada"), bad, customer("3", "Cy")])
    assert run.set_aside and run.states == []  # the input had no STATE; nothing else is emitted
    (letter,) = letters(salesforce_config)
    assert letter.key == {"company_id": "9130", "id": "2"} and "balance" in letter.reason
    assert json.loads(letter.line)["record"]["balance"] == "lots"
    assert sorted(_accounts(salesforce_sandbox)) == ["qbo:9130:customer:1", "qbo:9130:customer:3"]


def test_salesforce_refusing_one_record_sets_aside_that_record_alone(salesforce_sandbox, salesforce_config):
    long_name = "N" * 300  # Account.Name holds 255: never cut, set aside with Salesforce's reason
    run = run_target(salesforce_config, [schema("customers"), customer("1", "Ada"), customer("2", long_name),
                                         customer("3", "Cy")])
    assert run.set_aside
    (letter,) = letters(salesforce_config)
    assert letter.key == {"company_id": "9130", "id": "2"} and "STRING_TOO_LONG" in letter.reason
    assert json.loads(letter.line)["record"]["display_name"] == long_name
    assert sorted(_accounts(salesforce_sandbox)) == ["qbo:9130:customer:1", "qbo:9130:customer:3"]
    # One sObject Collections request answered per record: no splitting, no second write.
    assert len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")) == 1


def test_a_date_salesforce_cannot_store_is_set_aside(salesforce_sandbox, salesforce_config):
    run = run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"),
                                         invoice("77", txn_date="1600-02-29"), invoice("78")])
    assert run.set_aside
    (letter,) = letters(salesforce_config)
    assert letter.key == {"company_id": "9130", "id": "77"} and "CloseDate" in letter.reason
    assert salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:78") is not None
    assert salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:77") is None


def test_replay_sends_a_fixed_letter_and_keeps_an_unfixable_one(salesforce_sandbox, salesforce_config, tmp_path):
    wrong_stage = {**salesforce_config, "opportunity_stage": "Paid In Full"}
    run = console(wrong_stage, tmp_path, messages=singer_text([schema("invoices"), schema("customers"),
                                                               customer("1", "Ada"), invoice("77")])
                  + NAN_CUSTOMER + "\n")
    assert run.returncode == 1, run.stderr[-3000:]
    pending = letters(salesforce_config)
    assert {letter.stream for letter in pending} == {"customers", "invoices"}
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in next(p.reason for p in pending if p.stream == "invoices")

    dry = console(salesforce_config, tmp_path, "replay", "--dry-run")
    verdicts = {v["stream"]: v["would_pass"] for v in map(json.loads, dry.stdout.splitlines())}
    assert verdicts == {"customers": False, "invoices": True}

    replayed = console(salesforce_config, tmp_path, "replay")  # the stage setting is fixed now
    assert replayed.returncode == 1, replayed.stderr[-3000:]
    assert json.loads(last_line(replayed.stdout)) == {"replayed": 1, "still_pending": 1}
    assert "replay --list" in last_line(replayed.stderr)
    opportunity = salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:77")
    assert opportunity["StageName"] == "Closed Won"
    (still,) = letters(salesforce_config)
    assert still.line == NAN_CUSTOMER and still.attempts == 2
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:2") is None


def test_replay_takes_settings_from_the_environment_as_meltano_passes_them(
        salesforce_sandbox, salesforce_config, tmp_path):
    settings = dict(salesforce_config)  # before a run fills in the SDK's defaults
    run_target(salesforce_config, [schema("invoice_lines"), line("77", "1")])
    run_target({**salesforce_config, "dead_letter_retry_attempts": 0},
               [schema("customers"), schema("invoices"), customer("1", "Ada"), invoice("77")])
    env = {f"TARGET_SALESFORCE_{name.upper()}": str(value) for name, value in settings.items()}
    replayed = console(None, tmp_path, "replay", env=env)
    assert replayed.returncode == 0, replayed.stderr[-3000:]
    assert len(salesforce_sandbox.org.records["OrderItem"]) == 1
    assert letters(salesforce_config) == []


def test_pending_letters_are_resent_at_the_start_of_the_next_run(salesforce_sandbox, salesforce_config, caplog):
    first = run_target(salesforce_config, [schema("invoice_lines"), line("77", "1")])
    assert first.set_aside
    (letter,) = letters(salesforce_config)
    assert "Foreign key external ID" in letter.reason
    second = run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"),
                                            invoice("77")])
    assert not second.set_aside
    assert letters(salesforce_config) == []
    (item,) = salesforce_sandbox.org.records["OrderItem"].values()
    assert item["QuickBooks_Id__c"] == "qbo:9130:invoice:77:line:1"
    assert any("1 record(s) from the dead-letter store delivered" in m for m in caplog.messages)


def test_a_resent_older_version_never_overwrites_a_newer_one(salesforce_sandbox, salesforce_config):
    old = invoice("77", updated_at="2026-11-01T09:00:00Z", sync_token=1, doc_number="OLD")
    assert run_target(salesforce_config, [schema("invoices"), old]).set_aside  # no customer yet
    new = invoice("77", updated_at="2026-11-03T09:00:00Z", sync_token=2, doc_number="NEW")
    run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"), new])
    opportunity = salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:77")
    assert opportunity["QuickBooks_Doc_Number__c"] == "NEW"
    assert letters(salesforce_config) == []  # the old version was superseded, not lost


def test_an_amount_the_org_field_would_round_is_set_aside(salesforce_sandbox, salesforce_config):
    # The org describes each number field's size; Opportunity.Amount is currency(18, 2). Through
    # the API Salesforce would keep 1234.567 but show and report it as 1234.57; 17 integer digits
    # it refuses (NUMBER_OUTSIDE_VALID_RANGE): both are set aside before sending.
    run = run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"),
                                         invoice("77", total_amount=Decimal("1234.567")),
                                         invoice("78", total_amount=Decimal("1234.50000")),
                                         invoice("79", total_amount=Decimal("12345678901234567.5"))])
    assert run.set_aside
    reasons = {tuple(letter.key.values()): letter.reason for letter in letters(salesforce_config)}
    assert sorted(reasons) == [("9130", "77"), ("9130", "79")]
    assert "Amount" in reasons[("9130", "77")] and "scale 2" in reasons[("9130", "77")]
    assert json.loads(letters(salesforce_config)[0].line)["record"]["total_amount"] == 1234.567
    assert salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:78")["Amount"] == Decimal("1234.5")
