"""Citizens' platform connector: JSON lines day files, the reporter kept apart and scrubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.base import RunStatus
from connectors.citizen.connector import CitizenConnector, CitizenSettings
from connectors.demo.sources.citizen import write_samples
from hub.contract.errors import SourceRecordInvalid
from hub.contract.lead import Lead, LeadKind, PersonRole, SourceChannel, Substance
from tests.connectors._harness import LINKAGE_KEY, TOKEN, FakeHub, new_key

REPORTER = {"nom": "Lemoine", "prenom": "Odile", "telephone": "06 98 76 54 32",
            "email": "odile.lemoine@orange.fr", "ip": "90.12.34.56", "compte": "usager-481516"}


def report(rid: str = "MSI-2025-0000001", **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": rid, "version": 1, "type": "signalement", "recu_le": "2025-07-28T19:52:10Z",
        "competence": "police", "declarant": dict(REPORTER),
        "faits": {"date": "2025-07-28", "heure": "21:40", "code_insee": "25056", "commune": "Besançon",
                  "lieu": "Grande Rue", "lat": 47.2372, "lon": 6.0238},
        "description": ("Un livreur à trottinette dépose des sachets, il donne le 07 68 42 28 14. "
                        "Je suis Odile Lemoine, rappelez-moi au 06.98.76.54.32 ou odile.lemoine@orange.fr "
                        "(compte usager-481516)."),
        "elements": {"telephones_suspects": ["07 68 42 28 14"], "produits": ["cocaine", "ketamine"],
                     "vehicules": [{"type": "trottinette", "couleur": "noire"}],
                     "personnes": [{"role": "livreur", "sexe": "homme", "age_min": 18, "age_max": 25,
                                    "tenue": "sweat noir, sac de livraison", "corpulence": "mince"}]},
    }
    base.update(extra)
    return base


def connector(tmp_path: Path, agency: str = "police", **extra: Any) -> CitizenConnector:
    (tmp_path / "export").mkdir(exist_ok=True)
    values: dict[str, Any] = dict(
        agency=agency, export_dir=tmp_path / "export", state_dir=str(tmp_path / f"state-{agency}"),
        signing_key_path=str(tmp_path / "k.pem"), linkage_key=SecretStr(LINKAGE_KEY),
    )
    values.update(extra)
    return CitizenConnector(CitizenSettings(**values))


def append(c: CitizenConnector, day: str, *lines: dict[str, Any] | bytes) -> Path:
    path = c.settings.export_dir / f"signalements-{day}.jsonl"
    with path.open("ab") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return path


def test_the_reporter_is_in_draft_reporter_only_and_nowhere_in_the_lead(tmp_path: Path) -> None:
    c = connector(tmp_path)
    append(c, "2025-07-28", report())
    [record] = list(c.collect(None))
    draft = c.map(record)
    assert draft.reporter is not None
    assert (draft.reporter.name, draft.reporter.phone, draft.reporter.email, draft.reporter.ip_address,
            draft.reporter.account_id) == ("Odile Lemoine", "06 98 76 54 32", "odile.lemoine@orange.fr",
                                           "90.12.34.56", "usager-481516")
    # Structured fields carry no trace of the reporter (the raw text is the framework's to scrub).
    structured = json.dumps(draft.model_dump(mode="json", exclude={"reporter", "narrative_raw"}),
                            ensure_ascii=False).lower()
    for value in ("lemoine", "odile", "98 76 54 32", "+33698765432", "orange.fr", "90.12.34.56", "481516"):
        assert value not in structured
    assert draft.phones == ["07 68 42 28 14"]  # the dealer's: lead data

    lead = c.build_lead(record)
    assert (lead.kind, lead.channel, lead.source_agency) == (LeadKind.CITIZEN_REPORT, SourceChannel.CITIZEN_PLATFORM, "police")
    assert lead.phones == ["+33768422814"]
    assert lead.substances == [Substance.COCAINE, Substance.KETAMINE]
    assert lead.observed_at is not None and lead.observed_at.isoformat() == "2025-07-28T21:40:00+02:00"
    [person] = lead.persons
    assert person.role == PersonRole.COURIER and person.description is not None
    assert person.description.clothing == "sweat noir, sac de livraison"
    assert "Véhicule signalé : trottinette, noire" in lead.narrative
    dumped = json.dumps(lead.model_dump(mode="json"), ensure_ascii=False).lower()
    for value in ("lemoine", "odile", "06.98", "98 76", "orange.fr", "90.12.34.56", "481516", "07 68 42"):
        assert value not in dumped
    assert "[nom]" in dumped and "[tel]" in dumped and "[email]" in dumped and "[id]" in dumped


def test_the_reporters_own_phone_given_as_a_suspects_is_dropped(tmp_path: Path) -> None:
    c = connector(tmp_path)
    r = report()
    r["elements"]["telephones_suspects"] = ["07 68 42 28 14", "+33 6 98 76 54 32"]
    append(c, "2025-07-28", r)
    assert c.build_lead(next(c.collect(None))).phones == ["+33768422814"]


def test_an_anonymous_chat_transcript(tmp_path: Path) -> None:
    c = connector(tmp_path)
    append(c, "2025-07-28", report(type="tchat", declarant=None, description="", elements={}, messages=[
        {"auteur": "usager", "horodatage": "2025-07-28T19:40:00Z", "texte": "Deal au pied de l'immeuble."},
        {"auteur": "agent", "horodatage": "2025-07-28T19:41:00Z", "texte": "Merci, à quelle heure ?"},
    ]))
    draft = c.map(next(c.collect(None)))
    assert draft.reporter is None
    assert draft.narrative_raw == ("[21:40] Usager : Deal au pied de l'immeuble.\n"
                                   "[21:41] Agent : Merci, à quelle heure ?")


def test_each_force_takes_its_own_reports(tmp_path: Path) -> None:
    police, gendarmerie = connector(tmp_path), connector(tmp_path, "gendarmerie")
    append(police, "2025-07-28", report("A"), report("B", competence="gendarmerie"), report("C"))
    assert [r.source_id for r in police.collect(None)] == ["A", "C"]
    assert [r.source_id for r in gendarmerie.collect(None)] == ["B"]
    assert police.build_lead(next(gendarmerie.collect(None))).source_agency == "police"  # agency from settings
    with pytest.raises(ValidationError, match="police ou la gendarmerie"):
        connector(tmp_path, "douanes")


def test_cursor_is_a_byte_offset_and_a_line_being_written_waits(tmp_path: Path) -> None:
    c = connector(tmp_path)
    whole = json.dumps(report("B"), ensure_ascii=False).encode() + b"\n"
    path = append(c, "2025-07-28", report("A"), whole[:40])
    [a] = list(c.collect(None))
    assert a.cursor == f"{path.name}@{len(path.read_bytes()) - 40}"
    assert list(c.collect(a.cursor)) == []  # B is not complete yet
    append(c, "2025-07-28", whole[40:])
    [b] = list(c.collect(a.cursor))
    assert b.source_id == "B" and b.cursor == f"{path.name}@{path.stat().st_size}"
    # A new day: the old file is finished, its cut-off tail would be quarantined.
    append(c, "2025-07-28", b'{"id": "COUPE"')
    append(c, "2025-07-29", report("C"))
    cut, c_rec = list(c.collect(b.cursor))
    assert c_rec.source_id == "C"
    with pytest.raises(SourceRecordInvalid, match="tronquée"):
        c.map(cut)
    assert list(c.collect(c_rec.cursor)) == []


@pytest.mark.parametrize("line,reason", [
    (b'{"id": "X", "type": \n', "JSON illisible"),
    (b'["not", "an", "object"]\n', "objet JSON attendu"),
    (b'\xff\xfe{}\n', "JSON illisible"),
])
def test_unreadable_lines_are_invalid(tmp_path: Path, line: bytes, reason: str) -> None:
    c = connector(tmp_path)
    append(c, "2025-07-28", line, report("OK"))
    bad, good = list(c.collect(None))
    with pytest.raises(SourceRecordInvalid, match=reason):
        c.map(bad)
    assert bad.source_id.endswith("@0") and good.source_id == "OK"


@pytest.mark.parametrize("change,error", [
    ({"recu_le": None}, ValidationError),
    ({"type": "courrier"}, ValidationError),
    ({"elements": {"produits": ["farine"]}}, SourceRecordInvalid),
    ({"elements": {"vehicules": [{"type": "char", "marque": "X"}]}}, SourceRecordInvalid),
    ({"elements": {"personnes": [{"role": "vendeur", "age_min": 40, "age_max": 20}]}}, ValidationError),
])
def test_malformed_reports_are_invalid(tmp_path: Path, change: dict[str, Any], error: type[Exception]) -> None:
    c = connector(tmp_path)
    append(c, "2025-07-28", report(**change))
    with pytest.raises(error):
        c.map(next(c.collect(None)))


def test_a_date_of_facts_after_reception_is_dropped_with_a_note(tmp_path: Path) -> None:
    c = connector(tmp_path)
    append(c, "2025-07-28", report(faits={"date": "2025-08-28", "heure": "21:40", "code_insee": "25056",
                                          "commune": "Besançon"}))
    lead = c.build_lead(next(c.collect(None)))
    assert lead.observed_at is None and "postérieure à la réception" in lead.narrative


def test_samples_split_between_the_forces_and_never_leak_the_reporter(tmp_path: Path) -> None:
    truth = write_samples(tmp_path / "export", seed=2, n=40)
    for force in ("police", "gendarmerie"):
        c = connector(tmp_path, force)
        leads, bad = {}, {}
        for record in c.collect(None):
            try:
                leads[record.source_id] = c.build_lead(record)
            except (SourceRecordInvalid, ValueError) as exc:
                bad[record.source_id] = str(exc)
                continue
            reporter = c.map(record).reporter
            expected_reporter = truth["reporters"].get(record.source_id)
            assert (reporter.email if reporter else None) == (expected_reporter or {}).get("email")
        assert sorted(leads) == sorted(truth["leads"][force])
        assert sorted(bad) == sorted(truth["quarantined"][force])
        assert truth["pending"] not in leads
        for rid, expected in truth["leads"][force].items():
            lead = leads[rid]
            Lead.model_validate(lead.model_dump(mode="json"))
            assert lead.source_agency == force and lead.phones == expected["phones"]
            assert [v.plate for v in lead.vehicles] == expected["plates"]
            assert len(lead.persons) == expected["persons"]
        dumped = json.dumps([lead.model_dump(mode="json") for lead in leads.values()], ensure_ascii=False).lower()
        assert [x for x in truth["raw_identifiers"] if x.lower() in dumped] == []


def test_whole_pipeline(tmp_path: Path) -> None:
    key_path, pem = new_key(tmp_path, "citizen")
    hub = FakeHub([pem]).start()
    try:
        truth = write_samples(tmp_path / "export", seed=8, n=30)
        c = connector(tmp_path, "gendarmerie", hub_url=hub.url, hub_token=SecretStr(TOKEN),
                      signing_key_path=str(key_path), batch_size=6)
        run = c.run()
        assert run.status == RunStatus.OK, run.last_error
        assert {ref for _, ref in hub.leads} == set(truth["leads"]["gendarmerie"])
        assert run.count_quarantined == len(truth["quarantined"]["gendarmerie"])
        sent = hub.all_bytes().decode().lower()
        assert [x for x in truth["raw_identifiers"] if x.lower() in sent] == []
        assert c.run().count_in == 0
    finally:
        hub.stop()
