"""What the server does on each QuickBooks Web Connector callback (transport-free)."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .auth.tickets import LoginThrottle, TicketStore, password_matches
from .config import CompanyConfig, ServerConfig
from .qbxml_parser import QbxmlError, parse_response_message, supported_versions
from .session_plan import SessionPlan
from .store import SessionWrite, StaleSession, StateStore, StoredSession
from .stored_records import map_sections

logger = logging.getLogger(__name__)

SERVER_VERSION = "tap-quickbooks-desktop 0.1.0"
UNKNOWN_TICKET = "Unknown or expired ticket: start a new Web Connector session."
NOT_AUTHENTICATED = "nvu"
NOTHING_TO_DO = "none"
MAX_BACKOFF_SECONDS = 6 * 3600
# Any qbXML release from 2.0 up may be offered; we ask for no more than 13.0.
CEILING_VERSION = (13, 0)


def _version_tuple(value: str) -> tuple[int, int]:
    major, _, minor = value.strip().partition(".")
    return int(major), int(minor or 0)


@dataclass
class QbwcSession:
    """One authenticated Web Connector session for one company."""

    company: CompanyConfig
    plan: SessionPlan | None
    qbxml_version: str | None = None
    last_error: str = ""
    errors: int = 0

    def to_state(self) -> str:
        return json.dumps({
            "plan": self.plan.to_state() if self.plan is not None else None,
            "qbxml_version": self.qbxml_version,
            "last_error": self.last_error,
            "errors": self.errors,
        })

    @classmethod
    def from_state(cls, company: CompanyConfig, state: str) -> QbwcSession:
        values = json.loads(state)
        plan = SessionPlan.from_state(values["plan"]) if values["plan"] is not None else None
        return cls(company, plan, values["qbxml_version"], values["last_error"], int(values["errors"]))


class QbwcHandler:
    """Implements the QBWC callbacks over the session plan and the durable buffer."""

    def __init__(
        self,
        config: ServerConfig,
        buffer: StateStore,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.buffer = buffer
        self._sleep = sleep
        self._tickets = TicketStore(buffer, config.ticket_ttl_seconds)
        # Per replica: a guesser spread over replicas still waits on each of them.
        self._throttle = LoginThrottle()
        self._floor = _version_tuple(config.qbxml_version)
        self._completed: dict[str, int] = {}
        self._completed_cond = threading.Condition()
        # One message at a time per session: QBWC is sequential, a replayed or
        # concurrent call with the same ticket must not interleave plan updates.
        # Within a replica this lock queues such calls; across replicas the session's
        # version in the store refuses the slower one (StaleSession).
        self._session_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._progress_logged_at: dict[str, float] = {}  # by ticket; this replica's own log

    # --- housekeeping used by the tap's run-and-wait mode ----------------------------

    def completed_sessions(self, company: str) -> int:
        with self._completed_cond:
            return self._completed.get(company, 0)

    def wait_for_sessions(self, companies: list[str], baseline: dict[str, int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._completed_cond:
            while True:
                if all(self._completed.get(c, 0) > baseline.get(c, 0) for c in companies):
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._completed_cond.wait(min(left, 0.5))

    @contextmanager
    def _session(self, ticket: str | None) -> Iterator[tuple[QbwcSession, StoredSession] | None]:
        """The session of a ticket, read from the store under this replica's ticket lock."""
        if not ticket:
            yield None
            return
        with self._locks_guard:
            lock = self._session_locks.setdefault(ticket, threading.Lock())
        with lock:
            stored = self._tickets.get(ticket)
            company = self.config.company_by_key(stored.company) if stored else None
            if stored is None or company is None:
                yield None
                return
            yield QbwcSession.from_state(company, stored.state), stored

    def _save(self, session: QbwcSession, stored: StoredSession) -> bool:
        try:
            self.buffer.save_session(SessionWrite(stored.ticket, session.to_state(), stored.version))
        except StaleSession as exc:
            logger.warning("company %s: %s", session.company.company, exc)
            return False
        return True

    # --- callbacks -----------------------------------------------------------------

    def server_version(self, _client_hint: str | None = None) -> str:
        return SERVER_VERSION

    def client_version(self, _version: str | None) -> str:
        # "" accepts the client: every callback used here has been in QBWC since 2.0, and an
        # "E:"/"W:" answer would only stop or nag users of older, still-working releases.
        return ""

    def authenticate(self, username: str | None, password: str | None) -> list[str]:
        username = username or ""
        company = self.config.company_for_user(username)
        expected = company.password if company else "\x00" * 16
        matches = password_matches(password or "", expected)
        if company is None or not matches:
            delay = self._throttle.record_failure(username)
            logger.warning("QBWC authenticate refused for user %r", username)
            self._sleep(delay)
            return ["", NOT_AUTHENTICATED]
        self._throttle.record_success(username)
        wait = self._backoff_remaining(company.company)
        if wait > 0:
            # QBWC ends the session on "none" without closeConnection: no ticket to keep.
            ticket = secrets.token_hex(16)
            logger.info("company %s backing off %ss after failures", company.company, wait)
            return [ticket, NOTHING_TO_DO, str(wait)]
        plan = SessionPlan.for_streams(
            self.config.streams,
            self.buffer.bookmarks(company.company),
            start_date=self.config.start_date,
            overlap_seconds=self.config.overlap_seconds,
            max_returned=self.config.max_returned,
            queries_per_message=self.config.queries_per_message,
            # Query durations are measured across calls that may land on different
            # replicas: wall clock, not one process's monotonic clock.
            clock=time.time,
        )
        if plan.done:
            return [secrets.token_hex(16), NOTHING_TO_DO]
        ticket = self._tickets.issue(company.company, QbwcSession(company, plan=plan).to_state())
        logger.info("QBWC session started for company %s", company.company)
        return [ticket, company.company_file]

    def _backoff_remaining(self, company: str) -> int:
        status = self.buffer.company_status(company)
        if not status.consecutive_failures or status.last_failure_at is None:
            return 0
        base = self.config.failure_backoff_seconds
        backoff = min(MAX_BACKOFF_SECONDS, base * 2 ** (status.consecutive_failures - 1))
        resume_at = status.last_failure_at + timedelta(seconds=backoff)
        return max(0, int((resume_at - datetime.now(UTC)).total_seconds()))

    def send_request_xml(
        self,
        ticket: str | None,
        hcp_response: str | None,
        company_file: str | None,
        country: str | None,
        major: int | None,
        minor: int | None,
    ) -> str:
        with self._session(ticket) as found:
            if found is None:
                return ""
            session, stored = found
            message = self._next_message(session, hcp_response, major, minor)
            # The plan now expects answers to this message: whichever replica receives
            # them must know it, so the state is saved before the message leaves.
            if not self._save(session, stored):
                return ""
            return message

    def _next_message(
        self, session: QbwcSession, hcp_response: str | None, major: int | None, minor: int | None
    ) -> str:
        if session.plan is None:
            session.last_error = "Nothing to do in this session."
            return ""
        if session.qbxml_version is None:
            try:
                session.qbxml_version = self._choose_version(hcp_response, major, minor)
            except ValueError as exc:
                session.last_error = str(exc)
                session.errors += 1
                self.buffer.record_failure(session.company.company, str(exc))
                return ""
        message = session.plan.next_message(session.qbxml_version)
        if message is None:
            session.last_error = "All requests of this session have been answered."
            return ""
        return message

    def _choose_version(self, hcp_response: str | None, major: int | None, minor: int | None) -> str:
        offered: list[tuple[int, int]] = []
        for version in supported_versions(hcp_response):
            # QuickBooks also lists regional flavours ("CA3.0", "UK2.0"); only plain US
            # version numbers describe the qbXML this server sends.
            try:
                offered.append(_version_tuple(version))
            except ValueError:
                continue
        if not offered and major:
            offered = [(int(major), int(minor or 0))]
        usable = [v for v in offered if v <= CEILING_VERSION]
        best = max(usable) if usable else None
        if best is None or best < self._floor:
            shown = ", ".join(f"{a}.{b}" for a, b in sorted(offered)) or "none reported"
            raise ValueError(
                f"QuickBooks supports qbXML {shown}; this server needs at least "
                f"{self._floor[0]}.{self._floor[1]} (setting qbxml_version). Update QuickBooks "
                "or lower qbxml_version."
            )
        return f"{best[0]}.{best[1]}"

    def receive_response_xml(
        self, ticket: str | None, response: str | None, hresult: str | None, message: str | None
    ) -> int:
        with self._session(ticket) as found:
            if found is None:
                return -1
            session, stored = found
            progress = self._receive(session, stored, response, hresult, message)
            if progress < 0:
                # Best effort, for getLastError: a lost race keeps the other call's state,
                # and a store that just failed is reported by the -1 already.
                try:
                    self._save(session, stored)
                except Exception:
                    logger.exception("company %s: could not save the session", session.company.company)
            return progress

    def _receive(
        self, session: QbwcSession, stored: StoredSession,
        response: str | None, hresult: str | None, message: str | None,
    ) -> int:
        company = session.company.company
        if session.plan is None:
            session.last_error = "No request was sent in this session."
            return -1
        if hresult:
            reason = f"QuickBooks could not process the request ({hresult}): {message or ''}".strip()
            errors = session.plan.abandon_in_flight(reason)
            self.buffer.append(company, [], errors=errors)
            self.buffer.record_failure(company, reason)
            session.last_error = reason
            session.errors += 1
            return -1
        try:
            sections = parse_response_message(response or "")
        except QbxmlError as exc:
            session.last_error = f"Refused the response from QuickBooks: {exc}"
            session.errors += 1
            logger.error("company %s: %s", company, session.last_error)
            return -1
        outcome = session.plan.apply(sections)
        # Each object is mapped to its records here, once, as it arrives (stored_records);
        # tap runs then write the stored records without parsing XML.
        progress = session.plan.progress()
        try:
            # Data, bookmarks and the session's next step commit together: a replica
            # dying here leaves either all of them or none, and the next call or
            # session continues from what was committed.
            self.buffer.append(
                company, map_sections(company, outcome.sections), outcome.bookmarks, outcome.errors,
                session=SessionWrite(stored.ticket, session.to_state(), stored.version),
            )
        except Exception as exc:
            session.last_error = f"Could not store QuickBooks data in the buffer: {exc}"
            session.errors += 1
            logger.error("company %s: %s", company, session.last_error)
            # The plan has moved past data that is not stored: end the session.
            session.plan.abandon_in_flight(session.last_error)
            for query in session.plan.queries:
                query.state = "failed"
            return -1
        for query_key, status, text in outcome.errors:
            logger.warning("company %s query %s status %s: %s", company, query_key, status, text)
        self._log_progress(stored.ticket, session, progress)
        if progress == 100 and not session.errors:
            self.buffer.record_success(company)
        return progress

    def _log_progress(self, ticket: str, session: QbwcSession, progress: int) -> None:
        """The session's progress on the server's log: at most every 30 s, and at the end."""
        now = time.monotonic()
        last = self._progress_logged_at.setdefault(ticket, now)
        if progress < 100 and now - last < 30:
            return
        self._progress_logged_at[ticket] = now
        assert session.plan is not None
        logger.info("company %s: %d%% (%d requests, %d responses buffered, %d errors)", session.company.company,
                    progress, session.plan.messages_sent, session.plan.sections_stored, session.errors)

    def connection_error(self, ticket: str | None, hresult: str | None, message: str | None) -> str:
        with self._session(ticket) as found:
            if found is None:
                return "done"
            session, stored = found
            reason = f"Web Connector could not reach QuickBooks ({hresult or 'no hresult'}): {message or ''}".strip()
            session.last_error = reason
            session.errors += 1
            self._save(session, stored)
        self.buffer.record_failure(session.company.company, reason)
        logger.warning("company %s: %s", session.company.company, reason)
        return "done"

    def get_last_error(self, ticket: str | None) -> str:
        with self._session(ticket) as found:
            if found is None:
                return UNKNOWN_TICKET
            return found[0].last_error or "No error."

    def close_connection(self, ticket: str | None) -> str:
        stored = self._tickets.revoke(ticket)
        with self._locks_guard:
            self._session_locks.pop(ticket or "", None)
        self._progress_logged_at.pop(ticket or "", None)
        company = self.config.company_by_key(stored.company) if stored else None
        if stored is None or company is None:
            return UNKNOWN_TICKET
        session = QbwcSession.from_state(company, stored.state)
        summary = "OK"
        if session.plan is not None:
            summary = (
                f"OK: {session.plan.messages_sent} requests, "
                f"{session.plan.sections_stored} responses buffered, {session.errors} errors"
            )
            with self._completed_cond:
                name = session.company.company
                self._completed[name] = self._completed.get(name, 0) + 1
                self._completed_cond.notify_all()
        logger.info("company %s: QBWC session closed: %s", session.company.company, summary)
        return summary
