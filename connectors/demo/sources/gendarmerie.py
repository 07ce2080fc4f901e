"""Sample gendarmerie feed records: the gendarmerie's side of the CROSS — flow controls on the A36,
the N57 and the A28 (units checking road flows from neighbouring départements), intelligence from
human sources, surveillance, arrests and searches in the rural and peri-urban communes of the
Doubs, the Orne and the Vosges (police zones are left to the police).

Summaries carry raw identifiers on purpose (names, phones, an e-mail, an IBAN); persons are either
identified or only described (clothing, build); some records are re-published in later versions,
several share one ``updated_at`` (a batch import) so ties span pages, and a few are malformed.

``write_samples(store, seed, n)`` fills a record store (``gendarmerie_feed.RecordStore``, which
serves them as the feed) and returns the ground truth::

    {"order": [ids in feed order (updated_at, id)],
     "leads": {id: {"kind", "version", "phones" (E.164), "plates", "identities" (normalized),
                    "persons" (count, identified or not), "cash_eur"}},
     "quarantined": [ids (or None for the record without an id) that must be quarantined],
     "raw_identifiers": [strings that must never appear in what leaves the connector]}
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from connectors.demo.world import (
    COMMUNES,
    PLACES,
    POLICE_ZONE,
    jitter_point,
    random_iban,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from connectors.gendarmerie.source import TYPES
from hub.contract.normalize import normalize_phone, normalize_plate

PARIS = ZoneInfo("Europe/Paris")
_ROADS = [p for p in PLACES if p.kind in {"road", "border"}]
_RURAL = [c for c in COMMUNES.values() if c.insee not in POLICE_ZONE]
_UNITS = {"25": ["COB Saint-Vit", "BR Pontarlier", "PSIG Besançon", "COB Baume-les-Dames"],
          "61": ["BR Alençon", "PSIG Alençon", "COB Sées"],
          "88": ["BR Épinal", "PSIG Épinal", "COB Thaon-les-Vosges"]}
_TYPES = [("renseignement", 5), ("surveillance", 2), ("controle_flux", 4), ("interpellation", 2),
          ("perquisition", 1), ("saisie", 2)]
_SEIZED = [("resine", "kg", (1, 40)), ("herbe", "kg", (1, 15)), ("cocaine", "g", (20, 900)),
           ("heroine", "g", (20, 700)), ("mdma", "u", (20, 600)), ("ketamine", "g", (10, 200)),
           ("crack", "g", (5, 120))]
_CLOTHING = ["doudoune noire, casquette", "survêtement gris, sacoche en bandoulière",
             "veste kaki, capuche relevée", "jogging noir, baskets blanches"]
_MARKS = ["tatouage sur la main droite", "cicatrice à l'arcade", None, None]


class RecordSink(Protocol):
    """Where the records go: what ``write_samples`` needs of the feed's ``RecordStore`` (the
    generator does not import the server, the server's command line imports the generator)."""

    def put(self, record: dict[str, Any], *, key_time: datetime | None = None,
            record_id: str | None = None) -> None: ...

    def ids(self) -> list[str]: ...


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 1000
        self.truth: dict[str, Any] = {"order": [], "leads": {}, "quarantined": [], "raw_identifiers": []}

    def secret(self, value: str) -> str:
        self.truth["raw_identifiers"].append(value)
        return value

    def record(self, updated: datetime) -> dict[str, Any]:
        rng = self.rng
        typ = rng.choices([t for t, _ in _TYPES], weights=[w for _, w in _TYPES])[0]
        if typ == "controle_flux":
            road = rng.choice(_ROADS)
            insee, commune, label, (lat, lon) = road.insee, road.commune, road.label, jitter_point(
                rng, road.lat, road.lon, 200)
        else:
            c = rng.choice(_RURAL)
            insee, commune, label = c.insee, c.name, None
            lat, lon = jitter_point(rng, c.lat, c.lon, 900)
        self.seq += rng.randint(1, 5)
        rid = f"GN-{insee[:2]}-{updated.year}-{self.seq:06d}"
        observed = updated - timedelta(hours=rng.randint(2, 72))
        identified = [random_identity(rng) for _ in range(
            {"renseignement": rng.choice([0, 1]), "surveillance": 0}.get(typ, rng.randint(1, 2)))]
        described = rng.randint(1, 2) if typ in {"renseignement", "surveillance"} else 0
        persons: list[dict[str, Any]] = []
        for p in identified:
            persons.append({"nom": p.last_name.upper(), "prenom": p.first_name,
                            "date_naissance": p.birth_date.isoformat(),
                            "role": rng.choice(["vendeur", "livreur", "chauffeur", "fournisseur"])})
        for _ in range(described):
            lo = rng.choice([16, 18, 20, 25, 30])
            persons.append({"role": rng.choice(["vendeur", "guetteur"]), "signalement": {
                "sexe": "M", "age_min": lo, "age_max": lo + 5, "taille_cm": rng.randint(165, 192),
                "corpulence": rng.choice(["mince", "moyenne", "forte", "athletique"]),
                "tenue": rng.choice(_CLOTHING), "signes": rng.choice(_MARKS)}})
        vehicles, plates = [], []
        if typ in {"controle_flux", "surveillance"} or rng.random() < 0.3:
            v, plate = random_vehicle(rng), random_siv_plate(rng)
            vehicles.append({"immatriculation": plate, "marque": v.make, "modele": v.model,
                             "couleur": v.colour, "genre": "VU" if v.kind == "van" else "VP"})
            plates.append(normalize_plate(plate))
        phones = [random_mobile(rng) for _ in range(rng.choice([0, 1, 1, 2]))]
        seizure = None
        if typ in {"interpellation", "perquisition", "saisie"} or (typ == "controle_flux" and rng.random() < 0.5):
            produits = []
            for code, unit, (lo_q, hi_q) in rng.sample(_SEIZED, rng.randint(1, 3)):
                q = Decimal(rng.randint(lo_q * 10, hi_q * 10)) / 10 if unit == "kg" else Decimal(rng.randint(lo_q, hi_q))
                produits.append({"code": code, "quantite": str(q), "unite": unit})
            seizure = {"produits": produits, "conditionnement": rng.random() < 0.4,
                       "numeraire_eur": str(rng.randint(1, 300) * 20) if rng.random() < 0.5 else None,
                       "armes": [{"type": "poing", "nombre": 1}] if rng.random() < 0.1 else []}
        text = {
            "renseignement": "Source fiable : revente régulière à domicile, passages fréquents le soir.",
            "surveillance": "Surveillance discrète : allers-retours entre le parking et l'immeuble.",
            "controle_flux": "Contrôle de flux en provenance d'un département limitrophe.",
            "interpellation": "Interpellation à l'issue d'une transaction.",
            "perquisition": "Perquisition au domicile sur commission rogatoire.",
            "saisie": "Saisie consécutive au contrôle.",
        }[typ]
        if identified:
            p = identified[0]
            text += f" {p.first_name} {p.last_name.upper()} est connu du service."
            for q in identified:
                self.secret(f"{q.first_name} {q.last_name}")
        if phones:
            text += f" Commandes par SMS au {phones[0]}."
            for ph in phones:
                self.secret(ph)
        if rng.random() < 0.15:
            text += f" Paiements sur le compte {self.secret(random_iban(rng))}."
        if rng.random() < 0.1:
            text += f" Adresse de contact utilisée : {self.secret(f'plan.{rng.randint(100, 999)}@proton.me')}."
        record = {
            "id": rid, "version": 1, "created_at": _iso(updated), "updated_at": _iso(updated),
            "type": typ, "origine": {"controle_flux": "patrouille", "renseignement": "source_humaine"}.get(typ, "enquete"),
            "unite": rng.choice(_UNITS[insee[:2]]),
            "date_faits": observed.astimezone(PARIS).isoformat(),
            "lieu": {"code_insee": insee, "commune": commune, "repere": label, "lat": lat, "lon": lon},
            "vehicules": vehicles, "individus": persons, "telephones": phones,
            "produits_mentionnes": [] if seizure else rng.sample(["resine", "herbe", "cocaine"], rng.randint(1, 2)),
            "saisie": seizure, "resume": text,
            "evaluation": {"fiabilite": rng.choice("ABBC"), "credibilite": rng.choice("1223")},
            "diffusion": {"code": rng.choice(["H0", "H1", "H1", "H2"]), "restreint_a": []},
        }
        self.truth["leads"][rid] = {
            "kind": TYPES[typ].value, "version": 1, "phones": [normalize_phone(p) for p in phones],
            "plates": plates, "identities": [p.normalized for p in identified],
            "persons": len(persons), "cash_eur": seizure["numeraire_eur"] if seizure else None,
        }
        return record


