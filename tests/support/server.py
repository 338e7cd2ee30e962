"""Start the real service (`shop serve`, uvicorn workers) in a subprocess for end-to-end tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SHOP = str(Path(sys.executable).parent / "shop")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHOP_DATABASE_URL": database_url,
        "SHOP_SECRET_KEY": "e2e-secret-key-that-is-long-enough-to-count",
        "SHOP_ENV": "test",
        **extra,
    }


class LiveServer:
    def __init__(self, database_url: str, workers: int = 2, jobs: bool = True, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = service_env(database_url, **extra_env)
        logs = ROOT / ".tmp"
        logs.mkdir(exist_ok=True)
        self.log = open(logs / f"server-{self.port}.log", "w")  # noqa: SIM115 - open for the server's life
        self.process = subprocess.Popen(
            [SHOP, "serve", "--port", str(self.port), "--workers", str(workers)]
            + ([] if jobs else ["--no-jobs"]),
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHOP, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, check=True
        )

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the service did not come up in {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Worker:
    """`shop worker`: the background jobs in a process of their own, as an operator runs them."""

    def __init__(self, database_url: str, **extra_env: str) -> None:
        logs = ROOT / ".tmp"
        logs.mkdir(exist_ok=True)
        self.log = open(logs / f"worker-{free_port()}.log", "w")  # noqa: SIM115 - open for the worker's life
        self.process = subprocess.Popen(
            [SHOP, "worker"],
            env=service_env(database_url, **extra_env),
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, as when a machine dies."""
        self.process.kill()
        self.process.wait(timeout=15)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
