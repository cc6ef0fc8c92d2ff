"""Looker Scheduled Plans the user declares in ``looker_scheduled_plans``, kept in step after a load.

A plan is known by its name among the plans the API user owns: absent, it is created; present
and different, it is updated; present and equal, it is left alone (a second run changes
nothing). A plan whose dashboard or look no longer exists is never created and, if it exists,
is disabled, so Looker does not keep failing to deliver it; either way it is reported.

A destination's secret parameters (S3 secret key, SFTP password) come from the sensitive setting
``looker_destination_secrets`` by the name the destination's ``secret`` gives, so the plans
themselves hold no secret. Looker's ``secret_parameters`` is write-only: it cannot be read back
to compare, so it is sent when a plan is created or updated for another reason.
"""

from __future__ import annotations

import json
import logging
import typing as t

from looker_sdk import error as looker_error
from looker_sdk.sdk.api40 import models

from target_looker_warehouse.config import WarehouseSettings

DASHBOARD_FORMAT = "wysiwyg_pdf"
LOOK_FORMAT = "csv"
# Destination fields Looker returns as they were written (secret_parameters never comes back).
_COMPARED_DESTINATION_FIELDS = ("type", "address", "format", "apply_formatting", "apply_vis", "message")
_COMPARED_PLAN_FIELDS = ("dashboard_id", "lookml_dashboard_id", "look_id", "crontab", "timezone", "enabled",
                         "filters_string", "require_results", "require_no_results", "require_change")


class ScheduledPlanError(RuntimeError):
    """Looker refused one or more declared plans (the others were applied)."""


def _target(plan: t.Mapping[str, t.Any], model: str) -> tuple[str, str]:
    """(field, id) of what the plan delivers: a generated dashboard is named without its model."""
    if plan.get("look_id"):
        return "look_id", str(plan["look_id"])
    if plan.get("dashboard_id"):
        return "dashboard_id", str(plan["dashboard_id"])
    name = str(plan.get("lookml_dashboard") or "")
    return "lookml_dashboard_id", name if "::" in name else f"{model}::{name}"


def _destination(declared: t.Mapping[str, t.Any], default_format: str,
                 secrets: t.Mapping[str, t.Any]) -> models.ScheduledPlanDestination:
    def as_json(value: t.Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True)

    secret_name = declared.get("secret")

    return models.ScheduledPlanDestination(
        type=declared["type"],
        address=declared.get("address"),
        format=declared.get("format") or default_format,
        apply_formatting=declared.get("apply_formatting", True),
        apply_vis=declared.get("apply_vis", True),
        parameters=as_json(declared.get("parameters")),
        secret_parameters=as_json(secrets.get(secret_name)) if secret_name else None,
        message=declared.get("message"),
    )


def missing_secrets(settings: WarehouseSettings) -> list[str]:
    """Secret names destinations give that looker_destination_secrets lacks (checked before a load)."""
    held = settings.destination_secrets
    return sorted({d["secret"] for p in settings.looker_scheduled_plans for d in p.get("destinations", [])
                   if d.get("secret") and d["secret"] not in held})


def write_body(plan: t.Mapping[str, t.Any], model: str, secrets: t.Mapping[str, t.Any]) -> models.WriteScheduledPlan:
    field, target_id = _target(plan, model)
    is_look = field == "look_id"
    default_format = LOOK_FORMAT if is_look else DASHBOARD_FORMAT
    # create_scheduled_plan requires all three for a look.
    look_requirement = False if is_look else None
    return models.WriteScheduledPlan(
        name=plan["name"],
        crontab=plan["crontab"],
        timezone=plan.get("timezone"),
        enabled=plan.get("enabled", True),
        filters_string=plan.get("filters_string"),
        scheduled_plan_destination=[_destination(d, default_format, secrets) for d in plan["destinations"]],
        look_id=target_id if field == "look_id" else None,
        dashboard_id=target_id if field == "dashboard_id" else None,
        lookml_dashboard_id=target_id if field == "lookml_dashboard_id" else None,
        require_results=look_requirement,
        require_no_results=look_requirement,
        require_change=look_requirement,
    )


