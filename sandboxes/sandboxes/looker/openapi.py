"""The Looker API 4.0 OpenAPI document, and validation of bodies against it.

Schemas are made strict for the sandbox: ``nullable`` becomes a ``null`` type, objects
with declared properties refuse undeclared ones, and request bodies may not carry
``readOnly`` properties (Looker's own SDKs never send them).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import pathlib
import re
import typing as t

import jsonschema
import referencing
from referencing.jsonschema import DRAFT7

from sandboxes import reference_path  # type: ignore[attr-defined]  # mypy run from the repo root sees the project folder

_URI = "urn:looker-4.0"


def spec_path() -> pathlib.Path:
    """$LOOKER_OAS_JSON, else ``looker/Looker.4.0.oas.json`` in the shared vendor references."""
    if os.environ.get("LOOKER_OAS_JSON"):
        return pathlib.Path(os.environ["LOOKER_OAS_JSON"])
    return reference_path("looker", "Looker.4.0.oas.json")


def _strict(node: t.Any) -> t.Any:
    if isinstance(node, list):
        return [_strict(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if out.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if out.get("nullable") is True and "$ref" in out:
        out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}]}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=1)
def load_spec() -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], json.loads(spec_path().read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def _registry() -> referencing.Registry:
    strict = _strict(copy.deepcopy(load_spec()))
    return referencing.Registry().with_resource(_URI, DRAFT7.create_resource(strict))


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@functools.lru_cache(maxsize=512)
def find_operation(method: str, path: str) -> tuple[str, dict[str, t.Any]] | None:
    """(path template, operation) for a request path relative to /api/4.0. A literal path wins
    over a template (``/scheduled_plans/search`` is not the plan with id "search")."""
    literal = load_spec()["paths"].get(path, {}).get(method.lower())
    if literal:
        return path, literal
    for template, item in load_spec()["paths"].items():
        operation = item.get(method.lower())
        if operation and _template_regex(template).match(path):
            return template, operation
    return None


def _schema_ref(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    text = json.dumps(schema).replace('"#/components', f'"{_URI}#/components')
    return t.cast(dict[str, t.Any], _strict(json.loads(text)))


def _errors(schema: dict[str, t.Any], instance: t.Any) -> list[str]:
    validator = jsonschema.Draft7Validator(_schema_ref(schema), registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in validator.iter_errors(instance)]


def _read_only(schema: dict[str, t.Any]) -> set[str]:
    ref = schema.get("$ref", "")
    if not ref.startswith("#/components/schemas/"):
        return set()
    target = load_spec()["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return {name for name, prop in target.get("properties", {}).items() if prop.get("readOnly")}


def request_errors(operation: dict[str, t.Any], body: t.Any) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    if body is None:
        return ["<body>: a JSON body is required"] if operation["requestBody"].get("required") else []
    errors = _errors(schema, body)
    if isinstance(body, dict):
        errors += [f"{name}: is readOnly and may not be sent" for name in sorted(_read_only(schema) & set(body))]
    return errors


def query_errors(operation: dict[str, t.Any], query: t.Mapping[str, t.Sequence[str]]) -> list[str]:
    """Query parameters the operation does not declare, lacks, or gets in another type."""
    declared = {p["name"]: p for p in operation.get("parameters", []) if p.get("in") == "query"}
    errors = [f"{name}: is not a query parameter of {operation['operationId']}"
              for name in sorted(query) if name not in declared]
    for name, parameter in declared.items():
        values = query.get(name)
        if not values:
            if parameter.get("required"):
                errors.append(f"{name}: is a required query parameter")
            continue
        kind = parameter.get("schema", {}).get("type", "string")
        pattern = {"integer": r"-?\d+", "number": r"-?\d+(\.\d+)?", "boolean": "true|false"}.get(kind)
        if len(values) > 1 and kind != "array":
            errors.append(f"{name}: given {len(values)} times")
        errors += [f"{name}: {value!r} is not {kind}" for value in values
                   if pattern and not re.fullmatch(pattern, value)]
    return errors


def response_errors(operation: dict[str, t.Any], status: int, body: t.Any) -> list[str]:
    response = operation["responses"].get(str(status))
    if response is None and (status == 401 or status >= 500):
        # Looker sends these for any operation though the spec lists them for few.
        response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if response is None:
        return [f"status {status} is not documented for {operation['operationId']}"]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None or body is None:
        return []
    return _errors(schema, body)
