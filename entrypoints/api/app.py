"""`create_app(container)`: the FastAPI application. Importing this module connects to nothing."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from entrypoints.api import metrics, problems
from entrypoints.api.edge import Edge
from entrypoints.api.limits import BodySizeLimit
from entrypoints.api.read_after import HEADER, ReadYourWrites, cookie_lifetime
from entrypoints.api.routes import (
    addresses,
    catalog,
    events,
    fulfillments,
    health,
    orders,
    payments,
    returns,
    users,
)
from entrypoints.container import Container

DESCRIPTION = """Users, a product catalog with categories and stock, and orders with a status workflow.

Errors other than schema violations (422) are RFC 9457 `application/problem+json`.

Where read replicas are configured, an answer to a write carries `Shop-Read-After` (header and cookie): send
it back and your next reads see that write (docs/api.md)."""


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await container.async_engine().dispose()  # creating an engine opens no connection
        replicas = container.replica_set()
        if replicas is not None:
            await replicas.dispose()

    app = FastAPI(
        title="shop",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.container = container
    problems.install(app)
    settings = container.settings()
    if settings.database_replica_urls:  # read-your-writes (docs/api.md); nothing to route without replicas
        lifetime = cookie_lifetime(settings.replica_max_lag, settings.replica_check_interval)
        app.add_middleware(ReadYourWrites, cookie_max_age=lifetime)
    if settings.cors_origins:  # off unless origins are named: browsers then refuse cross-origin calls
        app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # its 413s get CORS headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", HEADER],
            expose_headers=["ETag", "Location", "Retry-After", HEADER],
            max_age=600,
        )
        app.add_middleware(Edge)  # request ids, access log and metrics, security headers (CORS answers too)
    else:  # one layer for all four (entrypoints.api.edge)
        app.add_middleware(Edge, max_bytes=settings.max_body_bytes)
    app.include_router(users.router)
    app.include_router(addresses.router)
    app.include_router(catalog.router)
    app.include_router(orders.router)
    app.include_router(payments.router)
    app.include_router(fulfillments.router)
    app.include_router(returns.router)
    app.include_router(events.router)
    app.include_router(health.router)
    if settings.metrics_port is None:  # otherwise `shop serve` serves them on a port of their own
        app.include_router(metrics.router(settings.metrics_token))
    _offline_docs(app)
    return app


def operation_id(route: APIRoute) -> str:
    """The route function's name in camelCase (`place_order` -> `placeOrder`): stable, conventional ids, so
    a generated client reads `place_order.sync(...)`, not `new_order_orders_post`."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI from the service itself (the swagger-ui-bundle package), never from a CDN."""
    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="shop API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )
