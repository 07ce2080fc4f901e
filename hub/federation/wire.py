"""Every message between a hub and the antenna (and, through it, another hub): the federation's
API contract, as pydantic models. Bytes travel as unpadded base64url.

What may appear here is fixed by ADR 0024: blinded elements (fresh per query), a holder's
batched evaluation with its proof, a holder's own truncated tokens (in its filter, and in the
claims sent back to it), ticket metadata (ids, CROSS ids, desk, handling code, deadlines,
statuses). Never an identifier, a lead, a narrative or an OPRF output of another key.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from hub.contract.lead import HandlingCode
from policies.federation import IdentifierKind


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > 1_000_000:
        raise ValueError("base64url attendu")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("base64url invalide") from None


def _decode(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return b64d(value)  # type: ignore[arg-type]


B64 = Annotated[bytes, BeforeValidator(_decode), PlainSerializer(b64e, return_type=str)]
CrossId = Annotated[str, Field(pattern=r"^cross-(\d{2}|2A|2B|97[1-6])$")]
TicketId = Annotated[str, Field(pattern=r"^fed-[0-9a-f]{32}$")]
ClaimId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignedFilter(WireModel):
    """A holder's filter for one peer and epoch: its truncated tokens (padded with random ones,
    sorted), its OPRF public key for the epoch, signed with its federation signing key."""

    holder: CrossId
    peer: CrossId
    epoch: int = Field(ge=0)
    public_key: B64
    token_bytes: int = Field(ge=6, le=32)
    tokens: list[B64]
    issued_at: datetime
    signature: B64 = b""


class EvaluateRequest(WireModel):
    epoch: int = Field(ge=0)
    blinded: list[B64] = Field(min_length=1, max_length=65_535)


class EvaluateResponse(WireModel):
    epoch: int
    evaluated: B64


class Claim(WireModel):
    claim_id: ClaimId
    kind: IdentifierKind
    token: B64


class ClaimsRequest(WireModel):
    epoch: int = Field(ge=0)
    claims: list[Claim] = Field(min_length=1, max_length=10_000)


class Ticket(WireModel):
    """A confirmed hit, as the holder answers it: whom to call, under which code, by when."""

    claim_id: ClaimId
    ticket_id: TicketId
    holder: CrossId
    claimant: CrossId
    kind: IdentifierKind
    desk: str = Field(max_length=200)
    handling_code: HandlingCode
    due_at: datetime


class ClaimsResponse(WireModel):
    tickets: list[Ticket] = []
    refused: list[ClaimId] = []


TicketStatus = Literal["open", "answered", "released", "declined"]


class TicketStatusUpdate(WireModel):
    status: TicketStatus
    at: datetime
    # The holder's answer, in French, for the claimant's desk: a service to call, a reference —
    # identity-guarded like every free text the hub sends.
    message: str = Field(default="", max_length=2000)
