"""Console entry point: ``replay`` here, everything else to the SDK's ``Target.cli``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from target_powerbi.auth import PowerBIAuthError
from target_powerbi.loader import LoadFailed
from target_powerbi.schema_mapping import SchemaTooWideError
from target_powerbi.target import TargetPowerBI


def _load_config(paths: list[Path]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for path in paths:
        config.update(json.loads(path.read_text(encoding="utf-8")))
    return config


def _env_config(prefix: str) -> dict[str, Any]:
    """Settings from ``<PREFIX>_<SETTING>`` variables, as Meltano exports them to plugin
    commands, typed by the settings schema (the SDK's own parser leaves decimals as text)."""
    config: dict[str, Any] = {}
    for name, spec in TargetPowerBI.config_jsonschema["properties"].items():
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


def replay(argv: list[str]) -> int:
    prefix = "TARGET_POWERBI"
    parser = argparse.ArgumentParser(
        prog="target-powerbi replay",
        description="Re-send batches kept in the dead-letter store to Power BI (QuickBooks is not contacted). "
                    "The version guard still applies: a record older than what Power BI holds is skipped.",
    )
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="config JSON file (repeatable; later files win). Settings also come from "
                             f"{prefix}_* environment variables, as Meltano passes them")
    parser.add_argument("--stream", help="replay only this stream's dead letters")
    parser.add_argument("--list", action="store_true", help="list pending dead letters and exit")
    args = parser.parse_args(argv)

    target = TargetPowerBI(config={**_env_config(prefix), **_load_config(args.config)}, validate_config=True)
    logger = target.logger
    runtime = target.runtime
    pending = runtime.dead_letters.pending(args.stream)
    if args.list:
        for letter in pending:
            print(json.dumps({"id": letter.id, "stream": letter.stream, "records": len(letter.records),
                              "attempts": letter.attempts, "created_at": letter.created_at,
                              "error": letter.error}))
        return 0
    failed = 0
    try:
        for letter in pending:
            try:
                runtime.loader.register_schema(letter.stream, letter.schema, letter.key_properties)
                report = runtime.loader.load(letter.stream, letter.key_properties, letter.records)
            except (LoadFailed, SchemaTooWideError, PowerBIAuthError, ValueError) as exc:
                failed += 1
                runtime.dead_letters.record_failure(letter.id, str(exc))
                logger.error("dead letter %d (%s, %d records) failed again: %s",
                             letter.id, letter.stream, len(letter.records), exc)
                continue
            runtime.dead_letters.mark_replayed(letter.id)
            logger.info("dead letter %d (%s): %d record(s) pushed, %d skipped as older or duplicate",
                        letter.id, letter.stream, report.accepted, report.skipped_as_older_or_duplicate)
        try:
            flushed = runtime.loader.flush_pending()
        except LoadFailed as exc:
            failed += 1
            flushed = []
            logger.error("rows waiting in the mirror for %s could not be pushed: %s", exc.stream, exc)
        if flushed:
            logger.info("pushed rows that were waiting in the mirror for: %s", ", ".join(flushed))
    finally:
        runtime.close()
    print(json.dumps({"replayed": len(pending) - failed, "failed": failed}))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "replay":
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
        sys.exit(replay(args[1:]))
    TargetPowerBI.cli(args=args)
