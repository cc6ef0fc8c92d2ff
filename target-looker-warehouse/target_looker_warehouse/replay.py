"""Re-send dead-lettered batches through the target, without touching QuickBooks."""

from __future__ import annotations

import io
import logging
import typing as t

from singer_sdk.singerlib.json import serialize_json

from target_looker_warehouse.dead_letter import DEFAULT_PATH, DeadLetter, DeadLetterStore

logger = logging.getLogger("target-looker-warehouse.replay")


def _messages(letter: DeadLetter) -> str:
    lines = [
        serialize_json(
            {
                "type": "SCHEMA",
                "stream": letter.stream,
                "schema": letter.schema,
                "key_properties": letter.key_properties,
            }
        )
    ]
    lines.extend(
        serialize_json({"type": "RECORD", "stream": letter.stream, "record": record})
        for record in letter.records
    )
    return "\n".join(lines) + "\n"


def replay_dead_letters(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """Replay every pending dead letter, oldest first; a letter stays pending if it fails again."""
    from target_looker_warehouse.after_load import run_after_load
    from target_looker_warehouse.target import TargetLookerWarehouse

    store = DeadLetterStore(config.get("dead_letter_path") or DEFAULT_PATH)
    replayed: list[int] = []
    failed: list[dict[str, t.Any]] = []
    run_config = {**config, "dead_letter_enabled": False, "model_enabled": False}
    run_config.pop("lookml_path", None)
    run_config["looker_api_enabled"] = False
    for letter in store.pending():
        target = TargetLookerWarehouse(config=run_config, validate_config=True)
        try:
            target.listen(io.StringIO(_messages(letter)))
        except Exception as error:
            logger.error(
                "Dead letter #%d (%s, %d records) failed again: %s: %s",
                letter.id, letter.stream, len(letter.records), type(error).__name__, str(error)[:500],
            )
            failed.append({"id": letter.id, "stream": letter.stream, "error": type(error).__name__})
            continue
        store.mark_replayed(letter.id)
        replayed.append(letter.id)
        logger.info("Dead letter #%d (%s, %d records) replayed", letter.id, letter.stream, len(letter.records))
    if replayed:
        target = TargetLookerWarehouse(config=config, validate_config=True)
        run_after_load(target.warehouse_connector, dict(target.config), logger)
    return {"replayed": replayed, "failed": failed}
