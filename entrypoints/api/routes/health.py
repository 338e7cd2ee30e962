"""Health probes: `/health` (the contract's), `/health/live` for a process supervisor, `/health/ready` for
a load balancer."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.sql.health import DatabaseProbe
from adapters.sql.wal import format_lsn
from entrypoints.api.schemas import Health, Liveness, Readiness, ReplicaHealth
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
    """Send traffic here only when the database answers and its schema is at the latest migration. With
    replicas, each is listed with its state and lag; they never make the service unready."""
    # Side by side, so the answer comes within SHOP_HEALTH_TIMEOUT whatever is down.
    reason, replicas = await asyncio.gather(_probe(request).unready_because(), _replicas(request))
    if reason is None:
        return JSONResponse({"status": "ready", "reason": None} | replicas)
    return JSONResponse(
        {"status": "unavailable", "reason": reason} | replicas, status_code=503, headers={"Retry-After": "1"}
    )


async def _replicas(request: Request) -> dict[str, Any]:
    """{"replicas": [...]}, checked now, when replicas are configured; {} otherwise (the answer as before)."""
    container: Container = request.app.state.container
    replicas = container.replica_set()
    if replicas is None:
        return {}
    await replicas.check()
    return {
        "replicas": [
            ReplicaHealth(
                name=r.name,
                state=r.state.value,
                lag_seconds=r.lag,
                replay_lsn=None if r.replayed is None else format_lsn(r.replayed),
                problem=r.problem,
            ).model_dump()
            for r in replicas.replicas
        ]
    }
