"""A Looker API 4.0 stand-in on 127.0.0.1: login, session, project validate/deploy, datagroups,
dashboards and looks (read), scheduled plans (list, search, create, update, delete).

Every request (its query parameters and body) and every response body is checked against
Looker.4.0.oas.json; a request that does not conform gets the 400 (parameters) or 422 (body)
Looker would send, and anything non-conforming (either way) is recorded in ``violations`` for
tests to assert on.
Faults: ``fail_next`` (429 with Retry-After, 5xx, 401 ...), ``expire_tokens``.

Scheduled plans follow create_scheduled_plan's documented rules (a name; one of look_id,
dashboard_id, lookml_dashboard_id or query_id that exists; crontab or datagroup; at least one
destination of type email, webhook, s3 or sftp; require_* set for a look), answered with 422
otherwise. ``secret_parameters`` is write-only: kept, never returned (``plan_secrets`` shows it).

A project given a folder in ``project_remotes`` stands for its git remote: deploying the project
makes the LookML dashboards found there the production ones (id ``model::name``, as Looker names a
dashboard of a model's project), and a dashboard gone from the folder is gone after the next deploy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import http.server
import json
import pathlib
import secrets
import ssl
import tempfile
import threading
import time
import typing as t
import urllib.parse

import yaml

from sandboxes.looker import openapi

DOCS = "https://cloud.google.com/looker/docs/r/api/4.0"


@dataclasses.dataclass
class _Token:
    value: str
    expires_at: float
    workspace_id: str = "production"


@dataclasses.dataclass
class _Fault:
    operation: str
    status: int
    times: int
    retry_after: int | None = None


@dataclasses.dataclass
class Call:
    method: str
    path: str
    operation: str
    status: int


class LookerSandbox:
    """``with LookerSandbox() as looker: looker.base_url`` (the SDK adds ``/api/4.0``)."""

    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str | None = None,
        token_ttl: int = 3600,
        projects: t.Sequence[str] = ("quickbooks",),
        datagroups: t.Sequence[tuple[str, str]] = (("quickbooks", "quickbooks_etl"),),
        tls: bool = False,
        dashboards: t.Sequence[tuple[str, str]] = (),
        looks: t.Sequence[tuple[str, str]] = (),
        project_remotes: t.Mapping[str, str | pathlib.Path] | None = None,
        permissions: t.Sequence[str] = ("access_data", "see_lookml", "develop", "deploy", "see_schedules",
                                        "create_alerts", "schedule_look_emails"),
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.token_ttl = token_ttl
        # What the API user's role grants (Looker permission names); `develop` lets it validate
        # a project in its dev workspace, `deploy` deploy it to production.
        self.permissions = list(permissions)
        self.tls = tls
        self.ca_file: str | None = None
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._faults: list[_Fault] = []
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.logins = 0
        self.project_errors: list[dict[str, t.Any]] = []
        self.projects: dict[str, dict[str, int]] = {
            p: {"reset": 0, "validated": 0, "deployed": 0} for p in projects
        }
        self.datagroups: dict[str, dict[str, t.Any]] = {
            str(i + 1): {
                "id": str(i + 1), "model_name": model, "name": name, "created_at": int(time.time()),
                "stale_before": None, "triggered_at": None, "trigger_check_at": None,
                "trigger_error": None, "trigger_value": None, "can": {"update": True},
            }
            for i, (model, name) in enumerate(datagroups)
        }
        # id -> {"id", "title", "deleted"}; LookML dashboards use their "model::name" id.
        self.dashboards: dict[str, dict[str, t.Any]] = {
            i: {"id": i, "title": title, "deleted": False} for i, title in dashboards}
        self.looks: dict[str, dict[str, t.Any]] = {
            i: {"id": i, "title": title, "deleted": False} for i, title in looks}
        self.project_remotes = {k: pathlib.Path(v) for k, v in (project_remotes or {}).items()}
        self._deployed_dashboards: dict[str, set[str]] = {}
        self.scheduled_plans: dict[str, dict[str, t.Any]] = {}
        self._request = threading.local()  # the query string of the request a thread serves
        self.plan_secrets: dict[str, list[str | None]] = {}
        self._next_plan_id = 1
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "sandbox not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, operation: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` calls of ``operation`` (operationId, or "*") with ``status``."""
        with self._lock:
            self._faults.append(_Fault(operation, status, times, retry_after))

    def expire_tokens(self) -> None:
        """Make every issued token expire now (the client sees 401 on its next call)."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = 0

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    def start(self) -> LookerSandbox:
        handler = _handler_for(self)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if self.tls:
            cert, key = _self_signed()
            directory = tempfile.mkdtemp(prefix="looker-sandbox-")
            cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
            with open(cert_path, "wb") as f:
                f.write(cert)
            with open(key_path, "wb") as f:
                f.write(key)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_path, key_path)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.ca_file = cert_path
        self._thread = threading.Thread(target=self._server.serve_forever, name="looker-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LookerSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ----------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: t.Mapping[str, str], body: bytes) -> tuple[int, t.Any, dict[str, str]]:
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        # looker-sdk logs out on /api/logout (no version) while the spec lists /logout.
        if path == "/api/logout":
            path = "/api/4.0/logout"
        if not path.startswith("/api/4.0/"):
            return 404, _error("Not found"), {}
        relative = path[len("/api/4.0"):]
        found = openapi.find_operation(method, relative)
        if found is None:
            return 404, _error("Not found"), {}
        template, operation = found
        op_id = operation["operationId"]
        status, payload, extra = self._dispatch(method, template, relative, operation, headers, body, parsed.query)
        if payload is not None or status != 204:
            problems = openapi.response_errors(operation, status, payload)
            if problems:
                with self._lock:
                    self.violations.extend(f"response {op_id} {status}: {p}" for p in problems)
        with self._lock:
            self.calls.append(Call(method, relative, op_id, status))
        return status, payload, extra

    def _take_fault(self, op_id: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation in (op_id, "*") and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _dispatch(
        self, method: str, template: str, relative: str, operation: dict[str, t.Any],
        headers: t.Mapping[str, str], body: bytes, query: str,
    ) -> tuple[int, t.Any, dict[str, str]]:
        op_id = operation["operationId"]
        fault = self._take_fault(op_id)
        if fault is not None:
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            message = {401: "Requires authentication.", 429: "Too many requests"}.get(fault.status, "Internal error")
            return fault.status, _error(message), extra
        if op_id == "login":
            return self._login(headers, body, query)
        token = self._authenticate(headers)
        if token is None:
            return 401, _error("Requires authentication."), {}
        document: t.Any = None
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                return 400, _error("Request body is not JSON"), {}
        parameters = urllib.parse.parse_qs(query, keep_blank_values=True)
        problems = openapi.query_errors(operation, parameters)
        if problems:
            with self._lock:
                self.violations.extend(f"request {op_id}: {p}" for p in problems)
            return 400, _error(f"Bad request: {'; '.join(problems)}"), {}
        problems = openapi.request_errors(operation, document)
        if problems:
            with self._lock:
                self.violations.extend(f"request {op_id}: {p}" for p in problems)
            return 422, _validation_error(problems), {}
        parts = relative.strip("/").split("/")
        handler = getattr(self, f"_op_{op_id}", None)
        if handler is None:
            return 404, _error(f"{op_id} is not served by the sandbox"), {}
        self._request.query = parameters
        return t.cast(tuple[int, t.Any, dict[str, str]], handler(token, parts, document))

    def _login(self, headers: t.Mapping[str, str], body: bytes, query: str) -> tuple[int, t.Any, dict[str, str]]:
        form = urllib.parse.parse_qs(body.decode("utf-8")) if body else {}
        if not form:
            form = urllib.parse.parse_qs(query)
        client_id = (form.get("client_id") or [""])[0]
        client_secret = (form.get("client_secret") or [""])[0]
        ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) and hmac.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        )
        if not ok:
            return 404, _error("Not found"), {}
        value = secrets.token_urlsafe(30)
        with self._lock:
            self._tokens[value] = _Token(value, time.monotonic() + self.token_ttl)
            self.logins += 1
        return 200, {"access_token": value, "token_type": "Bearer", "expires_in": self.token_ttl,
                     "refresh_token": None}, {}

    def _authenticate(self, headers: t.Mapping[str, str]) -> _Token | None:
        auth = headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not value:
            return None
        with self._lock:
            for known, token in self._tokens.items():
                if hmac.compare_digest(known.encode(), value.encode()):
                    return token if token.expires_at > time.monotonic() else None
        return None

    # -- operations ----------------------------------------------------------------------

    def _op_logout(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        with self._lock:
            self._tokens.pop(token.value, None)
        return 204, None, {}

    def _session(self, token: _Token) -> dict[str, t.Any]:
        return {"workspace_id": token.workspace_id, "sudo_user_id": None, "can": {"view": True, "update": True}}

    def _op_session(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        return 200, self._session(token), {}

    def _op_update_session(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        workspace = body.get("workspace_id")
        if workspace not in ("dev", "production"):
            return 422, _validation_error([f"workspace_id: unknown workspace {workspace!r}"]), {}
        token.workspace_id = workspace
        return 200, self._session(token), {}

    def _op_me(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        return 200, _only_fields({"id": "1", "display_name": "quickbooks-loader", "role_ids": ["1"],
                                  "is_disabled": False}, self._request.query), {}

    def _op_user_roles(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        if urllib.parse.unquote(parts[1]) != "1":
            return 404, _error("Not found"), {}
        permission_set = {"id": "1", "name": "QuickBooks loader", "all_access": False, "built_in": False,
                          "permissions": list(self.permissions)}
        return 200, [{"id": "1", "name": "QuickBooks loader", "permission_set": permission_set}], {}

    def _project(self, parts: list[str]) -> dict[str, int] | None:
        return self.projects.get(urllib.parse.unquote(parts[1]))

    def _op_project(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        if self._project(parts) is None:
            return 404, _error("Not found"), {}
        name = urllib.parse.unquote(parts[1])
        return 200, {"id": name, "name": name, "uses_git": True, "is_git_dev_locked": False}, {}

    def _op_reset_project_to_remote(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        project = self._project(parts)
        if project is None:
            return 404, _error("Not found"), {}
        if token.workspace_id != "dev":
            return 422, _validation_error(["workspace_id: must be in dev mode"]), {}
        project["reset"] += 1
        return 204, None, {}

    def _op_validate_project(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        project = self._project(parts)
        if project is None:
            return 404, _error("Not found"), {}
        project["validated"] += 1
        return 200, {"errors": list(self.project_errors), "project_digest": secrets.token_hex(8),
                     "models_not_validated": [], "computation_time": 0.01}, {}

    def _op_deploy_to_production(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        project = self._project(parts)
        if project is None:
            return 404, _error("Not found"), {}
        if token.workspace_id != "dev":
            return 422, _validation_error(["workspace_id: must be in dev mode to deploy"]), {}
        project["deployed"] += 1
        self._deploy_dashboards(urllib.parse.unquote(parts[1]))
        return 204, None, {}

    def _deploy_dashboards(self, project: str) -> None:
        remote = self.project_remotes.get(project)
        if remote is None:
            return
        models = sorted(p.name.removesuffix(".model.lkml") for p in remote.glob("*.model.lkml"))
        found: dict[str, str] = {}
        for path in sorted(remote.rglob("*.dashboard.lookml")):
            for dashboard in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
                for model in models:
                    found[f"{model}::{dashboard['dashboard']}"] = str(dashboard.get("title") or dashboard["dashboard"])
        with self._lock:
            for gone in self._deployed_dashboards.get(project, set()) - set(found):
                self.dashboards.pop(gone, None)
            for dashboard_id, title in found.items():
                self.dashboards[dashboard_id] = {"id": dashboard_id, "title": title, "deleted": False}
            self._deployed_dashboards[project] = set(found)

    def _op_all_datagroups(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        with self._lock:
            return 200, [dict(d) for d in self.datagroups.values()], {}

    def _op_update_datagroup(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        datagroup = self.datagroups.get(urllib.parse.unquote(parts[1]))
        if datagroup is None:
            return 404, _error("Not found"), {}
        now = int(time.time())
        for field in ("stale_before", "triggered_at"):
            value = body.get(field)
            if value is not None and value > now + 1:
                return 422, _validation_error([f"{field}: cannot be in the future"]), {}
        with self._lock:
            datagroup.update({k: body[k] for k in ("stale_before", "triggered_at") if k in body})
            return 200, dict(datagroup), {}

    # -- dashboards, looks, scheduled plans --------------------------------------------

    def _content(self, kind: dict[str, dict[str, t.Any]], parts: list[str]) -> tuple[int, t.Any, dict[str, str]]:
        found = kind.get(urllib.parse.unquote(parts[1]))
        if found is None:
            return 404, _error("Not found"), {}
        return 200, _only_fields(dict(found), self._request.query), {}

    def _op_dashboard(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        return self._content(self.dashboards, parts)

    def _op_look(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        return self._content(self.looks, parts)

    def _plan_problems(self, plan: dict[str, t.Any]) -> list[str]:
        problems = []
        if not plan.get("name"):
            problems.append("name: is required")
        targets = [k for k in ("look_id", "dashboard_id", "lookml_dashboard_id", "query_id") if plan.get(k)]
        if len(targets) != 1:
            problems.append("look_id: exactly one of look_id, dashboard_id, lookml_dashboard_id, query_id is required")
        for key, kind in (("dashboard_id", self.dashboards), ("lookml_dashboard_id", self.dashboards),
                          ("look_id", self.looks)):
            value = plan.get(key)
            if value and (value not in kind or kind[value]["deleted"]):
                problems.append(f"{key}: {value} not found")
        if plan.get("look_id") and any(plan.get(k) is None for k in
                                       ("require_results", "require_no_results", "require_change")):
            problems.append("require_results: require_results, require_no_results and require_change are required with look_id")
        crontab = plan.get("crontab")
        if not crontab and not plan.get("datagroup"):
            problems.append("crontab: crontab or datagroup is required")
        if crontab and len(crontab.split()) != 5:
            problems.append(f"crontab: {crontab!r} is not a five-field crontab")
        destinations = plan.get("scheduled_plan_destination") or []
        if not destinations:
            problems.append("scheduled_plan_destination: at least one destination is required")
        for index, destination in enumerate(destinations):
            if destination.get("type") not in ("email", "webhook", "s3", "sftp"):
                problems.append(f"scheduled_plan_destination/{index}/type: {destination.get('type')!r} is not "
                                "email, webhook, s3 or sftp")
            for field in ("parameters", "secret_parameters"):
                if destination.get(field) is not None:
                    try:
                        parsed = json.loads(destination[field])
                    except ValueError:
                        parsed = None
                    if not isinstance(parsed, dict):
                        problems.append(f"scheduled_plan_destination/{index}/{field}: must be a JSON object")
        return problems

    def _stored_plan(self, plan_id: str, plan: dict[str, t.Any]) -> dict[str, t.Any]:
        destinations = []
        secrets_kept = []
        for index, destination in enumerate(plan.get("scheduled_plan_destination") or []):
            secrets_kept.append(destination.get("secret_parameters"))
            kept = {k: v for k, v in destination.items() if k != "secret_parameters"}
            destinations.append({**kept, "id": f"{plan_id}{index:03d}", "scheduled_plan_id": plan_id,
                                 "looker_recipient": False})
        self.plan_secrets[plan_id] = secrets_kept
        now = dt.datetime.now(dt.UTC).isoformat()
        return {
            **{k: v for k, v in plan.items() if k != "scheduled_plan_destination"},
            "scheduled_plan_destination": destinations,
            "id": plan_id, "user_id": "1",
            "user": {"id": "1", "first_name": "API", "last_name": "User", "display_name": "API User",
                     "avatar_url": f"{self.base_url}/avatar/1", "url": f"{self.base_url}/api/4.0/users/1",
                     "can": {}},
            "created_at": self.scheduled_plans.get(plan_id, {}).get("created_at", now), "updated_at": now,
            "title": self._plan_title(plan), "next_run_at": None, "last_run_at": None,
            "can": {"show": True, "update": True, "destroy": True},
        }

    def _plan_title(self, plan: dict[str, t.Any]) -> str | None:
        for key, kind in (("dashboard_id", self.dashboards), ("lookml_dashboard_id", self.dashboards),
                          ("look_id", self.looks)):
            if plan.get(key) in kind:
                return str(kind[plan[key]]["title"])
        return None

    def _op_create_scheduled_plan(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        problems = self._plan_problems(body)
        if problems:
            return 422, _validation_error(problems), {}
        with self._lock:
            plan_id = str(self._next_plan_id)
            self._next_plan_id += 1
            self.scheduled_plans[plan_id] = self._stored_plan(plan_id, body)
            return 200, _response_plan(self.scheduled_plans[plan_id]), {}

    def _op_update_scheduled_plan(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        plan_id = urllib.parse.unquote(parts[1])
        current = self.scheduled_plans.get(plan_id)
        if current is None:
            return 404, _error("Not found"), {}
        merged = {k: v for k, v in current.items() if k in _writable_plan_fields()}
        merged["scheduled_plan_destination"] = [
            {**{k: v for k, v in d.items() if k not in ("id", "scheduled_plan_id", "looker_recipient")},
             "secret_parameters": secret}
            for d, secret in zip(current["scheduled_plan_destination"], self.plan_secrets.get(plan_id, []), strict=False)
        ]
        merged.update(body)
        # An enabled plan must be deliverable; a disabled one may point at a missing dashboard.
        problems = [p for p in self._plan_problems(merged)
                    if merged.get("enabled", True) or " not found" not in p]
        if problems:
            return 422, _validation_error(problems), {}
        with self._lock:
            self.scheduled_plans[plan_id] = self._stored_plan(plan_id, merged)
            return 200, _response_plan(self.scheduled_plans[plan_id]), {}

    def _op_delete_scheduled_plan(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        with self._lock:
            if self.scheduled_plans.pop(urllib.parse.unquote(parts[1]), None) is None:
                return 404, _error("Not found"), {}
        return 204, None, {}

    def _op_scheduled_plan(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        plan = self.scheduled_plans.get(urllib.parse.unquote(parts[1]))
        if plan is None:
            return 404, _error("Not found"), {}
        return 200, _only_fields(_response_plan(plan), self._request.query), {}

    def _op_all_scheduled_plans(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        with self._lock:
            plans = [_only_fields(_response_plan(p), self._request.query) for p in self.scheduled_plans.values()]
        return 200, plans, {}

    def _op_search_scheduled_plans(self, token: _Token, parts: list[str], body: t.Any) -> tuple[int, t.Any, dict[str, str]]:
        wanted = {k: v[0] for k, v in self._request.query.items()
                  if k in ("name", "dashboard_id", "look_id", "lookml_dashboard_id")}
        with self._lock:
            plans = [_only_fields(_response_plan(p), self._request.query) for p in self.scheduled_plans.values()
                     if all(str(p.get(k)) == v for k, v in wanted.items())]
        return 200, plans, {}


def _writable_plan_fields() -> frozenset[str]:
    properties = openapi.load_spec()["components"]["schemas"]["WriteScheduledPlan"]["properties"]
    return frozenset(properties) - {"scheduled_plan_destination"}


def _response_plan(plan: dict[str, t.Any]) -> dict[str, t.Any]:
    return json.loads(json.dumps(plan))


def _only_fields(document: dict[str, t.Any], query: dict[str, list[str]]) -> dict[str, t.Any]:
    """Looker's ``fields`` parameter: only the named top-level fields are returned."""
    fields = (query.get("fields") or [""])[0]
    if not fields:
        return document
    names = {f.strip() for f in fields.split(",") if f.strip()}
    return {k: v for k, v in document.items() if k in names}


def _error(message: str) -> dict[str, t.Any]:
    return {"message": message, "documentation_url": DOCS}


def _validation_error(problems: list[str]) -> dict[str, t.Any]:
    return {
        "message": "Validation Failed",
        "errors": [{"field": p.split(":", 1)[0], "code": "invalid", "message": p, "documentation_url": DOCS}
                   for p in problems],
        "documentation_url": DOCS,
    }


def _handler_for(sandbox: LookerSandbox) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: t.Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, payload, extra = sandbox.handle(self.command, self.path, dict(self.headers), body)
            except Exception as error:  # a sandbox bug must surface as a 500, not a hang
                status, payload, extra = 500, _error(f"sandbox error: {type(error).__name__}: {error}"), {}
            data = b"" if payload is None and status == 204 else json.dumps(payload).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    return Handler


def _self_signed() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
