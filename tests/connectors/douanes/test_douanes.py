"""Customs connector: XML constatations on a read-only share."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import RunStatus
from connectors.demo.sources.douanes import write_samples
from connectors.douanes.connector import DouanesConnector, DouanesSettings
from connectors.douanes.source import ReportFileUnreadable, parse_xml, split_reports
from hub.contract.errors import SourceRecordInvalid
from hub.contract.lead import Lead, LeadKind, PersonRole, SourceChannel, Substance
from tests.connectors._harness import LINKAGE_KEY, TOKEN, FakeHub, new_key

REPORT = """<constatation numero="{numero}" version="{version}">
  <type>{type}</type>
  <dateHeure>2025-10-27T22:40:00</dateHeure>
  <dateRedaction>2025-10-28T09:12:00+01:00</dateRedaction>
  <lieu codeInsee="25318" commune="Jougne">
    <libelle>Poste de Jougne-Vallorbe</libelle><point lat="46.743" lon="6.379"/>
  </lieu>
  <itineraire><origine pays="CH">Lausanne</origine><destination pays="FR">Besançon</destination></itineraire>
  <moyenTransport type="VU"><immatriculation pays="FR">ab-123-cd</immatriculation>
    <marque>Renault</marque><modele>Trafic</modele><couleur>blanc</couleur></moyenTransport>
  <personnes>
    <personne role="chauffeur"><nom>HADDAD</nom><prenom>Walid</prenom><dateNaissance>1991-04-02</dateNaissance></personne>
    <personne role="passager"><nom>DIALLO</nom><prenom>Moussa</prenom></personne>
  </personnes>
  {goods}
  <telephones><telephone>06 12 34 56 78</telephone></telephones>
  <observations>Walid HADDAD déclare un trajet professionnel ; ligne 06 12 34 56 78.</observations>
  <evaluation fiabilite="A" credibilite="1"/>
  <diffusion code="H1" restreintA="police gendarmerie"/>
