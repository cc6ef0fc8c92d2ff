"""Power BI REST calls for push datasets, with token renewal.

A throttled, failing (5xx) or unreachable call raises ``TransientError`` (with Power BI's
Retry-After); the delivery contract's one retry policy decides whether to try again.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

import requests
import simplejson
from qbc_plugin_kit.retry import TransientError

from target_powerbi.auth import PowerBITokenProvider
from target_powerbi.errors import PowerBIRequestError, PowerBITlsError


class PowerBIClient:
    def __init__(
        self,
        *,
        session: requests.Session,
        auth: PowerBITokenProvider,
        api_url: str,
        workspace_id: str,
        timeout_seconds: float = 120.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._session = session
        self._auth = auth
        # Microsoft's docs give both "https://api.powerbi.com" and ".../v1.0/myorg" as the base.
        base = api_url.rstrip("/").removesuffix("/v1.0/myorg")
        self._myorg_url = f"{base}/v1.0/myorg"
        self._workspace_id = workspace_id
        self._group_url = f"{self._myorg_url}/groups/{workspace_id}"
        self._timeout = timeout_seconds
        self._logger = logger or logging.getLogger(__name__)
        self.request_count = 0

    # --- endpoints -------------------------------------------------------------------------

    def workspace(self) -> dict[str, Any] | None:
        """The configured workspace as the caller sees it (None: absent, or not a member)."""
        body = self._call("GET", "/groups", params={"$filter": f"id eq '{self._workspace_id}'"}, myorg=True)
        found = [g for g in (body or {}).get("value", [])
                 if str(g.get("id", "")).lower() == self._workspace_id.lower()]
        return found[0] if found else None

    def workspace_users(self) -> list[dict[str, Any]]:
        body = self._call("GET", "/users")
        return list((body or {}).get("value", []))

    def find_dataset(self, name: str) -> str | None:
        body = self._call("GET", "/datasets")
        matches = [d for d in (body or {}).get("value", []) if d.get("name") == name]
        if len(matches) > 1:
            raise PowerBIRequestError(409, "AmbiguousDataset",
                                      f"{len(matches)} datasets are named {name!r}; keep one or set another dataset_name",
                                      "GET /datasets")
        return str(matches[0]["id"]) if matches else None

    def create_dataset(self, name: str, tables: list[dict[str, Any]], retention_policy: str,
                       relationships: list[dict[str, Any]] | None = None) -> str:
        request: dict[str, Any] = {"name": name, "defaultMode": "Push", "tables": tables}
        if relationships:
            request["relationships"] = relationships
        body = self._call("POST", "/datasets", request, params={"defaultRetentionPolicy": retention_policy})
        return str(body["id"])

    def delete_dataset(self, dataset_id: str) -> None:
        self._call("DELETE", f"/datasets/{dataset_id}")

    def get_tables(self, dataset_id: str) -> dict[str, list[dict[str, Any]]]:
        body = self._call("GET", f"/datasets/{dataset_id}/tables")
        return {t["name"]: t.get("columns", []) for t in (body or {}).get("value", [])}

    def put_table(self, dataset_id: str, table: dict[str, Any]) -> None:
        self._call("PUT", f"/datasets/{dataset_id}/tables/{_quote(table['name'])}", table)

    def post_rows(self, dataset_id: str, table_name: str, rows: list[dict[str, Any]]) -> None:
        self._call("POST", f"/datasets/{dataset_id}/tables/{_quote(table_name)}/rows", {"rows": rows})

    def delete_rows(self, dataset_id: str, table_name: str) -> None:
        self._call("DELETE", f"/datasets/{dataset_id}/tables/{_quote(table_name)}/rows")

    # --- transport -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None,
              myorg: bool = False) -> Any:
        """``path`` is under the workspace (``/datasets``), or under ``/v1.0/myorg`` when ``myorg``."""
        describe = f"{method} {path}"
        payload = None if body is None else simplejson.dumps(body, use_decimal=True, ensure_ascii=False).encode("utf-8")
        url = (self._myorg_url if myorg else self._group_url) + path
        response = self._send(method, url, payload, params, describe)
        if _is_auth_failure(response):
            # One fresh token per request: a second rejection is a permissions problem.
            self._logger.info("Power BI rejected the access token (%s); acquiring a new one",
                              response.status_code)
            self._auth.invalidate()
            response = self._send(method, url, payload, params, describe)
        return _interpret(response, describe)

    def _send(self, method: str, url: str, payload: bytes | None, params: dict[str, str] | None,
              describe: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._auth.token()}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        self.request_count += 1
        try:
            return self._session.request(method, url, data=payload, params=params,
                                         headers=headers, timeout=self._timeout)
        except requests.exceptions.SSLError as exc:
            raise PowerBITlsError(f"the TLS certificate of {self._group_url.split('/v1.0/')[0]} could not be "
                                  f"verified ({_first_line(exc)})") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"{type(exc).__name__} on {describe} to "
                                 f"{self._group_url.split('/v1.0/')[0]}") from exc


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _error_fields(response: requests.Response) -> tuple[str, str]:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return "", response.text[:300]
    if isinstance(error, dict):
        return str(error.get("code", "")), str(error.get("message", ""))[:500]
    return str(error), ""


def _is_auth_failure(response: requests.Response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code == 403 and _error_fields(response)[0] == "TokenExpired"


def _interpret(response: requests.Response, describe: str) -> Any:
    status = response.status_code
    if 200 <= status < 300:
        if not response.content:
            return None
        return simplejson.loads(response.content, use_decimal=True)
    code, message = _error_fields(response)
    if status == 429 or status >= 500:
        retry_after = response.headers.get("Retry-After")
        wait = float(retry_after) if retry_after and retry_after.isdigit() else None
        raise TransientError(f"{status} {code or response.reason}: {message}", retry_after=wait)
    raise PowerBIRequestError(status, code or str(response.reason), message, describe)
