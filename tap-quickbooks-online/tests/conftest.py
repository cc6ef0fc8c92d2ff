"""Fixtures: a QBO sandbox per test and a tap config pointing at it."""

from __future__ import annotations

import typing as t

import pytest
from cryptography.fernet import Fernet
from sandboxes.qbo.fixtures import qbo_sandbox, qbo_sandbox_factory  # noqa: F401

REALM = "9130350000000001"
KEY_ENV = "TAP_QBO_TEST_TOKEN_KEY"


@pytest.fixture(autouse=True)
def token_store_key(monkeypatch) -> str:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)
    return key


def make_config(sandbox: t.Any, tmp_path: t.Any, realms: t.Sequence[str] | None = None, **overrides: t.Any) -> dict[str, t.Any]:
    realm_ids = list(realms or sandbox.realm_ids)
    config: dict[str, t.Any] = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "realms": [{"realm_id": r, "refresh_token": sandbox.issue_tokens(r)["refresh_token"]} for r in realm_ids],
        "base_url": sandbox.base_url,
        "token_url": sandbox.token_url,
        "authorize_url": sandbox.authorize_url,
        "token_store_path": str(tmp_path / "tokens.fernet"),
        "token_store_key_env": KEY_ENV,
        "webhook_journal_path": str(tmp_path / "journal.jsonl"),
        "webhook_verifier_token": sandbox.webhook_verifier_token,
        "report_start_date": "2026-01-01",
        "report_end_date": "2026-12-31",
        "backoff_base_seconds": 0.05,
    }
    config.update(overrides)
    return config


@pytest.fixture
def tap_config(qbo_sandbox, tmp_path) -> dict[str, t.Any]:  # noqa: F811
    return make_config(qbo_sandbox, tmp_path)
