"""Dossiers (shared multi-agency investigations, ADR 0019): who may do what in a dossier, how a
dossier and its comments are marked for the access engine, and how a dossier's closing outcome
counts in the hit rates.

Pure: no clock (``now`` / ``today`` are arguments), no I/O. What a member sees of the dossier
record, of each comment and of each linked lead is the access engine's (policies/engine.py, ADR
0002): a dossier and a comment are *marked like a lead* — originating agency (the dossier's lead
agency, the comment author's agency), handling code, the nominal kind ``MARKING_KIND`` — and the
very rules of ``rules.yaml`` decide. This module owns the vocabulary around that: the levels a
decision maps to, membership, the rights of the lead agency, the task and closing checks, and
the hit-rate rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from hub.contract.errors import Conflict, Forbidden, InvalidInput
from hub.contract.lead import Agency, HandlingCode, LeadKind
from policies.lifecycle import OUTCOME_LABELS_FR, CloseOutcome, LeadState
from policies.models import LeadMarking, Outcome, Role
from policies.triage import ResolutionCount

# A dossier and a comment are decided on as a lead of this kind would be: the rules that single
# out a kind (other services' surveillance) must not cap — nor open — a dossier by accident, so
# the most ordinary kind of intelligence stands for them.
MARKING_KIND = LeadKind.FIELD_INTELLIGENCE

# Who may be a member: the people who work leads. Guests, auditors, administrators and
# connectors are not (a guest works through a grant, never through a dossier).
MEMBER_ROLES = frozenset({Role.ANALYST, Role.COORDINATOR})
MAX_MEMBERS = 50
MAX_LINKS = 200


class DossierStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


STATUS_LABELS_FR = {DossierStatus.OPEN: "ouvert", DossierStatus.CLOSED: "clos"}


class Visibility(StrEnum):
    """What a member gets of the dossier record, of one comment: ``read`` (the content),
    ``hit`` (that it exists, whose it is and whom to call), ``none`` (nothing, not even that)."""

    READ = "read"
    HIT = "hit"
    NONE = "none"


def visibility(outcome: Outcome | str) -> Visibility:
    """A decision's outcome as a dossier or comment visibility. ``redacted`` reads: the
    redaction groups name a *lead's* fields (its narrative, evaluation codes, source detail); a
    comment has one field, its text, written for the dossier's members, and the record has a
    title — so a level that may read a lead reads them (ADR 0019)."""
    value = Outcome(outcome) if not isinstance(outcome, Outcome) else outcome
    if value in (Outcome.FULL, Outcome.REDACTED):
        return Visibility.READ
    return Visibility.HIT if value is Outcome.HIT else Visibility.NONE


def dossier_marking(dossier_id: str, lead_agency: Agency | str, code: HandlingCode | str) -> LeadMarking:
    """The dossier record as the engine sees it: a lead of its lead agency, at its code."""
    return LeadMarking(lead_id=dossier_id, originating_agency=Agency(lead_agency),
                       kind=MARKING_KIND, handling_code=HandlingCode(code))


def comment_marking(comment_id: str, author_agency: Agency | str, code: HandlingCode | str) -> LeadMarking:
    """A comment as the engine sees it: a lead of its author's agency, at its own code."""
    return LeadMarking(lead_id=comment_id, originating_agency=Agency(author_agency),
                       kind=MARKING_KIND, handling_code=HandlingCode(code))


# --- rights ---------------------------------------------------------------------------------------


def member_eligible(role: Role | str) -> bool:
    return Role(role) in MEMBER_ROLES


def may_manage(role: Role | str, agency: Agency | str, lead_agency: Agency | str) -> bool:
    """Who, among the members, adds and removes members, closes and reopens: the lead agency's
    analysts and coordinator, and the CROSS chief (coordinator) whatever their agency."""
    role = Role(role)
    if role is Role.COORDINATOR:
        return True
    return role is Role.ANALYST and Agency(agency) is Agency(lead_agency)


def check_manage(role: Role | str, agency: Agency | str, lead_agency: Agency | str) -> None:
    if not may_manage(role, agency, lead_agency):
        raise Forbidden("opération réservée au service pilote du dossier et au chef de la CROSS")


def check_new_member(role: Role | str, level: Visibility, member_count: int) -> None:
    """A person added must be one who works leads and may read the dossier record itself (a
    member who could not would hold a name on a list, nothing else)."""
    if not member_eligible(role):
        raise InvalidInput("ce compte ne peut pas être membre d'un dossier",
                           details=[{"field": "user_id",
                                     "reason": "seuls les analystes et le chef de la CROSS"}])
    if level is not Visibility.READ:
        raise InvalidInput("ce membre ne pourrait pas consulter le dossier à son code de traitement",
                           details=[{"field": "user_id",
                                     "reason": "le code de traitement du dossier le lui interdit"}])
    if member_count >= MAX_MEMBERS:
        raise InvalidInput(f"un dossier compte au plus {MAX_MEMBERS} membres",
                           details=[{"field": "user_id", "reason": "nombre de membres maximal atteint"}])


