"""Tap-run helpers: serve one QBWC session before draining, and prune committed entries."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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


def prune_committed(
    buffer: StateStore,
    streams: Sequence[BufferStream],
    incoming: Mapping[str, int],
    companies: Sequence[str],
) -> int:
    """Delete entries every selected consumer has already committed.

    `incoming` is the state Meltano handed back, i.e. what targets confirmed; an
    entry shared by several streams (a header and its lines, or a deletion) goes
    only once every selected stream reading it is past it.
    """
    consumers: dict[str, list[int]] = {}
    for stream in streams:
        if stream.name not in incoming:
            continue
        for tag in stream.tags:
            consumers.setdefault(tag, []).append(incoming[stream.name])
    return sum(buffer.prune(tag, companies, min(seqs)) for tag, seqs in consumers.items())
