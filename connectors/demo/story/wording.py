"""Seizures in the story: building one from short tuples (``make_seizure``) and saying it in French
(``seizure_fr``: « 1,2 kg de résine de cannabis, 6 515 € en numéraire… »)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from hub.contract.lead import (
    SUBSTANCE_LABELS_FR,
    Seizure,
    Substance,
    SubstanceQuantity,
    Weapon,
    WeaponKind,
)

def _fr_number(value: Decimal) -> str:
    """French formatting: 5,4 / 1 248 / 6 515."""
    if value == value.to_integral_value():
        s = f"{int(value):,}".replace(",", " ")
    else:
        s = f"{value:f}".rstrip("0").replace(".", ",")
        if "," in s:
            whole, frac = s.split(",")
            s = f"{int(whole):,}".replace(",", " ") + "," + frac
    return s


def _qty_fr(q: SubstanceQuantity, raw_unit: str | None = None) -> str:
    label = SUBSTANCE_LABELS_FR[q.substance]
    if q.quantity is None:
        return label
    if q.unit == "unit":
        return f"{_fr_number(q.quantity)} {raw_unit or 'unités'} de {label}"
    grams = q.quantity
    if grams >= 1000:
        return f"{_fr_number(grams / 1000)} kg de {label}"
    return f"{_fr_number(grams)} g de {label}"


def _join_fr(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " et " + items[-1]


def seizure_fr(s: Seizure) -> str:
    """French wording of a seizure: « 1,2 kg de résine de cannabis, 6 515 € en numéraire… »."""
    parts = [_qty_fr(q, "comprimés" if q.substance == Substance.MDMA else None) for q in s.substances]
    if s.cash_eur:
        parts.append(f"{_fr_number(s.cash_eur)} € en numéraire")
    for w in s.weapons:
        pl = "s" if w.count > 1 else ""
        name = {WeaponKind.HANDGUN: f"arme{pl} de poing", WeaponKind.LONG_GUN: f"arme{pl} d'épaule",
                WeaponKind.AUTOMATIC_WEAPON: f"arme{pl} automatique{pl}",
                WeaponKind.BLADE: f"arme{pl} blanche{pl}", WeaponKind.OTHER: f"arme{pl}"}[w.kind]
        parts.append(f"{w.count} {name}")
    if s.packaging_material:
        parts.append("du matériel de conditionnement")
    return _join_fr(parts)


def make_seizure(*items: tuple[Substance, str, str], cash: str | None = None,
        weapons: Iterable[tuple[WeaponKind, int]] = (), packaging: bool = False) -> Seizure:
    return Seizure(
        substances=[SubstanceQuantity(substance=s, quantity=Decimal(q), unit=u) for s, q, u in items],
        cash_eur=Decimal(cash) if cash else None,
        weapons=[Weapon(kind=k, count=c) for k, c in weapons],
        packaging_material=packaging,
    )
