"""The rules of grants that widen access, and what a person reads about them. Pure: no graph, no
clock, no HTTP — the hub and graph/grants/ apply them.

* Guest grants (a CROSS non permanente calls a referent in now and then): bounded in time
  (``MAX_GUEST_GRANT``: longer is a membership, not an invitation) and in scope (at most
  ``MAX_GUEST_LEADS`` leads and ``MAX_GUEST_ENTITIES`` entities, of ``GUEST_ENTITY_KINDS`` only:
  not substances, communes or agencies, which thousands of leads share).
* Disclosure requests: who may decide is ``may_decide_disclosure`` — a role holding
  ``disclosure.decide`` (roles.yaml) *of the lead's originating agency*. Originator control: the
  service that holds the lead decides; a coordinator of another service may not (nobody discloses
  another agency's lead). A request is accepted only if its approval would show the requester
  more (``widens``), asked of the engine with the very grant an approval would create.
* The French text of each notification and of a request's status.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from policies.models import OUTCOME_ORDER, Decision, Outcome, Policy
from policies.permissions import Action, Permission, permission

_PARIS = ZoneInfo("Europe/Paris")

MAX_GUEST_GRANT = timedelta(days=90)
MAX_GUEST_LEADS = 500
MAX_GUEST_ENTITIES = 100
# Entity kinds by their graph names (graph.labels.EntityKind values).
GUEST_ENTITY_KINDS: tuple[str, ...] = ("vehicle", "person", "phone", "location", "deal_point", "seizure")

STATUS_FR = {
    "requested": "en attente",
    "approved": "acceptée",
    "declined": "refusée",
    "expired": "expirée",
}


def may_decide_disclosure(policy: Policy, role: str, agency: str, owner_agency: str) -> Permission:
    """Whether a caller of ``role`` in ``agency`` may approve or decline a request for a lead of
    ``owner_agency``: the role must hold ``disclosure.decide``, and only in the owning agency."""
    decision = permission(policy, role, Action.DECIDE_DISCLOSURE)
    if decision.allowed and agency != owner_agency:
        return Permission(False, role, Action.DECIDE_DISCLOSURE, "originator-control")
    return decision


def widens(before: Decision, after: Decision) -> bool:
    """Whether ``after`` shows the caller more than ``before``: a higher level, or the same
    redacted level with fewer hidden properties (a disclosure opens the narrative)."""
    b, a = OUTCOME_ORDER[before.outcome], OUTCOME_ORDER[after.outcome]
    if a != b:
        return a > b
    return (before.outcome is Outcome.REDACTED
            and set(after.hidden_properties) < set(before.hidden_properties))


def paris(value: datetime) -> str:
    """A date as a French reader expects it: ``14/10/2025 à 18:00`` (heure de Paris)."""
    return value.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")


def scope_fr(lead_ids: list[str], entity_keys: list[str]) -> str:
    """What a guest grant covers: « 3 piste(s) et 1 entité(s) »."""
    parts = []
    if lead_ids:
        parts.append(f"{len(lead_ids)} piste(s)")
    if entity_keys:
        parts.append(f"{len(entity_keys)} entité(s)")
    return " et ".join(parts)


# --- disclosure requests ------------------------------------------------------------------------


def disclosure_requested(requester_name: str, requester_agency: str, lead_id: str,
                         justification: str) -> str:
    """To the owning agency of the lead."""
    return (f"{requester_name} ({requester_agency}) demande la communication de "
            f"votre piste {lead_id}. Motif : {justification}")


def disclosure_approved(lead_id: str, decided_by_name: str, decider_agency: str,
                        valid_until: datetime | None) -> str:
    """To the requester."""
    until = f" jusqu'au {paris(valid_until)}" if valid_until else ""
    return (f"Votre demande de communication de la piste {lead_id} a été "
            f"acceptée par {decided_by_name} ({decider_agency}){until}.")


def disclosure_declined(lead_id: str, decided_by_name: str, decider_agency: str,
                        reason: str | None) -> str:
    """To the requester."""
    return (f"Votre demande de communication de la piste {lead_id} a été "
            f"refusée par {decided_by_name} ({decider_agency})"
            + (f" : {reason}" if reason else "") + ".")


def disclosure_expired(lead_id: str, valid_until: datetime) -> str:
    """To the requester."""
    return f"La communication de la piste {lead_id} a pris fin le {paris(valid_until)}."


# --- guest grants -------------------------------------------------------------------------------


def guest_grant_created(granted_by_name: str, valid_from: datetime, valid_until: datetime,
                        lead_ids: list[str], entity_keys: list[str]) -> str:
    """To the guest."""
    return (f"{granted_by_name} (chef de la CROSS) vous a accordé une "
            f"autorisation d'invité du {paris(valid_from)} au "
            f"{paris(valid_until)} : {scope_fr(lead_ids, entity_keys)}.")


def guest_grant_revoked(grant_id: str, revoked_by_name: str, reason: str | None) -> str:
    """To the guest."""
    return (f"Votre autorisation d'invité {grant_id} a été révoquée par "
            f"{revoked_by_name}" + (f" : {reason}" if reason else "") + ".")


def guest_grant_expired(grant_id: str, valid_until: datetime) -> str:
    """To the guest."""
    return f"Votre autorisation d'invité {grant_id} a pris fin le {paris(valid_until)}."