def check_removal(remaining_agencies: Iterable[Agency | str], lead_agency: Agency | str) -> None:
    """A dossier always keeps one member of its lead agency (who else would manage it?)."""
    if Agency(lead_agency) not in {Agency(a) for a in remaining_agencies}:
        raise InvalidInput("le dossier doit garder au moins un membre du service pilote",
                           details=[{"field": "user_id", "reason": "dernier membre du service pilote"}])


def check_open(status: DossierStatus | str) -> None:
    if DossierStatus(status) is not DossierStatus.OPEN:
        raise Conflict("dossier clos : le rouvrir avant de le modifier")


def check_link(level: Visibility) -> None:
    """Linking a lead or an entity needs reading it. What the caller may not even know of has
    already answered as unknown (one query, the same answer as an id nobody holds); a hit is
    known to exist, so refusing it says nothing new."""
    if level is Visibility.HIT:
        raise Forbidden("lier une piste ou une entité au dossier suppose de pouvoir la consulter ; "
                        "demander d'abord sa communication au service qui la détient")
    if level is not Visibility.READ:  # the graph has answered NotFound before; defence in depth
        raise Forbidden("lien impossible")


def check_assignee(assignee_user_id: str, member_ids: Iterable[str]) -> None:
    if assignee_user_id not in set(member_ids):
        raise InvalidInput("la personne chargée d'une tâche doit être membre du dossier",
                           details=[{"field": "assignee_user_id", "reason": "n'est pas membre du dossier"}])


def is_overdue(due_date: date, done: bool, today: date) -> bool:
    """A task is overdue from the day after its due date until it is done."""
    return not done and due_date < today


def check_reopen(status: DossierStatus | str) -> None:
    if DossierStatus(status) is not DossierStatus.CLOSED:
        raise Conflict("dossier déjà ouvert")


def outcome_label_fr(outcome: CloseOutcome | str) -> str:
    return OUTCOME_LABELS_FR[CloseOutcome(outcome)]


# --- hit rates ------------------------------------------------------------------------------------
#
# Rule (ADR 0019): a lead linked to a dossier closed with a hit outcome (triage.yaml's
# ``hit_rates.hit_outcomes``: arrest, seizure) counts as closed with that outcome for its channel
# and connector — the dossier is where the lead turned into a result. Each lead counts once:
#   1. closed itself with a hit outcome → its own resolution, unchanged;
#   2. else linked to one or more dossiers closed with a hit → closed with the outcome of the
#      first of them to close, at that instant (replacing its own resolution, if any);
#   3. else → its own resolution (or none).
# A dossier closed without a hit says nothing about each of its leads, and a reopened dossier has
# no outcome: both leave the leads as they are. Computed at read time, so a reopening undoes it.


@dataclass(frozen=True, slots=True)
class DossierClosure:
    outcome: CloseOutcome
    closed_at: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    state: LeadState
    outcome: CloseOutcome | None
    at: datetime


@dataclass(frozen=True, slots=True)
class LinkedLeadFacts:
    """A lead linked to at least one closed dossier, as hit rates count it."""

    lead_id: str
    channel: str
    connector: str
    own: Resolution | None
    closures: tuple[DossierClosure, ...]


def effective_resolution(facts: LinkedLeadFacts, hit_outcomes: Iterable[CloseOutcome]) -> Resolution | None:
    hit = set(hit_outcomes)
    own = facts.own
    if own is not None and own.state is LeadState.CLOSED and own.outcome in hit:
        return own
    hits = sorted((c for c in facts.closures if c.outcome in hit), key=lambda c: c.closed_at)
    if hits:
        return Resolution(LeadState.CLOSED, hits[0].outcome, hits[0].closed_at)
    return own


def _in(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def apply_dossier_outcomes(rows: Iterable[ResolutionCount], linked: Iterable[LinkedLeadFacts],
                           hit_outcomes: Iterable[CloseOutcome], *, since: datetime | None = None,
                           until: datetime | None = None) -> list[ResolutionCount]:
    """The resolution counts of [since, until) (per channel, connector, state, outcome) with each
    linked lead counted at its effective resolution instead of its own."""
    hit = list(hit_outcomes)
    counts: Counter[tuple[str, str, LeadState, CloseOutcome | None]] = Counter()
    for r in rows:
        counts[(r.channel, r.connector, r.state, r.outcome)] += r.count
    for f in linked:
        eff = effective_resolution(f, hit)
        if eff == f.own:
            continue
        if f.own is not None and f.own.state in (LeadState.CLOSED, LeadState.DISMISSED) \
                and _in(f.own.at, since, until):
            key = (f.channel, f.connector, f.own.state, f.own.outcome)
            counts[key] = max(0, counts[key] - 1)
        if eff is not None and _in(eff.at, since, until):
            counts[(f.channel, f.connector, eff.state, eff.outcome)] += 1
    return [ResolutionCount(channel=c, connector=k, state=s, outcome=o, count=n)
            for (c, k, s, o), n in sorted(counts.items(), key=lambda kv: repr(kv[0])) if n > 0]
