"""French wording of the brief: agencies, lead kinds, roles, handling codes, dates."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hub.contract.lead import AGENCY_LABELS_FR, LEAD_KIND_LABELS_FR, Agency, LeadKind

PARIS = ZoneInfo("Europe/Paris")

HANDLING_FR = {
    "H0": "H0 — tout usage répressif",
    "H1": "H1 — pas de preuve en justice sans accord de l'émetteur",
    "H2": "H2 — aucune action sans accord de l'émetteur",
    "H3": "H3 — autres restrictions fixées par l'émetteur",
}

ROLE_FR = {
    "analyst": "analyste",
    "coordinator": "chef de la CROSS",
    "guest_referent": "référent invité",
    "auditor": "auditeur",
    "administrator": "administrateur",
}

STATUS_FR = {"open": "en cours", "done": "réalisée", "cancelled": "annulée"}

DIRECTION_FR = {"hausse": "en hausse", "baisse": "en baisse", "nouveau": "nouveau point chaud"}

ENTITY_KIND_FR = {
    "vehicle": "Véhicule", "person": "Personne", "phone": "Téléphone", "location": "Lieu",
    "deal_point": "Point de deal", "seizure": "Saisie", "substance": "Produit", "commune": "Commune",
    "agency": "Service",
}

ACCESS_FR = {"full": "complet", "hit": "hit"}


def agency_fr(code: str) -> str:
    try:
        return AGENCY_LABELS_FR[Agency(code)]
    except ValueError:
        return code


def kind_fr(code: str) -> str:
    try:
        return LEAD_KIND_LABELS_FR[LeadKind(code)]
    except ValueError:
        return code


def access_fr(level: str) -> str:
    return ACCESS_FR.get(level, "expurgé" if level.startswith("redacted") else level)


def date_fr(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(PARIS).strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def datetime_fr(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M") if value else "—"
