"""Console entry point: ``replay`` here, everything else to the SDK's ``Target.cli``."""

from __future__ import annotations

from qbc_plugin_kit.plugin_cli import (
    dispatch,
    print_pending,
    print_replay_summary,
    replay_config,
    replay_parser,
)

from target_salesforce.auth import SalesforceAuthError
from target_salesforce.loader import LoadFailed
from target_salesforce.target import TargetSalesforce

ENV_PREFIX = "TARGET_SALESFORCE"


def replay(argv: list[str]) -> int:
    args = replay_parser("target-salesforce", "Salesforce", ENV_PREFIX).parse_args(argv)
    config = replay_config(args, ENV_PREFIX, TargetSalesforce.config_jsonschema["properties"])
    target = TargetSalesforce(config=config, validate_config=True)
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
                report = runtime.loader.load(letter.stream, letter.records)
            except (LoadFailed, SalesforceAuthError) as exc:
                failed += 1
                runtime.dead_letters.record_failure(letter.id, str(exc))
                logger.error("dead letter %d (%s, %d records) failed again: %s",
                             letter.id, letter.stream, len(letter.records), exc)
                continue
            if report.rejected:
                failed += 1
                errors = sorted({error for _, error in report.rejected})
                runtime.dead_letters.keep_pending(letter.id, [r for r, _ in report.rejected], "; ".join(errors))
                logger.error("dead letter %d (%s): %d record(s) still refused: %s",
                             letter.id, letter.stream, len(report.rejected), "; ".join(errors))
                continue
            runtime.dead_letters.mark_replayed(letter.id)
            logger.info("dead letter %d (%s): %d record(s) written, %d skipped as older or duplicate",
                        letter.id, letter.stream, report.written, report.skipped)
    finally:
        runtime.close()
    return print_replay_summary(len(pending), failed)


def main(argv: list[str] | None = None) -> None:
    dispatch(argv, replay, TargetSalesforce.cli)
