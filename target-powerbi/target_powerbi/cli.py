"""Console entry point: ``replay`` here, everything else to the SDK's ``Target.cli``."""

from __future__ import annotations

from qbc_plugin_kit.dead_letters import DeadLetter
from qbc_plugin_kit.parent_watch import watch_parent
from qbc_plugin_kit.plugin_cli import (
    dispatch,
    print_pending,
    print_replay_summary,
    replay_config,
    replay_letters,
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

    def send(letter: DeadLetter) -> str:
        runtime.loader.register_schema(letter.stream, letter.schema, letter.key_properties)
        report = runtime.loader.load(letter.stream, letter.key_properties, letter.records)
        return (f"{report.accepted} record(s) pushed, "
                f"{report.skipped_as_older_or_duplicate} skipped as older or duplicate")

    try:
        failed = replay_letters(pending, runtime.dead_letters, logger, send,
                                (LoadFailed, SchemaTooWideError, PowerBIAuthError, ValueError))
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
    watch_parent()  # an orphaned load must not race the restarted run
    dispatch(argv, replay, TargetPowerBI.cli)
