"""One table of version-order cases, shipped with the kit so that every form of the rule (the
Python key, the sortable text, each dialect's generated SQL, in the kit's and the targets' tests) is
checked against the same cases."""

from __future__ import annotations

import itertools
from typing import Any

# (newer, older): the first must supersede the second and not the other way round.
STRICTLY_NEWER: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"updated_at": "2026-11-02T10:00:01-08:00"}, {"updated_at": "2026-11-02T18:00:00+00:00"}),
    ({"updated_at": "2026-11-02T10:00:00Z", "sync_token": 12}, {"updated_at": "2026-11-02T10:00:00Z", "sync_token": 3}),
    ({"updated_at": "2026-11-02T10:00:00Z"}, {"updated_at": None, "sync_token": 99}),
    ({"edit_sequence": "10"}, {"edit_sequence": "9"}),
    ({"edit_sequence": "100000000000000000000000000000000000000001"}, {"edit_sequence": "99"}),
    ({"edit_sequence": "B"}, {"edit_sequence": "A"}),
    ({"edit_sequence": "A"}, {"edit_sequence": "99"}),
    ({"edit_sequence": "9"}, {"edit_sequence": None}),
    # QBD: an edit and a deletion in the same second; the deletion has no token or sequence.
    ({"updated_at": "2026-11-02T10:00:00-05:00", "_sdc_deleted_at": "2026-11-02T10:00:00-05:00"},
     {"updated_at": "2026-11-02T15:00:00Z", "edit_sequence": "1700000123"}),
    ({"updated_at": "2026-11-02T10:00:01Z"},
     {"updated_at": "2026-11-02T10:00:00Z", "_sdc_deleted_at": "2026-11-02T10:00:00Z"}),
    # A deletion without updated_at counts from when it was deleted.
    ({"updated_at": None, "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"},
     {"updated_at": "2026-11-02T09:00:00-08:00", "sync_token": 7}),
    ({"updated_at": "2026-11-05T00:00:00Z"}, {"updated_at": None, "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"}),
]
# Equal versions: each supersedes the other (the later arrival wins).
EQUAL: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"updated_at": "2026-11-02T10:00:00-08:00", "sync_token": 1}, {"updated_at": "2026-11-02T18:00:00Z", "sync_token": 1}),
    ({"edit_sequence": "007"}, {"edit_sequence": "7"}),
    ({}, {"updated_at": None, "sync_token": None, "edit_sequence": ""}),
]

# Every combination of a few values of each component, for the SQL cross-check.
GRID: list[dict[str, Any]] = [
    {"updated_at": u, "sync_token": s, "edit_sequence": e, "_sdc_deleted_at": d}
    for u, s, e, d in itertools.product(
        [None, "2026-11-02T10:00:00+00:00", "2026-11-02T11:00:00+00:00"], [None, 1, 2],
        [None, "9", "10", "010", "A"], [None, "2026-11-02T10:00:00+00:00", "2026-11-02T10:30:00+00:00"],
    )
]
