"""French wording of the brief: agencies, lead kinds, roles, handling codes, dates, and the
seizures' quantities (masses, counts per substance, cash, weapons, packaging)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hub.contract.lead import AGENCY_LABELS_FR, LEAD_KIND_LABELS_FR, Agency, LeadKind
from hub.contract.seized import (
    COUNT_NOUNS_FR,
    DEFAULT_COUNT_NOUN_FR,
    PACKAGING_LABELS_FR,
    SUBSTANCE_LABELS_FR,
    WEAPON_LABELS_FR,
    PackagingKind,
    Substance,
    WeaponKind,
    plural_fr,
)

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


# --- seizures ---------------------------------------------------------------------------------

NBSP = "\u00a0"  # keeps « 12 500 € » and « 1,2 kg » on one line


def number_fr(value: float, decimals: int = 0, *, strip: bool = True) -> str:
    """French number: space between thousands, decimal comma, no trailing zeros (``strip``)."""
    text = f"{value:,.{decimals}f}".replace(",", NBSP).replace(".", ",")
    if strip and "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def mass_fr(grams: float) -> str:
    """Grams as read in a seizure report: ``300 g``, ``1,2 kg``, ``2,5 t``."""
    if grams >= 1_000_000:
        return f"{number_fr(grams / 1_000_000, 3)}{NBSP}t"
    if grams >= 1000:
        return f"{number_fr(grams / 1000, 3)}{NBSP}kg"
    return f"{number_fr(grams, 3)}{NBSP}g"


def substance_fr(code: str) -> str:
    try:
        return SUBSTANCE_LABELS_FR[Substance(code)]
    except ValueError:
        return code


def quantity_fr(substance: str, quantity: float, unit: str) -> str:
    """A quantity in its unit: a mass for weighed products, a count with the word of the
    substance for counted ones (« 45 comprimés d'ecstasy », « 10 buvards »)."""
    if unit == "g":
        return mass_fr(quantity)
    try:
        noun = COUNT_NOUNS_FR.get(Substance(substance), DEFAULT_COUNT_NOUN_FR)
    except ValueError:
        noun = DEFAULT_COUNT_NOUN_FR
    return f"{number_fr(quantity)} {plural_fr(noun, quantity)}"


def cash_fr(euros: float | None) -> str:
    if not euros:
        return "—"
    cents = round(euros * 100) % 100 != 0
    return f"{number_fr(euros, 2 if cents else 0, strip=False)}{NBSP}€"


def weapon_fr(kind: str, count: int) -> str:
    try:
        forms = WEAPON_LABELS_FR[WeaponKind(kind)]
    except ValueError:
        forms = (kind, kind)
    return f"{count} {plural_fr(forms, count)}"


def packaging_fr(kind: str, count: int, substance: str | None = None) -> str:
    """« 12 pochons », « 3 pains de résine de cannabis »."""
    try:
        forms = PACKAGING_LABELS_FR[PackagingKind(kind)]
    except ValueError:
        forms = (kind, kind)
    text = f"{count} {plural_fr(forms, count)}"
    return f"{text} ({substance_fr(substance)})" if substance else text


MEASURE_FR = {"seizures": "Saisies", "cash_eur": "Numéraire", "weapons": "Armes"}


def measure_fr(delta) -> str:
    if delta.measure == "quantity":
        return f"{substance_fr(delta.substance)} ({'masse' if delta.unit == 'g' else 'unités'})"
    return MEASURE_FR.get(delta.measure, delta.measure)


def measure_value_fr(delta, value: float) -> str:
    if delta.measure == "quantity":
        return quantity_fr(delta.substance, value, delta.unit) if value else "0"
    if delta.measure == "cash_eur":
        return cash_fr(value) if value else f"0{NBSP}€"
    return number_fr(value, 1)


def delta_fr(delta) -> str:
    """Signed difference with the mean, and the ratio when the mean is not zero."""
    if not delta.delta:
        return "stable"
    sign = "+" if delta.delta > 0 else "−"
    text = sign + measure_value_fr(delta, abs(delta.delta))
    if delta.ratio is not None:
        text += f" ({sign}{number_fr(abs(delta.ratio - 1) * 100)}{NBSP}%)"
    return text
