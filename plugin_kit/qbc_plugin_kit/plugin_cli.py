"""The generic half of a target's console entry point: ``replay`` is routed to the plugin,
everything else to the SDK's ``Target.cli``; settings come from config files and from
``<PREFIX>_<SETTING>`` variables, as Meltano exports them to plugin commands.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore


def load_config(paths: Iterable[Path]) -> dict[str, Any]:
    """Merged config files; a later file wins."""
    config: dict[str, Any] = {}
    for path in paths:
        config.update(json.loads(path.read_text(encoding="utf-8")))
    return config


def env_config(prefix: str, properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Settings from ``<PREFIX>_<SETTING>`` variables, typed by the settings schema's
    ``properties`` (the SDK's own parser leaves decimals as text)."""
    config: dict[str, Any] = {}
    for name, spec in properties.items():
        raw = os.environ.get(f"{prefix}_{name.upper()}")
        if raw is None:
            continue
        types = spec.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "integer" in types:
            config[name] = int(raw)
        elif "number" in types:
            config[name] = float(raw)
        elif "boolean" in types:
            config[name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif "array" in types:
            config[name] = json.loads(raw) if raw.lstrip().startswith("[") else [v.strip() for v in raw.split(",") if v.strip()]
        else:
            config[name] = raw
    return config


def replay_parser(prog: str, vendor: str, env_prefix: str) -> argparse.ArgumentParser:
    """``<target> replay [--config FILE]... [--stream NAME] [--list]``."""
    parser = argparse.ArgumentParser(
        prog=f"{prog} replay",
        description=f"Re-send batches kept in the dead-letter store to {vendor} (QuickBooks is not contacted). "
                    f"The version guard still applies: a record older than what {vendor} holds is skipped.",
    )
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="config JSON file (repeatable; later files win). Settings also come from "
                             f"{env_prefix}_* environment variables, as Meltano passes them")
    parser.add_argument("--stream", help="replay only this stream's dead letters")
    parser.add_argument("--list", action="store_true", help="list pending dead letters and exit")
    return parser


def replay_config(args: argparse.Namespace, env_prefix: str,
                  properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Environment settings overlaid by config files, as ``Target.cli`` would merge them."""
    return {**env_config(env_prefix, properties), **load_config(args.config)}


def print_pending(letters: Iterable[DeadLetter]) -> None:
    """One JSON line per pending letter, for ``replay --list``."""
    for letter in letters:
        print(json.dumps({"id": letter.id, "stream": letter.stream, "records": len(letter.records),
                          "attempts": letter.attempts, "created_at": letter.created_at,
                          "error": letter.error}))


class StillRefused(Exception):
    """Some of a letter's records were refused again: only they stay pending."""

    def __init__(self, records: list[dict[str, Any]], reason: str) -> None:
        super().__init__(reason)
        self.records = records
        self.reason = reason


def replay_letters(
    letters: Iterable[DeadLetter],
    store: DeadLetterStore,
    logger: logging.Logger,
    send: Callable[[DeadLetter], str],
    errors: tuple[type[Exception], ...],
) -> int:
    """Re-send each letter with ``send`` and return how many failed again.

    ``send`` returns what to log for a letter that went through. A letter whose ``send`` raises
    one of ``errors`` stays pending with the new error; one that raises StillRefused keeps only
    the refused records. Any other exception is a bug and ends the replay.
    """
    failed = 0
    for letter in letters:
        try:
            outcome = send(letter)
        except StillRefused as exc:
            failed += 1
            store.keep_pending(letter.id, exc.records, exc.reason)
            logger.error("dead letter %d (%s): %d record(s) still refused: %s",
                         letter.id, letter.stream, len(exc.records), exc.reason)
            continue
        except errors as exc:
            failed += 1
            store.record_failure(letter.id, str(exc))
            logger.error("dead letter %d (%s, %d records) failed again: %s",
                         letter.id, letter.stream, len(letter.records), exc)
            continue
        store.mark_replayed(letter.id)
        logger.info("dead letter %d (%s): %s", letter.id, letter.stream, outcome)
    return failed


def print_replay_summary(pending: int, failed: int) -> int:
    """The last line of ``replay``; the exit status is 1 when any letter still failed."""
    print(json.dumps({"replayed": pending - failed, "failed": failed}))
    return 1 if failed else 0


def dispatch(argv: list[str] | None, replay: Callable[[list[str]], int],
             sdk_cli: Callable[..., Any]) -> None:
    """Run ``replay`` for ``<target> replay ...``; hand every other command line to the SDK."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "replay":
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
        sys.exit(replay(args[1:]))
    sdk_cli(args=args)
