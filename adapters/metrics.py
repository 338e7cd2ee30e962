"""Prometheus metrics. With several worker processes (`shop serve --workers N`), prometheus-client's
multiprocess mode keeps each worker's values in files under PROMETHEUS_MULTIPROC_DIR and a scrape sums
them; `shop serve` sets that folder up. Without it (one process, tests) the default registry is used."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event

from application.ports import BusinessEvent

# Decided when prometheus_client is imported, as it decides where this process keeps its values.
_MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("shop_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "shop_http_request_duration_seconds",
    "Time from the request's arrival to its answer",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge("shop_http_requests_in_flight", "Requests being handled", multiprocess_mode="livesum")
POOL_SIZE = Gauge(
    "shop_db_pool_size", "Pooled connections allowed, over all workers", multiprocess_mode="livesum"
)
POOL_CHECKED_OUT = Gauge(
    "shop_db_pool_checked_out", "Pooled connections in use, over all workers", multiprocess_mode="livesum"
)
GATE_WAITING = Gauge(
    "shop_db_gate_waiting", "Requests waiting at the fair gate for a connection", multiprocess_mode="livesum"
)
GATE_WAIT = Histogram(
    "shop_db_gate_wait_seconds",
    "Time a request waited at the fair gate (those that waited)",
    buckets=_LATENCY_BUCKETS,
)
RETRIES = Counter("shop_uow_retries_total", "Units of work run again, by cause", ["cause"])
BUSINESS = Counter("shop_business_events_total", "What the shop did, by event", ["event"])
REFUSALS = Counter("shop_refusals_total", "Answers refusing a request, by reason", ["reason"])

# Read replicas (adapters/sql/replicas.py); labels are "primary" and "replica-<n>" in the order of
# SHOP_DATABASE_REPLICA_URLS, so bounded by the configuration.
REPLICA_LAG = Gauge(
    "shop_replica_lag_seconds", "Replica lag at its last check", ["replica"], multiprocess_mode="livemax"
)
REPLICA_UP = Gauge(
    "shop_replica_up",
    "1 while the replica serves reads (reachable, within the lag)",
    ["replica"],
    multiprocess_mode="livemin",
)
ROUTED_READS = Counter(
    "shop_replica_routed_reads_total",
    "Units of work of replica-readable use cases, by where they ran",
    ["target"],
)
REPLICA_FALLBACKS = Counter(
    "shop_replica_fallbacks_total", "Reads that failed on a replica and ran again on the primary", ["replica"]
)


class PrometheusCounters:
    """The application's Counters port: business events as one labelled counter."""

    def count(self, event: BusinessEvent) -> None:
        BUSINESS.labels(event.value).inc()


@contextmanager
def waiting_at_gate() -> Iterator[None]:
    GATE_WAITING.inc()
    started = time.perf_counter()
    try:
        yield
    finally:
        GATE_WAITING.dec()
        GATE_WAIT.observe(time.perf_counter() - started)


def instrument_pool(pool: Any, size: int | None) -> None:
    """Count the pool's connections in use through its checkout/checkin events."""
    if size is not None:
        POOL_SIZE.set(size)
    event.listen(pool, "checkout", lambda *_: POOL_CHECKED_OUT.inc())
    event.listen(pool, "checkin", lambda *_: POOL_CHECKED_OUT.dec())


def workers_registry(folder: str) -> CollectorRegistry:
    """A registry that sums what every worker wrote to `folder`."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return registry


def exposition() -> tuple[bytes, str]:
    """The metrics page: the sum over every worker in multiprocess mode, this process's otherwise."""
    if _MULTIPROCESS:
        return generate_latest(workers_registry(os.environ["PROMETHEUS_MULTIPROC_DIR"])), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
