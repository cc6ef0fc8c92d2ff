"""Tap-run helpers: serve one QBWC session before draining, and prune what every consumer committed."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.failures import SystemicFailure

from .config import server_config
from .store import StateStore

if TYPE_CHECKING:
    from .streams import BufferStream


def run_server_for_one_session(
    config: Mapping[str, Any], buffer: StateStore, wait_seconds: float, logger: logging.Logger
) -> bool:
    """Serve until every company completed one QBWC session, or the wait runs out."""
    # Imported here: a plain drain never loads the SOAP server (cheroot, spyne), a third of
    # its start-up time.
    from .server import QbwcServer

    settings = server_config(config)
    server = QbwcServer(settings, buffer=buffer.reopen())
    companies = [c.company for c in settings.companies]
    server.start()
    try:
        logger.info("Waiting up to %ss for a QBWC session at %s", wait_seconds, server.url)
        done = server.handler.wait_for_sessions(companies, {}, wait_seconds)
        if not done:
            logger.warning(
                "No complete QBWC session within %ss; draining what the buffer already holds",
                wait_seconds,
            )
        return done
    finally:
        server.stop()


def register_and_prune(
    buffer: StateStore,
    positions: Mapping[str, int | None],
    streams: Sequence[BufferStream],
    consumer: str,
    companies: Sequence[str],
    retention_days: int,
    logger: logging.Logger,
) -> int:
    """Register this run's consumer, then delete entries every live consumer has committed.

    `positions` is what Meltano handed back per selected stream (None: never read); an
    entry shared by several streams (a header and its lines, or a deletion) counts as
    committed only once every selected stream reading it is past it. Consumers unseen
    for `retention_days` no longer hold entries back. A consumer below what was already
    pruned fails the run here, before any record: it would silently miss those changes.
    """
    by_tag: dict[str, int | None] = {}
    for stream in streams:
        if stream.name not in positions:
            continue
        position = positions[stream.name]
        for tag in stream.tags:
            known = by_tag.get(tag, position)
            by_tag[tag] = None if known is None or position is None else min(known, position)
    wanted = {(tag, company): pos for tag, pos in by_tag.items() for company in companies}
    if not wanted:
        return 0
    outcome = buffer.register_consumer(consumer, wanted, retention_days * 86400)
    if outcome.behind:
        tag, company, position, pruned = outcome.behind[0]
        raise SystemicFailure(
            f"this job's state (buffer consumer {consumer}) committed {tag} of company {company} up to buffer "
            f"entry {position}, but entries up to {pruned} were pruned after it went unseen for longer than "
            f"buffer_consumer_retention_days ({retention_days}); draining now would silently miss those changes",
            "clear this job's state for a full reload: meltano state clear <state id> (meltano state list "
            "shows it); to keep a job that runs less often, raise buffer_consumer_retention_days",
        )
    for company in outcome.reloaded:
        logger.warning(
            "Company %s: this job has not read entries the other jobs on this buffer already pruned; it drains "
            "what the buffer holds after this run's Web Connector session, and the company's query bookmarks "
            "were reset so that session re-reads it in full (without run_server_wait_seconds, or if no session "
            "comes in time, the complete load arrives with the next session)",
            company,
        )
    return sum(buffer.prune(tag, [company], upto) for (tag, company), upto in outcome.prune_to.items())
