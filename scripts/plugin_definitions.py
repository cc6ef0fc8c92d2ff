"""Generate every plugin's Meltano Hub definition from the plugin's own ``--about``.

One source of truth per plugin: its settings schema in ``tap.py``/``target.py``. From it this
script writes, so that they cannot drift:

* ``<plugin folder>/meltano-hub.yml``: the definition to submit to Meltano Hub (the file it keeps
  as ``_data/meltano/<plugin type>/<name>/<variant>.yml``, valid against the Hub's JSON schemas);
* ``plugins/<type>/<name>--<variant>.lock``: the lock file Meltano installs and runs the
  plugin from (``meltano lock`` writes nothing for custom plugins and needs the Hub otherwise);
* the ``plugins:`` section of ``meltano.yml``: each plugin by name, ``variant`` and ``pip_url``
  only, as a Hub plugin is declared, so Meltano takes its definition (settings, kinds,
  commands) from the lock file and ``meltano.yml`` keeps only what a user edits (``config``,
  jobs, schedules, environments). ``meltano config <plugin> set`` then changes one line.

``--check`` regenerates in memory and exits 1 listing every file that differs (for
``meltano.yml``: whose plugin declarations differ, whatever its formatting).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
VARIANT = "quickbooks-connectors"
REPO_URL = "https://github.com/quickbooks-connectors/quickbooks-connectors"
# The Hub's matrix (https://docs.meltano.com/contribute/connectors#connector-quality): built on the
# Meltano SDK with low usage (this project) is silver; the Hub's maintainers may re-rate it.
QUALITY = "silver"
MAINTENANCE_STATUS = "active"
# Logo files the Hub serves (meltano/hub static/assets/logos at 9d28b36, the commit the schemas in
# ../shared/reference/meltano-hub come from). The Hub has Databricks, Looker and Power BI logos
# only under extractors/; a loader may point there (the Hub serves one logo per brand).
HUB_LOGOS = {
    "quickbooks": "/assets/logos/extractors/quickbooks.png",
    "databricks": "/assets/logos/extractors/databricks.png",
    "looker": "/assets/logos/extractors/looker.png",
    "powerbi": "/assets/logos/extractors/powerbi.png",
    "salesforce": "/assets/logos/loaders/salesforce.png",
}

# `<plugin> check` (qbc_plugin_kit.checks), as `meltano invoke <plugin>:check`: every plugin.
PLUGINS_WITH_CHECK = ("tap-quickbooks-online", "tap-quickbooks-desktop", "target-databricks",
                      "target-looker-warehouse", "target-powerbi", "target-salesforce")
CHECK_COMMAND = {"args": "check", "description": "Authenticate and make the cheapest reads that prove a run will work, without moving data: one line per aspect, ok or the problem and the fix."}

PLUGINS: list[dict[str, Any]] = [
    {
        "folder": "tap-quickbooks-online",
        "plugin_type": "extractors",
        "label": "QuickBooks Online",
        "description": "Accounting data from QuickBooks Online: query, CDC and webhook syncs, rotating OAuth2 tokens, several realms.",
        "domain_url": "https://quickbooks.intuit.com/online/",
        "logo_url": HUB_LOGOS["quickbooks"],
        "keywords": ["accounting", "finance", "quickbooks", "intuit", "cdc", "webhooks", "meltano_sdk"],
        "commands": {
            "auth": {"args": "auth", "description": "Authorize a QuickBooks Online company once (OAuth2 authorization-code flow) and store its tokens encrypted."},
            "webhooks": {"args": "webhooks serve", "description": "Run the signed-webhook receiver that journals Intuit change events for the next sync."},
        },
        # One of: a single company (its first refresh token, or none once `auth` stored it) or a list.
        "settings_group_validation": [["client_id", "client_secret", "realm_id", "refresh_token"],
                                      ["client_id", "client_secret", "realms"]],
    },
    {
        "folder": "tap-quickbooks-desktop",
        "plugin_type": "extractors",
        "label": "QuickBooks Desktop",
        "description": "Accounting data from QuickBooks Desktop through an embedded Web Connector (QBWC) server with a durable buffer.",
        "domain_url": "https://quickbooks.intuit.com/desktop/",
        "logo_url": HUB_LOGOS["quickbooks"],
        "keywords": ["accounting", "finance", "quickbooks", "qbxml", "web-connector", "meltano_sdk"],
        "commands": {
            "serve": {"args": "serve", "description": "Run the QuickBooks Web Connector SOAP server long-lived."},
            "qwc": {"args": "qwc", "description": "Write the .qwc file to load into the QuickBooks Web Connector."},
        },
        "settings_group_validation": [["companies"], ["company", "username", "password"]],
    },
    {
        "folder": "target-databricks",
        "plugin_type": "loaders",
        "label": "Databricks (Unity Catalog)",
        "description": "Delta tables in Unity Catalog via a SQL warehouse: exact DECIMAL money, version-guarded MERGE upserts, schema evolution.",
        "domain_url": "https://www.databricks.com/",
        "logo_url": HUB_LOGOS["databricks"],
        "keywords": ["databricks", "delta", "unity-catalog", "warehouse", "meltano_sdk"],
        "commands": {"replay": {"args": "replay", "description": "Re-send dead-lettered batches."}},
    },
    {
        "folder": "target-looker-warehouse",
        "plugin_type": "loaders",
        "label": "Looker warehouse (DuckDB / PostgreSQL)",
        "description": "Loads the warehouse Looker models, maintains finance models (AP/AR aging, GL) and generates LookML.",
        "domain_url": "https://cloud.google.com/looker",
        "logo_url": HUB_LOGOS["looker"],
        "keywords": ["looker", "lookml", "duckdb", "postgres", "warehouse", "finance", "meltano_sdk"],
        "commands": {
            "replay": {"args": "replay", "description": "Re-send dead-lettered batches."},
            "lookml": {"args": "lookml", "description": "Regenerate the LookML project from the warehouse."},
        },
    },
    {
        "folder": "target-powerbi",
        "plugin_type": "loaders",
        "label": "Power BI (push datasets)",
        "description": "Power BI push datasets built from Singer schemas, rows posted in batches paced to Power BI's limits.",
        "domain_url": "https://powerbi.microsoft.com/",
        "logo_url": HUB_LOGOS["powerbi"],
        "keywords": ["powerbi", "microsoft", "push-dataset", "dashboards", "meltano_sdk"],
        "commands": {"replay": {"args": "replay", "description": "Re-send dead-lettered batches."}},
    },
    {
        "folder": "target-salesforce",
        "plugin_type": "loaders",
        "label": "Salesforce",
        "description": "QuickBooks vendors and customers to Accounts, invoices to Opportunities, by external-id upsert.",
        "domain_url": "https://www.salesforce.com/",
        "logo_url": HUB_LOGOS["salesforce"],
        "keywords": ["salesforce", "crm", "accounts", "opportunities", "meltano_sdk"],
        "commands": {"replay": {"args": "replay", "description": "Re-send dead-lettered batches."}},
    },
]

_ACRONYMS = {"id": "ID", "url": "URL", "api": "API", "qbxml": "qbXML", "qbwc": "QBWC", "ssl": "SSL",
             "tls": "TLS", "oauth": "OAuth", "sql": "SQL", "http": "HTTP", "ca": "CA", "qwc": "QWC",
             "json": "JSON", "uri": "URI", "dsn": "DSN", "lookml": "LookML", "sdc": "SDC"}


def _label(name: str) -> str:
    return " ".join(_ACRONYMS.get(word, word.capitalize()) for word in name.split("_"))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    types = {kind} if isinstance(kind, str) else set(kind)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        types |= _types(alternative)
    return types - {"null"}


def _setting(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    types = _types(schema)
    setting: dict[str, Any] = {"name": name, "label": schema.get("title") or _label(name)}
    if schema.get("secret") or schema.get("writeOnly"):
        setting.update(kind="password", sensitive=True)
    elif "enum" in schema:
        setting["kind"] = "options"
        setting["options"] = [{"label": str(v), "value": v} for v in schema["enum"] if v is not None]
    elif "boolean" in types:
        setting["kind"] = "boolean"
    elif "integer" in types:
        setting["kind"] = "integer"
    elif "number" in types:
        setting["kind"] = "decimal"
    elif "object" in types:
        setting["kind"] = "object"
    elif "array" in types:
        setting["kind"] = "array"
    elif schema.get("format") in ("date-time", "date"):
        setting["kind"] = "date_iso8601"
    else:
        setting["kind"] = "string"
    description = schema.get("description")
    if description:
        setting["description"] = " ".join(str(description).split())
    if "default" in schema and not setting.get("sensitive"):
        setting["value"] = schema["default"]
    return setting


def definition_from_about(plugin: dict[str, Any], about: dict[str, Any]) -> dict[str, Any]:
    """Turn ``--about --format=json`` output into a Meltano Hub plugin definition."""
    schema = about["settings"]
    required = set(schema.get("required", []))
    settings = [_setting(n, s) for n, s in schema.get("properties", {}).items()]
    name = about["name"]
    group = sorted(required)
    return {
        "name": name,
        "namespace": name.replace("-", "_"),
        "variant": VARIANT,
        "label": plugin["label"],
        "description": plugin["description"],
        "logo_url": plugin["logo_url"],
        "domain_url": plugin["domain_url"],
        "docs": f"{REPO_URL}/tree/main/{plugin['folder']}#readme",
        "repo": REPO_URL,
        # The package on PyPI (scripts/release publishes it, with the plugin kit it depends on).
        "pip_url": name,
        "executable": name,
        "capabilities": sorted(about.get("capabilities", [])),
        # From the package's Python classifiers, which tests/test_pythons.py proves.
        "supported_python_versions": about["supported_python_versions"],
        "keywords": plugin["keywords"],
        "maintenance_status": MAINTENANCE_STATUS,
        "quality": QUALITY,
        "settings_group_validation": plugin.get("settings_group_validation") or ([group] if group else []),
        "settings": settings,
        "commands": {**plugin["commands"], **({"check": dict(CHECK_COMMAND)} if name in PLUGINS_WITH_CHECK else {})},
    }


def _executable(name: str) -> str:
    venv_bin = Path(sys.executable).parent
    candidate = venv_bin / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed in this environment: run scripts/test once")
    return found


def read_about(name: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([_executable(name), "--about", "--format=json"],
                            capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{name} --about failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def render(definitions: dict[str, dict[str, Any]]) -> dict[Path, str]:
    """Every generated file's path and expected text."""
    files: dict[Path, str] = {}
    for plugin in PLUGINS:
        definition = definitions[plugin["folder"]]
        # No plugin_type in the Hub file: the Hub reads it from the file's folder, and its schemas
        # refuse the key ('plugin_type' was unexpected).
        files[ROOT / plugin["folder"] / "meltano-hub.yml"] = yaml.safe_dump(
            definition, sort_keys=False, allow_unicode=True, width=100)
        lock = {"plugin_type": plugin["plugin_type"], **definition}
        lock_path = ROOT / "plugins" / plugin["plugin_type"] / f"{definition['name']}--{VARIANT}.lock"
        files[lock_path] = json.dumps(lock, indent=2, ensure_ascii=False) + "\n"
    meltano_path = ROOT / "meltano.yml"
    text = meltano_path.read_text()
    project = yaml.safe_load(text)
    plugins = _project_plugins(definitions, project.get("plugins", {}))
    if plugins != project.get("plugins"):
        # Rewritten only when a declaration is wrong: Meltano edits this file too (`meltano
        # config set`, `meltano schedule add`) in its own formatting, which is kept.
        project["plugins"] = plugins
        text = yaml.safe_dump(project, sort_keys=False, allow_unicode=True, width=100) + _trailing_comments(text)
    files[meltano_path] = text
    return files


