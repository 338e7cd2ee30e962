"""Tracing with an in-memory exporter: a span per request, one per SQL statement inside it, and the
request's log lines carry its trace id."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from dependency_injector import providers
from fastapi.testclient import TestClient
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.settings import Settings
from entrypoints.api.app import create_app
from entrypoints.container import Container
from entrypoints.logs import configure_logging
from entrypoints.tracing import enable_tracing, requested_exporter


@pytest.fixture
def traced(sqlite_url: str) -> Iterator[tuple[TestClient, InMemorySpanExporter, io.StringIO]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    container = Container()
    settings = Settings(env="test", database_url=sqlite_url, secret_key="k" * 40, _env_file=None)
    container.settings.override(providers.Object(settings))
    app = create_app(container)
    enable_tracing(app, container, provider)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    try:
        with TestClient(app) as client:
            yield client, exporter, stream
    finally:
        FastAPIInstrumentor.uninstrument_app(app)
        SQLAlchemyInstrumentor().uninstrument()
        root.handlers[:], root.level = handlers, level
        structlog.reset_defaults()


def test_a_request_and_its_sql_statements_are_one_trace_and_its_logs_name_it(traced) -> None:
    client, exporter, stream = traced
    assert client.get("/products", params={"q": "lamp"}).status_code == 200
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind is SpanKind.SERVER]
    statements = [s for s in spans if s.kind is SpanKind.CLIENT and "db.system" in str(s.attributes)]
    assert len(server) == 1 and server[0].attributes["http.route"] == "/products"
    sql = [str(s.attributes.get("db.statement", "")) for s in statements if s.name != "connect"]
    assert [text.split()[:2] for text in sql] == [["SELECT", "count(*)"], ["WITH", "found"]]  # a search
    trace_id = server[0].context.trace_id
    assert all(s.context.trace_id == trace_id for s in statements)
    access = [json.loads(line) for line in stream.getvalue().splitlines() if '"shop.access"' in line]
    assert access and access[0]["trace_id"] == format(trace_id, "032x")


@pytest.mark.parametrize(
    ("environment", "exporter"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
    ],
)
def test_tracing_is_off_unless_the_otel_variables_ask(monkeypatch, environment: dict, exporter) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert requested_exporter() == exporter
