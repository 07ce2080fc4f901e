"""A seeded, coherent demo world of leads for the CROSS hub (Doubs 25, Orne 61, Vosges 88).

``generate_demo_leads()`` returns canonical :class:`~hub.contract.lead.Lead` objects;
``build_demo_world()`` returns the same leads plus the ground truth (networks, who is behind each
pseudonym, the cross-agency links that were planted) so tests and demos can check that the hub
finds them.

What the world contains (modelled on the cases in ``shared/seeds``; dates are placed relative to
the window, so any ``start``/``weeks`` gives the same story):

* **Planoise (Besançon)** — deal point in a hall of rue de Cologne, then rue du Piémont: manager,
  sellers, lookouts, a stash-keeper (« nourrice ») and a supplier driving up the A36. Citizens
  report it, police watch it, customs check the supplier's car on the A36, the gendarmerie meets the
  order line in a buyer's phone and the supplier in its own intelligence; raid, search (≈1.2 kg
  resin, herb, cocaine, 6 515 € — the 2021 figures), the social landlord ends the lease.
* **E-scooter courier, Besançon centre-ville** (end of July 2025 case): citizen report →
  surveillance → buyers and sellers arrested → search: ketamine, cocaine, cannabis, MDMA, cash.
* **Saint-Ferjeux** (October 2025 case): tip → arrest → home search, just under 1 kg of resin,
  herb, packaging bags; the gendarmerie had checked the same man and car weeks before.
* **Alençon, Perseigne** (13 December 2023 operation): citizen reports on the halls of tours
  Pascal and Péguy, landlord report, video-protection, an earlier crack-making site, the supply car
  checked on the A28 by the gendarmerie's flow-control unit and flagged by customs; operation
  night: 5.4 kg resin, 720 g heroin, 900 g herb, 150 g crack, 8 300 €, 2 handguns, packaging.
* **Pays de Montbéliard** — Petite-Hollande deal point supplied by a car that customs stop at the
  A36 aire d'Écot with 12.4 kg of herb.
* **Haut-Doubs** — cocaine crossing the Swiss border (Les Verrières, Jougne-Vallorbe on the N57),
  undeclared cash, a reseller known to the gendarmerie.
* **Épinal** — Bitola-Champbeauvert deal point supplied over the N57, seen by gendarmerie, police
  and customs.
* A background stream: citizen reports at the real volume (Doubs ≈16 a month, 186 in Jan–Nov
  2025; Orne and Vosges scaled by population) times ``n / 600``, and field intelligence,
  surveillance, stops and checks, video-protection, arrests, searches, seizures and landlord
  reports, some about the networks above (so links grow naturally), most about passers-by.
* A handful of leads appear twice: version 1 then version 2 (lab-confirmed weights, a
  re-evaluated source, a lifted restriction), as separate objects, the later after the earlier.

Persons are only keyed pseudonyms of fake identities under the demo linkage key (never a name);
narratives are French and sanitized (typed placeholders [TEL], [NOM]). Same seed, same leads.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from connectors.pseudonym import LinkageKey, LinkageKeyring
from connectors.samples.world import (
    COMMUNES,
    PLACES,
    PLACES_BY_KEY,
    POLICE_ZONE,
    FakeIdentity,
    Place,
    jitter_point,
    random_fni_plate,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from hub.contract.lead import (
    SUBSTANCE_LABELS_FR,
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
    source_key,
)
from hub.contract.normalize import normalize_phone, normalize_plate

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_START = datetime(2025, 7, 21, tzinfo=PARIS)  # a Monday; the e-scooter report falls end of July

# The demo linkage key. PUBLIC ON PURPOSE: it only pseudonymizes the fake identities of the demo,
# so anyone may recompute a demo pseudonym. A real CROSS key is a secret shared by its connectors.
DEMO_KEY_ID = "demo1"
DEMO_KEY_SECRET = "crosshub-demo-linkage-key-2025-not-a-secret"


def demo_keyring() -> LinkageKeyring:
    """The fixed demo keyring: one key, id ``demo1``, secret :data:`DEMO_KEY_SECRET`."""
    return LinkageKeyring(current=LinkageKey(key_id=DEMO_KEY_ID, secret=SecretStr(DEMO_KEY_SECRET)))


# Real monthly volume of drug-related citizen reports (Doubs: 186 over Jan–Nov 2025 ≈ 16/month,
# seeds/001). Orne and Vosges are not published: scaled on population (≈280k and ≈360k vs ≈545k).
CITIZEN_REPORTS_PER_MONTH: dict[str, float] = {"25": 16.0, "61": 8.0, "88": 11.0}
DEPT_WEIGHTS: dict[str, float] = {"25": 0.55, "61": 0.20, "88": 0.25}
DOUANES_DIRECTION: dict[str, str] = {"25": "BES", "61": "CAE", "88": "NAN"}

# Scripted leads (all scenarios, version 1) and the fewest version-2 updates: the smallest ``n``.
SCRIPTED_LEADS = 63
SCRIPTED_UPDATES = 6
MIN_DEMO_LEADS = SCRIPTED_LEADS + SCRIPTED_UPDATES


# --- The world's entities -----------------------------------------------------------------------


@dataclass
class Member:
    """A (fake) person of the world: identity known to the demo only, pseudonym in the leads."""

    key: str
    identity: FakeIdentity
    role: PersonRole
    pseudonym: str
    aliases: list[str]
    description: PhysicalDescription

    def ref(self, role: PersonRole | None = None, describe: bool = False) -> PersonRef:
        return PersonRef(pseudonym=self.pseudonym, aliases=list(self.aliases),
                         role=role or self.role,
                         description=self.description if describe else None)


@dataclass
class DemoVehicle:
    plate: str | None  # canonical (normalize_plate)
    make: str
    model: str
    colour: str
    kind: Literal["car", "van", "truck", "motorbike", "scooter", "e_scooter", "bicycle", "other"]

    def lead(self) -> Vehicle:
        return Vehicle(plate=self.plate, make=self.make, model=self.model, colour=self.colour,
                       kind=self.kind)


@dataclass
class Network:
    key: str
    label: str
    departement: str
    deal_points: list[str]  # place keys
    places: list[str]  # other place keys where it operates
    members: dict[str, Member] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)  # key -> E.164
    vehicles: dict[str, DemoVehicle] = field(default_factory=dict)
    substances: list[Substance] = field(default_factory=list)
    origin: str = "la région lyonnaise"


@dataclass(frozen=True)
class CrossAgencyLink:
    """A link planted on purpose: ``value`` (canonical plate, E.164 phone, pseudonym, or
    ``insee|label`` of a deal point) appears in leads of every agency in ``agencies``. For
    ``citizen_to_raid``, citizen reports name the deal point before an arrest or search does."""

    kind: Literal["plate", "phone", "person", "citizen_to_raid"]
    value: str
    agencies: tuple[Agency, ...]
    note: str


@dataclass
class DemoWorld:
    seed: int
    start: datetime
    end: datetime
    keyring: LinkageKeyring
    leads: list[Lead]
    networks: dict[str, Network]
    identities: dict[str, FakeIdentity]  # pseudonym -> fake identity (ground truth)
    links: list[CrossAgencyLink]
    updated_lead_ids: list[str]  # source keys (agency|ref) of leads that also come as version 2

    def agencies_by_entity(self) -> dict[str, dict[str, list[Agency]]]:
        """For each entity kind (``plate``, ``phone``, ``person``, ``deal_point``), the agencies
        whose leads mention each value — computed from the leads themselves."""
        found: dict[str, dict[str, set[Agency]]] = {
            k: defaultdict(set) for k in ("plate", "phone", "person", "deal_point")}
        for lead in self.leads:
            a = lead.source_agency
            for v in lead.vehicles:
                if v.plate:
                    found["plate"][v.plate].add(a)
            for p in lead.phones:
                found["phone"][p].add(a)
            for p in lead.persons:
                found["person"][p.pseudonym].add(a)
            if lead.deal_point:
                found["deal_point"][f"{lead.deal_point.insee_code}|{lead.deal_point.label}"].add(a)
        return {k: {v: sorted(s) for v, s in sorted(d.items())} for k, d in found.items()}

    def shared_across_agencies(self, kind: str) -> dict[str, list[Agency]]:
        """Values of an entity kind seen by two agencies or more."""
        return {v: a for v, a in self.agencies_by_entity()[kind].items() if len(a) >= 2}


# --- Drafts -------------------------------------------------------------------------------------


@dataclass
class _Draft:
    agency: Agency
    dept: str
    data: dict[str, Any]
    douanes_unit: Literal["DNRED", "DR"] = "DR"
    update: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    scripted: bool = True


def _fr_number(value: Decimal) -> str:
    """French formatting: 5,4 / 1 248 / 6 515."""
    if value == value.to_integral_value():
        s = f"{int(value):,}".replace(",", " ")
    else:
        s = f"{value:f}".rstrip("0").replace(".", ",")
        if "," in s:
            whole, frac = s.split(",")
            s = f"{int(whole):,}".replace(",", " ") + "," + frac
    return s


def _qty_fr(q: SubstanceQuantity, raw_unit: str | None = None) -> str:
    label = SUBSTANCE_LABELS_FR[q.substance]
    if q.quantity is None:
        return label
    if q.unit == "unit":
        return f"{_fr_number(q.quantity)} {raw_unit or 'unités'} de {label}"
    grams = q.quantity
    if grams >= 1000:
        return f"{_fr_number(grams / 1000)} kg de {label}"
    return f"{_fr_number(grams)} g de {label}"


def _join_fr(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " et " + items[-1]


def seizure_fr(s: Seizure) -> str:
    """French wording of a seizure: « 1,2 kg de résine de cannabis, 6 515 € en numéraire… »."""
    parts = [_qty_fr(q, "comprimés" if q.substance == Substance.MDMA else None) for q in s.substances]
    if s.cash_eur:
        parts.append(f"{_fr_number(s.cash_eur)} € en numéraire")
    for w in s.weapons:
        pl = "s" if w.count > 1 else ""
        name = {WeaponKind.HANDGUN: f"arme{pl} de poing", WeaponKind.LONG_GUN: f"arme{pl} d'épaule",
                WeaponKind.AUTOMATIC_WEAPON: f"arme{pl} automatique{pl}",
                WeaponKind.BLADE: f"arme{pl} blanche{pl}", WeaponKind.OTHER: f"arme{pl}"}[w.kind]
        parts.append(f"{w.count} {name}")
    if s.packaging_material:
        parts.append("du matériel de conditionnement")
    return _join_fr(parts)


def _sz(*items: tuple[Substance, str, str], cash: str | None = None,
        weapons: Iterable[tuple[WeaponKind, int]] = (), packaging: bool = False) -> Seizure:
    return Seizure(
        substances=[SubstanceQuantity(substance=s, quantity=Decimal(q), unit=u) for s, q, u in items],
        cash_eur=Decimal(cash) if cash else None,
        weapons=[Weapon(kind=k, count=c) for k, c in weapons],
        packaging_material=packaging,
    )


_CLOTHING = (
    "survêtement noir, casquette", "doudoune noire à capuche", "ensemble de survêtement gris",
    "sacoche en bandoulière, baskets blanches", "veste de sport rouge et noire",
    "jean, sweat à capuche beige", "bob noir, t-shirt blanc", "parka kaki",
    "veste en cuir noire", "maillot de football, short noir", "sweat à capuche bleu marine",
    "blouson noir, tour de cou", "veste matelassée grise, sac banane",
)
_MARKS = (
    "cicatrice à l'arcade gauche", "tatouage sur l'avant-bras droit", "barbe courte",
    "cheveux décolorés", "tresses", "boucle d'oreille à gauche", "boite légèrement",
    "lunettes de soleil même le soir", "crâne rasé",
)
_RURAL_SPOTS = (
    "parking de la salle des fêtes", "abords du collège", "aire de jeux", "parking du supermarché",
    "arrêt de car", "parking de la gare", "terrain de sport", "zone artisanale",
    "parking du cimetière", "chemin derrière le gymnase",
)
_ORIGINS = (
    "la région lyonnaise", "l'agglomération dijonnaise", "l'agglomération mulhousienne",
    "la région parisienne", "la Suisse", "la région du Mans", "l'agglomération nancéienne",
    "les Pays-Bas via le Luxembourg", "l'Espagne",
)
_CACHES = (
    "une cache aménagée derrière la console centrale", "le double fond du coffre",
    "les panneaux de portière", "la roue de secours", "un sac de sport dans le coffre",
    "le réservoir de lave-glace aménagé", "le plafonnier",
)

_HANDLING_WEIGHTS: dict[LeadKind, tuple[float, float, float, float]] = {
    LeadKind.CITIZEN_REPORT: (0.40, 0.52, 0.06, 0.02),
    LeadKind.FIELD_INTELLIGENCE: (0.25, 0.40, 0.22, 0.13),
    LeadKind.SURVEILLANCE: (0.25, 0.45, 0.22, 0.08),
    LeadKind.STOP_CHECK: (0.70, 0.25, 0.05, 0.00),
    LeadKind.VIDEO_PROTECTION: (0.45, 0.45, 0.10, 0.00),
    LeadKind.ARREST: (0.75, 0.20, 0.05, 0.00),
    LeadKind.SEARCH: (0.70, 0.22, 0.06, 0.02),
    LeadKind.SEIZURE: (0.65, 0.25, 0.07, 0.03),
    LeadKind.LANDLORD_REPORT: (0.40, 0.55, 0.05, 0.00),
}
# (reliability, credibility) choices with weights, per kind.
_EVALUATION: dict[LeadKind, tuple[tuple[str, str, int], ...]] = {
    LeadKind.CITIZEN_REPORT: (("X", "4", 8), ("X", "3", 4), ("C", "3", 4), ("C", "4", 2),
                              ("B", "3", 1)),
    LeadKind.FIELD_INTELLIGENCE: (("B", "2", 5), ("C", "3", 4), ("B", "3", 3), ("A", "2", 1),
                                  ("C", "2", 1), ("X", "4", 1)),
    LeadKind.SURVEILLANCE: (("A", "1", 6), ("A", "2", 3), ("B", "2", 1)),
    LeadKind.STOP_CHECK: (("A", "1", 8), ("A", "2", 2)),
    LeadKind.VIDEO_PROTECTION: (("A", "2", 5), ("A", "1", 2), ("B", "2", 1)),
    LeadKind.ARREST: (("A", "1", 1),),
    LeadKind.SEARCH: (("A", "1", 1),),
    LeadKind.SEIZURE: (("A", "1", 1),),
    LeadKind.LANDLORD_REPORT: (("B", "2", 3), ("B", "3", 2), ("C", "3", 1)),
}


# --- Builder ------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, start: datetime, weeks: int, keyring: LinkageKeyring):
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.days = weeks * 7
        self.end = start + timedelta(days=self.days)
        self.keyring = keyring
        self.drafts: list[_Draft] = []
        self.identities: dict[str, FakeIdentity] = {}
        self._normalized: set[str] = set()
        self._plates: set[str] = set()
        self._phones: set[str] = set()
        self.links: list[CrossAgencyLink] = []
        self.networks: dict[str, Network] = {}

    # -- time -------------------------------------------------------------------------------

    def day(self, frac: float) -> int:
        return max(0, min(self.days - 1, int(frac * self.days)))

    def at(self, day: int, hour: int, minute: int | None = None) -> datetime:
        d = self.start.astimezone(PARIS).date() + timedelta(days=day)
        m = self.rng.randint(0, 59) if minute is None else minute
        return datetime.combine(d, time(hour % 24, m), tzinfo=PARIS)

    def when(self, frac: float, hour: int, minute: int | None = None) -> datetime:
        return self.at(self.day(frac), hour, minute)

    def later(self, t: datetime, min_h: float, max_h: float) -> datetime:
        out = t + timedelta(minutes=round(self.rng.uniform(min_h, max_h) * 60))
        return out.astimezone(PARIS)

    def activity_hour(self) -> int:
        return self.rng.choices(range(10, 24), weights=[1, 1, 2, 2, 3, 4, 5, 6, 7, 7, 6, 5, 3, 2])[0]

    # -- entities -----------------------------------------------------------------------------

    def identity(self, min_age: int = 17, max_age: int = 45) -> FakeIdentity:
        while True:
            ident = random_identity(self.rng, min_age=min_age, max_age=max_age,
                                    on=self.start.date())
            if ident.normalized not in self._normalized:
                self._normalized.add(ident.normalized)
                return ident

    def describe(self, ident: FakeIdentity) -> PhysicalDescription:
        age = ident.age_on(self.start.date())
        lo = max(10, age - self.rng.randint(1, 4))
        return PhysicalDescription(
            sex=ident.sex,
            apparent_age_min=lo,
            apparent_age_max=min(100, age + self.rng.randint(1, 5)),
            height_cm=self.rng.randint(160, 178) if ident.sex == "female" else self.rng.randint(165, 195),
            build=self.rng.choice(("slim", "medium", "heavy", "athletic")),
            clothing=self.rng.choice(_CLOTHING),
            distinctive_marks=self.rng.choice(_MARKS) if self.rng.random() < 0.4 else None,
        )

    def member(self, key: str, role: PersonRole, min_age: int = 18, max_age: int = 40) -> Member:
        ident = self.identity(min_age, max_age)
        token, aliases = self.keyring.pseudonymize(ident.normalized)
        self.identities[token] = ident
        return Member(key=key, identity=ident, role=role, pseudonym=token, aliases=aliases,
                      description=self.describe(ident))

    def passerby(self, role: PersonRole, min_age: int = 17, max_age: int = 55) -> Member:
        return self.member("passant", role, min_age, max_age)

    def plate(self, dept: str | None = None, fni_share: float = 0.08) -> str:
        while True:
            if dept and self.rng.random() < fni_share:
                raw = random_fni_plate(self.rng, dept)
            else:
                raw = random_siv_plate(self.rng)
            p = normalize_plate(raw)
            if p not in self._plates:
                self._plates.add(p)
                return p

    def vehicle(self, dept: str | None = None) -> DemoVehicle:
        v = random_vehicle(self.rng)
        return DemoVehicle(plate=self.plate(dept), make=v.make, model=v.model, colour=v.colour,
                           kind=v.kind)

    def phone(self) -> str:
        while True:
            p = normalize_phone(random_mobile(self.rng))
            if p not in self._phones:
                self._phones.add(p)
                return p

    def network(self, key: str, label: str, dept: str, deal_points: list[str], places: list[str],
                roles: dict[str, tuple[PersonRole, int, int]], phones: Sequence[str],
                vehicles: Sequence[str], substances: list[Substance], origin: str) -> Network:
        net = Network(key=key, label=label, departement=dept, deal_points=deal_points,
                      places=places, substances=substances, origin=origin)
        for k, (role, lo, hi) in roles.items():
            net.members[k] = self.member(k, role, lo, hi)
        for k in phones:
            net.phones[k] = self.phone()
        for k in vehicles:
            net.vehicles[k] = self.vehicle(dept)
        self.networks[key] = net
        return net

    def link(self, kind: Literal["plate", "phone", "person", "citizen_to_raid"], value: str,
             agencies: Iterable[Agency], note: str) -> None:
        self.links.append(CrossAgencyLink(kind=kind, value=value, agencies=tuple(agencies), note=note))

    # -- locations ----------------------------------------------------------------------------

    def loc(self, place_key: str, metres: float = 40.0, label: str | None = None) -> Location:
        p = PLACES_BY_KEY[place_key]
        lat, lon = jitter_point(self.rng, p.lat, p.lon, metres)
        return Location(insee_code=p.insee, commune=p.commune, address=p.address,
                        place_label=label or p.label, point=GeoPoint(lat=lat, lon=lon))

    def loc_commune(self, insee: str, label: str | None = None, metres: float = 900.0) -> Location:
        c = COMMUNES[insee]
        lat, lon = jitter_point(self.rng, c.lat, c.lon, metres)
        return Location(insee_code=insee, commune=c.name, place_label=label,
                        point=GeoPoint(lat=lat, lon=lon))

    @staticmethod
    def deal_point(place_key: str) -> DealPoint:
        p = PLACES_BY_KEY[place_key]
        label = f"{p.quartier} — {p.label}" if p.quartier else p.label
        return DealPoint(insee_code=p.insee, label=label)

    @staticmethod
    def deal_point_key(place_key: str) -> str:
        dp = _Builder.deal_point(place_key)
        return f"{dp.insee_code}|{dp.label}"

    # -- codes --------------------------------------------------------------------------------

    def handling(self, kind: LeadKind) -> HandlingCode:
        w = _HANDLING_WEIGHTS[kind]
        return self.rng.choices(list(HandlingCode), weights=w)[0]

    def evaluation(self, kind: LeadKind) -> tuple[SourceReliability, InformationCredibility]:
        opts = _EVALUATION[kind]
        r, c, _ = self.rng.choices(opts, weights=[o[2] for o in opts])[0]
        return SourceReliability(r), InformationCredibility(c)

    # -- leads --------------------------------------------------------------------------------

    def add(self, agency: Agency, kind: LeadKind, channel: SourceChannel, *,
            reported: datetime, narrative: str, observed: datetime | None = None,
            location: Location | None = None, deal_point: DealPoint | None = None,
            vehicles: Iterable[Vehicle] = (), persons: Iterable[PersonRef] = (),
            phones: Iterable[str] = (), substances: Iterable[Substance] = (),
            seizure: Seizure | None = None, handling: HandlingCode | None = None,
            evaluation: tuple[str, str] | None = None, restricted_to: Iterable[Agency] = (),
            embargo_until: datetime | None = None, douanes_unit: Literal["DNRED", "DR"] = "DR",
            update: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
            scripted: bool = True, dept: str | None = None) -> _Draft:
        if dept is None:
            dept = location.insee_code[:2] if location else (
                deal_point.insee_code[:2] if deal_point else "25")
        if evaluation is None:
            rel, cred = self.evaluation(kind)
        else:
            rel, cred = SourceReliability(evaluation[0]), InformationCredibility(evaluation[1])
        # de-duplicate persons and phones, keeping order
        seen: set[str] = set()
        persons_u = []
        for p in persons:
            if p.pseudonym not in seen:
                seen.add(p.pseudonym)
                persons_u.append(p)
        phones_u = list(dict.fromkeys(phones))
        data: dict[str, Any] = dict(
            source_agency=agency, kind=kind, channel=channel, observed_at=observed,
            reported_at=reported, location=location, deal_point=deal_point,
            vehicles=list(vehicles), persons=persons_u, phones=phones_u,
            substances=list(dict.fromkeys(substances)), seizure=seizure, narrative=narrative,
            handling_code=handling or self.handling(kind), source_reliability=rel,
            information_credibility=cred, restricted_to=list(restricted_to),
            embargo_until=embargo_until,
        )
        d = _Draft(agency=agency, dept=dept, data=data, douanes_unit=douanes_unit, update=update,
                   scripted=scripted)
        self.drafts.append(d)
        return d

    # -- source references (assigned in chronological order, per issuing unit) ----------------

    def assign_refs(self, drafts: list[_Draft]) -> list[str]:
        counters: dict[str, int] = {}
        refs = []
        for d in drafts:
            year = d.data["reported_at"].year
            if d.agency == Agency.POLICE:
                prefix, width = f"PN-{d.dept}-{year}", 6
            elif d.agency == Agency.GENDARMERIE:
                prefix, width = f"GN-BDRIJ{d.dept}-{year}", 5
            elif d.douanes_unit == "DNRED":
                prefix, width = f"DNRED-{year}", 5
            else:
                prefix, width = f"DR-{DOUANES_DIRECTION.get(d.dept, 'BES')}-{year}", 5
            if prefix not in counters:
                counters[prefix] = self.rng.randint(40, 900)
            counters[prefix] += self.rng.randint(1, 4)  # other procedures in between
            refs.append(f"{prefix}-{counters[prefix]:0{width}d}")
        return refs


# --- Updates (version 2) ------------------------------------------------------------------------


def _lab_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2 of a seizure: weights confirmed by the laboratory (slightly different)."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        s: Seizure = data["seizure"]
        subs = []
        for i, q in enumerate(s.substances):
            if q.quantity is not None and q.unit == "g":
                delta = Decimal(1) + Decimal((-1) ** i * (2 + i)) / Decimal(100)
                subs.append(SubstanceQuantity(substance=q.substance,
                                              quantity=(q.quantity * delta).quantize(Decimal("0.1")),
                                              unit="g"))
            else:
                subs.append(q)
        new = s.model_copy(update={"substances": subs})
        new = Seizure.model_validate(new.model_dump())
        return {**data, "seizure": new,
                "narrative": data["narrative"] + f" Mise à jour : {note} ({seizure_fr(new)}).",
                "information_credibility": InformationCredibility.CONFIRMED}

    return apply


def _reevaluate_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2 of a report: corroborated, so re-evaluated."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "source_reliability": SourceReliability.B,
                "information_credibility": InformationCredibility.KNOWN_PERSONALLY,
                "narrative": data["narrative"] + f" Mise à jour : {note}"}

    return apply


def _lift_restriction_update(note: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Version 2: the provider lifts its restriction once the operation is over."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "handling_code": HandlingCode.H1, "restricted_to": [],
                "embargo_until": None, "narrative": data["narrative"] + f" Mise à jour : {note}"}

    return apply


# --- Scenarios ----------------------------------------------------------------------------------

P = Agency.POLICE
G = Agency.GENDARMERIE
D = Agency.DOUANES
K = LeadKind
CH = SourceChannel
R = PersonRole
S = Substance


def _planoise(b: _Builder) -> None:
    net = b.network(
        "planoise", "Point de deal de Planoise (rue de Cologne puis rue du Piémont)", "25",
        deal_points=["bes_planoise_cologne", "bes_planoise_piemont"],
        places=["bes_planoise_europe", "bes_planoise_idf", "bes_planoise_bourgogne"],
        roles={"manager": (R.MANAGER, 24, 38), "seller1": (R.SELLER, 18, 26),
               "seller2": (R.SELLER, 18, 26), "lookout1": (R.LOOKOUT, 16, 19),
               "lookout2": (R.LOOKOUT, 16, 20), "lookout3": (R.LOOKOUT, 16, 21),
               "nourrice": (R.UNKNOWN, 30, 55), "supplier": (R.SUPPLIER, 27, 42)},
        phones=["order", "manager"], vehicles=["supply"],
        substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB, S.COCAINE], origin="la région lyonnaise")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp = b.deal_point("bes_planoise_cologne")
    dp2 = b.deal_point("bes_planoise_piemont")

    # Citizens report the hall of rue de Cologne (via the police: urban zone)
    texts = [
        "Signalement via la plateforme : allées et venues incessantes dans le hall de la rue de "
        "Cologne, surtout entre 17 h et 23 h. Deux ou trois jeunes postés en guetteurs à l'entrée, "
        "échanges rapides de main à main. Les clients restent moins de deux minutes.",
        "Le déclarant signale un numéro de commande diffusé sur un réseau social pour des "
        "livraisons à Planoise ([TEL], renseigné dans le champ téléphones). Le même groupe tient "
        "le hall de la rue de Cologne.",
        "Riverain : un véhicule vient se garer plusieurs fois par semaine devant l'immeuble de la "
        "rue de Cologne, le conducteur remet un sac à un jeune du hall puis repart aussitôt. "
        "Immatriculation relevée par le déclarant.",
        "Signalement anonyme : celui qui « donne les ordres » au hall de la rue de Cologne se fait "
        "appeler [NOM] ; il passe récupérer l'argent en fin de soirée. Description jointe.",
        "Riveraine excédée : cris des guetteurs à chaque passage de patrouille, odeur de cannabis "
        "dans la cage d'escalier, boîtes aux lettres forcées pour cacher les sachets.",
    ]
    for i, (frac, text) in enumerate(zip((0.04, 0.10, 0.18, 0.30, 0.52), texts, strict=True)):
        obs = b.when(frac, b.rng.choice((18, 19, 20, 21)))
        kw: dict[str, Any] = {}
        if i == 1:
            kw["phones"] = [ph["order"]]
        if i == 2:
            kw["vehicles"] = [veh.lead()]
        if i == 3:
            kw["persons"] = [m["manager"].ref(describe=True)]
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 20),
              location=b.loc("bes_planoise_cologne"), deal_point=dp,
              substances=[S.CANNABIS_RESIN] if i != 1 else [S.CANNABIS_RESIN, S.COCAINE],
              narrative=text, **kw)
    b.link("citizen_to_raid", b.deal_point_key("bes_planoise_cologne"), (P,),
           "Hall de la rue de Cologne signalé par des citoyens puis démantelé")

    t = b.when(0.14, 10)
    b.add(P, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t,
          location=b.loc("bes_planoise_cologne", 80), deal_point=dp,
          persons=[m["manager"].ref(), m["seller1"].ref(), m["seller2"].ref()],
          phones=[ph["order"], ph["manager"]], substances=[S.CANNABIS_RESIN, S.COCAINE],
          handling=HandlingCode.H2, evaluation=("B", "2"),
          narrative="Renseignement de source : le point de deal du hall de la rue de Cologne est "
                    "tenu par un gérant qui paie vendeurs et guetteurs à la journée. Ligne de "
                    "commande et ligne du gérant identifiées. Approvisionnement hebdomadaire "
                    "depuis la région lyonnaise par l'A36.")

    t = b.when(0.22, 19, 10)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("bes_planoise_cologne", 60), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["manager"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance en civil du hall de la rue de Cologne de 18 h 30 à 22 h : un "
                    "véhicule se gare, le conducteur remet un sac de sport au gérant du point. "
                    "Véhicule reparti en direction de l'A36.")

    t = b.when(0.33, 7, 40)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("a36_aire_marchaux", 80), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)],
          seizure=_sz((S.CANNABIS_RESIN, "250", "g"), cash="1350"),
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Contrôle douanier sur l'aire de Besançon-Marchaux (A36, sens Mulhouse) d'un "
                    "véhicule arrivant de la région lyonnaise. Marquage du chien sur les panneaux "
                    "de portière : 250 g de résine de cannabis et 1 350 € en numéraire. Conducteur "
                    "seul à bord, déclare se rendre à Besançon.")
    b.link("plate", veh.plate or "", (P, D, G), "Voiture du fournisseur de Planoise : surveillance "
           "police, contrôle douanier A36, renseignement gendarmerie")
    b.link("person", m["supplier"].pseudonym, (P, D, G), "Fournisseur de Planoise")

    t = b.when(0.40, 16, 20)
    buyer = b.passerby(R.BUYER, 19, 35)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc_commune("25527", "parking de la gare", 500), persons=[buyer.ref()],
          phones=[ph["order"]], vehicles=[b.vehicle("25").lead()],
          seizure=_sz((S.CANNABIS_RESIN, "10", "g")), evaluation=("A", "1"),
          narrative="Contrôle routier à Saint-Vit : conducteur en possession de 10 g de résine de "
                    "cannabis, dit s'approvisionner à Planoise. Le numéro de commande du point "
                    "figure dans le répertoire de son téléphone ([TEL], voir champ téléphones).")
    b.link("phone", ph["order"], (P, G), "Ligne de commande de Planoise : signalement citoyen, "
           "renseignement police, contrôle gendarmerie d'un acheteur")

    t = b.when(0.48, 11)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("25467", None, 700), persons=[m["supplier"].ref()],
          vehicles=[veh.lead()], substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB],
          handling=HandlingCode.H1, evaluation=("B", "2"), dept="25",
          narrative="Renseignement BDRIJ : un individu domicilié dans le secteur de "
                    "Pouilley-les-Vignes effectue des allers-retours hebdomadaires vers la région "
                    "lyonnaise avec le même véhicule ; train de vie sans rapport avec ses revenus. "
                    "Serait le fournisseur d'un point de deal de Planoise.")

    t = b.when(0.58, 21, 15)
    b.add(P, K.VIDEO_PROTECTION, CH.VIDEO, observed=t, reported=b.later(t, 10, 40),
          location=b.loc("bes_planoise_idf", 50), deal_point=dp, evaluation=("A", "2"),
          narrative="Exploitation de la vidéoprotection (avenue de l'Île-de-France) : va-et-vient "
                    "caractéristique vers le hall de la rue de Cologne entre 19 h et 23 h, remises "
                    "de sachets et de billets, un guetteur à vélo.")

    t = b.when(0.66, 17, 30)
    raid_day = b.day(0.74)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 4, 8),
          location=b.loc("bes_planoise_cologne", 50), deal_point=dp,
          persons=[m["seller1"].ref(describe=True), m["lookout1"].ref(describe=True),
                   m["lookout2"].ref(describe=True)],
          handling=HandlingCode.H2, evaluation=("A", "1"),
          embargo_until=b.at(raid_day, 23, 0),
          narrative="Surveillance préalable à l'interpellation : un vendeur et deux guetteurs "
                    "identifiés, rotation des équipes à 20 h. Réapprovisionnement depuis un "
                    "appartement de la rue du Piémont. Ne pas intervenir avant l'opération.")

    t = b.at(raid_day, 18, 45)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("bes_planoise_cologne", 30), deal_point=dp,
          persons=[m["seller1"].ref(), m["seller2"].ref(), m["lookout1"].ref(),
                   m["lookout2"].ref(), m["lookout3"].ref()],
          seizure=_sz((S.CANNABIS_RESIN, "85", "g"), (S.COCAINE, "12", "g"), cash="1600"),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Interpellation de cinq individus au point de deal du hall de la rue de "
                    "Cologne : deux vendeurs et trois guetteurs. Découverte de 85 g de résine de "
                    "cannabis, 12 g de cocaïne et 1 600 € en numéraire. Placement en garde à vue.")
    t = b.at(raid_day + 1, 6, 5)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 7),
          location=b.loc("bes_planoise_piemont", 30, "Appartement, rue du Piémont"),
          deal_point=dp2, persons=[m["nourrice"].ref(), m["manager"].ref()],
          seizure=_sz((S.CANNABIS_RESIN, "1.2", "kg"), (S.CANNABIS_HERB, "310", "g"),
                      (S.COCAINE, "150", "g"), cash="6515", packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=_lab_update("pesée et analyses du laboratoire de police scientifique"),
          narrative="Perquisition dans l'appartement servant de nourrice, rue du Piémont : "
                    "1,2 kg de résine de cannabis, 310 g d'herbe, 150 g de cocaïne, 6 515 € en "
                    "numéraire et du matériel de conditionnement. La locataire et le gérant du "
                    "point sont placés en garde à vue.")

    t = b.when(0.82, 10)
    b.add(P, K.LANDLORD_REPORT, CH.PARTNER, reported=t,
          location=b.loc("bes_planoise_piemont", 40), persons=[m["nourrice"].ref()],
          handling=HandlingCode.H1, evaluation=("B", "2"),
          narrative="Le bailleur social informe qu'une procédure de résiliation de bail est "
                    "engagée contre la locataire de l'appartement perquisitionné rue du Piémont, "
                    "pour troubles de jouissance liés au trafic.")

    obs = b.when(0.90, 20)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 18),
          location=b.loc("bes_planoise_piemont"), deal_point=dp2,
          persons=[m["lookout3"].ref(describe=True)], substances=[S.CANNABIS_RESIN],
          narrative="Signalement : depuis l'intervention de la police rue de Cologne, la vente a "
                    "repris au pied d'un immeuble de la rue du Piémont, avec un des anciens "
                    "guetteurs. Description jointe.")


def _scooter(b: _Builder) -> None:
    net = b.network(
        "centre_trottinette", "Livreur à trottinette, centre-ville élargi de Besançon", "25",
        deal_points=[], places=["bes_grande_rue", "bes_place_pasteur", "bes_rue_battant",
                                "bes_gare_viotte", "bes_place_revolution"],
        roles={"courier": (R.COURIER, 19, 27), "seller": (R.SELLER, 20, 30),
               "supplier": (R.SUPPLIER, 25, 40)},
        phones=["order"], vehicles=[], substances=[S.KETAMINE, S.COCAINE, S.CANNABIS_RESIN, S.MDMA],
        origin="la région parisienne")
    scooter = DemoVehicle(plate=None, make="Xiaomi", model="Electric Scooter 4 Pro", colour="noir",
                          kind="e_scooter")
    net.vehicles["scooter"] = scooter
    m, ph = net.members, net.phones

    obs = b.when(0.085, 21, 30)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 12),
          location=b.loc("bes_grande_rue", 60), vehicles=[scooter.lead()],
          substances=[S.COCAINE, S.CANNABIS_RESIN],
          narrative="Signalement via masecurite : un livreur de stupéfiants circule en trottinette "
                    "électrique noire dans le centre-ville élargi (Grande Rue, Battant, gare "
                    "Viotte). Il s'arrête quelques secondes devant des clients qui l'attendent, "
                    "remet un sachet et repart. Vu plusieurs soirs de suite.",
          update=_reevaluate_update("le signalement est corroboré par la surveillance mise en "
                                    "place ; source réévaluée."))
    d1 = b.day(0.095)
    for k, (place, hour, text, who) in enumerate((
        ("bes_place_pasteur", 20,
         "Surveillance place Pasteur : le livreur à trottinette effectue trois remises en vingt "
         "minutes. Les clients le contactent au préalable par téléphone.", ["courier"]),
        ("bes_gare_viotte", 21,
         "Surveillance aux abords de la gare Viotte : deux ventes constatées. Le numéro utilisé "
         "par les clients est identifié ([TEL], voir champ téléphones).", ["courier"]),
        ("bes_rue_battant", 19,
         "Surveillance rue Battant : le livreur se réapprovisionne auprès d'un second individu "
         "dans un hall, puis reprend sa tournée vers la place de la Révolution.",
         ["courier", "seller"]),
    )):
        t = b.at(d1 + 2 * k, hour, b.rng.randint(0, 50))
        b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
              location=b.loc(place, 50), vehicles=[scooter.lead()],
              persons=[m[w].ref(describe=True) for w in who],
              phones=[ph["order"]] if k == 1 else [],
              handling=HandlingCode.H2 if k == 1 else HandlingCode.H1, evaluation=("A", "1"),
              narrative=text)
    arrest_day = b.day(0.155)
    t = b.at(arrest_day, 20, 40)
    buyers = [b.passerby(R.BUYER, 18, 40), b.passerby(R.BUYER, 18, 40)]
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("bes_place_revolution", 40), vehicles=[scooter.lead()],
          persons=[m["courier"].ref(), m["seller"].ref()] + [x.ref() for x in buyers],
          seizure=_sz((S.COCAINE, "14", "g"), (S.MDMA, "6", "comprimés"), cash="420"),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Interpellation de deux acheteurs et de deux vendeurs, dont le livreur à "
                    "trottinette, place de la Révolution. Découverte de 14 g de cocaïne, "
                    "6 comprimés de MDMA et 420 € en numéraire. Trottinette saisie.")
    t = b.at(arrest_day + 1, 6, 10)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("bes_rue_battant", 60, "Domicile du livreur, secteur Battant"),
          persons=[m["courier"].ref()],
          seizure=_sz((S.KETAMINE, "38", "g"), (S.COCAINE, "54", "g"),
                      (S.CANNABIS_RESIN, "210", "g"), (S.CANNABIS_HERB, "95", "g"),
                      (S.MDMA, "60", "comprimés"), cash="3270", packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=_lab_update("résultats des analyses toxicologiques"),
          narrative="Perquisition au domicile du livreur : kétamine, cocaïne, résine et herbe de "
                    "cannabis, comprimés de MDMA, 3 270 € en numéraire et matériel de "
                    "conditionnement. Le parfait kit du revendeur.")
    t = b.when(0.20, 17, 50)
    buyer = b.passerby(R.BUYER, 18, 30)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 3),
          location=b.loc_commune("25212", "zone commerciale", 600), persons=[buyer.ref()],
          vehicles=[b.vehicle("25").lead()], phones=[ph["order"]],
          seizure=_sz((S.COCAINE, "2", "g")), evaluation=("A", "1"),
          narrative="Contrôle à École-Valentin : le conducteur détient 2 g de cocaïne achetés "
                    "« au livreur en trottinette » du centre de Besançon ; le numéro de commande "
                    "figure dans ses échanges ([TEL], voir champ téléphones).")
    b.link("phone", ph["order"], (P, G), "Ligne du livreur à trottinette : surveillance police, "
           "contrôle gendarmerie d'un acheteur")


def _saint_ferjeux(b: _Builder) -> None:
    net = b.network(
        "saint_ferjeux", "Revente depuis un appartement, Saint-Ferjeux (Besançon)", "25",
        deal_points=[], places=["bes_stferjeux_dole", "bes_stferjeux_basilique"],
        roles={"dealer": (R.SELLER, 22, 35)}, phones=[], vehicles=["car"],
        substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB], origin="l'agglomération dijonnaise")
    dealer, car = net.members["dealer"], net.vehicles["car"]
    t = b.when(0.45, 22, 10)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 3),
          location=b.loc_commune("25467", "route départementale, sortie du village", 800),
          persons=[dealer.ref(R.DRIVER)], vehicles=[car.lead()],
          seizure=_sz((S.CANNABIS_RESIN, "22", "g")), evaluation=("A", "1"),
          narrative="Contrôle routier de nuit à Pouilley-les-Vignes : 22 g de résine de cannabis "
                    "conditionnés en barrettes dans la boîte à gants. Le conducteur, domicilié à "
                    "Besançon, parle de consommation personnelle.")
    obs = b.when(0.86, 18)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 20),
          location=b.loc("bes_stferjeux_dole", 40), vehicles=[car.lead()],
          substances=[S.CANNABIS_RESIN],
          narrative="Signalement via la plateforme : va-et-vient dans un immeuble de la rue de "
                    "Dole, à Saint-Ferjeux. Le locataire descend à la voiture de ses clients, forte "
                    "odeur de cannabis dans l'escalier. Il se déplace avec le véhicule signalé.")
    t = b.when(0.90, 17, 0)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("bes_stferjeux_dole", 40), persons=[dealer.ref(describe=True)],
          vehicles=[car.lead()], handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance rue de Dole : quatre contacts brefs en une heure avec des "
                    "clients venus en voiture. Le mis en cause est identifié.")
    t = b.when(0.95, 18, 20)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 4),
          location=b.loc("bes_stferjeux_basilique", 60), persons=[dealer.ref()],
          seizure=_sz((S.CANNABIS_RESIN, "18", "g"), cash="560"), evaluation=("A", "1"),
          handling=HandlingCode.H0,
          narrative="Interpellation du mis en cause dans le quartier de Saint-Ferjeux, porteur de "
                    "18 g de résine de cannabis et de 560 € en numéraire.")
    t = b.at(b.day(0.95) + 1, 6, 0)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("bes_stferjeux_dole", 30, "Domicile du mis en cause, rue de Dole"),
          persons=[dealer.ref()],
          seizure=_sz((S.CANNABIS_RESIN, "960", "g"), (S.CANNABIS_HERB, "120", "g"),
                      packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisition au domicile : un peu moins d'un kilo de résine de cannabis "
                    "(960 g), 120 g d'herbe de cannabis et des sachets de conditionnement.")
    b.link("person", dealer.pseudonym, (G, P), "Revendeur de Saint-Ferjeux : contrôlé par la "
           "gendarmerie, interpellé par la police")
    b.link("plate", car.plate or "", (G, P), "Voiture du revendeur de Saint-Ferjeux")


def _perseigne(b: _Builder) -> None:
    net = b.network(
        "perseigne", "Réseau de Perseigne (Alençon), tours Pascal et Péguy", "61",
        deal_points=["aln_perseigne_pascal", "aln_perseigne_peguy"],
        places=["aln_perseigne_paix", "aln_perseigne_stendhal", "aln_courteille"],
        roles={"manager": (R.MANAGER, 25, 38), "seller1": (R.SELLER, 18, 28),
               "seller2": (R.SELLER, 18, 28), "seller3": (R.SELLER, 18, 30),
               "lookout1": (R.LOOKOUT, 16, 19), "lookout2": (R.LOOKOUT, 16, 20),
               "producer": (R.PRODUCER, 24, 40), "old_producer": (R.PRODUCER, 25, 45),
               "supplier": (R.SUPPLIER, 28, 45)},
        phones=["order", "manager"], vehicles=["supply"],
        substances=[S.CANNABIS_RESIN, S.HEROIN, S.CANNABIS_HERB, S.CRACK],
        origin="la région du Mans")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp_pascal = b.deal_point("aln_perseigne_pascal")
    dp_peguy = b.deal_point("aln_perseigne_peguy")
    citizen = [
        (0.05, "aln_perseigne_pascal", dp_pascal, [S.CANNABIS_RESIN],
         "Signalement via la plateforme : le hall de la tour Pascal est occupé tous les soirs par "
         "des vendeurs ; les habitants doivent passer entre eux pour rentrer chez eux."),
        (0.16, "aln_perseigne_peguy", dp_peguy, [S.CRACK, S.HEROIN],
         "Une habitante signale des consommateurs de crack dans la cage d'escalier de la tour "
         "Péguy et des ventes dans le hall à toute heure."),
        (0.27, "aln_perseigne_paix", dp_pascal, [S.CANNABIS_RESIN],
         "Signalement : guetteurs postés sur la place de la Paix les jours de marché, qui "
         "sifflent à l'arrivée des véhicules de police."),
        (0.38, "aln_perseigne_pascal", dp_pascal, [S.CANNABIS_RESIN, S.CANNABIS_HERB],
         "Le déclarant transmet le numéro de commande du point de la tour Pascal, qui circule "
         "parmi les jeunes du quartier ([TEL], voir champ téléphones)."),
        (0.50, "aln_perseigne_peguy", dp_peguy, [S.CRACK],
         "Signalement : une cave de la tour Péguy servirait à préparer le crack ; odeur "
         "d'ammoniaque et allées et venues la nuit."),
    ]
    for i, (frac, place, dp, subs, text) in enumerate(citizen):
        obs = b.when(frac, b.rng.choice((17, 19, 21, 22)))
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 24),
              location=b.loc(place), deal_point=dp, substances=subs,
              phones=[ph["order"]] if i == 3 else [], narrative=text,
              update=_reevaluate_update("numéro confirmé par le renseignement de terrain.")
              if i == 3 else None)
    b.link("citizen_to_raid", b.deal_point_key("aln_perseigne_pascal"), (P,),
           "Hall de la tour Pascal signalé par des citoyens puis visé par l'opération")

    t = b.when(0.12, 6, 0)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("aln_courteille", 80, "Appartement, quartier de Courteille"),
          persons=[m["old_producer"].ref()],
          seizure=_sz((S.CRACK, "42", "g"), (S.COCAINE, "30", "g"), packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisition d'un lieu de fabrication de crack : 42 g de crack, 30 g de "
                    "cocaïne, bicarbonate, réchaud et matériel de conditionnement.")
    t = b.when(0.20, 14)
    b.add(P, K.LANDLORD_REPORT, CH.PARTNER, reported=t, location=b.loc("aln_perseigne_peguy"),
          deal_point=dp_peguy, evaluation=("B", "2"),
          narrative="Le bailleur social signale une cave de la tour Péguy fracturée et réaménagée, "
                    "et des halls occupés ; il demande un passage des forces de l'ordre avant "
                    "travaux.")
    t = b.when(0.25, 15)
    b.add(P, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t, location=b.loc("aln_perseigne_paix", 80),
          deal_point=dp_pascal, persons=[m["manager"].ref(), m["producer"].ref()],
          phones=[ph["order"], ph["manager"]], substances=[S.CRACK, S.HEROIN, S.CANNABIS_RESIN],
          handling=HandlingCode.H2, evaluation=("B", "2"),
          narrative="Renseignement de source : le réseau de la tour Pascal vend résine, herbe, "
                    "héroïne et crack ; le crack est préparé sur place par un « cuisinier ». "
                    "Approvisionnement par la route depuis la région du Mans.")
    t = b.when(0.32, 22, 5)
    b.add(P, K.VIDEO_PROTECTION, CH.VIDEO, observed=t, reported=b.later(t, 12, 36),
          location=b.loc("aln_perseigne_paix", 30), deal_point=dp_pascal, evaluation=("A", "2"),
          narrative="Vidéoprotection, caméra de la place de la Paix : rotation de guetteurs entre "
                    "20 h et minuit, clients à pied vers le hall de la tour Pascal.")
    t = b.when(0.36, 15, 30)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc("a28_valframbert", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=_sz((S.CANNABIS_RESIN, "300", "g")),
          evaluation=("A", "1"),
          narrative="Contrôle des flux routiers sur l'A28 à hauteur de Valframbert (unité "
                    "spécialisée de la gendarmerie) : 300 g de résine de cannabis dans la roue de "
                    "secours. Le conducteur arrive de la Sarthe et se rend à Alençon.")
    t = b.when(0.44, 10)
    b.add(D, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t, vehicles=[veh.lead()],
          persons=[m["supplier"].ref()], substances=[S.CANNABIS_RESIN, S.HEROIN],
          location=b.loc("a28_valframbert", 300), douanes_unit="DNRED",
          handling=HandlingCode.H3, restricted_to=[Agency.DOUANES, Agency.POLICE], evaluation=("B", "3"),
          update=_lift_restriction_update("opération terminée, diffusion élargie à la CROSS."),
          narrative="Renseignement douanier : le véhicule effectue des allers-retours "
                    "hebdomadaires entre la région parisienne, la Sarthe et Alençon par l'A28. "
                    "Transport présumé de résine et d'héroïne pour le quartier de Perseigne.")
    t = b.when(0.47, 20, 45)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("aln_perseigne_stendhal", 60), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["manager"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance : le véhicule de livraison stationne rue Henri-Stendhal, le "
                    "conducteur remet un sac au gérant du point de la tour Pascal.")
    op_day = b.day(0.62)
    t = b.when(0.56, 19, 30)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("aln_perseigne_pascal", 30), deal_point=dp_pascal,
          persons=[m["seller1"].ref(describe=True), m["seller2"].ref(describe=True),
                   m["lookout1"].ref(describe=True), m["lookout2"].ref(describe=True)],
          handling=HandlingCode.H2, embargo_until=b.at(op_day, 23, 59), evaluation=("A", "1"),
          narrative="Surveillance préparatoire : deux vendeurs et deux guetteurs identifiés au "
                    "hall de la tour Pascal ; stock présumé dans deux appartements de la tour. "
                    "Ne pas intervenir avant l'opération coordonnée avec le parquet.")
    t = b.at(op_day, 20, 50)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 4, 10),
          location=b.loc("aln_perseigne_paix", 60), deal_point=dp_pascal,
          persons=[m[k].ref() for k in ("manager", "seller1", "seller2", "seller3", "lookout1",
                                        "lookout2", "producer")],
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Opération d'envergure à Perseigne peu avant 21 h : plus de 80 policiers, "
                    "brigades canines et CRS. Interpellation du gérant, de trois vendeurs, de deux "
                    "guetteurs et du préparateur de crack.")
    t = b.at(op_day, 22, 30)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 10, 20),
          location=b.loc("aln_perseigne_pascal", 30, "Appartements de la tour Pascal"),
          deal_point=dp_pascal, persons=[m["manager"].ref(), m["producer"].ref()],
          seizure=_sz((S.CANNABIS_RESIN, "5.4", "kg"), (S.HEROIN, "720", "g"),
                      (S.CANNABIS_HERB, "900", "g"), (S.CRACK, "150", "g"), cash="8300",
                      weapons=[(WeaponKind.HANDGUN, 2)], packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisitions dans la tour Pascal : 5,4 kg de résine de cannabis, 720 g "
                    "d'héroïne, 900 g d'herbe de cannabis, 150 g de crack, 8 300 € en numéraire, "
                    "deux armes de poing et du matériel de conditionnement.")
    obs = b.when(0.80, 18)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 24),
          location=b.loc("aln_perseigne_peguy"), deal_point=dp_peguy,
          persons=[m["seller3"].ref(describe=True)], substances=[S.CANNABIS_RESIN],
          narrative="Signalement : depuis l'opération, le hall de la tour Pascal est calme mais "
                    "de nouveaux guetteurs sont apparus devant la tour Péguy, avec un vendeur "
                    "déjà présent avant. Description jointe.")
    b.link("plate", veh.plate or "", (G, D, P), "Voiture d'approvisionnement de Perseigne : A28 "
           "(gendarmerie), renseignement douanier, surveillance police")
    b.link("person", m["supplier"].pseudonym, (G, D, P), "Fournisseur de Perseigne")


def _montbeliard(b: _Builder) -> None:
    net = b.network(
        "petite_hollande", "Point de deal de la Petite-Hollande (Montbéliard)", "25",
        deal_points=["mtb_petite_hollande"], places=["mtb_gare", "aud_centre"],
        roles={"seller": (R.SELLER, 18, 28), "lookout": (R.LOOKOUT, 16, 19),
               "supplier": (R.SUPPLIER, 28, 45)},
        phones=["order"], vehicles=["supply"], substances=[S.CANNABIS_HERB, S.CANNABIS_RESIN],
        origin="l'Espagne")
    m, veh = net.members, net.vehicles["supply"]
    dp = b.deal_point("mtb_petite_hollande")
    for i, frac in enumerate((0.07, 0.29)):
        obs = b.when(frac, 19)
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 24),
              location=b.loc("mtb_petite_hollande"), deal_point=dp,
              vehicles=[veh.lead()] if i == 1 else [], substances=[S.CANNABIS_HERB],
              narrative=("Signalement : vente d'herbe au pied d'un immeuble de la Petite-Hollande, "
                         "clients nombreux en fin d'après-midi, mineurs employés comme guetteurs."
                         if i == 0 else
                         "Signalement : une voiture vient décharger des sacs au pied de "
                         "l'immeuble tous les jeudis soir ; le déclarant a relevé "
                         "l'immatriculation."))
    t = b.when(0.34, 20)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("mtb_petite_hollande", 50), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["seller"].ref(describe=True), m["supplier"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance : livraison constatée au point de la Petite-Hollande, le "
                    "conducteur repart par l'A36 vers Besançon.")
    t = b.when(0.41, 5, 50)
    b.add(D, K.SEIZURE, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("a36_aire_ecot", 100), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=_sz((S.CANNABIS_HERB, "12.4", "kg")),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=_lab_update("pesée contradictoire en présence de l'OPJ"),
          narrative="Saisie douanière sur l'aire d'Écot (A36) : 12,4 kg d'herbe de cannabis "
                    "conditionnés sous vide dans le double fond du coffre. Conducteur placé en "
                    "retenue douanière puis remis à l'officier de police judiciaire.")
    t = b.when(0.45, 18, 30)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("mtb_petite_hollande", 40), deal_point=dp,
          persons=[m["seller"].ref(), m["lookout"].ref()],
          seizure=_sz((S.CANNABIS_HERB, "64", "g"), cash="910"), evaluation=("A", "1"),
          narrative="Interpellation d'un vendeur et d'un guetteur mineur au point de la "
                    "Petite-Hollande : 64 g d'herbe et 910 € en numéraire.")
    t = b.when(0.54, 11)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("25315", "hangar agricole loué", 1500),
          persons=[m["supplier"].ref()], substances=[S.CANNABIS_HERB],
          handling=HandlingCode.H2, evaluation=("C", "3"),
          narrative="Renseignement : le conducteur interpellé par les douanes sur l'A36 louerait "
                    "un hangar près de L'Isle-sur-le-Doubs, pouvant servir de lieu de stockage.")
    b.link("plate", veh.plate or "", (P, D), "Voiture d'approvisionnement de la Petite-Hollande : "
           "surveillance police, saisie douanière A36")
    b.link("person", m["supplier"].pseudonym, (P, D, G), "Fournisseur de la Petite-Hollande")


def _haut_doubs(b: _Builder) -> None:
    net = b.network(
        "haut_doubs", "Cocaïne venue de Suisse, Haut-Doubs", "25",
        deal_points=[], places=["pon_gare", "n57_pontarlier"],
        roles={"reseller": (R.SELLER, 26, 45), "courier": (R.COURIER, 22, 40)},
        phones=["reseller"], vehicles=["car"], substances=[S.COCAINE], origin="la Suisse")
    m, ph, car = net.members, net.phones, net.vehicles["car"]
    t = b.when(0.23, 18, 40)
    b.add(D, K.SEIZURE, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("border_verrieres", 60), vehicles=[car.lead()],
          persons=[m["courier"].ref(R.DRIVER)], phones=[ph["reseller"]],
          seizure=_sz((S.COCAINE, "420", "g")), evaluation=("A", "1"), handling=HandlingCode.H1,
          narrative="Contrôle au point de passage des Verrières, véhicule entrant de Suisse : "
                    "420 g de cocaïne dans une cache aménagée derrière la console centrale. Le "
                    "téléphone du conducteur contient un seul contact ([TEL], voir champ "
                    "téléphones).")
    t = b.when(0.31, 14)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t,
          location=b.loc_commune("25411", None, 1200), persons=[m["reseller"].ref()],
          phones=[ph["reseller"]], substances=[S.COCAINE], handling=HandlingCode.H2,
          evaluation=("B", "2"),
          narrative="Renseignement de source : un revendeur de cocaïne du secteur de Morteau se "
                    "fournit en Suisse et livre sur rendez-vous dans le Haut-Doubs ; joignable sur "
                    "une ligne dédiée ([TEL]).")
    obs = b.when(0.37, 19)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 30),
          location=b.loc("pon_gare", 60), phones=[ph["reseller"]], substances=[S.COCAINE],
          narrative="Signalement : des rendez-vous brefs ont lieu le soir sur le parking de la gare "
                    "de Pontarlier ; le numéro à appeler circule entre frontaliers ([TEL]).")
    t = b.when(0.58, 7, 15)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("border_jougne", 80), persons=[m["reseller"].ref(R.DRIVER)],
          vehicles=[b.vehicle("25").lead()],
          seizure=_sz((S.COCAINE, "30", "g"), cash="38000"), evaluation=("A", "1"),
          narrative="Contrôle au poste de Jougne-Vallorbe (N57), sens Suisse-France : 38 000 € en "
                    "espèces non déclarés (manquement à l'obligation déclarative) et 30 g de "
                    "cocaïne. Numéraire consigné.")
    t = b.when(0.70, 6, 0)
    b.add(G, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc_commune("25411", "maison individuelle", 1500),
          persons=[m["reseller"].ref(), m["courier"].ref()],
          seizure=_sz((S.COCAINE, "640", "g"), cash="12400", packaging=True),
          evaluation=("A", "1"), handling=HandlingCode.H0,
          narrative="Perquisition au domicile du revendeur, secteur de Morteau : 640 g de cocaïne, "
                    "12 400 € en numéraire, balance de précision et sachets.")
    b.link("phone", ph["reseller"], (D, G, P), "Ligne du revendeur du Haut-Doubs : saisie "
           "douanière aux Verrières, renseignement gendarmerie, signalement citoyen")
    b.link("person", m["reseller"].pseudonym, (G, D), "Revendeur de cocaïne du Haut-Doubs")


def _epinal(b: _Builder) -> None:
    net = b.network(
        "bitola", "Point de deal de Bitola-Champbeauvert (Épinal)", "88",
        deal_points=["epi_bitola"], places=["epi_justice", "epi_vierge", "epi_gare"],
        roles={"seller": (R.SELLER, 18, 28), "lookout": (R.LOOKOUT, 16, 19),
               "supplier": (R.SUPPLIER, 26, 42)},
        phones=["order"], vehicles=["supply"], substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB],
        origin="l'agglomération nancéienne")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp = b.deal_point("epi_bitola")
    for i, frac in enumerate((0.06, 0.26, 0.47)):
        obs = b.when(frac, 18 + i)
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 30),
              location=b.loc("epi_bitola"), deal_point=dp, substances=[S.CANNABIS_RESIN],
              phones=[ph["order"]] if i == 1 else [],
              narrative=[
                  "Signalement : point de vente au pied d'un immeuble de Bitola-Champbeauvert, "
                  "clients en voiture qui ne coupent pas le moteur.",
                  "Le déclarant transmet un numéro qui prend les commandes pour le quartier "
                  "([TEL], voir champ téléphones) et livre jusqu'à Golbey.",
                  "Signalement : les guetteurs ont installé des chaises devant l'entrée ; "
                  "l'activité commence vers 15 h et dure jusqu'à la nuit.",
              ][i])
    t = b.when(0.28, 10)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("88465", None, 900), phones=[ph["order"]],
          substances=[S.CANNABIS_RESIN], evaluation=("B", "3"), handling=HandlingCode.H1,
          narrative="Renseignement : des consommateurs de Thaon-les-Vosges commandent sur une "
                    "ligne d'Épinal ([TEL]) et se font livrer sur le parking d'un supermarché.")
    t = b.when(0.34, 9, 20)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc("n57_remiremont", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=_sz((S.CANNABIS_RESIN, "1.1", "kg")),
          evaluation=("A", "1"),
          narrative="Contrôle sur la N57, secteur de Remiremont : 1,1 kg de résine de cannabis en "
                    "plaquettes dans un sac de sport. Le conducteur dit se rendre à Épinal.")
    t = b.when(0.40, 19, 40)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("epi_bitola", 50), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["seller"].ref(describe=True)],
          handling=HandlingCode.H2, evaluation=("A", "1"),
          narrative="Surveillance : le véhicule contrôlé sur la N57 est de nouveau vu au point de "
                    "Bitola-Champbeauvert ; son conducteur s'entretient avec le vendeur.")
    t = b.when(0.52, 14, 10)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 1, 5),
          location=b.loc("n57_epinal", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], evaluation=("A", "2"),
          narrative="Contrôle douanier sur la N57 au sud d'Épinal : véhicule visité, résultat "
                    "négatif ; odeur de cannabis persistante dans le coffre.")
    t = b.when(0.76, 18, 0)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("epi_bitola", 40), deal_point=dp,
          persons=[m["seller"].ref(), m["lookout"].ref()],
          seizure=_sz((S.CANNABIS_RESIN, "65", "g"), (S.CANNABIS_HERB, "20", "g"), cash="740"),
          evaluation=("A", "1"), handling=HandlingCode.H0,
          narrative="Interpellation d'un vendeur et d'un guetteur au point de Bitola-Champbeauvert "
                    "signalé par les habitants : 65 g de résine, 20 g d'herbe, 740 € en numéraire.")
    b.link("plate", veh.plate or "", (G, P, D), "Voiture d'approvisionnement de Bitola : N57")
    b.link("phone", ph["order"], (P, G), "Ligne de commande de Bitola")
    b.link("person", m["supplier"].pseudonym, (G, P, D), "Fournisseur de Bitola")
    b.link("citizen_to_raid", b.deal_point_key("epi_bitola"), (P,),
           "Point de Bitola-Champbeauvert signalé par des citoyens puis démantelé")


_SCENARIOS = (_planoise, _scooter, _saint_ferjeux, _perseigne, _montbeliard, _haut_doubs, _epinal)


# --- Background stream --------------------------------------------------------------------------

_BG_KIND_WEIGHTS: dict[LeadKind, int] = {
    K.FIELD_INTELLIGENCE: 20, K.SURVEILLANCE: 16, K.STOP_CHECK: 24, K.VIDEO_PROTECTION: 6,
    K.ARREST: 12, K.SEARCH: 7, K.SEIZURE: 10, K.LANDLORD_REPORT: 3,
}
_DEPT_NETWORKS = {"25": ("planoise", "petite_hollande", "haut_doubs", "saint_ferjeux"),
                  "61": ("perseigne",), "88": ("bitola",)}


def _communes_of(dept: str, urban: bool) -> list[str]:
    return sorted(c for c in COMMUNES if c.startswith(dept) and (c in POLICE_ZONE) == urban)


def _places_of(insee: str, kinds: Iterable[str]) -> list[Place]:
    ks = set(kinds)
    return [p for p in PLACES if p.insee == insee and p.kind in ks]


class _Background:
    def __init__(self, b: _Builder):
        self.b = b
        self.rng = b.rng

    # -- where --------------------------------------------------------------------------------

    def pick_dept(self) -> str:
        return self.rng.choices(list(DEPT_WEIGHTS), weights=list(DEPT_WEIGHTS.values()))[0]

    def urban_spot(self, dept: str, net: Network | None,
                   kinds: Iterable[str] = ("deal_point", "street", "station", "parking", "residence"),
                   ) -> tuple[Location, Place | None]:
        if net and self.rng.random() < 0.7:
            keys = net.deal_points + net.places
            keys = [k for k in keys if PLACES_BY_KEY[k].kind in set(kinds)] or keys
            p = PLACES_BY_KEY[self.rng.choice(keys)]
            return self.b.loc(p.key, 70), p
        insee = self.rng.choice(_communes_of(dept, True))
        places = _places_of(insee, kinds)
        if places and self.rng.random() < 0.8:
            p = self.rng.choice(places)
            return self.b.loc(p.key, 90), p
        label = self.rng.choice(("pied d'immeuble", "parking d'une résidence", "abords d'un "
                                 "établissement scolaire", "square", "arrêt de bus", "hall "
                                 "d'immeuble"))
        return self.b.loc_commune(insee, label.capitalize(), 1200), None

    def rural_spot(self, dept: str) -> Location:
        insee = self.rng.choice(_communes_of(dept, False))
        return self.b.loc_commune(insee, self.rng.choice(_RURAL_SPOTS).capitalize(), 1500)

    def road_spot(self, dept: str) -> Place:
        roads = [p for p in PLACES if p.insee.startswith(dept) and p.kind in ("road", "border")]
        return self.rng.choice(roads)

    # -- who ----------------------------------------------------------------------------------

    def net_for(self, dept: str, p: float = 0.4) -> Network | None:
        if self.rng.random() < p:
            return self.b.networks[self.rng.choice(_DEPT_NETWORKS[dept])]
        return None

    def members(self, net: Network | None, k: int, roles: Sequence[PersonRole],
                describe: bool = False) -> list[PersonRef]:
        out: list[PersonRef] = []
        if net:
            pool = sorted(net.members.values(), key=lambda x: x.key)
            for mem in self.rng.sample(pool, min(k, len(pool))):
                out.append(mem.ref(describe=describe))
        while len(out) < k:
            out.append(self.b.passerby(self.rng.choice(roles)).ref(describe=describe))
        return out

    def a_vehicle(self, net: Network | None, dept: str, p_net: float = 0.35) -> Vehicle:
        if net and net.vehicles and self.rng.random() < p_net:
            return self.rng.choice(sorted(net.vehicles.values(), key=lambda v: v.model)).lead()
        return self.b.vehicle(dept).lead()

    def a_phone(self, net: Network | None, p_net: float = 0.5) -> str:
        if net and net.phones and self.rng.random() < p_net:
            return net.phones[self.rng.choice(sorted(net.phones))]
        return self.b.phone()

    def small_seizure(self, subs: Sequence[Substance]) -> Seizure:
        items = []
        for s in self.rng.sample(list(subs), self.rng.randint(1, min(2, len(subs)))):
            if s == S.MDMA:
                items.append((s, str(self.rng.randint(2, 25)), "comprimés"))
            else:
                top = 60 if s in (S.COCAINE, S.HEROIN, S.CRACK, S.KETAMINE) else 150
                items.append((s, str(self.rng.randint(1, top)), "g"))
        cash = str(self.rng.randrange(50, 2500, 10)) if self.rng.random() < 0.5 else None
        return _sz(*items, cash=cash)

    def big_seizure(self, subs: Sequence[Substance]) -> Seizure:
        items = []
        for s in self.rng.sample(list(subs), self.rng.randint(1, min(3, len(subs)))):
            if s in (S.CANNABIS_RESIN, S.CANNABIS_HERB):
                items.append((s, f"{self.rng.randint(3, 250) / 10:.1f}", "kg"))
            elif s == S.MDMA:
                items.append((s, str(self.rng.randint(100, 3000)), "comprimés"))
            else:
                items.append((s, str(self.rng.randint(50, 2500)), "g"))
        cash = str(self.rng.randrange(500, 45000, 50)) if self.rng.random() < 0.4 else None
        return _sz(*items, cash=cash, packaging=self.rng.random() < 0.3)

    def subs(self, net: Network | None) -> list[Substance]:
        if net:
            return list(net.substances)
        return self.rng.choices(
            [S.CANNABIS_RESIN, S.CANNABIS_HERB, S.COCAINE, S.HEROIN, S.CRACK, S.MDMA, S.KETAMINE],
            weights=[10, 6, 6, 2, 1, 1, 1], k=2)

    # -- leads --------------------------------------------------------------------------------

    def citizen(self, dept: str, day: int) -> None:
        b, rng = self.b, self.rng
        urban = rng.random() < 0.72
        net = self.net_for(dept, 0.45) if urban else None
        hour = b.activity_hour()
        obs = b.at(day, hour)
        subs = self.subs(net)[: rng.randint(1, 2)]
        kw: dict[str, Any] = {}
        if urban:
            location, place = self.urban_spot(dept, net)
            agency = P
            where = place.label if place else (location.place_label or "quartier").lower()
            if place and place.kind == "deal_point":
                kw["deal_point"] = b.deal_point(place.key)
        else:
            location, place = self.rural_spot(dept), None
            agency = G
            where = (location.place_label or "centre du village").lower()
        texts = [
            f"Signalement via la plateforme : allées et venues répétées ({where}), surtout en "
            f"soirée. Échanges rapides de main à main, clients qui repartent aussitôt.",
            f"Le déclarant signale un petit groupe posté en permanence ({where}) ; l'un d'eux "
            f"prévient les autres à l'arrivée des patrouilles. Forte odeur de cannabis.",
            f"Signalement anonyme : un véhicule stationne plusieurs fois par jour ({where}), le "
            f"conducteur reçoit des personnes à la vitre puis repart. Immatriculation relevée.",
            f"Riverain : des livraisons de stupéfiants sont organisées par messagerie ({where}) ; "
            f"le numéro de commande circule ([TEL], voir champ téléphones).",
            f"Signalement : vente de stupéfiants ({where}) à des jeunes, parfois mineurs, en "
            f"fin d'après-midi. Le vendeur est décrit dans la fiche jointe.",
        ]
        variant = rng.choices(range(5), weights=[5, 4, 3, 2, 2])[0]
        if variant == 2 or rng.random() < 0.1:
            kw["vehicles"] = [self.a_vehicle(net, dept, 0.5)]
        if variant == 3:
            kw["phones"] = [self.a_phone(net, 0.6)]
        if variant == 4:
            kw["persons"] = self.members(net, 1, (R.SELLER,), describe=True)
        b.add(agency, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs,
              reported=b.later(obs, 0.5, 36), location=location, substances=subs,
              narrative=texts[variant], scripted=False, **kw)

    def other(self, kind: LeadKind, dept: str, day: int) -> None:
        b, rng = self.b, self.rng
        net = self.net_for(dept, 0.35)
        subs = self.subs(net)
        if kind == K.FIELD_INTELLIGENCE:
            t = b.at(day, rng.randint(8, 18))
            if rng.random() < 0.15:
                road = self.road_spot(dept)
                b.add(D, kind, CH.INVESTIGATION, reported=t, location=b.loc(road.key, 300),
                      vehicles=[self.a_vehicle(net, dept)], persons=self.members(net, 1, (R.DRIVER,)),
                      substances=subs, douanes_unit="DNRED",
                      handling=rng.choice((HandlingCode.H2, HandlingCode.H3)),
                      restricted_to=rng.choice(([], [D, Agency.POLICE_JUDICIAIRE])),
                      scripted=False,
                      narrative=f"Renseignement douanier : convois présumés en provenance de "
                                f"{rng.choice(_ORIGINS)} empruntant cet axe ({road.label}), avec "
                                f"véhicule ouvreur. Passages le plus souvent en fin de semaine.")
                return
            urban = rng.random() < 0.6
            loc = self.urban_spot(dept, net)[0] if urban else self.rural_spot(dept)
            persons = self.members(net, rng.randint(1, 3), (R.SELLER, R.SUPPLIER, R.MANAGER))
            phones = [self.a_phone(net) for _ in range(rng.randint(0, 2))]
            origin = net.origin if net else rng.choice(_ORIGINS)
            b.add(P if urban else G, kind, rng.choice((CH.INFORMANT, CH.INVESTIGATION, CH.PATROL)),
                  reported=t, location=loc, persons=persons, phones=phones, substances=subs,
                  scripted=False,
                  narrative=rng.choice((
                      f"Renseignement de source : approvisionnement régulier depuis {origin}, "
                      f"livraisons en fin de semaine. Stock présumé chez un tiers.",
                      "Renseignement de terrain : un individu connu des services a repris une "
                      "activité de revente ; il utilise plusieurs lignes et change de véhicule.",
                      "Renseignement : des mineurs sont recrutés comme guetteurs et payés à la "
                      "journée ; les ventes se font sur commande et par livraison.",
                  )))
        elif kind == K.SURVEILLANCE:
            urban = rng.random() < 0.75
            t = b.at(day, b.activity_hour())
            loc, place = self.urban_spot(dept, net) if urban else (self.rural_spot(dept), None)
            kw: dict[str, Any] = {}
            if place and place.kind == "deal_point":
                kw["deal_point"] = b.deal_point(place.key)
            if rng.random() < 0.4:
                kw["vehicles"] = [self.a_vehicle(net, dept)]
            n_tx = rng.randint(2, 9)
            b.add(P if urban else G, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 1, 8),
                  location=loc, persons=self.members(net, rng.randint(1, 3),
                                                     (R.SELLER, R.LOOKOUT, R.BUYER), True),
                  scripted=False,
                  narrative=f"Surveillance en civil pendant deux heures : {n_tx} transactions "
                            f"constatées, un guetteur posté à l'entrée, réapprovisionnement "
                            f"depuis un véhicule ou un hall voisin.", **kw)
        elif kind == K.STOP_CHECK:
            on_road = rng.random() < 0.55
            t = b.at(day, rng.randint(6, 23))
            if on_road:
                road = self.road_spot(dept)
                agency = rng.choices((G, D), weights=(6, 4))[0]
                loc = b.loc(road.key, 250)
                where = road.label
                ch = CH.CUSTOMS_CONTROL if agency == D else CH.PATROL
            else:
                loc, place = self.urban_spot(dept, net, ("street", "station", "parking"))
                agency, ch = P, CH.PATROL
                where = place.label if place else (loc.place_label or loc.commune)
            found = rng.random() < 0.5
            seizure = self.small_seizure(subs) if found else None
            b.add(agency, kind, ch, observed=t, reported=b.later(t, 0.5, 4), location=loc,
                  vehicles=[self.a_vehicle(net, dept, 0.25)],
                  persons=self.members(net if rng.random() < 0.3 else None, rng.randint(1, 2),
                                       (R.DRIVER, R.BUYER, R.UNKNOWN)),
                  seizure=seizure, scripted=False,
                  narrative=(f"Contrôle ({where}) : véhicule visité, {seizure_fr(seizure)} "
                             f"découverts. Suites judiciaires en cours." if seizure else
                             f"Contrôle ({where}) : véhicule et occupants contrôlés, résultat "
                             f"négatif. Forte odeur de cannabis signalée, trajets incohérents."))
        elif kind == K.VIDEO_PROTECTION:
            t = b.at(day, b.activity_hour())
            loc, place = self.urban_spot(dept, net, ("deal_point", "street", "station", "parking"))
            kw = {"deal_point": b.deal_point(place.key)} if place and place.kind == "deal_point" else {}
            if rng.random() < 0.3:
                kw["vehicles"] = [self.a_vehicle(net, dept)]
            b.add(P, kind, CH.VIDEO, observed=t, reported=b.later(t, 2, 48), location=loc,
                  scripted=False,
                  narrative="Exploitation de la vidéoprotection : va-et-vient caractéristique, "
                            "remises de sachets et de billets, un guetteur surveille les accès.",
                  **kw)
        elif kind in (K.ARREST, K.SEARCH):
            urban = rng.random() < 0.7
            agency = P if urban else G
            if kind == K.ARREST:
                t = b.at(day, rng.randint(14, 23))
                loc, place = self.urban_spot(dept, net) if urban else (self.rural_spot(dept), None)
                seizure = self.small_seizure(subs) if rng.random() < 0.7 else None
                kw = {"deal_point": b.deal_point(place.key)} if place and place.kind == "deal_point" else {}
                b.add(agency, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 1, 6),
                      location=loc, persons=self.members(net, rng.randint(1, 3),
                                                         (R.SELLER, R.BUYER, R.LOOKOUT)),
                      seizure=seizure, scripted=False,
                      narrative="Interpellation après constatation d'une transaction"
                                + (f" ; découverte de {seizure_fr(seizure)}." if seizure else ".")
                                + " Placement en garde à vue.", **kw)
            else:
                t = b.at(day, 6, rng.randint(0, 40))
                loc = (self.urban_spot(dept, net, ("residence", "street"))[0] if urban
                       else self.rural_spot(dept))
                seizure = (self.big_seizure(subs) if rng.random() < 0.3 else
                           self.small_seizure(subs))
                b.add(agency, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 8),
                      location=loc, persons=self.members(net, rng.randint(1, 2),
                                                         (R.SELLER, R.SUPPLIER, R.UNKNOWN)),
                      seizure=seizure, scripted=False,
                      narrative=f"Perquisition au domicile d'un mis en cause : {seizure_fr(seizure)}.")
        elif kind == K.SEIZURE:
            t = b.at(day, rng.randint(5, 23))
            if rng.random() < 0.65:
                road = self.road_spot(dept)
                loc, agency, ch = b.loc(road.key, 250), D, CH.CUSTOMS_CONTROL
                where = road.label
            else:
                loc, place = self.urban_spot(dept, net)
                agency, ch = rng.choice((P, G)), CH.INVESTIGATION
                where = place.label if place else (loc.place_label or loc.commune)
            seizure = self.big_seizure(subs)
            b.add(agency, kind, ch, observed=t, reported=b.later(t, 1, 8), location=loc,
                  vehicles=[self.a_vehicle(net, dept, 0.3)],
                  persons=self.members(net, 1, (R.DRIVER, R.COURIER)), seizure=seizure,
                  douanes_unit="DR", scripted=False,
                  narrative=f"Saisie ({where}) : {seizure_fr(seizure)}, dissimulés dans "
                            f"{rng.choice(_CACHES)}. Conducteur placé en "
                            + ("retenue douanière." if agency == D else "garde à vue."))
        elif kind == K.LANDLORD_REPORT:
            t = b.at(day, rng.randint(9, 17))
            loc, place = self.urban_spot(dept, net, ("residence", "deal_point", "street"))
            b.add(P, kind, CH.PARTNER, reported=t, location=loc,
                  persons=self.members(net, 1, (R.UNKNOWN,)), scripted=False,
                  narrative="Le bailleur social signale un logement utilisé pour le stockage ou "
                            "la vente, des dégradations dans les parties communes et des "
                            "plaintes de voisins ; procédure de résiliation de bail envisagée.")


# --- Entry points -------------------------------------------------------------------------------


def _paris(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None:
        return start.replace(tzinfo=PARIS)
    return start.astimezone(PARIS)


def build_demo_world(seed: int = 2025, n: int = 600, start: datetime | None = None,
                     weeks: int = 12, keyring: LinkageKeyring | None = None) -> DemoWorld:
    """Generate the demo world: ``n`` Lead objects in all (version-2 updates included, each after
    its version 1), plus the ground truth. ``n`` must be at least :data:`MIN_DEMO_LEADS`."""
    if weeks < 1:
        raise ValueError("weeks doit être au moins 1")
    n_updates = max(SCRIPTED_UPDATES, round(n / 75))
    if n - n_updates < SCRIPTED_LEADS:
        raise ValueError(f"n doit être au moins {MIN_DEMO_LEADS} (scénarios scriptés et mises à jour)")
    start_p = _paris(start)
    b = _Builder(seed, start_p, weeks, keyring or demo_keyring())
    for scenario in _SCENARIOS:
        scenario(b)
    assert len(b.drafts) == SCRIPTED_LEADS, len(b.drafts)
    assert sum(1 for d in b.drafts if d.update) == SCRIPTED_UPDATES

    # Background: citizen reports at the real volume (scaled by n / 600), then other kinds.
    bg = _Background(b)
    budget = n - n_updates - len(b.drafts)
    months = b.days / 30.44
    scripted_citizen = defaultdict(int)
    for d in b.drafts:
        if d.data["kind"] == K.CITIZEN_REPORT:
            scripted_citizen[d.dept] += 1
    citizen: dict[str, int] = {}
    for dept, rate in CITIZEN_REPORTS_PER_MONTH.items():
        citizen[dept] = max(0, round(rate * months * n / 600) - scripted_citizen[dept])
    total_c = sum(citizen.values())
    cap = int(budget * 0.35)
    if total_c > cap:
        citizen = {k: v * cap // total_c for k, v in citizen.items()}
    for dept in sorted(citizen):
        for _ in range(citizen[dept]):
            bg.citizen(dept, b.rng.randrange(b.days))
    kinds = list(_BG_KIND_WEIGHTS)
    weights = list(_BG_KIND_WEIGHTS.values())
    while len(b.drafts) < n - n_updates:
        kind = b.rng.choices(kinds, weights=weights)[0]
        bg.other(kind, bg.pick_dept(), b.rng.randrange(b.days))

    # Some background leads get a version 2 as well.
    scripted_updates = sum(1 for d in b.drafts if d.update)
    candidates = [d for d in b.drafts if not d.scripted and d.update is None
                  and d.data["kind"] in (K.CITIZEN_REPORT, K.SEIZURE, K.FIELD_INTELLIGENCE)]
    for d in b.rng.sample(candidates, min(len(candidates), n_updates - scripted_updates)):
        if d.data["kind"] == K.SEIZURE:
            d.update = _lab_update("pesée définitive")
        elif d.data["kind"] == K.CITIZEN_REPORT:
            d.update = _reevaluate_update("faits confirmés par une patrouille.")
        else:
            d.update = _lift_restriction_update("restriction levée par le service émetteur.")

    # Chronological order, references, validation, then updates.
    order = sorted(range(len(b.drafts)), key=lambda i: (b.drafts[i].data["reported_at"], i))
    drafts = [b.drafts[i] for i in order]
    refs = b.assign_refs(drafts)
    leads: list[tuple[datetime, int, Lead]] = []
    updated: list[str] = []
    for i, (d, ref) in enumerate(zip(drafts, refs, strict=True)):
        v1 = Lead(source_ref=ref, version=1, **d.data)
        leads.append((v1.reported_at, 1, v1))
        if d.update:
            data2 = d.update(dict(d.data))
            data2["reported_at"] = b.later(d.data["reported_at"], 20, 24 * 9)
            v2 = Lead(source_ref=ref, version=2, **data2)
            leads.append((v2.reported_at, 2, v2))
            updated.append(v1.source_key)
    leads.sort(key=lambda x: (x[0], x[1]))
    out = [lead for _, _, lead in leads]
    assert len(out) == n, (len(out), n)
    return DemoWorld(seed=seed, start=start_p, end=b.end, keyring=b.keyring, leads=out,
                     networks=b.networks, identities=dict(b.identities), links=list(b.links),
                     updated_lead_ids=updated)


def generate_demo_leads(seed: int = 2025, n: int = 600, start: datetime | None = None,
                        weeks: int = 12, keyring: LinkageKeyring | None = None) -> list[Lead]:
    """``n`` demo leads (version-2 updates included), deterministic for a seed. See
    :func:`build_demo_world` for the ground truth."""
    return build_demo_world(seed=seed, n=n, start=start, weeks=weeks, keyring=keyring).leads


__all__ = [
    "CITIZEN_REPORTS_PER_MONTH",
    "DEFAULT_START",
    "DEMO_KEY_ID",
    "DEMO_KEY_SECRET",
    "MIN_DEMO_LEADS",
    "CrossAgencyLink",
    "DemoWorld",
    "Network",
    "build_demo_world",
    "demo_keyring",
    "generate_demo_leads",
    "source_key",
    "seizure_fr",
]
