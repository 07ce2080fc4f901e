"""This hub's calls to the antenna — the HTTP ``PeerTransport`` of the service (service.py).

Every call goes through ``hub.federation.transport.federation_client``: mutual TLS with the
federation CA, this hub's Ed25519 signature on every request, the wire log when set. Answers
are parsed into the wire models (hub/federation/wire.py); a refusal (4xx/5xx: a quota, an
unknown CROSS, a peer down) or an answer that does not parse becomes ``PeerRefused`` with the
status and the French message the other side gave, so the round records it for that peer.
"""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from hub.federation.pki import PartyFiles
from hub.federation.service import PeerRefused
from hub.federation.transport import federation_client
from hub.federation.wire import (
    ClaimsRequest,
    ClaimsResponse,
    EvaluateRequest,
    EvaluateResponse,
    SignedFilter,
    TicketStatusUpdate,
)
from hub.settings import Settings

M = TypeVar("M", bound=BaseModel)


class AntennaTransport:
    """The antenna's routes (hub/federation/antenna.py), as the service calls them."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, model: type[M] | None,
              body: BaseModel | None = None) -> M | None:
        content = body.model_dump_json().encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            answer = self._client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise PeerRefused(0, f"antenne injoignable ({type(exc).__name__})") from None
        if answer.status_code >= 400:
            try:
                reason = str(answer.json().get("message", ""))[:300]
            except (ValueError, AttributeError):
                reason = ""
            raise PeerRefused(answer.status_code, reason or "refus sans motif")
        if model is None:
            return None
        try:
            return model.model_validate_json(answer.content)
        except ValidationError:
            raise PeerRefused(answer.status_code, "réponse illisible") from None

    def get_filter(self, holder: str) -> SignedFilter:
        return self._call("GET", f"/v1/hubs/{holder}/filter", SignedFilter)  # type: ignore[return-value]

    def evaluate(self, holder: str, request: EvaluateRequest) -> EvaluateResponse:
        return self._call("POST", f"/v1/hubs/{holder}/evaluate", EvaluateResponse,  # type: ignore[return-value]
                          request)

    def claims(self, holder: str, request: ClaimsRequest) -> ClaimsResponse:
        return self._call("POST", f"/v1/hubs/{holder}/claims", ClaimsResponse, request)  # type: ignore[return-value]

    def ticket_status(self, ticket_id: str, update: TicketStatusUpdate) -> None:
        self._call("POST", f"/v1/tickets/{ticket_id}/status", None, update)


def antenna_transport(settings: Settings, antenna_url: str) -> AntennaTransport:
    """The transport of this hub (its PKI files under ``settings.federation_pki``)."""
    files = PartyFiles.of(settings.federation_pki, settings.federation_cross_id)
    return AntennaTransport(federation_client(
        files, party=settings.federation_cross_id, base_url=antenna_url,
        wire_log=settings.federation_wire_log))
