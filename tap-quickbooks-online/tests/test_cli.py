"""The console script: SDK pass-through, `auth` against the sandbox's OAuth endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from tap_quickbooks_online.cli import main, parse_redirect
from tap_quickbooks_online.errors import QBOError
from tap_quickbooks_online.token_store import TokenStore

from .conftest import KEY_ENV, REALM
from .singer_run import run_sync


def test_about_marks_secrets_and_describes_every_setting():
    out = subprocess.run([sys.executable, "-c", "from tap_quickbooks_online.cli import main; main()",
                          "--about", "--format=json"], capture_output=True, text=True, check=True).stdout
    settings = json.loads(out)["settings"]["properties"]
    assert all(spec.get("description") for name, spec in settings.items() if name != "stream_maps")
    for secret in ("client_secret", "refresh_token", "webhook_verifier_token"):
        assert settings[secret].get("secret") is True
    assert settings["realms"]["items"]["properties"]["refresh_token"].get("secret") is True
    assert settings["minorversion"]["default"] == 75


@pytest.mark.e2e
def test_auth_exchanges_the_code_and_stores_tokens_encrypted(qbo_sandbox, tap_config, tmp_path, capsys):
    config = {k: v for k, v in tap_config.items() if k != "realms"}
    config.update(realm_id=REALM, redirect_uri="http://localhost:8765/callback")
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    session = requests.Session()
    session.trust_env = False
    authorize = session.get(
        qbo_sandbox.authorize_url,
        params={"client_id": qbo_sandbox.client_id, "redirect_uri": config["redirect_uri"], "response_type": "code",
                "scope": "com.intuit.quickbooks.accounting", "state": "s-123"},
        allow_redirects=False, timeout=10)
    redirect = authorize.headers["Location"]

    with pytest.raises(SystemExit) as exit_info:
        main(["auth", "--config", str(config_path), "--state", "s-123", "--redirect-url", redirect])

    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    stored = TokenStore(config["token_store_path"], os.environ[KEY_ENV]).load(REALM)
    assert stored["refresh_token"] not in printed and stored["access_token"] not in printed
    assert "client_id=" in printed and "state=s-123" in printed
    # The stored token is all the tap needs: no refresh_token in its config.
    assert run_sync(config, streams=["terms"]).rows("terms")


def test_redirect_with_a_foreign_state_is_refused():
    with pytest.raises(QBOError, match="state"):
        parse_redirect("http://localhost/cb?code=abc&state=evil&realmId=1", "mine")
    assert parse_redirect("http://localhost/cb?code=abc&state=mine&realmId=1", "mine") == ("abc", "1")
    assert parse_redirect("abc", "mine") == ("abc", None)
