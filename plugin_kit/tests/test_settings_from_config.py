"""The one builder of a plugin's settings object (target-powerbi and target-salesforce use it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from qbc_plugin_kit.delivery import DeliverySettings, settings_from_config


@dataclass(frozen=True)
class Example:
    name: str = "default"
    retries: int = 3
    timeout: float = 30.0
    streams: tuple[str, ...] = ()
    delivery: DeliverySettings = field(default_factory=lambda: DeliverySettings.from_config({}, "t"))


def test_text_from_the_environment_is_typed_and_empty_values_keep_their_default(caplog):
    with caplog.at_level(logging.WARNING):
        settings = settings_from_config(
            Example, {"name": "", "retries": "5", "old_timeout": "7.5", "streams": ["a", "b"]}, "t",
            {"old_timeout": "timeout"}, logging.getLogger("t"))
    assert settings == Example(name="default", retries=5, timeout=7.5, streams=("a", "b"),
                               delivery=settings.delivery)
    assert "old_timeout is deprecated" in caplog.text
    assert settings.delivery.max_retries == DeliverySettings.from_config({}, "t").max_retries