</constatation>"""
GOODS = """<marchandises>
    <stupefiant code="RESINE_CANNABIS"><quantite unite="kg">5.4</quantite></stupefiant>
    <stupefiant code="MDMA"><quantite unite="unite">250</quantite></stupefiant>
  </marchandises>
  <materielConditionnement/>
  <numeraire devise="EUR">8300.00</numeraire>
  <armes><arme type="ARME_POING" nombre="2"/></armes>"""


def report(numero: str = "DR-DIJON/2025/000001", *, version: int = 1, type: str = "saisie",
           goods: str = GOODS) -> str:
    return REPORT.format(numero=numero, version=version, type=type, goods=goods)


def connector(tmp_path: Path, **extra: Any) -> DouanesConnector:
    (tmp_path / "share").mkdir(exist_ok=True)
    values: dict[str, Any] = dict(
        reports_dir=tmp_path / "share", state_dir=str(tmp_path / "state"),
        signing_key_path=str(tmp_path / "k.pem"), linkage_key=SecretStr(LINKAGE_KEY), settle_s=0,
    )
    values.update(extra)
    return DouanesConnector(DouanesSettings(**values))


def write(c: DouanesConnector, name: str, body: str, *, age_s: float = 60, wrap: bool = False) -> Path:
    path = c.settings.reports_dir / name
    path.write_text(f"<constatations>{body}</constatations>" if wrap else body, encoding="utf-8")
    at = time.time() - age_s
    os.utime(path, (at, at))
    return path


def test_a_seizure_report_maps_field_by_field(tmp_path: Path) -> None:
    c = connector(tmp_path)
    write(c, "a.xml", report())
    [record] = list(c.collect(None))
    lead = c.build_lead(record)
    assert (lead.source_agency, lead.kind, lead.channel) == ("douanes", LeadKind.SEIZURE, SourceChannel.CUSTOMS_CONTROL)
    assert lead.observed_at is not None and lead.observed_at.isoformat() == "2025-10-27T22:40:00+01:00"
    assert lead.location is not None and lead.location.insee_code == "25318"
    assert lead.vehicles[0].plate == "AB-123-CD" and lead.vehicles[0].kind == "van"
    assert [p.role for p in lead.persons] == [PersonRole.DRIVER, PersonRole.UNKNOWN]
    assert lead.seizure is not None
    assert [(s.substance, s.quantity, s.unit) for s in lead.seizure.substances] == [
        (Substance.CANNABIS_RESIN, Decimal("5400.000"), "g"), (Substance.MDMA, Decimal("250"), "unit")]
    assert lead.seizure.cash_eur == Decimal("8300.00") and lead.seizure.packaging_material
    assert lead.phones == ["+33612345678"] and lead.restricted_to == ["police", "gendarmerie"]
    assert lead.narrative == ("[NOM] déclare un trajet professionnel ; ligne [TEL].\n"
                              "Itinéraire déclaré : Lausanne (CH) → Besançon (FR)")


def test_a_control_without_goods_is_a_stop_check_and_foreign_cash_stays_in_text(tmp_path: Path) -> None:
    c = connector(tmp_path)
    write(c, "a.xml", report(type="controle", goods=""))
    write(c, "b.xml", report("DR/2", type="controle", goods='<numeraire devise="CHF">12000</numeraire>'))
    a, b = (c.build_lead(r) for r in c.collect(None))
    assert a.kind == LeadKind.STOP_CHECK and a.seizure is None
    assert b.seizure is None and "12000 CHF" in b.narrative


def test_a_foreign_plate_is_kept_with_its_country(tmp_path: Path) -> None:
    c = connector(tmp_path)
    write(c, "a.xml", report().replace('<immatriculation pays="FR">ab-123-cd', '<immatriculation pays="ES">1234 bcd'))
    lead = c.build_lead(next(c.collect(None)))
    assert (lead.vehicles[0].plate, lead.vehicles[0].plate_country) == ("ES:1234BCD", "ES")
    Lead.model_validate(lead.model_dump(mode="json"))  # and the hub takes it again


def test_several_reports_per_file_and_a_namespace(tmp_path: Path) -> None:
    c = connector(tmp_path)
    body = report("DR/1") + report("DR/2", type="controle", goods="") + report("DR/3")
    write(c, "batch.xml", f'<constatations xmlns="urn:douane:crosshub:constatation:1">{body}</constatations>')
    records = list(c.collect(None))
    assert [r.source_id for r in records] == ["DR/1", "DR/2", "DR/3"]
    assert [r.cursor.rsplit("|", 1)[1] for r in records] == ["1", "2", "*"]
    assert [c.build_lead(r).kind for r in records] == [LeadKind.SEIZURE, LeadKind.STOP_CHECK, LeadKind.SEIZURE]


def test_cursor_by_mtime_and_name_resumes_and_sees_rewritten_files(tmp_path: Path) -> None:
    c = connector(tmp_path)
    write(c, "b.xml", report("DR/B1") + report("DR/B2"), wrap=True, age_s=50)
    write(c, "a.xml", report("DR/A"), age_s=100)  # older file, read first whatever its name
    records = list(c.collect(None))
    assert [r.source_id for r in records] == ["DR/A", "DR/B1", "DR/B2"]
    assert [r.source_id for r in c.collect(records[1].cursor)] == ["DR/B2"]
    assert list(c.collect(records[-1].cursor)) == []
    write(c, "a.xml", report("DR/A", version=2), age_s=10)  # rewritten: newer mtime
    [again] = list(c.collect(records[-1].cursor))
    assert again.source_id == "DR/A" and c.map(again).version == 2


def test_a_file_still_being_written_waits(tmp_path: Path) -> None:
    c = connector(tmp_path, settle_s=30)
    write(c, "a.xml", report(), age_s=1)
    write(c, "a.xml.tmp", report(), age_s=100)
    assert list(c.collect(None)) == []


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE constatation [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
 <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<constatation numero="X"><observations>&i;</observations></constatation>"""


@pytest.mark.parametrize("data", [
    BILLION_LAUGHS,
    '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><constatation numero="X">&x;</constatation>',
    '<?xml version="1.0"?><!DOCTYPE c SYSTEM "http://127.0.0.1:9/dtd"><constatation numero="X"/>',
])
def test_entity_expansion_and_external_entities_are_refused(tmp_path: Path, data: str) -> None:
    started = time.monotonic()
    with pytest.raises(ReportFileUnreadable, match="DTD ou entités interdites"):
        split_reports(data.encode())
    assert time.monotonic() - started < 0.5
    c = connector(tmp_path)
    write(c, "hostile.xml", data)
    [record] = list(c.collect(None))
    assert record.source_id == "hostile.xml" and "root:" not in json.dumps(record.raw)
    with pytest.raises(SourceRecordInvalid, match="DTD"):
        c.map(record)


