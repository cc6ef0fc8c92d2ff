"""QBOClient decisions that the sandbox cannot provoke on demand."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.errors import AuthError
from tap_quickbooks_online.rate_limit import RealmRateLimiter
from tap_quickbooks_online.recent_versions import MAX_REMEMBERED, skip_versions_already_sent


class AlwaysUnauthorized:
    def __init__(self) -> None:
        self.calls = 0

    def get(self, url, **kwargs):
        self.calls += 1
        resp = requests.Response()
        resp.status_code = 401
        resp.headers["intuit_tid"] = f"tid-{self.calls}"
        resp._content = b'{"fault":{"error":[{"message":"AuthenticationFailed","code":"3200"}]}}'
        return resp


class CountingTokens:
    def __init__(self) -> None:
        self.issued = 0

    def access_token(self) -> str:
        self.issued += 1
        return f"token-{self.issued}"

    def invalidate(self, token: str) -> None:
        pass


def test_401_that_survives_a_refresh_fails_fast_with_intuit_tid():
    session, tokens = AlwaysUnauthorized(), CountingTokens()
    client = QBOClient("1", base_url="http://qbo.invalid", minorversion=75, tokens=tokens,  # type: ignore[arg-type]
                       limiter=RealmRateLimiter(), session=session, max_attempts=6)  # type: ignore[arg-type]
    with pytest.raises(AuthError, match=r"freshly refreshed.*intuit_tid=tid-2") as info:
        client.query("select * from Customer")
    assert session.calls == 2
    assert "token-" not in str(info.value)


def _row(object_id: str, sync_token: int, minute: int) -> dict:
    return {"id": object_id, "sync_token": sync_token, "_sdc_deleted_at": None,
            "updated_at": f"2026-11-02T09:{minute:02d}:00-08:00"}


def test_overlap_memory_keeps_only_the_lookback_window_before_the_bookmark():
    state: dict = {}
    rows = [_row("1", 0, 0), _row("2", 0, 50), _row("3", 0, 58)]
    assert list(skip_versions_already_sent(rows, state, dt.timedelta(minutes=5))) == rows
    assert state["recent_versions"]["bookmark"] == "2026-11-02T09:58:00-08:00"
    assert set(state["recent_versions"]["versions"]) == {"3"}  # 09:50 is outside 09:53..09:58

    state["replication_key_value"] = "2026-11-02T09:58:00-08:00"
    again = list(skip_versions_already_sent([_row("3", 0, 58), _row("3", 1, 58)], state, dt.timedelta(minutes=5)))
    assert again == [_row("3", 1, 58)]


def test_overlap_memory_gives_up_rather_than_grow_without_bound():
    state: dict = {}
    rows = [_row(str(i), 0, 0) for i in range(MAX_REMEMBERED + 5)]
    list(skip_versions_already_sent(rows, state, dt.timedelta(minutes=5)))
    assert len(state["recent_versions"]["versions"]) <= MAX_REMEMBERED
