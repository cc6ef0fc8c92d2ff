"""QBOSandbox: realms + OAuth authority + fault injector + webhook sender behind one HTTP server."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from sandboxes import require

from ..server_thread import ServerThread
from ..tls import LoopbackCertificate, make_loopback_certificate
from .control import RealmHandle
from .discovery import DISCOVERY_FILE, DISCOVERY_PATH
from .limits import FaultInjector, RealmStats
from .oauth import ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, TokenAuthority, TokenStats
from .realm import Realm, RealmSpec
from .server import SandboxHTTPServer
from .webhooks import WebhookSender
from .xsd_shape import XSD_FILES


class QBOSandbox:
    def __init__(
        self,
        realms: Sequence[RealmSpec | str] = (RealmSpec("9130350000000001"),),
        data_dir: str | Path | None = None,
        access_token_ttl: float = ACCESS_TOKEN_TTL,
        refresh_grace: float = 0.0,
        refresh_token_ttl: float = REFRESH_TOKEN_TTL,
        client_id: str | None = None,
        client_secret: str | None = None,
        webhook_verifier_token: str | None = None,
        port: int = 0,
        tls: bool = False,
    ) -> None:
        self.requested_port = port
        self.tls = tls
        self.certificate: LoopbackCertificate | None = None
        specs = [RealmSpec(r) if isinstance(r, str) else r for r in realms]
        if len({s.realm_id for s in specs}) != len(specs):
            raise ValueError("realm ids must be unique")
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="qbo-sandbox-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.authority = TokenAuthority(access_token_ttl=access_token_ttl, refresh_grace=refresh_grace,
                                        refresh_token_ttl=refresh_token_ttl)
        if client_id:
            self.authority.client_id = client_id
        if client_secret:
            self.authority.client_secret = client_secret
        self.webhook_verifier_token = webhook_verifier_token or secrets.token_urlsafe(24)
        self.realms: dict[str, Realm] = {s.realm_id: Realm(s, self.data_dir) for s in specs}
        self.generated: dict[str, dict[str, int]] = {}
        self.faults = FaultInjector()
        self.faults.expire_hook = self.authority.expire_access_tokens
        self.faults.revoke_hook = self.authority.revoke
        self.webhooks = WebhookSender(lambda: self.realms, self.webhook_verifier_token)
        self._serving: ServerThread | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> QBOSandbox:
        if self._serving is not None:
            return self
        # Answers are checked against Intuit's XSDs and the discovery document is Intuit's: without
        # them, refuse now, not mid-run.
        require(*(() if os.environ.get("QBO_XSD_DIR") else XSD_FILES), DISCOVERY_FILE)
        for realm_id, realm in self.realms.items():
            self.generated[realm_id] = realm.generate()
        context = None
        if self.tls:
            # Clients that hard-code https:// (and OAuth libraries that refuse plain http) trust
            # `certificate.ca_file`, as they would a corporate CA bundle.
            self.certificate = make_loopback_certificate(self.data_dir / "tls", label="qbo")
            context = self.certificate.server_context()
        self._serving = ServerThread.start(SandboxHTTPServer(self, self.requested_port, context), name="qbo-sandbox",
                                           poll_interval=0.05)
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None
        for realm in self.realms.values():
            realm.store.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> QBOSandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def serve_forever(self) -> None:
        if self._serving is not None:
            self._serving.wait()

    # addresses and credentials ---------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("sandbox not started")
        return self._serving.port

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth2/v1/tokens/bearer"

    @property
    def discovery_url(self) -> str:
        """Intuit's OpenID discovery document with this sandbox's endpoints (intuit-oauth's `environment`)."""
        return f"{self.base_url}{DISCOVERY_PATH}"

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/connect/oauth2"

    @property
    def revoke_url(self) -> str:
        return f"{self.base_url}/v2/oauth2/tokens/revoke"

    @property
    def client_id(self) -> str:
        return self.authority.client_id

    @property
    def client_secret(self) -> str:
        return self.authority.client_secret

    @property
    def realm_ids(self) -> list[str]:
        return list(self.realms)

    def api_url(self, realm_id: str) -> str:
        return f"{self.base_url}/v3/company/{realm_id}"

    def issue_authorization_code(self, realm_id: str, redirect_uri: str) -> str:
        self._realm(realm_id)
        return self.authority.issue_code(realm_id, redirect_uri)

    def issue_tokens(self, realm_id: str) -> dict[str, object]:
        self._realm(realm_id)
        return self.authority.issue(realm_id)

    # control ---------------------------------------------------------------------------------
    def _realm(self, realm_id: str) -> Realm:
        try:
            return self.realms[realm_id]
        except KeyError:
            raise KeyError(f"no realm {realm_id} in this sandbox (have {', '.join(self.realms)})") from None

    def realm(self, realm_id: str | None = None) -> RealmHandle:
        return RealmHandle(self._realm(realm_id or self.realm_ids[0]))

    def stats(self, realm_id: str | None = None) -> RealmStats:
        return self._realm(realm_id or self.realm_ids[0]).stats

    @property
    def token_stats(self) -> TokenStats:
        return self.authority.stats

    def reset_stats(self) -> None:
        for realm in self.realms.values():
            realm.stats = RealmStats()
        self.authority.stats = TokenStats()
