"""Runs one case against one destination the way Meltano runs a target, and lists every way
the outcome differs from the case's expectation.

1. ``<target> --config cfg.json < case.singer`` (one run per input file): exit status, the
   last STATE emitted, and, when records were set aside, a last word that says how to see them;
2. ``<target> replay --list --config cfg.json``: one pending letter per record set aside, its
   ``line`` byte for byte the input line, with its stream and key;
3. what the destination holds, stream by stream, key by key;
4. ``<target> replay --config cfg.json --id N --id M`` of the letters no replay can fix: exit 1,
   still pending, one more attempt, and the destination unchanged (no NULL in place of NaN).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .destinations import Destination, find_name
from .expectations import Case, describe, for_destination, key_text, matches, parse_line

RUN_TIMEOUT_SECONDS = 600


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def tail(self, lines: int = 12) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])


def run(destination: Destination, args: list[str], config: Path, stdin: bytes = b"") -> Run:
    done = subprocess.run([*destination.command(), *args, "--config", str(config)],
                          input=stdin, capture_output=True, timeout=RUN_TIMEOUT_SECONDS, check=False)
    return Run(done.returncode, done.stdout.decode("utf-8", "replace"),
               done.stderr.decode("utf-8", "replace"))


def emitted_states(stdout: str) -> list[Any]:
    """The state values a target wrote to stdout (a target writes the value alone, one a line,
    for Meltano to save as the bookmark)."""
    values = (parse_line(line) for line in stdout.splitlines() if line.strip())
    return [v for v in values if isinstance(v, dict)]


def list_letters(destination: Destination, config: Path, problems: list[str]) -> list[dict[str, Any]]:
    listed = run(destination, ["replay", "--list"], config)
    if listed.returncode != 0:
        problems.append(f"`replay --list` exited {listed.returncode}:\n{listed.tail()}")
        return []
    letters = [parse_line(line) for line in listed.stdout.splitlines() if line.strip()]
    if not all(isinstance(x, dict) for x in letters):
        problems.append(f"`replay --list` printed lines that are not JSON objects:\n{listed.stdout[:600]}")
        return []
    return letters


def letter_key(case: Case, letter: dict[str, Any]) -> dict[str, str] | None:
    key = letter.get("key")
    if isinstance(key, str):
        key = parse_line(key)
    if isinstance(key, list):
        key = dict(zip(case.key_properties.get(letter.get("stream") or "", []), key, strict=False))
    return {k: key_text(v) for k, v in key.items()} if isinstance(key, dict) else None


def check_letters(case: Case, expected: list[dict[str, Any]], letters: list[dict[str, Any]],
                  problems: list[str]) -> dict[int, dict[str, Any]]:
    """Match each expected set-aside record to its letter; return them by input line number."""
    found: dict[int, dict[str, Any]] = {}
    for entry in expected:
        line = case.line(entry["line"])
        same = [x for x in letters if str(x.get("line", "")).rstrip("\n").encode("utf-8") == line]
        if not same:
            problems.append(f"input line {entry['line']} ({describe(line.decode('utf-8', 'replace'))}) "
                            "is not among the letters `replay --list` shows, byte for byte")
            continue
        letter = found[entry["line"]] = same[0]
        if "stream" in entry and letter.get("stream") != entry["stream"]:
            problems.append(f"line {entry['line']}: letter stream {letter.get('stream')!r}, "
                            f"expected {entry['stream']!r}")
        if "key" in entry and letter_key(case, letter) != {k: str(v) for k, v in entry["key"].items()}:
            problems.append(f"line {entry['line']}: letter key {letter.get('key')!r}, expected {entry['key']!r}")
        if not letter.get("reason"):
            problems.append(f"line {entry['line']}: letter has no reason")
    if len(letters) != len(expected):
        shown = [{k: v for k, v in x.items() if k != "line"} for x in letters]
        problems.append(f"{len(letters)} letters pending, expected {len(expected)}: "
                        f"{repr(shown)[:400]}")
    return found


def check_rows(case: Case, destination: Destination, stream: str, expected: list[dict[str, Any]],
               problems: list[str]) -> None:
    if not destination.holds_stream(stream):
        return
    keys = case.key_properties.get(stream, [])
    rows = destination.read(stream, keys) or []
    if not keys:
        _check_unkeyed(case, destination, stream, expected, rows, problems)
        return
    by_key: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_key.setdefault(tuple(key_text(row.get(find_name(list(row), k) or k)) for k in keys), []).append(row)
    wanted = {case.key_of(stream, r): r for r in expected}
    for key, expected_row in wanted.items():
        found = by_key.get(key, [])
        if len(found) != 1:
            problems.append(f"{stream} {dict(zip(keys, key, strict=True))}: {len(found)} rows, expected 1")
            continue
        _check_values(case, destination, stream, key, expected_row, found[0], problems)
    extra = sorted(set(by_key) - set(wanted))
    if extra:
        problems.append(f"{stream}: rows that should not be there, keys {extra}")


def _check_unkeyed(case: Case, destination: Destination, stream: str, expected: list[dict[str, Any]],
                   rows: list[dict[str, Any]], problems: list[str]) -> None:
    left = list(rows)
    for expected_row in expected:
        for row in left:
            scratch: list[str] = []
            _check_values(case, destination, stream, (), expected_row, row, scratch)
            if not scratch:
                left.remove(row)
                break
        else:
            problems.append(f"{stream}: no row matches {describe(expected_row)}")
    if left:
        problems.append(f"{stream}: {len(left)} rows more than expected")


def _check_values(case: Case, destination: Destination, stream: str, key: tuple[str, ...],
                  expected_row: dict[str, Any], row: dict[str, Any], problems: list[str]) -> None:
    where = f"{stream} {key}" if key else stream
    for prop, value in expected_row.items():
        if not destination.holds_property(stream, prop):
            continue
        if isinstance(value, dict) and value.get("same_as_input"):
            value = case.records.get((stream, key), {}).get(prop)
        column = find_name(list(row), prop)
        if column is None and isinstance(value, dict):
            # Power BI flattens an object one level: billing_address -> billing_address_city.
            prefix = (find_name([prop], prop) or prop) + "_"
            flat = {c[len(prefix):]: v for c, v in row.items() if c.startswith(prefix)}
            if flat and all(matches(v, flat.get(k)) for k, v in value.items()):
                continue
        if column is None:
            problems.append(f"{where}: no column for {prop!r} (columns: {sorted(row)[:40]})")
        elif not matches(value, row[column]):
            problems.append(f"{where}.{prop}: {describe(row[column])}, expected {describe(value)}")


def snapshot(case: Case, destination: Destination, streams: list[str]) -> str:
    rows = {s: destination.read(s, case.key_properties.get(s, [])) for s in streams
            if destination.holds_stream(s)}
    return json.dumps({s: sorted(json.dumps(r, sort_keys=True, default=str) for r in (v or []))
                       for s, v in rows.items()}, sort_keys=True)


def check_case(case: Case, destination: Destination, workdir: Path) -> list[str]:
    """Every difference between what the case expects and what happened, as sentences."""
    expectation = for_destination(case, destination.name)
    problems: list[str] = []
    config = workdir / "config.json"
    config.write_text(json.dumps({**destination.config(), **expectation.get("config", {})}))

    for number, stdin in enumerate(case.runs):
        outcome = run(destination, [], config, stdin)
        if outcome.returncode != expectation["exit_status"]:
            problems.append(f"run {number + 1}: exit status {outcome.returncode}, expected "
                            f"{expectation['exit_status']}; last lines of stderr:\n{outcome.tail()}")
        last_state = case.last_state(number)
        # An empty state is no bookmark: there is nothing for Meltano to save, emitted or not.
        if last_state and outcome.returncode in (0, 1):
            states = emitted_states(outcome.stdout)
            if not states or states[-1] != last_state:
                problems.append(f"run {number + 1}: last STATE emitted {describe(states[-1:])}, "
                                f"expected the input's last {describe(last_state)}")
        if expectation["set_aside"] and "replay --list" not in outcome.stderr:
            problems.append(f"run {number + 1}: records were set aside but the run's output never "
                            f"says to run `replay --list`:\n{outcome.tail(4)}")

    letters = list_letters(destination, config, problems)
    found = check_letters(case, expectation["set_aside"], letters, problems)
    for stream, rows in expectation["lands"].items():
        check_rows(case, destination, stream, rows, problems)

    unfixable = [found[e["line"]] for e in expectation["set_aside"]
                 if e.get("unfixable") and e["line"] in found]
    if unfixable and not problems:
        _check_replay_leaves_unfixable_pending(case, destination, config, unfixable,
                                               list(expectation["lands"]), problems)
    return problems


def _check_replay_leaves_unfixable_pending(case: Case, destination: Destination, config: Path,
                                           letters: list[dict[str, Any]], streams: list[str],
                                           problems: list[str]) -> None:
    before = snapshot(case, destination, streams)
    ids = [arg for x in letters for arg in ("--id", str(x["id"]))]  # --id is repeatable
    replayed = run(destination, ["replay", *ids], config)
    if replayed.returncode != 1:
        problems.append(f"`replay {' '.join(ids)}` of letters no replay can fix exited "
                        f"{replayed.returncode}, expected 1:\n{replayed.tail()}")
    after = {str(x.get("id")): x for x in list_letters(destination, config, problems)}
    for letter in letters:
        again = after.get(str(letter["id"]))
        if again is None:
            problems.append(f"letter {letter['id']} ({letter.get('stream')}) is no longer pending after "
                            "a replay that could not have fixed it")
        elif int(again.get("attempts") or 0) <= int(letter.get("attempts") or 0):
            problems.append(f"letter {letter['id']}: attempts {again.get('attempts')} after a replay, "
                            f"was {letter.get('attempts')}")
        elif again.get("line") != letter.get("line"):
            problems.append(f"letter {letter['id']}: its line changed on replay")
    if snapshot(case, destination, streams) != before:
        problems.append("the destination changed on a replay of letters no replay can fix "
                        "(something was loaded in their place)")
