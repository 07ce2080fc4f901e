"""The records of federation in the graph (graph/federation/): a federable entity with the
local leads behind it, a ticket as stored on either side, and a quota take."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

FederableKind = Literal["plate", "phone"]


class TicketSide(StrEnum):
    HOLDER = "holder"  # this hub holds the identifier; a peer claimed it
    CLAIMANT = "claimant"  # this hub claimed an identifier a peer holds


class TicketStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RELEASED = "released"
    DECLINED = "declined"


class LeadBehind(BaseModel):
    """A local lead that mentions a federable entity, with what the scope decision needs."""

    lead_id: str
    agency: str
    handling_code: str
    status: str | None = None  # lifecycle state (policies/lifecycle.py); None: new
    embargo_until: datetime | None = None
    restricted: bool = False  # restricted_to names agencies (kept from others in this hub)


class FederableEntity(BaseModel):
    """A Vehicle (plate) or Phone (number) some local lead mentions. ``key`` is the graph's
    key (Vehicle.plate, Phone.number): local, never sent."""

    kind: FederableKind
    key: str
    leads: list[LeadBehind]
    fed_token: str | None = None  # hex of this hub's truncated token, for ``fed_epoch``
    fed_epoch: int | None = None


class TokenRow(BaseModel):
    """One token to store on an entity (``token`` None: the entity no longer federates)."""

    kind: FederableKind
    key: str
    token: str | None


class TicketDraft(BaseModel):
    """A ticket to open (or find, when one exists for the same side, peer, kind and key)."""

    side: TicketSide
    peer: str
    kind: FederableKind
    entity_key: str
    ticket_id: str | None = None  # the holder's id (claimant side); drawn here on the holder's
    lead_ids: list[str]
    agencies: list[str]
    handling_code: str
    desk: str
    due_at: datetime
    claim_id: str | None = None


class TicketRecord(BaseModel):
    ticket_id: str
    side: TicketSide
    peer: str
    kind: FederableKind
    entity_key: str
    lead_ids: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    handling_code: str
    desk: str
    due_at: datetime
    status: TicketStatus = TicketStatus.OPEN
    created_at: datetime
    answered_at: datetime | None = None
    message: str | None = None


class QuotaTake(BaseModel):
    """A request to spend ``n`` evaluations of a peer's daily quota: allowed (and counted) or
    refused (nothing counted), with the day's count after the decision."""

    allowed: bool
    used: int
    limit: int
