"""Federation between CROSS hubs: who may learn that this hub holds an identifier, how often a
peer may ask, and how long the holder has to answer — decided here from
``policies/data/federation.yaml`` (ADR 0024).

Owns:

* ``FederationRules`` — the data: epoch length, token length, filter padding, quotas, the
  follow-up delay, which identifier kinds federate, each agency's scope per handling code, and the
  directory of member CROSS (département, OFAST antenna, neighbours, desks);
* ``scope_of`` — how far a lead reaches (never / neighbours / region / national), from its
  agency and handling code: originator control, H3 never;
* ``reaches`` — whether a lead of that scope held by ``holder`` may answer ``peer``;
* ``quota_per_day``, ``follow_up_due``, ``desk_of``, ``epoch_of``.

Pure: no clock (``now`` is an argument), no I/O beyond reading its rules file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from hub.contract.lead import HANDLING_ORDER, HandlingCode
from policies.models import PolicyModel

FEDERATION_FILE = "federation.yaml"
CROSS_ID = re.compile(r"^cross-(\d{2}|2A|2B|97[1-6])$")


class Scope(StrEnum):
    NEVER = "never"
    NEIGHBOURS = "neighbours"
    REGION = "region"
    NATIONAL = "national"


class IdentifierKind(StrEnum):
    PLATE = "plate"
    PHONE = "phone"


class CrossMember(PolicyModel):
    departement: str = Field(pattern=r"^(\d{2}|2A|2B|97[1-6])$")
    name: str = Field(min_length=1, max_length=80)
    antenna: str = Field(pattern=r"^[a-z0-9-]{2,60}$")
    neighbours: tuple[str, ...] = ()
    # Per agency (and "default"): the desk a peer calls — a service, never a person's name.
    desks: dict[str, str] = Field(default_factory=dict)


class FederationRules(PolicyModel):
    version: int = 1
    epoch_days: int = Field(default=7, ge=1, le=92)
    token_bytes: int = Field(default=8, ge=6, le=32)
    filter_min_size: int = Field(default=1024, ge=16, le=1 << 24)
    max_evaluations_per_call: int = Field(default=4096, ge=1, le=65_535)
    default_quota_per_day: int = Field(default=50_000, ge=0)
    quotas: dict[str, int] = Field(default_factory=dict)
    follow_up_hours: float = Field(default=48, gt=0, le=24 * 90)
    follow_up_hours_by_code: dict[HandlingCode, float] = Field(default_factory=dict)
    kinds: tuple[IdentifierKind, ...] = (IdentifierKind.PLATE, IdentifierKind.PHONE)
    scope: dict[str, dict[HandlingCode, Scope]] = Field(default_factory=dict)
    crosses: dict[str, CrossMember] = Field(default_factory=dict)
    digest: str = ""

    def member(self, cross_id: str) -> CrossMember | None:
        return self.crosses.get(cross_id)


def cross_id_of(departement: str) -> str:
    """The federation id of the CROSS of a département: ``25`` → ``cross-25``."""
    return f"cross-{departement}"


def scope_of(rules: FederationRules, agency: str, code: HandlingCode | str) -> Scope:
    """How far a lead of ``agency`` at ``code`` may answer hits. H3 never, whatever the data say;
    an agency the data do not list never federates (least privilege)."""
    code = HandlingCode(code)
    if code is HandlingCode.H3:
        return Scope.NEVER
    return rules.scope.get(agency, {}).get(code, Scope.NEVER)


def reaches(rules: FederationRules, holder: str, peer: str, scope: Scope) -> bool:
    """Whether an identifier ``holder`` holds at ``scope`` may be found by ``peer``."""
    if holder == peer or scope is Scope.NEVER:
        return False
    own, other = rules.member(holder), rules.member(peer)
    if own is None or other is None:
        return False
    if scope is Scope.NEIGHBOURS:
        return peer in own.neighbours
    if scope is Scope.REGION:
        return own.antenna == other.antenna
    return True  # national: any member


def widest(scopes: list[Scope]) -> Scope:
    """The widest of several leads' scopes (an identifier several leads mention answers as far
    as the widest of them allows — each lead's own originator chose it)."""
    order = [Scope.NEVER, Scope.NEIGHBOURS, Scope.REGION, Scope.NATIONAL]
    return max(scopes, key=order.index, default=Scope.NEVER)


def strictest_code(codes: list[HandlingCode | str]) -> HandlingCode:
    """The strictest handling code among the leads behind a ticket (what the peer is told)."""
    return max((HandlingCode(c) for c in codes), key=HANDLING_ORDER.__getitem__,
               default=HandlingCode.H0)


def quota_per_day(rules: FederationRules, peer: str) -> int:
    return rules.quotas.get(peer, rules.default_quota_per_day)


def follow_up_due(rules: FederationRules, code: HandlingCode | str, now: datetime) -> datetime:
    hours = rules.follow_up_hours_by_code.get(HandlingCode(code), rules.follow_up_hours)
    return now + timedelta(hours=hours)


def desk_of(rules: FederationRules, cross_id: str, agency: str) -> str:
    member = rules.member(cross_id)
    if member is None:
        return ""
    return member.desks.get(agency) or member.desks.get("default") or member.name


def epoch_of(rules: FederationRules, now: datetime) -> int:
    """The epoch ``now`` falls in: whole days since 1970-01-01 UTC, divided by ``epoch_days``."""
    days = (now.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days
    return days // rules.epoch_days


def _check(source: str, data: Any, rules: FederationRules) -> None:
    """Member ids are CROSS ids, neighbours are members, quotas name members."""
    from policies.loader import _fail, line_of

    for cross_id, member in rules.crosses.items():
        if not CROSS_ID.match(cross_id) or cross_id != cross_id_of(member.departement):
            raise _fail(source, line_of(data, ("crosses", cross_id)), f"crosses.{cross_id}",
                        f"identifiant attendu « cross-{member.departement} »")
        for i, neighbour in enumerate(member.neighbours):
            if neighbour not in rules.crosses or neighbour == cross_id:
                raise _fail(source, line_of(data, ("crosses", cross_id, "neighbours", i)),
                            f"crosses.{cross_id}.neighbours[{i}]",
                            f"« {neighbour} » n'est pas un autre membre de la fédération")
    for peer in rules.quotas:
        if peer not in rules.crosses:
            raise _fail(source, line_of(data, ("quotas", peer)), f"quotas.{peer}",
                        f"« {peer} » n'est pas membre de la fédération")


def load_federation_rules(path: Path | str | None = None) -> FederationRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / FEDERATION_FILE
    return load_rules_file(FederationRules, entry, "fédération", _check)
