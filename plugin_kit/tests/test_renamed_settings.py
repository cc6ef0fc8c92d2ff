"""Old setting names keep working for a while, each use warned with the new name."""

from __future__ import annotations

import logging

from qbc_plugin_kit.settings_check import renamed_settings

RENAMES = {"tls_ca_file": "ca_bundle", "schema": "default_target_schema"}


def test_an_old_name_is_read_as_the_new_one_and_the_warning_names_the_new_name(caplog):
    with caplog.at_level(logging.WARNING):
        config = renamed_settings({"tls_ca_file": "/ca.pem", "catalog": "main"}, RENAMES, logging.getLogger("t"))
    assert config == {"ca_bundle": "/ca.pem", "catalog": "main"}
    assert caplog.messages == ["Setting tls_ca_file is deprecated: read as ca_bundle (rename it to ca_bundle)"]


def test_when_both_names_are_set_the_new_one_wins_and_the_old_is_named_as_ignored(caplog):
    with caplog.at_level(logging.WARNING):
        config = renamed_settings({"schema": "old", "default_target_schema": "new"}, RENAMES, logging.getLogger("t"))
    assert config == {"default_target_schema": "new"}
    assert caplog.messages == ["Setting schema is deprecated and was ignored: default_target_schema is set "
                               "(rename schema to default_target_schema)"]


def test_a_config_without_old_names_is_unchanged_and_nothing_is_logged(caplog):
    original = {"ca_bundle": "/ca.pem"}
    with caplog.at_level(logging.WARNING):
        assert renamed_settings(original, RENAMES, logging.getLogger("t")) == original
    assert caplog.messages == []
