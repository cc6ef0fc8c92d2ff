"""``target-databricks check``: does this configuration reach a SQL warehouse it can load?

Aspects, cheapest first, each stopping the ones that need it: the settings; the warehouse's
host and port (name, TCP, TLS with ``ca_bundle``); for a service principal, the workspace's
token endpoint (a wrong secret is refused there, before the warehouse is asked); a session on
the warehouse at ``http_path`` (``SELECT 1``: the credentials accepted, the warehouse running or
starting); ``USE CATALOG`` and ``USE SCHEMA`` (a missing schema is created, as a run would,
and dropped again); ``CREATE TABLE`` on a scratch table it drops; and, with volume staging, a
small file put into the Volume and removed. Nothing is loaded.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import typing as t

import requests
from qbc_plugin_kit.checks import Aspect, Check, failed, passed
from qbc_plugin_kit.failures import Kind, SystemicFailure

from target_databricks import errors, merge_sql
from target_databricks.auth import AuthenticationError, ClientCredentialsToken
from target_databricks.config import DatabricksSettings
from target_databricks.connector import DatabricksConnector, diagnose_connection
from target_databricks.merge_sql import Column

LOGGER = logging.getLogger("target-databricks.check")
CHECK_TIMEOUT_SECONDS = 15.0
STARTING_FIX = ("wait until the SQL warehouse is running (or start it on the SQL Warehouses page) "
                "and check again; a run waits and retries while it starts")


class _Blocked(Exception):
    """An earlier aspect failed: the ones that need it are not tried."""


class DatabricksCheck:
    """The aspects of one configuration; each method is one line of the check's output."""

    def __init__(self, config: dict[str, t.Any]) -> None:
        # The connector logs every HTTP round trip at INFO, and each failure again at ERROR:
        # the aspect lines say what matters.
        if not LOGGER.isEnabledFor(logging.DEBUG):
            logging.getLogger("databricks").setLevel(logging.CRITICAL)
        self.settings = DatabricksSettings.from_config(config)
        self.connector: DatabricksConnector | None = None
        self.blocked_by: str | None = None
        self.created_schema = False

    # -- helpers ---------------------------------------------------------------------------

    def _needs(self, name: str) -> Aspect | None:
        if self.blocked_by is None:
            return None
        return failed(name, f"not tried: {self.blocked_by} failed", f"see the {self.blocked_by} line")

    def _fail(self, name: str, problem: str, fix: str) -> Aspect:
        self.blocked_by = self.blocked_by or name
        return failed(name, problem, fix)

    def _run(self, name: str, statement: str) -> Aspect | list[t.Any]:
        """The statement's rows, or the failed aspect naming the warehouse's answer."""
        assert self.connector is not None
        try:
            return self.connector.execute(statement)
        except SystemicFailure as exc:
            return self._fail(name, exc.cause, exc.fix)
        except Exception as exc:
            verdict = errors.classify(exc, self.settings)
            if verdict.kind is Kind.TRANSIENT:
                # Throttled or still starting (HTTP 503 TEMPORARILY_UNAVAILABLE): a run retries.
                return self._fail(name, f"the SQL warehouse is not ready (starting or busy): {verdict.message}",
                                  STARTING_FIX)
            fix = verdict.fix or "see the message; the statement was: " + statement.split("(")[0].strip()
            return self._fail(name, verdict.message, fix)

    @property
    def schema(self) -> str:
        from target_databricks.sinks import conform_name  # the name a run writes to

        return conform_name(self.settings.default_target_schema)

    # -- aspects ---------------------------------------------------------------------------

    def settings_aspect(self) -> Aspect:
        s = self.settings
        missing = [k for k in ("server_hostname", "http_path") if not getattr(s, k)]
        if missing:
            return self._fail("settings", f"{' and '.join(missing)} not set",
                              f"set {missing[0]} (the SQL warehouse's Connection details)")
        if not (s.access_token or (s.client_id and s.client_secret)):
            partial = "client_secret" if s.client_id else "client_id" if s.client_secret else None
            problem = f"{partial} not set" if partial else "no credentials"
            return self._fail("settings", problem, "set access_token (a personal access token), or client_id "
                              "and client_secret of a service principal (OAuth M2M)")
        if s.ca_bundle and not os.path.isfile(s.ca_bundle):
            return self._fail("settings", f"the file {s.ca_bundle!r} named by ca_bundle does not exist",
                              "set ca_bundle to an existing PEM file (or unset it)")
        if s.uses_volume and not (s.catalog and s.staging_volume):
            return self._fail("settings", f"staging: {s.staging} with a Volume needs catalog and staging_volume",
                              "set catalog and staging_volume, or staging: insert")
        auth = f"service principal {s.client_id}" if s.uses_oauth else "personal access token"
        where = f"{s.catalog}.{self.schema}" if s.catalog else self.schema
        return passed("settings", f"{s.server_hostname}{s.http_path}, {auth}, schema {where}")

    def reachable_aspect(self) -> Aspect:
        name = "warehouse host"
        if (blocked := self._needs(name)) is not None:
            return blocked
        s = self.settings
        cause = diagnose_connection(s.host, s.port, s.ca_bundle)
        if cause is None:
            return passed(name, f"{s.host}:{s.port} answers (TLS verified)")
        if "certificate" in cause or "ssl" in cause.lower():
            return self._fail(name, f"server_hostname {s.server_hostname!r}: {cause}",
                              "set ca_bundle to the PEM bundle of the certificate authority that signed "
                              "the warehouse's certificate (or unset it to use the system's trust store)")
        return self._fail(name, f"cannot reach server_hostname {s.server_hostname!r}: {cause}", errors.HOST_FIX)

    def token_aspect(self) -> Aspect:
        name = "credentials"
        if (blocked := self._needs(name)) is not None:
            return blocked
        s = self.settings
        if not s.uses_oauth:
            return passed(name, "personal access token (checked by the warehouse session below)")
        token = ClientCredentialsToken(s.token_url, str(s.client_id), str(s.client_secret), scope=s.oauth_scope,
                                       verify=s.ca_bundle or True, timeout=CHECK_TIMEOUT_SECONDS)
        try:
            token.access_token()
        except AuthenticationError as exc:
            return self._fail(name, str(exc), errors.auth_fix(s))
        except requests.RequestException as exc:
            return self._fail(name, f"cannot reach the token endpoint {s.token_url} ({type(exc).__name__})",
                              "check server_hostname (or oauth_token_url) and that this machine reaches it")
        return passed(name, f"service principal {s.client_id}: token issued by {s.token_url}")

    def session_aspect(self) -> Aspect:
        name = "warehouse session"
        if (blocked := self._needs(name)) is not None:
            return blocked
        try:
            self.connector = DatabricksConnector(self.settings, LOGGER)
        except SystemicFailure as exc:
            return self._fail(name, exc.cause, exc.fix)
        rows = self._run(name, "SELECT 1")
        if isinstance(rows, Aspect):
            return rows
        return passed(name, f"http_path {self.settings.http_path} accepted the credentials (SELECT 1)")

    def catalog_aspect(self) -> Aspect:
        name = "catalog"
        if (blocked := self._needs(name)) is not None:
            return blocked
        catalog = self.settings.catalog
        if not catalog:
            return passed(name, "not set: the warehouse's default catalog")
        rows = self._run(name, merge_sql.use_catalog(catalog))
        if isinstance(rows, Aspect):
            return rows
        return passed(name, f"USE CATALOG {catalog}")

    def schema_aspect(self) -> Aspect:
        name = "schema"
        if (blocked := self._needs(name)) is not None:
            return blocked
        qualified = ".".join(p for p in (self.settings.catalog, self.schema) if p)
        exists = self._schema_exists()
        if isinstance(exists, Aspect):
            return exists
        if not exists:
            # A run creates the schema: so does the check, and drops it again at the end.
            rows = self._run(name, merge_sql.create_schema(self.settings.catalog, self.schema))
            if isinstance(rows, Aspect):
                return rows
            self.created_schema = True
        rows = self._run(name, merge_sql.use_schema(self.settings.catalog, self.schema))
        if isinstance(rows, Aspect):
            return rows
        return passed(name, f"USE SCHEMA {qualified}" + ("" if exists else
                      " (does not exist yet: created and dropped again; a run creates it)"))

    def _schema_exists(self) -> bool | Aspect:
        assert self.connector is not None
        try:
            self.connector.execute(merge_sql.describe_schema(self.settings.catalog, self.schema))
        except Exception as exc:
            if "SCHEMA_NOT_FOUND" in errors.message_of(exc).upper():
                return False
            return self._fail("schema", errors.classify(exc, self.settings).message,
                              errors.classify(exc, self.settings).fix or errors.GRANT_FIX)
        return True

    def create_table_aspect(self) -> Aspect:
        name = "create table"
        if (blocked := self._needs(name)) is not None:
            return blocked
        table = merge_sql.table_name(self.settings.catalog, self.schema, f"qbc_check_{secrets.token_hex(4)}")
        rows = self._run(name, merge_sql.create_table(table, [Column("id", "STRING")],
                                                      provider=self.settings.provider,
                                                      properties=self.settings.new_table_properties))
        if isinstance(rows, Aspect):
            return rows
        dropped = self._run(name, merge_sql.drop_table(table))
        if isinstance(dropped, Aspect):
            return dropped
        using = f" USING {self.settings.provider}" if self.settings.provider else ""
        return passed(name, f"created and dropped {table}{using}")

    def volume_aspect(self) -> Aspect:
        name = "staging volume"
        s = self.settings
        if not s.uses_volume:
            why = ("staging: insert" if s.staging == "insert"
                   else "staging: auto without staging_volume: every batch goes as query parameters")
            return passed(name, f"off ({why})")
        if (blocked := self._needs(name)) is not None:
            return blocked
        file_name = f"qbc_check_{secrets.token_hex(4)}.txt"
        remote = merge_sql.volume_path(str(s.catalog), self.schema, str(s.staging_volume), file_name)
        fd, local = tempfile.mkstemp(prefix="qbc_check_", suffix=".txt", dir=s.local_staging_dir)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write("target-databricks check\n")
            rows = self._run(name, merge_sql.put_file(local, remote))
            if isinstance(rows, Aspect):
                return rows
            removed = self._run(name, merge_sql.remove_file(remote))
            if isinstance(removed, Aspect):
                return removed
        finally:
            os.unlink(local)
        return passed(name, f"wrote and removed {remote}")

    def close(self) -> None:
        if self.connector is None:
            return
        if self.created_schema:
            try:
                self.connector.execute(merge_sql.drop_schema(self.settings.catalog, self.schema))
            except Exception as exc:  # the check's own schema: say so, the verdict stands
                LOGGER.warning("could not drop the schema the check created: %s", errors.first_line(exc))
        self.connector.close()

    def volume_then_close(self) -> Aspect:
        try:
            return self.volume_aspect()
        finally:
            self.close()


def build_checks(config: dict[str, t.Any]) -> list[tuple[str, Check]]:
    check = DatabricksCheck(config)
    return [
        ("settings", check.settings_aspect),
        ("warehouse host", check.reachable_aspect),
        ("credentials", check.token_aspect),
        ("warehouse session", check.session_aspect),
        ("catalog", check.catalog_aspect),
        ("schema", check.schema_aspect),
        ("create table", check.create_table_aspect),
        ("staging volume", check.volume_then_close),
    ]
