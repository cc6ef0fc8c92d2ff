"""``target-looker-warehouse check``: does this configuration reach the warehouse and Looker?

Aspects, cheapest first: the settings; the warehouse connection (the DuckDB file writable, or
a PostgreSQL login: host, port, user, password); the schema rights (``CREATE SCHEMA`` and
``CREATE TABLE`` in both schemas, inside a transaction that is rolled back, so nothing stays);
and, when Looker is configured, the API login (``POST /api/4.0/login``), the LookML project,
and the API user's right to validate (``develop``) and deploy (``deploy``) it. Nothing is loaded.
"""

from __future__ import annotations

import logging
import os
import pathlib
import secrets
import typing as t

import sqlalchemy as sa
from qbc_plugin_kit.checks import Aspect, Check, failed, passed
from qbc_plugin_kit.failures import Kind, SystemicFailure
from qbc_plugin_kit.settings_check import unknown_settings

from target_looker_warehouse import warehouse_errors
from target_looker_warehouse.config import SETTINGS_SCHEMA, WarehouseSettings
from target_looker_warehouse.dialects import dialect_for

LOGGER = logging.getLogger("target-looker-warehouse.check")
# The Looker SDK (looker_sdk.error included) takes about a second to import: the checks that talk
# to Looker import it themselves, so a load run never does.
CONNECT_TIMEOUT_SECONDS = 10
# Looker permissions: `develop` to validate in a dev workspace, `deploy` to deploy to production.
DEPLOY_PERMISSIONS = ("develop", "deploy")