@pytest.mark.parametrize("xml,reason", [
    (report().replace("<type>saisie</type>", "<type>saisie</type><couleurDuCiel/>"), "inconnu"),
    (report().replace(' numero="DR-DIJON/2025/000001"', ""), "numero"),
    (report().replace('<lieu codeInsee="25318" commune="Jougne">', "<lieuX>").replace("</lieu>", "</lieuX>"), "lieu"),
    (report().replace('code="MDMA"', 'code="POUDRE"'), "code inconnu"),
    (report().replace('unite="kg"', 'unite="sac"'), "code inconnu"),
    (report().replace("2025-10-27T22:40:00", "27/10/2025"), "ISO 8601"),
    (report().replace("<nom>DIALLO</nom>", ""), "nom et prénom"),
    (report().replace('nombre="2"', 'nombre="deux"'), "entier"),
    (report(goods=""), "sans marchandise"),
])
def test_malformed_reports_are_invalid(tmp_path: Path, xml: str, reason: str) -> None:
    c = connector(tmp_path)
    write(c, "a.xml", xml)
    with pytest.raises(SourceRecordInvalid, match=reason):
        c.map(next(c.collect(None)))


def test_wrong_roots_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ReportFileUnreadable, match="racine"):
        split_reports(b"<rapport/>")
    with pytest.raises(ReportFileUnreadable, match="inattendu"):
        split_reports(b"<constatations><constatation numero='1'/><autre/></constatations>")
    with pytest.raises(ReportFileUnreadable, match="mal formé"):
        parse_xml(b"<constatation numero='1'>")


def test_samples_become_valid_leads(tmp_path: Path) -> None:
    c = connector(tmp_path)
    truth = write_samples(c.settings.reports_dir, seed=4, n=30)
    leads, bad = {}, {}
    for record in c.collect(None):
        try:
            leads[record.source_id] = c.build_lead(record)
        except (SourceRecordInvalid, ValueError) as exc:
            bad[record.source_id] = str(exc)
    assert sorted(bad) == sorted(truth["quarantined"]), bad
    assert sorted(leads) == sorted(truth["leads"])
    keyring = c.keyring()
    for numero, expected in truth["leads"].items():
        lead = leads[numero]
        Lead.model_validate(lead.model_dump(mode="json"))
        assert lead.kind == expected["kind"] and lead.phones == expected["phones"]
        assert [v.plate for v in lead.vehicles] == expected["plates"]
        assert [p.pseudonym for p in lead.persons] == [keyring.pseudonymize(i)[0] for i in expected["identities"]]
        if expected["cash_eur"]:
            assert lead.seizure is not None and lead.seizure.cash_eur == Decimal(expected["cash_eur"])
    dumped = json.dumps([lead.model_dump(mode="json") for lead in leads.values()], ensure_ascii=False).lower()
    assert [x for x in truth["raw_identifiers"] if x.lower() in dumped] == []


def test_whole_pipeline_reads_the_share_once_and_writes_nothing_there(tmp_path: Path) -> None:
    key_path, pem = new_key(tmp_path, "douanes")
    hub = FakeHub([pem]).start()
    try:
        c = connector(tmp_path, hub_url=hub.url, hub_token=SecretStr(TOKEN), signing_key_path=str(key_path),
                      batch_size=5)
        truth = write_samples(c.settings.reports_dir, seed=9, n=20)
        before = sorted(p.name for p in c.settings.reports_dir.iterdir())
        run = c.run()
        assert run.status == RunStatus.OK, run.last_error
        assert run.count_quarantined == len(truth["quarantined"])
        assert {ref for _, ref in hub.leads} == set(truth["leads"])
        assert sorted(p.name for p in c.settings.reports_dir.iterdir()) == before
        assert c.run().count_in == 0
    finally:
        hub.stop()
