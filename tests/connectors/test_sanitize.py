"""Sanitization of free text and keyed pseudonyms (connectors.sanitize)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from pydantic import SecretStr

from connectors.models import DraftLead, RawPerson, ReporterIdentity
from connectors.pseudonym import LinkageKey, LinkageKeyring, normalize_identity
from connectors.sanitize import (
    Scrubber,
    fold,
    pseudonymize_persons,
    sanitize_draft,
    scrub_text,
)
from hub.contract.errors import SourceRecordInvalid
from hub.contract.identifiers import identifier_kinds_in
from hub.contract.lead import PSEUDONYM, Lead, LeadKind, SourceChannel, Vehicle
from pydantic import ValidationError
from tests.connectors._harness import MemoryConnector, SourceRecord, env, make_settings  # noqa: F401
from tests.corpus.identifiers import HOSTILE, LEGITIMATE, Sample, lead_with, record_outcome

PLACEHOLDER = {"phone": "[TEL]", "email": "[EMAIL]", "iban": "[IBAN]", "ip": "[IP]"}


@pytest.mark.parametrize("text,placeholder", [
    ("appelle le 06 12 34 56 78 le soir", "[TEL]"),
    ("appelle le 06.12.34.56.78 le soir", "[TEL]"),
    ("appelle le +33 6 12 34 56 78 le soir", "[TEL]"),
    ("appelle le 0033612345678 le soir", "[TEL]"),
    ("appelle le +32 470 12 34 56 (belge)", "[TEL]"),
    ("écrire à dealer.planoise+cmd@exemple.fr vite", "[EMAIL]"),
    ("paie sur FR76 3000 6000 0112 3456 7890 189 chaque lundi", "[IBAN]"),
    ("paie sur fr7630006000011234567890189 chaque lundi", "[IBAN]"),
    ("connecté depuis 203.0.113.77 hier", "[IP]"),
    ("connecté depuis 2001:db8::8a2e:370:7334 hier", "[IP]"),
])
def test_raw_identifiers_become_typed_placeholders(text: str, placeholder: str) -> None:
    out = scrub_text(text)
    assert placeholder in out
    assert identifier_kinds_in(out) == []
    assert not re.search(r"\d\s?\d|@|::", out), out  # nothing of the identifier is left


@pytest.mark.parametrize("text,expected", [
    ("répond au 07.62.11.22.33 et se fait payer sur FR76 3000 6000 0112 3456 7890 189.",
     "répond au [TEL] et se fait payer sur [IBAN]."),
    ("vu le 12 mars, il paie sur FR76 3000 6000 0112 3456 7890 189", "vu le 12 mars, il paie sur [IBAN]"),
    ("le 12 FR7630006000011234567890189", "le 12 [IBAN]"),
])
def test_an_iban_after_a_failed_candidate_is_found(text: str, expected: str) -> None:
    # A two-letter word before two digits (« au 07 », « le 12 ») starts a greedy IBAN candidate
    # that is no IBAN; it must not swallow the start of the IBAN that follows.
    assert scrub_text(text) == expected


def test_ordinary_facts_are_left_alone() -> None:
    text = ("Le 28/07/2025 vers 21h30, 3 pochons de 10 g et 150 € ; scooter AB-123-CD ; "
            "rendez-vous à 12:30:45 hall 3, 25000 Besançon, 1,2 kg de résine.")
    assert scrub_text(text, names=["Durand"]) == text


def test_names_case_accent_insensitive_whole_words() -> None:
    s = Scrubber(names=["Martin", "Éloïse", "Jean-Pierre", "de La Fontaine"])
    out = s.scrub("MARTIN et Mârtin, pas Martinez ni le martinet ; ELOISE, éloïse ; "
                  "jean pierre, JEAN-PIERRE, Jeanpierre ; chez de la Fontaine, fontaine ; la place.")
    assert out == ("[NOM] et [NOM], pas Martinez ni le martinet ; [NOM], [NOM] ; "
                   "[NOM], [NOM], [NOM] ; chez [NOM], [NOM] ; la place.")


def test_placeholders_are_not_rescrubbed() -> None:
    assert Scrubber(names=["Tel", "Nom"]).scrub("06 12 34 56 78, tel et nom") == "[TEL], [NOM] et [NOM]"


def test_reporter_identifiers_in_any_spelling() -> None:
    reporter = ReporterIdentity(name="Éloïse Vauquelin", phone="06 71 23 45 98",
                                email="Eloise.V@Exemple.fr", ip_address="2001:db8::1",
                                account_id="citoyen-48213")
    out = scrub_text("moi, eloise VAUQUELIN, 6 71 23 45 98 / +33 (0)6 71 23 45 98, "
                     "ELOISE.V@EXEMPLE.FR, 2001:db8::1, compte CITOYEN-48213.", reporter=reporter)
    assert out == "moi, [NOM], [TEL] / [TEL], [EMAIL], [IP], compte [ID]."


def _draft(**kw) -> DraftLead:
    base = dict(source_ref="S-1", kind=LeadKind.CITIZEN_REPORT, channel=SourceChannel.CITIZEN_PLATFORM,
                reported_at=datetime.fromisoformat("2025-07-28T10:00:00+02:00"))
    return DraftLead(**(base | kw))


def test_sanitize_draft_drops_reporter_and_normalizes_phones() -> None:
    draft = _draft(
        phones=["06 12 34 56 78", "+33612345678", "07 71 23 45 98", "0771234598"],
        reporter=ReporterIdentity(name="Vauquelin", phone="07 71 23 45 98"),
        narrative_raw="Vauquelin a vu la scène.",
        persons=[RawPerson(last_name="Marchetti", first_name="Kévin")],
    )
    clean = sanitize_draft(draft)
    assert clean.fields["phones"] == ["+33612345678"]  # reporter's own number taken out
    assert clean.fields["narrative"] == "[NOM] a vu la scène."
    assert "reporter" not in clean.fields and "known_names" not in clean.fields


def test_invalid_phone_is_a_bad_record() -> None:
    with pytest.raises(SourceRecordInvalid, match=r"phones\[1\]"):
        sanitize_draft(_draft(phones=["06 12 34 56 78", "12"]))


def keyring(key: str, kid: str = "k1", previous: dict[str, str] | None = None) -> LinkageKeyring:
    return LinkageKeyring(LinkageKey(kid, SecretStr(key)),
                          tuple(LinkageKey(k, SecretStr(v)) for k, v in (previous or {}).items()))


def test_same_identity_same_token_across_connectors(env) -> None:  # noqa: F811
    """Two agencies' connectors sharing the linkage key give the same token for one person."""
    record = SourceRecord(source_id="X", cursor="0", raw={
        "id": "X",
        "persons": [{"last_name": "MARCHETTI", "first_name": "Kévin", "birth_date": "1999-02-03"}]})
    other = dict(record.raw, persons=[{"last_name": "Marchetti", "first_name": "kevin",
                                       "birth_date": "1999-02-03"}])
    police = env.connector([])
    gendarmerie = MemoryConnector(make_settings(env.tmp, env.hub.url, env.key_path, env.source,
                                                agency="gendarmerie"))
    a = police.build_lead(record)
    b = gendarmerie.build_lead(SourceRecord(source_id="Y", cursor="0", raw=other))
    assert a.persons[0].pseudonym == b.persons[0].pseudonym
    assert PSEUDONYM.match(a.persons[0].pseudonym)
    foreign = MemoryConnector(make_settings(env.tmp, env.hub.url, env.key_path, env.source,
                                            linkage_key=SecretStr("another-cross-key-0000000000")))
    assert foreign.build_lead(record).persons[0].pseudonym != a.persons[0].pseudonym


