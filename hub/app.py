"""The app factory: ``create_app(settings)`` builds the whole hub. The lifespan opens the one
Neo4j driver of the process, waits for the graph, applies the schema, and closes everything on
shutdown; nothing connects on import.

Errors are mapped to HTTP here, once, all with the one ``ErrorResponse`` shape
``{"code", "message", "details": [{"field", "reason"}]}``: every ``CrossHubError`` becomes its
status; request validation errors become 422 with the exact field path and a French reason
(400 ``missing_justification`` when the justification is what is missing; malformed JSON is
field ``(corps)``); a lost graph connection becomes 503 (retryable); an unknown path is 404; a
method the path does not have (``OPTIONS`` included) is 405 with an ``Allow`` header listing the
methods it has; anything unexpected is a 500 ``internal_error`` that says nothing more.
The published contract (``/openapi.json``, ``/docs``) is built in hub/openapi.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import neo4j
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.driver import open_driver, wait_ready
from graph.handle import Graph
from graph.setup import apply_schema
from hub.audit import WriterKind, open_writer
from hub.contract.errors import (
    CrossHubError,
    GraphUnavailable,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
)
from hub.contract.validation import field_path, french_reason
from hub.deps import missing_justification
from hub.errors import HttpError, error_response
from hub.jobs.grant_expiry import expiry_loop
from hub.jobs.schedule import start_hub_jobs
from hub.jobs.triage import triage_loop
from hub.openapi import allowed_methods, install_docs, install_openapi
from hub.settings import Settings
from policies.rulebook import load_rulebook

log = logging.getLogger("crosshub")

def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The audit trail first: nothing is served that could not be logged.
        audit = open_writer(settings, kind=WriterKind.HUB)
        driver = open_driver(settings.graph_config)
        try:
            graph = Graph(driver, settings.neo4j_database)
            await run_in_threadpool(wait_ready, graph, 60)
            await run_in_threadpool(apply_schema, graph)
            # A change of the policy files since the last start enters the trail, with who
            # deployed it (hub/policy_deployments.py), before anything is served under them.
            from hub.policy_deployments import record_policy_files
            await run_in_threadpool(record_policy_files, graph, audit, settings)
            app.state.driver = driver
            app.state.graph = graph
            app.state.audit = audit
            # Guest grants end on time even if nobody reads: the sweep logs each expiry, so it
            # runs here, in the process that holds the audit trail.
            stopping = asyncio.Event()
            expiry = asyncio.create_task(expiry_loop(app, stopping, 60))
            app.state.triage_wakeup = asyncio.Event()
            triage = asyncio.create_task(triage_loop(app, app.state.triage_wakeup, stopping))
            scheduler = app.state.scheduler = start_hub_jobs(app, settings)
            try:
                yield
            finally:
                # Background work stops and is *joined* before the driver and the trail close:
                # the scheduler waits for a running job; the loops finish the batch in hand
                # (cancelling them would leave their worker thread on a closed driver).
                if scheduler is not None:
                    await run_in_threadpool(scheduler.shutdown, True)
                stopping.set()
                app.state.triage_wakeup.set()
                await asyncio.gather(expiry, triage, return_exceptions=True)
        finally:
            driver.close()
            audit.close()

    app = FastAPI(
        title="CROSS Hub",
        version="0.1.0",
        description="Plateforme de partage du renseignement opérationnel sur les stupéfiants (CROSS).",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: hub/openapi.py, assets served by the hub (no CDN)
        redoc_url=None,
    )
    app.state.settings = settings
    # Prometheus metrics of this app (hub/ops/metrics.py): counted by the middleware below, the
    # ingest route and the jobs; served at /metrics.
    from hub.ops.metrics import HubMetrics, RequestMetrics
    app.state.metrics = HubMetrics()
    # Every rule, loaded and validated once per app (`crosshub policy check` before deploying).
    app.state.rulebook = load_rulebook(settings.rules_dir)
    _install_error_handlers(app)
    # Read your writes across hub processes (X-CrossHub-Bookmarks): inside the limits below.
    from hub.bookmarks import install_bookmarks
    install_bookmarks(app)
    # Limits before work (body size, JSON depth, control characters): before routing and auth.
    from hub.limits import RequestLimits
    app.add_middleware(RequestLimits, settings=settings)
    # Outermost: every answer, refusals of the limits included, carries the security headers.
    from hub.web.security import SecurityHeaders, csp_for
    app.add_middleware(SecurityHeaders, csp=csp_for(settings.map_style_url))
    # Outermost of all: every answer counted and timed by route template, one access log line.
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    install_openapi(app)
    install_docs(app)

    from hub.routers import (
        admin,
        analysis,
        audit,
        auth,
        connectors,
        disclosures,
        entities,
        exports,
        grants,
        health,
        leads,
        meetings,
        workflow,
    )

    app.include_router(health.router)
    from hub.routers import metrics  # GET /metrics, for the monitoring (not in the contract)
    app.include_router(metrics.router)
    app.include_router(leads.router)
    app.include_router(entities.router)
    app.include_router(connectors.router)
    app.include_router(audit.router)
    app.include_router(grants.router)
    app.include_router(disclosures.router)
    from hub.routers import disclosure_threads  # a request's thread, graded release options
    app.include_router(disclosure_threads.router)
    app.include_router(auth.router)
    app.include_router(analysis.router)
    app.include_router(meetings.router)
    app.include_router(exports.router)
    app.include_router(workflow.router)
    app.include_router(admin.router)
    from hub.routers import accounts  # movers, leavers, the access review (issue 17)
    app.include_router(accounts.router)
    from hub.routers import watches  # watchlists (« Veilles »)
    app.include_router(watches.router)
    from hub.routers import second_factor  # TOTP enrolment and step-up (hub.deps.requires)
    app.include_router(second_factor.router)
    from hub.routers import dossiers  # shared dossiers (« Dossiers », ADR 0019)
    app.include_router(dossiers.router)
    from hub.routers import resolution  # entity resolution (« Rapprochements »)
    app.include_router(resolution.router)
    from hub.routers import dpd  # the DPD's watch on the trail, for auditors (ADR 0030)
    app.include_router(dpd.router)
    # Federation between CROSS hubs (issue 16): the antenna's signed calls and the agency's
    # tickets; every route answers 404 unless settings.federation_enabled.
    from hub.routers import federation
    app.include_router(federation.peer_router)
    app.include_router(federation.router)
    # Agencies' sign-in through their OIDC provider, and session renewal (refresh tokens).
    from hub.auth.oidc import load_providers_for
    from hub.routers import oidc, refresh
    app.state.identity_providers = load_providers_for(settings)  # validated at start
    app.include_router(oidc.api_router)
    app.include_router(oidc.web_router)
    app.include_router(refresh.router)
    # The analysts' web application: pages under /, static files bundled at set-up.
    from hub.web import install_web
    install_web(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CrossHubError)
    async def hub_error(_: Request, exc: CrossHubError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        # The justification a consultation requires: 400 naming the field, as documented.
        if any(tuple(e["loc"])[-1:] == ("justification",) for e in errors):
            return error_response(missing_justification())
        details = [{"field": "(corps)" if e.get("type") == "json_invalid" else field_path(tuple(e["loc"])),
                    "reason": french_reason(e)} for e in errors]
        return error_response(InvalidInput("requête invalide", details=details))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # The router's own answers (unknown path, method not allowed) and Starlette's.
        path = request.url.path
        if exc.status_code == 404:
            return error_response(NotFound(f"ressource inconnue : {path}"))
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_UNREADABLE:
            # A body FastAPI cannot even decode (not UTF-8…): malformed, like bad JSON.
            return error_response(InvalidInput("requête invalide", details=[
                {"field": "(corps)", "reason": "corps illisible : JSON en UTF-8 attendu"}]))
        if exc.status_code == 405:
            allowed = allowed_methods(request.app, request.scope.get("path", path))
            response = error_response(MethodNotAllowed(
                f"méthode {request.method} non permise sur {path} "
                f"(permises : {', '.join(allowed) or 'aucune'})"))
            response.headers["Allow"] = ", ".join(allowed)
            return response
        error = HttpError(str(exc.detail) if exc.detail else "requête refusée",
                          status=exc.status_code,
                          code=_HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"))
        response = error_response(error)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"code": "internal_error",
                             "message": "erreur interne du hub : l'incident est journalisé"},
                            status_code=500)

    @app.exception_handler(ValidationError)
    async def body_invalid(_: Request, exc: ValidationError) -> JSONResponse:
        details = [{"field": field_path(tuple(e["loc"])), "reason": french_reason(e)}
                   for e in exc.errors()]
        return error_response(InvalidInput("données invalides", details=details))

    @app.exception_handler(neo4j.exceptions.ServiceUnavailable)
    @app.exception_handler(neo4j.exceptions.SessionExpired)
    @app.exception_handler(neo4j.exceptions.TransientError)
    async def graph_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("graph unavailable: %s", type(exc).__name__)
        return error_response(GraphUnavailable("graphe indisponible : réessayer plus tard"))


_FASTAPI_BODY_UNREADABLE = "There was an error parsing the body"
_HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_input",
               429: "too_many_requests", 503: "unavailable"}
