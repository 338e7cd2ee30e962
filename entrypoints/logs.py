"""Logs: one JSON object per line on stdout (or readable text for a terminal), every line written while a
request runs carrying its request id, and the trace id when tracing is on.

structlog renders both our own loggers and the standard library's (uvicorn's, SQLAlchemy's) through one
formatter, and `asgi_correlation_id` keeps the request id in a context variable; neither is worth writing
by hand."""

import logging
import logging.config
import os
import sys
from typing import Any, TextIO

import structlog
from asgi_correlation_id import correlation_id
from opentelemetry import trace
from structlog.types import EventDict, WrappedLogger


class _Pid:
    """This process's id, asked once (and again in a forked child): `os.getpid()` is a system call, a few
    µs of every log line on a busy machine."""

    value = os.getpid()

    @classmethod
    def refresh(cls) -> None:
        cls.value = os.getpid()


os.register_at_fork(after_in_child=_Pid.refresh)


def _request_and_trace(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id:
        event.setdefault("request_id", request_id)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event.setdefault("trace_id", format(span.trace_id, "032x"))
    event["pid"] = _Pid.value
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
    _request_and_trace,
]


def configure_logging(*, json: bool, level: str = "INFO", stream: TextIO | None = None) -> None:
    """Our own lines (structlog, on the hot path: the access line) are rendered by structlog directly,
    ~20 µs a line; the standard library's (uvicorn, SQLAlchemy, our error logs) through structlog's
    formatter, with the same processors, so both read alike."""
    out = stream or sys.stdout
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    ending = [structlog.processors.format_exc_info, structlog.processors.EventRenamer("message"), renderer]
    structlog.configure(
        processors=[*_SHARED, *ending],
        logger_factory=structlog.WriteLoggerFactory(out),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_SHARED],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *ending],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # one line per request, with more: the edge