def test_rotation_gives_aliases() -> None:
    identity = normalize_identity("Boughaleb", "Yanis", date(2001, 5, 6))
    old = keyring("old-key-0123456789")
    new = keyring("new-key-9876543210", kid="k2", previous={"k1": "old-key-0123456789"})
    scrub = Scrubber()
    person = RawPerson(last_name="BOUGHALEB", first_name="Yanis", birth_date=date(2001, 5, 6))
    [before] = pseudonymize_persons([person], old, scrub)
    [after] = pseudonymize_persons([person], new, scrub)
    assert before.pseudonym == old.current.pseudonym(identity) and before.aliases == []
    assert after.pseudonym.startswith("ps1:k2:") and after.pseudonym != before.pseudonym
    assert after.aliases == [before.pseudonym]  # the hub can keep links made before rotation


def test_persons_without_full_name_do_not_link_across_leads() -> None:
    ring = keyring("k-0123456789abcdef")
    first_only = RawPerson(last_name="", first_name="Karim")
    [a] = pseudonymize_persons([first_only], ring, Scrubber(), lead_scope="police:A")
    [b] = pseudonymize_persons([first_only], ring, Scrubber(), lead_scope="police:B")
    [a2] = pseudonymize_persons([first_only], ring, Scrubber(), lead_scope="police:A")
    assert a.pseudonym != b.pseudonym and a.pseudonym == a2.pseudonym


