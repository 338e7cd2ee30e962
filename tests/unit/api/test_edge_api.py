"""The edge (entrypoints.api.edge): the headers it adds to an answer; with CORS on, 413s inside CORS."""

import io
import json
import logging
import os

import structlog

from entrypoints import logs
from entrypoints.api.edge import _with_headers
from entrypoints.logs import configure_logging
from tests.unit.api.test_security_api import app_with

SECURITY = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]


def test_the_app_keeps_its_own_security_headers_and_loses_its_cache_control_where_private() -> None:
    app_headers = [(b"content-type", b"application/json"), (b"x-frame-options", b"SAMEORIGIN")]
    added = [*SECURITY, (b"x-request-id", b"r-1")]
    assert _with_headers(app_headers, added) == [*app_headers, SECURITY[0], (b"x-request-id", b"r-1")]
    cached = [(b"cache-control", b"max-age=60"), (b"etag", b'"1"')]
    private = [(b"cache-control", b"no-store"), (b"x-request-id", b"r-2")]
    assert _with_headers(cached, private) == [(b"etag", b'"1"'), *private]
    assert _with_headers([], private) == private
    assert _with_headers(cached, [(b"x-request-id", b"r-3")]) == [*cached, (b"x-request-id", b"r-3")]


def test_with_cors_an_oversized_body_is_a_413_with_the_cors_and_edge_headers() -> None:
    big = json.dumps({"name": "x" * 2000})
    with app_with(cors_origins="https://shop.example", max_body_bytes=1024) as client:
        declared = client.post(
            "/users",
            content=big,
            headers={
                "Origin": "https://shop.example",
                "content-type": "application/json",
                "X-Request-ID": "big-1",
            },
        )

        def chunks():
            yield big.encode()

        streamed = client.post(
            "/users",
            content=chunks(),
            headers={"Origin": "https://shop.example", "content-type": "application/json"},
        )
    for answer in (declared, streamed):
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["access-control-allow-origin"] == "https://shop.example"
        assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["x-request-id"]
    assert declared.headers["x-request-id"] == declared.json()["request_id"] == "big-1"


def test_log_lines_name_this_process_and_a_forked_child_names_itself() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, stream=stream)
    try:
        structlog.get_logger().info("hello")
        assert json.loads(stream.getvalue())["pid"] == os.getpid()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover -- the child reports through the pipe and leaves at once
            os.write(write, str(logs._Pid.value == os.getpid()).encode())
            os._exit(0)
        os.waitpid(child, 0)
        assert os.read(read, 10) == b"True"
    finally:
        structlog.reset_defaults()
        root.handlers[:], root.level = handlers, level
