"""The version order's Python forms agree with the table of cases and with each other."""

from __future__ import annotations

import itertools

import pytest
from qbc_plugin_kit.version_cases import EQUAL, GRID, STRICTLY_NEWER
from qbc_plugin_kit.version_order import (
    arrival_stamp,
    newest_per_key,
    supersedes,
    version_key,
    version_text,
)


@pytest.mark.parametrize(("newer", "older"), STRICTLY_NEWER)
def test_a_newer_version_supersedes_and_an_older_one_does_not(newer: dict, older: dict) -> None:
    assert supersedes(newer, older)
    assert not supersedes(older, newer)


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions_let_the_later_arrival_win(a: dict, b: dict) -> None:
    assert supersedes(a, b) and supersedes(b, a)


def test_the_sortable_text_orders_exactly_as_the_key() -> None:
    for a, b in itertools.product(GRID, repeat=2):
        assert (version_key(a) < version_key(b)) == (version_text(a) < version_text(b)), (a, b)
        assert (version_key(a) == version_key(b)) == (version_text(a) == version_text(b)), (a, b)


def test_with_arrival_stamps_the_text_still_orders_exactly_as_the_key() -> None:
    for a, b in itertools.product(GRID, repeat=2):
        first, second = version_text(a, arrival_stamp()), version_text(b, arrival_stamp())
        if version_key(a) != version_key(b):
            assert (version_key(a) < version_key(b)) == (first < second), (a, b)


def test_a_later_arrival_of_a_version_less_record_orders_after_the_earlier_one() -> None:
    earlier, later = arrival_stamp(), arrival_stamp()
    assert later > earlier and len(later) == len(earlier)
    record = {"id": "1", "name": "Johny"}
    assert version_text(record, earlier) < version_text({"id": "1", "name": "Jon"}, later)
    # A record with any version field keeps one text whenever it arrives: a re-send is a duplicate.
    versioned = {"id": "1", "sync_token": 3}
    assert version_text(versioned, earlier) == version_text(versioned, later) == version_text(versioned)


def test_unreadable_version_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="updated_at"):
        version_key({"updated_at": "yesterday"})
    with pytest.raises(ValueError, match="sync_token"):
        version_key({"sync_token": -1})


def test_newest_per_key_keeps_the_newest_and_a_same_second_deletion() -> None:
    edit = {"id": "1", "updated_at": "2026-11-02T10:00:00Z", "edit_sequence": "1700000123"}
    deletion = {"id": "1", "updated_at": "2026-11-02T10:00:00Z", "_sdc_deleted_at": "2026-11-02T10:00:00Z"}
    kept, dropped = newest_per_key([deletion, edit, {"id": "2", "sync_token": 1}], ["id"])
    assert kept == [deletion, {"id": "2", "sync_token": 1}]
    assert dropped == 1


def test_newest_per_key_on_a_compound_key_distinct_repeated_and_missing() -> None:
    lines = [{"doc": "1", "line": str(i), "sync_token": 0} for i in range(3)]
    kept, dropped = newest_per_key(lines, ["doc", "line"])
    assert (kept, dropped) == (lines, 0)  # all distinct: as they came
    newer = {"doc": "1", "line": "1", "sync_token": 2}
    kept, dropped = newest_per_key([*lines, newer, {"doc": "1", "line": "1", "sync_token": 1}], ["doc", "line"])
    assert (kept, dropped) == ([lines[0], newer, lines[2]], 2)  # first place of the key, newest version
    # A record without a key field has the key None there (as dict.get reads it), like any other value.
    kept, dropped = newest_per_key([{"doc": "1", "sync_token": 1}, {"doc": "1", "line": None, "sync_token": 3}],
                                   ["doc", "line"])
    assert (kept, dropped) == ([{"doc": "1", "line": None, "sync_token": 3}], 1)
