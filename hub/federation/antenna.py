"""The OFAST antenna (``crosshub antenna``): the router between CROSS hubs, and the only party
that sees who asks whom — never what.

Owns ``create_antenna_app(config)``: a FastAPI application served over mutual TLS (a client
certificate of the federation CA is required by the listener, ``serve_antenna``). Every routing
call is also signed by the calling hub (Ed25519, hub/contract/signing.py) and authenticated
against the directory (hub/federation/directory.py), because the TLS layer does not tell the
application which certificate connected. Then the antenna forwards the request body, **as
bytes**, to the target hub's ``/federation/v1/…``, signed with the antenna's own key and with
``X-Crosshub-Peer: <authenticated caller>`` (never a header the caller sent), and returns the
target's status and body unchanged (a holder's 429 stays 429):

* ``GET  /v1/hubs/{holder}/filter``    → ``GET  /federation/v1/filter``
* ``POST /v1/hubs/{holder}/evaluate``  → ``POST /federation/v1/evaluate``
* ``POST /v1/hubs/{holder}/claims``    → ``POST /federation/v1/claims`` (+ one statistics row
  per ticket answered: antenna_stats.py)
* ``POST /v1/tickets/{ticket_id}/status`` (from the ticket's holder) → the claimant's
  ``POST /federation/v1/tickets/{ticket_id}/status`` (+ the ticket's row closed)
* ``GET  /v1/rollup?week=YYYY-Www`` and ``GET /rollup.html`` — the weekly roll-up (JSON, and the
  French page for the antenna's staff: any holder of a federation certificate).

The antenna keeps no key, token, value or body: from a holder's claims answer it keeps each
ticket's id, kind and deadline (with the pair of CROSS and the time), and drops the rest.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.contract.errors import (
    CrossHubError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ReplayDetected,
    SourceError,
)
from hub.contract.signing import DEFAULT_MAX_SKEW_S, verify_request
from hub.errors import HttpError, error_response
from hub.federation.antenna_stats import CLOSING, StatsStore, TicketRow, iso, week_of
from hub.federation.directory import load_directory
from hub.federation.pki import DIRECTORY_FILE, PartyFiles
from hub.federation.transport import (
    PEER_HEADER,
    federation_async_client,
    uvicorn_mtls_options,
)
from hub.federation.wire import ClaimsResponse, TicketStatusUpdate

log = logging.getLogger("crosshub.federation.antenna")

TICKET_ID = re.compile(r"^fed-[0-9a-f]{32}$")  # hub/federation/wire.py ``TicketId``
TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
# The roll-up page loads nothing from anywhere: its style is inline.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@dataclass(frozen=True)
class AntennaConfig:
    pki_dir: Path
    data_dir: Path
    directory_file: Path | None = None  # default: <pki_dir>/directory.json
    name: str | None = None  # default: the directory's antenna
    wire_log: Path | None = None  # default: CROSSHUB_FEDERATION_WIRE_LOG
    max_skew_s: int = DEFAULT_MAX_SKEW_S
    max_body_bytes: int = 4 * 1024 * 1024  # 4,096 blinded elements are ~200 KB of JSON
    timeout_s: float = 30.0


class _Nonces:
    """Signed requests seen in the last ``2 × max_skew_s`` (one process: memory is enough)."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._seen: dict[tuple[str, str], float] = {}  # (key id, nonce) → forgotten after
        self._lock = threading.Lock()

    def consume(self, key_id: str, nonce: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get((key_id, nonce), 0) > now:
                raise ReplayDetected("requête déjà reçue (nonce rejoué) : refusée")
            self._seen[(key_id, nonce)] = now + self._ttl


def _french_http_error(status: int) -> str:
    return {404: "adresse inconnue de l'antenne", 405: "méthode non permise sur cette adresse"
            }.get(status, "requête refusée par l'antenne")


def create_antenna_app(config: AntennaConfig) -> FastAPI:
    directory = load_directory(config.directory_file or config.pki_dir / DIRECTORY_FILE)
    name = config.name or directory.antenna
    files = PartyFiles.of(config.pki_dir, name).check()
    store = StatsStore(config.data_dir)
    nonces = _Nonces(2 * config.max_skew_s)
    members_by_key_id = {party.key_id(): member for member, party in directory.members.items()}
    clients: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clients["hubs"] = federation_async_client(
            files, party=name, wire_log=config.wire_log,
            timeout=httpx.Timeout(config.timeout_s, connect=5.0))
        try:
            yield
        finally:
            await clients["hubs"].aclose()
            store.close()

    app = FastAPI(title="Antenne de fédération CROSS Hub", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)

    @app.exception_handler(CrossHubError)
    async def _crosshub_error(_: Request, exc: CrossHubError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(HttpError(_french_http_error(exc.status_code),
                                        status=exc.status_code, code="http_error"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(InvalidInput("requête invalide", details=[
            {"field": ".".join(str(p) for p in e.get("loc", ())), "reason": "invalide"}
            for e in exc.errors()]))

    async def authenticate(request: Request) -> tuple[str, bytes]:
        """(the calling member, the body) — or 401 (unsigned, unknown key, bad signature)."""
        too_large = PayloadTooLarge(f"corps de requête trop grand (plus de "
                                    f"{config.max_body_bytes} octets)")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > config.max_body_bytes:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():  # bounded even without a Content-Length
            size += len(chunk)
            if size > config.max_body_bytes:
                raise too_large
            chunks.append(chunk)
        body = b"".join(chunks)
        member: list[str] = []

        def lookup(key_id: str):
            found = members_by_key_id.get(key_id)
            if found is None:
                return None
            member.append(found)
            return directory.members[found].key()

        verified = verify_request(dict(request.headers), request.method, request.url.path, body,
                                  lookup, None, config.max_skew_s)
        nonces.consume(verified.key_id, verified.nonce)
        return member[0], body

    def target_url(caller: str, hub: str, path: str) -> str:
        party = directory.members.get(hub)
        if hub == caller or party is None or party.url is None:
            raise NotFound(f"CROSS « {hub[:60]} » inconnu de l'antenne (ou l'appelant lui-même)")
        return party.url + path

    async def forward(caller: str, url: str, method: str, body: bytes) -> httpx.Response:
        headers = {PEER_HEADER: caller, "Accept": "application/json"}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        try:
            return await clients["hubs"].request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("forward to %s failed: %s", url, type(exc).__name__)
            raise SourceError("le CROSS destinataire ne répond pas : réessayez plus tard") from None

    def passthrough(answer: httpx.Response) -> Response:
        headers = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
        return Response(content=answer.content, status_code=answer.status_code, headers=headers,
                        media_type=answer.headers.get("content-type", "application/json"))

    @app.get("/v1/hubs/{holder}/filter")
    async def route_filter(holder: str, request: Request) -> Response:
        caller, body = await authenticate(request)
        url = target_url(caller, holder, "/federation/v1/filter")
        return passthrough(await forward(caller, url, "GET", body))

    @app.post("/v1/hubs/{holder}/evaluate")
    async def route_evaluate(holder: str, request: Request) -> Response:
        caller, body = await authenticate(request)
        url = target_url(caller, holder, "/federation/v1/evaluate")
        return passthrough(await forward(caller, url, "POST", body))

    @app.post("/v1/hubs/{holder}/claims")
    async def route_claims(holder: str, request: Request) -> Response:
        caller, body = await authenticate(request)
        url = target_url(caller, holder, "/federation/v1/claims")
        answer = await forward(caller, url, "POST", body)
        if answer.status_code == 200:
            rows = ticket_rows(answer.content, holder=holder, claimant=caller,
                               now=datetime.now(UTC))
            await run_in_threadpool(store.record, rows)
        return passthrough(answer)

    @app.post("/v1/tickets/{ticket_id}/status")
    async def route_status(ticket_id: str, request: Request) -> Response:
        caller, body = await authenticate(request)
        row = (await run_in_threadpool(store.get, ticket_id)
               if TICKET_ID.match(ticket_id) else None)
        if row is None or row.holder != caller:
            raise NotFound("ticket inconnu de l'antenne pour ce CROSS détenteur")
        status = _status_of(body)
        url = target_url(caller, row.claimant, f"/federation/v1/tickets/{ticket_id}/status")
        answer = await forward(caller, url, "POST", body)
        if 200 <= answer.status_code < 300:
            await run_in_threadpool(store.close_ticket, ticket_id, status, datetime.now(UTC))
        return passthrough(answer)

    @app.get("/v1/rollup")
    async def rollup_json(week: str | None = None) -> JSONResponse:
        now = datetime.now(UTC)
        result = await run_in_threadpool(store.rollup, week or week_of(now), now)
        return JSONResponse(result.model_dump())

    @app.get("/rollup.html")
    async def rollup_page(week: str | None = None) -> HTMLResponse:
        now = datetime.now(UTC)
        result = await run_in_threadpool(store.rollup, week or week_of(now), now)
        html = _env.get_template("rollup.html").render(r=result, antenna=name)
        return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP,
                                           "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "no-store"})

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _status_of(body: bytes) -> str:
    """The closing status of a holder's update (``TicketStatusUpdate``), or 422 naming the field."""
    try:
        update = TicketStatusUpdate.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput("mise à jour de ticket invalide", details=[
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "reason": "invalide"}
            for e in exc.errors()]) from None
    if update.status not in CLOSING:
        raise InvalidInput("statut attendu : answered, released ou declined",
                           details=[{"field": "status", "reason": "valeur non permise"}])
    return update.status


def ticket_rows(answer_body: bytes, *, holder: str, claimant: str,
                now: datetime) -> list[TicketRow]:
    """The statistics of a holder's claims answer (``ClaimsResponse``): each ticket's id, kind and
    deadline — its desk, handling code and claim id are read past, never kept. A ticket that
    names another holder or claimant than the authenticated pair is not recorded, nor is anything
    of an answer that does not parse."""
    try:
        answer = ClaimsResponse.model_validate_json(answer_body)
    except ValidationError:
        log.warning("claims answer of %s does not parse: no statistics recorded", holder)
        return []
    return [TicketRow(ticket_id=t.ticket_id, holder=holder, claimant=claimant, kind=t.kind,
                      created_at=iso(now), due_at=iso(t.due_at))
            for t in answer.tickets
            if t.holder == holder and t.claimant == claimant and t.due_at.tzinfo is not None]


def serve_antenna(config: AntennaConfig, *, host: str = "127.0.0.1", port: int = 9443,
                  log_level: str = "info") -> None:
    """Serve the antenna until SIGTERM/SIGINT: mutual TLS, one process (the nonce memory and the
    statistics connection are the process's)."""
    import uvicorn

    directory = load_directory(config.directory_file or config.pki_dir / DIRECTORY_FILE)
    files = PartyFiles.of(config.pki_dir, config.name or directory.antenna).check()
    app = create_antenna_app(config)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                server_header=False, **uvicorn_mtls_options(files))
