"""After a load: validate and deploy the LookML project, reset the model's datagroup, then
bring the declared Scheduled Plans in step (scheduled_plans.py).

The generated project folder is the project's git working copy; getting its commits to
the remote is the user's git tooling (see README). Looker then pulls the remote into
the dev workspace (reset_to_remote), validates, deploys to production, and the
datagroup reset makes cached dashboard queries stale so they show the new data.
"""

from __future__ import annotations

import logging
import time
import typing as t

from looker_sdk import error as looker_error
from looker_sdk.sdk.api40 import models

from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.looker_client import build_sdk
from target_looker_warehouse.scheduled_plans import apply_scheduled_plans


class LookMLValidationError(RuntimeError):
    """Looker found errors in the project: nothing was deployed."""


def deploy_after_load(config: t.Mapping[str, t.Any], logger: logging.Logger) -> dict[str, t.Any]:
    sdk = build_sdk(config)
    settings = WarehouseSettings.from_config(config)
    model_name = settings.lookml_model
    project_id = settings.looker_project_id or model_name
    report: dict[str, t.Any] = {"project_id": project_id}
    try:
        sdk.update_session(models.WriteApiSession(workspace_id="dev"))
        sdk.reset_project_to_remote(project_id)
        validation = sdk.validate_project(project_id)
        problems = [
            e for e in (validation.errors or []) if (e.severity or "error") in ("fatal", "error")
        ]
        report["warnings"] = len(validation.errors or []) - len(problems)
        if problems:
            details = "; ".join(f"{e.file_path or '?'}:{e.line_number or '?'} {e.message}" for e in problems[:10])
            raise LookMLValidationError(f"Looker project '{project_id}' has {len(problems)} error(s), not deployed: {details}")
        sdk.deploy_to_production(project_id)
        report["deployed"] = True
        sdk.update_session(models.WriteApiSession(workspace_id="production"))
        report["datagroups_reset"] = _reset_datagroups(sdk, model_name)
        logger.info("Looker project %s validated and deployed; datagroups reset: %s",
                    project_id, report["datagroups_reset"])
        if settings.looker_scheduled_plans:
            # After the deploy: a plan may name a dashboard this very deploy brought in.
            report["scheduled_plans"] = apply_scheduled_plans(sdk, config, logger)
    except looker_error.SDKError as error:
        raise RuntimeError(f"Looker API call failed: {str(error)[:500]}") from error
    finally:
        try:
            sdk.auth.logout()
        except looker_error.SDKError:
            logger.warning("Looker logout failed (the token expires on its own)")
    return report


def _reset_datagroups(sdk: t.Any, model_name: str) -> list[str]:
    now = int(time.time())
    reset = []
    for datagroup in sdk.all_datagroups():
        if datagroup.model_name == model_name and datagroup.id:
            # stale_before "cannot be in the future": use the current second.
            sdk.update_datagroup(datagroup.id, models.WriteDatagroup(stale_before=now, triggered_at=now))
            reset.append(str(datagroup.name))
    return reset
