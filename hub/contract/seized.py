"""What a seizure names: substances, weapons and packaging, with their French labels and the
French words for their counts.

Kept apart from the lead contract (hub/contract/lead.py, which re-exports ``Substance`` and
``WeaponKind``) so the seizure vocabulary can grow without the lead schema's module growing.
Codes are stable English values (API names are English); what a person reads comes from the
``*_FR`` maps.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Substance(StrEnum):
    CANNABIS_RESIN = "cannabis_resin"
    CANNABIS_HERB = "cannabis_herb"
    COCAINE = "cocaine"
    CRACK = "crack"
    HEROIN = "heroin"
    KETAMINE = "ketamine"
    MDMA = "mdma"
    AMPHETAMINE = "amphetamine"
    METHAMPHETAMINE = "methamphetamine"
    SYNTHETIC_CANNABINOID = "synthetic_cannabinoid"
    LSD = "lsd"
    OTHER = "other"


SUBSTANCE_LABELS_FR: dict[Substance, str] = {
    Substance.CANNABIS_RESIN: "résine de cannabis",
    Substance.CANNABIS_HERB: "herbe de cannabis",
    Substance.COCAINE: "cocaïne",
    Substance.CRACK: "crack",
    Substance.HEROIN: "héroïne",
    Substance.KETAMINE: "kétamine",
    Substance.MDMA: "MDMA",
    Substance.AMPHETAMINE: "amphétamine",
    Substance.METHAMPHETAMINE: "méthamphétamine",
    Substance.SYNTHETIC_CANNABINOID: "cannabinoïde de synthèse",
    Substance.LSD: "LSD",
    Substance.OTHER: "autre",
}

# A quantity is grams ("g") or a count ("unit", hub.contract.normalize): what one counted unit
# of each substance is, in French (singular, plural). MDMA counted is ecstasy pills, LSD blotters.
COUNT_NOUNS_FR: dict[Substance, tuple[str, str]] = {
    Substance.MDMA: ("comprimé d'ecstasy", "comprimés d'ecstasy"),
    Substance.LSD: ("buvard", "buvards"),
    Substance.CANNABIS_HERB: ("pied", "pieds"),  # plants of a grow
    Substance.CRACK: ("galette", "galettes"),
}
DEFAULT_COUNT_NOUN_FR = ("unité", "unités")


class WeaponKind(StrEnum):
    HANDGUN = "handgun"
    LONG_GUN = "long_gun"
    AUTOMATIC_WEAPON = "automatic_weapon"
    BLADE = "blade"
    OTHER = "other"


WEAPON_LABELS_FR: dict[WeaponKind, tuple[str, str]] = {
    WeaponKind.HANDGUN: ("arme de poing", "armes de poing"),
    WeaponKind.LONG_GUN: ("arme d'épaule", "armes d'épaule"),
    WeaponKind.AUTOMATIC_WEAPON: ("arme automatique", "armes automatiques"),
    WeaponKind.BLADE: ("arme blanche", "armes blanches"),
    WeaponKind.OTHER: ("autre arme", "autres armes"),
}


class PackagingKind(StrEnum):
    """How seized product was packed for sale or transport (what a brief reads as « 12 pochons »)."""

    POUCH = "pouch"  # pochon: retail dose of herb or resin
    BAG = "bag"  # sachet, zip bag
    BAR = "bar"  # barrette de résine
    BRICK = "brick"  # pain / plaquette de résine (≈ 250 g)
    BALL = "ball"  # boulette (cocaïne, crack, héroïne)
    BLOCK = "block"  # bloc / brique de cocaïne (≈ 1 kg)
    BALE = "bale"  # ballot, colis
    OTHER = "other"


PACKAGING_LABELS_FR: dict[PackagingKind, tuple[str, str]] = {
    PackagingKind.POUCH: ("pochon", "pochons"),
    PackagingKind.BAG: ("sachet", "sachets"),
    PackagingKind.BAR: ("barrette", "barrettes"),
    PackagingKind.BRICK: ("pain", "pains"),
    PackagingKind.BALL: ("boulette", "boulettes"),
    PackagingKind.BLOCK: ("bloc", "blocs"),
    PackagingKind.BALE: ("ballot", "ballots"),
    PackagingKind.OTHER: ("conditionnement", "conditionnements"),
}


class Packaging(BaseModel):
    """``count`` items of one packaging, optionally of one substance (« 3 pains » of resin)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PackagingKind
    count: int = Field(ge=1, le=1_000_000, description="Nombre de conditionnements")
    substance: Substance | None = Field(default=None, description="Produit conditionné, s'il est connu")


def plural_fr(forms: tuple[str, str], n: float) -> str:
    """French agreement: singular below 2 (« 1,5 kilogramme », « 1 pochon »), plural from 2."""
    return forms[0] if abs(n) < 2 else forms[1]
