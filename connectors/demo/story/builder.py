"""The story's pen: ``Builder`` holds the seeded random source and the window, draws fake people,
plates, phones and places (each unique), evaluates and codes leads, records drafts in the order
the scenarios write them, and numbers them per issuing unit. Also the short names the scenario
modules use (``P``, ``G``, ``D`` for the agencies, ``K`` kinds, ``CH`` channels, ``R`` roles,
``S`` substances)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from connectors.demo.story.model import PARIS, CrossAgencyLink, DemoVehicle, Member, Network
from connectors.demo.world import (
    COMMUNES,
    PLACES_BY_KEY,
    FakeIdentity,
    jitter_point,
    random_fni_plate,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from connectors.pseudonym import LinkageKeyring
from hub.contract.lead import (
    Agency,
    DealPoint,
    GeoPoint,
    HandlingCode,
    InformationCredibility,
    LeadKind,
    Location,
    PersonRef,
    PersonRole,
    PhysicalDescription,
    Seizure,
    SourceChannel,
    SourceReliability,
    Substance,
    Vehicle,
)
from hub.contract.normalize import normalize_phone, normalize_plate

# Customs regional directorate of each département (source references « DR-BES-… »).
DOUANES_DIRECTION: dict[str, str] = {"25": "BES", "61": "CAE", "88": "NAN"}


@dataclass
class Draft:
    """A lead before its source reference: the fields, and its version 2 if it has one."""

    agency: Agency
    dept: str
    data: dict[str, Any]
    douanes_unit: Literal["DNRED", "DR"] = "DR"
    update: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    scripted: bool = True


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


class Builder:
    def __init__(self, seed: int, start: datetime, weeks: int, keyring: LinkageKeyring):
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.days = weeks * 7
        self.end = start + timedelta(days=self.days)
        self.keyring = keyring
        self.drafts: list[Draft] = []
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
        dp = Builder.deal_point(place_key)
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
            scripted: bool = True, dept: str | None = None) -> Draft:
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
        d = Draft(agency=agency, dept=dept, data=data, douanes_unit=douanes_unit, update=update,
                   scripted=scripted)
        self.drafts.append(d)
        return d

    # -- source references (assigned in chronological order, per issuing unit) ----------------

    def assign_refs(self, drafts: list[Draft]) -> list[str]:
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


# --- Short names for the scenarios ---------------------------------------------------------

P = Agency.POLICE
G = Agency.GENDARMERIE
D = Agency.DOUANES
K = LeadKind
CH = SourceChannel
R = PersonRole
S = Substance
