"""Power BI REST (push datasets) and its Azure AD tenant, served over TLS on 127.0.0.1.

One server answers both hosts of the real service, told apart by path: ``/{tenant}/...`` is
``login.microsoftonline.com`` and ``/v1.0/myorg/...`` is ``api.powerbi.com``.

The workspace holds a role per principal (``GET groups/{id}/users``, Microsoft's "Roles in
workspaces"): Admin, Member and Contributor may create datasets and push rows; a Viewer may
only read, and its writes are answered 401 ``PowerBINotAuthorizedException``. A principal
without a role does not see the workspace at all (404 ``GroupNotFound``), like a workspace
that does not exist. The service principal is listed by its object id (a token's ``oid``).
"""

from __future__ import annotations

import decimal
import re
from pathlib import Path
from typing import Any

from sandboxes.https_server import HttpsSandbox, Request, Response, bearer_token
from sandboxes.powerbi.azure_ad import TokenIssuer
from sandboxes.powerbi.push_datasets import PowerBIError, PushDatasetStore, PushLimits

_GROUP = r"/v1\.0/myorg/groups/(?P<group>[0-9a-fA-F-]{36})"
_GROUPS = re.compile(r"/v1\.0/myorg/groups$")
_ID_FILTER = re.compile(r"^\s*id\s+eq\s+'(?P<id>[^']*)'\s*$")
WORKSPACE_ROLES = ("Admin", "Member", "Contributor", "Viewer")
WRITE_ROLES = frozenset({"Admin", "Member", "Contributor"})
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(_GROUP + r"/users$"), "list_users"),
    ("GET", re.compile(_GROUP + r"/datasets$"), "list_datasets"),
    ("POST", re.compile(_GROUP + r"/datasets$"), "create_dataset"),
    ("DELETE", re.compile(_GROUP + r"/datasets/(?P<dataset>[^/]+)$"), "delete_dataset"),
    ("GET", re.compile(_GROUP + r"/datasets/(?P<dataset>[^/]+)/tables$"), "list_tables"),
    ("PUT", re.compile(_GROUP + r"/datasets/(?P<dataset>[^/]+)/tables/(?P<table>[^/]+)$"), "put_table"),
    ("POST", re.compile(_GROUP + r"/datasets/(?P<dataset>[^/]+)/tables/(?P<table>[^/]+)/rows$"), "post_rows"),
    ("DELETE", re.compile(_GROUP + r"/datasets/(?P<dataset>[^/]+)/tables/(?P<table>[^/]+)/rows$"), "delete_rows"),
]


