"""QuickBooksCompany: a company file plus QuickBooks' request processor, and its control handle."""

from __future__ import annotations

import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any

from sandboxes import require

from .company_clock import parse_offset
from .company_generator import populate
from .company_kinds import family_of
from .company_session import CompanySession
from .company_store import CompanyStore, NewObject, StoredObject
from .qbxml_processor import SUPPORTED_VERSIONS, RequestProcessor, describe
from .qbxml_schema import XSD_DIR_ENV, XSD_FILES, child_order
from .qbxml_statuses import Status


class QuickBooksCompany:
    """A QuickBooks Desktop company file that answers qbXML as QuickBooks 2023 (qbXML 13.0) does."""

    def __init__(self, store: CompanyStore, tz: str) -> None:
        if not os.environ.get(XSD_DIR_ENV):
            # Every request and answer is checked against qbXML 13.0: without it, refuse to open.
            require(*XSD_FILES)
        self.store = store
        self.tz_text = tz
        self.tz: timezone = parse_offset(tz)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.qbxml_versions: tuple[str, ...] = SUPPORTED_VERSIONS
        self.processor = RequestProcessor(self)
        self.control = CompanyControl(self)
        self.status_counts: Counter[tuple[str, int]] = Counter()
        self._sessions_lock = threading.Lock()
        self._sessions: dict[str, CompanySession] = {}

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def generate(cls, seed: int = 42, transactions: int = 1000, path: str | Path | None = None,
                 tz: str = "-05:00") -> QuickBooksCompany:
        """Build a new company file (a fresh temporary directory when no path is given)."""
        path = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="qb-company-")) / "company.sqlite"
        if path.exists():
            raise FileExistsError(f"{path} already exists; use QuickBooksCompany.open() to reuse it")
        store = CompanyStore(path)
        populate(store, seed, transactions, parse_offset(tz))
        store.set_meta({"tz": tz})
        return cls(store, tz)

    @classmethod
    def open(cls, path: str | Path, tz: str | None = None) -> QuickBooksCompany:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no company file at {path}")
        store = CompanyStore(Path(path))
        return cls(store, tz or store.get_meta("tz", "-05:00") or "-05:00")

    def close(self) -> None:
        self.store.close()

    # -- identity ---------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return int(self.store.get_meta("seed", "0") or 0)

    @property
    def company_name(self) -> str:
        return self.store.get_meta("company_name", "Sandbox Company") or "Sandbox Company"

    @property
    def company_file(self) -> str:
        return rf"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\sandbox-{self.seed}.qbw"

    def count(self, family_or_kind: str, *, include_inactive: bool = True) -> int:
        family = family_of(family_or_kind)
        where = "family=? AND deleted IS NULL"
        params: list[Any] = [family.name]
        if family_or_kind != family.name:
            where += " AND kind=?"
            params.append(family_or_kind)
        if not include_inactive:
            where += " AND is_active=1"
        return self.store.count(where, params)

    # -- sessions (what QBWC's BeginSession/EndSession do) ------------------------------------
    def begin_session(self) -> CompanySession:
        session = CompanySession()
        with self._sessions_lock:
            self._sessions[session.session_id] = session
        return session

    def end_session(self, session: CompanySession) -> None:
        session.open = False
        session.iterators.clear()
        with self._sessions_lock:
            self._sessions.pop(session.session_id, None)

    def answer(self, request_text: str, session: CompanySession | None = None) -> str:
        """QuickBooks' ProcessRequest: qbXML request text -> qbXML response text.

        Without a session the request runs in a throw-away one (its iterators die at once).
        """
        if session is not None:
            return self.processor.answer(request_text, session)
        temporary = self.begin_session()
        try:
            return self.processor.answer(request_text, temporary)
        finally:
            self.end_session(temporary)

    def record_status(self, request_type: str, status: Status) -> None:
        self.status_counts[(request_type, status.code)] += 1

    def now_epoch(self) -> int:
        return int(self.clock().timestamp())


