"""Both Intuit webhook payload formats reduced to one event shape.

Legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
"operation", "lastUpdated"}]}}]}``. CloudEvents (mandatory since 2026-05): a JSON array of
events with ``type`` like ``qbo.invoice.updated.v1``, ``intuitaccountid`` (the realm) and
``intuitentityid``.
"""

from __future__ import annotations

import typing as t

# CloudEvents types carry the entity in lower case; the API needs Intuit's spelling.
ENTITY_NAMES = {
    name.lower(): name
    for name in (
        "Account", "Attachable", "Bill", "BillPayment", "Budget", "Class", "CreditMemo",
        "Currency", "Customer", "Department", "Deposit", "Employee", "Estimate", "Invoice",
        "Item", "JournalCode", "JournalEntry", "Payment", "PaymentMethod", "Preferences",
        "Purchase", "PurchaseOrder", "RefundReceipt", "SalesReceipt", "TaxAgency", "Term",
        "TimeActivity", "Transfer", "Vendor", "VendorCredit", "CompanyCurrency", "CompanyInfo",
        "CustomerType", "TaxCode", "TaxRate",
    )
}


# CloudEvents name the operation with a past-tense verb; legacy payloads with the noun.
OPERATIONS = {"created": "Create", "updated": "Update", "deleted": "Delete", "merged": "Merge",
              "voided": "Void", "emailed": "Emailed"}


class PayloadError(ValueError):
    """The body is not one of Intuit's webhook formats."""


def _event(realm_id: t.Any, entity: t.Any, object_id: t.Any, operation: t.Any, when: t.Any) -> dict[str, t.Any]:
    if not realm_id or not entity or object_id in (None, ""):
        raise PayloadError("event without realm, entity or id")
    name = ENTITY_NAMES.get(str(entity).lower(), str(entity))
    return {
        "realm_id": str(realm_id),
        "entity": name,
        "id": str(object_id),
        "operation": OPERATIONS.get(str(operation or "").lower(), str(operation or "Update").capitalize()),
        "occurred_at": None if when is None else str(when),
    }


def parse_events(body: t.Any) -> list[dict[str, t.Any]]:
    if isinstance(body, dict) and "eventNotifications" in body:
        return _legacy(body["eventNotifications"])
    if isinstance(body, list):
        return [_cloud_event(item) for item in body]
    if isinstance(body, dict) and "specversion" in body:
        return [_cloud_event(body)]
    raise PayloadError("neither eventNotifications nor a CloudEvents array")


def _legacy(notifications: t.Any) -> list[dict[str, t.Any]]:
    events = []
    for notification in notifications or []:
        realm_id = notification.get("realmId")
        entities = (notification.get("dataChangeEvent") or {}).get("entities") or []
        for entity in entities:
            events.append(
                _event(realm_id, entity.get("name"), entity.get("id"), entity.get("operation"),
                       entity.get("lastUpdated"))
            )
    return events


def _cloud_event(item: t.Any) -> dict[str, t.Any]:
    if not isinstance(item, dict):
        raise PayloadError("CloudEvents entry is not an object")
    # type: "qbo.<entity>.<operation>.v1"
    parts = str(item.get("type", "")).split(".")
    if len(parts) < 3:
        raise PayloadError("CloudEvents type is not qbo.<entity>.<operation>.v<n>")
    data: dict[str, t.Any] = item["data"] if isinstance(item.get("data"), dict) else {}
    realm_id = item.get("intuitaccountid") or data.get("realmId")
    object_id = item.get("intuitentityid") or data.get("id")
    return _event(realm_id, parts[1], object_id, parts[2], item.get("time"))
