"""The analysts' latency benchmark, on a generated graph of at least one million nodes.

Measures, warm (after a warm-up of each query shape), over random anchors, both through the real
policy path of a gendarmerie analyst (active grants read from the graph, compiled filter,
``CASE`` evaluated per lead) and unrestricted:

- ``graph.read.network`` at depth 2 and depth 3 (default ``max_nodes``), anchors drawn evenly
  among vehicles, persons and phones;
- ``graph.analysis.shortest_paths`` between two entities joined within 2 to 4 hops (pairs found
  by random walks through the graph), ``max_hops`` 4;
- ``graph.analysis.copresence`` at a busy place over a 30-day window;
- ``graph.analysis.hotspots`` of a département, the last 30 days against the 90 before.

Prints p50 / p95 / max per analysis and filter, and the p95 of network depth 2 (≤ 50 ms) and
hotspots (≤ 200 ms) against their targets. Each analysis runs its warm-up anchors, then one
untimed pass over every measured anchor (plans cached, pages touched, the server's JIT warm on
those paths), then the timed pass; Python's collector runs between queries, never inside one.
Anchors, pairs, places, départements and windows are drawn from fixed seeds.

The graph is synthetic (``SyntheticWorld``), not the demo world: the demo draws its places from
a list of ~40 real ones, so at 300,000 leads each would hold thousands of leads a year. Here
places cluster by commune, communes by département (a dozen of them, sized by population), and
actors follow a heavy tail: most plates, phones and pseudonyms appear in one to three leads,
the members of a few very active crews in dozens or hundreds. Times span one year. Leads are
real ``hub.contract.lead.Lead`` objects written by ``graph.leads.write_leads``.

On 2 cores the build (~380,000 leads, ~1.01 M nodes, ~2.4 M relationships) takes ~4–5 minutes
and the whole first run ~7; keep the graph with ``--data-dir``: the local server's store stays
there, and a later run whose graph holds ≥ 1,000,000 nodes and the marker of the same seed skips
the build (``--rebuild`` forces it). The local server gets 2 GB of heap and 2 GB of page cache
(``--heap``, ``--pagecache``), and the run reads the store once (``prewarm``) before measuring,
as a server in service would hold it. Run:

    .venv/bin/python bench/analysis.py --data-dir ~/.cache/crosshub/bench-analysis [--queries 200]

The growth curve: ``--sizes 1M,3M,10M --import`` measures one graph per size, each built
offline once by ``bench/bulk.py`` (the same world written as CSV in the shape ``write_leads``
gives the graph, loaded by ``neo4j-admin database import full`` from the cached Neo4j runtime,
then the hub's schema) and kept under ``DATA_DIR/imported/<size>-g<generator>-s<seed>/`` (its
CSV in ``csv/``, its server in ``neo4j/``); then prints p50 / p95 per size side by side:

    .venv/bin/python bench/analysis.py --data-dir ~/.cache/crosshub/bench-analysis \
        --sizes 1M,3M,10M --import --only net2,net3,hotspots

Every size's world has the same twelve départements, so a département's leads grow with the
graph: at 10 M nodes one holds what a national graph's biggest would, the hotspots figures
are a bound from above.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import hashlib
import itertools
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from policies.loader import load_policy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver
from neo4j.exceptions import Neo4jError
from connectors.demo.world import COMMUNES as REAL_COMMUNES
from connectors.demo.world import random_mobile, random_siv_plate
from graph import identity
from graph.access import AccessFilter
from graph.analysis import copresence, hotspots, shortest_paths
from graph.analysis.models import CopresenceParams, HotspotParams, PathParams
from graph.driver import open_driver, reset_database, wait_ready
from graph.setup import apply_schema
from graph.handle import Graph
from graph.labels import EntityKind, Label
from graph.leads import write_leads
from graph.read import network
from graph.server import RUNTIME_DIR_ENV, LocalNeo4j
from hub.access import access_filter_for
from hub.contract.errors import InvalidInput, NotFound
from hub.contract.lead import (
    Agency,
    DealPoint,
    GeoPoint,
    HandlingCode,
    InformationCredibility,
    Lead,
    LeadKind,
    Location,
    PersonRef,
    PersonRole,
    PhysicalDescription,
    Seizure,
    SourceChannel,
    SourceReliability,
    Substance,
    SubstanceQuantity,
    Vehicle,
    Weapon,
    WeaponKind,
)
from hub.settings import Settings

TARGET_DEPTH2_P95_MS = 50.0
# p95 targets printed against (issue 13): an interactive link chart and map.
TARGETS_P95_MS = {"network depth 2": TARGET_DEPTH2_P95_MS, "hotspots, département, 30 d vs 90": 200.0}
MIN_NODES = 1_000_000
MARKER = "analysis-1m"
# The generated year ends here (fixed, so a seed gives the same graph whatever the day).
END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN_DAYS = 365
CHUNK = 5000

# --- the synthetic world ---------------------------------------------------------------------

# (code, name, lat, lon of the centre, weight ~ population in millions). The three départements
# of the seeds plus big ones, so a département holds from ~2 % to ~15 % of the leads.
DEPARTEMENTS: list[tuple[str, str, float, float, float]] = [
    ("13", "Bouches-du-Rhône", 43.52, 5.10, 2.0),
    ("59", "Nord", 50.45, 3.20, 2.6),
    ("69", "Rhône", 45.85, 4.65, 1.9),
    ("93", "Seine-Saint-Denis", 48.91, 2.48, 1.7),
    ("33", "Gironde", 44.83, -0.58, 1.6),
    ("31", "Haute-Garonne", 43.40, 1.25, 1.4),
    ("44", "Loire-Atlantique", 47.30, -1.70, 1.4),
    ("67", "Bas-Rhin", 48.60, 7.55, 1.1),
    ("06", "Alpes-Maritimes", 43.90, 7.15, 1.1),
    ("25", "Doubs", 47.17, 6.35, 0.55),
    ("61", "Orne", 48.60, 0.10, 0.28),
    ("88", "Vosges", 48.20, 6.40, 0.36),
]

_NAME_HEADS = ("Saint-", "Sainte-", "", "", "", "Le ", "La ", "Les ", "Villers-", "Mont-")
_NAME_ROOTS = ("Martin", "Pierre", "Vallon", "Montfort", "Beaulieu", "Villeneuve", "Fontaine",
               "Roche", "Bois", "Champagne", "Marais", "Verger", "Chêne", "Moulin", "Prés",
               "Clairvaux", "Aubigny", "Bellevue", "Rivière", "Côte", "Étang", "Val", "Tilleul")
_NAME_TAILS = ("", "", "", "-sur-Loire", "-les-Bains", "-le-Château", "-en-Plaine", "-la-Forêt",
               "-sur-Mer", "-d'en-Haut", "-le-Vieux")
_STREETS = ("rue de la République", "avenue Jean-Jaurès", "rue Victor-Hugo", "boulevard Gambetta",
            "rue Pasteur", "place de la Mairie", "rue du Général-de-Gaulle", "avenue de la Gare",
            "rue des Lilas", "allée des Tilleuls", "rue Jules-Ferry", "rue de l'Église",
            "avenue du Stade", "rue des Écoles", "chemin du Moulin", "rue de la Paix",
            "impasse des Acacias", "rue Émile-Zola", "place du Marché", "rue du Château",
            "boulevard de l'Europe", "rue Anatole-France", "avenue des Champs", "rue Voltaire",
            "rue Carnot", "rue de Verdun", "avenue Foch", "rue du Stade", "rue des Roses",
            "rue Louis-Pergaud", "quai de la Loire", "cours Mirabeau", "rue Saint-Exupéry")
_SPOT_LABELS = ("Hall d'immeuble", "Pied d'immeuble", "Parking de la résidence", "Abords du collège",
                "Arrêt de bus", "Square", "Parvis", "Cage d'escalier")
_CLOTHING = ("survêtement noir, casquette", "doudoune noire à capuche", "parka kaki",
             "sacoche en bandoulière, baskets blanches", "jean, sweat à capuche beige",
             "veste en cuir noire", "blouson noir, tour de cou", "bob noir, t-shirt blanc")
_VEHICLES = (("Renault", "Clio", "car"), ("Peugeot", "208", "car"), ("Peugeot", "308", "car"),
             ("Citroën", "C3", "car"), ("Volkswagen", "Golf", "car"), ("Audi", "A3", "car"),
             ("BMW", "Série 1", "car"), ("Mercedes", "Classe A", "car"), ("Dacia", "Sandero", "car"),
             ("Renault", "Kangoo", "van"), ("Yamaha", "TMAX", "scooter"), ("Seat", "Leon", "car"))
_COLOURS = ("noire", "blanche", "grise", "bleue", "rouge", "argent")

_KINDS: dict[LeadKind, float] = {
    LeadKind.CITIZEN_REPORT: 0.24, LeadKind.FIELD_INTELLIGENCE: 0.15, LeadKind.SURVEILLANCE: 0.12,
    LeadKind.STOP_CHECK: 0.15, LeadKind.VIDEO_PROTECTION: 0.06, LeadKind.ARREST: 0.08,
    LeadKind.SEARCH: 0.06, LeadKind.SEIZURE: 0.10, LeadKind.LANDLORD_REPORT: 0.04,
}
_AGENCIES: dict[LeadKind, dict[Agency, float]] = {
    LeadKind.CITIZEN_REPORT: {Agency.POLICE: 0.6, Agency.GENDARMERIE: 0.4},
    LeadKind.FIELD_INTELLIGENCE: {Agency.POLICE: 0.35, Agency.GENDARMERIE: 0.3,
                                  Agency.POLICE_JUDICIAIRE: 0.15, Agency.DOUANES: 0.1,
                                  Agency.GIR: 0.05, Agency.OFAST: 0.05},
    LeadKind.SURVEILLANCE: {Agency.POLICE: 0.4, Agency.GENDARMERIE: 0.3,
                            Agency.POLICE_JUDICIAIRE: 0.2, Agency.GIR: 0.1},
    LeadKind.STOP_CHECK: {Agency.GENDARMERIE: 0.4, Agency.POLICE: 0.25, Agency.DOUANES: 0.25,
                          Agency.PAF: 0.1},
    LeadKind.VIDEO_PROTECTION: {Agency.POLICE: 0.8, Agency.GENDARMERIE: 0.2},
    LeadKind.ARREST: {Agency.POLICE: 0.5, Agency.GENDARMERIE: 0.35, Agency.POLICE_JUDICIAIRE: 0.15},
    LeadKind.SEARCH: {Agency.POLICE: 0.4, Agency.GENDARMERIE: 0.3, Agency.POLICE_JUDICIAIRE: 0.2,
                      Agency.DOUANES: 0.1},
    LeadKind.SEIZURE: {Agency.DOUANES: 0.35, Agency.POLICE: 0.35, Agency.GENDARMERIE: 0.3},
    LeadKind.LANDLORD_REPORT: {Agency.POLICE: 0.7, Agency.GENDARMERIE: 0.3},
}
_CHANNELS: dict[LeadKind, tuple[SourceChannel, ...]] = {
    LeadKind.CITIZEN_REPORT: (SourceChannel.CITIZEN_PLATFORM,),
    LeadKind.FIELD_INTELLIGENCE: (SourceChannel.INFORMANT, SourceChannel.INVESTIGATION,
                                  SourceChannel.PATROL),
    LeadKind.SURVEILLANCE: (SourceChannel.INVESTIGATION,),
    LeadKind.STOP_CHECK: (SourceChannel.PATROL, SourceChannel.CUSTOMS_CONTROL),
    LeadKind.VIDEO_PROTECTION: (SourceChannel.VIDEO,),
    LeadKind.ARREST: (SourceChannel.INVESTIGATION, SourceChannel.PATROL),
    LeadKind.SEARCH: (SourceChannel.INVESTIGATION,),
    LeadKind.SEIZURE: (SourceChannel.INVESTIGATION, SourceChannel.CUSTOMS_CONTROL),
    LeadKind.LANDLORD_REPORT: (SourceChannel.PARTNER,),
}
_KIND_FR = {LeadKind.CITIZEN_REPORT: "Signalement", LeadKind.FIELD_INTELLIGENCE: "Renseignement",
            LeadKind.SURVEILLANCE: "Surveillance", LeadKind.STOP_CHECK: "Contrôle",
            LeadKind.VIDEO_PROTECTION: "Vidéoprotection", LeadKind.ARREST: "Interpellation",
            LeadKind.SEARCH: "Perquisition", LeadKind.SEIZURE: "Saisie",
            LeadKind.LANDLORD_REPORT: "Signalement du bailleur"}
_SUBSTANCES = (Substance.CANNABIS_RESIN, Substance.CANNABIS_HERB, Substance.COCAINE, Substance.CRACK,
               Substance.HEROIN, Substance.KETAMINE, Substance.MDMA)
_SUBSTANCE_W = (0.34, 0.22, 0.22, 0.07, 0.06, 0.04, 0.05)
_HANDLING = (HandlingCode.H0, HandlingCode.H1, HandlingCode.H2, HandlingCode.H3)
_HANDLING_W = (0.55, 0.25, 0.12, 0.08)
_CREW_ROLES = (PersonRole.MANAGER, PersonRole.SELLER, PersonRole.SELLER, PersonRole.LOOKOUT,
               PersonRole.COURIER, PersonRole.SUPPLIER, PersonRole.DRIVER, PersonRole.LOOKOUT)


@dataclass
class _Commune:
    insee: str
    name: str
    lat: float
    lon: float
    places: int  # address-level Locations it may hold; popularity falls off as 1/rank
    deal_points: int


@dataclass
class _Crew:
    commune: int
    persons: list[tuple[str, PersonRole]]
    vehicles: list[dict[str, Any]]
    phones: list[str]
    spots: list[int]  # place indexes in its commune (low index = busy place)
    deal_point: int | None
    substances: list[Substance]


@dataclass
class _Recent:
    """Actors seen lately: a background lead re-cites one now and then (repeat sightings)."""

    size: int
    items: list[Any] = field(default_factory=list)

    def add(self, item: Any, rng: random.Random) -> None:
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            self.items[rng.randrange(self.size)] = item


class SyntheticWorld:
    """Deterministic for a seed: ``chunk(start, n)`` must be called with consecutive ranges."""

    def __init__(self, seed: int, expected_leads: int = 400_000) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._person_seq = 0
        rng = self.rng
        self.communes: list[_Commune] = []
        weights: list[float] = []
        for code, _name, lat, lon, weight in DEPARTEMENTS:
            real = [c for c in REAL_COMMUNES.values() if c.departement == code]
            n = 30 + round(25 * weight)
            used = {c.insee for c in real}
            numbers = [k for k in range(1, 999) if f"{code}{k:03d}" not in used]
            synthetic = []
            for k in sorted(rng.sample(numbers, n - len(real))):
                name = rng.choice(_NAME_HEADS) + rng.choice(_NAME_ROOTS) + rng.choice(_NAME_TAILS)
                synthetic.append((f"{code}{k:03d}", name.strip(),
                                  lat + rng.uniform(-0.35, 0.35), lon + rng.uniform(-0.5, 0.5)))
            ordered = [(c.insee, c.name, c.lat, c.lon) for c in real] + synthetic
            ranks = [1 / (r + 1) ** 1.1 for r in range(len(ordered))]
            total = sum(ranks)
            for (insee, name, clat, clon), w in zip(ordered, ranks, strict=True):
                share = weight * w / total
                self.communes.append(_Commune(insee, name, clat, clon, places=0, deal_points=0))
                weights.append(share)
        total = sum(weights)
        # ~0.2 address-level Location per lead, shared out by commune size.
        for c, w in zip(self.communes, weights, strict=True):
            c.places = max(10, round(expected_leads * 0.2 * w / total))
            c.deal_points = min(12, int(c.places / 150))
        self.commune_cum = list(itertools.accumulate(weights))
        # Crews: ~1 per 28 leads, activity heavy-tailed (Pareto 1.3, capped): most appear in a
        # handful of leads, a few in a hundred or more.
        self.crews: list[_Crew] = []
        crew_w: list[float] = []
        for _ in range(max(100, expected_leads // 28)):
            ci = self._commune(rng.random())
            c = self.communes[ci]
            size = rng.choice((2, 2, 3, 3, 4, 5, 6, 8))
            roles = [_CREW_ROLES[0]] + [rng.choice(_CREW_ROLES[1:]) for _ in range(size - 1)]
            self.crews.append(_Crew(
                commune=ci,
                persons=[(self._pseudonym(), role) for role in roles],
                vehicles=[self._vehicle() for _ in range(rng.choice((1, 1, 2, 3)))],
                phones=[self._phone() for _ in range(rng.choice((1, 1, 2, 3)))],
                spots=[self._place_index(c) for _ in range(rng.choice((1, 2, 3)))],
                deal_point=rng.randrange(c.deal_points) if c.deal_points and rng.random() < 0.4 else None,
                substances=rng.choices(_SUBSTANCES, _SUBSTANCE_W, k=rng.choice((1, 2))),
            ))
            crew_w.append(min(100.0, rng.paretovariate(1.3)))
        self.crew_cum = list(itertools.accumulate(crew_w))
        self.recent_persons = _Recent(3000)
        self.recent_vehicles = _Recent(2000)
        self.recent_phones = _Recent(2000)
        self.points: dict[tuple[int, int], tuple[float, float]] = {}
        self.next_index = 0

    # -- entities -------------------------------------------------------------------------------

    def _pseudonym(self) -> str:
        self._person_seq += 1
        digest = hashlib.sha256(f"{self.seed}:person:{self._person_seq}".encode()).hexdigest()
        return f"ps1:bench:{digest}"

    def _vehicle(self) -> dict[str, Any]:
        make, model, kind = self.rng.choice(_VEHICLES)
        return {"plate": random_siv_plate(self.rng), "make": make, "model": model,
                "colour": self.rng.choice(_COLOURS), "kind": kind}

    def _phone(self) -> str:
        return random_mobile(self.rng)

    def _commune(self, u: float) -> int:
        return min(bisect.bisect_left(self.commune_cum, u * self.commune_cum[-1]),
                   len(self.communes) - 1)

    def _place_index(self, c: _Commune) -> int:
        # Half uniform, half log-uniform (p ∝ 1/rank): a few busy places per commune.
        if self.rng.random() < 0.5:
            return self.rng.randrange(c.places)
        return min(c.places - 1, int(math.exp(self.rng.random() * math.log(c.places + 1))) - 1)

    def _location(self, ci: int, place: int | None) -> Location:
        c = self.communes[ci]
        if place is None:  # the commune only
            return Location(insee_code=c.insee, commune=c.name)
        street = _STREETS[(place * 7 + ci) % len(_STREETS)]
        number = 1 + place // len(_STREETS)
        point = self.points.get((ci, place))
        if point is None:
            h = zlib.crc32(f"{c.insee}:{place}".encode())
            angle = (h % 3600) / 3600 * 2 * math.pi
            radius = ((h >> 12) % 1000) / 1000 * 0.025  # ≤ ~2.5 km
            point = (round(c.lat + radius * math.sin(angle), 5),
                     round(c.lon + radius * math.cos(angle) * 1.4, 5))
            self.points[(ci, place)] = point
        label = _SPOT_LABELS[place % len(_SPOT_LABELS)] if place % 3 == 0 else None
        return Location(insee_code=c.insee, commune=c.name, address=f"{number} {street}",
                        place_label=label, point=GeoPoint(lat=point[0], lon=point[1]))

    def _person(self, pseudonym: str, role: PersonRole, describe: bool) -> PersonRef:
        description = None
        if describe:
            lo = self.rng.randint(16, 40)
            description = PhysicalDescription(
                sex=self.rng.choice(("male", "male", "male", "female")), apparent_age_min=lo,
                apparent_age_max=lo + self.rng.randint(2, 8), clothing=self.rng.choice(_CLOTHING))
        return PersonRef(pseudonym=pseudonym, role=role, description=description)

    def _fresh_or_recent(self, recent: _Recent, make: Callable[[], Any]) -> Any:
        if recent.items and self.rng.random() < 0.15:
            return self.rng.choice(recent.items)
        item = make()
        recent.add(item, self.rng)
        return item

    # -- leads ----------------------------------------------------------------------------------

    def chunk(self, n: int) -> list[Lead]:
        out = [self._lead(self.next_index + k) for k in range(n)]
        self.next_index += n
        return out

    def _lead(self, i: int) -> Lead:
        rng = self.rng
        kind = rng.choices(list(_KINDS), list(_KINDS.values()))[0]
        agencies = _AGENCIES[kind]
        agency = rng.choices(list(agencies), list(agencies.values()))[0]
        describe = kind in (LeadKind.CITIZEN_REPORT, LeadKind.SURVEILLANCE, LeadKind.VIDEO_PROTECTION)
        crew: _Crew | None = None
        if rng.random() < 0.45:
            crew = self.crews[min(bisect.bisect_left(self.crew_cum, rng.random() * self.crew_cum[-1]),
                                  len(self.crews) - 1)]
        persons: list[PersonRef] = []
        vehicles: list[dict[str, Any]] = []
        phones: list[str] = []
        deal_point = None
        if crew is not None:
            ci = crew.commune
            place = rng.choice(crew.spots) if rng.random() < 0.7 else self._place_index(self.communes[ci])
            for pseudonym, role in rng.sample(crew.persons, min(len(crew.persons), rng.choice((1, 1, 2, 3)))):
                persons.append(self._person(pseudonym, role, describe and rng.random() < 0.3))
            if rng.random() < 0.35:
                persons.append(self._person(self._pseudonym(), PersonRole.BUYER, False))
            if kind is LeadKind.STOP_CHECK or rng.random() < 0.4:
                vehicles.append(rng.choice(crew.vehicles))
            if rng.random() < 0.3:
                phones.append(rng.choice(crew.phones))
            if crew.deal_point is not None and rng.random() < 0.5:
                deal_point = crew.deal_point
            substances = list(dict.fromkeys(crew.substances))
        else:
            ci = self._commune(rng.random())
            place = self._place_index(self.communes[ci])
            for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
                pseudonym = self._fresh_or_recent(self.recent_persons, self._pseudonym)
                if all(p.pseudonym != pseudonym for p in persons):
                    persons.append(self._person(pseudonym, rng.choice(
                        (PersonRole.SELLER, PersonRole.BUYER, PersonRole.UNKNOWN, PersonRole.LOOKOUT)),
                        describe and rng.random() < 0.3))
            if kind is LeadKind.STOP_CHECK or rng.random() < 0.25:
                vehicles.append(self._fresh_or_recent(self.recent_vehicles, self._vehicle))
            if rng.random() < 0.15 or (kind is LeadKind.SEARCH and rng.random() < 0.5):
                phones.append(self._fresh_or_recent(self.recent_phones, self._phone))
            c = self.communes[ci]
            if c.deal_points and rng.random() < 0.05:
                deal_point = rng.randrange(c.deal_points)
            substances = rng.choices(_SUBSTANCES, _SUBSTANCE_W, k=rng.choice((1, 1, 2)))
        r = rng.random()
        location = None if r < 0.03 else self._location(ci, None if r < 0.11 else place)
        c = self.communes[ci]
        # Evenings and nights weigh more: the hour is redrawn from a skewed day.
        day = END - timedelta(days=rng.random() * SPAN_DAYS)
        hour = rng.choices(range(24), [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 5, 6, 6,
                                       6, 5, 3, 2])[0]
        observed = day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
        if observed > END:
            observed -= timedelta(days=1)
        reported = observed + timedelta(minutes=rng.randint(10, 36 * 60))
        seizure = None
        if kind is LeadKind.SEIZURE or (kind is LeadKind.SEARCH and rng.random() < 0.6) or (
                kind is LeadKind.ARREST and rng.random() < 0.35):
            items = [SubstanceQuantity(substance=s, quantity=Decimal(rng.randint(2, 2500)), unit="g")
                     for s in substances]
            cash = Decimal(rng.randint(50, 20000)) if rng.random() < 0.4 else None
            weapons = [Weapon(kind=WeaponKind.HANDGUN)] if rng.random() < 0.05 else []
            seizure = Seizure(substances=items, cash_eur=cash, weapons=weapons,
                              packaging_material=rng.random() < 0.3)
        restricted = []
        if rng.random() < 0.06:
            restricted = [agency] + ([rng.choice(list(Agency))] if rng.random() < 0.5 else [])
        where = location.address if location and location.address else c.name
        narrative = (f"{_KIND_FR[kind]} : activité liée aux stupéfiants, {where} ({c.name}). "
                     f"{len(persons)} individu(s), {len(vehicles)} véhicule(s) cité(s).")
        return Lead(
            source_agency=agency,
            source_ref=f"bench-{self.seed}-{i:07d}",
            kind=kind,
            channel=rng.choice(_CHANNELS[kind]),
            observed_at=None if rng.random() < 0.1 else observed,
            reported_at=reported,
            location=location,
            deal_point=(DealPoint(insee_code=c.insee,
                                  label=f"Point de deal {_STREETS[(deal_point * 5 + ci) % len(_STREETS)]}")
                        if deal_point is not None else None),
            vehicles=[Vehicle(**v) for v in list({v["plate"]: v for v in vehicles}.values())],
            persons=persons,
            phones=list(dict.fromkeys(phones)),
            substances=substances if seizure is None else [],
            seizure=seizure,
            narrative=narrative,
            handling_code=rng.choices(_HANDLING, _HANDLING_W)[0],
            source_reliability=rng.choice(list(SourceReliability)),
            information_credibility=rng.choice(list(InformationCredibility)),
            restricted_to=list(dict.fromkeys(restricted)),
            embargo_until=reported + timedelta(days=rng.randint(30, 180)) if rng.random() < 0.02 else None,
        )


# --- the server and the graph ----------------------------------------------------------------

DEFAULT_RUNTIME_DIR = Path.home() / ".cache" / "crosshub" / "neo4j-runtime"


@contextmanager
def analysis_settings(data_dir: Path | None, heap: str,
                      pagecache: str) -> Iterator[tuple[Settings, LocalNeo4j | None]]:
    """``NEO4J_URI`` when set (``bench_settings``), else a local server with this bench's memory,
    its store under ``data_dir`` (kept) or a temporary dir (lost), its runtime the machine's
    shared one."""
    if os.environ.get("NEO4J_URI"):
        with bench_settings() as settings:
            yield settings, None
        return
    with tempfile.TemporaryDirectory(prefix="crosshub-bench-") as tmp:
        local = Settings(data_dir=data_dir or Path(tmp), neo4j_uri=None, neo4j_password=None,
                         neo4j_heap=heap, neo4j_pagecache=pagecache)
        runtime = Path(os.environ.get(RUNTIME_DIR_ENV) or DEFAULT_RUNTIME_DIR)
        server = LocalNeo4j(local.graph_config, runtime_dir=runtime)
        ours = server.endpoint() is None  # a server already running on that store stays up
        endpoint = server.start(wait_s=300)
        try:
            yield local.model_copy(update={"neo4j_uri": endpoint.uri, "neo4j_user": endpoint.user,
                                           "neo4j_password": endpoint.password}), server
        finally:
            if ours:
                server.stop()


def _scalar(driver, db: str, query: str, **params: Any) -> Any:
    return driver.execute_query(query, database_=db, **params).records[0][0]


def node_count(driver, db: str) -> int:
    return _scalar(driver, db, "MATCH (n) RETURN count(n)")


def read_marker(driver, db: str) -> dict[str, Any] | None:
    records = driver.execute_query("MATCH (m:BenchMarker {name: $name}) RETURN properties(m) AS m",
                                   name=MARKER, database_=db).records
    return records[0]["m"] if records else None


def build_graph(driver, db: str, seed: int, min_nodes: int) -> dict[str, Any]:
    """Generate and write leads in chunks until the graph holds ``min_nodes`` nodes; the next
    chunk is generated while the current one is written (the driver waits on the socket)."""
    world = SyntheticWorld(seed)
    graph = Graph(driver, db)
    t0 = time.perf_counter()
    written, nodes, gen_s = 0, node_count(driver, db), 0.0
    last_report = 0

    def generate() -> tuple[list[Lead], float]:
        t = time.perf_counter()
        return world.chunk(CHUNK), time.perf_counter() - t

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(generate)
        while nodes < min_nodes:
            chunk, spent = pending.result()
            gen_s += spent
            pending = pool.submit(generate)
            write_leads(graph, chunk, chunk_size=CHUNK)
            written += len(chunk)
            nodes = node_count(driver, db)
            if written - last_report >= 50_000 or nodes >= min_nodes:
                last_report = written
                elapsed = time.perf_counter() - t0
                print(f"  {written:>8,} leads, {nodes:>9,} nodes — {elapsed:6.0f} s "
                      f"({written / elapsed:,.0f} leads/s)", flush=True)
        pending.cancel()
    build_s = time.perf_counter() - t0
    stats = {"name": MARKER, "seed": seed, "leads": written, "nodes": nodes,
             "build_s": round(build_s, 1), "generate_s": round(gen_s, 1),
             "end": END, "built_at": datetime.now(UTC)}
    driver.execute_query("MERGE (m:BenchMarker {name: $name}) SET m += $stats",
                         name=MARKER, stats=stats, database_=db)
    return stats


def counts(driver, db: str) -> tuple[int, int, dict[str, int]]:
    by_label = {label.value: _scalar(driver, db, f"MATCH (n:{label.value}) RETURN count(n)")
                for label in (Label.LEAD, Label.PERSON, Label.VEHICLE, Label.PHONE, Label.LOCATION,
                              Label.SEIZURE, Label.DEAL_POINT, Label.COMMUNE, Label.SUBSTANCE,
                              Label.AGENCY)}
    return (node_count(driver, db), _scalar(driver, db, "MATCH ()-[r]->() RETURN count(r)"), by_label)


def prewarm(driver, db: str) -> float:
    """Read every node's and relationship's record and properties once: the latencies below are
    those of a server whose store sits in its page cache (as a production server's does)."""
    t = time.perf_counter()
    _scalar(driver, db, "MATCH (n) RETURN count(properties(n))")
    _scalar(driver, db, "MATCH ()-[r]->() RETURN count(properties(r))")
    return time.perf_counter() - t


# --- anchors ---------------------------------------------------------------------------------

ACTORS = (EntityKind.VEHICLE, EntityKind.PERSON, EntityKind.PHONE)
PATH_LINKS = "AT|MENTIONS_VEHICLE|INVOLVES|MENTIONS_PHONE|CONCERNS"
KIND_OF_LABEL = {"Vehicle": EntityKind.VEHICLE, "Person": EntityKind.PERSON,
                 "Phone": EntityKind.PHONE, "Location": EntityKind.LOCATION,
                 "DealPoint": EntityKind.DEAL_POINT}


def _probe(kind: EntityKind, rng: random.Random) -> str:
    if kind is EntityKind.VEHICLE:
        return random_siv_plate(rng)
    if kind is EntityKind.PERSON:
        return "ps1:bench:" + "".join(rng.choice("0123456789abcdef") for _ in range(64))
    return "+33" + rng.choice("67") + "".join(rng.choice("0123456789") for _ in range(8))


def random_actor(driver, db: str, kind: EntityKind, rng: random.Random) -> str:
    """A near-uniform random entity of ``kind``: the first key at or after a random probe
    (keys are random strings), through the key's index."""
    label, prop = kind.label.value, kind.key_property
    for probe in (_probe(kind, rng), ""):
        records = driver.execute_query(
            f"MATCH (e:{label}) WHERE e.{prop} >= $probe RETURN e.{prop} AS k ORDER BY k LIMIT 1",
            probe=probe, database_=db).records
        if records:
            return records[0]["k"]
    raise RuntimeError(f"no {label} in the graph")


def network_anchors(driver, db: str, n: int, rng: random.Random) -> list[tuple[EntityKind, str]]:
    return [(kind, random_actor(driver, db, kind, rng)) for kind in itertools.islice(
        itertools.cycle(ACTORS), n)]


def path_pairs(driver, db: str, n: int, rng: random.Random) -> list[tuple[tuple[EntityKind, str], ...]]:
    """Pairs joined within 2 to 4 lead-hops: random walks entity → lead → entity from a random
    actor, ending on an actor when one is in reach."""
    pairs = []
    while len(pairs) < n:
        kind = rng.choice(ACTORS)
        key = random_actor(driver, db, kind, rng)
        start = driver.execute_query(
            f"MATCH (e:{kind.label.value} {{{kind.key_property}: $key}}) RETURN elementId(e) AS eid",
            key=key, database_=db).records[0]["eid"]
        current, seen, end = start, {start}, None
        hops = rng.choice((2, 3, 4))
        for hop in range(hops):
            options = [r for r in driver.execute_query(
                f"MATCH (a) WHERE elementId(a) = $eid "
                f"MATCH (a)<-[:{PATH_LINKS}]-(l:Lead)-[:{PATH_LINKS}]->(b) WHERE b <> a "
                f"RETURN DISTINCT elementId(b) AS eid, labels(b)[0] AS label, "
                f"coalesce(b.plate, b.pseudonym, b.number, b.key) AS key ORDER BY eid LIMIT 300",
                eid=current, database_=db).records if r["eid"] not in seen]
            if not options:
                break
            if hop == hops - 1:
                options = [r for r in options if r["label"] in ("Vehicle", "Person", "Phone")] or options
            pick = rng.choice(options)
            current, end = pick["eid"], pick
            seen.add(current)
        # At least two hops apart: one lead citing both is no path worth searching.
        if end is not None and not driver.execute_query(
                f"MATCH (a) WHERE elementId(a) = $a MATCH (b) WHERE elementId(b) = $b "
                f"RETURN EXISTS {{ (a)<-[:{PATH_LINKS}]-(:Lead)-[:{PATH_LINKS}]->(b) }} AS near",
                a=start, b=end["eid"], database_=db).records[0]["near"]:
            pairs.append(((kind, key), (KIND_OF_LABEL[end["label"]], end["key"])))
    return pairs


def busy_places(driver, db: str, n: int = 200) -> list[str]:
    return [r["key"] for r in driver.execute_query(
        "MATCH (loc:Location) WHERE loc.key STARTS WITH 'addr:' "
        "WITH loc, COUNT { (loc)<-[:AT]-(:Lead) } AS n ORDER BY n DESC, loc.key LIMIT $n "
        "RETURN loc.key AS key", n=n, database_=db).records]


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Shape:
    name: str
    anchors: list[Any]
    warm: list[Any]
    run: Callable[[AccessFilter, Any], dict[str, float]]  # one query → facts for the notes
    notes: Callable[[list[dict[str, float]]], str]


@dataclass
class Row:
    shape: str
    filter: str
    times: list[float]
    facts: list[dict[str, float]]
    notes: str = ""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def measure(shape: Shape, filters: dict[str, Callable[[], AccessFilter]]) -> list[Row]:
    """Warm-up anchors first (plans compiled and cached), then one untimed pass over every
    measured anchor for every filter (their pages in cache, the JIT warm on their paths, as on a
    server in service), then the timed pass. Python's collector runs between queries, never
    inside one: a collection of the previous answers' garbage would land in a random sample."""
    for anchor in [*shape.warm, *shape.anchors]:
        for access_of in filters.values():
            _timed(shape, access_of, anchor)
    rows = {name: Row(shape.name, name, [], []) for name in filters}
    names = list(filters)
    gc.collect()
    gc.disable()
    try:
        for i, anchor in enumerate(shape.anchors):
            # Both filters on the same anchor, alternating who goes first so neither always finds
            # the other's pages in cache.
            for name in names if i % 2 == 0 else names[::-1]:
                ms, facts = _timed(shape, filters[name], anchor)
                rows[name].times.append(ms)
                rows[name].facts.append(facts)
                gc.collect()
    finally:
        gc.enable()
    for row in rows.values():
        row.notes = shape.notes(row.facts)
    return list(rows.values())


def _timed(shape: Shape, access_of: Callable[[], AccessFilter], anchor: Any) -> tuple[float, dict[str, float]]:
    t0 = time.perf_counter()
    try:
        facts = shape.run(access_of(), anchor)  # the policy path compiles its filter in the clock
    except InvalidInput:  # the analysis' own time bound (QUERY_TIMEOUT_S)
        facts = {"timeout": 1.0}
    except NotFound:  # an anchor only leads this caller may not know of assert: a 404, timed too
        facts = {"not_found": 1.0}
    return (time.perf_counter() - t0) * 1000, facts


def _mean(facts: list[dict[str, float]], key: str) -> float:
    return statistics.mean(f.get(key, 0.0) for f in facts) if facts else 0.0


def shapes(driver, db: str, queries: int, warmup: int, rng: random.Random) -> list[Shape]:
    graph = Graph(driver, db)

    def net(depth: int) -> Callable[[AccessFilter, Any], dict[str, float]]:
        def run(access: AccessFilter, anchor: tuple[EntityKind, str]) -> dict[str, float]:
            result = network(graph, anchor[0], anchor[1], depth, access)
            return {"nodes": len(result.nodes), "truncated": float(result.truncated),
                    "hits": float(sum(h.lead_count for h in result.hits))}
        return run

    def net_notes(facts: list[dict[str, float]]) -> str:
        unknown = sum(1 for f in facts if f.get("not_found"))
        return (f"nodes {_mean(facts, 'nodes'):.0f} avg, truncated {_mean(facts, 'truncated'):.0%}, "
                f"hits {_mean(facts, 'hits'):.0f} avg" + (f", {unknown} not found" if unknown else ""))

    def path(access: AccessFilter, pair: tuple[tuple[EntityKind, str], ...]) -> dict[str, float]:
        (fk, fkey), (tk, tkey) = pair
        result = shortest_paths(graph, access, PathParams(
            from_kind=fk, from_key=fkey, to_kind=tk, to_key=tkey, max_hops=4))
        return {"found": float(bool(result.paths)),
                "hops": float(result.paths[0].hops) if result.paths else 0.0}

    def path_notes(facts: list[dict[str, float]]) -> str:
        found = [f for f in facts if f.get("found")]
        return (f"found {len(found) / len(facts):.0%}, hops {_mean(found, 'hops'):.1f} avg"
                + _timeouts(facts))

    def copres(access: AccessFilter, anchor: tuple[str, datetime]) -> dict[str, float]:
        key, since = anchor
        result = copresence(graph, access, CopresenceParams(
            location_key=key, since=since, until=since + timedelta(days=30), window_min=30))
        return {"leads": float(result.lead_count), "pairs": float(len(result.pairs))}

    def copres_notes(facts: list[dict[str, float]]) -> str:
        return (f"leads {_mean(facts, 'leads'):.1f} avg, pairs {_mean(facts, 'pairs'):.1f} avg"
                + _timeouts(facts))

    def hot(access: AccessFilter, anchor: tuple[str, datetime]) -> dict[str, float]:
        dep, now = anchor
        result = hotspots(graph, access, HotspotParams(departement=dep, days=30,
                                                compare_days=90, now=now))
        return {"places": float(len(result.places)),
                "recent": float(sum(c.recent for c in result.communes))}

    def hot_notes(facts: list[dict[str, float]]) -> str:
        return (f"recent leads {_mean(facts, 'recent'):.0f} avg, places {_mean(facts, 'places'):.0f}"
                + _timeouts(facts))

    total = queries + warmup
    t = time.perf_counter()
    anchors = network_anchors(driver, db, total, rng)
    pairs = path_pairs(driver, db, total, rng)
    places = busy_places(driver, db)
    start = END - timedelta(days=SPAN_DAYS)
    windows = [(rng.choice(places), start + timedelta(days=rng.uniform(0, SPAN_DAYS - 30)))
               for _ in range(total)]
    departements = [(rng.choice(DEPARTEMENTS)[0], END - timedelta(days=rng.uniform(0, SPAN_DAYS - 120)))
                    for _ in range(total)]
    print(f"anchors drawn in {time.perf_counter() - t:.1f} s", flush=True)
    return [
        Shape("network depth 2", anchors[warmup:], anchors[:warmup], net(2), net_notes),
        Shape("network depth 3", anchors[warmup:], anchors[:warmup], net(3), net_notes),
        Shape("shortest path ≤ 4 hops", pairs[warmup:], pairs[:warmup], path, path_notes),
        Shape("co-presence, busy place, 30 d", windows[warmup:], windows[:warmup], copres, copres_notes),
        Shape("hotspots, département, 30 d vs 90", departements[warmup:], departements[:warmup], hot,
              hot_notes),
    ]


def _timeouts(facts: list[dict[str, float]]) -> str:
    n = sum(1 for f in facts if f.get("timeout"))
    return f", {n} timed out" if n else ""


# --- main ------------------------------------------------------------------------------------


@dataclass
class SizeRun:
    """One graph measured: its counts and a row per analysis and filter."""

    total: int
    rels: int
    leads: int
    build: str
    rows: list[Row]


def imported_graph(root: Path, args: argparse.Namespace, size: int) -> None:
    """The graph of ``size`` nodes under ``root``, built once offline (``bench/bulk.py``:
    generated CSV, ``neo4j-admin database import full``, then the hub's schema) and kept: a later
    run finds ``imported.json`` and only starts the server."""
    from bench.bulk import import_graph

    if (root / "imported.json").is_file() and not args.rebuild:
        return
    root.mkdir(parents=True, exist_ok=True)
    local = Settings(data_dir=root, neo4j_uri=None, neo4j_password=None,
                     neo4j_heap=args.heap, neo4j_pagecache=args.pagecache)
    server = LocalNeo4j(local.graph_config, runtime_dir=Path(os.environ.get(RUNTIME_DIR_ENV)
                                                             or DEFAULT_RUNTIME_DIR))
    server.start(wait_s=300)  # once: the system database and the password
    server.stop()
    stats = import_graph(server, root, args.seed, size)
    endpoint = server.start(wait_s=600)
    try:
        settings = local.model_copy(update={"neo4j_uri": endpoint.uri, "neo4j_user": endpoint.user,
                                            "neo4j_password": endpoint.password})
        t = time.perf_counter()
        driver = open_driver(settings.graph_config)
        graph = Graph(driver, settings.neo4j_database)
        wait_ready(graph, 120)
        while True:  # the constraints and indexes of millions of nodes may outlast one await
            try:
                apply_schema(graph)
                break
            except Neo4jError as exc:
                if "awaitIndexes" not in str(exc) and "Timed out" not in str(exc):
                    raise
                print("  indexes still populating…", flush=True)
        stats["schema_s"] = round(time.perf_counter() - t, 1)
        print(f"schema applied in {stats['schema_s']:.0f} s", flush=True)
        marker = {"name": MARKER, "seed": args.seed, "imported": True, "built_at": datetime.now(UTC),
                  "build_s": round(stats.get("generate_s", 0) + stats["import_s"] + stats["schema_s"], 1),
                  **{k: stats[k] for k in ("leads", "nodes", "relationships", "generate_s", "import_s",
                                           "schema_s") if k in stats}}
        driver.execute_query("MERGE (m:BenchMarker {name: $name}) SET m += $stats",
                             name=MARKER, stats=marker, database_=settings.neo4j_database)
        driver.close()
    finally:
        server.stop()
    (root / "imported.json").write_text(json.dumps({k: v for k, v in stats.items()}), encoding="utf-8")


def run_size(args: argparse.Namespace, data_dir: Path | None, min_nodes: int, imported: bool) -> SizeRun:
    with analysis_settings(data_dir, args.heap, args.pagecache) as (settings, server):
        db = settings.neo4j_database
        driver = prepared_driver(settings, wipe=False)
        try:
            nodes, marker = node_count(driver, db), read_marker(driver, db)
            cached = (not (args.rebuild and not imported) and marker is not None
                      and marker.get("seed") == args.seed and nodes >= min_nodes)
            leads = _scalar(driver, db, "MATCH (l:Lead) RETURN count(l)")
            if cached:
                how = "imported" if marker.get("imported") else "built"
                print(f"graph cached: {nodes:,} nodes (seed {args.seed}, {how} in "
                      f"{marker.get('build_s')} s on {marker.get('built_at')})", flush=True)
            elif imported:
                raise SystemExit(f"the imported graph under {data_dir} lacks its marker: rerun with --rebuild")
            else:
                if leads or marker:
                    t = time.perf_counter()
                    if server is not None:  # faster than deleting a million nodes one by one
                        driver.close()
                        server.stop()
                        shutil.rmtree(server.data_dir)
                        server.start(wait_s=300)
                        driver = prepared_driver(settings, wipe=False)
                    else:
                        reset_database(Graph(driver, db))
                    print(f"old graph wiped in {time.perf_counter() - t:.0f} s", flush=True)
                print(f"building a graph of ≥ {min_nodes:,} nodes (seed {args.seed})…", flush=True)
                marker = build_graph(driver, db, args.seed, min_nodes)
                print(f"built: {marker['leads']:,} leads in {marker['build_s']:.0f} s "
                      f"(generation {marker['generate_s']:.0f} s, overlapped with writes)", flush=True)
            total, rels, by_label = counts(driver, db)
            print(f"MATCH (n) RETURN count(n) → {total:,} nodes; {rels:,} relationships")
            print("  " + ", ".join(f"{k} {v:,}" for k, v in by_label.items()))
            if not args.no_prewarm:
                print(f"page cache warmed in {prewarm(driver, db):.1f} s", flush=True)

            analyst = identity.upsert_user(Graph(driver, db), agency="gendarmerie", role="analyst",
                                           name="bench-analysis")
            unrestricted = AccessFilter.unrestricted()
            filters = {"unrestricted": lambda: unrestricted,
                       "gendarmerie analyst": lambda: access_filter_for(Graph(driver, db), analyst, policy=load_policy())}
            rng = random.Random(args.seed + 1)
            codes = ["net2", "net3", "path", "copresence", "hotspots"]
            chosen = set(args.only.split(",")) if args.only else set(codes)
            rows: list[Row] = []
            for code, shape in zip(codes, shapes(driver, db, args.queries, args.warmup, rng), strict=True):
                if code not in chosen:
                    continue
                t = time.perf_counter()
                rows += measure(shape, filters)
                print(f"  {shape.name}: measured in {time.perf_counter() - t:.0f} s", flush=True)
        finally:
            driver.close()
    how = (f"imported (CSV {marker.get('generate_s', 0):.0f} s, import {marker.get('import_s', 0):.0f} s, "
           f"schema {marker.get('schema_s', 0):.0f} s)" if marker.get("imported")
           else f"build {marker['build_s']:.0f} s")
    return SizeRun(total, rels, by_label["Lead"], how, rows)


def print_run(run: SizeRun, queries: int) -> None:
    print()
    print(f"graph: {run.total:,} nodes, {run.rels:,} relationships, {run.leads:,} leads; "
          f"{run.build}; {queries} anchors per analysis, warm")
    header = f"{'analysis':<36} {'filter':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  notes"
    print(header)
    print("-" * len(header))
    for row in run.rows:
        print(f"{row.shape:<36} {row.filter:<20} {pct(row.times, .5):8.1f} {pct(row.times, .95):8.1f} "
              f"{max(row.times):8.1f}  {row.notes}")
    for row in run.rows:
        target = TARGETS_P95_MS.get(row.shape)
        if target is not None:
            p95 = pct(row.times, .95)
            verdict = "OK" if p95 <= target else "OVER TARGET"
            print(f"{row.shape} p95 ({row.filter}): {p95:.1f} ms — target ≤ {target:.0f} ms: {verdict}")


def print_growth(runs: list[tuple[int, SizeRun]]) -> None:
    """p50 / p95 of every analysis and filter per graph size, side by side."""
    from bench.bulk import size_label

    print()
    print("growth — p50 / p95 ms per graph size")
    sizes = [f"{size_label(size)} ({run.total / 1e6:.2f} M)" for size, run in runs]
    header = f"{'analysis':<36} {'filter':<20} " + " ".join(f"{s:>18}" for s in sizes)
    print(header)
    print("-" * len(header))
    for i, row in enumerate(runs[0][1].rows):
        cells = []
        for _, run in runs:
            other = run.rows[i]
            cells.append(f"{pct(other.times, .5):8.1f} / {pct(other.times, .95):7.1f}")
        print(f"{row.shape:<36} {row.filter:<20} " + " ".join(f"{c:>18}" for c in cells))


def main() -> None:
    from bench.bulk import cache_key, parse_size

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the local server's store here (e.g. ~/.cache/crosshub/bench-analysis)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the graph even if cached")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--min-nodes", type=int, default=MIN_NODES)
    parser.add_argument("--sizes", default=None,
                        help="graph sizes to measure in turn, e.g. 1M,3M,10M (needs --import and --data-dir)")
    parser.add_argument("--import", dest="use_import", action="store_true",
                        help="build each graph offline with neo4j-admin database import (bench/bulk.py), "
                             "kept under DATA_DIR/imported/<size>-g<generator>-s<seed>")
    parser.add_argument("--queries", type=int, default=200, help="anchors per analysis")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up anchors per analysis")
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    parser.add_argument("--only", default=None,
                        help="comma-separated analyses to run: net2,net3,path,copresence,hotspots")
    parser.add_argument("--no-prewarm", action="store_true")
    args = parser.parse_args()
    data_dir = args.data_dir.expanduser().resolve() if args.data_dir else None
    if data_dir:
        data_dir.mkdir(parents=True, exist_ok=True)
    sizes = [parse_size(s) for s in args.sizes.split(",")] if args.sizes else [args.min_nodes]
    if (args.use_import or len(sizes) > 1) and (data_dir is None or not args.use_import
                                                 or os.environ.get("NEO4J_URI")):
        parser.error("--sizes and --import need --import, --data-dir and the local server (no NEO4J_URI)")

    t_start = time.perf_counter()
    runs: list[tuple[int, SizeRun]] = []
    for size in sizes:
        root = data_dir
        if args.use_import:
            assert data_dir is not None
            root = data_dir / "imported" / cache_key(args.seed, size)
            imported_graph(root, args, size)
        runs.append((size, run_size(args, root, size, args.use_import)))
        print_run(runs[-1][1], args.queries)  # as soon as measured: a long run shows its sizes
    if len(runs) > 1:
        print_growth(runs)
    print(f"total run time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
