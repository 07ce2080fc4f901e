"""Large analysis graphs built offline: the synthetic world of ``bench/analysis.py`` written as
CSV files in the shape ``graph.leads.write_leads`` gives the graph (same labels, properties and
relationships), loaded by Neo4j's own ``neo4j-admin database import full`` into a local server
kept under a cache directory, then the hub's schema applied — minutes for 10 M nodes where
``write_leads`` would take hours.

The world is ``SyntheticWorld``'s (communes by département, crews with a heavy tail, repeat
sightings, one year of leads, the same kinds, agencies and mixes), sized for the target: its
places and crews grow with the expected number of leads. Its leads are drawn the way
``SyntheticWorld._lead`` draws them, but straight into CSV rows: building and validating a
pydantic ``Lead`` per row (most of ``_lead``'s cost) would take an hour at 10 M nodes. What
differs from ``write_leads``, knowingly: empty lists (``restricted_to``, ``substances``) are absent
rather than empty (every read coalesces them), leads carry no ``TriagePending`` label (the bench
never triages), and ids come from a seeded generator, so a size and seed give the same graph.

``GENERATOR_VERSION`` names the generator in the cache key: bump it when the rows change.
"""

from __future__ import annotations

import bisect
import json
import csv
import hashlib
import math
import random
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.analysis import (
    _AGENCIES,
    _CHANNELS,
    _CLOTHING,
    _COLOURS,
    _HANDLING,
    _HANDLING_W,
    _KIND_FR,
    _KINDS,
    _SPOT_LABELS,
    _STREETS,
    _SUBSTANCE_W,
    _SUBSTANCES,
    _VEHICLES,
    END,
    SPAN_DAYS,
    SyntheticWorld,
)
from hub.contract.lead import Agency, InformationCredibility, LeadKind, PersonRole, SourceReliability
from hub.contract.normalize import place_key

GENERATOR_VERSION = 1
NODES_PER_LEAD = 2.65  # measured on the 1 M graph: sizes the world before drawing

NODE_FILES: dict[str, tuple[str, list[str]]] = {
    # file stem: (label, header)
    "leads": ("Lead", [
        "source_key:ID(Lead)", "lead_id", "agency", "source_ref", "version:long", "schema_version",
        "kind", "channel", "observed_at:datetime", "reported_at:datetime", "narrative",
        "handling_code", "source_reliability", "information_credibility", "restricted_to:string[]",
        "embargo_until:datetime", "substances:string[]", "insee_code", "departement",
        "payload_hash", "last_received_at:datetime", "updated_at:datetime",
        "ingested_at:datetime"]),
    "agencies": ("Agency", ["code:ID(Agency)"]),
    "vehicles": ("Vehicle", ["plate:ID(Vehicle)"]),
    "persons": ("Person", ["pseudonym:ID(Person)"]),
    "phones": ("Phone", ["number:ID(Phone)"]),
    "substances": ("Substance", ["code:ID(Substance)"]),
    "locations": ("Location", ["key:ID(Location)", "insee_code", "commune", "address", "place_label",
                               "point:point"]),
    "communes": ("Commune", ["insee_code:ID(Commune)", "name", "departement"]),
    "deal_points": ("DealPoint", ["key:ID(DealPoint)", "label", "insee_code"]),
    "seizures": ("Seizure", ["seizure_id:ID(Seizure)", "cash_eur:double", "weapons",
                             "weapon_count:long", "packaging_material:boolean", "seized_at:datetime",
                             "agency"]),
}
REL_FILES: dict[str, tuple[str, list[str]]] = {
    "provided_by": ("PROVIDED_BY", [":START_ID(Lead)", ":END_ID(Agency)"]),
    "lead_at": ("AT", [":START_ID(Lead)", ":END_ID(Location)", "agency", "lead_id"]),
    "in_commune": ("IN_COMMUNE", [":START_ID(Location)", ":END_ID(Commune)"]),
    "mentions_vehicle": ("MENTIONS_VEHICLE", [":START_ID(Lead)", ":END_ID(Vehicle)", "agency", "make",
                                              "model", "colour", "kind", "lead_id"]),
    "mentions_phone": ("MENTIONS_PHONE", [":START_ID(Lead)", ":END_ID(Phone)", "agency", "lead_id"]),
    "involves": ("INVOLVES", [":START_ID(Lead)", ":END_ID(Person)", "agency", "role", "sex",
                              "apparent_age_min:long", "apparent_age_max:long", "clothing", "lead_id"]),
    "reports_substance": ("REPORTS_SUBSTANCE", [":START_ID(Lead)", ":END_ID(Substance)", "agency",
                                                "lead_id"]),
    "concerns": ("CONCERNS", [":START_ID(Lead)", ":END_ID(DealPoint)", "agency", "lead_id"]),
    "recorded": ("RECORDED", [":START_ID(Lead)", ":END_ID(Seizure)", "agency", "lead_id"]),
    "seizure_at": ("AT", [":START_ID(Seizure)", ":END_ID(Location)", "agency", "lead_id"]),
    "of_substance": ("OF_SUBSTANCE", [":START_ID(Seizure)", ":END_ID(Substance)", "agency",
                                      "quantity:double", "unit", "lead_id"]),
}

