"""Refresh-token rotation: persisted before use, never logged, expiry surfaced."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from tap_quickbooks_online.auth import RealmTokens
from tap_quickbooks_online.errors import AuthError
from tap_quickbooks_online.token_store import TokenStore


class FakeIntuit:
    """Token endpoint double: rotates on every refresh, old token dies at once."""

    def __init__(self, valid: str, refresh_days: float = 100) -> None:
        self.valid = valid
        self.refresh_days = refresh_days
        self.calls = 0

    def refresh(self, refresh_token: str) -> dict:
        self.calls += 1
        if refresh_token != self.valid:
            raise AuthError("Intuit refused the refresh_token grant: error=invalid_grant")
        self.valid = f"RT{self.calls}"
        return {"access_token": f"AT{self.calls}", "refresh_token": self.valid, "expires_in": 3600,
                "x_refresh_token_expires_in": self.refresh_days * 86400}


@pytest.fixture
def store(tmp_path):
    return TokenStore(tmp_path / "tokens", Fernet.generate_key())


def test_rotated_refresh_token_is_on_disk_before_the_access_token_is_returned(store):
    intuit = FakeIntuit("RT0")
    seen_on_disk = []
    original_save = store.save

    def spy_save(realm_id, tokens):
        original_save(realm_id, tokens)
        seen_on_disk.append(store.load(realm_id)["refresh_token"])

    store.save = spy_save
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")

    assert tokens.access_token() == "AT1"
    assert seen_on_disk == ["RT1"]


def test_failed_persist_means_the_new_access_token_is_never_used(store, monkeypatch):
    intuit = FakeIntuit("RT0")
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(store, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        tokens.access_token()
    assert tokens._access_token is None


def test_store_token_wins_over_stale_configured_token(store):
    intuit = FakeIntuit("RT0")
    RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0").access_token()
    store.save("1", {"access_token_expires_at": 0})  # force a refresh on the next run

    second_run = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    assert second_run.access_token() == "AT2"
    assert store.load("1")["refresh_token"] == "RT2"


def test_valid_stored_access_token_is_reused_without_refresh(store):
    intuit = FakeIntuit("RT0")
    RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0").access_token()
    RealmTokens("1", oauth=intuit, store=store).access_token()
    assert intuit.calls == 1


def test_invalidate_after_401_triggers_exactly_one_refresh(store):
    intuit = FakeIntuit("RT0")
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    first = tokens.access_token()
    tokens.invalidate(first)
    tokens.invalidate(first)
    assert tokens.access_token() == "AT2"
    assert intuit.calls == 2


def test_expiring_refresh_token_warns_without_the_token(store, caplog):
    intuit = FakeIntuit("RT0", refresh_days=5)
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0", refresh_warning_days=30)
    with caplog.at_level(logging.WARNING):
        tokens.access_token()
    assert "expires in 5.0 days" in caplog.text
    assert "RT1" not in caplog.text and "AT1" not in caplog.text


def test_dead_refresh_token_fails_with_instructions(store):
    tokens = RealmTokens("1", oauth=FakeIntuit("other"), store=store, configured_refresh_token="RT-dead")
    with pytest.raises(AuthError, match="invalid_grant") as info:
        tokens.access_token()
    assert "RT-dead" not in str(info.value)
