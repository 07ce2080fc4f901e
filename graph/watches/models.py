"""The records of watchlists (graph/watches/): a watch as stored, what a batch of fresh leads
touched, and a person's outbound delivery settings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class WatchMode(StrEnum):
    """How a watch is matched. ``key``: one entity key, found through the index on
    ``Watch.match_key``. ``scan``: a saved search no single key stands for (approximate or
    partial plate, partial phone, place text, full text), tested on each batch in memory."""

    KEY = "key"
    SCAN = "scan"


class WatchTarget(BaseModel):
    """What a watch follows, compiled from what the person typed (policies/watches.py for an
    entity, graph/watches/searches.py for a saved search)."""

    kind: Literal["entity", "search"]
    label: str = Field(description="Ce que la veille suit, tel que la personne le lit")
    mode: WatchMode
    match_key: str | None = None  # mode key: "<kind>:<normalized key>"
    terms: list[str] = Field(default_factory=list)  # mode scan: keys, fragments or words
    scan: Literal["keys", "fragment", "text"] | None = None
    search_q: str | None = None
    search_kind: str | None = None
    fuzzy: str | None = None


class WatchRecord(BaseModel):
    """A watch as its owner reads it. ``status``: ``active`` or ``ended`` (with when and why)."""

    watch_id: str
    kind: Literal["entity", "search"]
    label: str
    target: str | None = Field(default=None, description="Clé suivie (veille sur une entité)")
    search_q: str | None = None
    search_kind: str | None = None
    fuzzy: str | None = None
    created_at: datetime
    status: Literal["active", "ended"]
    ended_at: datetime | None = None
    end_reason: str | None = None
    end_reason_fr: str | None = None
    hit_count: int = 0
    last_hit_at: datetime | None = None


class WatchOwner(BaseModel):
    """The owner of a watch as matching needs them (never returned by the API)."""

    user_id: str
    name: str | None = None
    agency: str | None = None
    role: str | None = None
    disabled: bool = False


class TouchedWatch(BaseModel):
    """One active watch a batch touched: which leads, and what matching needs to decide."""

    watch_id: str
    user_id: str
    label: str
    justification: str
    scan: str | None = None  # "text": the lead must be readable in its narrative
    lead_ids: list[str]


class BatchLead(BaseModel):
    """What matching reads of a fresh lead: its id, version, agency and watch keys. The
    narrative is read only when a text watch exists, and never leaves the hub's matching."""

    lead_id: str
    version: int
    agency: str
    keys: list[str]
    narrative: str | None = None


class WatchHit(BaseModel):
    """One notification to write: the decision the engine made for the watcher."""

    watch_id: str
    user_id: str
    agency: str
    lead_id: str
    message: str
    payload: dict[str, str | None]


class Delivery(BaseModel):
    """Where a person wants an outbound "something new" signal (besides the app)."""

    user_id: str
    webhook_url: str | None = None
    email: str | None = None
    updated_at: datetime | None = None
