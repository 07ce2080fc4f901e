"""Sample customs reports for the douanes connector: controls and seizures on the flows through
the CROSS's départements — A36 rest areas (Marchaux, Champoux, Écot), the N57 and the Swiss
border posts (Pontarlier, Jougne, Les Verrières), the A28 near Alençon, the N57 around Épinal —
with routes from Spain, the Netherlands, Belgium and Switzerland.

Observations carry raw identifiers on purpose (names of the persons checked, numbers of seized
phones, an IBAN found on a bank statement) so a test can prove none of them leaves the
connector; a few reports and files are malformed (missing place, unknown substance code, a
"seizure" that seized nothing, a file that is not XML, a billion-laughs file, an XXE file) so a
test can prove they are quarantined.

``write_samples(reports_dir, seed, n)`` returns the ground truth (plain data)::

    {"files": [file names, oldest first],
     "leads": {numero: {"kind", "phones" (E.164), "plates" (normalized, foreign ones CC:COMPACT),
                        "identities" (normalized), "substances" (codes), "cash_eur"}},
     "quarantined": [source ids of the records that must be quarantined],
     "raw_identifiers": [strings that must never appear in what leaves the connector]}
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from connectors.demo.world import (
    PLACES_BY_KEY,
    FakeIdentity,
    jitter_point,
    random_fni_plate,
    random_iban,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from connectors.douanes.source import PARIS
from hub.contract.normalize import normalize_foreign_plate, normalize_phone, normalize_plate

NAMESPACE = "urn:douane:crosshub:constatation:1"
_CHECKPOINTS = [
    ("a36_aire_marchaux", "BSI Besançon"), ("a36_aire_champoux", "BSI Besançon"),
    ("a36_aire_ecot", "BSI Montbéliard"), ("n57_pontarlier", "BSI Pontarlier"),
    ("border_verrieres", "BSI Pontarlier"), ("border_jougne", "BSI Pontarlier"),
    ("n57_cluse_mijoux", "BSI Pontarlier"), ("a28_valframbert", "BSE Alençon"),
    ("n57_epinal", "BSI Épinal"), ("n57_remiremont", "BSI Épinal"),
]
_ORIGINS = [("Barcelone", "ES"), ("Algésiras", "ES"), ("Perpignan", "FR"), ("Rotterdam", "NL"),
            ("Anvers", "BE"), ("Lausanne", "CH"), ("Bâle", "CH"), ("Lyon", "FR")]
_DESTINATIONS = ["Besançon", "Montbéliard", "Épinal", "Alençon", "Mulhouse", "Saint-Dié-des-Vosges"]
# (code, unit, quantity range)
_GOODS = [("RESINE_CANNABIS", "kg", (1, 60)), ("HERBE_CANNABIS", "kg", (1, 25)),
          ("COCAINE", "g", (50, 3000)), ("HEROINE", "g", (50, 1500)), ("MDMA", "unite", (100, 5000)),
          ("KETAMINE", "g", (20, 500)), ("CRACK", "g", (10, 200))]
_FOREIGN_PLATES = {"ES": lambda r: f"{r.randint(1000, 9999)} {''.join(r.choice('BCDFGHJKLMNPRSTVWXYZ') for _ in range(3))}",
                   "NL": lambda r: f"{r.choice('GHJKLN')}{r.choice('BDFGH')}-{r.randint(100, 999)}-{r.choice('BDFGHJ')}",
                   "CH": lambda r: f"{r.choice(['VD', 'NE', 'GE', 'BS'])} {r.randint(10000, 999999)}"}


def _sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 300
        self.truth: dict[str, Any] = {"files": [], "leads": {}, "quarantined": [], "raw_identifiers": []}

    def secret(self, value: str) -> str:
        self.truth["raw_identifiers"].append(value)
        return value

    def report(self, when: datetime) -> Element:
        rng = self.rng
        self.seq += rng.randint(1, 9)
        place_key, service = rng.choice(_CHECKPOINTS)
        place = PLACES_BY_KEY[place_key]
        numero = f"DR-DIJON/{when.year}/{self.seq:06d}"
        seized = rng.random() < 0.7
        r = Element("constatation", numero=numero, version="1")
        _sub(r, "type", "saisie" if seized else "controle")
        _sub(r, "dateHeure", when.replace(tzinfo=None).isoformat(timespec="minutes")
             if rng.random() < 0.5 else when.isoformat(timespec="minutes"))
        _sub(r, "dateRedaction", (when + timedelta(hours=rng.randint(1, 12))).isoformat(timespec="minutes"))
        _sub(r, "service", service)
        lieu = _sub(r, "lieu", codeInsee=place.insee, commune=place.commune)
        _sub(lieu, "libelle", place.label)
        lat, lon = jitter_point(rng, place.lat, place.lon, 150)
        _sub(lieu, "point", lat=f"{lat}", lon=f"{lon}")
        origin, country = rng.choice(_ORIGINS)
        route = _sub(r, "itineraire")
        _sub(route, "origine", origin, pays=country)
        _sub(route, "destination", rng.choice(_DESTINATIONS), pays="FR")

        v = random_vehicle(rng)
        transport = _sub(r, "moyenTransport", type="VU" if v.kind == "van" else "VL")
        plate_country = country if country in _FOREIGN_PLATES and rng.random() < 0.5 else "FR"
        if plate_country == "FR":
            plate = random_siv_plate(rng) if rng.random() < 0.85 else random_fni_plate(
                rng, rng.choice(["25", "39", "70", "88", "61", "13"]))
            plates = [normalize_plate(plate)]
        else:
            plate = _FOREIGN_PLATES[plate_country](rng)
            plates = [normalize_foreign_plate(plate, plate_country)]
        _sub(transport, "immatriculation", plate, pays=plate_country)
        _sub(transport, "marque", v.make)
        _sub(transport, "modele", v.model)
        _sub(transport, "couleur", v.colour)

        people: list[FakeIdentity] = [random_identity(rng, min_age=19)]
        if rng.random() < 0.4:
            people.append(random_identity(rng, min_age=17))
        personnes = _sub(r, "personnes")
        for i, p in enumerate(people):
            el = _sub(personnes, "personne", role="chauffeur" if i == 0 else rng.choice(["passager", "convoyeur"]))
            _sub(el, "nom", p.last_name.upper())
            _sub(el, "prenom", p.first_name)
            _sub(el, "dateNaissance", p.birth_date.isoformat())
            _sub(el, "nationalite", "FR")
            self.secret(f"{p.first_name} {p.last_name}")

        codes, cash = [], None
        if seized:
            goods = _sub(r, "marchandises")
            for code, unit, (lo, hi) in rng.sample(_GOODS, rng.randint(1, 2)):
                qty = Decimal(rng.randint(lo * 10, hi * 10)) / 10 if unit == "kg" else Decimal(rng.randint(lo, hi))
                st = _sub(goods, "stupefiant", code=code)
                _sub(st, "quantite", f"{qty}", unite=unit)
                _sub(st, "conditionnement", "plaquettes" if code == "RESINE_CANNABIS" else "sachets")
                codes.append(code)
            if rng.random() < 0.4:
                cash = Decimal(rng.randint(5, 900) * 50)
                currency = "CHF" if country == "CH" and rng.random() < 0.5 else "EUR"
                _sub(r, "numeraire", f"{cash:.2f}", devise=currency)
                cash = cash if currency == "EUR" else None
        phones = [random_mobile(rng) for _ in range(rng.choice([0, 1, 2]))]
        if phones:
            tels = _sub(r, "telephones")
            for ph in phones:
                _sub(tels, "telephone", ph)
                self.secret(ph)
        driver = people[0]
        notes = [f"Contrôle du véhicule conduit par {driver.first_name} {driver.last_name.upper()}."]
        if seized:
            notes.append("Marchandise dissimulée dans les bas de caisse, détectée par l'équipe cynophile.")
        else:
            notes.append("Fouille négative, forte odeur de cannabis, déclarations incohérentes sur le trajet.")
        if phones:
            notes.append(f"Téléphone saisi, ligne {phones[0]}.")
        if rng.random() < 0.2:
            notes.append(f"Relevé bancaire découvert : IBAN {self.secret(random_iban(rng))}.")
        _sub(r, "observations", " ".join(notes))
        _sub(r, "evaluation", fiabilite=rng.choice("AAB"), credibilite=rng.choice("112"))
        _sub(r, "diffusion", code=rng.choice(["H0", "H1", "H1", "H2"]))
        self.truth["leads"][numero] = {
            "kind": "seizure" if seized else "stop_check",
            "phones": [normalize_phone(p) for p in phones], "plates": plates,
            "identities": [p.normalized for p in people], "substances": codes,
            "cash_eur": f"{cash:.2f}" if cash else None,
        }
        return r

    def spoil(self, r: Element, how: str) -> None:
        numero = r.get("numero", "")
        self.truth["leads"].pop(numero)
        self.truth["quarantined"].append(numero)
        if how == "no_place":
            r.remove(r.find("lieu"))  # type: ignore[arg-type]
        elif how == "unknown_code":
            goods = r.find("marchandises")
            if goods is None:
                goods = _sub(r, "marchandises")
            _sub(goods, "stupefiant", code="POUDRE_BLANCHE")
        elif how == "empty_seizure":
            r.find("type").text = "saisie"  # type: ignore[union-attr]
            for tag in ("marchandises", "numeraire"):
                el = r.find(tag)
                if el is not None:
                    r.remove(el)


_BOMB = """<?xml version="1.0"?>
<!DOCTYPE constatations [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<constatations><constatation numero="BOMB/1"><observations>&lol9;</observations></constatation></constatations>
"""
_XXE = """<?xml version="1.0"?>
<!DOCTYPE constatation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<constatation numero="XXE/1"><type>controle</type><observations>&xxe;</observations></constatation>
"""


def _write(path: Path, data: bytes, mtime: datetime) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def write_samples(reports_dir: Path | str, seed: int = 0, n: int = 30) -> dict[str, Any]:
    """Write ``n`` reports (some files with one, some with several, some namespaced) plus three
    hostile or broken files into ``reports_dir``; return the ground truth (module docstring)."""
    out = Path(reports_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    gen = _Gen(rng)
    when = datetime(2025, 9, 2, 5, 30, tzinfo=PARIS)
    reports = []
    for _ in range(n):
        when += timedelta(hours=rng.randint(3, 50), minutes=rng.randint(0, 59))
        reports.append((when, gen.report(when)))
    for i, how in zip((2, len(reports) // 2, len(reports) - 2), ("no_place", "unknown_code", "empty_seizure"),
                      strict=True):
        if 0 <= i < len(reports):
            gen.spoil(reports[i][1], how)

    emitted = when
    i = 0
    while i < len(reports):
        batch = reports[i:i + rng.choice([1, 1, 2, 3])]
        i += len(batch)
        emitted = batch[-1][0] + timedelta(hours=14)
        numbers = batch[0][1].get("numero", "").replace("/", "-")
        if len(batch) == 1 and rng.random() < 0.5:
            root = batch[0][1]
        else:
            root = Element("constatations", emetteur="DR Dijon", dateEmission=emitted.isoformat())
            root.extend(r for _, r in batch)
        if rng.random() < 0.3:
            root.set("xmlns", NAMESPACE)
        name = f"constatations-{numbers}.xml"
        _write(out / name, tostring(root, encoding="utf-8", xml_declaration=True), emitted)
        gen.truth["files"].append(name)

    for k, (name, data) in enumerate([("zz-export-tronque.xml", b"<constatations><constatation numero="),
                                      ("zz-lol.xml", _BOMB.encode()), ("zz-xxe.xml", _XXE.encode())]):
        _write(out / name, data, emitted + timedelta(minutes=10 + k))
        gen.truth["files"].append(name)
        gen.truth["quarantined"].append(name)
    return gen.truth
