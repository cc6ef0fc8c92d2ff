"""Power BI's and Azure AD's errors sorted into the delivery contract's kinds of failure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from qbc_plugin_kit.failures import Kind, SystemicFailure, Verdict
from qbc_plugin_kit.retry import RetryPolicy, TransientError, call_with_retries

from target_powerbi.config import PROG, PowerBISettings
from target_powerbi.errors import PowerBIAuthError, PowerBIRequestError, PowerBITlsError

T = TypeVar("T")

# A POST rows answered with one of these refuses the rows themselves (a value or a row shape
# Power BI will not take): the batch is split until the refused rows are found.
_ROW_REFUSALS = (400, 413, 422)


def classifier(settings: PowerBISettings) -> Callable[[BaseException], Verdict]:
    """``classify(error)`` for these settings (fixes name the settings by name)."""
    workspace, dataset = settings.workspace_id, settings.dataset_name

    def classify(error: BaseException) -> Verdict:
        if isinstance(error, TransientError):
            return Verdict(Kind.TRANSIENT, str(error), retry_after=error.retry_after,
                           fix="check that api_url and authority_host are reachable from this machine "
                               "(proxy, firewall) and that Power BI is up, or raise max_retries; then run "
                               "again (nothing after the last delivered batch was marked done)")
        if isinstance(error, PowerBIAuthError):
            return Verdict(Kind.SYSTEMIC, str(error),
                           fix="check tenant_id, client_id and client_secret (and authority_host for a "
                               "national cloud), and that the service principal may use Power BI APIs")
        if isinstance(error, PowerBITlsError):
            return Verdict(Kind.SYSTEMIC, str(error),
                           fix="set ca_bundle to a PEM file with the CA that signed the host's certificate "
                               "(a TLS-inspecting proxy's CA), or check api_url and authority_host")
        if isinstance(error, PowerBIRequestError):
            return _request_verdict(error, workspace, dataset)
        return Verdict(Kind.REFUSED, f"{type(error).__name__}: {error}")

    return classify


def _request_verdict(error: PowerBIRequestError, workspace: Any, dataset: Any) -> Verdict:
    if error.request.startswith("POST") and error.request.endswith("/rows") and error.status in _ROW_REFUSALS:
        return Verdict(Kind.REFUSED, str(error))
    if error.status in (401, 403):
        return Verdict(Kind.SYSTEMIC, str(error),
                       fix=f"add the service principal (client_id) to workspace {workspace} as Contributor, "
                           "Member or Admin (a Viewer cannot push), and allow service principals to use Power BI "
                           f"APIs in the tenant settings; `{PROG} check` shows its role")
    if error.code == "GroupNotFound" or (error.status == 404 and "/datasets" not in error.request):
        return Verdict(Kind.SYSTEMIC, str(error),
                       fix=f"set workspace_id to the id of an existing workspace (now {workspace}) that the "
                           "service principal is a member of")
    if error.code == "AmbiguousDataset":
        return Verdict(Kind.SYSTEMIC, str(error),
                       fix=f"keep one dataset named {dataset!r} in the workspace or set another dataset_name")
    return Verdict(Kind.SYSTEMIC, str(error),
                   fix=f"check the push dataset {dataset!r} in workspace {workspace} (it may have been "
                       "changed or deleted by someone else) and run again")


def outside_batch(operation: Callable[[], T], *, describe: str, policy: RetryPolicy,
                  classify: Callable[[BaseException], Verdict], logger: logging.Logger) -> T:
    """Run Power BI work that no record owns (re-pushing the mirror's outbox): transient
    errors are retried under the same policy; anything else stops the run."""
    try:
        return call_with_retries(operation, policy, describe, logger)
    except SystemicFailure:
        raise
    except Exception as exc:
        verdict = classify(exc)
        raise SystemicFailure(f"{describe}: {verdict.message}",
                              verdict.fix or "fix the cause above and run again") from exc


def retry_policy(settings: PowerBISettings) -> RetryPolicy:
    """The kit's policy with this target's backoff settings (``max_retries`` retries)."""
    return RetryPolicy(max_attempts=settings.max_retries + 1, base_seconds=settings.backoff_base_seconds,
                       max_seconds=settings.backoff_max_seconds)
