"""The background jobs (`shop worker`, and the runner `shop serve` starts beside its workers): every
`SHOP_WEBHOOK_POLL_INTERVAL` seconds a pass of webhook deliveries, and every `SHOP_JOBS_INTERVAL` seconds
one of the housekeeping (expiring orders, purging old events, moving the kept last 30 days' spend on to
today). Each job is safe to run from several processes at once (they share the work through row locks), so
every instance of the service may run its own."""

import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

import structlog

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
        batch = container.use_cases().expire_pending_orders(container.unit_of_work(), ttl, BATCH)
        expired += batch
        if batch < BATCH:
            return expired


def purge_old_events(container: Container) -> int:
    retention = container.settings().event_retention
    if retention is None:
        return 0
    return container.use_cases().purge_events(container.unit_of_work(), retention)


def deliver_webhooks(container: Container) -> dict[str, int]:
    """New events offered to the webhooks that want them, then a batch of due deliveries attempted."""
    use_cases = container.use_cases()
    offered = use_cases.offer_events(container.unit_of_work())
    attempted = use_cases.deliver_due(container.unit_of_work)
    return {"offered_deliveries": offered, "attempted_deliveries": attempted}


def housekeeping(container: Container) -> dict[str, int]:
    container.use_cases().roll_recent_window(container.unit_of_work())
    return {"expired_orders": expire_orders(container), "purged_events": purge_old_events(container)}


def work() -> None:
    """The jobs process (`shop worker`, or the one `shop serve` starts): logs set up, then passes forever."""
    container = Container()
    settings = container.settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    os.nice(settings.jobs_nice)
    run_forever(container)


def run_forever(container: Container) -> None:
    """Passes until SIGTERM or SIGINT; a pass that fails is logged and the next one tries again."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    settings = container.settings()
    log.info(
        "background jobs started",
        interval_s=settings.jobs_interval,
        webhook_poll_interval_s=settings.webhook_poll_interval,
        pending_order_ttl=str(settings.pending_order_ttl),
    )
    housekeeping_due = 0.0
    while not stop.is_set():
        if time.monotonic() >= housekeeping_due:
            housekeeping_due = time.monotonic() + settings.jobs_interval
            _pass("housekeeping", lambda: housekeeping(container))
        done = _pass("webhooks", lambda: deliver_webhooks(container))
        if done.get("attempted_deliveries", 0) < settings.webhook_batch:  # a full batch: more may be due
            stop.wait(settings.webhook_poll_interval)
    container.sync_engine().dispose()


def _pass(name: str, job: Callable[[], dict[str, int]]) -> dict[str, int]:
    """A pass that fails is logged, and the next one tries again."""
    try:
        done = job()
    except Exception:
        log.exception("a jobs pass failed; the next one tries again", job=name)
        return {}
    if any(done.values()):
        log.info("jobs pass", job=name, **done)
    return done
