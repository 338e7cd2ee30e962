"""A real PgBouncer in transaction pooling mode in front of a PostgreSQL server, for the tests that check
the service runs unchanged behind one. Debian's package, installed when missing; run as the unprivileged
user of the throwaway PostgreSQL (PgBouncer refuses to run as root)."""

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.debian import ensure_program
from tests.support.postgres import SYSTEM_USER
from tests.support.server import free_port


class PgBouncer:
    def __init__(self, database_url: str, *, pool_size: int = 4) -> None:
        """Pools connections to the server of `database_url`; `pool_size` server connections per database
        and user, fewer than the service's clients, so transactions really do share them."""
        binary = ensure_program("pgbouncer", "pgbouncer")
        server = make_url(database_url)
        self.root = Path(tempfile.mkdtemp(prefix="shop-pgbouncer-"))
        self.port = free_port()
        self._url = server.set(host="127.0.0.1", port=self.port)
        (self.root / "users.txt").write_text(f'"{server.username}" ""\n')
        (self.root / "pgbouncer.ini").write_text(
            f"""[databases]
* = host={server.host} port={server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.root / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
logfile = {self.root / "pgbouncer.log"}
"""
        )
        user = ["-u", SYSTEM_USER] if os.geteuid() == 0 else []
        if user:
            subprocess.run(["chown", "-R", SYSTEM_USER, str(self.root)], check=True)
        self.process = subprocess.Popen(
            [binary, *user, str(self.root / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_until_listening()

    def url(self) -> str:
        return self._url.render_as_string(hide_password=False)

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    def _wait_until_listening(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.process.stderr.read().decode()} {self.log()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen on {self.port} within {timeout}s: {self.log()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
