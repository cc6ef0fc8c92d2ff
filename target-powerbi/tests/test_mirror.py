"""The mirror's version guard, including mirror files written by earlier releases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from qbc_plugin_kit.version_order import version_text
from target_powerbi.mirror import Mirror, StagedRow

SECOND = "2026-11-20T14:03:07+00:00"
DELETION = {"company_id": "qbd-file-1", "id": "TXN-1", "updated_at": SECOND, "sync_token": None,
            "edit_sequence": None, "_sdc_deleted_at": SECOND}
EDIT = {"company_id": "qbd-file-1", "id": "TXN-1", "updated_at": SECOND, "sync_token": None,
        "edit_sequence": "1732000001"}


def _row(record: dict) -> StagedRow:
    return StagedRow('["qbd-file-1", "TXN-1"]', version_text(record), "qbd-file-1|TXN-1",
                     bool(record.get("_sdc_deleted_at")), record)


def test_an_edit_in_the_same_second_does_not_revive_a_deleted_invoice(tmp_path: Path) -> None:
    mirror = Mirror(tmp_path / "mirror.sqlite")
    try:
        assert mirror.stage("invoices", [_row(DELETION)])
        assert mirror.stage("invoices", [_row(EDIT)]) == []
        assert [r.deleted for r in mirror.unpushed("invoices")] == [True]
    finally:
        mirror.close()


def test_a_mirror_from_an_earlier_release_is_re_encoded_in_the_kits_version_order(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite"
    Mirror(path).close()
    db = sqlite3.connect(path)
    # The earlier encoding put a Desktop edit (edit_sequence set) above its deletion (none).
    db.execute("INSERT INTO mirror_rows (stream, row_key, version, parent_key, deleted, pushed, record) "
               "VALUES ('invoices', '[\"qbd-file-1\", \"TXN-1\"]', '2026-11-20T14:03:07.000000|000|0', "
               "'qbd-file-1|TXN-1', 1, 1, ?)",
               (json.dumps({k: v for k, v in DELETION.items() if v is not None}),))
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()

    mirror = Mirror(path)
    try:
        (stored,) = mirror.current_records("invoices")
        assert stored["_sdc_version"] == version_text(DELETION)
        assert mirror.stage("invoices", [_row(EDIT)]) == []
    finally:
        mirror.close()
