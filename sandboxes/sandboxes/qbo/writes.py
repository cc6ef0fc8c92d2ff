"""Intuit's write API (`POST /v3/company/{realm}/{entity}[?operation=delete|void]`) on top of the
control handle, so any QBO client (or a demo script) can change the company over HTTP."""

from __future__ import annotations

from typing import Any

from . import jsonfmt
from .catalog import ACTIVE_FLAG_ENTITIES
from .control import RealmHandle
from .errors import QBOFault, not_found

IGNORED_ON_UPDATE = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status"}


def stale_object(entity: str, obj_id: str) -> QBOFault:
    return QBOFault(400, "5010", "Stale Object Error",
                    f"Stale Object Error : You and another user were working on {entity} {obj_id} at the same time. "
                    "The other user finished before you did, so your work was not saved.")


def business_error(detail: str) -> QBOFault:
    return QBOFault(400, "6000", "A business validation error has occurred while processing your request",
                    f"Business Validation Error: {detail}")


def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = jsonfmt.loads(raw or b"{}")
    except ValueError:
        raise QBOFault(400, "2500", "Invalid Request", "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise QBOFault(400, "2500", "Invalid Request", "Request body must be a JSON object")
    return body


def write_kind(operation: str | None, body: dict[str, Any]) -> str:
    """The stats label of a write: create, update, delete or void."""
    return operation or ("update" if body.get("Id") else "create")


def apply_write(handle: RealmHandle, entity: str, operation: str | None, body: dict[str, Any], time_text: str) -> str:
    """Performs the write and returns the response body."""
    obj_id = str(body.get("Id", ""))
    try:
        if operation in ("delete", "void"):
            _current(handle, entity, obj_id, body)
            if operation == "delete":
                handle.delete(entity, obj_id)
                result: dict[str, Any] = {"domain": "QBO", "status": "Deleted", "Id": obj_id}
            else:
                result = handle.void(entity, obj_id)
            return jsonfmt.dumps({entity: result, "time": time_text})
        if operation:
            raise QBOFault(400, "2500", "Invalid Request", f"operation={operation} is not supported")
        if not obj_id:
            return jsonfmt.dumps({entity: handle.create(entity, body), "time": time_text})
        _current(handle, entity, obj_id, body)
        changes = {k: v for k, v in body.items() if k not in IGNORED_ON_UPDATE}
        if entity in ACTIVE_FLAG_ENTITIES and changes.get("Active") is False:
            updated = handle.deactivate(entity, obj_id)
            changes.pop("Active")
            if changes:
                updated = handle.update(entity, obj_id, changes)
        else:
            updated = handle.update(entity, obj_id, changes)
        return jsonfmt.dumps({entity: updated, "time": time_text})
    except ValueError as exc:
        raise business_error(str(exc)) from None


def _current(handle: RealmHandle, entity: str, obj_id: str, body: dict[str, Any]) -> dict[str, Any]:
    current = handle.get(entity, obj_id) if obj_id.isdigit() else None
    if current is None:
        raise not_found(entity, obj_id)
    if str(body.get("SyncToken", "")) != current["SyncToken"]:
        raise stale_object(entity, obj_id)
    return current
