"""Spark's Thrift Server (HiveServer2 protocol over HTTP) started from the pyspark wheel.

The wheel has no ``sbin/start-thriftserver.sh``; ``spark-submit --class HiveThriftServer2
spark-internal`` is what that script runs. An Iceberg hadoop catalog is the default catalog, so
plain ``CREATE TABLE`` makes Iceberg tables and MERGE/UPDATE/DELETE/ALTER work as on Delta.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .engine_jars import EngineJars, EngineSetupError, find_java

THRIFT_HTTP_PATH = "cliservice"
# A loaded CI machine (several JVMs on two cores) has taken over three minutes to start one;
# QBC_SPARK_START_TIMEOUT_S gives such a machine longer.
DEFAULT_STARTUP_TIMEOUT_S = float(os.environ.get("QBC_SPARK_START_TIMEOUT_S", "180"))
# Runs the server and ends it if the Python process that started it goes away without
# stopping it (a killed pytest, a CI timeout): a JVM would otherwise live on, holding ~0.6 GB.
_WATCHDOG = """
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT
while kill -0 "$QBC_PARENT_PID" 2>/dev/null; do
  if ! kill -0 "$child" 2>/dev/null; then wait "$child"; exit $?; fi
  sleep 1
done
kill -TERM "$child" 2>/dev/null
sleep 10
kill -KILL "$child" 2>/dev/null
if [ -n "$QBC_ORPHAN_CLEANUP_DIR" ]; then rm -rf -- "$QBC_ORPHAN_CLEANUP_DIR"; fi
"""


@dataclass(frozen=True)
class SparkSettings:
    catalog: str = "main"
    driver_memory: str = "1g"
    master: str = "local[2]"
    shuffle_partitions: int = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class SparkThriftServer:
    """One Spark Thrift Server process, owning its work directory under ``work_dir``."""

    def __init__(
        self,
        jars: EngineJars,
        work_dir: Path,
        settings: SparkSettings | None = None,
        orphan_cleanup_dir: Path | None = None,
    ):
        """``orphan_cleanup_dir`` is removed if the server has to end itself because the
        process that started it died."""
        self.jars = jars
        self.orphan_cleanup_dir = orphan_cleanup_dir
        self.work_dir = work_dir
        self.settings = settings or SparkSettings()
        self.port = 0
        self.log_path = work_dir / "spark-thrift-server.log"
        self.warehouse_dir = work_dir / "iceberg-warehouse"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{THRIFT_HTTP_PATH}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        catalog = self.settings.catalog
        spark_submit = self.jars.spark_home / "bin" / "spark-submit"
        conf = {
            "spark.ui.enabled": "false",
            # Even without the UI, Spark keeps each statement's text and plan for its status
            # store (1,000 SQL executions, 200 thrift statements by default). A warehouse client
            # sends ~1 MB of parameter values per statement, so that history filled the 1 GB
            # heap within a million rows and statements began failing with OutOfMemoryError.
            "spark.sql.ui.retainedExecutions": "20",
            "spark.sql.thriftServer.ui.retainedStatements": "20",
            "spark.sql.thriftServer.ui.retainedSessions": "20",
            "spark.sql.maxPlanStringLength": "20000",
            "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
            f"spark.sql.catalog.{catalog}": "org.apache.iceberg.spark.SparkCatalog",
            f"spark.sql.catalog.{catalog}.type": "hadoop",
            f"spark.sql.catalog.{catalog}.warehouse": str(self.warehouse_dir),
            "spark.sql.defaultCatalog": catalog,
            # Databricks SQL warehouses run in UTC; the JVM's zone would make results machine-dependent.
            "spark.sql.session.timeZone": "UTC",
            # SQL warehouses run with ANSI_MODE on. Spark's (ANSI) store assignment refuses to
            # write a STRING into a TIMESTAMP/DATE column, and LEGACY assignment is disallowed for
            # Iceberg (DSv2): the connector's inline parameters render dates and timestamps as
            # strings, so SQL that inserts them must CAST explicitly (valid on Databricks too).
            "spark.sql.ansi.enabled": "true",
            "spark.sql.shuffle.partitions": str(self.settings.shuffle_partitions),
            "spark.sql.warehouse.dir": str(self.work_dir / "spark-warehouse"),
            "spark.driver.extraJavaOptions": (
                f"-Dderby.system.home={self.work_dir} -Duser.timezone=UTC -XX:+UseSerialGC"
            ),
            "spark.local.dir": str(self.work_dir / "tmp"),
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
        }
        hiveconf = {
            "hive.server2.transport.mode": "http",
            "hive.server2.thrift.http.path": THRIFT_HTTP_PATH,
            "hive.server2.thrift.http.port": str(self.port),
            "hive.server2.thrift.bind.host": "127.0.0.1",
            "hive.server2.authentication": "NOSASL",
            "hive.server2.enable.doAs": "false",
            # Hive's defaults write under /tmp/<user>; keep everything inside the work directory.
            "hive.server2.logging.operation.enabled": "false",
            "hive.exec.scratchdir": str(self.work_dir / "hive-scratch"),
            "hive.exec.local.scratchdir": str(self.work_dir / "hive-local-scratch"),
            "hive.querylog.location": str(self.work_dir / "hive-querylog"),
        }
        command = [
            str(spark_submit),
            "--master",
            self.settings.master,
            "--driver-memory",
            self.settings.driver_memory,
            "--name",
            "qbc-databricks-sandbox",
            "--class",
            "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
            # On the JVM's own class path, not --jars: Spark's added-jar class loader is not the
            # one every thrift worker thread resolves Iceberg classes through, and INSERT then
            # failed with NoClassDefFoundError (org.apache.iceberg.PositionDeletesTable).
            "--driver-class-path",
            os.pathsep.join(str(jar) for jar in self.jars.extra_jars),
        ]
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        for key, value in hiveconf.items():
            command += ["--hiveconf", f"{key}={value}"]
        command.append("spark-internal")
        return command

    def start(self, timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S) -> None:
        java = find_java()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = dict(os.environ)
        env["SPARK_HOME"] = str(self.jars.spark_home)
        env.setdefault("JAVA_HOME", str(Path(os.path.realpath(java)).parents[1]))
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
        env.pop("PYSPARK_SUBMIT_ARGS", None)
        env["QBC_PARENT_PID"] = str(os.getpid())
        env["QBC_ORPHAN_CLEANUP_DIR"] = str(self.orphan_cleanup_dir or "")
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                ["bash", "-c", _WATCHDOG, "spark-thrift-server", *self.command()],
                cwd=self.work_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EngineSetupError(
                    f"Spark Thrift Server exited with {self._process.returncode} during start:\n"
                    f"{self.log_tail()}"
                )
            if _port_open(self.port):
                return
            time.sleep(0.25)
        self.stop()
        raise EngineSetupError(
            f"Spark Thrift Server did not listen on port {self.port} within {timeout_s:.0f} s:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def rss_bytes(self) -> int:
        """Resident memory of the server's process group (the JVM does the work)."""
        if not self._process:
            return 0
        total = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
                pid = int(status.parent.name)
                if os.getpgid(pid) != self._process.pid:
                    continue
            except (OSError, ValueError):
                continue
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's process group has used so far."""
        if not self._process:
            return 0.0
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # After the command: state, ppid, pgrp, ..., utime (12th), stime (13th).
            if len(fields) > 12 and int(fields[2]) == self._process.pid:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout_s: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # The server runs in its own session; signalling that group by its id reaches the
        # watchdog and the JVM that spark-submit exec'd, and nothing else.
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout_s)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout_s)
