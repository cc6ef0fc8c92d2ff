"""A dead-letter file of an earlier release (a batch per letter) loses nothing on upgrade."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.singer_input import parse_line

OLD_SCHEMA = """
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, stream TEXT NOT NULL,
    schema_json TEXT NOT NULL, key_properties_json TEXT NOT NULL, records_json TEXT NOT NULL,
    error TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT 'pending',
    resolved_at TEXT);
"""


def test_pending_batch_letters_become_one_letter_per_record_once(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "dead_letters.sqlite")
    db.executescript(OLD_SCHEMA)
    schema = {"properties": {"id": {"type": "string"}, "amount": {"type": "number"}}}
    db.execute("INSERT INTO dead_letters (created_at, stream, schema_json, key_properties_json, records_json, "
               "error, attempts) VALUES ('2026-11-01T00:00:00+00:00', 'invoices', ?, '[\"id\"]', ?, 'HTTP 500', 2)",
               (json.dumps(schema), '[{"id": "1", "amount": 1234567890123456789012345678901234567890.12}, '
                                    '{"id": "2", "amount": 5}]'))
    db.execute("INSERT INTO dead_letters (created_at, stream, schema_json, key_properties_json, records_json, "
               "error, status) VALUES ('2026-11-01', 'invoices', '{}', '[]', '[{\"id\": \"3\"}]', 'x', 'replayed')")
    db.commit()
    db.close()

    for _ in range(2):  # opening again imports nothing twice
        store = DeadLetterStore(tmp_path)
        letters = store.letters()
        store.close()
        assert [letter.key for letter in letters] == [{"id": "1"}, {"id": "2"}]
    first = letters[0]
    assert "1234567890123456789012345678901234567890.12" in first.line
    assert parse_line(first.line)["record"]["id"] == "1"
    assert parse_line(first.schema_message or "")["key_properties"] == ["id"]
    assert first.attempts == 2 and "HTTP 500" in first.reason
