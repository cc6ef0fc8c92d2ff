"""The delivery contract (docs/delivery-contract.md) as a target-powerbi user sees it: through
the console command, Power BI's rows (the sandbox) and the dead-letter store."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import certifi
import pytest
from qbc_plugin_kit.failures import RecordsSetAside

from .singer_io import (
    customer,
    pending_letters,
    record_message,
    run_target,
    schema_message,
    singer_lines,
)

INVOICE = {"company_id": "9130", "edition": "qbo", "id": "77", "doc_number": "1001",
           "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}
STATE = {"type": "STATE", "value": {"bookmarks": {"invoices": {"replication_key_value": "2026-11-01"}}}}
COMMAND = str(Path(sys.executable).with_name("target-powerbi"))


def _invoice(i: int, **fields: Any) -> dict[str, Any]:
    return record_message("invoices", {**INVOICE, "id": str(i), **fields})


def _console(args: list[str], config: dict[str, Any], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.run([COMMAND, *args, "--config", str(config_file)], input=stdin, capture_output=True,
                          text=True, timeout=180)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def _ids(sandbox: Any, table: str = "invoices") -> list[str]:
    return sorted(r["id"] for r in sandbox.store.rows("QuickBooks", table))


# -- systemic: stop, exit 1, no STATE, one last line with the cause and the fix ----------------

SYSTEMIC_CASES = {
    "wrong client_secret": ({"client_secret": "not-the-secret"}, None, ["refused the client credentials", "client_secret"]),
    "unreachable api_url": ({"api_url": "https://127.0.0.1:9"}, None, ["127.0.0.1:9", "api_url"]),
    "unreachable authority_host": ({"authority_host": "https://127.0.0.1:9"}, None, ["Azure AD", "authority_host"]),
    "wrong tenant_id": ({"tenant_id": "11111111-2222-4333-8444-555555555555"}, None,
                        ["does not know the tenant 11111111-2222-4333-8444-555555555555", "tenant_id"]),
    "wrong workspace_id": ({"workspace_id": "00000000-0000-4000-8000-000000000000"}, None, ["GroupNotFound", "workspace_id"]),
    "service principal a Viewer": ({"role": "Viewer"}, None,
                                   ["PowerBINotAuthorizedException", "as Contributor, Member or Admin"]),
    "missing ca_bundle": ({"ca_bundle": "MISSING"}, None, ["no-such-ca.pem", "ca_bundle"]),
    # The public CAs do not vouch for the sandbox's own CA, as for a TLS-inspecting proxy.
    "untrusted certificate": ({"ca_bundle": certifi.where()}, None, ["could not be verified", "ca_bundle"]),
    "every POST failing": ({}, 500, ["still failed after 3 attempts", "max_retries"]),
    "every POST refused": ({}, 400, ["refused the whole batch", "of its records alone"]),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(SYSTEMIC_CASES))
def test_a_systemic_failure_stops_the_run_with_no_state_and_names_the_fix(case, powerbi_sandbox, powerbi_config, tmp_path):
    overrides, post_status, expected = SYSTEMIC_CASES[case]
    if overrides.get("ca_bundle") == "MISSING":
        overrides = {"ca_bundle": str(tmp_path / "no-such-ca.pem")}
    if "role" in overrides:
        powerbi_sandbox.set_principal_role(overrides["role"])
        overrides = {}
    if post_status:
        powerbi_sandbox.inject_fault(r"/rows$", method="POST", status=post_status, count=50,
                                     body={"error": {"code": "InvalidRequest", "message": "no"}})
    config = {**powerbi_config, "max_retries": 2, **overrides}
    stdin = singer_lines([schema_message("invoices"), _invoice(1), _invoice(2), _invoice(3), STATE])
    run = _console([], config, tmp_path, stdin)
    assert run.returncode == 1, run.stderr[-3000:]
    assert run.stdout.strip() == "", "no STATE may be emitted past the last committed batch"
    last = _last_line(run.stderr)
    assert last.startswith("target-powerbi: ") and "Fix: " in last, last
    for text in expected:
        assert text in last, last
    assert "Traceback" not in run.stderr
    assert "not-the-secret" not in run.stderr and powerbi_config["client_secret"] not in run.stderr
    assert pending_letters(config) == [], "a systemic failure sets nothing aside"
    assert _ids(powerbi_sandbox) == []


# -- data: only the bad record is set aside, its neighbours land, STATE is emitted -------------

NAN_LINE = ('{"type": "RECORD", "stream": "invoices", "record": {"company_id": "9130", "edition": "qbo", '
            '"id": "2", "total_amount": NaN, "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}}')


@pytest.mark.e2e
@pytest.mark.parametrize("on_data_failure, exit_status", [("fail", 1), ("warn", 0)])
def test_nan_is_set_aside_alone_exactly_as_sent_and_the_run_goes_on(
        on_data_failure, exit_status, powerbi_sandbox, powerbi_config, tmp_path):
    config = {**powerbi_config, "on_data_failure": on_data_failure}
    stdin = (singer_lines([schema_message("invoices"), _invoice(1)]) + NAN_LINE + "\n"
             + singer_lines([_invoice(3), STATE]))
    run = _console([], config, tmp_path, stdin)
    assert run.returncode == exit_status, run.stderr[-3000:]
    assert json.loads(_last_line(run.stdout)) == STATE["value"]
    assert _ids(powerbi_sandbox) == ["1", "3"]
    (letter,) = pending_letters(config)
    assert letter.line == NAN_LINE
    assert "total_amount" in letter.reason and "NaN" in letter.reason
    assert "invoices: 1 record(s) set aside" in run.stderr
    assert "target-powerbi replay --list --stream invoices" in run.stderr
    if exit_status:
        assert "on_data_failure: warn" in _last_line(run.stderr)


def test_a_row_power_bi_refuses_is_isolated_and_its_neighbours_land(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.store.limits.max_string_length = 100  # stricter than the target's own check
    ids = [str(i) for i in range(1, 33)]
    messages = [schema_message("invoices"),
                *[_invoice(int(i), doc_number="x" * 150 if i == "20" else "ok") for i in ids]]
    with pytest.raises(RecordsSetAside):
        run_target(powerbi_config, messages)
    assert _ids(powerbi_sandbox) == sorted(i for i in ids if i != "20")
    (letter,) = pending_letters(powerbi_config)
    assert letter.key == {"company_id": "9130", "id": "20"}
    assert "not a valid String" in letter.reason and "InvalidRequest" in letter.reason
    # Halving finds one row among 32 in a few POSTs, not one POST per row.
    assert len(powerbi_sandbox.requests_to("POST", r"/rows$")) < 16


# -- replay and the next run --------------------------------------------------------------------

@pytest.mark.e2e
def test_replay_lists_letters_byte_for_byte_sends_fixed_ones_and_keeps_the_others(
        powerbi_sandbox, powerbi_config, tmp_path):
    powerbi_sandbox.store.limits.max_string_length = 100
    refused_by_power_bi = json.dumps(_invoice(4, doc_number="é" * 150), ensure_ascii=False)
    schema_error = json.dumps(_invoice(5, sync_token="not-a-number"))
    huge = ('{"type": "RECORD", "stream": "invoices", "record": {"company_id": "9130", "id": "6", '
            '"total_amount": 1234567890123456789012345678901234567890.12, "updated_at": "2026-11-01T09:00:00Z"}}')
    stdin = "\n".join([json.dumps(schema_message("invoices")), json.dumps(_invoice(1)), refused_by_power_bi,
                       NAN_LINE, schema_error, huge, json.dumps(STATE)]) + "\n"
    config = {**powerbi_config, "dead_letter_retry_attempts": 0}
    run = _console([], config, tmp_path, stdin)
    assert run.returncode == 1 and _ids(powerbi_sandbox) == ["1"], run.stderr[-3000:]

    listed = _console(["replay", "--list"], config, tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    # Set aside on arrival (NaN, schema, a number beyond Power BI's fixed decimal), then by Power BI.
    assert [letter["line"] for letter in letters] == [NAN_LINE, schema_error, huge, refused_by_power_bi]

    dry = _console(["replay", "--dry-run"], config, tmp_path)
    verdicts = {json.loads(line)["id"]: json.loads(line) for line in dry.stdout.splitlines()}
    by_line = {letter["line"]: verdicts[letter["id"]] for letter in letters}
    assert by_line[refused_by_power_bi]["would_pass"], "only Power BI itself refused it"
    assert "NaN" in by_line[NAN_LINE]["reason"] and "sync_token" in by_line[schema_error]["reason"]
    assert "fixed decimal range" in by_line[huge]["reason"]

    powerbi_sandbox.store.limits.max_string_length = 4000  # the cause is fixed
    replayed = _console(["replay"], config, tmp_path)
    assert replayed.returncode == 1, replayed.stderr[-3000:]
    assert "KeyError" not in replayed.stderr and "Traceback" not in replayed.stderr
    assert json.loads(_last_line(replayed.stdout)) == {"replayed": 1, "still_pending": 3}
    assert _ids(powerbi_sandbox) == ["1", "4"]
    (row,) = [r for r in powerbi_sandbox.store.rows("QuickBooks", "invoices") if r["id"] == "4"]
    assert row["doc_number"] == "é" * 150
    still = {letter.line: letter for letter in pending_letters(config)}
    assert sorted(still) == sorted([NAN_LINE, schema_error, huge])
    assert all(letter.attempts == 2 for letter in still.values())
    assert "sync_token" in still[schema_error].reason


def test_pending_letters_are_resent_at_the_start_of_the_next_run(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.store.limits.max_string_length = 100
    with pytest.raises(RecordsSetAside):
        run_target(powerbi_config, [schema_message("invoices"), _invoice(1), _invoice(2, doc_number="x" * 150)])
    assert _ids(powerbi_sandbox) == ["1"]

    powerbi_sandbox.store.limits.max_string_length = 4000
    run_target(powerbi_config, [schema_message("invoices"), _invoice(3)])
    assert _ids(powerbi_sandbox) == ["1", "2", "3"]
    assert pending_letters(powerbi_config) == []


def test_a_replayed_older_version_never_overwrites_a_newer_one(powerbi_sandbox, powerbi_config, tmp_path):
    powerbi_sandbox.store.limits.max_string_length = 100
    config = {**powerbi_config, "dead_letter_retry_attempts": 0}
    older = customer("1", "Old " + "x" * 150, "2026-11-01T09:00:00Z", 1)
    with pytest.raises(RecordsSetAside):
        run_target(config, [schema_message("customers"), record_message("customers", older)])
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "New", "2026-11-03T09:00:00Z", 2))])
    powerbi_sandbox.store.limits.max_string_length = 4000
    assert _console(["replay"], config, tmp_path).returncode == 0
    assert [r["display_name"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["New"]
    assert pending_letters(config) == []


@pytest.mark.e2e
def test_an_interrupted_dataset_rebuild_is_finished_by_the_next_run(powerbi_sandbox, powerbi_config, tmp_path):
    config = {**powerbi_config, "max_retries": 1, "missing_table_action": "recreate"}
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0))])
    # A new stream recreates the dataset; re-pushing customers into it fails twice.
    powerbi_sandbox.inject_fault(r"/tables/customers/rows$", method="POST", status=500, count=2)
    run = _console([], config, tmp_path, singer_lines([schema_message("invoices"), _invoice(1), STATE]))
    assert run.returncode == 1 and run.stdout.strip() == ""
    assert "re-pushing rows waiting in the mirror" in _last_line(run.stderr)
    assert powerbi_sandbox.store.rows("QuickBooks", "customers") == []

    run_target(config, [])
    assert [r["display_name"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["Ada"]
    assert _ids(powerbi_sandbox) == ["1"]


def test_replay_takes_typed_settings_from_meltano_environment_variables(powerbi_sandbox, powerbi_config, monkeypatch):
    from target_powerbi.cli import main

    powerbi_sandbox.store.limits.max_string_length = 100
    config = {**powerbi_config, "dead_letter_retry_attempts": 0}
    settings = dict(config)  # the SDK fills defaults into the dict it is given
    with pytest.raises(RecordsSetAside):
        run_target(config, [schema_message("invoices"), _invoice(1, doc_number="x" * 150)])
    powerbi_sandbox.store.limits.max_string_length = 4000
    for name, value in {**settings, "dimension_streams": ["customers"]}.items():
        monkeypatch.setenv(f"TARGET_POWERBI_{name.upper()}", json.dumps(value) if isinstance(value, list) else str(value))
    with pytest.raises(SystemExit) as exited:
        main(["replay"])
    assert exited.value.code == 0
    assert _ids(powerbi_sandbox) == ["1"]


# -- version order: Desktop edits and deletions in the same second ------------------------------

def test_desktop_invoices_edited_and_deleted_in_the_same_second_end_deleted_with_their_lines(
        powerbi_sandbox, powerbi_config):
    second = "2026-11-20T14:03:07+00:00"

    def edit(i: int) -> dict[str, Any]:
        return record_message("invoices", {"company_id": "qbd-file-1", "edition": "qbd", "id": f"TXN-{i}",
                                           "total_amount": Decimal("100.00"), "updated_at": second,
                                           "sync_token": None, "edit_sequence": f"17320000{i}"})

    def deletion(i: int) -> dict[str, Any]:
        return record_message("invoices", {"company_id": "qbd-file-1", "edition": "qbd", "id": f"TXN-{i}",
                                           "updated_at": second, "sync_token": None, "edit_sequence": None,
                                           "_sdc_deleted_at": second})

    def line(i: int) -> dict[str, Any]:
        return record_message("invoice_lines", {"company_id": "qbd-file-1", "edition": "qbd",
                                                "invoice_id": f"TXN-{i}", "line_id": "1", "amount": 100,
                                                "updated_at": second, "sync_token": None,
                                                "edit_sequence": f"17320000{i}"})

    # Two arrive edit-then-delete, two delete-then-edit (the late edit must not revive them);
    # the lines come after their headers, as the tap sends them.
    run_target(powerbi_config, [schema_message("invoices"), schema_message("invoice_lines"),
                                edit(1), deletion(1), edit(2), deletion(2),
                                deletion(3), edit(3), deletion(4), edit(4),
                                *[line(i) for i in range(1, 5)]])

    def newest(table: str, key: str) -> dict[str, dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for row in powerbi_sandbox.store.rows("QuickBooks", table):
            if row[key] not in latest or row["_sdc_version"] > latest[row[key]]["_sdc_version"]:
                latest[row[key]] = row
        return latest

    invoices = newest("invoices", "id")
    assert sorted(invoices) == [f"TXN-{i}" for i in range(1, 5)]
    assert [row["_sdc_deleted_at"] is not None for row in invoices.values()] == [True] * 4
    lines = newest("invoice_lines", "invoice_id")
    assert [lines[f"TXN-{i}"]["_sdc_deleted_at"] is not None for i in range(1, 5)] == [True] * 4


def test_a_record_before_its_schema_or_without_its_key_is_set_aside_not_fatal(powerbi_sandbox, powerbi_config):
    early = record_message("vendors", {"company_id": "9130", "id": "v1"})
    keyless = record_message("invoices", {k: v for k, v in INVOICE.items() if k != "id"})
    with pytest.raises(RecordsSetAside):
        run_target(powerbi_config, [early, schema_message("invoices"), _invoice(1), keyless, _invoice(2)])
    assert _ids(powerbi_sandbox) == ["1", "2"]
    reasons = {letter.stream: letter.reason for letter in pending_letters(powerbi_config)}
    assert "before a SCHEMA message" in reasons["vendors"]
    assert "key property id" in reasons["invoices"]


def test_an_unreadable_timestamp_is_set_aside_naming_the_field(powerbi_sandbox, powerbi_config):
    with pytest.raises(RecordsSetAside):
        run_target(powerbi_config, [schema_message("invoices"), _invoice(1), _invoice(2, updated_at="yesterday")])
    assert _ids(powerbi_sandbox) == ["1"]
    (letter,) = pending_letters(powerbi_config)
    assert "updated_at" in letter.reason and '"yesterday"' in letter.line
