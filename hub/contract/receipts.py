"""The citizen's receipt, as it crosses rooms: the three coarse statuses a receipt may read, and the
exchange by which a citizen connector asks the hub for the published status of its own leads
(``POST /api/v1/connectors/{name}/receipts``, signed like every connector call; ADR 0015).

The exchange names leads by the connector's own ``source_ref`` only: the receipt code never
reaches the hub, and the answer carries no date. A reference the hub does not know *for this
connector* (never pushed, purged, or another connector's or agency's) answers ``status: null``,
exactly like one that exists nowhere.
"""

from __future__ import annotations

from enum import StrEnum
from pydantic import BaseModel, ConfigDict, Field

from hub.contract.lead import SourceRef


class ReceiptStatus(StrEnum):
    """What a citizen may learn of their report. Never which action, never when."""

    RECEIVED = "recue"
    USED = "exploitee"
    CLOSED = "close"


RECEIPT_LABELS_FR: dict[ReceiptStatus, str] = {
    ReceiptStatus.RECEIVED: "reçue",
    ReceiptStatus.USED: "exploitée",
    ReceiptStatus.CLOSED: "close",
}

# At most this many references per request (a connector pages through its receipts): 200 of the
# longest source reference (128 characters) stay well under the hub's 64 KiB bound on the bodies
# of its endpoints other than ingest (hub/limits.py).
MAX_RECEIPT_REFS = 200


class ReceiptStatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_refs: list[SourceRef] = Field(
        min_length=1, max_length=MAX_RECEIPT_REFS,
        description="Références source (celles du connecteur) des signalements suivis")


class ReceiptStatusItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_ref: str
    status: ReceiptStatus | None = Field(
        description="Statut publié (recue, exploitee, close) ; null : inconnu de ce connecteur")


class ReceiptStatusAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statuses: list[ReceiptStatusItem]
