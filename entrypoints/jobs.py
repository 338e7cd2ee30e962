"""The background jobs (`shop worker`, and the runner `shop serve` starts beside its workers): every
`SHOP_JOBS_INTERVAL` seconds, one pass of each job. Each job is safe to run from several processes at
once (they share the work through row locks), so every instance of the service may run its own."""

import signal
import threading
from types import FrameType

import structlog

from application.orders import expire_pending_orders
from entrypoints.container import Container
from entrypoints.logs import configure_logging

log = structlog.get_logger("shop.jobs")
BATCH = 100


def expire_orders(container: Container) -> int:
    """Expire pending orders past SHOP_PENDING_ORDER_TTL, a batch per transaction until none is left;
    return how many. Nothing to do when the setting is off."""
    ttl = container.settings().pending_order_ttl
    if ttl is None:
        return 0
    expired = 0
    while True:
        batch = expire_pending_orders(
            ttl,
            uow=container.unit_of_work(),
            clock=container.clock(),
            batch=BATCH,
            counters=container.counters(),
        )
        expired += batch
        if batch < BATCH:
            return expired


def run_once(container: Container) -> dict[str, int]:
    return {"expired_orders": expire_orders(container)}


def work() -> None:
    """The jobs process (`shop worker`, or the one `shop serve` starts): logs set up, then passes forever."""
    container = Container()
    settings = container.settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    run_forever(container)


def run_forever(container: Container) -> None:
    """Passes until SIGTERM or SIGINT; a pass that fails is logged and the next one tries again."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    interval = container.settings().jobs_interval
    log.info(
        "background jobs started",
        interval_s=interval,
        pending_order_ttl=str(container.settings().pending_order_ttl),
    )
    while not stop.is_set():
        try:
            done = run_once(container)
            if any(done.values()):
                log.info("jobs pass", **done)
        except Exception:
            log.exception("a jobs pass failed; the next one tries again", interval_s=interval)
        stop.wait(interval)
    container.sync_engine().dispose()
