"""Start and stop a private PostgreSQL cluster (initdb + pg_ctl), bound to 127.0.0.1.

initdb refuses to run as root, so when the caller is root the cluster is created and
run as the ``postgres`` system user in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def find_pg_bin() -> pathlib.Path:
    """Directory holding initdb/pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BIN"):
        return pathlib.Path(os.environ["PG_BIN"])
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return pathlib.Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return pathlib.Path(found).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql) "
        "or set PG_BIN to the folder holding initdb and pg_ctl"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresCluster:
    """``with PostgresCluster() as pg: pg.dsn`` -> postgresql://postgres@127.0.0.1:PORT/postgres."""

    def __init__(self, start_timeout: float = 60.0, password: str | None = None) -> None:
        """``password``: TCP logins need it (scram-sha-256), as on a real server; default trust."""
        self.bin = find_pg_bin()
        self.password = password
        self.port = _free_port()
        self.start_timeout = start_timeout
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="pg-sandbox-", dir="/tmp"))
        self.data = self.base / "data"
        self.socket_dir = self.base / "sock"
        self._as_postgres = os.geteuid() == 0
        self._started = False

    @property
    def dsn(self) -> str:
        login = f"postgres:{self.password}" if self.password else "postgres"
        return f"postgresql://{login}@127.0.0.1:{self.port}/postgres"

    def sqlalchemy_url(self, database: str = "postgres") -> str:
        return self.dsn.replace("postgresql://", "postgresql+psycopg://", 1).rsplit("/", 1)[0] + f"/{database}"

    def _run(self, args: list[str], timeout: float) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        kwargs: dict = {"check": True, "capture_output": True, "timeout": timeout}
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")

            def demote() -> None:
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)

            kwargs["preexec_fn"] = demote
            kwargs["cwd"] = str(self.base)
        try:
            subprocess.run(command, **kwargs)
        except subprocess.CalledProcessError as error:
            raise RuntimeError(
                f"{args[0]} failed ({error.returncode}): {error.stderr.decode(errors='replace')[-2000:]}"
            ) from error

    def start(self) -> PostgresCluster:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chmod(self.base, 0o755)  # noqa: S103 - the postgres user must traverse it
            for path in (self.base, self.socket_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        auth = ["-A", "trust"]
        if self.password:
            password_file = self.base / "password"
            password_file.write_text(self.password, encoding="utf-8")
            if self._as_postgres:
                os.chown(password_file, pw.pw_uid, pw.pw_gid)
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={password_file}"]
        self._run(
            ["initdb", "-D", str(self.data), "-U", "postgres", *auth, "-E", "UTF8", "--no-sync"],
            timeout=self.start_timeout,
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            ["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "server.log"),
             "-w", "-t", str(int(self.start_timeout)), "start"],
            timeout=self.start_timeout + 5,
        )
        self._started = True
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}")

    def stop(self) -> None:
        if self._started:
            try:
                self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"], timeout=30)
            finally:
                self._started = False
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
