"""What a person reads about their grants: the French text of each notification, and the French
name of a request's status. Pure (no graph, no clock), kept in one module so it can move to
policies/ with the grant rules (graph/grants/rules.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from graph.grants.models import RequestStatus

_PARIS = ZoneInfo("Europe/Paris")

STATUS_FR = {
    RequestStatus.REQUESTED: "en attente",
    RequestStatus.APPROVED: "acceptée",
    RequestStatus.DECLINED: "refusée",
    RequestStatus.EXPIRED: "expirée",
}


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