def write_samples(store: RecordSink, seed: int = 0, n: int = 60) -> dict[str, Any]:
    """Put ``n`` records in ``store`` (plus re-published versions and malformed records); return
    the ground truth (module docstring)."""
    rng = random.Random(seed)
    gen = _Gen(rng)
    at = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)
    records: list[tuple[datetime, dict[str, Any]]] = []
    batch_left = 0
    for i in range(n):
        if batch_left:
            batch_left -= 1  # a batch import: same updated_at
        else:
            at += timedelta(minutes=rng.randint(20, 600), microseconds=rng.randint(0, 999_999))
            batch_left = 6 if i == n // 3 else 0
        records.append((at, gen.record(at)))

    # Re-published versions: later updated_at, version + 1.
    for _, rec in rng.sample(records, min(3, len(records))):
        at += timedelta(hours=rng.randint(1, 20))
        rec.update(version=rec["version"] + 1, updated_at=_iso(at),
                   resume=rec["resume"] + " Complément : recoupement avec la CROSS.")
        gen.truth["leads"][rec["id"]]["version"] = rec["version"]
    for _, rec in records:
        store.put(rec)

    # Malformed records, each at its own place in the feed.
    spoilers = [
        ("no_insee", lambda r: r["lieu"].pop("code_insee")),
        ("unknown_type", lambda r: r.update(type="tapage_nocturne")),
        ("bad_plate", lambda r: r.update(vehicules=[{"immatriculation": "OO-000-SS", "marque": "Renault"}])),
        ("bad_phone", lambda r: r.update(telephones=["06 12"])),
        ("half_name", lambda r: r.update(individus=[{"nom": "SANSPRENOM", "role": "vendeur"}])),
        ("bad_updated_at", lambda r: r.update(updated_at="hier soir")),
    ]
    for how, spoil in spoilers:
        at += timedelta(minutes=rng.randint(5, 90))
        rec = gen.record(at)
        spoil(rec)
        gen.truth["leads"].pop(rec["id"])
        gen.truth["quarantined"].append(rec["id"])
        store.put(rec, key_time=at)
    # An item without an id at all.
    at += timedelta(minutes=7)
    store.put({"updated_at": _iso(at), "type": "renseignement"}, record_id="~sans-id", key_time=at)
    gen.truth["quarantined"].append(None)
    gen.truth["order"] = store.ids()
    return gen.truth
