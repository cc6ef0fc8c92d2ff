from __future__ import annotations

import datetime as dt

import pytest
from qbc_plugin_kit.versioning import version_text


def test_updated_at_orders_first_across_utc_offsets() -> None:
    # 10:00-05:00 is 15:00 UTC: later than 14:00Z even though its wall clock reads earlier.
    older = version_text({"updated_at": "2024-03-01T14:00:00Z", "sync_token": "99"})
    newer = version_text({"updated_at": "2024-03-01T10:00:00-05:00", "sync_token": "1"})
    assert older < newer


def test_same_instant_in_different_offsets_is_the_same_version() -> None:
    assert version_text({"updated_at": "2024-03-01T15:00:00+00:00"}) == \
        version_text({"updated_at": dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5)))})


def test_naive_timestamps_are_read_as_utc() -> None:
    assert version_text({"updated_at": "2024-03-01T15:00:00"}) == version_text({"updated_at": "2024-03-01T15:00:00Z"})


def test_sync_token_compares_as_a_number() -> None:
    stamp = "2024-03-01T15:00:00Z"
    assert version_text({"updated_at": stamp, "sync_token": "9"}) < version_text({"updated_at": stamp, "sync_token": "10"})
    assert version_text({"updated_at": stamp}) < version_text({"updated_at": stamp, "sync_token": "0"})


def test_edit_sequence_digits_compare_as_numbers() -> None:
    stamp = "2024-03-01T15:00:00Z"
    assert version_text({"updated_at": stamp, "edit_sequence": "999"}) < \
        version_text({"updated_at": stamp, "edit_sequence": "1000"})
    assert version_text({"updated_at": stamp}) < version_text({"updated_at": stamp, "edit_sequence": "1"})


def test_missing_updated_at_is_older_than_any_timestamp() -> None:
    assert version_text({}) < version_text({"updated_at": "1970-01-01T00:00:00Z"})


def test_a_non_timestamp_is_refused() -> None:
    with pytest.raises(ValueError):
        version_text({"updated_at": 1700000000})
