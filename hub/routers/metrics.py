"""``GET /metrics``: the hub's Prometheus metrics (hub/ops/metrics.py), for its monitoring. Not
part of the published API contract (no OpenAPI entry): a scraper reads it, not an analyst."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hub.contract.errors import NotAuthenticated
from hub.deps import GraphDep, SettingsDep
from hub.ops.metrics import scrape_allowed

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request, graph: GraphDep, settings: SettingsDep) -> Response:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    client = request.client.host if request.client else None
    if not scrape_allowed(client, request.headers, token, behind_proxy=bool(settings.trusted_proxies)):
        raise NotAuthenticated("métriques : jeton de collecte requis (CROSSHUB_METRICS_TOKEN)")
    hub_metrics = request.app.state.metrics
    await run_in_threadpool(hub_metrics.refresh_connectors, graph)
    body, content_type = hub_metrics.exposition()
    return Response(content=body, media_type=content_type)
