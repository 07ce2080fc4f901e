"""A stand-in for a hub's peer-facing federation listener, for the antenna's tests only (the real
routes are hub/routers/federation.py). Served by uvicorn in its own process over mutual TLS, like
a hub's federation listener (``hub.federation.transport.uvicorn_mtls_argv``).

It admits only requests the antenna signed for a member peer (``verify_from_antenna``, as a
hub does), appends each admitted request's nonce to ``ECHO_SEEN_FILE``, and answers:

* ``/federation/v1/evaluate`` — 429 with a French detail past ``ECHO_QUOTA`` calls per peer (the
  holder's per-peer quota), otherwise an echo;
* ``/federation/v1/claims`` — a ticket per claim (``hub.federation.wire.Ticket``): a fresh id,
  this hub as holder, the peer as claimant, the claim's kind, a desk,
  a handling code and a deadline 48 h ahead, or ``echo_due_in_s`` seconds ahead when the claim
  carries that test-only field (a deadline already past);
* anything else under ``/federation/v1/`` — an echo: {hub, method, path, peer headers, body}.

Environment: ECHO_NAME, ECHO_PKI_DIR, ECHO_SEEN_FILE, ECHO_QUOTA.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.contract.errors import NotAuthenticated
from hub.federation.directory import load_directory
from hub.federation.transport import verify_from_antenna


def create() -> Starlette:
    name = os.environ["ECHO_NAME"]
    directory = load_directory(Path(os.environ["ECHO_PKI_DIR"]) / "directory.json")
    seen_file = Path(os.environ["ECHO_SEEN_FILE"])
    quota = int(os.environ.get("ECHO_QUOTA", "2"))
    evaluations: Counter[str] = Counter()

    async def federation(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            verified = verify_from_antenna(directory, request.headers, request.method,
                                           request.url.path, body, own_id=name)
        except NotAuthenticated as exc:
            return JSONResponse(exc.to_dict(), status_code=401)
        with seen_file.open("a", encoding="ascii") as seen:
            seen.write(f"{name} {verified.nonce}\n")
        peers = request.headers.getlist("x-crosshub-peer")
        peer = peers[0] if peers else ""
        path = request.url.path
        if path == "/federation/v1/evaluate":
            evaluations[peer] += 1
            if evaluations[peer] > quota:
                return JSONResponse({"code": "too_many_requests",
                                     "message": f"quota journalier atteint pour {peer}"},
                                    status_code=429, headers={"Retry-After": "3600"})
        if path == "/federation/v1/claims":
            now = datetime.now(UTC)
            tickets = [{"claim_id": c["claim_id"], "ticket_id": f"fed-{uuid.uuid4().hex}",
                        "holder": name, "claimant": peer, "kind": c["kind"],
                        "desk": "Permanence du CROSS", "handling_code": "H1",
                        "due_at": (now + timedelta(seconds=c.get("echo_due_in_s", 48 * 3600))
                                   ).isoformat()}
                       for c in json.loads(body)["claims"]]
            return JSONResponse({"tickets": tickets, "refused": []})
        return JSONResponse({"hub": name, "method": request.method, "path": path,
                             "peer_headers": peers,
                             "body": base64.b64encode(body).decode("ascii")})

    return Starlette(routes=[Route("/federation/v1/{rest:path}", federation,
                                   methods=["GET", "POST"])])
