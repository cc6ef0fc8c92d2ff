"""The console entry point every target shares: ``replay`` (docs/delivery-contract.md) and
every SDK command, each ending on one line that names the cause and the fix when it fails.

Settings come from ``--config`` files and from ``<TARGET>_<SETTING>`` variables, as Meltano
passes them to plugin commands (``meltano invoke target-x:replay``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._typing import is_integer_type, is_number_type
from singer_sdk.logging import StructuredFormatter

from qbc_plugin_kit.dead_letters import PENDING, DeadLetterStoreUnavailable
from qbc_plugin_kit.failures import RecordsSetAside, SystemicFailure
from qbc_plugin_kit.parent_watch import watch_parent
from qbc_plugin_kit.singer_input import parse_line
from qbc_plugin_kit.validation import RecordValidator, non_finite_reason

EXPECTED_FAILURES = (SystemicFailure, RecordsSetAside, DeadLetterStoreUnavailable)


def load_config(paths: list[Path]) -> dict[str, Any]:
    """Merged config files; a later file wins."""
    config: dict[str, Any] = {}
    for path in paths:
        try:
            config.update(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise SystemicFailure(f"the config file {str(path)!r} does not exist",
                                  "pass --config with the path of an existing JSON file") from exc
        except json.JSONDecodeError as exc:
            raise SystemicFailure(f"the config file {str(path)!r} is not JSON ({exc})",
                                  "fix the file's JSON") from exc
    return config


def env_config(prog: str, schema: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, Any]:
    """Settings from ``<PROG>_<SETTING>`` variables, typed by the settings' schema; an old
    name of ``renames`` (``{"old": "new"}``) is read too, under its old name, for
    :func:`qbc_plugin_kit.settings_check.renamed_settings` to map and warn.

    singer-sdk's own parsing types integers, booleans and arrays but leaves a number as text,
    which its validation then refuses ('0.5' is not of type 'number').
    """
    properties = schema.get("properties", {})
    if renames:
        properties = {**properties, **{old: properties[new] for old, new in renames.items() if new in properties}}
        schema = {**schema, "properties": properties}
    config = parse_environment_config(schema, prefix=f"{prog.upper().replace('-', '_')}_")
    for key, value in config.items():
        declared = schema.get("properties", {}).get(key, {})
        if isinstance(value, str) and is_number_type(declared) and not is_integer_type(declared):
            with contextlib.suppress(ValueError):  # left as text: validation names the setting
                config[key] = float(value)
    return config


def config_error_line(prog: str, exc: ConfigValidationError) -> str:
    """Which settings are wrong, by name (the SDK's own message names none)."""
    details = "; ".join(str(e) for e in (exc.errors or [])) or str(exc)
    return f"{prog}: the configuration is not valid: {details}. Fix: set these settings (meltano config {prog} set ...) and run again"


def structured_logs() -> bool:
    """True when the SDK's logs go out as JSON records (Meltano's ``structured-logging``)."""
    return any(isinstance(handler.formatter, StructuredFormatter) for handler in logging.getLogger().handlers)


def fail(prog: str, message: str) -> int:
    """Write the run's last line, ``<prog>: <cause>. Fix: <what to change>``.

    Under Meltano's structured logging a plain stderr line is shown at INFO level after the
    SDK's own "An unhandled error occurred while syncing ..." error record, so the line goes
    out as an error record itself: the last error Meltano shows is the cause and the fix.
    """
    logger = logging.getLogger(prog)
    logger.debug("failure", exc_info=True)
    line = f"{prog}: {message}"
    if structured_logs():
        logger.error(line)
    else:
        print(line, file=sys.stderr)
    return 1


def replay_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} replay",
        description="Re-send the records kept in the dead-letter store, each on its own, through the same "
                    "checks and version guard as a run (QuickBooks is not contacted). A record refused again "
                    "stays in the store with its new reason; its values are never changed.",
    )
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="config JSON file (repeatable; later files win); settings also come from "
                             "the environment variables Meltano sets")
    parser.add_argument("--stream", help="only this stream's records")
    parser.add_argument("--id", type=int, action="append", default=[], help="only this letter (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the pending letters as JSON lines and exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="say whether each letter would pass this target's checks now, send nothing")
    parser.add_argument("--discard", action="store_true", help="give the selected letters up (kept as 'discarded')")
    return parser


def dry_run_verdict(line: str, schema_message: str | None) -> str | None:
    """None when the letter's record would pass the checks made before sending, else why not."""
    if schema_message is None:
        return "no SCHEMA message is known for the record's stream"
    try:
        message = parse_line(line)
    except ValueError as exc:
        return f"the line is not JSON ({exc})"
    record = message.get("record") if isinstance(message, dict) else None
    if not isinstance(record, dict):
        return "the line is not a RECORD message"
    return non_finite_reason(record) or RecordValidator(parse_line(schema_message)["schema"]).validate(record)


def replay(argv: list[str], prog: str, target_class: Any) -> int:
    args = replay_parser(prog).parse_args(argv)
    # A --config file wins over the environment.
    renames = getattr(target_class, "RENAMED_SETTINGS", None)
    config = {**env_config(prog, target_class.config_jsonschema, renames), **load_config(args.config)}
    target = target_class(config=config, validate_config=True)
    store = target.delivery.store
    letters = store.letters(status=PENDING, stream=args.stream, ids=args.id or None)
    if args.list:
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False, default=str))
        return 0
    if args.discard:
        for letter in letters:
            store.discard(letter.id)
        print(json.dumps({"discarded": [letter.id for letter in letters]}))
        return 0
    if args.dry_run:
        for letter in letters:
            reason = dry_run_verdict(letter.line, letter.schema_message)
            # A target may also say what its destination's columns cannot hold (an optional hook:
            # ``value_refusal(stream, schema_message, record) -> reason | None``), with no call out.
            value_refusal = getattr(target, "value_refusal", None)
            if reason is None and value_refusal is not None and letter.schema_message is not None:
                reason = value_refusal(letter.stream, parse_line(letter.schema_message),
                                       parse_line(letter.line)["record"])
            print(json.dumps({"id": letter.id, "stream": letter.stream, "would_pass": reason is None,
                              "reason": reason}, ensure_ascii=False))
        return 0
    target.replay_selection = letters
    target.listen(io.StringIO(""))
    still = store.letters(status=PENDING, ids=[letter.id for letter in letters]) if letters else []
    print(json.dumps({"replayed": len(letters) - len(still), "still_pending": len(still)}))
    if still:
        print(f"{prog}: {len(still)} record(s) were refused again and stay in the store; see why with "
              f"`{prog} replay --list`, fix the cause (or `{prog} replay --discard --id N`)", file=sys.stderr)
        return 1
    return 0


