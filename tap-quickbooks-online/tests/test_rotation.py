"""Refresh-token rotation against the sandbox's token endpoint, with crashes injected."""

from __future__ import annotations

import logging
import os

import pytest
from sandboxes.qbo import RealmSpec
from tap_quickbooks_online.token_store import TokenStore

from .conftest import KEY_ENV, REALM, make_config
from .singer_run import run_sync

pytestmark = pytest.mark.e2e


class ProcessDied(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing in the tap may catch it."""


def _store(config) -> TokenStore:
    return TokenStore(config["token_store_path"], os.environ[KEY_ENV])


@pytest.fixture
def short_lived(qbo_sandbox_factory):
    """Access tokens outlive no run (60 s is inside the 5-minute refresh margin)."""

    def make(grace: float):
        return qbo_sandbox_factory(
            realms=[RealmSpec(REALM, seed=42, transactions=30)], access_token_ttl=60, refresh_grace=grace)

    return make


def test_every_run_persists_the_rotated_token_and_the_next_run_uses_it(short_lived, tmp_path):
    sandbox = short_lived(grace=0.0)
    config = make_config(sandbox, tmp_path)
    # tax_codes: a stream the change feed does not serve, so each run makes one call (one refresh).
    run_sync(config, streams=["tax_codes"])
    first_stored = _store(config).load(REALM)["refresh_token"]

    run_sync(config, streams=["tax_codes"])  # the configured token is dead by now: only the store works

    assert _store(config).load(REALM)["refresh_token"] != first_stored
    assert sandbox.token_stats.refreshes == 2


def test_crash_between_refresh_and_persist_leaves_a_working_token(short_lived, tmp_path, monkeypatch):
    sandbox = short_lived(grace=30.0)  # Intuit keeps the previous refresh token briefly
    config = make_config(sandbox, tmp_path)
    run_sync(config, streams=["terms"])
    before_crash = _store(config).load(REALM)["refresh_token"]

    def die(self, realm_id, tokens):
        raise ProcessDied

    with monkeypatch.context() as patch, pytest.raises(ProcessDied):
        patch.setattr(TokenStore, "save", die)
        run_sync(config, streams=["terms"])
    assert _store(config).load(REALM)["refresh_token"] == before_crash

    result = run_sync(config, streams=["terms"])

    assert result.rows("terms")
    assert _store(config).load(REALM)["refresh_token"] != before_crash


def test_crash_right_after_persist_loses_nothing_even_without_grace(short_lived, tmp_path, monkeypatch):
    sandbox = short_lived(grace=0.0)
    config = make_config(sandbox, tmp_path)
    run_sync(config, streams=["terms"])
    original_save = TokenStore.save

    def save_then_die(self, realm_id, tokens):
        original_save(self, realm_id, tokens)
        raise ProcessDied

    with monkeypatch.context() as patch, pytest.raises(ProcessDied):
        patch.setattr(TokenStore, "save", save_then_die)
        run_sync(config, streams=["terms"])

    assert run_sync(config, streams=["terms"]).rows("terms")


def test_tokens_never_reach_stdout_state_or_logs(short_lived, tmp_path, caplog):
    sandbox = short_lived(grace=0.0)
    config = make_config(sandbox, tmp_path)
    with caplog.at_level(logging.DEBUG):
        result = run_sync(config, streams=["terms", "invoices"])
    stored = _store(config).load(REALM)
    secrets = [stored["refresh_token"], stored["access_token"], config["realms"][0]["refresh_token"],
               config["client_secret"]]
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in caplog.text
