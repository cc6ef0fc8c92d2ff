"""Settings: declared once with their defaults, read through one typed object, old names kept."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from qbc_plugin_kit.delivery import DeliverySettings
from qbc_plugin_kit.plugin_cli import env_config
from target_salesforce.config import (
    BATCH_SIZE_ROWS,
    PROG,
    RENAMED_SETTINGS,
    REQUEST_TIMEOUT_SECONDS,
    SalesforceSettings,
    config_schema,
)
from target_salesforce.target import TargetSalesforce

ORG = {"client_id": "consumer-key", "client_secret": "consumer-secret-value", "domain": "acme.my"}


def test_defaults_of_the_schema_and_of_the_settings_object_are_the_same_constants():
    settings = SalesforceSettings.from_config({})
    for name, prop in config_schema()["properties"].items():
        if "default" in prop:
            holder = settings.delivery if hasattr(settings.delivery, name) else settings
            assert getattr(holder, name) == prop["default"], name
    assert settings.batch_size_rows == BATCH_SIZE_ROWS
    assert settings.request_timeout == REQUEST_TIMEOUT_SECONDS


def test_every_declared_setting_is_read_through_the_settings_object():
    read = {f.name for f in dataclasses.fields(SalesforceSettings)} | {f.name for f in dataclasses.fields(DeliverySettings)}
    assert set(config_schema()["properties"]) <= read


def test_a_set_value_wins_over_the_default_and_an_empty_one_does_not():
    settings = SalesforceSettings.from_config({"order_status": "Open", "line_external_id_field": "",
                                               "batch_size_rows": 50, "max_retries": 1})
    assert (settings.order_status, settings.line_external_id_field) == ("Open", None)
    assert (settings.batch_size_rows, settings.max_retries) == (50, 1)


def test_the_old_request_timeout_name_is_read_with_a_deprecation_warning(caplog):
    with caplog.at_level(logging.WARNING):
        settings = SalesforceSettings.from_config({"request_timeout_seconds": "7"}, logging.getLogger("t"))
    assert settings.request_timeout == 7.0
    assert "Setting request_timeout_seconds is deprecated: read as request_timeout" in caplog.text


def test_the_new_name_wins_over_the_old_one():
    settings = SalesforceSettings.from_config({"request_timeout_seconds": 7, "request_timeout": 9})
    assert settings.request_timeout == 9.0


def test_a_run_reads_the_old_name_too(caplog):
    with caplog.at_level(logging.WARNING):
        target = TargetSalesforce(config={**ORG, "request_timeout_seconds": 11})
        assert target.settings.request_timeout == 11.0
    assert "Setting request_timeout_seconds is deprecated" in caplog.text


def test_values_from_meltanos_environment_text_are_typed(monkeypatch):
    prefix = PROG.upper().replace("-", "_")
    for name, text in {"REQUEST_TIMEOUT": "30", "BULK_THRESHOLD": "10", "API_BUDGET_SHARE": "0.5",
                       "SENT_INVOICES_ONLY": "true", "API_VERSION": "61.0", "CLIENT_ID": "key"}.items():
        monkeypatch.setenv(f"{prefix}_{name}", text)
    settings = SalesforceSettings.from_config(env_config(PROG, config_schema(), RENAMED_SETTINGS))
    assert settings.request_timeout == 30.0 and isinstance(settings.request_timeout, float)
    assert settings.bulk_threshold == 10 and isinstance(settings.bulk_threshold, int)
    assert settings.api_budget_share == 0.5
    assert settings.sent_invoices_only is True
    assert (settings.api_version, settings.client_id) == ("61.0", "key")


def test_text_and_json_numbers_are_made_their_declared_type():
    settings = SalesforceSettings.from_config({"bulk_threshold": "10", "session_max_age_seconds": "60",
                                               "bulk_poll_seconds": "2", "api_version": 61.0})
    assert (settings.bulk_threshold, settings.session_max_age_seconds) == (10, 60)
    assert settings.bulk_poll_seconds == 2.0 and isinstance(settings.bulk_poll_seconds, float)
    assert settings.api_version == "61.0"


def test_the_secret_is_not_in_the_settings_repr():
    settings = SalesforceSettings.from_config(ORG)
    assert "consumer-secret-value" not in repr(settings)
    assert "consumer-key" in repr(settings)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SalesforceSettings.from_config({}).order_status = "Open"  # type: ignore[misc]
