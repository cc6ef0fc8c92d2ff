"""The harness itself: it passes a target that keeps the contract and fails one that does not
(a stand-in target, ``contract_stub_target.py``, on the NaN/Infinity case)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from .destinations import Destination
from .expectations import load_case
from .harness import check_case


class StubDestination(Destination):
    name = "stub"

    def __init__(self, workdir: Path, **settings: Any) -> None:
        self.path = workdir / "destination.json"
        self.settings = settings

    def command(self) -> list[str]:
        return [sys.executable, str(Path(__file__).with_name("contract_stub_target.py"))]

    def config(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.settings}

    def read(self, stream: str, key_properties: list[str]) -> list[dict[str, Any]] | None:
        if not self.path.exists():
            return None
        stored = json.loads(self.path.read_text(), parse_float=Decimal, parse_constant=Decimal)
        return list(stored["rows"].get(stream, {}).values())


def test_a_target_keeping_the_contract_passes(tmp_path: Path) -> None:
    assert check_case(load_case("qb_nan_infinity"), StubDestination(tmp_path), tmp_path) == []


def test_loading_null_in_place_of_nan_on_replay_is_caught(tmp_path: Path) -> None:
    problems = check_case(load_case("qb_nan_infinity"),
                          StubDestination(tmp_path, load_null_on_replay=True), tmp_path)
    assert any("destination changed on a replay" in p for p in problems), problems
