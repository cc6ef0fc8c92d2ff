"""Settings: declared once with their defaults, read through one typed object, old names kept."""

from __future__ import annotations

import logging

import pytest
from target_powerbi.config import REQUEST_TIMEOUT_SECONDS, PowerBISettings, config_schema
from target_powerbi.target import TargetPowerBI


def test_defaults_of_the_schema_and_of_the_settings_object_are_the_same_constants():
    properties = config_schema()["properties"]
    settings = PowerBISettings.from_config({})
    for name, prop in properties.items():
        if "default" in prop and hasattr(settings, name):
            value = getattr(settings, name)
            assert (list(value) if isinstance(value, tuple) else value) == prop["default"], name


def test_the_old_request_timeout_name_is_read_with_a_deprecation_warning(caplog):
    with caplog.at_level(logging.WARNING):
        settings = PowerBISettings.from_config({"request_timeout_seconds": "7"}, logging.getLogger("t"))
    assert settings.request_timeout == 7.0
    assert "Setting request_timeout_seconds is deprecated: read as request_timeout" in caplog.text


def test_the_new_name_wins_over_the_old_one():
    settings = PowerBISettings.from_config({"request_timeout_seconds": 7, "request_timeout": 9})
    assert settings.request_timeout == 9.0
    assert PowerBISettings.from_config({}).request_timeout == REQUEST_TIMEOUT_SECONDS


def test_a_run_reads_the_old_name_too(powerbi_config, caplog):
    target = TargetPowerBI(config={**powerbi_config, "request_timeout_seconds": 11})
    try:
        with caplog.at_level(logging.WARNING):
            assert target.settings.request_timeout == 11.0
        assert target.runtime.client._timeout == 11.0
    finally:
        target.close_runtime()


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        PowerBISettings.from_config({}).dataset_name = "Other"  # type: ignore[misc]