def commands_help(prog: str, handlers: dict[str, Callable[[list[str]], int]]) -> str:
    """The plugin's own commands, listed under the SDK's ``--help`` (which knows only its flags)."""
    lines = [f"\nCommands of {prog} (each has its own --help):"]
    for name, handler in handlers.items():
        summary = (handler.__doc__ or "").strip().splitlines()
        lines.append(f"  {prog} {name:<10} {summary[0] if summary else ''}".rstrip())
    return "\n".join(lines)


def show_help(prog: str, plugin_class: Any, handlers: dict[str, Callable[[list[str]], int]]) -> int:
    with contextlib.suppress(SystemExit):  # click ends its help with sys.exit(0)
        plugin_class.cli(args=["--help"])
    print(commands_help(prog, handlers))
    return 0


def main(argv: list[str] | None, prog: str, target_class: Any,
         commands: dict[str, Callable[[list[str]], int]] | None = None) -> None:
    """``<target> replay ...``, any extra command of the plugin, else the SDK's CLI."""
    args = sys.argv[1:] if argv is None else list(argv)
    def run_replay(rest: list[str]) -> int:
        """Re-send the records kept in the dead-letter store (--list, --dry-run, --discard)."""
        return replay(rest, prog, target_class)

    handlers: dict[str, Callable[[list[str]], int]] = {"replay": run_replay, **(commands or {})}
    try:
        if args in (["--help"], ["-h"]):
            sys.exit(show_help(prog, target_class, handlers))
        if args and args[0] in handlers:
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
            sys.exit(handlers[args[0]](args[1:]))
        # An orphaned load must not race the restarted run (docs/operations.md).
        watch_parent()
        target_class.cli(args=args)
    except ConfigValidationError as exc:
        print(config_error_line(prog, exc), file=sys.stderr)
        sys.exit(1)
    except EXPECTED_FAILURES as exc:
        sys.exit(fail(prog, str(exc)))