class WarehouseCheck:
    def __init__(self, config: dict[str, t.Any]) -> None:
        self.config = config
        self.settings = WarehouseSettings.from_config(config)
        self.engine: sa.Engine | None = None
        self.blocked: set[str] = set()
        self.sdk: t.Any = None

    # -- warehouse -------------------------------------------------------------------------

    def settings_aspect(self) -> Aspect:
        s = self.settings
        problem = s.connection_problem()
        if problem is not None:
            self.blocked.add("warehouse")
            return failed("settings", *problem)
        try:
            dialect_for(self.config)
        except ValueError as exc:
            self.blocked.add("warehouse")
            return failed("settings", str(exc).rstrip("."), "set dialect to duckdb or postgres, and a duckdb_path "
                          "whose file name is not a schema name")
        unknown = unknown_settings(dict(self.config), SETTINGS_SCHEMA)
        if unknown:
            return failed("settings", unknown[0], "rename or remove the setting")
        if s.looker_api_enabled:
            missing = [k for k in ("looker_base_url", "looker_client_id", "looker_client_secret") if not self.config.get(k)]
            if missing:
                self.blocked.add("looker")
                return failed("settings", f"looker_api_enabled is on but {', '.join(missing)} not set",
                              f"set {missing[0]} (or looker_api_enabled: false)")
        where = s.duckdb_path if s.dialect == "duckdb" else (
            "sqlalchemy_url" if s.sqlalchemy_url else f"{s.user}@{s.host}:{s.port}/{s.database}")
        return passed("settings", f"{s.dialect} ({where}), schemas {s.default_target_schema} and {s.model_schema}")

    def connection_aspect(self) -> Aspect:
        name = "warehouse connection"
        if "warehouse" in self.blocked:
            return failed(name, "not tried: the settings are incomplete", "see the settings line")
        if self.settings.dialect == "duckdb":
            return self._duckdb_file(name)
        dialect = dialect_for(self.config)
        url = dialect.sqlalchemy_url()
        engine = sa.create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                user, database = conn.execute(sa.text("SELECT current_user, current_database()")).one()
        except Exception as exc:
            self.blocked.add("warehouse")
            return self._warehouse_failure(name, exc)
        self.engine = engine
        target = sa.make_url(url) if isinstance(url, str) else url
        return passed(name, f"PostgreSQL at {target.host}:{target.port or 5432}, logged in as {user} to {database}")

    def _duckdb_file(self, name: str) -> Aspect:
        path = pathlib.Path(self.settings.duckdb_path)
        if not path.exists():
            self.blocked.add("warehouse")  # no file to test rights in; the run creates it
            ancestor = next((p for p in path.parents if p.exists()), pathlib.Path("."))
            if not os.access(ancestor, os.W_OK | os.X_OK):
                return failed(name, f"cannot create the DuckDB file {str(path)!r}: {ancestor} is not writable",
                              "set duckdb_path to a file in a folder this user may write")
            return passed(name, f"DuckDB file {path} does not exist yet; the run creates it")
        if not os.access(path, os.R_OK | os.W_OK):
            self.blocked.add("warehouse")
            return failed(name, f"the DuckDB file {str(path)!r} is not writable by this user",
                          "give this user write access to the file, or set duckdb_path to another file")
        dialect = dialect_for(self.config)
        engine = sa.create_engine(dialect.sqlalchemy_url(), poolclass=sa.pool.NullPool, **dialect.engine_kwargs())
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            self.blocked.add("warehouse")
            return self._warehouse_failure(name, exc)
        self.engine = engine
        return passed(name, f"DuckDB file {path} opens for writing")

    @staticmethod
    def _warehouse_failure(name: str, exc: Exception) -> Aspect:
        verdict = warehouse_errors.classify(exc)
        fix = verdict.fix or "check the warehouse settings (host, port, user, password, database)"
        if verdict.kind is not Kind.SYSTEMIC and "connect" in verdict.message.lower():
            fix = "check the settings host and port (and that PostgreSQL is running)"
        return failed(name, verdict.message, fix)

    def schema_rights_aspect(self) -> Aspect:
        name = "schema rights"
        if self.engine is None:
            reason = "no DuckDB file yet (the run creates it, with every right)" if (
                self.settings.dialect == "duckdb" and "warehouse" in self.blocked
                and not pathlib.Path(self.settings.duckdb_path).exists()) else None
            if reason is not None:
                return passed(name, reason)
            return failed(name, "not tried: no warehouse connection", "see the warehouse connection line")
        q = dialect_for(self.config).quote
        schemas = [self.settings.default_target_schema, self.settings.model_schema]
        scratch = f"_qbc_check_{secrets.token_hex(4)}"
        try:
            with self.engine.connect() as conn:
                transaction = conn.begin()
                try:
                    for schema in schemas:
                        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {q(schema)}"))
                        conn.execute(sa.text(f"CREATE TABLE {q(schema)}.{q(scratch)} (id INTEGER)"))
                finally:
                    transaction.rollback()  # nothing the check made stays
        except Exception as exc:
            verdict = warehouse_errors.classify(exc)
            return failed(name, verdict.message, verdict.fix or
                          "grant the user CREATE on the database and on default_target_schema and model_schema")
        finally:
            self.engine.dispose()
        return passed(name, f"CREATE SCHEMA and CREATE TABLE allowed in {' and '.join(schemas)} (rolled back)")

    # -- Looker ------------------------------------------------------------------------------

    def _looker_blocked(self, name: str) -> Aspect | None:
        if not self.settings.looker_configured:
            return passed(name, "not configured (looker_api_enabled is off)")
        if "looker" in self.blocked:
            return failed(name, "not tried: an earlier Looker aspect failed", "see the Looker lines above")
        return None

    def looker_login_aspect(self) -> Aspect:
        name = "Looker login"
        if (blocked := self._looker_blocked(name)) is not None:
            return blocked
        from target_looker_warehouse.looker_client import build_sdk

        try:
            self.sdk = build_sdk(self.config)
            self.sdk.auth.authenticate({})
        except SystemicFailure:
            self.blocked.add("looker")
            raise
        return passed(name, f"{self.settings.looker_base_url}/api/4.0/login accepted looker_client_id")

    def _status(self) -> int | None:
        return getattr(self.sdk.auth.transport, "last_status", None)

    def looker_project_aspect(self) -> Aspect:
        from looker_sdk import error as looker_error

        name = "Looker project"
        if (blocked := self._looker_blocked(name)) is not None:
            return blocked
        project_id = self.settings.looker_project_id or self.settings.lookml_model
        setting = "looker_project_id" if self.settings.looker_project_id else "looker_project_id (unset: lookml_model)"
        try:
            project = self.sdk.project(project_id, fields="id,uses_git")
        except looker_error.SDKError as exc:
            if self._status() == 404:
                return failed(name, f"Looker has no LookML project {project_id!r} that this API user can see "
                              f"({setting})", "set looker_project_id to the project's id (Develop > Projects in "
                              "Looker)")
            return failed(name, f"Looker refused to read project {project_id!r} (HTTP {self._status()}: {exc})",
                          "check looker_project_id and the API user's role")
        git = "" if project.uses_git else " (not connected to git: deploy needs a git remote)"
        return passed(name, f"project {project_id}{git}")

    def looker_rights_aspect(self) -> Aspect:
        from looker_sdk import error as looker_error

        name = "Looker deploy rights"
        if (blocked := self._looker_blocked(name)) is not None:
            return blocked
        try:
            user = self.sdk.me(fields="id,display_name")
            roles = self.sdk.user_roles(str(user.id))
        except looker_error.SDKError as exc:
            return failed(name, f"Looker did not say the API user's roles (HTTP {self._status()}: {exc})",
                          "check the API user's role in Looker (Admin > Users)")
        finally:
            self._logout()
        held: set[str] = set()
        for role in roles:
            permission_set = role.permission_set
            if permission_set is None:
                continue
            if permission_set.all_access:
                held.update(DEPLOY_PERMISSIONS)
            held.update(permission_set.permissions or [])
        missing = [p for p in DEPLOY_PERMISSIONS if p not in held]
        if missing:
            return failed(name, f"the API user {user.display_name or user.id!r} lacks the Looker permission(s) "
                          f"{', '.join(missing)} (validate needs develop, deploy needs deploy)",
                          "give the API user a role whose permission set has develop and deploy for the model "
                          "(Admin > Roles), or set looker_api_enabled: false")
        return passed(name, f"the API user {user.display_name or user.id!r} may validate (develop) and deploy")

    def _logout(self) -> None:
        from looker_sdk import error as looker_error

        try:
            self.sdk.auth.logout()
        except looker_error.SDKError:
            LOGGER.debug("Looker logout failed (the token expires on its own)", exc_info=True)


def build_checks(config: dict[str, t.Any]) -> list[tuple[str, Check]]:
    check = WarehouseCheck(config)
    return [
        ("settings", check.settings_aspect),
        ("warehouse connection", check.connection_aspect),
        ("schema rights", check.schema_rights_aspect),
        ("Looker login", check.looker_login_aspect),
        ("Looker project", check.looker_project_aspect),
        ("Looker deploy rights", check.looker_rights_aspect),
    ]