class PowerBISandbox(HttpsSandbox):
    label = "powerbi"

    def __init__(
        self,
        *,
        tenant_id: str = "0f3e2d1c-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        client_id: str = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 - a local test credential
        workspace_id: str = "f089354e-8366-4e18-aea3-4cb4a3a50b48",
        workspace_name: str = "QuickBooks reporting",
        principal_object_id: str = "3d9b93c6-7b6d-4801-a491-1738910904fd",
        principal_role: str | None = "Admin",
        token_lifetime_seconds: int = 3599,
        limits: PushLimits | None = None,
        workdir: Path | None = None,
    ) -> None:
        super().__init__(workdir)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.workspace_id = workspace_id
        self.workspace_name = workspace_name
        self.issuer = TokenIssuer(tenant_id, client_id, client_secret, token_lifetime_seconds,
                                  object_id=principal_object_id)
        self.store = PushDatasetStore(limits)
        # identifier -> GroupUser (swagger definition): who holds which role in the workspace.
        self.workspace_users: dict[str, dict[str, str]] = {
            "admin@contoso.com": {"displayName": "Workspace Admin", "emailAddress": "admin@contoso.com",
                                  "identifier": "admin@contoso.com", "principalType": "User",
                                  "groupUserAccessRight": "Admin"}}
        self.set_principal_role(principal_role)

    def set_principal_role(self, role: str | None) -> None:
        """The service principal's role in the workspace (None: not a member of it)."""
        identifier = self.issuer.object_id
        if role is None:
            self.workspace_users.pop(identifier, None)
            return
        if role not in WORKSPACE_ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(WORKSPACE_ROLES)}")
        self.workspace_users[identifier] = {"displayName": "QuickBooks connectors", "identifier": identifier,
                                            "principalType": "App", "groupUserAccessRight": role}

    def _role(self, token: str | None) -> str | None:
        principal = self.issuer.principal(token)
        user = self.workspace_users.get(principal.object_id) if principal else None
        return user["groupUserAccessRight"] if user else None

    @property
    def authority_host(self) -> str:
        return self.url

    def target_config(self, **overrides: Any) -> dict[str, Any]:
        """Settings that point target-powerbi at this sandbox."""
        config = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "workspace_id": self.workspace_id,
            "authority_host": self.url,
            "api_url": self.url,
            "ca_bundle": str(self.ca_file),
        }
        config.update(overrides)
        return config

    def expire_tokens(self) -> None:
        self.issuer.expire_all()

    def route(self, request: Request) -> Response:
        tenant_prefix = f"/{self.tenant_id}"
        if request.path == f"{tenant_prefix}/v2.0/.well-known/openid-configuration":
            return self.issuer.openid_configuration(self.url)
        if request.path == f"{tenant_prefix}/oauth2/v2.0/token" and request.method == "POST":
            return self.issuer.token(request)
        if request.path.startswith("/v1.0/myorg/"):
            return self._api(request)
        if re.match(r"^/[^/]+/(v2\.0/\.well-known|oauth2/v2\.0/token)", request.path):
            return Response(400, {"error": "invalid_tenant",
                                  "error_description": "AADSTS90002: Tenant not found."})
        return Response(404, {"error": {"code": "NotFound", "message": f"no route for {request.path}"}})

    def _api(self, request: Request) -> Response:
        state = self.issuer.check(bearer_token(request))
        if state == "expired":
            # Power BI answers an expired token with 403 TokenExpired, not 401.
            return Response(403, {"error": {"code": "TokenExpired",
                                            "message": "Access token has expired, resubmit with a new access token"}})
        if state != "ok":
            return Response(401, {"error": {"code": "PowerBINotAuthorizedException",
                                            "message": "The access token is missing or invalid"}},
                            headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"'})
        role = self._role(bearer_token(request))
        if request.method == "GET" and _GROUPS.match(request.path):
            return self._list_groups(request, role)
        for method, pattern, handler in _ROUTES:
            match = pattern.match(request.path)
            if match and request.method == method:
                if match.group("group").lower() != self.workspace_id.lower() or role is None:
                    return Response(404, {"error": {"code": "GroupNotFound",
                                                    "message": "the workspace does not exist or the principal has no access"}})
                if method != "GET" and role not in WRITE_ROLES:
                    return Response(401, {"error": {"code": "PowerBINotAuthorizedException",
                                                    "message": f"the principal's role {role} in this workspace "
                                                               "does not allow this operation"}})
                try:
                    return getattr(self, f"_{handler}")(request, **match.groupdict())  # type: ignore[no-any-return]
                except PowerBIError as exc:
                    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
                    return Response(exc.status, {"error": {"code": exc.code, "message": exc.message}}, headers)
                except ValueError as exc:
                    return Response(400, {"error": {"code": "InvalidRequest", "message": f"malformed JSON: {exc}"}})
        return Response(404, {"error": {"code": "NotFound", "message": f"no route for {request.method} {request.path}"}})

    def _list_groups(self, request: Request, role: str | None) -> Response:
        groups = [] if role is None else [{"id": self.workspace_id, "isReadOnly": False,
                                           "isOnDedicatedCapacity": False, "name": self.workspace_name}]
        wanted = request.query_value("$filter")
        if wanted is not None:
            match = _ID_FILTER.match(wanted)
            if match is None:
                return Response(400, {"error": {"code": "InvalidRequest",
                                                "message": f"the sandbox filters only on id eq '...', not {wanted!r}"}})
            groups = [g for g in groups if str(g["id"]).lower() == match.group("id").lower()]
        return Response(200, {"@odata.context": f"{self.url}/v1.0/myorg/$metadata#groups", "value": groups})

    def _list_users(self, request: Request, group: str) -> Response:
        return Response(200, {"@odata.context": f"{self.url}/v1.0/myorg/$metadata#groupUsers",
                              "value": list(self.workspace_users.values())})

    def _list_datasets(self, request: Request, group: str) -> Response:
        return Response(200, {"@odata.context": f"{self.url}/v1.0/myorg/groups/{group}/$metadata#datasets",
                              "value": self.store.list_datasets(group)})

    def _create_dataset(self, request: Request, group: str) -> Response:
        created = self.store.create_dataset(group, request.json(), request.query_value("defaultRetentionPolicy"))
        return Response(201, created)

    def _delete_dataset(self, request: Request, group: str, dataset: str) -> Response:
        self.store.delete_dataset(group, dataset)
        return Response(200)

    def _list_tables(self, request: Request, group: str, dataset: str) -> Response:
        return Response(200, {"value": self.store.list_tables(group, dataset)})

    def _put_table(self, request: Request, group: str, dataset: str, table: str) -> Response:
        return Response(200, self.store.put_table(group, dataset, table, request.json()))

    def _post_rows(self, request: Request, group: str, dataset: str, table: str) -> Response:
        self.store.post_rows(group, dataset, table, request.json(parse_float=decimal.Decimal))
        return Response(200)

    def _delete_rows(self, request: Request, group: str, dataset: str, table: str) -> Response:
        self.store.delete_rows(group, dataset, table)
        return Response(200)
