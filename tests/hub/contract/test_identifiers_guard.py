"""The hub's guard against the reporter's identity and control characters (the ``Lead`` contract
with hub.contract.identifiers): every hostile text of the shared corpus is refused under its
exact field path, every legitimate one is accepted; control characters are refused in any text
field under its exact path."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.contract.identifiers import (
    KIND_LABELS_FR,
    find_identifiers,
    identifier_kinds_in,
    redact,
)
from hub.contract.lead import Lead
from hub.contract.validation import item_errors
from tests.corpus.identifiers import HOSTILE, LEGITIMATE, Sample, lead_with, record_outcome


@pytest.mark.parametrize("sample", HOSTILE, ids=[s.id for s in HOSTILE])
def test_hostile_text_is_refused_under_its_field_path(sample: Sample, record_property) -> None:
    try:
        Lead.model_validate(lead_with(sample.field, sample.text))
    except ValidationError as exc:
        errors = item_errors(exc, "leads[0]")
    else:
        errors = []
    refused = [e for e in errors if e.field == f"leads[0].{sample.field}"
               and "non assaini" in e.reason and KIND_LABELS_FR[sample.kind] in e.reason]
    record_outcome(record_property, "garde du hub", sample, detected=bool(refused))
    assert refused, errors


@pytest.mark.parametrize("sample", LEGITIMATE, ids=[s.id for s in LEGITIMATE])
def test_legitimate_text_is_accepted(sample: Sample, record_property) -> None:
    try:
        Lead.model_validate(lead_with(sample.field, sample.text))
    except ValidationError as exc:
        record_outcome(record_property, "garde du hub", sample, detected=True)
        pytest.fail(f"refused: {item_errors(exc, 'leads[0]')}")
    record_outcome(record_property, "garde du hub", sample, detected=False)


def test_corpus_is_big_enough() -> None:
    assert len(HOSTILE) >= 60 and len(LEGITIMATE) >= 60
    assert {s.kind for s in HOSTILE} == {"phone", "email", "iban", "ip"}
    hostile_fields = {s.field for s in HOSTILE}
    assert {"narrative", "location.commune", "location.address", "location.place_label",
            "vehicles[0].make", "vehicles[0].model", "vehicles[0].colour", "deal_point.label",
            "persons[0].description.clothing",
            "persons[0].description.distinctive_marks"} <= hostile_fields


def test_the_reason_names_every_kind_and_never_echoes_the_identifier() -> None:
    text = "Appeler le 06 12 34 56 78 ou écrire à jean.dupont@gmail.com, IBAN FR7630006000011234567890189."
    with pytest.raises(ValidationError) as info:
        Lead.model_validate(lead_with("narrative", text))
    [error] = item_errors(info.value, "x")
    assert error.field == "x.narrative"
    assert "téléphone" in error.reason and "e-mail" in error.reason and "IBAN" in error.reason
    assert "06" not in error.reason and "dupont" not in error.reason and "FR76" not in error.reason


def test_findings_are_spans_of_the_original_text() -> None:
    zw = "\u200b"
    text = f"Tél {zw.join('0612345678')} puis ｊｅａｎ＠ｇｍａｉｌ．ｃｏｍ."
    found = find_identifiers(text)
    assert [f.kind for f in found] == ["phone", "email"]
    assert text[found[0].start:found[0].end] == zw.join("0612345678")
    assert text[found[1].start:found[1].end] == "ｊｅａｎ＠ｇｍａｉｌ．ｃｏｍ"
    assert redact(text, {"phone": "[TEL]", "email": "[EMAIL]", "iban": "[IBAN]", "ip": "[IP]"}) \
        == "Tél [TEL] puis [EMAIL]."


def test_an_iban_is_its_country_length_and_structure_even_with_a_typo() -> None:
    """A mistyped IBAN still names the account: the check digits are not what makes it one.
    What is not an IBAN: an unknown country, a wrong length, letters where the bank code is."""
    assert identifier_kinds_in("FR76 3000 6000 0112 3456 7890 189") == ["IBAN"]
    assert identifier_kinds_in("FR76 3000 6000 0112 3456 7890 188") == ["IBAN"]  # one digit off
    assert identifier_kinds_in("FR77 3000 6000 0112 3456 7890 189") == ["IBAN"]  # check digits off
    assert identifier_kinds_in("XX76 3000 6000 0112 3456 7890 189") == []  # no such country
    assert identifier_kinds_in("FR76 3000 6000 0112 3") == []  # too short for France
    assert identifier_kinds_in("FR76 ABCD 6000 0112 3456 7890 189") == []  # bank code is digits


# --- control characters -------------------------------------------------------------------------

CONTROL_CHARS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066",
                 "\u2069", "\u200e", "\u061c"]
TEXT_FIELDS = ["narrative", "location.commune", "location.address", "location.place_label",
               "vehicles[0].make", "vehicles[0].model", "vehicles[0].colour", "deal_point.label",
               "persons[0].description.clothing", "persons[0].description.distinctive_marks"]


@pytest.mark.parametrize("char", CONTROL_CHARS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARS])
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_control_characters_are_refused_under_the_exact_path(field: str, char: str) -> None:
    with pytest.raises(ValidationError) as info:
        Lead.model_validate(lead_with(field, f"hall{char} 3"))
    errors = item_errors(info.value, "leads[0]")
    assert [e.field for e in errors] == [f"leads[0].{field}"], errors
    assert f"U+{ord(char):04X}" in errors[0].reason and "contrôle" in errors[0].reason


@pytest.mark.parametrize("override,path", [
    ({"source_ref": "PN-1\x00"}, "leads[0].source_ref"),
    ({"phones": ["0612345678", "07\u202e81234567"]}, "leads[0].phones[1]"),
    ({"vehicles": [{"plate": "AB-123\x00-CD"}]}, "leads[0].vehicles[0].plate"),
    ({"reported_at": "2025-07-29T08:00:00+02:00\x00"}, "leads[0].reported_at"),
    ({"kind": "seizure", "seizure": {"substances": [{"substance": "cocaine", "quantity": "3",
                                                     "unit": "g\x1b"}]}},
     "leads[0].seizure.substances[0].unit"),
])
def test_control_characters_in_other_text_fields(override: dict, path: str) -> None:
    from tests.factories import lead

    with pytest.raises(ValidationError) as info:
        Lead.model_validate(lead(**override))
    errors = item_errors(info.value, "leads[0]")
    assert path in [e.field for e in errors], errors
    assert any("contrôle" in e.reason for e in errors if e.field == path)


def test_tab_and_line_breaks_are_allowed_in_a_narrative() -> None:
    ok = Lead.model_validate(lead_with("narrative", "Ligne 1\nLigne 2\r\n\tfin."))
    assert ok.narrative == "Ligne 1\nLigne 2\r\n\tfin."
