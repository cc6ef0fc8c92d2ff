"""A local Databricks SQL warehouse: Spark Thrift Server plus the adapter in front of it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..tls import make_loopback_certificate
from .adapter import WarehouseAdapter
from .credentials import DEFAULT_OAUTH_LIFETIME_S, CredentialStore
from .engine_jars import prepare_jars
from .faults import Faults
from .thrift_server import THRIFT_HTTP_PATH, SparkSettings, SparkThriftServer

WAREHOUSE_ID = "qbc0sandbox0001"
HTTP_PATH = f"/sql/1.0/warehouses/{WAREHOUSE_ID}"


@dataclass
class StartupReport:
    """Seconds spent preparing jars, starting Spark, and in all (the adapter takes the rest)."""

    jars_s: float = 0.0
    engine_s: float = 0.0
    total_s: float = 0.0


class LocalWarehouse:
    """Start with :meth:`start` (or use as a context manager); everything binds 127.0.0.1.

    ``server_hostname`` is ``127.0.0.1:PORT``. The connector appends its own port (``_port``,
    default 443) to ``server_hostname``, so a client splits it: ``server_hostname=host``,
    ``_port=port``; OAuth URLs (``https://{server_hostname}/oidc/v1/token``) take it whole.
    """

    def __init__(
        self,
        *,
        catalog: str = "main",
        cache_dir: Path | None = None,
        work_dir: Path | None = None,
        access_token: str | None = None,
        driver_memory: str = "1g",
        port: int = 0,
    ) -> None:
        self.catalog = catalog
        self._port = port
        self._cache_dir = cache_dir
        self._owns_work_dir = work_dir is None
        self.work_dir = work_dir or Path(tempfile.mkdtemp(prefix="qbc-databricks-"))
        self.credentials = CredentialStore([access_token] if access_token else None)
        self._initial_token = self.credentials.personal_token
        self.client_id, self.client_secret = self.credentials.add_client()
        self._settings = SparkSettings(catalog=catalog, driver_memory=driver_memory)
        self.engine: SparkThriftServer | None = None
        self.adapter: WarehouseAdapter | None = None
        self.startup = StartupReport()

    # Connection settings -------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._adapter().port

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def server_hostname(self) -> str:
        """``host:port``. The connector itself wants the host alone plus ``_port=port``."""
        return f"{self.host}:{self.port}"

    @property
    def host_url(self) -> str:
        """The workspace URL, as databricks-sdk's ``Config(host=...)`` takes it."""
        return f"https://{self.server_hostname}"

    @property
    def http_path(self) -> str:
        return HTTP_PATH

    @property
    def access_token(self) -> str:
        """The personal access token accepted now (the newest, after a rotation)."""
        return self.credentials.personal_token

    @property
    def ca_file(self) -> str:
        return str(self._adapter().certificate.ca_file)

    @property
    def faults(self) -> Faults:
        return self._adapter().faults

    @property
    def warehouse_dir(self) -> Path:
        return self._engine().warehouse_dir

    def connection_settings(self) -> dict[str, str]:
        """Plain values to hand to a target's config or print from the CLI."""
        return {
            "server_hostname": self.server_hostname,
            "host": self.host,
            "port": str(self.port),
            "http_path": self.http_path,
            "access_token": self.access_token,
            "catalog": self.catalog,
            "ca_file": self.ca_file,
            "workspace_url": self.host_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    def connect(self, **kwargs: Any) -> Any:
        """Open a databricks-sql-connector connection with production-style options.

        Native query parameters, as on a SQL warehouse (the adapter binds them for Spark); pass
        any connector keyword to override a default, e.g. ``use_inline_params=True``,
        ``access_token=`` or ``credentials_provider=``.
        """
        from databricks import sql

        options: dict[str, Any] = {
            "server_hostname": self.host,
            "_port": self.port,
            "http_path": self.http_path,
            "_tls_trusted_ca_file": self.ca_file,
            "use_inline_params": False,
            "enable_telemetry": False,
        }
        if "credentials_provider" not in kwargs and "access_token" not in kwargs:
            options["access_token"] = self.access_token
        options.update(kwargs)
        return sql.connect(**options)

    # Lifecycle -------------------------------------------------------------------------------
    def start(self) -> LocalWarehouse:
        began = time.monotonic()
        jars = prepare_jars(self._cache_dir)
        self.startup.jars_s = time.monotonic() - began
        try:
            engine = SparkThriftServer(
                jars,
                self.work_dir / "engine",
                self._settings,
                orphan_cleanup_dir=self.work_dir if self._owns_work_dir else None,
            )
            self.engine = engine
            engine.start()
            self.startup.engine_s = time.monotonic() - began - self.startup.jars_s
            adapter = WarehouseAdapter(
                backend_port=engine.port,
                backend_path=THRIFT_HTTP_PATH,
                http_path=HTTP_PATH,
                certificate=make_loopback_certificate(self.work_dir / "tls", "databricks"),
                credentials=self.credentials,
                volumes_dir=self.work_dir / "volumes",
                catalogs=(self.catalog,),
            )
            adapter.start(self._port)
            self.adapter = adapter
        except BaseException:
            # The error already carries the tail of Spark's log; nothing may be left running.
            self.stop()
            raise
        self.startup.total_s = time.monotonic() - began
        # A JVM outlives the Python process that started it; make an abrupt exit stop it too.
        atexit.register(self.stop)
        return self

    def reset(self) -> None:
        """Undo what tests change: armed faults, counters, expired or rotated tokens."""
        faults = self.faults
        faults.clear()
        faults.reset_counts()
        self.credentials.oauth_lifetime_s = DEFAULT_OAUTH_LIFETIME_S
        if not self.credentials.is_valid(self._initial_token):
            self.credentials.add_personal_token(self._initial_token)

    def rss_bytes(self) -> int:
        return self.engine.rss_bytes() if self.engine else 0

    def engine_cpu_seconds(self) -> float:
        """CPU seconds Spark (the JVM) has used so far: the engine's side of a load."""
        return self.engine.cpu_seconds() if self.engine else 0.0

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if self.adapter is not None:
            self.adapter.stop()
            self.adapter = None
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> LocalWarehouse:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _adapter(self) -> WarehouseAdapter:
        if self.adapter is None:
            raise RuntimeError("the local warehouse is not running: call start() first")
        return self.adapter

    def _engine(self) -> SparkThriftServer:
        if self.engine is None:
            raise RuntimeError("the local warehouse is not running: call start() first")
        return self.engine
