"""The lead lifecycle of the CROSS: states, outcomes, dismissal reasons, and who may move a lead
from one state to the next.

``new → under_assessment → assigned (agency + unit) → acted_on → closed (outcome)``, or
``dismissed (reason)`` on the way. Which transitions exist and who may make them is data
(``policies/data/triage.yaml``, section ``lifecycle``, validated here as ``LifecycleRules``); this
module owns the vocabulary and the pure checks:

* ``validate_request`` — the request alone (the fields each target state needs or refuses),
  before anything is read: 422 naming the field;
* ``check_transition`` — the request against the lead's current status and the caller:
  403 (not a party to the lead, or a transition reserved to others), 409 (the lead moved since
  the caller looked: optimistic concurrency on ``expected_state``), 422 (no such transition).

Pure: no clock, no I/O. Errors are the hub's own (``hub.contract.errors``), French messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from hub.contract.errors import Conflict, Forbidden, InvalidInput
from hub.contract.lead import Agency
from policies.models import PolicyModel, Role


class LeadState(StrEnum):
    NEW = "new"
    UNDER_ASSESSMENT = "under_assessment"
    ASSIGNED = "assigned"
    ACTED_ON = "acted_on"
    CLOSED = "closed"
    DISMISSED = "dismissed"


STATE_LABELS_FR: dict[LeadState, str] = {
    LeadState.NEW: "nouvelle",
    LeadState.UNDER_ASSESSMENT: "en cours d'évaluation",
    LeadState.ASSIGNED: "attribuée",
    LeadState.ACTED_ON: "exploitée",
    LeadState.CLOSED: "clôturée",
    LeadState.DISMISSED: "écartée",
}

RESOLVED_STATES = frozenset({LeadState.CLOSED, LeadState.DISMISSED})


class CloseOutcome(StrEnum):
    ARREST = "arrest"
    SEIZURE = "seizure"
    NO_FOLLOW_UP = "no_follow_up"
    TRANSFERRED = "transferred"  # handed to a service outside the CROSS (parquet, another office)
    OTHER = "other"


OUTCOME_LABELS_FR: dict[CloseOutcome, str] = {
    CloseOutcome.ARREST: "interpellation",
    CloseOutcome.SEIZURE: "saisie",
    CloseOutcome.NO_FOLLOW_UP: "sans suite",
    CloseOutcome.TRANSFERRED: "transmise",
    CloseOutcome.OTHER: "autre",
}


class DismissReason(StrEnum):
    IMPRECISE = "imprecise"
    DUPLICATE = "duplicate"
    OUT_OF_SCOPE = "out_of_scope"  # emergency (17/112) or minor nuisance: goes elsewhere
    MALICIOUS = "malicious"  # may be sanctioned (domain.md)
    OTHER = "other"


REASON_LABELS_FR: dict[DismissReason, str] = {
    DismissReason.IMPRECISE: "imprécise",
    DismissReason.DUPLICATE: "doublon",
    DismissReason.OUT_OF_SCOPE: "hors champ (urgence 17/112 ou simple nuisance)",
    DismissReason.MALICIOUS: "malveillante",
    DismissReason.OTHER: "autre",
}

Party = Literal["owner", "assignee"]
PARTY_LABELS_FR: dict[str, str] = {"owner": "service d'origine", "assignee": "service attributaire"}


# --- rules (data) -------------------------------------------------------------------------------


class TransitionRule(PolicyModel):
    from_: LeadState = Field(alias="from")
    to: LeadState
    by: list[Party] = Field(min_length=1)
    roles: list[Role] | None = None  # narrows LifecycleRules.roles for this transition

    @model_validator(mode="after")
    def _moves(self) -> TransitionRule:
        if self.from_ is self.to:
            raise ValueError("une transition doit changer d'état")
        if self.to is LeadState.NEW:
            raise ValueError("aucune transition ne ramène une piste à l'état « nouvelle »")
        return self


class LifecycleRules(PolicyModel):
    roles: list[Role] = Field(min_length=1)
    transitions: list[TransitionRule] = Field(min_length=1)

    @field_validator("transitions")
    @classmethod
    def _distinct(cls, v: list[TransitionRule]) -> list[TransitionRule]:
        seen: set[tuple[LeadState, LeadState]] = set()
        for t in v:
            if (t.from_, t.to) in seen:
                raise ValueError(f"transition {t.from_.value} → {t.to.value} décrite deux fois")
            seen.add((t.from_, t.to))
        reached = {t.to for t in v} | {LeadState.NEW}
        missing = [s.value for s in LeadState if s not in reached]
        if missing:
            raise ValueError(f"état(s) inatteignable(s) : {', '.join(missing)}")
        return v

    def transition(self, source: LeadState, target: LeadState) -> TransitionRule | None:
        return next((t for t in self.transitions if t.from_ is source and t.to is target), None)

    def targets_from(self, source: LeadState) -> list[LeadState]:
        return [t.to for t in self.transitions if t.from_ is source]


# --- the request and the facts it is checked against --------------------------------------------

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StatusRequest(BaseModel):
    """A change of state asked by a person. ``expected_state`` is the state the caller saw:
    if the lead moved since, the change is refused (409) rather than applied blindly."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    expected_state: LeadState = Field(description="État que l'appelant a vu (contrôle de concurrence)")
    state: LeadState = Field(description="Nouvel état demandé")
    outcome: CloseOutcome | None = Field(default=None, description="Issue (obligatoire pour clôturer)")
    reason: DismissReason | None = Field(default=None, description="Motif (obligatoire pour écarter)")
    assignee_agency: Agency | None = Field(default=None, description="Service attributaire (pour attribuer)")
    unit: Unit | None = Field(default=None, description="Unité attributaire (pour attribuer)")
    note: Note = Field(default="", description="Commentaire, obligatoire pour une issue ou un motif « autre »")


