"""What graph/resolution/ hands out: candidate pairs with their evidence, judgements and merges,
each entity and lead shown at the caller's level (a side the caller may only know of is a hit:
agency, count, whom to call, handle — never its key)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from graph.models import Hit


class Side(BaseModel):
    """One entity of a pair as the caller may know it: ``entity`` (``<kind>:<key>``) and
    ``label`` only when some lead the caller may read asserts it; else only its hits."""

    kind: str
    entity: str | None = None
    label: str | None = None
    readable: bool
    lead_count: int = Field(default=0, description="Pistes consultables qui la citent")
    hits: list[Hit] = Field(default_factory=list)


class Evidence(BaseModel):
    """One rule's reasons for a pair: readable leads by id, the others as hits."""

    rule: str
    label: str
    detail: str | None = None
    weight_count: int = Field(description="Éléments comptés dans le score")
    lead_ids: list[str] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)


class Annotation(BaseModel):
    """The pair's latest judgement or merge, when it stays listed (unsure, refused, undone)."""

    status: str
    label: str
    agency: str
    at: datetime
    reason: str | None = Field(default=None, description="Motif, pour le service qui l'a écrit")


class Candidate(BaseModel):
    pair: str = Field(description="Poignée de la paire (à renvoyer pour juger)")
    kind: str
    a: Side
    b: Side
    score: float
    evidence: list[Evidence]
    annotation: Annotation | None = None


class CandidateList(BaseModel):
    candidates: list[Candidate]
    seeds: int = Field(description="Entités examinées")
    truncated: bool = False


class MergeView(BaseModel):
    merge_id: str
    pair: str
    kind: str
    a: Side
    b: Side
    state: str
    state_label: str
    requested_by_agency: str
    requested_at: datetime
    awaiting_you: bool = Field(description="Votre service doit contre-signer")
    awaiting: list[str] = Field(default_factory=list,
                                description="Services attendus (pour le service demandeur)")
    signed: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    undone_at: datetime | None = None


class JudgementRecord(BaseModel):
    judgement_id: str
    pair: str
    kind: str
    verdict: str
    verdict_label: str
    reason: str
    agency: str
    user_id: str
    at: datetime
    merge: MergeView | None = None
