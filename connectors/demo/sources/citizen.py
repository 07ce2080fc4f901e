"""Sample exports of the citizens' platform, modelled on the seeds (domain.md): the Besançon
e-scooter courier reported in July 2025, deal points at the foot of Planoise and Perseigne
buildings, traffic around Épinal's stations, and reports from the gendarmerie's rural communes.

Reporters identify themselves in their text on purpose — name, own phone, e-mail, account id —
as citizens do, while the platform attaches their contact details (name, phone, e-mail, IP,
account); some also give a dealer's phone in the structured fields (lead data). A few lines are
malformed (broken JSON, a missing timestamp, an unknown product code, a wrong INSEE code), an
older day file ends with a cut-off line, and the newest ends with a line still being written.

``write_samples(export_dir, seed, n)`` returns the ground truth (plain data)::

    {"files": [day files, oldest first],
     "leads": {"police": {id: {...}}, "gendarmerie": {id: {...}}}, each lead:
              {"phones" (suspects', E.164), "plates", "persons" (described), "substances"},
     "reporters": {id: {"name", "phone", "email", "ip", "account"}},
     "quarantined": {"police": [source ids], "gendarmerie": [source ids]},
     "pending": id of the line still being written,
     "raw_identifiers": [the reporters' identifiers: never in what leaves the connector]}
"""

from __future__ import annotations

