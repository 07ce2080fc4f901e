"""Police connector: LRPPN-style CSV exports in an inbox directory."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from connectors.base import RunStatus
from connectors.demo.sources.police import write_samples
from connectors.police.connector import PoliceConnector, PoliceSettings
from connectors.police.source import COLUMNS, parse_products, parse_suspects
from connectors.pseudonym import normalize_identity
from hub.contract.errors import ConfigurationError, SourceRecordInvalid
from hub.contract.lead import Lead, LeadKind, PersonRole, Substance
from tests.connectors._harness import LINKAGE_KEY, TOKEN, FakeHub, new_key

HEADER = ";".join(COLUMNS)


def connector(tmp_path: Path, **extra: Any) -> PoliceConnector:
    values: dict[str, Any] = dict(
        inbox_dir=tmp_path / "inbox", state_dir=str(tmp_path / "state"),
        signing_key_path=str(tmp_path / "key.pem"), linkage_key=SecretStr(LINKAGE_KEY), settle_s=0,
    )
    values.update(extra)
    (tmp_path / "inbox").mkdir(exist_ok=True)
    return PoliceConnector(PoliceSettings(**values))


def row(**cells: str) -> str:
    base = {"numero_procedure": "2025/000001", "date_faits": "28/07/2025", "heure_faits": "21:40",
            "code_insee": "25056", "commune": "Besançon", "nature": "signalement"}
    base.update(cells)
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="").writerow([base.get(c, "") for c in COLUMNS])
    return buf.getvalue()


def drop(inbox: Path, name: str, *rows: str, bom: bool = False) -> Path:
    path = inbox / name
    path.write_bytes(("\ufeff" if bom else "").encode() + "\r\n".join([HEADER, *rows, ""]).encode())
    return path


def build_all(c: PoliceConnector, cursor: str | None = None) -> tuple[dict[str, Lead], dict[str, str]]:
    ok: dict[str, Lead] = {}
    bad: dict[str, str] = {}
    for record in c.collect(cursor):
        try:
            ok[record.source_id] = c.build_lead(record)
        except (SourceRecordInvalid, ValueError) as exc:
            bad[record.source_id] = str(exc)
    return ok, bad


def test_samples_become_valid_leads_and_bad_rows_are_quarantined(tmp_path: Path) -> None:
    c = connector(tmp_path)
    truth = write_samples(c.settings.inbox_dir, seed=7, n=40)
    leads, bad = build_all(c)

    assert sorted(bad) == sorted(truth["quarantined"])
    assert sorted(leads) == sorted(truth["leads"])
    keyring = c.keyring()
    for ref, expected in truth["leads"].items():
        lead = leads[ref]
        Lead.model_validate(lead.model_dump(mode="json"))  # what the hub will re-validate
        assert lead.source_agency == "police" and lead.version == expected["version"]
        assert lead.kind == {"signalement": LeadKind.FIELD_INTELLIGENCE, "surveillance": LeadKind.SURVEILLANCE,
                             "controle": LeadKind.STOP_CHECK, "interpellation": LeadKind.ARREST,
                             "perquisition": LeadKind.SEARCH, "saisie": LeadKind.SEIZURE}[expected["kind"]]
        assert lead.phones == expected["phones"]
        assert [v.plate for v in lead.vehicles if v.plate] == expected["plates"]
        assert {p.pseudonym for p in lead.persons} == {
            keyring.pseudonymize(i)[0] for i in expected["identities"]}
        if expected["cash_eur"]:
            assert lead.seizure is not None and lead.seizure.cash_eur == Decimal(expected["cash_eur"])
        assert lead.observed_at is not None and lead.observed_at.utcoffset() is not None
    dumped = json.dumps([lead.model_dump(mode="json") for lead in leads.values()], ensure_ascii=False).lower()
    leaked = [x for x in truth["raw_identifiers"] if x.lower() in dumped]
    assert leaked == []
    assert "[nom]" in dumped and "[tel]" in dumped and "[iban]" in dumped


def test_french_formats_bom_decimals_dates_and_persons(tmp_path: Path) -> None:
    c = connector(tmp_path)
    drop(c.settings.inbox_dir, "lrppn-20251028-064000.csv", row(
        numero_procedure="2025/004217", nature="perquisition", date_faits="28/10/2025", heure_faits="06:10",
        date_enregistrement="28/10/2025 14:02", latitude="47,23", longitude="6,0", adresse="Rue de Dole",
        immatriculation="1234 ab 25", marque="Renault", modele="Clio", type_vehicule="VL",
        telephones="06 12 34 56 78|07.98.76.54.32, 0612345678",
        mis_en_cause="DE LA FONTAINE Jean-Pierre;né le 03/02/1999;vendeur|M'BALA Inès;née le 1/1/2001;guetteur",
        produits="résine de cannabis:0,96 kg|herbe:74 g|MDMA:20 comprimés|cocaïne|matériel de conditionnement",
        numeraire="6 515,50 €", armes="arme de poing:2|couteau",
        resume="Jean-Pierre DE LA FONTAINE joignable au 06 12 34 56 78.",
        code_diffusion="h1", fiabilite="b", credibilite="2"), bom=True)
    [record] = list(c.collect(None))
    draft = c.map(record)
    assert draft.observed_at == datetime.fromisoformat("2025-10-28T06:10:00+01:00")  # winter time
    assert draft.reported_at.isoformat() == "2025-10-28T14:02:00+01:00"
    assert [(p.last_name, p.first_name, p.birth_date, p.role) for p in draft.persons] == [
        ("DE LA FONTAINE", "Jean-Pierre", date(1999, 2, 3), PersonRole.SELLER),
        ("M'BALA", "Inès", date(2001, 1, 1), PersonRole.LOOKOUT)]
    lead = c.build_lead(record)
    assert lead.kind == LeadKind.SEARCH and lead.vehicles[0].plate == "1234-AB-25"
    assert lead.phones == ["+33612345678", "+33798765432"]
    assert lead.location is not None and lead.location.point is not None
    assert (lead.location.point.lat, lead.location.point.lon) == (47.23, 6.0)
    assert lead.seizure is not None
    assert [(s.substance, s.quantity, s.unit) for s in lead.seizure.substances] == [
        (Substance.CANNABIS_RESIN, Decimal("960.000"), "g"), (Substance.CANNABIS_HERB, Decimal("74.000"), "g"),
        (Substance.MDMA, Decimal("20"), "unit")]
    assert lead.seizure.cash_eur == Decimal("6515.50") and lead.seizure.packaging_material
    assert [(w.kind.value, w.count) for w in lead.seizure.weapons] == [("handgun", 2), ("blade", 1)]
    assert lead.substances == [Substance.COCAINE]  # named without a quantity: mentioned, not seized
    assert lead.narrative == "[NOM] joignable au [TEL]."
    assert (lead.handling_code, lead.source_reliability, lead.information_credibility) == ("H1", "B", "2")


def test_summer_time_and_a_signalement_keeps_weapons_in_text(tmp_path: Path) -> None:
    c = connector(tmp_path)
    drop(c.settings.inbox_dir, "a.csv", row(armes="arme de poing", numeraire="300", produits="crack"))
    lead = c.build_lead(next(c.collect(None)))
    assert lead.observed_at == datetime.fromisoformat("2025-07-28T21:40:00+02:00")
    assert lead.seizure is None and lead.substances == [Substance.CRACK]
    assert "1 × handgun" in lead.narrative and "300 €" in lead.narrative


@pytest.mark.parametrize("cells,reason", [
    ({"date_faits": "2025-07-28"}, "JJ/MM/AAAA"),
    ({"heure_faits": "25:99"}, "HH:MM"),
    ({"nature": "garde à vue"}, "nature inconnue"),
    ({"produits": "poudre:3 g"}, "produit inconnu"),
    ({"produits": "cocaïne:trois g"}, "quantité illisible"),
    ({"numeraire": "beaucoup"}, "numeraire"),
    ({"mis_en_cause": "jean dupont;né le 01/01/2000"}, "indiscernables"),
    ({"nature": "saisie"}, "sans produit pesé"),
    ({"numero_procedure": ""}, "numero_procedure vide"),
])
def test_a_malformed_row_is_invalid_with_a_reason(tmp_path: Path, cells: dict[str, str], reason: str) -> None:
    c = connector(tmp_path)
    drop(c.settings.inbox_dir, "a.csv", row(**cells))
    with pytest.raises(SourceRecordInvalid, match=reason):
        c.map(next(c.collect(None)))


def test_contract_errors_surface_as_validation_errors(tmp_path: Path) -> None:
    c = connector(tmp_path)
    drop(c.settings.inbox_dir, "a.csv", row(immatriculation="OO-000-SS"), row(code_insee="2505"))
    for record in c.collect(None):
        with pytest.raises(ValidationError):
            c.map(record)


def test_shifted_columns_and_unreadable_files(tmp_path: Path) -> None:
    c = connector(tmp_path)
    inbox = c.settings.inbox_dir
    drop(inbox, "a.csv", row(numero_procedure="2025/1"), row(numero_procedure="2025/2") + ";en trop",
         row(numero_procedure="2025/3"))
    (inbox / "b.csv").write_bytes("numéro;date\r\n1;2\r\n".encode("latin-1"))
    (inbox / "c.csv").write_text("foo;bar\r\n1;2\r\n")
    leads, bad = build_all(c)
    assert sorted(leads) == ["2025/1", "2025/3"]
    assert "cellule(s) en trop" in bad["2025/2"]
    assert "UTF-8" in bad["b.csv"] and "colonnes absentes" in bad["c.csv"]


def test_cursor_resumes_inside_a_file_and_skips_a_finished_one(tmp_path: Path) -> None:
    c = connector(tmp_path)
    inbox = c.settings.inbox_dir
    drop(inbox, "lrppn-1.csv", *(row(numero_procedure=f"2025/{i}") for i in range(1, 4)))
    drop(inbox, "lrppn-2.csv", row(numero_procedure="2025/9"))
    records = list(c.collect(None))
    assert [r.cursor for r in records] == ["lrppn-1.csv#1", "lrppn-1.csv#2", "lrppn-1.csv#end", "lrppn-2.csv#end"]
    assert [r.source_id for r in c.collect("lrppn-1.csv#1")] == ["2025/2", "2025/3", "2025/9"]
    # The cursor's file finished but still in the inbox (crash before the move): moved, not re-read.
    assert [r.source_id for r in c.collect("lrppn-1.csv#end")] == ["2025/9"]
    assert (inbox / "processed" / "lrppn-1.csv").exists()


def test_processed_files_are_moved_aside_once_finished(tmp_path: Path) -> None:
    c = connector(tmp_path)
    inbox = c.settings.inbox_dir
    drop(inbox, "lrppn-1.csv", row(numero_procedure="2025/1"), row(numero_procedure="2025/2"))
    records = list(c.collect(None))
    c.on_committed(records[:1])
    assert (inbox / "lrppn-1.csv").exists()  # half read: stays
    c.on_committed(records[1:])
    assert not (inbox / "lrppn-1.csv").exists() and (inbox / "processed" / "lrppn-1.csv").exists()
    # The same name dropped again is read, and kept beside the first when moved.
    drop(inbox, "lrppn-1.csv", row(numero_procedure="2025/3"))
    again = list(c.collect(None))
    c.on_committed(again)
    assert len(list((inbox / "processed").iterdir())) == 2


def test_files_still_being_written_hidden_or_empty(tmp_path: Path) -> None:
    c = connector(tmp_path, settle_s=30)
    inbox = c.settings.inbox_dir
    fresh = drop(inbox, "fresh.csv", row())
    drop(inbox, ".hidden.csv", row())
    drop(inbox, "export.csv.part", row())
    empty = drop(inbox, "empty.csv")
    old = time.time() - 60
    os.utime(empty, (old, old))
    assert list(c.collect(None)) == []
    assert not empty.exists() and (inbox / "processed" / "empty.csv").exists()
    os.utime(fresh, (old, old))
    assert [r.raw["file"] for r in c.collect(None)] == ["fresh.csv"]


def test_parsers() -> None:
    products, packaging = parse_products("Cocaïne : 1,5 kg | sachets de conditionnement | ecstasy:12 comprimés")
    assert [(p.substance, p.quantity, p.unit) for p in products] == [
        (Substance.COCAINE, Decimal("1.5"), "kg"), (Substance.MDMA, Decimal("12"), "comprimés")]
    assert packaging
    [s] = parse_suspects("DUPONT Éric-Jean")
    assert (s.last_name, s.first_name, s.birth_date, s.role) == ("DUPONT", "Éric-Jean", None, PersonRole.UNKNOWN)


def test_whole_pipeline_pushes_quarantines_and_empties_the_inbox(tmp_path: Path) -> None:
    key_path, pem = new_key(tmp_path, "police")
    hub = FakeHub([pem]).start()
    try:
        c = connector(tmp_path, hub_url=hub.url, hub_token=SecretStr(TOKEN),
                      signing_key_path=str(key_path), batch_size=7)
        truth = write_samples(c.settings.inbox_dir, seed=3, n=30)
        run = c.run()
        assert run.status == RunStatus.OK, run.last_error
        assert run.count_quarantined == len(truth["quarantined"])
        assert {ref for _, ref in hub.leads} == set(truth["leads"])
        assert all(hub.held[("police", ref)] == t["version"] for ref, t in truth["leads"].items())
        assert [p.name for p in c.settings.inbox_dir.iterdir()] == ["processed"]
        assert sorted(p.name for p in c.settings.processed_path.iterdir()) == sorted(truth["files"])
        sent = hub.all_bytes().decode().lower()
        assert [x for x in truth["raw_identifiers"] if x.lower() in sent] == []
        assert c.run().count_in == 0  # nothing left to read
    finally:
        hub.stop()


def test_pseudonyms_link_the_same_person_across_rows(tmp_path: Path) -> None:
    c = connector(tmp_path)
    person = "DURAND Kévin;né le 14/03/1998;livreur"
    drop(c.settings.inbox_dir, "a.csv", row(numero_procedure="2025/1", mis_en_cause=person),
         row(numero_procedure="2025/2", mis_en_cause="DURAND Kevin;né le 14/03/1998"))
    a, b = (c.build_lead(r) for r in c.collect(None))
    expected = c.keyring().pseudonymize(normalize_identity("Durand", "Kévin", date(1998, 3, 14)))[0]
    assert a.persons[0].pseudonym == b.persons[0].pseudonym == expected


def test_a_bad_cursor_is_our_configuration_error(tmp_path: Path) -> None:
    c = connector(tmp_path)
    with pytest.raises(ConfigurationError):
        list(c.collect("no-position"))
