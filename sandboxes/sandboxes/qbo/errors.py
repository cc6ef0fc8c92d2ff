"""Faults as Intuit shapes them (IntuitResponse.Fault in JSON)."""

from __future__ import annotations

from typing import Any


class QBOFault(Exception):
    """A 4xx/5xx answer with Intuit's `Fault` body."""

    def __init__(self, status: int, code: str, message: str, detail: str,
                 fault_type: str = "ValidationFault", element: str | None = None) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.fault_type = fault_type
        self.element = element

    def body(self, time: str) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": time}


def parse_error(detail: str) -> QBOFault:
    return QBOFault(400, "4000", "Error parsing query", f"QueryParserError: {detail}")


def invalid_query(detail: str) -> QBOFault:
    return QBOFault(400, "4001", "Invalid query", f"QueryValidationError: {detail}")


def not_found(entity: str, obj_id: str) -> QBOFault:
    return QBOFault(
        400, "610", "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {obj_id})",
        element="",
    )


def gateway_fault(message: str, code: str, status: int, detail: str, fault_type: str) -> dict[str, Any]:
    """The lower-case `fault` body Intuit's gateway answers with (401, 403, 429)."""
    return {
        "fault": {
            "error": [{
                "message": f"message={message}; errorCode={int(code):06d}; statusCode={status}",
                "detail": detail,
                "code": code,
            }],
            "type": fault_type,
        }
    }