import json
import random
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.citizen.source import PARIS
from connectors.demo.world import (
    COMMUNES,
    PLACES,
    POLICE_ZONE,
    jitter_point,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from hub.contract.normalize import normalize_phone, normalize_plate

_URBAN = [p for p in PLACES if p.insee in POLICE_ZONE and p.kind in {"deal_point", "street", "station", "residence"}]
_RURAL = [c for c in COMMUNES.values() if c.insee not in POLICE_ZONE]
_PRODUCTS = ["resine_cannabis", "herbe_cannabis", "cocaine", "crack", "heroine", "mdma_ecstasy", "ketamine"]
_CLOTHING = ["doudoune noire", "survêtement blanc et casquette", "sweat à capuche gris", "veste en jean"]
_FACTS = [
    "Tous les soirs entre 20h et 23h, des allers-retours de voitures qui s'arrêtent deux minutes.",
    "Un jeune fait le guet en bas de l'immeuble et siffle quand une voiture de police passe.",
    "Des échanges de petits sachets contre de l'argent devant le hall, plusieurs fois par heure.",
    "Une forte odeur de cannabis dans la cage d'escalier et des clients qui sonnent la nuit.",
]


def _ascii(text: str) -> str:
    s = unicodedata.normalize("NFKD", text)
    return "".join(c for c in s if not unicodedata.combining(c)).lower().replace(" ", "")


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 7300
        self.truth: dict[str, Any] = {
            "files": [], "leads": {"police": {}, "gendarmerie": {}}, "reporters": {},
            "quarantined": {"police": [], "gendarmerie": []}, "pending": None, "raw_identifiers": [],
        }

    def report(self, received: datetime, *, courier: bool = False) -> dict[str, Any]:
        rng = self.rng
        self.seq += rng.randint(1, 11)
        rid = f"MSI-{received.year}-{self.seq:07d}"
        urban = courier or rng.random() < 0.7
        if courier:
            place = next(p for p in PLACES if p.key == "bes_grande_rue")
        if urban:
            place = place if courier else rng.choice(_URBAN)
            insee, commune, label, address = place.insee, place.commune, place.label, place.address
            lat, lon = jitter_point(rng, place.lat, place.lon, 60)
        else:
            c = rng.choice(_RURAL)
            insee, commune, label, address = c.insee, c.name, None, None
            lat, lon = jitter_point(rng, c.lat, c.lon, 700)
        competence = "police" if insee in POLICE_ZONE else "gendarmerie"
        observed = (received - timedelta(hours=rng.randint(1, 48))).astimezone(PARIS)

        me = random_identity(rng, min_age=25, max_age=75, female_share=0.5)
        anonymous = rng.random() < 0.2
        declarant = None if anonymous else {
            "nom": me.last_name, "prenom": me.first_name, "telephone": random_mobile(rng),
            "email": f"{_ascii(me.first_name)}.{_ascii(me.last_name)}{rng.randint(1, 99)}@orange.fr",
            "ip": f"{rng.choice([82, 86, 90, 92, 176])}.{rng.randint(1, 254)}.{rng.randint(0, 254)}.{rng.randint(1, 254)}",
            "compte": f"usager-{rng.randint(100000, 999999)}",
        }
        dealer = random_mobile(rng) if courier or rng.random() < 0.5 else None
        vehicles, plates = [], []
        if courier:
            vehicles.append({"type": "trottinette", "couleur": "noire"})
        elif rng.random() < 0.4:
            v, plate = random_vehicle(rng), random_siv_plate(rng)
            vehicles.append({"immatriculation": plate.lower().replace("-", " ") if rng.random() < 0.3 else plate,
                             "marque": v.make, "modele": v.model, "couleur": v.colour, "type": "voiture"})
            plates.append(normalize_plate(plate))
        persons = [{"role": rng.choice(["vendeur", "guetteur", "livreur"]) if not courier else "livreur",
                    "sexe": "homme", "age_min": 17, "age_max": 25, "tenue": rng.choice(_CLOTHING),
                    "corpulence": rng.choice(["mince", "moyenne", "sportive"])}
                   for _ in range(rng.randint(0, 2) if not courier else 1)]
        products = ["cocaine", "ketamine"] if courier else rng.sample(_PRODUCTS, rng.randint(1, 2))

        fact = ("Un livreur à trottinette électrique dépose des commandes dans le centre-ville, "
                "sac de livraison sur le dos." if courier else rng.choice(_FACTS))
        if dealer:
            fact += f" Le numéro qui circule pour commander : {dealer}."
        own = ""
        if declarant:
            own = rng.choice([
                f" Je suis {me.first_name} {me.last_name}, vous pouvez me rappeler au {declarant['telephone']}.",
                f" Mon adresse mail : {declarant['email']} (compte {declarant['compte']}).",
                f" Signé {me.first_name.upper()} {me.last_name.upper()}, tél. {declarant['telephone']}.",
            ])
        report: dict[str, Any] = {
            "id": rid, "version": 1, "recu_le": received.astimezone(UTC).isoformat(timespec="seconds"),
            "competence": competence, "categorie": "stupefiants", "declarant": declarant,
            "faits": {"date": observed.date().isoformat(), "heure": observed.strftime("%H:%M"),
                      "code_insee": insee, "commune": commune, "adresse": address, "lieu": label,
                      "lat": lat, "lon": lon},
            "elements": {"telephones_suspects": [dealer] if dealer else [], "vehicules": vehicles,
                         "produits": products, "personnes": persons,
                         "point_deal": label if urban and place.kind == "deal_point" else None},
        }
        if rng.random() < 0.4 and not courier:
            report["type"] = "tchat"
            t = received - timedelta(minutes=12)
            lines = [("usager", "Bonsoir, je voudrais signaler un trafic de stupéfiants près de chez moi."),
                     ("agent", "Bonsoir, je vous écoute. Pouvez-vous préciser le lieu, les horaires et "
                               "décrire les personnes ?"),
                     ("usager", f"{label or commune}. {fact}"),
                     ("agent", "Merci, c'est très précis. Souhaitez-vous être recontacté ?"),
                     ("usager", ("Oui." + own) if own else "Non, je préfère rester anonyme.")]
            report["messages"] = [{"auteur": a, "horodatage": (t + timedelta(minutes=2 * i)).astimezone(UTC).isoformat(),
                                   "texte": x} for i, (a, x) in enumerate(lines)]
        else:
            report["type"] = "signalement"
            report["description"] = f"{fact}{own}"
        self.truth["leads"][competence][rid] = {
            "phones": [normalize_phone(dealer)] if dealer else [], "plates": plates,
            "persons": len(persons), "substances": products,
        }
        if declarant:
            self.truth["reporters"][rid] = {
                "name": f"{me.first_name} {me.last_name}", "phone": declarant["telephone"],
                "email": declarant["email"], "ip": declarant["ip"], "account": declarant["compte"]}
            self.truth["raw_identifiers"] += [me.last_name, declarant["telephone"], declarant["email"],
                                              declarant["ip"], declarant["compte"]]
        return report

    def spoil(self, report: dict[str, Any], how: str) -> None:
        competence = report["competence"]
        self.truth["leads"][competence].pop(report["id"])
        self.truth["quarantined"][competence].append(report["id"])
        if how == "no_timestamp":
            report.pop("recu_le")
        elif how == "unknown_product":
            report["elements"]["produits"] = ["poudre_de_perlimpinpin"]
        elif how == "bad_insee":
            report["faits"]["code_insee"] = "2505"
        elif how == "ages":
            report["elements"]["personnes"] = [{"role": "vendeur", "age_min": 40, "age_max": 20}]


def write_samples(export_dir: Path | str, seed: int = 0, n: int = 40) -> dict[str, Any]:
    """Write ``n`` reports over several day files in ``export_dir`` (plus the broken lines of the
    module docstring); return the ground truth."""
    out = Path(export_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    gen = _Gen(rng)
    received = datetime(2025, 7, 28, 19, 52, tzinfo=PARIS)
    reports = [(received, gen.report(received, courier=True))]
    for _ in range(n - 1):
        received += timedelta(hours=rng.randint(1, 9), minutes=rng.randint(0, 59))
        reports.append((received, gen.report(received)))
    for i, how in zip((3, 9, 15, 21), ("no_timestamp", "unknown_product", "bad_insee", "ages"), strict=True):
        if i < len(reports) - 1:
            gen.spoil(reports[i][1], how)

    days: dict[str, list[dict[str, Any]]] = {}
    for at, r in reports:
        days.setdefault(f"{at:%Y-%m-%d}", []).append(r)
    unroutable = [f for f in gen.truth["quarantined"].values()]  # both forces see these
    for k, day in enumerate(sorted(days)):
        name = f"signalements-{day}.jsonl"
        lines = [json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in days[day]]
        if k == 1:  # a line of broken JSON...
            lines.insert(1, b'{"id": "MSI-CASSE", "type": "signal\n')
            for force in unroutable:
                force.append(f"{name}@{len(lines[0])}")
            # ...and, at the end, a line cut off by a crash of the platform (never completed).
            lines.append(b'{"id": "MSI-COUPE", "recu_le": "2025-')
            for force in unroutable:
                force.append(f"{name}@{sum(map(len, lines[:-1]))}")
        if k == len(days) - 1 and len(lines) > 1:  # the platform is still writing the last line
            pending = days[day][-1]
            lines[-1] = lines[-1][: len(lines[-1]) // 2]
            gen.truth["pending"] = pending["id"]
            gen.truth["leads"][pending["competence"]].pop(pending["id"], None)
            for force in unroutable:
                if pending["id"] in force:
                    force.remove(pending["id"])
        (out / name).write_bytes(b"".join(lines))
        gen.truth["files"].append(name)
    return gen.truth