def _fingerprint(plan: t.Any) -> dict[str, t.Any]:
    destinations = []
    for destination in plan.scheduled_plan_destination or []:
        seen = {f: getattr(destination, f, None) for f in _COMPARED_DESTINATION_FIELDS}
        seen["parameters"] = json.loads(destination.parameters) if destination.parameters else None
        destinations.append(seen)
    fields = {f: getattr(plan, f, None) for f in _COMPARED_PLAN_FIELDS}
    # Looker stores an unset boolean as false.
    fields = {k: (False if v is None and k.startswith("require_") else v) for k, v in fields.items()}
    return {**fields, "destinations": sorted(destinations, key=lambda d: json.dumps(d, sort_keys=True, default=str))}


def _matches(have: t.Any, wanted: t.Any) -> bool:
    """Whether Looker's plan has every value the declared one sets; a field left unset is
    Looker's to fill (a timezone defaults to the instance's), not a difference."""
    if isinstance(wanted, dict):
        return isinstance(have, dict) and all(
            _matches(have.get(k), v) for k, v in wanted.items() if v is not None)
    if isinstance(wanted, list):
        return isinstance(have, list) and len(have) == len(wanted) and all(
            _matches(h, w) for h, w in zip(have, wanted, strict=True))
    return bool(have == wanted)


def _exists(sdk: t.Any, field: str, target_id: str) -> bool:
    try:
        found = sdk.look(target_id, fields="id,deleted") if field == "look_id" else \
            sdk.dashboard(target_id, fields="id,deleted")
    except looker_error.SDKError as error:
        if (error.message or "").strip().lower() == "not found":
            return False
        raise
    return not getattr(found, "deleted", False)


def apply_scheduled_plans(sdk: t.Any, config: t.Mapping[str, t.Any], logger: logging.Logger) -> dict[str, list[str]]:
    settings = WarehouseSettings.from_config(config)
    report: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": [], "disabled": [],
                                    "missing_target": [], "failed": []}
    existing: dict[str, t.Any] = {}
    for plan in sdk.all_scheduled_plans():
        existing.setdefault(plan.name, plan)
    problems: list[str] = []
    for declared in settings.looker_scheduled_plans:
        name = declared["name"]
        field, target_id = _target(declared, settings.lookml_model)
        current = existing.get(name)
        try:
            if not _exists(sdk, field, target_id):
                report["missing_target"].append(name)
                action = "not created"
                if current is not None and current.enabled:
                    sdk.update_scheduled_plan(current.id, models.WriteScheduledPlan(enabled=False))
                    report["disabled"].append(name)
                    action = "disabled"
                logger.warning(
                    "Looker scheduled plan %r: %s %s does not exist, so the plan was %s. Point the plan at an "
                    "existing dashboard or look in looker_scheduled_plans, or remove it.",
                    name, field.removesuffix("_id"), target_id, action)
                continue
            body = write_body(declared, settings.lookml_model, settings.destination_secrets)
            if current is None:
                sdk.create_scheduled_plan(body)
                report["created"].append(name)
            elif _matches(_fingerprint(current), _fingerprint(body)):
                report["unchanged"].append(name)
            else:
                sdk.update_scheduled_plan(current.id, body)
                report["updated"].append(name)
        except looker_error.SDKError as error:
            details = "; ".join(str(e.message) for e in (error.errors or [])) or str(error.message)
            report["failed"].append(name)
            problems.append(f"{name!r}: {details}")
    logger.info("Looker scheduled plans: %s", {k: v for k, v in report.items() if v})
    if problems:
        raise ScheduledPlanError(
            f"Looker refused scheduled plan(s) {'; '.join(problems)[:800]}. "
            "Correct them in looker_scheduled_plans (crontab, destination type and parameters) and run again")
    return report
