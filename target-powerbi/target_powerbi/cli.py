"""Console entry point: ``replay`` here, everything else to the SDK's ``Target.cli``."""

from __future__ import annotations

from qbc_plugin_kit.plugin_cli import (
    dispatch,
    print_pending,
    print_replay_summary,
    replay_config,
    replay_parser,
)

from target_powerbi.auth import PowerBIAuthError
from target_powerbi.loader import LoadFailed
from target_powerbi.schema_mapping import SchemaTooWideError
from target_powerbi.target import TargetPowerBI

ENV_PREFIX = "TARGET_POWERBI"


def replay(argv: list[str]) -> int:
    args = replay_parser("target-powerbi", "Power BI", ENV_PREFIX).parse_args(argv)
    config = replay_config(args, ENV_PREFIX, TargetPowerBI.config_jsonschema["properties"])
    target = TargetPowerBI(config=config, validate_config=True)
    logger = target.logger
    runtime = target.runtime
    pending = runtime.dead_letters.pending(args.stream)
    if args.list:
        print_pending(pending)
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
    return print_replay_summary(len(pending), failed)


def main(argv: list[str] | None = None) -> None:
    dispatch(argv, replay, TargetPowerBI.cli)
