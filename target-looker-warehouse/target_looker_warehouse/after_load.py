"""Steps run once the raw streams are committed: modelled layer, LookML, Looker API."""

from __future__ import annotations

import dataclasses
import logging
import typing as t

from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.connector import WarehouseConnector


def run_after_load(
    connector: WarehouseConnector, config: dict[str, t.Any], logger: logging.Logger
) -> dict[str, t.Any]:
    report: dict[str, t.Any] = {}
    settings = WarehouseSettings.from_config(config)
    if settings.model_enabled:
        from target_looker_warehouse.model_refresh import refresh_model

        if connector.dialect.before_model_rebuild_sql:
            with connector.engine.connect() as conn:
                for statement in connector.dialect.before_model_rebuild_sql:
                    conn.exec_driver_sql(statement)
                conn.commit()
        report["model"] = refresh_model(connector, config)
        logger.info("Modelled layer refreshed: %s", report["model"])
    if settings.lookml_path:
        written = _write_lookml(connector, config)
        report["lookml"] = dataclasses.asdict(written)
        for relative in written.kept_user_files:
            logger.warning("LookML file %s has no generated marker: left as the user wrote it", relative)
        logger.info("LookML project in %s: %d written, %d unchanged, %d removed",
                    settings.lookml_path, len(written.written), len(written.unchanged), len(written.removed))
    if settings.looker_api_enabled:
        from target_looker_warehouse.looker_deploy import deploy_after_load

        report["looker"] = deploy_after_load(config, logger)
    return report


def _write_lookml(connector: WarehouseConnector, config: dict[str, t.Any]) -> t.Any:
    from target_looker_warehouse.lookml_project import regenerate

    return regenerate(connector, config)


def regenerate_lookml(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The ``lookml`` command: rewrite the project from the warehouse as it is now."""
    from target_looker_warehouse.target import TargetLookerWarehouse

    target = TargetLookerWarehouse(config=config, validate_config=True)
    if not WarehouseSettings.from_config(target.config).lookml_path:
        raise SystemExit("set lookml_path to the folder of the Looker project to write")
    return dataclasses.asdict(_write_lookml(target.warehouse_connector, dict(target.config)))