def local_pip_url(folder: str) -> str:
    """What Meltano installs in this repository: the kit first, so the plugin's range finds it."""
    return f"-e ./plugin_kit -e ./{folder}"


def _trailing_comments(text: str) -> str:
    """The comment block ending meltano.yml (the commented schedules): YAML drops comments, so
    they are carried over as text."""
    lines = text.splitlines(keepends=True)
    start = len(lines)
    while start > 0 and (lines[start - 1].lstrip().startswith("#") or not lines[start - 1].strip()):
        start -= 1
    return "".join(line for line in lines[start:] if line.strip())


# Keys of a plugin definition: they live in the lock file; in meltano.yml they would override it
# (and make Meltano treat the plugin as custom, ignoring the lock file, when `namespace` is one).
DEFINITION_KEYS = frozenset({
    "namespace", "executable", "capabilities", "settings_group_validation", "settings", "commands",
    "label", "description", "logo_url", "domain_url", "docs", "repo", "keywords",
    "maintenance_status", "quality", "supported_python_versions",
})


def _project_plugins(definitions: dict[str, dict[str, Any]],
                     current: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """meltano.yml plugin entries: name, the locked variant, the local editable folders, and what
    the user set (``config``, ...); the definition itself comes from the lock file."""
    kept = {p["name"]: p for entries in current.values() for p in entries}
    plugins: dict[str, list[dict[str, Any]]] = {}
    for plugin in PLUGINS:
        definition = definitions[plugin["folder"]]
        previous = kept.get(definition["name"], {})
        entry: dict[str, Any] = {
            "name": definition["name"],
            "variant": VARIANT,
            "pip_url": local_pip_url(plugin["folder"]),
        }
        entry.update({key: value for key, value in previous.items()
                      if key not in entry and key not in DEFINITION_KEYS})
        plugins.setdefault(plugin["plugin_type"], []).append(entry)
    for extra_type, entries in current.items():
        for extra in entries:
            if not any(extra["name"] == d["name"] for d in definitions.values()):
                plugins.setdefault(extra_type, []).append(extra)
    return plugins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file drifted")
    args = parser.parse_args()
    definitions = {}
    for plugin in PLUGINS:
        about = read_about(plugin["folder"])
        definitions[plugin["folder"]] = definition_from_about(plugin, about)
    files = render(definitions)
    drifted = []
    for path, text in files.items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.check:
            drifted.append(path)
            diff = difflib.unified_diff(current.splitlines(), text.splitlines(),
                                        str(path), "generated", lineterm="", n=1)
            print("\n".join(list(diff)[:40]))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if drifted:
        print("out of date (run python scripts/plugin_definitions.py):",
              ", ".join(str(p.relative_to(ROOT)) for p in drifted))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