class CompanyControl:
    """Edits made "by a user at the QuickBooks screen" while Web Connector sessions run."""

    def __init__(self, company: QuickBooksCompany) -> None:
        self.company = company

    @property
    def _store(self) -> CompanyStore:
        return self.company.store

    def _stamp(self, previous_modified: int, previous_sequence: str) -> tuple[int, str]:
        # TimeModified has whole seconds; EditSequence must still change on every save.
        now = self.company.now_epoch()
        modified = max(now, previous_modified)
        sequence = max(now, int(previous_sequence) + 1) if previous_sequence.isdigit() else now
        return modified, str(sequence)

    @staticmethod
    def _check_fields(kind: str, fields: dict[str, Any]) -> None:
        # Caught here, a typo names the culprit; caught by response validation it would fail
        # a sync half-way with an XSD message.
        allowed = child_order(f"{kind}Ret")
        unknown = sorted(k for k in fields if k not in allowed)
        if unknown:
            raise ValueError(f"{kind}Ret has no element(s) {', '.join(unknown)} in qbXML 13.0")

    def _live(self, kind: str, qb_id: str) -> StoredObject:
        obj = self._store.get(qb_id)
        family = family_of(kind)
        if obj is None or obj.family != family.name or obj.deleted is not None:
            raise KeyError(f"no live {kind} {qb_id!r} in the company")
        return obj

    def create(self, kind: str, **fields: Any) -> str:
        family = family_of(kind)
        if family.name == "Item" and kind == "Item":
            kind = "ItemService"
        self._check_fields(kind, fields)
        with self._store.lock:
            now = self.company.now_epoch()
            if family.is_list:
                counter = self._store.next_counter("list_counter")
                qb_id = f"{counter:08X}-{now}"
                name = fields.get("FullName") or fields.get("Name") or f"{kind} {counter:X}"
                fields.setdefault("Name", name.split(":")[-1])
                if kind not in ("Vendor", "Employee"):
                    fields.setdefault("FullName", name)
                fields.setdefault("IsActive", True)
                txn_date = None
                entity_id = None
            else:
                counter = self._store.next_counter("txn_counter")
                qb_id = f"{counter:X}-{now}"
                name = fields.setdefault("RefNumber", str(self._store.next_counter("ref_counter")))
                txn_date = fields.setdefault("TxnDate", datetime.fromtimestamp(now, self.company.tz).date().isoformat())
                entity_ref = fields.get("CustomerRef") or fields.get("VendorRef") or fields.get("PayeeEntityRef")
                entity_id = entity_ref.get("ListID") if isinstance(entity_ref, dict) else None
            self._store.insert_many([NewObject(
                kind, family.name, qb_id, name, entity_id, txn_date, bool(fields.get("IsActive", True)),
                now, now, str(now), fields,
            )])
        return qb_id

    def modify(self, kind: str, qb_id: str, **fields: Any) -> dict[str, Any]:
        with self._store.lock:
            obj = self._live(kind, qb_id)
            self._check_fields(obj.kind, fields)
            return describe(self.apply_changes(obj, fields), self.company)

    def apply_changes(self, obj: StoredObject, changes: dict[str, Any]) -> StoredObject:
        with self._store.lock:
            obj.data.update(changes)
            family = family_of(obj.kind)
            if "IsActive" in changes:
                obj.is_active = bool(changes["IsActive"])
            if family.is_list and "Name" in changes:
                parent = (obj.name or "").rsplit(":", 1)[0] + ":" if ":" in (obj.name or "") else ""
                obj.name = parent + str(changes["Name"])
                if "FullName" in obj.data:
                    obj.data["FullName"] = obj.name
            if not family.is_list and "RefNumber" in changes:
                obj.name = str(changes["RefNumber"])
            if not family.is_list and "TxnDate" in changes:
                obj.txn_date = str(changes["TxnDate"])
            obj.modified, obj.edit_sequence = self._stamp(obj.modified, obj.edit_sequence)
            self._store.update(obj)
            return obj

    def deactivate(self, kind: str, qb_id: str) -> dict[str, Any]:
        if not family_of(kind).is_list:
            raise ValueError("only list objects (customers, vendors, items, ...) can be made inactive")
        return self.modify(kind, qb_id, IsActive=False)

    def delete(self, kind: str, qb_id: str) -> dict[str, Any]:
        with self._store.lock:
            obj = self._live(kind, qb_id)
            obj.deleted = self.company.now_epoch()
            self._store.update(obj)
            return describe(obj, self.company)

    def get(self, kind: str, qb_id: str) -> dict[str, Any]:
        obj = self._store.get(qb_id)
        if obj is None or obj.family != family_of(kind).name:
            raise KeyError(f"no {kind} {qb_id!r} in the company")
        return describe(obj, self.company)

    def ids(self, kind: str, *, limit: int = 10, active: bool | None = None) -> list[str]:
        family = family_of(kind)
        where = "family=? AND deleted IS NULL"
        params: list[Any] = [family.name]
        if kind != family.name:
            where += " AND kind=?"
            params.append(kind)
        if active is not None:
            where += " AND is_active=?"
            params.append(int(active))
        return [o.qb_id for o in self._store.select(where, params, limit=limit)]
