"""Console entry point: ``replay`` here, everything else to the SDK's ``Target.cli``."""

from __future__ import annotations

from qbc_plugin_kit.dead_letters import DeadLetter
from qbc_plugin_kit.parent_watch import watch_parent
from qbc_plugin_kit.plugin_cli import (
    StillRefused,
    dispatch,
    print_pending,
    print_replay_summary,
    replay_config,
    replay_letters,
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

    def send(letter: DeadLetter) -> str:
        report = runtime.loader.load(letter.stream, letter.records)
        if report.rejected:
            reasons = "; ".join(sorted({error for _, error in report.rejected}))
            raise StillRefused([record for record, _ in report.rejected], reasons)
        return f"{report.written} record(s) written, {report.skipped} skipped as older or duplicate"

    try:
        failed = replay_letters(pending, runtime.dead_letters, logger, send,
                                (LoadFailed, SalesforceAuthError))
    finally:
        runtime.close()
    return print_replay_summary(len(pending), failed)


def main(argv: list[str] | None = None) -> None:
    watch_parent()  # an orphaned load must not race the restarted run
    dispatch(argv, replay, TargetSalesforce.cli)
