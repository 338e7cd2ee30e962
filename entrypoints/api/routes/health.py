"""Health probes: `/health` (the contract's), `/health/live` for a process supervisor, `/health/ready` for
a load balancer."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.sql.health import DatabaseProbe
from entrypoints.api.schemas import Health, Liveness, Readiness
from entrypoints.container import Container

router = APIRouter(prefix="/health", tags=["health"])


def _probe(request: Request) -> DatabaseProbe:
    container: Container = request.app.state.container
    return container.database_probe()


@router.get(
    "",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is unreachable"}},
)
async def check_health(request: Request) -> JSONResponse:
    if await _probe(request).ping():
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)


@router.get("/live", response_model=Liveness)
async def check_liveness() -> Liveness:
    """The process is up and its event loop answers; no I/O, so a slow database never restarts it."""
    return Liveness(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the reason says why"}},
)
async def check_readiness(request: Request) -> JSONResponse:
    """Send traffic here only when the database answers and its schema is at the latest migration."""
    reason = await _probe(request).unready_because()
    if reason is None:
        return JSONResponse({"status": "ready", "reason": None})
    return JSONResponse(
        {"status": "unavailable", "reason": reason}, status_code=503, headers={"Retry-After": "1"}
    )
