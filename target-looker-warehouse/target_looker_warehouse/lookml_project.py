"""Write the generated LookML into a Looker project folder without touching the user's files."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import typing as t

from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.connector import WarehouseConnector
from target_looker_warehouse.lookml_generator import GENERATED_MARKER, TableInfo, generate_project
from target_looker_warehouse.model_sql import MODELS

_LOOKML_SUFFIXES = (".lkml", ".lookml")



@dataclasses.dataclass
class WriteResult:
    written: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)
    kept_user_files: list[str] = dataclasses.field(default_factory=list)


def is_generated(path: pathlib.Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(GENERATED_MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def write_project(root: str | pathlib.Path, files: t.Mapping[str, str]) -> WriteResult:
    """Write ``files`` under ``root``; a file the user owns (no marker) is never overwritten,
    and generated files no longer produced are removed."""
    base = pathlib.Path(root)
    result = WriteResult()
    for relative, text in sorted(files.items()):
        path = base / relative
        if path.exists() and not is_generated(path):
            result.kept_user_files.append(relative)
            continue
        if path.exists() and path.read_text(encoding="utf-8") == text:
            result.unchanged.append(relative)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        result.written.append(relative)
    if base.exists():
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(base).as_posix()
            if (
                path.is_file()
                and path.name.endswith(_LOOKML_SUFFIXES)
                and relative not in files
                and is_generated(path)
            ):
                path.unlink()
                result.removed.append(relative)
    return result


def warehouse_tables(connector: WarehouseConnector, config: t.Mapping[str, t.Any]) -> list[TableInfo]:
    settings = WarehouseSettings.from_config(config)
    raw_schema, model_schema = settings.default_target_schema, settings.model_schema
    keys = connector.recorded_keys(raw_schema)
    tables: list[TableInfo] = []
    for name in connector.table_names(model_schema):
        if name in MODELS:
            columns = connector.columns_of(model_schema, name)
            tables.append(TableInfo(model_schema, name, columns, (next(iter(columns)),), "model"))
    for name in connector.table_names(raw_schema):
        columns = connector.columns_of(raw_schema, name)
        key = tuple(k for k in keys.get(name, []) if k in columns)
        tables.append(TableInfo(raw_schema, name, columns, key, "raw"))
    return tables


def regenerate(connector: WarehouseConnector, config: t.Mapping[str, t.Any]) -> WriteResult:
    settings = WarehouseSettings.from_config(config)
    files = generate_project(
        warehouse_tables(connector, config),
        model_name=settings.lookml_model,
        connection=settings.lookml_connection,
        model_schema=settings.model_schema,
    )
    return write_project(str(settings.lookml_path), files)


__all__ = ["WriteResult", "is_generated", "regenerate", "write_project"]
