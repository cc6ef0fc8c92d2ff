"""One realm (company): its generated data, the API operations on it, and the control handle."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from . import clock, jsonfmt
from .batch import BatchThrottle
from .catalog import BY_URL_NAME, CDC_ENTITIES, CDC_REFUSED
from .errors import QBOFault, not_found
from .generator import CompanyGenerator
from .ledger import ItemAccounts, LedgerContext
from .limits import RealmStats, Throttle
from .query_grammar import parse_query
from .query_names import canonicalize
from .query_sql import build
from .reports import ReportBuilder
from .store import RealmStore
from .xsd_shape import schema

CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000
# Bump when generated data changes shape, so stale company files in a data_dir are rebuilt.
GENERATOR_VERSION = 1


@dataclass
class RealmSpec:
    """A company to generate. `end` is the newest generated timestamp (default: start - 1 min)."""

    realm_id: str
    seed: int = 42
    transactions: int = 200
    company_name: str | None = None
    timezone: str = "America/Los_Angeles"
    end: datetime | None = None
    days: int = 365
    rate_limit_per_minute: int = 500
    max_concurrent: int = 10
    multicurrency: bool = True


class Realm:
    def __init__(self, spec: RealmSpec, data_dir: Path) -> None:
        self.spec = spec
        self.realm_id = spec.realm_id
        self.tz = ZoneInfo(spec.timezone)
        self.store = RealmStore(data_dir / f"qbo-{spec.realm_id}.sqlite")
        self.throttle = Throttle(spec.rate_limit_per_minute, spec.max_concurrent)
        self.batch_throttle = BatchThrottle()
        self.stats = RealmStats()
        self.generation_seconds = 0.0
        self._clock_lock = threading.Lock()
        self._last_s = 0
        self.known_properties: dict[str, set[str]] = {}

    # generation --------------------------------------------------------------------------------
    def fingerprint(self) -> str:
        spec = self.spec
        return json.dumps({
            "generator": GENERATOR_VERSION, "seed": spec.seed, "transactions": spec.transactions,
            "company_name": spec.company_name, "timezone": spec.timezone, "days": spec.days,
            "end": spec.end.isoformat() if spec.end else None, "multicurrency": spec.multicurrency,
        }, sort_keys=True)

    def generate(self) -> dict[str, int]:
        """Generate the company, or reuse the file in data_dir when it holds the same spec's company
        (with whatever mutations were made to it since)."""
        fingerprint = self.fingerprint()
        if self.store.count("CompanyInfo"):
            if self.store.get_meta("spec") == fingerprint:
                self._last_s = self.store.max_updated()
                return {}
            self.store.recreate()
        end = self.spec.end or (datetime.now(self.tz) - timedelta(minutes=1))
        started = time.perf_counter()
        result = CompanyGenerator(
            self.store, realm_id=self.realm_id, seed=self.spec.seed, transactions=self.spec.transactions,
            tz=self.tz, end=end, days=self.spec.days,
            company_name=self.spec.company_name or f"Sandbox Company {self.realm_id[-4:]}",
            multicurrency=self.spec.multicurrency,
        ).run()
        self.generation_seconds = time.perf_counter() - started
        self._last_s = self.store.max_updated()
        self.store.set_meta("spec", fingerprint)
        return result.counts

    def now_s(self) -> int:
        """Mutation timestamps never go backwards, even when the test pins `end` in the future."""
        with self._clock_lock:
            self._last_s = max(int(time.time()), self._last_s)
            return self._last_s

    def server_time(self) -> str:
        return clock.server_time(self.tz)

    def properties(self, entity: str) -> set[str]:
        if entity not in self.known_properties:
            self.known_properties[entity] = schema().property_names(entity)
        return self.known_properties[entity]

    # API operations ----------------------------------------------------------------------------
    def query(self, text: str) -> str:
        return f'{{"QueryResponse":{self.query_response(text)},"time":"{self.server_time()}"}}'

    def query_response(self, text: str) -> str:
        """The ``QueryResponse`` object of a query, as JSON text (also a batch item's answer)."""
        parsed = canonicalize(parse_query(text), self.properties)
        sql = build(parsed, self.properties(parsed.entity), self.tz)
        rows = self.store.execute(sql.sql, sql.params)
        if parsed.count:
            return jsonfmt.dumps({"totalCount": rows[0][0]})
        if not rows:
            return "{}"
        payloads = [r[0] for r in rows]
        if parsed.fields:
            payloads = [_project(p, parsed.fields) for p in payloads]
        # Stored payloads are already JSON text: splice them in rather than parse and re-encode.
        return (
            f'{{"{parsed.entity}":[{",".join(payloads)}],'
            f'"startPosition":{parsed.start_position},"maxResults":{len(payloads)}}}'
        )

    def read(self, entity: str, obj_id: str) -> str:
        if entity in ("CompanyInfo", "Preferences"):
            obj_id = "1"
        if not obj_id.isdigit():
            raise not_found(entity, obj_id)
        text = self.store.get_text(entity, int(obj_id))
        if text is None:
            raise not_found(entity, obj_id)
        return f'{{"{entity}":{text},"time":"{self.server_time()}"}}'

    def cdc(self, entities_param: str, changed_since: str) -> str:
        requested = [e.strip() for e in entities_param.split(",") if e.strip()]
        if not requested:
            raise QBOFault(400, "4001", "Invalid query", "QueryValidationError: entities parameter is required")
        names: list[str] = []
        refused: list[str] = []
        for name in requested:
            entity = BY_URL_NAME.get(name.lower())
            if entity is None and name.lower() not in {r.lower() for r in CDC_REFUSED}:
                raise QBOFault(400, "4001", "Invalid query", f"QueryValidationError: Invalid entity: {name}")
            if entity is None or entity not in CDC_ENTITIES:
                refused.append(name)
            elif entity not in names:
                names.append(entity)
        if not changed_since:
            raise QBOFault(400, "4001", "Invalid query", "QueryValidationError: changedSince parameter is required")
        try:
            since = clock.to_epoch(clock.parse_instant(changed_since, self.tz))
        except ValueError:
            raise QBOFault(400, "4001", "Invalid query", f"QueryValidationError: Invalid changedSince value {changed_since}") from None
        if since < int(time.time()) - CDC_MAX_DAYS * 86400:
            raise QBOFault(400, "4001", "Invalid query",
                           f"Operation cdc with changedSince date {changed_since} which is older than fixed days is not supported.")
        parts = self._cdc_query_responses(names, since) if names else []
        # CDCResponse holds QueryResponse or Fault (IntuitRestServiceDef.xsd): an entity CDC does not
        # serve is answered with its own Fault beside the others' results, not by failing them all.
        blocks = [f'{{"QueryResponse":[{",".join(parts)}]}}'] if names else []
        for name in refused:
            fault = QBOFault(400, "4001", "Invalid query",
                             f"QueryValidationError: Entity {name} is not supported for ChangeDataCapture operation",
                             element=name)
            blocks.append(f'{{"Fault":{jsonfmt.dumps(fault.body("")["Fault"])}}}')
        return f'{{"CDCResponse":[{",".join(blocks)}],"time":"{self.server_time()}"}}'

    def _cdc_query_responses(self, names: list[str], since: int) -> list[str]:
        # Intuit: "Objects are grouped by type and then in order of last updated time within the
        # group. Objects deleted within the look-back period are returned after active objects."
        # At most 1,000 in all: the cut can fall inside any group, and later groups come back empty.
        order = " ".join("WHEN ? THEN " + str(i) for i in range(len(names)))
        placeholders = ",".join("?" * len(names))
        # Only "?" placeholders and integers are interpolated; entity names travel as parameters.
        rows = self.store.execute(
            f"SELECT entity, payload FROM objects WHERE entity IN ({placeholders}) AND updated_s >= ? "  # noqa: S608
            f"ORDER BY CASE entity {order} END, deleted, updated_s, id LIMIT ?",
            (*names, since, *names, CDC_MAX_OBJECTS),
        )
        grouped: dict[str, list[str]] = {name: [] for name in names}
        for entity, payload in rows:
            grouped[entity].append(payload)
        parts = []
        for name in names:
            found = grouped[name]
            if found:
                parts.append(f'{{"{name}":[{",".join(found)}],"startPosition":1,"maxResults":{len(found)}}}')
            else:
                parts.append("{}")
        return parts

    def report(self, name: str, params: dict[str, str]) -> str:
        today = datetime.now(self.tz).date()
        return jsonfmt.dumps(ReportBuilder(self.store, today, self.server_time()).build(name, params))

    # ledger context for mutations ------------------------------------------------------------
    def ledger_context(self) -> LedgerContext:
        accounts = self.store.execute(
            "SELECT id, json_extract(payload, '$.AccountSubType'), json_extract(payload, '$.CurrencyRef.value'), "
            "json_extract(payload, '$.AccountType') FROM objects WHERE entity = 'Account'"
        )
        by_sub: dict[tuple[str, str], int] = {}
        for aid, sub, currency, _ in accounts:
            by_sub.setdefault((sub, currency or "USD"), aid)

        def item_accounts(item_id: int) -> ItemAccounts | None:
            item = self.store.get("Item", item_id)
            if item is None:
                return None

            def ref_id(key: str) -> int | None:
                return int(item[key]["value"]) if key in item else None

            return ItemAccounts(ref_id("IncomeAccountRef"), ref_id("ExpenseAccountRef"), ref_id("AssetAccountRef"),
                                Decimal(str(item.get("PurchaseCost", 0))) if "AssetAccountRef" in item else Decimal(0))

        return LedgerContext(
            item_accounts=item_accounts,
            ar_account=lambda cur: by_sub.get(("AccountsReceivable", cur), by_sub[("AccountsReceivable", "USD")]),
            ap_account=lambda cur: by_sub.get(("AccountsPayable", cur), by_sub[("AccountsPayable", "USD")]),
            undeposited_funds=by_sub[("UndepositedFunds", "USD")],
            cogs=by_sub[("SuppliesMaterialsCogs", "USD")],
            inventory_asset=by_sub[("Inventory", "USD")],
        )


def _project(payload: str, fields: list[str]) -> str:
    obj = jsonfmt.loads(payload)
    keep = {"Id", "SyncToken", "MetaData", "domain"} | {f.split(".")[0] for f in fields}
    out = {k: v for k, v in obj.items() if k in keep}
    out["sparse"] = True
    return jsonfmt.dumps(out)
