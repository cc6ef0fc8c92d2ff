"""Turning QBO JSON objects into rows of the shared record model (docs/record-model.md)."""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

EDITION = "qbo"

Obj = dict[str, t.Any]


def ref_id(obj: Obj | None, field: str) -> str | None:
    value = (obj or {}).get(field)
    if isinstance(value, dict) and value.get("value") not in (None, ""):
        return str(value["value"])
    return None


def ref_name(obj: Obj | None, field: str) -> str | None:
    value = (obj or {}).get(field)
    if isinstance(value, dict) and value.get("name") is not None:
        return str(value["name"])
    return None


def money(value: t.Any) -> Decimal | None:
    """Amounts arrive as Decimal (parse_float); integers and strings are normalised to Decimal."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return None
    return Decimal(str(value))


def integer(value: t.Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def text(value: t.Any) -> str | None:
    return None if value is None else str(value)


def boolean(value: t.Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def date(value: t.Any) -> str | None:
    """QBO dates are ``YYYY-MM-DD``; some carry an offset (``2026-01-05-08:00``): keep the date."""
    if not value:
        return None
    return str(value)[:10]


def nested(obj: Obj | None, *path: str) -> t.Any:
    current: t.Any = obj
    for part in path:
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def parse_instant(value: str) -> dt.datetime:
    """QBO timestamps (always with an offset) as aware datetimes, for ordering only."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def version_key(obj: Obj) -> tuple[dt.datetime, int]:
    """Order of versions of one object: LastUpdatedTime, then SyncToken (record-model.md)."""
    updated = nested(obj, "MetaData", "LastUpdatedTime")
    instant = parse_instant(updated) if updated else dt.datetime.min.replace(tzinfo=dt.UTC)
    return instant, int(obj.get("SyncToken") or 0)


def common_columns(obj: Obj, company_id: str) -> Obj:
    return {
        "company_id": company_id,
        "edition": EDITION,
        "id": str(obj["Id"]),
        "created_at": nested(obj, "MetaData", "CreateTime"),
        "updated_at": nested(obj, "MetaData", "LastUpdatedTime"),
        "sync_token": integer(obj.get("SyncToken")),
        "edit_sequence": None,
        "_sdc_deleted_at": None,
    }


def address(value: Obj | None) -> Obj | None:
    if not isinstance(value, dict):
        return None
    return {
        "line1": text(value.get("Line1")),
        "line2": text(value.get("Line2")),
        "city": text(value.get("City")),
        "region": text(value.get("CountrySubDivisionCode")),
        "postal_code": text(value.get("PostalCode")),
        "country": text(value.get("Country")),
    }


def is_voided(obj: Obj) -> bool:
    """QBO has no void flag: a voided transaction keeps its Id, gets zero amounts and a
    PrivateNote starting with "Voided" (Intuit's UI and API both write it that way)."""
    note = str(obj.get("PrivateNote") or "")
    total = money(obj.get("TotalAmt"))
    return note.lower().startswith("voided") and (total is None or total == 0)


def deleted_row(schema_properties: t.Iterable[str], company_id: str, obj: Obj) -> Obj:
    """A header/list row for an object CDC reports as ``status: Deleted``: key, versions, null rest."""
    row: Obj = dict.fromkeys(schema_properties)
    updated = nested(obj, "MetaData", "LastUpdatedTime")
    row.update(
        company_id=company_id,
        edition=EDITION,
        id=str(obj["Id"]),
        updated_at=updated,
        sync_token=integer(obj.get("SyncToken")),
        _sdc_deleted_at=updated,
    )
    return row


def is_deleted(obj: Obj) -> bool:
    return str(obj.get("status", "")).lower() == "deleted"
