"""Normalization of the identifiers that link leads across agencies: plates, phones, quantities,
places and geographic points. Pure functions, shared by the connectors (which normalize before
sending) and the hub (which normalizes again, because it trusts no one).

A value that cannot be normalized raises ``ValueError`` with a French reason: pydantic turns it
into a field error with the exact path.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

import phonenumbers

# --- Plates -------------------------------------------------------------------------------------

# SIV (since 2009): AB-123-CD. I, O and U are never used; SS never used on either block; the left
# block WW marks a temporary registration (allowed). Block 000 is never issued.
_SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
_SIV = re.compile(rf"^([{_SIV_LETTERS}]{{2}})(\d{{3}})([{_SIV_LETTERS}]{{2}})$")
# FNI (before 2009): 1 to 4 digits, 1 to 3 letters, département (01-95, 2A/2B, 971-976).
_FNI = re.compile(r"^(\d{1,4})([A-Z]{1,3})(\d{2}|2A|2B|97[1-6])$")


def normalize_plate(raw: str) -> str:
    """Return the canonical form of a French plate: ``AB-123-CD`` (SIV) or ``1234-AB-25`` (FNI).

    Spaces, dashes, dots and case are ignored, so ``ab 123 cd`` and ``AB-123-CD`` are one plate.
    """
    compact = re.sub(r"[\s\-\.·_]", "", raw).upper()
    if not compact:
        raise ValueError("immatriculation vide")
    m = _SIV.match(compact)
    if m:
        left, digits, right = m.groups()
        if digits == "000":
            raise ValueError(f"immatriculation SIV invalide « {raw} » : le bloc 000 n'existe pas")
        if left == "SS" or right == "SS":
            raise ValueError(f"immatriculation SIV invalide « {raw} » : le bloc SS n'est pas attribué")
        return f"{left}-{digits}-{right}"
    m = _FNI.match(compact)
    if m:
        digits, letters, dept = m.groups()
        if dept.isdigit() and len(dept) == 2 and not 1 <= int(dept) <= 95:
            raise ValueError(f"immatriculation FNI invalide « {raw} » : département {dept} inconnu")
        return f"{digits}-{letters}-{dept}"
    raise ValueError(
        f"immatriculation non reconnue « {raw} » : attendu SIV (AB-123-CD) ou FNI (1234 AB 25)"
    )


_FOREIGN_PLATE = re.compile(r"^[A-Z0-9]{2,12}$")


def normalize_foreign_plate(raw: str, country: str) -> str:
    """A foreign plate as ``CC:COMPACT`` (``CH``, ``ES``, ``NL``...): spacing, dashes and case
    folded; each country's own format is not checked (too many), only its character set."""
    compact = re.sub(r"[\s\-\.·_]", "", raw).upper()
    compact = compact.removeprefix(f"{country}:")  # already normalized: idempotent
    if not _FOREIGN_PLATE.match(compact):
        raise ValueError(f"immatriculation étrangère illisible « {raw} » : 2 à 12 lettres ou chiffres")
    return f"{country}:{compact}"


# --- Phones -------------------------------------------------------------------------------------


# Overseas départements share the national 0 trunk prefix but have their own country codes: a
# "0690 12 34 56" written in Besançon is a Guadeloupe mobile (+590), not an invalid French one.
_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")


def normalize_phone(raw: str, region: str = "FR") -> str:
    """Return a valid phone number in E.164 (``06 12 34 56 78`` → ``+33612345678``).

    A national-format number invalid in ``region`` is tried against the overseas numbering plans.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"numéro de téléphone illisible « {raw} »") from exc
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if region == "FR" and raw.strip().startswith("0"):
        for overseas in _OVERSEAS_REGIONS:
            candidate = phonenumbers.parse(raw, overseas)
            if phonenumbers.is_valid_number(candidate):
                return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"numéro de téléphone invalide « {raw} »")


# --- Quantities ---------------------------------------------------------------------------------

# Mass units to grams; count units stay counts ("unit": pills, doses, plants, bags).
_MASS_TO_GRAMS: dict[str, Decimal] = {
    "mg": Decimal("0.001"),
    "g": Decimal("1"),
    "gr": Decimal("1"),
    "kg": Decimal("1000"),
    "t": Decimal("1000000"),
}
_COUNT_UNITS = {"unit", "units", "unité", "unités", "u", "pill", "pills", "comprimé", "comprimés",
                "dose", "doses", "plant", "plants", "pied", "pieds", "sachet", "sachets",
                "pochon", "pochons", "boulette", "boulettes", "barrette", "barrettes"}


def normalize_quantity(value: Decimal, unit: str) -> tuple[Decimal, str]:
    """Convert a quantity to grams (``"g"``) or units (``"unit"``). Negative or zero is refused."""
    if value <= 0:
        raise ValueError("la quantité doit être strictement positive")
    u = unit.strip().lower()
    if u in _MASS_TO_GRAMS:
        grams = (value * _MASS_TO_GRAMS[u]).quantize(Decimal("0.001"))
        if grams <= 0:
            raise ValueError("quantité trop faible pour être exprimée en grammes (< 1 mg)")
        return grams, "g"
    if u in _COUNT_UNITS:
        if value != value.to_integral_value():
            raise ValueError("un nombre d'unités doit être entier")
        return value.to_integral_value(), "unit"
    raise ValueError(f"unité inconnue « {unit} » : attendu mg, g, kg, t ou un nombre d'unités")


# --- Places -------------------------------------------------------------------------------------

INSEE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


# Ingest keys every lead's place (and deal point) by it: the same few thousand addresses and
# labels come back batch after batch, and the folding is pure.
@lru_cache(maxsize=16_384)
def place_key(text: str) -> str:
    """Accent-, case- and punctuation-insensitive key for an address or a place label."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    folded = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    # Common French street-type abbreviations, so "av." and "avenue" are one place.
    abbreviations = {"av": "avenue", "bd": "boulevard", "bld": "boulevard", "pl": "place",
                     "r": "rue", "rte": "route", "imp": "impasse", "all": "allee", "ch": "chemin",
                     "st": "saint", "ste": "sainte"}
    return " ".join(abbreviations.get(w, w) for w in folded.split())


# Boxes (min_lat, max_lat, min_lon, max_lon) covering metropolitan France with Corsica, and the
# overseas départements and collectivities. Generous by a few km so coastal points pass.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "metropole": (41.2, 51.2, -5.3, 9.7),
    "guadeloupe": (15.8, 16.6, -61.9, -60.9),
    "martinique": (14.3, 14.95, -61.3, -60.75),
    "guyane": (2.0, 5.9, -54.7, -51.5),
    "reunion": (-21.45, -20.8, 55.1, 55.9),
    "mayotte": (-13.1, -12.5, 44.9, 45.4),
    "saint_pierre_et_miquelon": (46.7, 47.2, -56.5, -56.0),
    "saint_martin_saint_barthelemy": (17.85, 18.15, -63.2, -62.75),
    "polynesie": (-28.0, -7.8, -154.8, -134.4),
    "nouvelle_caledonie": (-23.0, -19.5, 163.5, 168.2),
    "wallis_et_futuna": (-14.4, -13.1, -178.3, -176.0),
}


def territory_of(lat: float, lon: float) -> str | None:
    """Name of the French territory whose box holds the point, or None outside France."""
    for name, (la0, la1, lo0, lo1) in FRANCE_BOXES.items():
        if la0 <= lat <= la1 and lo0 <= lon <= lo1:
            return name
    return None
