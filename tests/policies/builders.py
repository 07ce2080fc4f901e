"""Builders for the access-policy tests: a fixed instant and short constructors for callers,
leads and grants, so each test reads as the situation it describes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.contract.lead import Agency, HandlingCode, LeadKind
from policies.models import Caller, DisclosureGrant, GuestGrant, LeadMarking, Role

NOW = datetime(2025, 10, 15, 9, 30, tzinfo=UTC)


def caller(role: Role | str, agency: Agency | str = Agency.GENDARMERIE, user_id: str = "u-1") -> Caller:
    return Caller(user_id=user_id, name="Agent Test", agency=Agency(agency), role=Role(role))


def lead(
    origin: Agency | str = Agency.POLICE,
    code: HandlingCode | str = HandlingCode.H0,
    kind: LeadKind | str = LeadKind.SEIZURE,
    *,
    lead_id: str | None = None,
    restricted_to: list[Agency] | None = None,
    embargo_until: datetime | None = None,
    entity_keys: list[str] | None = None,
) -> LeadMarking:
    origin = Agency(origin)
    return LeadMarking(
        lead_id=lead_id or f"{origin.value}:REF-1",
        originating_agency=origin,
        kind=LeadKind(kind),
        handling_code=HandlingCode(code),
        restricted_to=restricted_to or [],
        embargo_until=embargo_until,
        entity_keys=entity_keys or [],
    )


def guest_grant(
    grantee: str = "u-1",
    *,
    lead_ids: list[str] | None = None,
    entity_keys: list[str] | None = None,
    valid_from: datetime = NOW - timedelta(days=1),
    valid_until: datetime = NOW + timedelta(days=6),
    grant_id: str = "g-1",
) -> GuestGrant:
    return GuestGrant(
        grant_id=grant_id,
        grantee_user_id=grantee,
        lead_ids=lead_ids or [],
        entity_keys=entity_keys or [],
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by="chef-cross",
    )


def disclosure(
    lead_id: str,
    owner: Agency | str,
    requester: str = "u-1",
    *,
    approved_at: datetime = NOW - timedelta(hours=2),
    valid_until: datetime | None = None,
    grant_id: str = "d-1",
) -> DisclosureGrant:
    return DisclosureGrant(
        grant_id=grant_id,
        lead_id=lead_id,
        requester_user_id=requester,
        owner_agency=Agency(owner),
        approved_by="officier-police",
        approved_at=approved_at,
        valid_until=valid_until,
    )
