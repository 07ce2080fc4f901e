"""What the demo world is made of: its clock (Paris time, default start), its public linkage key,
and its entities — members of networks behind keyed pseudonyms, vehicles, networks, the
cross-agency links planted on purpose, and the world itself (leads plus ground truth)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from connectors.demo.world import FakeIdentity
from connectors.pseudonym import LinkageKey, LinkageKeyring
from hub.contract.lead import (
    Agency,
    Lead,
    PersonRef,
    PersonRole,
    PhysicalDescription,
    Substance,
    Vehicle,
)

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_START = datetime(2025, 7, 21, tzinfo=PARIS)  # a Monday; the e-scooter report falls end of July

# The demo linkage key. PUBLIC ON PURPOSE: it only pseudonymizes the fake identities of the demo,
# so anyone may recompute a demo pseudonym. A real CROSS key is a secret shared by its connectors.
DEMO_KEY_ID = "demo1"
DEMO_KEY_SECRET = "crosshub-demo-linkage-key-2025-not-a-secret"


def demo_keyring() -> LinkageKeyring:
    """The fixed demo keyring: one key, id ``demo1``, secret :data:`DEMO_KEY_SECRET`."""
    return LinkageKeyring(current=LinkageKey(key_id=DEMO_KEY_ID, secret=SecretStr(DEMO_KEY_SECRET)))


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