class CurrentStatus(BaseModel):
    """What the check needs of the lead's status, read under the lead's status lock."""

    lead_id: str
    owner_agency: Agency
    state: LeadState
    assignee_agency: Agency | None = None


class Actor(BaseModel):
    user_id: str
    agency: Agency
    role: str


class Change(BaseModel):
    """A change that passed every check: what is written and put in the history."""

    lead_id: str
    from_state: LeadState
    to_state: LeadState
    outcome: CloseOutcome | None = None
    reason: DismissReason | None = None
    assignee_agency: Agency | None = None
    unit: str | None = None
    note: str = ""
    by: Party


# --- checks -------------------------------------------------------------------------------------


def _field_error(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field} : {reason}", details=[{"field": field, "reason": reason}])


def validate_request(request: StatusRequest) -> None:
    """The fields each target state needs or refuses; raises ``InvalidInput`` naming the field.
    Independent of the lead: checked before anything is read or locked."""
    target = request.state
    label = STATE_LABELS_FR[target]
    needs = {
        "outcome": target is LeadState.CLOSED,
        "reason": target is LeadState.DISMISSED,
        "assignee_agency": target is LeadState.ASSIGNED,
        "unit": target is LeadState.ASSIGNED,
    }
    what = {
        "outcome": "l'issue (interpellation, saisie, sans suite, transmise, autre)",
        "reason": "le motif (imprécise, doublon, hors champ, malveillante, autre)",
        "assignee_agency": "le service attributaire",
        "unit": "l'unité attributaire",
    }
    for field, needed in needs.items():
        given = getattr(request, field) is not None
        if needed and not given:
            raise _field_error(field, f"obligatoire pour passer à l'état « {label} » : préciser {what[field]}")
        if given and not needed:
            raise _field_error(field, f"sans objet pour l'état « {label} » : retirer ce champ")
    if (request.outcome is CloseOutcome.OTHER or request.reason is DismissReason.OTHER) and not request.note:
        raise _field_error("note", "obligatoire quand l'issue ou le motif est « autre » : préciser lequel")


def parties_of(actor: Actor, current: CurrentStatus) -> set[str]:
    parties = set()
    if actor.agency is current.owner_agency:
        parties.add("owner")
    if current.assignee_agency is not None and actor.agency is current.assignee_agency:
        parties.add("assignee")
    return parties


def check_transition(rules: LifecycleRules, current: CurrentStatus, request: StatusRequest,
                     actor: Actor) -> Change:
    """Decide whether ``actor`` may move the lead as asked, in this order: a party to the lead
    with a lifecycle role (else 403), the state the caller saw is still the state (else 409),
    the transition exists (else 422 on ``state``), the caller's party and role may make it
    (else 403). Returns the ``Change`` to write."""
    parties = parties_of(actor, current)
    if not parties or actor.role not in {r.value for r in rules.roles}:
        raise Forbidden(
            "seuls les analystes et coordinateurs du service d'origine de la piste, ou du service "
            "auquel elle est attribuée, peuvent en changer l'état")
    if request.expected_state is not current.state:
        seen, now = STATE_LABELS_FR[request.expected_state], STATE_LABELS_FR[current.state]
        raise Conflict(
            f"la piste a changé d'état entre-temps : « {now} » et non « {seen} » ; "
            "recharger la piste avant de recommencer",
            details=[{"field": "expected_state", "reason": f"état actuel : {current.state.value}",
                      "current_state": current.state.value}])
    rule = rules.transition(current.state, request.state)
    if rule is None:
        allowed = [STATE_LABELS_FR[s] for s in rules.targets_from(current.state)]
        possible = ", ".join(f"« {s} »" for s in allowed) if allowed else "aucune (état final)"
        raise _field_error(
            "state",
            f"transition « {STATE_LABELS_FR[current.state]} » → « {STATE_LABELS_FR[request.state]} » "
            f"non permise ; depuis « {STATE_LABELS_FR[current.state]} » : {possible}")
    acting = [p for p in rule.by if p in parties]
    if not acting:
        who = " ou ".join(PARTY_LABELS_FR[p] for p in rule.by)
        raise Forbidden(f"transition réservée au {who}")
    if rule.roles is not None and actor.role not in {r.value for r in rule.roles}:
        roles = ", ".join(r.value for r in rule.roles)
        raise Forbidden(f"transition réservée au(x) rôle(s) : {roles}")
    return Change(
        lead_id=current.lead_id, from_state=current.state, to_state=request.state,
        outcome=request.outcome, reason=request.reason, assignee_agency=request.assignee_agency,
        unit=request.unit, note=request.note, by=acting[0],
    )
