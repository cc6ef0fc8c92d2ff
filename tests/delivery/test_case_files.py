"""Fast checks of the case files themselves (no target runs): each case has its expectation,
the QuickBooks-shaped cases are what make_cases.py writes from the taps' schemas, and every
expected set-aside record points at a real input line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import discover
from . import make_cases
from .expectations import CASES_DIR, case_names, for_destination, load_case, parse_line

DESTINATIONS = ["duckdb", "postgres", "databricks", "powerbi", "salesforce"]


def test_every_singer_file_has_an_expectation() -> None:
    singer = {p.stem for p in CASES_DIR.glob("*.singer")}
    assert singer <= set(case_names()), f"cases without an expectation: {sorted(singer - set(case_names()))}"


@pytest.mark.parametrize("name", sorted(make_cases.CASES))
def test_committed_case_is_what_make_cases_writes(name: str) -> None:
    committed = (CASES_DIR / f"{name}.singer").read_text(encoding="utf-8")
    assert committed == make_cases.render(name), (
        f"{name}.singer differs from make_cases.py: run `python -m tests.delivery.make_cases`")


def test_quickbooks_cases_use_the_schemas_the_tap_emits(tmp_path: Path) -> None:
    catalog = {s["tap_stream_id"]: s for s in discover("tap-quickbooks-online", tmp_path)["streams"]}
    for name in make_cases.CASES:
        first_seen: set[str] = set()
        for line in (CASES_DIR / f"{name}.singer").read_text(encoding="utf-8").splitlines():
            message = parse_line(line)
            if not isinstance(message, dict) or message.get("type") != "SCHEMA":
                continue
            stream = message["stream"]
            if stream not in catalog or stream in first_seen:
                continue  # a made-up stream, or a deliberate schema change later in the case
            first_seen.add(stream)
            if name == "qb_multiple_of":
                continue  # the tap's schema plus multipleOf, on purpose
            assert message["schema"] == catalog[stream]["schema"], f"{name}: {stream} schema"
            assert message["key_properties"] == catalog[stream]["key_properties"], f"{name}: {stream} key"


@pytest.mark.parametrize("name", case_names())
def test_expected_set_aside_records_are_input_lines(name: str) -> None:
    case = load_case(name)
    for destination in DESTINATIONS:
        expectation = for_destination(case, destination)
        assert expectation["exit_status"] == (1 if expectation["set_aside"] else 0), destination
        for entry in expectation["set_aside"]:
            message = parse_line(case.line(entry["line"]).decode("utf-8"))
            if "stream" in entry:
                assert isinstance(message, dict) and message.get("stream") == entry["stream"], (
                    f"{destination}: line {entry['line']} is not a {entry['stream']} record")
            if "key" in entry:
                assert isinstance(message, dict)
                assert case.key_of(entry["stream"], message["record"]) == case.key_of(
                    entry["stream"], entry["key"]), f"{destination}: line {entry['line']} key"
