"""The ASGI factory uvicorn's workers call: `uvicorn --factory entrypoints.api.main:app_from_environment`."""

from fastapi import FastAPI

from entrypoints.api.app import create_app
from entrypoints.container import Container
from entrypoints.logs import configure_logging
from entrypoints.tracing import trace_from_environment


def app_from_environment() -> FastAPI:
    container = Container()
    settings = container.settings()
    configure_logging(json=settings.log_format == "json", level=settings.log_level)
    app = create_app(container)
    trace_from_environment(app, container)
    return app
