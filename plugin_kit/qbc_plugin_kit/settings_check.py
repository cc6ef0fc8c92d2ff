"""Setting names a plugin does not know: warned at start with the closest known name.

singer-sdk accepts any extra key (its schemas allow additional properties), so a misspelled
``lookbak_seconds`` is silently ignored and the default runs instead. Every plugin calls
:func:`warn_unknown_settings` once its config is loaded.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

# Keys Meltano or the SDK add to every plugin's config whether or not the plugin declares them.
_ALWAYS_KNOWN = frozenset({
    "stream_maps", "stream_map_config", "faker_config", "flattening_enabled", "flattening_max_depth",
    "batch_config", "add_record_metadata", "load_schema", "default_target_schema", "hard_delete",
    "validate_records", "batch_size_rows", "process_activate_version_messages", "activate_version",
    "metrics_log_level",
})


def unknown_settings(config: dict[str, Any], schema: dict[str, Any], where: str = "") -> list[str]:
    """One sentence per unknown name (nested objects and lists of objects included)."""
    properties: dict[str, Any] = schema.get("properties") or {}
    if not properties:
        return []
    problems: list[str] = []
    for key, value in config.items():
        node = properties.get(key)
        path = f"{where}{key}"
        if node is None:
            if not where and key in _ALWAYS_KNOWN:
                continue
            close = difflib.get_close_matches(key, list(properties), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known settings: {', '.join(sorted(properties))}"
            problems.append(f"unknown setting {path!r} is ignored{hint}")
            continue
        if isinstance(value, dict) and node.get("properties"):
            problems += unknown_settings(value, node, where=f"{path}.")
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    problems += unknown_settings(item, node["items"], where=f"{path}[{index}].")
    return problems


def warn_unknown_settings(config: dict[str, Any], schema: dict[str, Any], logger: logging.Logger) -> list[str]:
    """Log each unknown setting once as a warning; returns the sentences (for tests and checks)."""
    problems = unknown_settings(config, schema)
    for problem in problems:
        logger.warning("%s", problem)
    return problems


def renamed_settings(config: dict[str, Any], renames: dict[str, str], logger: logging.Logger) -> dict[str, Any]:
    """``config`` with each old setting name read as its new one (``{"old": "new"}``), each use
    warned once naming the new name; when both are set the new one wins and the old is ignored.
    The one place every plugin maps the names of its earlier versions (one name per concept)."""
    result = dict(config)
    for old, new in renames.items():
        if old not in result:
            continue
        value = result.pop(old)
        if result.get(new) is not None:
            logger.warning("Setting %s is deprecated and was ignored: %s is set (rename %s to %s)",
                           old, new, old, new)
        else:
            result[new] = value
            logger.warning("Setting %s is deprecated: read as %s (rename it to %s)", old, new, new)
    return result
