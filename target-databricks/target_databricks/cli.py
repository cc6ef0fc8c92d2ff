"""Console script: ``target-databricks replay`` plus every SDK command, unchanged."""

from __future__ import annotations

import argparse
import io
import json
import sys
import typing as t
from pathlib import Path

from qbc_plugin_kit.parent_watch import watch_parent

from target_databricks.dead_letters import DeadLetter, DeadLetterStore
from target_databricks.row_encoding import to_json_text
from target_databricks.target import DEFAULT_DEAD_LETTER_PATH, TargetDatabricks

_KEPT_METADATA = {"_sdc_deleted_at"}


def singer_messages(letter: DeadLetter) -> str:
    """The batch as the SCHEMA and RECORD messages that first brought it."""
    lines = [to_json_text({"type": "SCHEMA", "stream": letter.stream, "schema": letter.schema,
                           "key_properties": letter.key_properties})]
    for record in letter.records:
        message: dict[str, t.Any] = {
            "type": "RECORD",
            "stream": letter.stream,
            "record": {k: v for k, v in record.items()
                       if not k.startswith("_sdc_") or k in _KEPT_METADATA},
        }
        if record.get("_sdc_extracted_at"):
            message["time_extracted"] = record["_sdc_extracted_at"]
        lines.append(to_json_text(message))
    return "\n".join(lines) + "\n"


def _load_config(paths: list[str]) -> dict[str, t.Any]:
    config: dict[str, t.Any] = {}
    for path in paths:
        config.update(json.loads(Path(path).read_text(encoding="utf-8")))
    return config


def replay(config: dict[str, t.Any], *, parse_env_config: bool = True) -> tuple[int, int]:
    """Load every dead-lettered batch again; return (loaded, failed again).

    A batch that fails again is written back to the store by the sink with its new error,
    and the old file is removed either way, so each batch is kept exactly once.
    """
    # Settings may come from the environment (Meltano), so read the path from a parsed config.
    settings = TargetDatabricks(config=config, parse_env_config=parse_env_config).config
    store = DeadLetterStore(settings.get("dead_letter_path") or DEFAULT_DEAD_LETTER_PATH)
    loaded = failed = 0
    for path in store.list():
        letter = store.read(path)
        target = TargetDatabricks(config=config, parse_env_config=parse_env_config)
        try:
            target.listen(file_input=io.StringIO(singer_messages(letter)))
        except SystemExit:
            pass
        finally:
            target.connector.close()
        if target.rejected_batches:
            failed += 1
        else:
            loaded += 1
        path.unlink()
    return loaded, failed


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["replay"]:
        parser = argparse.ArgumentParser(
            prog="target-databricks replay",
            description="Load the batches kept in the dead-letter store again.",
        )
        parser.add_argument("--config", action="append", default=[],
                            help="config JSON file (repeatable); `ENV` reads the environment")
        options = parser.parse_args(args[1:])
        files = [p for p in options.config if p != "ENV"]
        config = _load_config(files)
        loaded, failed = replay(config, parse_env_config="ENV" in options.config or not files)
        print(f"replayed {loaded} batch(es); {failed} failed again and stay in the store",
              file=sys.stderr)
        sys.exit(1 if failed else 0)
    watch_parent()  # an orphaned load must not race the restarted run
    TargetDatabricks.cli(args)
