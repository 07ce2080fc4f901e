"""The platform side of the receipt exchange: what the citizen connector hands back to the
citizens' platform, and how.

``POST {receipts_url}/api/recepisses`` with a bearer token (``receipts_token``) and::

    {"recepisses": [{"signalement": "MSI-2025-0007312", "code": "7K2M-9QXD-3HJ8",
                     "statut": "recue" | "exploitee" | "close"}]}

answered 204. ``signalement`` is the platform's own report id (it already knows the report and
its reporter); the platform files the code against it and shows the citizen, who types the
code, the French label of the status (« reçue », « exploitée », « close ») — nothing else: no
date, no action. The connector sends each receipt when its code is issued and again whenever its
published status changes; a refused or failed delivery is sent again at the next run.

Nothing of the reporter is ever sent: the connector sends back only ids the platform gave it,
codes it drew itself and one of three words.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, SecretStr

from connectors.citizen.receipts import Receipt
from hub.contract.errors import SourceError

RECEIPTS_ENDPOINT = "/api/recepisses"


class PlatformReceipt(BaseModel):
    signalement: str
    code: str
    statut: str


class PlatformReceipts(BaseModel):
    recepisses: list[PlatformReceipt]


class PlatformDesk:
    """The platform's receipt endpoint, as the connector calls it."""

    def __init__(self, base_url: str, token: SecretStr | None, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        headers = {"User-Agent": "crosshub-connector/1", "Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        self._url = base_url.rstrip("/") + RECEIPTS_ENDPOINT
        self._http = httpx.Client(timeout=timeout_s, headers=headers, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformDesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deliver(self, receipts: list[Receipt]) -> None:
        """Hand ``receipts`` to the platform; ``SourceError`` when it does not take them."""
        body = PlatformReceipts(recepisses=[
            PlatformReceipt(signalement=r.report_id, code=r.code, statut=r.status.value)
            for r in receipts]).model_dump_json().encode("utf-8")
        try:
            resp = self._http.post(self._url, content=body)
        except httpx.TransportError as exc:
            raise SourceError(f"plateforme injoignable ({self._url}) : {type(exc).__name__}") from None
        if not resp.is_success:
            raise SourceError(f"la plateforme refuse les récépissés : HTTP {resp.status_code}")
