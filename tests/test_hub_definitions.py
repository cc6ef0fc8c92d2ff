"""Every Meltano Hub definition passes the Hub's own JSON schemas and says what the plugin does.

The schemas are the Hub's (``../shared/reference/meltano-hub/``, see SOURCES.md there): the files
reference each other by ``$id``, so they are loaded into one registry and validated as Draft 7,
with formats checked, as the Hub's CI does.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from packaging.specifiers import SpecifierSet
from referencing import Registry
from referencing.jsonschema import DRAFT7

from .conftest import ROOT, about, plugin_definitions

PLUGINS = plugin_definitions.PLUGINS
HUB_SCHEMAS = ROOT.parent / "shared" / "reference" / "meltano-hub"
# Each target setting that is the SDK's name for a capability: a target with the setting does what
# the capability promises and must declare it (Meltano and the Hub read capabilities, not settings).
SETTING_CAPABILITIES = {"hard_delete": "hard-delete", "default_target_schema": "target-schema",
                        "activate_version": "activate-version", "batch_config": "batch"}


def hub_file(plugin: dict[str, Any]) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load((ROOT / plugin["folder"] / "meltano-hub.yml").read_text())
    return definition


@pytest.fixture(scope="module")
def hub_validators() -> dict[str, Draft7Validator]:
    if not HUB_SCHEMAS.is_dir():
        pytest.fail(f"{HUB_SCHEMAS} not found: check out the shared references beside the repository")
    documents = [json.loads(p.read_text()) for p in sorted(HUB_SCHEMAS.glob("*/*.schema.json"))]
    registry = Registry().with_resources((doc["$id"], DRAFT7.create_resource(doc)) for doc in documents)
    return {
        kind: Draft7Validator(json.loads((HUB_SCHEMAS / "plugin_definitions" / f"{kind}.schema.json").read_text()),
                              registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)
        for kind in ("extractors", "loaders")
    }


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p["folder"] for p in PLUGINS])
def test_hub_definition_passes_the_hubs_json_schemas(
    plugin: dict[str, Any], hub_validators: dict[str, Draft7Validator]
) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}"
              for e in hub_validators[plugin["plugin_type"]].iter_errors(hub_file(plugin))]
    assert not errors, f"{plugin['folder']}/meltano-hub.yml: " + "; ".join(errors)


def test_the_schemas_refuse_what_the_hub_refused_before(hub_validators: dict[str, Draft7Validator]) -> None:
    """The validator is strict enough to have caught the issue's two errors."""
    old = {**hub_file(PLUGINS[0]), "plugin_type": "extractors"}
    del old["quality"]
    messages = {e.message for e in hub_validators["extractors"].iter_errors(old)}
    assert "'quality' is a required property" in messages
    assert any("'plugin_type' was unexpected" in m for m in messages)


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p["folder"] for p in PLUGINS])
def test_hub_definition_carries_what_the_hub_lists_plugins_by(plugin: dict[str, Any]) -> None:
    hub = hub_file(plugin)
    assert "meltano_sdk" in hub["keywords"]
    assert hub["quality"] in {"gold", "silver", "bronze"}
    assert hub["maintenance_status"] == "active"
    # A Hub logo the Hub actually serves (the Hub has no loader logo for Databricks, Looker or
    # Power BI; their brand logos live under extractors/).
    assert hub["logo_url"] in plugin_definitions.HUB_LOGOS.values()
    # Installed from the registry by name, as `meltano add` does.
    assert hub["pip_url"] == hub["name"] == plugin["folder"]
    names = {s["name"] for s in hub["settings"]}
    for group in hub["settings_group_validation"]:
        assert set(group) <= names, f"{plugin['folder']}: settings_group_validation names unknown settings"


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p["folder"] for p in PLUGINS])
def test_supported_pythons_are_the_packages_classifiers_and_its_requires_python(plugin: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / plugin["folder"] / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: "
    classified = [c.removeprefix(prefix) for c in project["classifiers"]
                  if c.startswith(prefix) and c.removeprefix(prefix).count(".") == 1]
    assert hub_file(plugin)["supported_python_versions"] == classified == ["3.11", "3.12", "3.13"]
    requires = SpecifierSet(project["requires-python"])
    assert all(f"{version}.0" in requires for version in classified)
    assert "3.14.0" not in requires, "requires-python admits a Python no test has run on"


@pytest.mark.parametrize("plugin", [p for p in PLUGINS if p["plugin_type"] == "loaders"],
                         ids=[p["folder"] for p in PLUGINS if p["plugin_type"] == "loaders"])
def test_target_declares_the_capability_of_every_capability_setting_it_has(plugin: dict[str, Any]) -> None:
    reported = about(plugin["folder"])
    capabilities = set(reported["capabilities"])
    missing = {capability for setting, capability in SETTING_CAPABILITIES.items()
               if setting in reported["settings"]["properties"] and capability not in capabilities}
    assert not missing, f"{plugin['folder']} has the settings of, but does not declare: {sorted(missing)}"
    assert set(hub_file(plugin)["capabilities"]) == capabilities

