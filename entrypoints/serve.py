"""`shop serve`: uvicorn worker processes that each accept on their own SO_REUSEPORT socket.

uvicorn's own `--workers` shares one listening socket, and an idle event loop accepts every connection
waiting in the backlog at once: with 32 keep-alive clients arriving together, one worker took 30 and the
other 2, so half the service idled while the other half queued. Each worker here listens on a socket of
its own bound with SO_REUSEPORT, and the kernel spreads new connections across them evenly."""

import logging
import multiprocessing
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from prometheus_client import start_http_server
from prometheus_client.multiprocess import mark_process_dead
from uvicorn.config import STARTUP_FAILURE

from adapters.metrics import workers_registry
from adapters.settings import Settings
from entrypoints.jobs import work
from entrypoints.logs import configure_logging

log = logging.getLogger("uvicorn.error")
APP = "entrypoints.api.main:app_from_environment"


def serve(host: str, port: int, workers: int, settings: Settings, *, jobs: bool = True) -> None:
    """Workers in processes of their own, which sum their metrics through a shared folder, and (`jobs`) a
    process for the background jobs; SIGTERM stops accepting, lets the requests in flight finish (at most
    `shutdown_timeout`), then exits 0."""
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    options: dict[str, Any] = {
        "factory": True,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,  # whose X-Forwarded-For names the client
        "server_header": False,  # no "server: uvicorn" telling a scanner what to try
        "log_config": None,  # each worker's app factory sets logging up (entrypoints.logs)
        "access_log": False,  # one line per request comes from the app, with more in it
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }
    metrics_dir = _fresh_metrics_folder()
    if settings.metrics_port is not None:
        start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=workers_registry(metrics_dir)
        )
    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(APP, host=host, port=port, workers=workers, **options)
        return
    _ensure_free(host, port)  # SO_REUSEPORT would otherwise share the port with a server already on it
    supervisor = _Supervisor(host, port, workers, options, metrics_dir, jobs)
    supervisor.run()
    sys.exit(supervisor.exit_code)


def _fresh_metrics_folder() -> str:
    """PROMETHEUS_MULTIPROC_DIR for the workers, emptied of an earlier run's files (or made)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="shop-metrics-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # read by the workers' prometheus_client at import
    return folder


def _listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _ensure_free(host: str, port: int) -> None:
    _listening_socket(host, port, reuse_port=False).close()


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    sock = _listening_socket(host, port, reuse_port=True)
    server = uvicorn.Server(uvicorn.Config(APP, host=host, port=port, **options))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class _Supervisor:
    """Starts the workers (and the jobs process), replaces one that dies, and passes SIGINT/SIGTERM on for
    a graceful stop."""

    def __init__(
        self, host: str, port: int, workers: int, options: dict[str, Any], metrics_dir: str, jobs: bool
    ) -> None:
        worker: tuple[Callable[..., None], tuple[Any, ...]] = (_worker, (host, port, options))
        self._targets = [worker] * workers + ([(work, ())] if jobs else [])
        self._metrics_dir = metrics_dir
        self._count = workers
        self._stopping = False
        self.exit_code = 0
        self._processes: list[SpawnProcess] = []

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        log.info("Started parent process [%d], %d workers on SO_REUSEPORT sockets", os.getpid(), self._count)
        self._processes = [self._start(i) for i in range(len(self._targets))]
        while not self._stopping:
            for i, process in enumerate(self._processes):
                if process.is_alive() or self._stopping:
                    continue
                if process.exitcode == STARTUP_FAILURE:  # the app cannot start: every restart would fail
                    log.error("Worker [%s] failed to start; stopping", process.pid)
                    self._stopping, self.exit_code = True, STARTUP_FAILURE
                    break
                log.warning("Worker [%s] exited with %s; starting another", process.pid, process.exitcode)
                mark_process_dead(process.pid, self._metrics_dir)  # its in-flight and pool gauges go
                self._processes[i] = self._start(i)
            time.sleep(0.5)
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight, then exits
        for process in self._processes:
            process.join()
        log.info("Stopped parent process [%d]", os.getpid())

    def _start(self, i: int) -> SpawnProcess:
        target, args = self._targets[i]
        process = multiprocessing.get_context("spawn").Process(target=target, args=args)
        process.start()
        return process

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
