"""`only_realm` limits a tap-quickbooks-online run to one realm: one Meltano job per company."""

from __future__ import annotations

import pytest
from tap_quickbooks_online.errors import ConfigError
from tap_quickbooks_online.tap import TapQuickBooksOnline

REALMS = [{"realm_id": "111", "refresh_token": "r-111"}, {"realm_id": "222", "refresh_token": "r-222"}]


def tap(**config: object) -> TapQuickBooksOnline:
    return TapQuickBooksOnline(config={"client_id": "id", "client_secret": "secret", **config},
                               parse_env_config=False, validate_config=False)


def test_only_realm_keeps_one_realm_and_its_partition():
    selected = tap(realms=REALMS, only_realm="222")

    assert selected.realm_ids == ["222"]
    assert selected.streams["invoices"].partitions == [{"company_id": "222"}]


def test_without_only_realm_every_realm_runs():
    assert tap(realms=REALMS).realm_ids == ["111", "222"]


def test_only_realm_naming_no_configured_realm_says_which_exist():
    with pytest.raises(ConfigError, match=r"only_realm '333' is not a configured realm_id \(111, 222\)"):
        _ = tap(realms=REALMS, only_realm="333").realm_ids
