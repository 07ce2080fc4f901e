"""Liveness and readiness: the only endpoint open without a token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from graph.health import ping
from hub.deps import GraphDep

router = APIRouter(tags=["santé"])


@router.get("/healthz", summary="État du hub et du graphe")
async def healthz(graph: GraphDep) -> dict[str, str]:
    state = "ok" if await run_in_threadpool(ping, graph) else "indisponible"
    return {"status": "ok" if state == "ok" else "degraded", "graph": state}