_HOURS_W = [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 5, 6, 6, 6, 5, 3, 2]
_KIND_LIST, _KIND_W = list(_KINDS), list(_KINDS.values())
_RELIABILITY = [r.value for r in SourceReliability]
_CREDIBILITY = [c.value for c in InformationCredibility]
_ALL_AGENCIES = list(Agency)
_SIV = "ABCDEFGHJKLMNPQRSTVWXYZ"


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class BulkWorld(SyntheticWorld):
    """``SyntheticWorld`` drawn into CSV rows. Phones and plates drawn without the demo's
    validating helpers (a plate ``AB-123-CD``, a mobile ``+336…``/``+337…``, as ingest would have
    normalized them)."""

    def __init__(self, seed: int, expected_leads: int) -> None:
        super().__init__(seed, expected_leads)
        self.ids = random.Random(seed ^ 0x5EED)  # lead ids: apart, so they move no other draw

    def _phone(self) -> str:
        rng = self.rng
        return "+33" + rng.choice("67") + f"{rng.randrange(100_000_000):08d}"

    def _vehicle(self) -> dict[str, Any]:
        make, model, kind = self.rng.choice(_VEHICLES)
        rng = self.rng
        while True:
            left = rng.choice(_SIV) + rng.choice(_SIV)
            if left not in ("SS", "WW"):
                break
        while True:
            right = rng.choice(_SIV) + rng.choice(_SIV)
            if right != "SS":
                break
        return {"plate": f"{left}-{rng.randint(1, 999):03d}-{right}", "make": make, "model": model,
                "colour": rng.choice(_COLOURS),
                "kind": kind}

    def _place(self, ci: int, place: int | None) -> dict[str, Any]:
        """What ``_location`` gives, as the Location's key and creation properties."""
        c = self.communes[ci]
        if place is None:
            return {"key": f"commune:{c.insee}", "insee": c.insee, "commune": c.name}
        street = _STREETS[(place * 7 + ci) % len(_STREETS)]
        address = f"{1 + place // len(_STREETS)} {street}"
        point = self.points.get((ci, place))
        if point is None:
            h = zlib.crc32(f"{c.insee}:{place}".encode())
            angle = (h % 3600) / 3600 * 2 * math.pi
            radius = ((h >> 12) % 1000) / 1000 * 0.025
            point = (round(c.lat + radius * math.sin(angle), 5),
                     round(c.lon + radius * math.cos(angle) * 1.4, 5))
            self.points[(ci, place)] = point
        label = _SPOT_LABELS[place % len(_SPOT_LABELS)] if place % 3 == 0 else None
        return {"key": f"addr:{c.insee}:{place_key(address)}", "insee": c.insee, "commune": c.name,
                "address": address, "place_label": label, "point": point}

    def lead(self, i: int) -> dict[str, Any]:
        """One lead as ``_lead`` draws it, in plain values."""
        rng = self.rng
        kind = rng.choices(_KIND_LIST, _KIND_W)[0]
        agencies = _AGENCIES[kind]
        agency = rng.choices(list(agencies), list(agencies.values()))[0]
        describe = kind in (LeadKind.CITIZEN_REPORT, LeadKind.SURVEILLANCE, LeadKind.VIDEO_PROTECTION)
        crew = None
        if rng.random() < 0.45:
            crew = self.crews[min(bisect.bisect_left(self.crew_cum, rng.random() * self.crew_cum[-1]),
                                  len(self.crews) - 1)]
        persons: list[tuple[str, PersonRole, dict[str, Any]]] = []
        vehicles: list[dict[str, Any]] = []
        phones: list[str] = []
        deal_point = None

        def person(pseudonym: str, role: PersonRole, desc: bool) -> tuple[str, PersonRole, dict[str, Any]]:
            d: dict[str, Any] = {}
            if desc:
                lo = rng.randint(16, 40)
                d = {"sex": rng.choice(("male", "male", "male", "female")), "apparent_age_min": lo,
                     "apparent_age_max": lo + rng.randint(2, 8), "clothing": rng.choice(_CLOTHING)}
            return pseudonym, role, d

        if crew is not None:
            ci = crew.commune
            place = rng.choice(crew.spots) if rng.random() < 0.7 else self._place_index(self.communes[ci])
            for pseudonym, role in rng.sample(crew.persons, min(len(crew.persons), rng.choice((1, 1, 2, 3)))):
                persons.append(person(pseudonym, role, describe and rng.random() < 0.3))
            if rng.random() < 0.35:
                persons.append(person(self._pseudonym(), PersonRole.BUYER, False))
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
                if all(p[0] != pseudonym for p in persons):
                    persons.append(person(pseudonym, rng.choice(
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
        location = None if r < 0.03 else self._place(ci, None if r < 0.11 else place)
        c = self.communes[ci]
        day = END - timedelta(days=rng.random() * SPAN_DAYS)
        hour = rng.choices(range(24), _HOURS_W)[0]
        observed = day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
        if observed > END:
            observed -= timedelta(days=1)
        reported = observed + timedelta(minutes=rng.randint(10, 36 * 60))
        seizure = None
        if kind is LeadKind.SEIZURE or (kind is LeadKind.SEARCH and rng.random() < 0.6) or (
                kind is LeadKind.ARREST and rng.random() < 0.35):
            items = [(s.value, float(rng.randint(2, 2500))) for s in substances]
            cash = float(rng.randint(50, 20000)) if rng.random() < 0.4 else None
            weapons = rng.random() < 0.05
            seizure = {"items": items, "cash": cash, "weapons": weapons, "packaging": rng.random() < 0.3}
        restricted: list[Agency] = []
        if rng.random() < 0.06:
            restricted = [agency] + ([rng.choice(_ALL_AGENCIES)] if rng.random() < 0.5 else [])
        where = location.get("address") if location and location.get("address") else c.name
        narrative = (f"{_KIND_FR[kind]} : activité liée aux stupéfiants, {where} ({c.name}). "
                     f"{len(persons)} individu(s), {len(vehicles)} véhicule(s) cité(s).")
        observed_at = None if rng.random() < 0.1 else observed
        deal = None
        if deal_point is not None:
            label = f"Point de deal {_STREETS[(deal_point * 5 + ci) % len(_STREETS)]}"
            deal = (f"{c.insee}:{place_key(label)}", label, c.insee)
        return {
            "i": i, "agency": agency.value, "kind": kind, "channel": rng.choice(_CHANNELS[kind]).value,
            "observed_at": observed_at, "reported_at": reported, "location": location,
            "deal_point": deal,
            "vehicles": list({v["plate"]: v for v in vehicles}.values()),
            "persons": persons, "phones": list(dict.fromkeys(phones)),
            "substances": sorted({s.value for s in substances}) if seizure is None else [],
            "seizure": seizure, "narrative": narrative,
            "handling_code": rng.choices(_HANDLING, _HANDLING_W)[0].value,
            "source_reliability": rng.choice(_RELIABILITY),
            "information_credibility": rng.choice(_CREDIBILITY),
            "restricted_to": [a.value for a in dict.fromkeys(restricted)],
            "embargo_until": reported + timedelta(days=rng.randint(30, 180)) if rng.random() < 0.02 else None,
        }


class CsvGraph:
    """The CSV files of one graph, entities written once each."""

    def __init__(self, directory: Path, seed: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.seed = directory, seed
        self._files = {}
        self.writers: dict[str, Any] = {}
        for stem, (_, header) in {**NODE_FILES, **REL_FILES}.items():
            f = open(directory / f"{stem}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._files[stem] = f
            self.writers[stem] = csv.writer(f)
            self.writers[stem].writerow(header)
        self.seen: dict[str, set[str]] = {stem: set() for stem in NODE_FILES}
        self.nodes = 0
        self.relationships = 0
        self.leads = 0

    def _node(self, stem: str, key: str, *rest: Any) -> None:
        seen = self.seen[stem]
        if key not in seen:
            seen.add(key)
            self.writers[stem].writerow((key, *rest))
            self.nodes += 1

    def _rel(self, stem: str, *row: Any) -> None:
        self.writers[stem].writerow(row)
        self.relationships += 1

    def add(self, lead: dict[str, Any], ids: Any, now: str) -> None:
        w = self.writers
        agency = lead["agency"]
        source_ref = f"bench-{self.seed}-{lead['i']:08d}"
        sk = f"{agency}|{source_ref}"
        lead_id = f"L-{uuid.UUID(int=ids.getrandbits(128), version=4)}"
        loc = lead["location"]
        obs, rep, emb = lead["observed_at"], lead["reported_at"], lead["embargo_until"]
        w["leads"].writerow((
            sk, lead_id, agency, source_ref, 1, "1.0", lead["kind"].value, lead["channel"],
            _ts(obs) if obs else "", _ts(rep), lead["narrative"], lead["handling_code"],
            lead["source_reliability"], lead["information_credibility"],
            ";".join(lead["restricted_to"]), _ts(emb) if emb else "", ";".join(lead["substances"]),
            loc["insee"] if loc else "", loc["insee"][:2] if loc else "",
            hashlib.sha256(f"{sk}:{lead_id}".encode()).hexdigest(), now, now, now))
        self.nodes += 1
        self.leads += 1
        self._node("agencies", agency)
        self._rel("provided_by", sk, agency)
        if loc is not None:
            key = loc["key"]
            if key not in self.seen["locations"]:
                point = loc.get("point")
                self._node("locations", key, loc["insee"], loc["commune"], loc.get("address") or "",
                           loc.get("place_label") or "",
                           f"{{latitude:{point[0]}, longitude:{point[1]}}}" if point else "")
                self._node("communes", loc["insee"], loc["commune"], loc["insee"][:2])
                self._rel("in_commune", key, loc["insee"])
            self._rel("lead_at", sk, key, agency, lead_id)
        for v in lead["vehicles"]:
            self._node("vehicles", v["plate"])
            self._rel("mentions_vehicle", sk, v["plate"], agency, v["make"], v["model"], v["colour"],
                      v["kind"], lead_id)
        for phone in lead["phones"]:
            self._node("phones", phone)
            self._rel("mentions_phone", sk, phone, agency, lead_id)
        for pseudonym, role, d in lead["persons"]:
            self._node("persons", pseudonym)
            self._rel("involves", sk, pseudonym, agency, role.value, d.get("sex", ""),
                      d.get("apparent_age_min", ""), d.get("apparent_age_max", ""),
                      d.get("clothing", ""), lead_id)
        for code in lead["substances"]:
            self._node("substances", code)
            self._rel("reports_substance", sk, code, agency, lead_id)
        if lead["deal_point"] is not None:
            key, label, insee = lead["deal_point"]
            self._node("deal_points", key, label, insee)
            self._rel("concerns", sk, key, agency, lead_id)
        s = lead["seizure"]
        if s is not None:
            sid = f"{lead_id}:seizure"
            self._node("seizures", sid, "" if s["cash"] is None else s["cash"],
                       '[{"kind": "handgun", "count": 1}]' if s["weapons"] else "",
                       1 if s["weapons"] else 0, "true" if s["packaging"] else "false",
                       _ts(obs or rep), agency)
            self._rel("recorded", sk, sid, agency, lead_id)
            if loc is not None:
                self._rel("seizure_at", sid, loc["key"], agency, lead_id)
            for code, quantity in s["items"]:
                self._node("substances", code)
                self._rel("of_substance", sid, code, agency, quantity, "g", lead_id)

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def arguments(self) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
        d = self.directory
        return ([(label, d / f"{stem}.csv") for stem, (label, _) in NODE_FILES.items()],
                [(rel, d / f"{stem}.csv") for stem, (rel, _) in REL_FILES.items()])


def generate(directory: Path, seed: int, min_nodes: int, progress: bool = True) -> dict[str, Any]:
    """Write the CSV files of a graph of at least ``min_nodes`` nodes; returns its counts."""
    t0 = time.perf_counter()
    world = BulkWorld(seed, expected_leads=int(min_nodes / NODES_PER_LEAD))
    out = CsvGraph(directory, seed)
    now = _ts(datetime.now(UTC))
    i, last = 0, 0
    try:
        while out.nodes < min_nodes:
            out.add(world.lead(i), world.ids, now)
            i += 1
            if progress and out.nodes - last >= 1_000_000:
                last = out.nodes
                print(f"  csv: {out.leads:>10,} leads, {out.nodes:>11,} nodes — "
                      f"{time.perf_counter() - t0:5.0f} s", flush=True)
    finally:
        out.close()
    return {"leads": out.leads, "nodes": out.nodes, "relationships": out.relationships,
            "generate_s": round(time.perf_counter() - t0, 1), "files": out.arguments()}


def cache_key(seed: int, min_nodes: int) -> str:
    """The directory name of a graph in the cache: size, generator version and seed."""
    return f"{size_label(min_nodes)}-g{GENERATOR_VERSION}-s{seed}"


def size_label(n: int) -> str:
    return f"{n / 1_000_000:g}M" if n >= 1_000_000 else f"{n / 1000:g}k"


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def ensure_csv(root: Path, seed: int, min_nodes: int) -> dict[str, Any]:
    """The CSV files under ``root/csv``, generated once (``.done`` holds their counts)."""
    done = root / "csv" / ".done"
    if done.is_file():
        return json.loads(done.read_text(encoding="utf-8"))
    print(f"generating the CSV of a graph of ≥ {min_nodes:,} nodes (seed {seed})…", flush=True)
    stats = generate(root / "csv", seed, min_nodes)
    stats = {k: v for k, v in stats.items() if k != "files"}
    done.write_text(json.dumps(stats), encoding="utf-8")
    return stats


def import_graph(server: Any, root: Path, seed: int, min_nodes: int) -> dict[str, Any]:
    """Generate (once) and import the graph into the local server of ``root`` (stopped, started
    once before). Returns the generation and import figures."""
    stats = ensure_csv(root, seed, min_nodes)
    out = CsvGraph.__new__(CsvGraph)
    out.directory = root / "csv"
    nodes, relationships = out.arguments()
    t = time.perf_counter()
    print(f"neo4j-admin database import full: {stats['nodes']:,} nodes, "
          f"{stats['relationships']:,} relationships…", flush=True)
    server.import_full(nodes, relationships, log_path=root / "import.log")
    stats["import_s"] = round(time.perf_counter() - t, 1)
    print(f"imported in {stats['import_s']:.0f} s", flush=True)
    return stats
