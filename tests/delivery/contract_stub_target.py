"""A stand-in target that keeps the delivery contract for records whose numbers are NaN or
Infinity, and nothing else: the harness's own check (``test_harness.py``) that it passes a
target keeping the contract and catches one that loads NULL on replay.

Its "destination" is one JSON file (``path`` in its config): rows by stream and key, and the
dead letters beside them. ``load_null_on_replay: true`` makes it break the contract.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson


def _parse(line: str) -> Any:
    return json.loads(line, parse_float=Decimal, parse_constant=Decimal)


def _holdable(record: dict[str, Any]) -> bool:
    return all(not isinstance(v, Decimal) or v.is_finite() for v in record.values())


def _store(record: dict[str, Any], keys: list[str], stream: str, data: dict[str, Any]) -> None:
    key = json.dumps([str(record.get(k)) for k in keys])
    data["rows"].setdefault(stream, {})[key] = record


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[argv.index("--config") + 1]).read_text())
    path = Path(config["path"])
    data = _parse(path.read_text()) if path.exists() else {"rows": {}, "letters": [], "keys": {}}
    try:
        if argv[:1] == ["replay"]:
            return _replay(argv, config, data)
        return _run(data)
    finally:
        path.write_text(simplejson.dumps(data, use_decimal=True, ignore_nan=False))


def _run(data: dict[str, Any]) -> int:
    state, set_aside = None, 0
    for raw in sys.stdin.read().splitlines():
        message = _parse(raw)
        if message["type"] == "SCHEMA":
            data["keys"][message["stream"]] = message["key_properties"]
        elif message["type"] == "STATE":
            state = message["value"]
        elif _holdable(message["record"]):
            _store(message["record"], data["keys"][message["stream"]], message["stream"], data)
        else:
            set_aside += 1
            record, keys = message["record"], data["keys"][message["stream"]]
            data["letters"].append({"id": len(data["letters"]) + 1, "stream": message["stream"],
                                    "key": {k: record.get(k) for k in keys}, "reason": "NaN",
                                    "attempts": 1, "created_at": "2026-11-20T10:00:00+00:00",
                                    "line": raw, "status": "pending"})
    print(json.dumps(state))
    if set_aside:
        print(f"{set_aside} records set aside, run `contract-stub replay --list`", file=sys.stderr)
    return 1 if set_aside else 0


def _replay(argv: list[str], config: dict[str, Any], data: dict[str, Any]) -> int:
    pending = [x for x in data["letters"] if x["status"] == "pending"]
    if "--list" in argv:
        for letter in pending:
            print(simplejson.dumps({k: v for k, v in letter.items() if k != "status"}, use_decimal=True))
        return 0
    chosen = {argv[n + 1] for n, arg in enumerate(argv) if arg == "--id"}
    for letter in pending:
        if str(letter["id"]) not in chosen:
            continue
        letter["attempts"] += 1
        if config.get("load_null_on_replay"):
            record = {k: (None if isinstance(v, Decimal) and not v.is_finite() else v)
                      for k, v in _parse(letter["line"])["record"].items()}
            _store(record, data["keys"][letter["stream"]], letter["stream"], data)
    return 1 if pending else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
