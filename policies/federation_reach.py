"""Which local leads behind an identifier answer (or ask) a given peer — the per-lead side of
federation scope (policies/federation.py owns the rules and ``scope_of`` / ``reaches``).

* ``lead_federates`` — a lead takes part at all only while it is live for others in this hub:
  not dismissed (an imprecise or malicious report makes no work for a neighbour), not under an
  active embargo, not restricted to named agencies (the originator kept it from the others
  here, so from other CROSS too). H3 and unlisted agencies are ``never`` by ``scope_of``.
* ``reaching`` — the leads behind an identifier whose own scope reaches ``peer``: each lead's
  originator decides for that lead; the identifier answers the peer if any lead does, and only
  those leads are behind the ticket (their agencies told, the strictest of their codes sent).
* ``peers_reached`` — every member a lead of (agency, code) reaches from ``holder``.

Pure: ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from policies.federation import FederationRules, reaches, scope_of

DISMISSED = "dismissed"


class LeadFacts(Protocol):
    lead_id: str
    agency: str
    handling_code: str
    status: str | None
    embargo_until: datetime | None
    restricted: bool


L = TypeVar("L", bound=LeadFacts)


def lead_federates(lead: LeadFacts, now: datetime) -> bool:
    if lead.status == DISMISSED or lead.restricted:
        return False
    return lead.embargo_until is None or lead.embargo_until <= now


def reaching(rules: FederationRules, holder: str, peer: str, leads: Iterable[L],
             now: datetime) -> list[L]:
    """The leads whose scope lets ``holder`` answer (or ask) ``peer`` about their identifier."""
    return [lead for lead in leads if lead_federates(lead, now)
            and reaches(rules, holder, peer, scope_of(rules, lead.agency, lead.handling_code))]


def peers_reached(rules: FederationRules, holder: str, agency: str, code: str) -> frozenset[str]:
    scope = scope_of(rules, agency, code)
    return frozenset(p for p in rules.crosses if reaches(rules, holder, p, scope))


def reaches_any_peer(rules: FederationRules, holder: str, leads: Sequence[LeadFacts],
                     now: datetime) -> bool:
    """Whether the identifier should carry a token at all (some lead reaches some member)."""
    return any(lead_federates(lead, now) and peers_reached(rules, holder, lead.agency,
                                                           lead.handling_code)
               for lead in leads)
