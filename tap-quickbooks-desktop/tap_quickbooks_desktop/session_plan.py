"""The plan of qbXML requests for one QBWC session, and how responses advance it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from . import bookmarks as bookmark_rules
from .buffer import SectionToStore
from .qbxml_builder import build_message, deleted_request, query_request
from .qbxml_parser import ResponseSection, later_timestamp
from .query_catalog import (
    DELETED_TAG,
    LIST_DEL_TYPES,
    LIST_DELETED_KEY,
    QUERIES,
    TXN_DEL_TYPES,
    TXN_DELETED_KEY,
    QuerySpec,
)

logger = logging.getLogger(__name__)

STATUS_OK = 0
STATUS_NO_MATCH = 1


@dataclass
class PlannedQuery:
    """One query of the session and where its iterator stands."""

    key: str
    tag: str
    from_value: str | None
    spec: QuerySpec | None = None
    deleted_kind: str | None = None
    deleted_types: tuple[str, ...] = ()
    state: str = "pending"  # pending, continuing, done, failed
    iterator_id: str | None = None
    pages: int = 0
    remaining: int | None = None
    newest_seen: str | None = None
    started_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_state(self) -> dict[str, Any]:
        state = asdict(self)
        state.pop("spec")
        state["deleted_types"] = list(self.deleted_types)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PlannedQuery:
        values = dict(state)
        values["deleted_types"] = tuple(values.get("deleted_types") or ())
        spec = None if values.get("deleted_kind") else _SPECS_BY_KEY[values["key"]]
        return cls(spec=spec, **values)

    def fraction_done(self, max_returned: int) -> float:
        if self.finished:
            return 1.0
        if not self.pages:
            return 0.0
        pages_left = (self.remaining or 0) / max(1, max_returned)
        return self.pages / (self.pages + pages_left + 1)


_SPECS_BY_KEY = {spec.key: spec for spec in QUERIES}


@dataclass
class ResponseOutcome:
    """What one receiveResponseXML must write to the buffer in one transaction."""

    sections: list[SectionToStore] = field(default_factory=list)
    bookmarks: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)


class SessionPlan:
    """Queries for every selected stream, sent a few per message, iterators continued."""

    def __init__(
        self,
        queries: Sequence[PlannedQuery],
        stored_bookmarks: Mapping[str, str],
        *,
        max_returned: int,
        queries_per_message: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queries = list(queries)
        self._clock = clock
        self._bookmarks = dict(stored_bookmarks)
        self._max_returned = max_returned
        self._per_message = max(1, queries_per_message)
        self._in_flight: dict[str, PlannedQuery] = {}
        self.messages_sent = 0
        self.sections_stored = 0

    @classmethod
    def for_streams(
        cls,
        streams: Sequence[str] | None,
        stored_bookmarks: Mapping[str, str],
        *,
        start_date: str | None,
        overlap_seconds: int,
        max_returned: int,
        queries_per_message: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> SessionPlan:
        selected = set(streams) if streams else None

        def start(key: str) -> str | None:
            return bookmark_rules.query_start(stored_bookmarks.get(key), start_date, overlap_seconds)

        planned = [
            PlannedQuery(key=spec.key, tag=spec.stream, from_value=start(spec.key), spec=spec)
            for spec in QUERIES
            if selected is None or spec.stream in selected
        ]
        for kind, key, types in (
            ("Txn", TXN_DELETED_KEY, TXN_DEL_TYPES),
            ("List", LIST_DELETED_KEY, LIST_DEL_TYPES),
        ):
            del_types = tuple(
                t for stream, ts in types.items() if selected is None or stream in selected for t in ts
            )
            if del_types:
                planned.append(
                    PlannedQuery(
                        key=key, tag=DELETED_TAG, from_value=start(key),
                        deleted_kind=kind, deleted_types=del_types,
                    )
                )
        return cls(planned, stored_bookmarks, max_returned=max_returned,
                   queries_per_message=queries_per_message, clock=clock)

    # --- between two Web Connector calls the plan lives in the state store ----------------

    def to_state(self) -> dict[str, Any]:
        """Everything the next call needs, on whichever server replica it lands."""
        index = {id(q): i for i, q in enumerate(self.queries)}
        return {
            "queries": [q.to_state() for q in self.queries],
            "bookmarks": self._bookmarks,
            "max_returned": self._max_returned,
            "per_message": self._per_message,
            "in_flight": {rid: index[id(q)] for rid, q in self._in_flight.items()},
            "messages_sent": self.messages_sent,
            "sections_stored": self.sections_stored,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], clock: Callable[[], float] = time.time) -> SessionPlan:
        plan = cls(
            [PlannedQuery.from_state(q) for q in state["queries"]],
            state["bookmarks"],
            max_returned=int(state["max_returned"]),
            queries_per_message=int(state["per_message"]),
            clock=clock,
        )
        plan._in_flight = {rid: plan.queries[i] for rid, i in state["in_flight"].items()}
        plan.messages_sent = int(state["messages_sent"])
        plan.sections_stored = int(state["sections_stored"])
        return plan

    @property
    def done(self) -> bool:
        return all(q.finished for q in self.queries)

    def progress(self) -> int:
        """Percent for QBWC's progress bar; 100 only when every query has finished."""
        if self.done:
            return 100
        total = sum(q.fraction_done(self._max_returned) for q in self.queries)
        return min(99, int(100 * total / max(1, len(self.queries))))

    def next_message(self, qbxml_version: str) -> str | None:
        batch = [q for q in self.queries if not q.finished][: self._per_message]
        if not batch:
            return None
        self._in_flight = {}
        requests: list[etree._Element] = []
        for query in batch:
            request_id = f"{self.queries.index(query)}-{query.pages}"
            if query.started_at is None:
                query.started_at = self._clock()
            self._in_flight[request_id] = query
            requests.append(self._request(query, request_id))
        self.messages_sent += 1
        return build_message(requests, qbxml_version)

    def _request(self, query: PlannedQuery, request_id: str) -> etree._Element:
        if query.deleted_kind:
            return deleted_request(
                query.deleted_kind, query.deleted_types, request_id, from_deleted=query.from_value
            )
        assert query.spec is not None
        iterator = None
        if query.spec.iterator:
            iterator = "Continue" if query.state == "continuing" else "Start"
        return query_request(
            query.spec,
            request_id,
            from_modified=query.from_value,
            max_returned=self._max_returned,
            iterator=iterator,
            iterator_id=query.iterator_id if iterator == "Continue" else None,
        )

    def abandon_in_flight(self, reason: str) -> list[tuple[str, int | None, str]]:
        """QuickBooks failed the whole message: those queries retry next session."""
        errors: list[tuple[str, int | None, str]] = []
        for query in self._in_flight.values():
            query.state = "failed"
            errors.append((query.key, None, reason))
        self._in_flight = {}
        return errors

    def apply(self, sections: Sequence[ResponseSection]) -> ResponseOutcome:
        outcome = ResponseOutcome()
        answered: set[str] = set()
        for section in sections:
            query = self._in_flight.get(section.request_id)
            if query is None or section.request_id in answered:
                outcome.errors.append(
                    ("?", section.status_code,
                     f"response section <{section.tag}> has unknown requestID {section.request_id!r}; ignored")
                )
                continue
            answered.add(section.request_id)
            self._apply_section(query, section, outcome)
        for request_id, query in self._in_flight.items():
            if request_id not in answered:
                query.state = "failed"
                outcome.errors.append((query.key, None, f"QuickBooks returned no response to request {request_id}"))
        self._in_flight = {}
        self.sections_stored += len(outcome.sections)
        return outcome

    def _apply_section(self, query: PlannedQuery, section: ResponseSection, outcome: ResponseOutcome) -> None:
        code = section.status_code
        if code == STATUS_NO_MATCH:
            query.state = "done"
            return
        if code != STATUS_OK and not 500 <= code < 600:
            # Recorded and left for the next session; the bookmark does not move.
            query.state = "failed"
            logger.warning("qbXML %s failed with status %s: %s", section.tag, code, section.status_message)
            outcome.errors.append((query.key, code, f"{section.tag}: {section.status_message}"))
            return
        if code != STATUS_OK:
            logger.warning("qbXML %s warning %s: %s", section.tag, code, section.status_message)
        query.pages += 1
        if section.versions:
            outcome.sections.append(
                SectionToStore(tag=query.tag, section=section.tag, body=section.xml, versions=section.versions)
            )
        query.newest_seen = later_timestamp(query.newest_seen, section.max_modified)
        if query.spec is not None and query.spec.iterator and (section.iterator_remaining or 0) > 0:
            query.state = "continuing"
            query.iterator_id = section.iterator_id or query.iterator_id
            query.remaining = section.iterator_remaining
            return
        query.state = "done"
        query.remaining = 0
        # Only a completed query moves its bookmark: an iterator's pages are not in
        # TimeModified order, so a partial read says nothing about what is left.
        elapsed = self._clock() - (query.started_at if query.started_at is not None else self._clock())
        new_value = bookmark_rules.advanced(self._bookmarks.get(query.key), query.newest_seen, elapsed)
        if new_value and new_value != self._bookmarks.get(query.key):
            self._bookmarks[query.key] = new_value
            outcome.bookmarks[query.key] = new_value
