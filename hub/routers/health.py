"""Liveness and readiness: the only endpoint open without a token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from graph.health import ping
from hub.deps import DriverDep, SettingsDep

router = APIRouter(tags=["santé"])


@router.get("/healthz", summary="État du hub et du graphe")
async def healthz(driver: DriverDep, settings: SettingsDep) -> dict[str, str]:
    graph = "ok" if await run_in_threadpool(ping, driver, settings.neo4j_database) else "indisponible"
    return {"status": "ok" if graph == "ok" else "degraded", "graph": graph}
