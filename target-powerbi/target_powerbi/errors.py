"""What Power BI and Azure AD answer that retrying cannot fix (see failures.classify)."""

from __future__ import annotations


class PowerBIAuthError(Exception):
    """Azure AD refused the credentials; ``error`` is its OAuth error (``invalid_client``,
    ``unauthorized_client``, ``invalid_tenant``...) and ``codes`` its AADSTS numbers."""

    def __init__(self, message: str, error: str = "", codes: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.error, self.codes = error, codes


class PowerBITlsError(Exception):
    """The TLS certificate of a host could not be verified against the trusted CAs."""


class PowerBIRequestError(Exception):
    """Power BI rejected a request for a reason a retry cannot fix (400, 403, 404, ...)."""

    def __init__(self, status: int, code: str, message: str, request: str) -> None:
        super().__init__(f"Power BI answered {status} {code} to {request}: {message}")
        self.status, self.code, self.request = status, code, request
