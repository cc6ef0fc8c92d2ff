"""Errors the tap raises, worded for the person running it.

No message built here may contain a token: callers pass only Intuit's fault text and ids.
"""

from __future__ import annotations

import re

# OAuth material that could leak through a third-party exception text (e.g. a URL
# or a form body echoed back): bearer tokens, refresh tokens, basic credentials.
_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+"),
    re.compile(r"(?i)((?:refresh_token|access_token|code|client_secret)[\"']?\s*[=:]\s*[\"']?)[^&\"',\s}]+"),
]


def redact(text: str, *secrets: str | None) -> str:
    """Remove known secret values and anything shaped like OAuth material from text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class QBOError(Exception):
    """Base class of every error the tap raises on purpose."""


class ConfigError(QBOError):
    """The configuration cannot work (missing key, missing realm, bad mode)."""


class TokenStoreError(QBOError):
    """The encrypted token store cannot be read or written."""


class AuthError(QBOError):
    """Intuit refused the credentials; retrying will not help."""


class APIError(QBOError):
    """Intuit answered with an error that retrying will not fix."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        intuit_tid: str | None = None,
        code: str | None = None,
    ) -> None:
        self.status = status
        self.intuit_tid = intuit_tid
        self.code = code
        suffix = f" (intuit_tid={intuit_tid})" if intuit_tid else ""
        super().__init__(message + suffix)


class RetriesExhausted(APIError):
    """A transient error (429, 5xx, timeout) outlasted the retry budget."""


class ObjectNotFound(APIError):
    """Intuit fault 610: the object was deleted (or never existed)."""


_FIXES: list[tuple[type[QBOError], str]] = [
    (RetriesExhausted, "Intuit or the network kept failing; run again later (the next run resumes from the "
                       "last STATE), or raise max_retries / request_timeout to wait longer"),
    (TokenStoreError, "check token_store_path and the key variable token_store_key_env names"),
    (AuthError, "run `tap-quickbooks-online auth` (meltano invoke tap-quickbooks-online:auth)"),
    (APIError, "check realm_id and the app's access to the company; Intuit's fault text is above"),
]


def with_fix(exc: QBOError) -> str:
    """The error's text ending in a ``Fix:``; most messages carry their own, the rest get their class's."""
    text = str(exc)
    if "Fix:" in text:
        return text
    fix = next((fix for kind, fix in _FIXES if isinstance(exc, kind)), "see the error above and run again")
    return f"{text.rstrip('. ')}. Fix: {fix}"