def test_duplicate_person_is_merged() -> None:
    ring = keyring("k-0123456789abcdef")
    persons = [RawPerson(last_name="Marchetti", first_name="Kevin"),
               RawPerson(last_name="MARCHETTI", first_name="Kévin", role="seller")]
    [only] = pseudonymize_persons(persons, ring, Scrubber())
    assert only.role == "seller"


def test_descriptions_are_scrubbed() -> None:
    ring = keyring("k-0123456789abcdef")
    person = RawPerson(last_name="Marchetti", first_name="Kevin",
                       description={"clothing": "maillot floqué MARCHETTI",
                                    "distinctive_marks": "tatouage « Kévin » sur l'avant-bras"})
    [ref] = pseudonymize_persons([person], ring, Scrubber(["Marchetti", "Kevin"]))
    assert ref.description.clothing == "maillot floqué [NOM]"
    assert ref.description.distinctive_marks == "tatouage « [NOM] » sur l'avant-bras"


def test_fold() -> None:
    assert fold("Éloïse DUPRÉ-Œuvray ß") == "eloise dupre-œuvray ss"


def test_lead_from_sanitized_draft_is_valid() -> None:
    clean = sanitize_draft(_draft(narrative_raw="06 12 34 56 78 et a@b.fr"))
    lead = Lead.model_validate(clean.lead_fields(agency="police", persons=[]))
    assert lead.narrative == "[TEL] et [EMAIL]"


# --- the shared corpus (tests/corpus/identifiers.py) ---------------------------------------------


@pytest.mark.parametrize("sample", HOSTILE, ids=[s.id for s in HOSTILE])
def test_corpus_hostile_text_is_redacted_and_then_accepted_by_the_hub(sample: Sample,
                                                                      record_property) -> None:
    out = scrub_text(sample.text)
    record_outcome(record_property, "nettoyeur des connecteurs", sample,
                   detected=PLACEHOLDER[sample.kind] in out)
    assert PLACEHOLDER[sample.kind] in out, out
    assert identifier_kinds_in(out) == [], out
    # What the connector sends on, the hub's guard takes, in the same field.
    Lead.model_validate(lead_with(sample.field, out))


@pytest.mark.parametrize("sample", LEGITIMATE, ids=[s.id for s in LEGITIMATE])
def test_corpus_legitimate_text_is_left_alone(sample: Sample, record_property) -> None:
    out = scrub_text(sample.text)
    record_outcome(record_property, "nettoyeur des connecteurs", sample, detected=out != sample.text)
    assert out == sample.text


def test_control_characters_are_dropped_from_free_text() -> None:
    clean = sanitize_draft(_draft(narrative_raw="Va-et-vient\x00 devant le hall\u202e 3\x1b.\tFin\n"))
    assert clean.fields["narrative"] == "Va-et-vient devant le hall 3.\tFin"
    Lead.model_validate(clean.lead_fields(agency="police", persons=[]))


def test_names_hidden_by_zero_width_characters_are_still_scrubbed() -> None:
    assert Scrubber(names=["Dupont"]).scrub("vu Du\u200bpont hier") == "vu [NOM] hier"


def test_an_identifier_in_a_checked_field_makes_the_record_a_bad_one() -> None:
    """Vehicles, communes and descriptions are contract models already when a draft is built: an
    e-mail or a phone there fails the mapping, and the record goes to quarantine."""
    with pytest.raises(ValidationError, match="non assaini"):
        Vehicle(plate="AB-123-CD", make="Peugeot j.d@free.fr")
    with pytest.raises(ValidationError, match="non assaini"):
        Vehicle(plate="AB-123-CD", colour="noir 06 12 34 56 78")
