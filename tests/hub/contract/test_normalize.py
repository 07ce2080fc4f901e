"""Plate, phone and quantity normalization: property-based where it fits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.contract.normalize import normalize_phone, normalize_plate, normalize_quantity, place_key

SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
letters = st.text(alphabet=SIV_LETTERS, min_size=2, max_size=2).filter(lambda s: s != "SS")
digits = st.integers(min_value=1, max_value=999).map(lambda n: f"{n:03d}")
separators = st.sampled_from(["-", " ", "", ".", " - "])


@given(letters, digits, letters, separators, separators, st.booleans())
def test_siv_plates_normalize_to_one_form_whatever_the_spelling(left, num, right, s1, s2, lower):
    raw = f"{left}{s1}{num}{s2}{right}"
    raw = raw.lower() if lower else raw
    assert normalize_plate(raw) == f"{left}-{num}-{right}"
    assert normalize_plate(normalize_plate(raw)) == normalize_plate(raw)  # idempotent


@given(st.integers(1, 9999), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3),
       st.sampled_from(["01", "25", "61", "88", "95", "2A", "2B", "971", "976"]), separators)
def test_fni_plates_normalize(num, lets, dept, sep):
    assert normalize_plate(f"{num}{sep}{lets}{sep}{dept}") == f"{num}-{lets}-{dept}"


@pytest.mark.parametrize("raw,why", [
    ("AB-000-CD", "000"), ("SS-123-AB", "SS"), ("AB-123-SS", "SS"), ("AI-123-CD", "non reconnue"),
    ("AB-123-CO", "non reconnue"), ("", "vide"), ("1234 AB 99", "99"), ("hello", "non reconnue"),
])
def test_invalid_plates_say_why(raw, why):
    with pytest.raises(ValueError, match=why):
        normalize_plate(raw)


# Metropolitan mobile ranges: 0639 (Mayotte) and 069x (Antilles, Guyane, Réunion) carry other
# country codes (+262, +590, +594...), so they are left out here.
@given(st.sampled_from(["61", "62", "64", "65", "66", "67", "68", "75", "76", "77", "78"]),
       st.text(alphabet="0123456789", min_size=7, max_size=7),
       st.sampled_from(["{0}{1} {2} {3} {4} {5}", "+33 {1}{2}{3}{4}{5}", "0033{1}{2}{3}{4}{5}",
                        "{0}{1}.{2}.{3}.{4}.{5}", "{0}{1}-{2}-{3}-{4}-{5}"]))
def test_french_mobiles_normalize_to_e164(first, rest, fmt):
    d = first + rest  # 9 digits after the trunk 0
    raw = fmt.format("0", d[0:1], d[1:3], d[3:5], d[5:7], d[7:9])
    assert normalize_phone(raw) == f"+33{d}"


def test_overseas_mobiles_in_national_format_get_their_own_country_code():
    assert normalize_phone("0690 12 34 56") == "+590690123456"  # Guadeloupe
    assert normalize_phone("06 39 40 12 34") == "+262639401234"  # Mayotte
    assert normalize_phone("0692 12 34 56") == "+262692123456"  # La Réunion


@pytest.mark.parametrize("raw", ["12", "06 12", "not a phone", "+33 0 00 00 00 00"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(ValueError):
        normalize_phone(raw)


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3),
       st.sampled_from([("g", 1), ("kg", 1000), ("mg", Decimal("0.001"))]))
def test_masses_normalize_to_grams(value, unit):
    name, factor = unit
    expected = (value * Decimal(factor)).quantize(Decimal("0.001"))
    if expected == 0:  # below a milligram: refused rather than silently rounded to nothing
        with pytest.raises(ValueError, match="trop faible"):
            normalize_quantity(value, name)
        return
    assert normalize_quantity(value, name) == (expected, "g")


def test_counts_stay_units_and_must_be_whole():
    assert normalize_quantity(Decimal("12"), "comprimés") == (Decimal("12"), "unit")
    with pytest.raises(ValueError, match="entier"):
        normalize_quantity(Decimal("1.5"), "unit")
    with pytest.raises(ValueError, match="positive"):
        normalize_quantity(Decimal("0"), "g")
    with pytest.raises(ValueError, match="unité inconnue"):
        normalize_quantity(Decimal("1"), "livres")


def test_place_key_folds_accents_case_and_abbreviations():
    assert place_key("12, Av. de l'Île-de-France") == place_key("12 AVENUE DE L ILE DE FRANCE")
    assert place_key("Rte de Dole") == "route de dole"


def test_foreign_plates_fold_to_country_and_compact_form():
    from hub.contract.lead import Vehicle

    assert Vehicle(plate="VD 123 456", plate_country="CH").plate == "CH:VD123456"
    assert Vehicle(plate="vd-123456", plate_country="CH").plate == "CH:VD123456"
    assert Vehicle(plate="1234 BCD", plate_country="ES").plate == "ES:1234BCD"
    # Idempotent: a lead re-validated downstream (connector, then hub) keeps its plate.
    v = Vehicle(plate="1234 BCD", plate_country="ES")
    assert Vehicle.model_validate(v.model_dump()).plate == "ES:1234BCD"
    with pytest.raises(ValueError, match="étrangère"):
        Vehicle(plate="@@", plate_country="NL")
