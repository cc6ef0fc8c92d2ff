"""Version order of docs/record-model.md, and in-batch de-duplication."""

from __future__ import annotations

import pytest
from target_looker_warehouse.versioning import compare_versions, newest_per_key


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"updated_at": "2026-11-02T10:00:00-08:00"}, {"updated_at": "2026-11-02T17:59:59+00:00"}, 1),
        ({"updated_at": "2026-11-02T10:00:00-08:00"}, {"updated_at": "2026-11-02T18:00:00+00:00"}, 0),
        ({"updated_at": "2026-11-02T10:00:00Z", "sync_token": 3}, {"updated_at": "2026-11-02T10:00:00Z", "sync_token": 12}, -1),
        ({"edit_sequence": "10"}, {"edit_sequence": "9"}, 1),
        ({"edit_sequence": "B"}, {"edit_sequence": "A"}, 1),
        ({"updated_at": None, "sync_token": 2}, {"updated_at": "2026-11-02T10:00:00Z", "sync_token": 1}, 1),
        ({}, {"updated_at": "2026-11-02T10:00:00Z"}, 0),
    ],
)
def test_compare_versions(a: dict, b: dict, expected: int) -> None:
    assert compare_versions(a, b) == expected


def test_newest_per_key_keeps_newest_and_later_on_tie() -> None:
    records = [
        {"id": "1", "sync_token": 2, "v": "a"},
        {"id": "1", "sync_token": 1, "v": "b"},
        {"id": "2", "sync_token": 1, "v": "c"},
        {"id": "2", "sync_token": 1, "v": "d"},
    ]
    kept, dropped = newest_per_key(records, ["id"])
    assert [r["v"] for r in kept] == ["a", "d"]
    assert dropped == 2


def test_deletion_in_batch_is_not_undone_by_an_equal_version() -> None:
    deletion = {"id": "1", "updated_at": "2026-11-02T10:00:00Z", "_sdc_deleted_at": "2026-11-02T10:00:00Z"}
    same = {"id": "1", "updated_at": "2026-11-02T10:00:00Z", "_sdc_deleted_at": None}
    kept, _ = newest_per_key([deletion, same], ["id"])
    assert kept == [deletion]
