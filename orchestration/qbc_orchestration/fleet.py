"""The fleet file (companies.yml): sources, their companies, cadence and limits."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FLEET_FILE = Path(__file__).resolve().parents[1] / "companies.yml"
# Dagster partition keys and Meltano state-id suffixes both accept these.
_COMPANY_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


class FleetError(ValueError):
    """The fleet file cannot drive the project; the message names the entry and the fix."""


@dataclass(frozen=True)
class Source:
    name: str
    extractor: str
    loader: str
    company_setting: str
    companies: tuple[str, ...]
    cron: str
    max_concurrent: int
    retries: int
    fresh_within_minutes: int
    env: dict[str, str] = field(default_factory=dict)

    def company_env(self, company: str) -> dict[str, str]:
        """Meltano setting variables for one company's run."""
        setting = f"{self.extractor}_{self.company_setting}".upper().replace("-", "_")
        values = {name: value.replace("{company}", company) for name, value in self.env.items()}
        values[setting] = company
        return values


@dataclass(frozen=True)
class Fleet:
    meltano_project: Path
    environment: str
    sources: tuple[Source, ...]


def _source(name: str, raw: dict[str, Any], where: Path) -> Source:
    required = ("extractor", "loader", "company_setting", "companies", "cron", "max_concurrent")
    missing = [key for key in required if not raw.get(key)]
    if missing:
        raise FleetError(f"{where}: source {name!r} lacks {', '.join(missing)}; add them to its entry")
    companies = tuple(str(c) for c in raw["companies"])
    bad = [c for c in companies if not _COMPANY_KEY.match(c)]
    if bad or len(set(companies)) != len(companies):
        raise FleetError(f"{where}: source {name!r} companies must be unique keys of letters, digits, "
                         f"'.', '_' or '-' (got {bad or 'duplicates'}); fix the list")
    return Source(
        name=name, extractor=str(raw["extractor"]), loader=str(raw["loader"]),
        company_setting=str(raw["company_setting"]), companies=companies, cron=str(raw["cron"]),
        max_concurrent=int(raw["max_concurrent"]), retries=int(raw.get("retries", 3)),
        fresh_within_minutes=int(raw.get("fresh_within_minutes", 120)),
        env={str(k): str(v) for k, v in (raw.get("env") or {}).items()},
    )


def load_fleet(path: str | Path | None = None) -> Fleet:
    where = Path(path or os.environ.get("QBC_FLEET_FILE") or DEFAULT_FLEET_FILE).resolve()
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise FleetError(f"no fleet file at {where}: create it (see orchestration/companies.yml) "
                         "or point QBC_FLEET_FILE at one") from None
    sources = tuple(_source(name, entry or {}, where) for name, entry in (raw.get("sources") or {}).items())
    if not sources:
        raise FleetError(f"{where} lists no sources; add at least one under `sources:`")
    return Fleet(
        meltano_project=(where.parent / str(raw.get("meltano_project", ".."))).resolve(),
        environment=str(raw.get("environment", "dev")),
        sources=sources,
    )
