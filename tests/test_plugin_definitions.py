"""Hub definitions, Meltano lock files and meltano.yml are generated from --about and never drift."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, about, plugin_definitions

PLUGINS = plugin_definitions.PLUGINS


def test_generated_definitions_match_what_each_plugin_reports() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "plugin_definitions.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p["folder"] for p in PLUGINS])
def test_hub_definition_is_complete_and_marks_every_secret_sensitive(plugin: dict) -> None:
    hub = yaml.safe_load((ROOT / plugin["folder"] / "meltano-hub.yml").read_text())
    for field in ("name", "namespace", "variant", "label", "description", "pip_url", "capabilities",
                  "keywords", "settings", "settings_group_validation", "repo", "docs", "executable"):
        assert hub.get(field) not in (None, ""), f"{plugin['folder']}: Hub definition lacks {field}"
    schema = about(hub["name"])["settings"]["properties"]
    secrets = {name for name, prop in schema.items() if prop.get("secret") or prop.get("writeOnly")}
    sensitive = {s["name"] for s in hub["settings"] if s.get("sensitive")}
    assert secrets == sensitive
    undocumented = [s["name"] for s in hub["settings"] if not s.get("description")]
    assert not undocumented, f"{plugin['folder']}: settings without a description: {undocumented}"


def test_meltano_yml_declares_every_plugin_by_variant_and_takes_its_definition_from_the_lock_file() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    declared = {p["name"]: p for entries in project["plugins"].values() for p in entries}
    for plugin in PLUGINS:
        lock_path = ROOT / "plugins" / plugin["plugin_type"] / f"{plugin['folder']}--{plugin_definitions.VARIANT}.lock"
        lock = json.loads(lock_path.read_text())
        entry = declared[plugin["folder"]]
        assert entry["variant"] == lock["variant"]
        # The kit first, so the plugin's `quickbooks-connectors-plugin-kit>=0.2,<0.3` resolves here.
        assert entry["pip_url"] == f"-e ./plugin_kit -e ./{plugin['folder']}"
        # As a Hub plugin is declared: a definition key here would override the lock file
        # (`namespace` would even make Meltano ignore it), and `meltano config set` would rewrite it.
        assert not set(entry) & plugin_definitions.DEFINITION_KEYS, plugin["folder"]
    assert {e["name"] for e in project["environments"]} >= {"dev", "prod"}


def _meltano() -> str:
    return os.environ.get("QBC_MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")


def _project_copy(tmp_path: Path) -> Path:
    """What `meltano config set` and the drift check read: meltano.yml, the lock files, the Hub files."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "meltano.yml", project / "meltano.yml")
    shutil.copytree(ROOT / "plugins", project / "plugins")
    shutil.copy(ROOT / "scripts" / "plugin_definitions.py", project / "scripts" / "plugin_definitions.py")
    for plugin in PLUGINS:
        (project / plugin["folder"]).mkdir()
        shutil.copy(ROOT / plugin["folder"] / "meltano-hub.yml", project / plugin["folder"] / "meltano-hub.yml")
    return project


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.e2e
def test_meltano_config_set_changes_one_line_of_meltano_yml_and_the_drift_check_still_passes(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
           "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path}/meltano.db"}

    def config_set(*args: str) -> list[str]:
        before = (project / "meltano.yml").read_text()
        result = subprocess.run([_meltano(), *args], cwd=project, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        return _changed_lines(before, (project / "meltano.yml").read_text())

    # A setting the dev environment already holds: its one line changes.
    assert config_set("--environment=dev", "config", "set", "tap-quickbooks-online", "start_date",
                      "2024-01-01T00:00:00Z") == [
        "-          start_date: '2025-01-01T00:00:00Z'", "+          start_date: '2024-01-01T00:00:00Z'"]
    # A new one: one line added.
    assert config_set("--environment=dev", "config", "set", "target-looker-warehouse", "lookml_model",
                      "finance") == ["+          lookml_model: finance"]
    # Outside any environment, on a plugin with no config yet: the `config:` key and the line.
    assert config_set("config", "set", "tap-quickbooks-desktop", "overlap_seconds", "600") == [
        "+    config:", "+      overlap_seconds: 600"]
    # A secret goes to .env, never into meltano.yml, and its kind stays `password` (the lock file's).
    assert config_set("config", "set", "tap-quickbooks-online", "client_secret", "not-a-real-secret") == []
    assert "not-a-real-secret" in (project / ".env").read_text()
    lock = json.loads((project / "plugins" / "extractors" / "tap-quickbooks-online--quickbooks-connectors.lock").read_text())
    assert next(s for s in lock["settings"] if s["name"] == "client_secret")["kind"] == "password"

    drift = subprocess.run([sys.executable, str(project / "scripts" / "plugin_definitions.py"), "--check"],
                           capture_output=True, text=True, timeout=300)
    assert drift.returncode == 0, drift.stdout + drift.stderr


def test_prod_environment_holds_no_literal_secret() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    prod = next(e for e in project["environments"] if e["name"] == "prod")
    for entries in prod.get("config", {}).get("plugins", {}).values():
        for entry in entries:
            lock = json.loads(next((ROOT / "plugins").glob(f"*/{entry['name']}--*.lock")).read_text())
            sensitive = {s["name"] for s in lock["settings"] if s.get("sensitive")}
            for name, value in entry.get("config", {}).items():
                if name in sensitive:
                    assert str(value).startswith("$"), f"prod {entry['name']}.{name} is not from the environment"


def test_meltano_reads_every_plugin_from_its_lock_file_offline(tmp_path) -> None:
    meltano = os.environ.get("QBC_MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
           "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path}/meltano.db"}
    for plugin in PLUGINS:
        result = subprocess.run([meltano, "--environment", "dev", "config", "list", "--all", plugin["folder"]], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        hub = yaml.safe_load((ROOT / plugin["folder"] / "meltano-hub.yml").read_text())
        for setting in hub["settings"]:
            assert setting["name"] in result.stdout
