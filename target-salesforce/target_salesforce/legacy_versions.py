"""Versions stored in Salesforce by earlier releases, read in today's encoding.

``QuickBooks_Version__c`` used to hold ``<UTC time>|<sync_token>|<edit_sequence>`` with no
deletion flag (and a missing time written ``0000-00-00...``). Compared as plain text with
today's ``version_text`` (``<UTC time>|<deleted>|<sync_token>|<edit_sequence>``), such a value
would hold back a newer edit made in the same second, so it is re-encoded before comparing;
the deletion flag comes from the record's ``QuickBooks_Deleted_At__c``.
"""

from __future__ import annotations

_OLD_MISSING_TIME = "0000-00-00T00:00:00.000000"
_MISSING_TIME = "0001-01-01T00:00:00.000000"
_TOKEN_WIDTH = 21


def is_legacy(stored: str) -> bool:
    parts = stored.split("|")
    return len(parts) == 3 and len(parts[1]) == _TOKEN_WIDTH


def comparable(stored: str, deleted: bool = False) -> str:
    """``stored`` in the current encoding (unchanged when it already is)."""
    if not is_legacy(stored):
        return stored
    instant, token, sequence = stored.split("|")
    if instant == _OLD_MISSING_TIME:
        instant = _MISSING_TIME
    if sequence.startswith("1") and sequence[1:].isdigit():
        significant = sequence[1:].lstrip("0") or "0"
        sequence = f"1{len(significant):04d}{significant}"
    return "|".join((instant, "1" if deleted else "0", token, sequence))
