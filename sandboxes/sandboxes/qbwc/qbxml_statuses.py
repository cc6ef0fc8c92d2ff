"""qbXML status codes with the severity and message text QuickBooks Desktop returns.

Texts follow Intuit's "Status codes in response messages" appendix of the QuickBooks Desktop
SDK (0-499 Info, 500-999 Warn, 1000+ Error); 3391 is the text QuickBooks returns for an
iteratorID it no longer knows (seen through QBWC's getLastError in the wild).
"""

from __future__ import annotations

from dataclasses import dataclass

_STATUS: dict[int, tuple[str, str]] = {
    0: ("Info", "Status OK"),
    1: ("Info", "A query request did not find a matching object in QuickBooks"),
    500: ("Warn", 'The query request has not been fully completed. There was a required element ("{0}") that could not be found in QuickBooks.'),
    530: ("Warn", 'The field "{0}" is not supported by this implementation.'),
    1030: ("Error", "This request is not supported by this implementation."),
    3000: ("Error", 'The given object ID "{0}" in the field "{1}" is invalid.'),
    3020: ("Error", 'There was an error when converting the date value "{0}" in the field "{1}".'),
    3030: ("Error", "Invalid date range: From date is greater than To date."),
    3100: ("Error", 'The name "{0}" of the list element is already in use.'),
    3120: ("Error", 'Object "{0}" specified in the request cannot be found.'),
    # QuickBooks ends this one with a space (as captured from real responses).
    3200: ("Error", 'The provided edit sequence "{0}" is out-of-date. '),
    3391: ("Error", 'The iteratorID "{0}" is not valid.'),
}

# HRESULTs QuickBooks' request processor raises for a whole message (QBWC forwards them to
# receiveResponseXML's hresult/message and sends an empty response).
HRESULT_PARSE_ERROR = ("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
HRESULT_BAD_VERSION = ("0x80040428", "The version of QBXML that was requested is not supported or is unknown.")
HRESULT_NOT_RUNNING = ("0x80040408", "Could not start QuickBooks.")


@dataclass(frozen=True)
class Status:
    code: int
    severity: str
    message: str

    @classmethod
    def of(cls, code: int, *args: object) -> Status:
        severity, template = _STATUS[code]
        return cls(code, severity, template.format(*args))

    @property
    def is_error(self) -> bool:
        return self.severity == "Error"


class QBXMLParseError(Exception):
    """QuickBooks rejected the whole request message: no qbXML response, only an HRESULT."""

    def __init__(self, hresult: str, message: str, detail: str = "") -> None:
        super().__init__(f"{hresult}: {message}" + (f" ({detail})" if detail else ""))
        self.hresult = hresult
        self.message = message
        self.detail = detail


class RequestFailed(Exception):
    """One request inside a message failed: its response carries only this status."""

    def __init__(self, status: Status) -> None:
        super().__init__(status.message)
        self.status = status
