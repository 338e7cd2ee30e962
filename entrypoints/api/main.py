"""The ASGI factory uvicorn's workers call: `uvicorn --factory entrypoints.api.main:app_from_environment`."""

from fastapi import FastAPI

from entrypoints.api.app import create_app
from entrypoints.container import Container


def app_from_environment() -> FastAPI:
    return create_app(Container())
