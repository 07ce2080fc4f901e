"""Sample LRPPN-style exports for the police connector, modelled on the seeds' cases (domain.md):
the Besançon e-scooter courier of July 2025 and the Saint-Ferjeux arrest of October 2025, the
Alençon Perseigne operation of 13 December 2023, and ordinary field intelligence, stops and
seizures in Besançon (Planoise, Saint-Ferjeux, centre-ville), Alençon and Épinal.

Summaries carry raw identifiers on purpose (suspects' names, phones, an e-mail, an IBAN) so a test
can prove none of them leaves the connector, and a few rows and one file are malformed so a test
can prove they are quarantined without stopping the run.

``write_samples(inbox_dir, seed, n)`` returns the ground truth (plain data)::

    {"files": [file names, in reading order],
     "leads": {numero_procedure: {"kind", "version", "phones" (E.164), "plates" (normalized),
                                  "identities" (normalized), "substances", "cash_eur"}},
     "quarantined": [source ids of the records that must be quarantined],
     "raw_identifiers": [strings that must never appear in what leaves the connector]}
"""

from __future__ import annotations

import csv
import io
import os
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.demo.world import (
    COMMUNES,
    PLACES_BY_KEY,
    FakeIdentity,
    jitter_point,
    random_iban,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from connectors.police.source import COLUMNS, PARIS
from connectors.sanitize import fold
from hub.contract.normalize import normalize_phone, normalize_plate

SERVICE = "DIPN 25"
ROWS_PER_FILE = 12

# (place key, point de deal label or None)
_PLACES = [
    ("bes_planoise_cologne", "Planoise — hall rue de Cologne"),
    ("bes_planoise_piemont", "Planoise — rue du Piémont"),
    ("bes_planoise_vinci", None), ("bes_planoise_europe", None),
    ("bes_stferjeux_dole", None), ("bes_stferjeux_basilique", None),
    ("bes_grande_rue", None), ("bes_place_pasteur", None), ("bes_rue_battant", None),
    ("bes_gare_viotte", None),
    ("aln_perseigne_pascal", "Perseigne — tour Pascal"),
    ("aln_perseigne_peguy", "Perseigne — tour Péguy"), ("aln_courteille", None),
    ("epi_bitola", "Bitola-Champbeauvert"), ("epi_place_vosges", None), ("epi_gare", None),
]
_NATURES = [("signalement", 5), ("surveillance", 2), ("controle", 3), ("interpellation", 3),
            ("perquisition", 2), ("saisie", 2)]
# (label as written in procedures, unit, typical quantity range)
_PRODUCTS = [
    ("résine de cannabis", "g", (8, 1200)), ("herbe de cannabis", "g", (5, 900)),
    ("cocaïne", "g", (2, 150)), ("crack", "g", (1, 60)), ("héroïne", "g", (5, 300)),
    ("kétamine", "g", (2, 80)), ("MDMA", "comprimés", (5, 200)),
]


def _fr(value: Decimal | float) -> str:
    """A French decimal: ``1,2``; thousands with a space (``8 300``)."""
    d = Decimal(str(value)).normalize()
    sign = "-" if d < 0 else ""
    whole, _, frac = f"{abs(d):f}".partition(".")
    return sign + f"{int(whole):,}".replace(",", " ") + ("," + frac if frac else "")


def _person_cell(p: FakeIdentity, role: str) -> str:
    born = "née" if p.sex == "female" else "né"
    return f"{p.last_name.upper()} {p.first_name};{born} le {p.birth_date:%d/%m/%Y};{role}"


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.truth: dict[str, Any] = {"files": [], "leads": {}, "quarantined": [], "raw_identifiers": []}
        self.seq = 4100

    def secret(self, value: str) -> str:
        self.truth["raw_identifiers"].append(value)
        return value

    def numero(self, year: int) -> str:
        self.seq += self.rng.randint(1, 37)
        return f"{year}/{self.seq:06d}"

    def row(self, *, when: datetime, place: str, deal_point: str | None, nature: str,
            persons: list[tuple[FakeIdentity, str]], products: list[tuple[str, Decimal | None, str]],
            cash: Decimal | None = None, weapons: str = "", resume: str = "",
            phones: Sequence[str] = (), vehicle: bool = False, vehicle_kind: str = "",
            **extra: str) -> dict[str, str]:
        rng = self.rng
        pl = PLACES_BY_KEY[place]
        lat, lon = jitter_point(rng, pl.lat, pl.lon, 40)
        plate = make = model = colour = ""
        if vehicle_kind == "trottinette":
            make, model, colour = "Xiaomi", "Electric Scooter 4", "noir"
        elif vehicle:
            v = random_vehicle(rng)
            plate, make, model, colour = random_siv_plate(rng), v.make, v.model, v.colour
            if rng.random() < 0.3:
                plate = plate.replace("-", " ").lower()  # as typed by hand
        numero = self.numero(when.year)
        recorded = when + timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
        produits = "|".join(f"{label}:{_fr(q)} {unit}" if q is not None else label
                            for label, q, unit in products)
        if nature in {"perquisition", "saisie"} and rng.random() < 0.5:
            produits += "|matériel de conditionnement"
        row = {
            "numero_procedure": numero, "version": "1", "service": SERVICE,
            "date_enregistrement": f"{recorded:%d/%m/%Y %H:%M}", "date_faits": f"{when:%d/%m/%Y}",
            "heure_faits": f"{when:%H:%M}", "code_insee": pl.insee,
            "commune": COMMUNES[pl.insee].name, "adresse": pl.address or "", "lieu": pl.label,
            "latitude": _fr(lat), "longitude": _fr(lon), "point_deal": deal_point or "",
            "nature": nature, "origine": extra.get("origine", ""), "immatriculation": plate,
            "marque": make, "modele": model, "couleur": colour, "type_vehicule": vehicle_kind,
            "telephones": "|".join(phones),
            "mis_en_cause": "|".join(_person_cell(p, role) for p, role in persons),
            "produits": produits, "numeraire": _fr(cash) if cash else "", "armes": weapons,
            "resume": resume, "code_diffusion": extra.get("code_diffusion", rng.choice(["H0", "H0", "H1", "H2"])),
            "fiabilite": rng.choice("ABBC"), "credibilite": rng.choice("1223"),
        }
        self.truth["leads"][numero] = {
            "kind": nature, "version": 1,
            "phones": [normalize_phone(p) for p in phones],
            "plates": [normalize_plate(plate)] if plate else [],
            "identities": [p.normalized for p, _ in persons],
            "substances": [label for label, _, _ in products],
            "cash_eur": str(cash) if cash else None,
        }
        for p, _ in persons:
            self.secret(f"{p.first_name} {p.last_name}")
            self.secret(f"{p.last_name.upper()} {p.first_name}")
        for ph in phones:
            self.secret(ph)
        return row

    # --- the seeds' cases ----------------------------------------------------------------------

    def seed_cases(self) -> list[dict[str, str]]:
        rng = self.rng
        rows = []
        # Besançon, end of July 2025: e-scooter courier in the centre → arrests → search.
        courier = random_identity(rng, min_age=18, max_age=24)
        buyer = random_identity(rng, min_age=19, max_age=40)
        line = random_mobile(rng)
        rows.append(self.row(
            when=datetime(2025, 7, 28, 21, 40, tzinfo=PARIS), place="bes_grande_rue", deal_point=None,
            nature="signalement", origine="plateforme", persons=[], products=[("cocaïne", None, "g")],
            vehicle_kind="trottinette",
            resume=f"Livreur à trottinette électrique, sweat noir, sac de livraison. Commandes "
                   f"passées au {line} selon le signalement.", phones=[line]))
        rows.append(self.row(
            when=datetime(2025, 8, 5, 19, 15, tzinfo=PARIS), place="bes_place_pasteur", deal_point=None,
            nature="interpellation", persons=[(courier, "livreur"), (buyer, "acheteur")],
            products=[("cocaïne", Decimal("12.5"), "g"), ("kétamine", Decimal("8"), "g")],
            cash=Decimal("640"), phones=[line], vehicle_kind="trottinette",
            resume=f"Interpellation de {courier.first_name} {courier.last_name.upper()} à la "
                   f"remise d'un pochon à {buyer.first_name} {buyer.last_name}. Téléphone {line} saisi."))
        rows.append(self.row(
            when=datetime(2025, 8, 6, 6, 30, tzinfo=PARIS), place="bes_rue_battant", deal_point=None,
            nature="perquisition", persons=[(courier, "livreur")],
            products=[("kétamine", Decimal("35"), "g"), ("cocaïne", Decimal("48"), "g"),
                      ("résine de cannabis", Decimal("310"), "g"), ("MDMA", Decimal("40"), "comprimés")],
            cash=Decimal("2350"),
            resume=f"Perquisition au domicile de {courier.last_name.upper()} {courier.first_name} : "
                   f"produits conditionnés, numéraire, carnet de comptes."))
        # Besançon, October 2025: tip → arrest in Saint-Ferjeux → home search.
        dealer = random_identity(rng, min_age=20, max_age=35)
        iban = self.secret(random_iban(rng))
        rows.append(self.row(
            when=datetime(2025, 10, 9, 17, 0, tzinfo=PARIS), place="bes_stferjeux_dole", deal_point=None,
            nature="signalement", origine="source", persons=[(dealer, "vendeur")],
            products=[("résine de cannabis", None, "g")],
            resume=f"Trafic de résine depuis un appartement rue de Dole. {dealer.first_name} "
                   f"{dealer.last_name} se fait payer par virement sur le compte {iban}."))
        rows.append(self.row(
            when=datetime(2025, 10, 28, 6, 10, tzinfo=PARIS), place="bes_stferjeux_dole", deal_point=None,
            nature="perquisition", persons=[(dealer, "vendeur")],
            products=[("résine de cannabis", Decimal("0.96"), "kg"), ("herbe de cannabis", Decimal("74"), "g")],
            resume="Perquisition après interpellation à Saint-Ferjeux : un peu moins d'un kilo de "
                   "résine, herbe, sachets de conditionnement."))
        # Alençon, Perseigne, 13 December 2023: 80+ officers.
        crew = [(random_identity(rng, min_age=17, max_age=40), role)
                for role in ("gérant", "vendeur", "vendeur", "guetteur", "cuisinier")]
        rows.append(self.row(
            when=datetime(2023, 12, 13, 6, 0, tzinfo=PARIS), place="aln_perseigne_pascal",
            deal_point="Perseigne — tour Pascal", nature="saisie", persons=crew,
            products=[("résine de cannabis", Decimal("5.4"), "kg"), ("héroïne", Decimal("720"), "g"),
                      ("herbe de cannabis", Decimal("900"), "g"), ("crack", Decimal("150"), "g")],
            cash=Decimal("8300"), weapons="arme de poing:2",
            resume="Opération d'envergure (plus de 80 fonctionnaires) dans le quartier de "
                   "Perseigne : deux points de deal et trois sites de fabrication de crack.",
            code_diffusion="H2"))
        return rows

    def random_row(self, when: datetime) -> dict[str, str]:
        rng = self.rng
        place, deal_point = rng.choice(_PLACES)
        nature = rng.choices([n for n, _ in _NATURES], weights=[w for _, w in _NATURES])[0]
        n_persons = {"signalement": rng.choice([0, 0, 1]), "surveillance": rng.randint(0, 2)}.get(
            nature, rng.randint(1, 3))
        roles = ["vendeur", "guetteur", "livreur", "acheteur", "chauffeur", "fournisseur"]
        persons = [(random_identity(rng), rng.choice(roles)) for _ in range(n_persons)]
        seized = nature in {"interpellation", "perquisition", "saisie"} or (
            nature == "controle" and rng.random() < 0.5)
        products = []
        for label, unit, (lo, hi) in rng.sample(_PRODUCTS, rng.randint(1, 3)):
            qty = Decimal(rng.randint(lo, hi)) if seized else None
            if qty is not None and unit == "g" and qty >= 1000:
                qty, unit = (qty / 1000).quantize(Decimal("0.01")), "kg"
            products.append((label, qty, unit))
        cash = Decimal(rng.randint(2, 400) * 10) if seized and rng.random() < 0.6 else None
        phones = [random_mobile(rng) for _ in range(rng.choice([0, 1, 1, 2]))]
        vehicle = nature in {"controle", "surveillance"} or rng.random() < 0.25
        bits = []
        if persons:
            p = persons[0][0]
            bits.append(f"{p.first_name} {p.last_name.upper()} vu sur place")
        if phones:
            bits.append(f"ligne de commande {phones[0]}")
        if rng.random() < 0.15:
            first = fold(random_identity(rng).first_name).replace(" ", "")
            bits.append("contact du requérant : " + self.secret(f"{first}.{rng.randint(10, 99)}@laposte.net"))
        resume = {
            "signalement": "Va-et-vient d'acheteurs en soirée",
            "surveillance": "Surveillance du point de deal, guetteurs en place",
            "controle": "Contrôle routier, odeur de cannabis dans l'habitacle",
            "interpellation": "Interpellation en flagrant délit de cession",
            "perquisition": "Perquisition au domicile",
            "saisie": "Saisie lors de l'interpellation",
        }[nature] + (" : " + ", ".join(bits) if bits else "") + "."
        return self.row(when=when, place=place, deal_point=deal_point, nature=nature,
                        persons=persons, products=products, cash=cash, phones=phones,
                        vehicle=vehicle, resume=resume,
                        weapons="couteau" if seized and rng.random() < 0.1 else "")


def _malformed(gen: _Gen, good: dict[str, str], how: str) -> dict[str, str]:
    bad = dict(good)
    bad["numero_procedure"] = gen.numero(2025)
    if how == "date":
        bad["date_faits"] = "31/02/2025"
    elif how == "nature":
        bad["nature"] = "garde à vue prolongée"
    elif how == "plate":
        bad["immatriculation"], bad["marque"] = "OO-000-SS", "Peugeot"
    elif how == "product":
        bad["produits"] = "poudre blanche:3 g"
    gen.truth["quarantined"].append(bad["numero_procedure"])
    return bad


def _write(path: Path, rows: list[dict[str, str]], *, bom: bool, mtime: datetime,
           shifted_row: int | None = None) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(COLUMNS)
    for i, row in enumerate(rows):
        cells = [row.get(c, "") for c in COLUMNS]
        if i == shifted_row:
            cells.insert(10, "")  # one cell too many: columns shifted
        w.writerow(cells)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))
    os.replace(tmp, path)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def write_samples(inbox_dir: Path | str, seed: int = 0, n: int = 40) -> dict[str, Any]:
    """Write about ``n`` rows of exports (at least the six seed cases) into ``inbox_dir``, plus one
    unreadable file; return the ground truth (module docstring)."""
    inbox = Path(inbox_dir)
    inbox.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    gen = _Gen(rng)
    rows = gen.seed_cases()
    start = datetime(2025, 9, 1, 8, 0, tzinfo=PARIS)
    # About two hundred rows span a season; more rows come closer together rather than running
    # into the future (the exports' dates, hence their mtimes, must stay in the past).
    pace = min(1.0, 200 / max(1, n))
    for _ in range(max(0, n - len(rows))):
        start += timedelta(hours=rng.randint(2, 40), minutes=rng.randint(0, 59)) * pace
        rows.append(gen.random_row(start.replace(hour=rng.choice([7, 11, 16, 18, 20, 22]))))
    rows.sort(key=lambda r: datetime.strptime(r["date_enregistrement"], "%d/%m/%Y %H:%M"))

    # One of every kind of bad row, spread over the files.
    for i, how in enumerate(["date", "nature", "plate", "product"]):
        at = min(len(rows) - 1, 3 + i * ROWS_PER_FILE // 2)
        rows.insert(at, _malformed(gen, rows[at], how))
    # A procedure updated in a later export: version 2 of the earliest one.
    update = dict(rows[0])
    update["version"], update["resume"] = "2", rows[0]["resume"] + " Signalement recoupé par la BAC."
    rows.append(update)
    gen.truth["leads"][update["numero_procedure"]]["version"] = 2

    chunks = [rows[i:i + ROWS_PER_FILE] for i in range(0, len(rows), ROWS_PER_FILE)]
    exported = datetime(2025, 11, 1, tzinfo=PARIS)
    for k, chunk in enumerate(chunks):
        latest = max(datetime.strptime(r["date_enregistrement"], "%d/%m/%Y %H:%M") for r in chunk)
        exported = max(exported + timedelta(hours=1), latest.replace(tzinfo=PARIS))
        name = f"lrppn-dipn25-{exported:%Y%m%d-%H%M%S}.csv"
        shifted = 5 if k == 0 and len(chunk) > 5 else None
        if shifted is not None:
            gen.truth["leads"].pop(chunk[shifted]["numero_procedure"], None)
            gen.truth["quarantined"].append(chunk[shifted]["numero_procedure"])
        _write(inbox / name, chunk, bom=k % 2 == 0, mtime=exported, shifted_row=shifted)
        gen.truth["files"].append(name)

    # A file that is not an export at all (Latin-1, from a misconfigured workstation).
    broken = f"lrppn-dipn25-{exported + timedelta(hours=1):%Y%m%d-%H%M%S}.csv"
    (inbox / broken).write_bytes("numéro;date\r\n2025/1;01/01/2025\r\n".encode("latin-1"))
    os.utime(inbox / broken, (exported.timestamp(), exported.timestamp()))
    gen.truth["files"].append(broken)
    gen.truth["quarantined"].append(broken)
    return gen.truth
