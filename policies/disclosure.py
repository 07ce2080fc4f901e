"""Graded disclosure with a deadline: what a holder may release, for how long, and how long
they have to answer — decided here from ``disclosure.yaml``; stored by graph/grants/, enforced
at read time by the access engine (``policies.engine``: a ``DisclosureGrant`` carries the
released groups), wired by the hub.

Owns:

* the release: the property groups (properties.yaml) a holder picks, checked against the
  policy's groups (``check_release``); every lead contract field is either in a group or in the
  marking a hit already shows (``always_shown``, checked when the rulebook loads, so a new lead
  field can never ride along in a partial release unnoticed);
* the period: an approval always ends, at most ``max_release_days`` ahead (``release_end``);
* the deadline: ``deadline_hours`` (48 h, Prüm II), shorter per handling code if the file says
  so (``deadline_for``), and whether a request is overdue at an instant (``is_overdue``) — the
  same test on read and in the escalation job, so a request shows overdue before the job runs;
* the thread's bounds (message length, messages per request);
* the French wording of escalation and thread notifications.

Pure: no clock (instants are arguments), no I/O beyond reading its rules file.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from collections.abc import Sequence
from functools import reduce

from pydantic import Field, field_validator

from hub.contract.lead import Agency, HandlingCode, Lead
from policies.models import OUTCOME_ORDER, DisclosureGrant, Outcome, Policy, PolicyModel

DISCLOSURE_FILE = "disclosure.yaml"


class DisclosureRules(PolicyModel):
    version: int = 1
    deadline_hours: int = Field(default=48, ge=1, le=24 * 30)
    deadline_hours_by_handling_code: dict[HandlingCode, int] = Field(default_factory=dict)
    max_release_days: int = Field(default=90, ge=1, le=366)
    always_shown: list[str] = Field(default_factory=lambda: [
        "schema_version", "source_agency", "version", "kind", "handling_code", "restricted_to",
        "embargo_until"])
    max_message_chars: int = Field(default=2000, ge=10, le=20_000)
    max_messages_per_request: int = Field(default=200, ge=1, le=10_000)

    @field_validator("deadline_hours_by_handling_code")
    @classmethod
    def _bounded(cls, v: dict[HandlingCode, int]) -> dict[HandlingCode, int]:
        bad = sorted(c.value for c, h in v.items() if not 1 <= h <= 24 * 30)
        if bad:
            raise ValueError(f"délai hors bornes (1 à 720 heures) : {', '.join(bad)}")
        return v

    @field_validator("always_shown")
    @classmethod
    def _fields(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(Lead.model_fields))
        if unknown:
            raise ValueError(f"champ(s) inconnu(s) du contrat de piste : {', '.join(unknown)}")
        return v


def load_disclosure_rules(path: Path | str | None = None) -> DisclosureRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / DISCLOSURE_FILE
    return load_rules_file(DisclosureRules, entry, "communication")


def uncovered_fields(rules: DisclosureRules, policy: Policy) -> list[str]:
    """Lead contract fields neither in a property group nor always shown: a partial release
    could not withhold them. The rulebook refuses to load while any is left."""
    grouped = {p for g in policy.property_groups for p in g.properties}
    return sorted(set(Lead.model_fields) - grouped - set(rules.always_shown))


# --- the release ---------------------------------------------------------------------------------


def releasable_groups(policy: Policy) -> list[str]:
    """The groups a holder picks from: every property group of the policy."""
    return [g.id for g in policy.property_groups]


def check_release(policy: Policy, groups: list[str]) -> list[str]:
    """The groups released, in the policy's order, or ValueError (French) naming the unknown
    ones. An empty list releases nothing beyond the marking: refused, that is a decline."""
    known = releasable_groups(policy)
    unknown = [g for g in groups if g not in known]
    if unknown:
        raise ValueError(f"groupe(s) inconnu(s) : {', '.join(unknown)} (admis : {', '.join(known)})")
    if not groups:
        raise ValueError("choisir au moins un groupe de propriétés (sinon, refuser la demande)")
    return [g for g in known if g in set(groups)]


def withheld_properties(policy: Policy, released: list[str] | None) -> frozenset[str]:
    """The lead fields a release withholds: those of every group not released (``None``
    releases every group: an approval of old, or an explicit full release)."""
    if released is None:
        return frozenset()
    return frozenset(policy.properties_of([g for g in releasable_groups(policy) if g not in released]))


def lead_withheld(policy: Policy, lead_id: str, owner: Agency,
                  disclosures: Sequence[DisclosureGrant]) -> frozenset[str] | None:
    """What a caller's active disclosures of one lead withhold (None: no disclosure of it).
    Releases add up: a property stays withheld only if every release withholds it."""
    sets = [withheld_properties(policy, d.released_groups) for d in disclosures
            if d.lead_id == lead_id and d.owner_agency is owner]
    return reduce(frozenset.__and__, sets) if sets else None


View = tuple[Outcome, tuple[str, ...]]


def graded_view(without: View, disclosed: View, withheld: frozenset[str]) -> tuple[Outcome, tuple[str, ...], bool]:
    """What a graded release shows (the engine's combination): the disclosure's view narrowed
    to the released groups (``full`` becomes ``redacted`` of the withheld properties), or the
    view the caller has without it if that is more open — a partial release never shows more
    than released, nor hides what the policy showed anyway. Two redacted views hide only what
    both hide. The flag: whether the disclosure's rule is the one to cite."""
    outcome, hidden = disclosed
    if outcome in (Outcome.FULL, Outcome.REDACTED):
        outcome, hidden = Outcome.REDACTED, tuple(sorted(set(hidden) | withheld))
    la, lb = OUTCOME_ORDER[without[0]], OUTCOME_ORDER[outcome]
    if la != lb:
        return (without[0], without[1], False) if la > lb else (outcome, hidden, True)
    if outcome is not Outcome.REDACTED:
        return without[0], without[1], False
    both = tuple(sorted(set(without[1]) & set(hidden)))
    return Outcome.REDACTED, both, set(hidden) < set(without[1])


def release_end(rules: DisclosureRules, valid_until: datetime | None, now: datetime) -> datetime:
    """When a release approved at ``now`` ends: the date asked for, or ``max_release_days``
    ahead. ValueError (French) if it is not after ``now`` or beyond the maximum."""
    latest = now + timedelta(days=rules.max_release_days)
    if valid_until is None:
        return latest
    if valid_until <= now:
        raise ValueError("doit être postérieure à maintenant")
    if valid_until > latest:
        raise ValueError(f"au plus {rules.max_release_days} jours après la décision")
    return valid_until


# --- the deadline --------------------------------------------------------------------------------


def deadline_for(rules: DisclosureRules, handling_code: HandlingCode | str) -> timedelta:
    code = HandlingCode(handling_code)
    return timedelta(hours=rules.deadline_hours_by_handling_code.get(code, rules.deadline_hours))


def due_at(rules: DisclosureRules, requested_at: datetime, handling_code: HandlingCode | str) -> datetime:
    return requested_at + deadline_for(rules, handling_code)


# Who an unanswered request is escalated to: the CROSS coordinator (chef de la CROSS).
ESCALATION_ROLE = "coordinator"


def receives_escalations(role: str) -> bool:
    return role == ESCALATION_ROLE


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """A request still awaiting its answer at or after its deadline."""
    return status == "requested" and due is not None and now >= due


# --- wording -------------------------------------------------------------------------------------


def escalated_fr(lead_id: str, owner_agency: str, requester_agency: str, due: datetime) -> str:
    """To each CROSS coordinator."""
    from policies.grants import paris

    return (f"Demande de communication sans réponse : la piste {lead_id} ({owner_agency}), "
            f"demandée par {requester_agency}, attendait une réponse au plus tard le "
            f"{paris(due)}. Elle est inscrite à l'ordre du jour de la réunion CROSS.")


def message_posted_fr(author_name: str, author_agency: str, request_id: str) -> str:
    """To the other side of a request's thread (never the text itself: a notification is not
    where a question is read)."""
    return (f"{author_name} ({author_agency}) a écrit dans l'échange de la demande de "
            f"communication {request_id}.")


def release_fr(policy: Policy, released: list[str] | None) -> str:
    """« Lieu et point de deal, Véhicules » — what was released, for a notification."""
    if released is None:
        return "toutes les propriétés"
    labels = {g.id: g.label_fr for g in policy.property_groups}
    return ", ".join(labels[g] for g in released if g in labels)


# --- the thread ----------------------------------------------------------------------------------


def thread_side(*, user_id: str, agency: str, role: str, may_decide: bool,
                requester_user_id: str, owner_agency: str, overdue: bool,
                escalated: bool) -> str | None:
    """Which side of a request's thread the caller is on, or None (then the request does not
    exist for them: 404, as for an unknown id). The requester; the holding agency's deciders
    (``may_decide``: a role holding ``disclosure.decide``); a CROSS coordinator once the request
    is escalated or overdue (the same test as the agenda's). Nobody else."""
    if user_id == requester_user_id:
        return "requester"
    if may_decide and agency == owner_agency:
        return "holder"
    if receives_escalations(role) and (escalated or overdue):
        return "coordinator"
    return None
