"""OpenTelemetry tracing, off unless the standard OTEL_* variables ask for it: a span per request (the
FastAPI instrumentation) and per SQL statement (the SQLAlchemy one), exported over OTLP/HTTP (or to the
console with OTEL_TRACES_EXPORTER=console). Log lines written inside a span carry its trace id."""

import os

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from adapters.sql.placement import PORTABLE_ONLY
from entrypoints.container import Container

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def requested_exporter() -> str | None:
    """'otlp', 'console' or None (tracing off), from the variables every OpenTelemetry SDK reads."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter in ("otlp", "console"):
        return exporter
    if not exporter and any(os.environ.get(name) for name in _ENDPOINTS):
        return "otlp"
    return None


def trace_from_environment(app: FastAPI, container: Container) -> None:
    kind = requested_exporter()
    if kind is None:
        return
    exporter: SpanExporter
    if kind == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout: from OTEL_EXPORTER_OTLP_*
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))  # OTEL_SERVICE_NAME wins
    provider.add_span_processor(BatchSpanProcessor(exporter))
    enable_tracing(app, container, provider)


def enable_tracing(app: FastAPI, container: Container, provider: TracerProvider) -> None:
    """Spans of requests and SQL statements to `provider` (tests give one with an in-memory exporter)."""
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="health,metrics")
    # The instrumentation declares SQLAlchemy < 2.1 and would do nothing on 2.1; its engine events are the
    # same there (tests/integration/test_tracing.py checks the SQL spans).
    engine = container.async_engine().sync_engine
    SQLAlchemyInstrumentor().instrument(engine=engine, tracer_provider=provider, skip_dep_check=True)
    # The order path's hot path runs below SQLAlchemy's events: keep it on the portable path, spans and all.
    engine.update_execution_options(**{PORTABLE_ONLY: True})
