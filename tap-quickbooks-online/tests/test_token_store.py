from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from tap_quickbooks_online.errors import TokenStoreError
from tap_quickbooks_online.token_store import TokenStore


def test_tokens_are_encrypted_at_rest_and_read_back(tmp_path):
    store = TokenStore(tmp_path / "tokens", Fernet.generate_key())
    store.save("123", {"refresh_token": "RT-secret-value", "access_token": "AT-secret"})

    assert b"RT-secret-value" not in (tmp_path / "tokens").read_bytes()
    assert store.load("123") == {"refresh_token": "RT-secret-value", "access_token": "AT-secret"}
    assert oct((tmp_path / "tokens").stat().st_mode & 0o777) == "0o600"


def test_realms_are_kept_apart_and_updates_merge(tmp_path):
    store = TokenStore(tmp_path / "tokens", Fernet.generate_key())
    store.save("1", {"refresh_token": "a"})
    store.save("2", {"refresh_token": "b"})
    store.save("1", {"access_token": "x"})

    assert store.load("1") == {"refresh_token": "a", "access_token": "x"}
    assert store.load("2") == {"refresh_token": "b"}
    assert store.realms() == ["1", "2"]


def test_crash_during_write_leaves_previous_tokens_intact(tmp_path, monkeypatch):
    store = TokenStore(tmp_path / "tokens", Fernet.generate_key())
    store.save("1", {"refresh_token": "old"})

    def crash(*_args):
        raise KeyboardInterrupt("power cut before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        store.save("1", {"refresh_token": "new"})
    monkeypatch.undo()

    assert store.load("1") == {"refresh_token": "old"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tokens.")] == []


def test_wrong_key_is_a_clear_error_not_an_empty_store(tmp_path):
    TokenStore(tmp_path / "tokens", Fernet.generate_key()).save("1", {"refresh_token": "a"})
    with pytest.raises(TokenStoreError, match="cannot be decrypted"):
        TokenStore(tmp_path / "tokens", Fernet.generate_key()).load("1")


def test_missing_key_variable_explains_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.delenv("QBO_TEST_KEY", raising=False)
    with pytest.raises(TokenStoreError, match=r"QBO_TEST_KEY.*generate_key"):
        TokenStore.from_env(tmp_path / "tokens", "QBO_TEST_KEY")
