"""Who may call the hub, as the graph gives it back: a user (``Principal``, with the grants active
at the time of the request when read with them), an API token as issued (shown once), and a
connector's public signing key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, field_validator

from graph.records import native


class Principal(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str
    contact: str | None = None
    password_hash: str | None = None
    disabled: bool = False
    # Last authentication recorded (graph/identity/lifecycle.py: at most once per resolution of
    # policies/data/accounts.yaml), read with the identity so deciding to record it costs nothing.
    last_used_at: datetime | None = None
    # Grants active at the time of the request, read with the identity in one round trip
    # (None: not loaded — hub/access.py then reads them itself).
    active_grants: list[Any] | None = None

    @field_validator("last_used_at", mode="before")
    @classmethod
    def _native(cls, v: Any) -> Any:
        return native(v)


class IssuedToken(BaseModel):
    token: str  # shown once, never stored
    user_id: str
    expires_at: datetime | None


class ConnectorKey(BaseModel):
    key_id: str
    connector: str
    agency: str
    public_key_pem: str
