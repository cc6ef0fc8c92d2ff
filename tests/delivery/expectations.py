"""The cases and what a user should find after each: loading, per-destination outcomes, and
comparing a value read back from a destination with the expected one.

Expectation files (``cases/<case>.json``) are read with ``Decimal`` for every number, so an
amount is compared digit for digit, never through float.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parent / "cases"
SDK_PREFIX = "singer_sdk:"


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES_DIR.glob("*.json"))


def parse_line(text: str) -> Any:
    """A Singer line as the target should read it (Decimal numbers), or None if it is not JSON.

    NaN and Infinity parse (as Decimal) so that a hostile line still names its stream and key.
    """
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except ValueError:
        return None


def _input_bytes(source: str) -> bytes:
    if source.startswith(SDK_PREFIX):
        # The SDK's own target test streams, read from the installed singer-sdk, not copied.
        streams = importlib.resources.files("singer_sdk.testing") / "target_test_streams"
        return (streams / source.removeprefix(SDK_PREFIX)).read_bytes()
    return (CASES_DIR / source).read_bytes()


@dataclass
class Case:
    name: str
    expectation: dict[str, Any]
    runs: list[bytes]  # one target run per input file, in order
    key_properties: dict[str, list[str]] = field(default_factory=dict)
    records: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = field(default_factory=dict)

    def lines(self, run: int = -1) -> list[bytes]:
        return self.runs[run].split(b"\n")

    def line(self, number: int) -> bytes:
        """Line ``number`` (1-based) of the last run's input, without its newline."""
        return self.lines()[number - 1].rstrip(b"\r")

    def key_of(self, stream: str, values: dict[str, Any]) -> tuple[str, ...]:
        return tuple(key_text(values.get(k)) for k in self.key_properties.get(stream, []))

    def last_state(self, run: int) -> Any:
        states = [m for m in (parse_line(x.decode("utf-8", "replace")) for x in self.lines(run))
                  if isinstance(m, dict) and m.get("type") == "STATE"]
        return states[-1]["value"] if states else None


def key_text(value: Any) -> str:
    return "" if value is None else str(value)


def load_case(name: str) -> Case:
    expectation = json.loads((CASES_DIR / f"{name}.json").read_text(encoding="utf-8"),
                             parse_float=Decimal)
    sources = expectation.get("input", f"{name}.singer")
    runs = [_input_bytes(s) for s in ([sources] if isinstance(sources, str) else sources)]
    case = Case(name, expectation, runs)
    for run in runs:
        for raw in run.split(b"\n"):
            message = parse_line(raw.decode("utf-8", "replace"))
            if not isinstance(message, dict):
                continue
            if message.get("type") == "SCHEMA":
                case.key_properties[message["stream"]] = list(message.get("key_properties") or [])
            elif message.get("type") == "RECORD" and message.get("stream") in case.key_properties:
                stream = message["stream"]
                case.records[(stream, case.key_of(stream, message["record"]))] = message["record"]
    return case


def for_destination(case: Case, destination: str) -> dict[str, Any]:
    """The expectation as it stands for one destination.

    An override may replace ``set_aside`` or a stream's ``lands`` outright, or list records in
    ``also_set_aside``: the destination cannot hold them, so they are set aside there, the run
    exits 1, and their rows are not expected to land.
    """
    merged = copy.deepcopy(case.expectation)
    override = merged.pop("destinations", {}).get(destination, {})
    if "set_aside" in override:
        merged["set_aside"] = override["set_aside"]
    for stream, rows in override.get("lands", {}).items():
        merged["lands"][stream] = rows
    extra = override.get("also_set_aside", [])
    merged["set_aside"] = merged.get("set_aside", []) + extra
    for entry in extra:
        stream, key = entry["stream"], tuple(entry["key"][k] for k in case.key_properties[entry["stream"]])
        merged["lands"][stream] = [r for r in merged["lands"].get(stream, [])
                                   if case.key_of(stream, r) != key]
    if merged["set_aside"]:
        merged["exit_status"] = 1
    return merged


# --- values ----------------------------------------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and _DATETIME.match(value):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    # A timestamp read back without an offset is UTC (how every target here stores instants).
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool | float):
        return None  # a float is not an exact amount, whatever it prints as
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def matches(expected: Any, actual: Any) -> bool:
    """Whether a value read back from a destination is the expected one, as a user reads it:
    the same number exactly, the same instant (whatever the offset), the same date, text,
    flag, object or array (a destination may hold those as JSON text)."""
    if isinstance(expected, dict) and expected.get("is_set") is True and len(expected) == 1:
        return actual is not None and actual != ""
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, int | Decimal):
        number = _number(actual)
        return number is not None and number == Decimal(expected)
    if isinstance(expected, str):
        if _DATE.match(expected):
            if isinstance(actual, dt.datetime):
                return actual.date().isoformat() == expected
            if isinstance(actual, dt.date):
                return actual.isoformat() == expected
            return isinstance(actual, str) and actual[:10] == expected
        if _DATETIME.match(expected):
            return _instant(expected) == _instant(actual)
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, dict | list) and isinstance(actual, str):
        actual = parse_line(actual)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and set(expected) == set(actual) and all(
            matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            matches(e, a) for e, a in zip(expected, actual, strict=True))
    return bool(expected == actual)


def describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + f"... ({len(text)} chars)"
