"""Refresh-token rotation: persisted before use, never logged, expiry surfaced."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from tap_quickbooks_online.auth import RealmTokens, origin_of
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
    original_write = store._write_unlocked

    def spy_write(blob):
        original_write(blob)
        seen_on_disk.append(sorted(e["refresh_token"] for e in store._read_unlocked().values()))

    store._write_unlocked = spy_write  # type: ignore[method-assign]
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")

    assert tokens.access_token() == "AT1"
    assert seen_on_disk == [["RT1"]]


def test_failed_persist_means_the_new_access_token_is_never_used(store, monkeypatch):
    intuit = FakeIntuit("RT0")
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(store, "_write_unlocked", crash)
    with pytest.raises(OSError, match="disk full"):
        tokens.access_token()
    assert tokens._access_token is None


def test_store_token_wins_over_stale_configured_token(store):
    intuit = FakeIntuit("RT0")
    first_run = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    first_run.access_token()
    first_run.confirm_realm()  # the API answered for realm 1
    store.save("1", {"access_token_expires_at": 0})  # force a refresh on the next run

    second_run = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    assert second_run.access_token() == "AT2"
    assert store.load("1")["refresh_token"] == "RT2"


def test_valid_stored_access_token_is_reused_without_refresh(store):
    intuit = FakeIntuit("RT0")
    first_run = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    first_run.access_token()
    first_run.confirm_realm()
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


class RacedIntuit(FakeIntuit):
    """While this run's refresh is in flight, another process rotates the token and stores it."""

    def __init__(self, valid: str, store: TokenStore) -> None:
        super().__init__(valid)
        self.store = store

    def refresh(self, refresh_token: str) -> dict:
        if self.calls == 0:
            winner = super().refresh(refresh_token)  # the other process wins the race...
            self.store.save("1", {"refresh_token": winner["refresh_token"], "access_token": winner["access_token"],
                                  "access_token_expires_at": 9e12})
        return super().refresh(refresh_token)  # ...and our grant of the same token is refused


def test_lost_refresh_race_rereads_the_store_instead_of_failing(store):
    intuit = RacedIntuit("RT0", store)
    tokens = RealmTokens("1", oauth=intuit, store=store, configured_refresh_token="RT0")
    assert tokens.access_token() == "AT1"  # the winner's token, valid, no re-authorisation


def test_lost_race_with_an_expired_winner_refreshes_with_the_winner_token(store):
    class RacedExpired(RacedIntuit):
        def refresh(self, refresh_token: str) -> dict:
            answer = super().refresh(refresh_token) if self.calls < 2 else FakeIntuit.refresh(self, refresh_token)
            return answer

    intuit = RacedExpired("RT0", store)
    store.save("1", {"refresh_token": "RT0"})
    original_save = store.save

    def save_expired(realm_id: str, entry: dict) -> None:
        original_save(realm_id, {**entry, "access_token_expires_at": 0} if entry.get("access_token") == "AT1" else entry)

    store.save = save_expired  # type: ignore[method-assign]
    tokens = RealmTokens("1", oauth=intuit, store=store)
    assert tokens.access_token() == "AT3"
    assert store.load("1")["refresh_token"] == "RT3"


def test_wrong_realm_keeps_the_rotated_token_for_the_right_one(store):
    intuit = FakeIntuit("RT0")
    wrong = RealmTokens("wrong", oauth=intuit, store=store, configured_refresh_token="RT0")
    wrong.access_token()  # rotated RT0 -> RT1; the API then says 403, so wrong.confirm_realm() never runs
    assert store.realms() == []  # nothing filed under the wrong company
    right = RealmTokens("right", oauth=intuit, store=store, configured_refresh_token="RT0")
    assert right.access_token() == "AT2"  # the pending RT1 is tried before the spent RT0
    right.confirm_realm()
    assert store.realms() == ["right"]
    assert store.load("right")["refresh_token"] == "RT2"
    assert set(store.entries()) == {"right"}


def test_a_chain_filed_under_a_wrong_realm_by_an_earlier_version_is_taken_over(store):
    intuit = FakeIntuit("RT1")
    store.save("wrong", {"refresh_token": "RT1", "origin": origin_of("RT0")})  # unconfirmed, RT0 spent
    right = RealmTokens("right", oauth=intuit, store=store, configured_refresh_token="RT0")
    assert right.access_token() == "AT2"
    right.confirm_realm()
    assert set(store.entries()) == {"right"}
    assert store.load("right")["refresh_token"] == "RT2"


def test_a_chain_waiting_for_its_realm_survives_a_second_wrong_run(store):
    intuit = FakeIntuit("RT0")
    for _ in range(2):  # two runs with the wrong realm_id: each rotates, neither files it under "wrong"
        RealmTokens("wrong", oauth=intuit, store=store, configured_refresh_token="RT0").access_token()
    assert store.realms() == []
    right = RealmTokens("right", oauth=intuit, store=store, configured_refresh_token="RT0")
    right.access_token()
    right.confirm_realm()
    assert intuit.calls == 3  # no refused grant: the pending chain was tried first each time
    assert set(store.entries()) == {"right"}


def test_a_confirmed_realm_chain_is_never_taken_by_another_realm(store):
    intuit = FakeIntuit("RT0")
    first = RealmTokens("first", oauth=intuit, store=store, configured_refresh_token="RT0")
    first.access_token()
    first.confirm_realm()  # the API accepted it: RT1 belongs to "first"
    other = RealmTokens("other", oauth=intuit, store=store, configured_refresh_token="RT0")
    with pytest.raises(AuthError):
        other.access_token()
    assert store.load("first")["refresh_token"] == "RT1"


def test_store_file_is_encrypted_and_private(store):
    store.save("1", {"refresh_token": "RT-secret-value"})
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert b"RT-secret-value" not in store.path.read_bytes()


class RealmBoundIntuit:
    """Two companies' token chains: a refresh works whatever realm_id the run believes in."""

    def __init__(self) -> None:
        self.valid = {"RA0": "A", "RB0": "B"}
        self.calls = 0

    def refresh(self, refresh_token: str) -> dict:
        self.calls += 1
        realm = self.valid.pop(refresh_token, None)
        if realm is None:
            raise AuthError("Intuit refused the refresh_token grant: error=invalid_grant")
        new = f"R{realm}{self.calls}"
        self.valid[new] = realm
        return {"access_token": f"A{realm}{self.calls}", "refresh_token": new, "expires_in": 3600}


def test_tokens_swapped_between_two_realms_are_both_recovered_once_the_config_is_fixed(store):
    intuit = RealmBoundIntuit()
    # First run: A's token configured under B and B's under A; both refresh, both get 403.
    RealmTokens("A", oauth=intuit, store=store, configured_refresh_token="RB0").access_token()
    RealmTokens("B", oauth=intuit, store=store, configured_refresh_token="RA0").access_token()
    # Fixed config: each realm finds its own chain (not the other company's access token).
    assert RealmTokens("A", oauth=intuit, store=store, configured_refresh_token="RA0").access_token().startswith("AA")
    assert RealmTokens("B", oauth=intuit, store=store, configured_refresh_token="RB0").access_token().startswith("AB")
