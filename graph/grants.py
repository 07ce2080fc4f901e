"""Where access grants live in the graph, and the workflow that creates and ends them.

Owns three kinds of bookkeeping nodes (never traversed by analysis reads):

* ``GuestGrant`` — a CROSS non permanente calls in a referent: a time-boxed grant to one
  ``guest_referent`` user, scoped to named leads and/or entities, created and revoked by the
  CROSS chief (coordinator).
* ``DisclosureRequest`` — the hit/no-hit workflow: a caller who got a hit on a lead asks its
  originating agency for it; states ``requested`` → ``approved`` | ``declined``, and
  ``approved`` → ``expired`` when an approval had an end date that passed. An approved request
  *is* the ``DisclosureGrant`` the policy engine takes.
* ``Notification`` — what a person is told: the owning agency of each new request, the
  requester of each decision, the guest of each grant change. French text, flat properties.

The policy engine takes grants as input: ``active_grants_for`` is the one cheap read the hub
makes per request to feed it. It filters on time itself, so a grant past its end is never
returned even before ``expire_grants`` (the maintenance sweep that marks it expired so the end
can be audited and notified) has run: that is the automatic revocation.

Workflow rules kept here, next to the state they guard:

* ``APPROVER_ROLES``: who may decide on a request — analysts and coordinators *of the lead's
  originating agency*. Originator control: the service that holds the lead decides, and within
  it the analysts who hold the lead are best placed; requiring a coordinator would leave every
  service without one of its own (a CROSS has a single chief) unable to answer. A coordinator
  of another service may not decide: nobody discloses another agency's lead.
* ``GUEST_ENTITY_KINDS``: a guest grant may name vehicles, persons, phones, locations, deal
  points and seizures; not substances, communes or agencies, which thousands of leads share.
* Entity keys are ``<kind>:<key>`` (``vehicle:AB-123-CD``, ``deal_point:25056:hall-3``), as
  the network read names its nodes; ``lead_entity_keys_expression`` gives the Cypher that
  derives them for a lead, so every reader computes them the same way.

Writes that the hub must audit take a ``before_commit`` callback: it runs inside the
transaction, after the change and before the commit, so an audit append that fails rolls the
change back and nothing takes effect unlogged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import neo4j
from pydantic import AwareDatetime, BaseModel, Field

from graph import tx as transactions
from graph.access import HIT, NONE, AccessFilter
from graph.labels import KEY_PROPERTY, EntityKind, Label
from graph.read import asserting_leads, entity_anchor
from graph.schema import unique_constraint
from hub.contract.errors import Conflict, Forbidden, InvalidInput, NotFound
from policies.models import DisclosureGrant, GuestGrant, LeadMarking

T = TypeVar("T")

# --- schema -------------------------------------------------------------------------------------


SCHEMA: list[str] = [
    unique_constraint(Label.GUEST_GRANT),
    unique_constraint(Label.DISCLOSURE_REQUEST),
    unique_constraint(Label.NOTIFICATION),
    # One pending request per (requester, lead): set while requested, removed on decision, so
    # two concurrent identical requests cannot both be created.
    ("CREATE CONSTRAINT disclosurerequest_pending_key_unique IF NOT EXISTS "
     "FOR (n:DisclosureRequest) REQUIRE n.pending_key IS UNIQUE"),
    # active_grants_for: equality on the user, range on the end of validity.
    ("CREATE INDEX guestgrant_grantee_until IF NOT EXISTS "
     "FOR (n:GuestGrant) ON (n.grantee_user_id, n.valid_until)"),
    ("CREATE INDEX disclosurerequest_requester_status IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.requester_user_id, n.status)"),
    # The owner's inbox.
    ("CREATE INDEX disclosurerequest_owner_status IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.owner_agency, n.status)"),
    # expire_grants: range scans on the end of validity.
    "CREATE INDEX guestgrant_valid_until IF NOT EXISTS FOR (n:GuestGrant) ON (n.valid_until)",
    ("CREATE INDEX disclosurerequest_valid_until IF NOT EXISTS "
     "FOR (n:DisclosureRequest) ON (n.valid_until)"),
    # Notifications by recipient.
    ("CREATE INDEX notification_user_created IF NOT EXISTS "
     "FOR (n:Notification) ON (n.user_id, n.created_at)"),
    ("CREATE INDEX notification_agency_created IF NOT EXISTS "
     "FOR (n:Notification) ON (n.agency, n.created_at)"),
]

# --- rules and vocabulary -----------------------------------------------------------------------

APPROVER_ROLES: tuple[str, ...] = ("analyst", "coordinator")
# Who may ask for a disclosure: the roles the policy's disclosure rule serves (rules.yaml,
# ``disclosure-redacted``); a guest or a machine account would gain nothing from one.
REQUESTER_ROLES: tuple[str, ...] = ("analyst", "coordinator")
# Agency-wide notifications (a new request in the inbox) reach the roles that may answer them.
AGENCY_NOTIFICATION_ROLES = APPROVER_ROLES

# A guest is called in "now and then" (CROSS non permanente): a grant longer than this is a
# membership, not an invitation, and is refused; and it names what it covers, within bounds.
MAX_GUEST_GRANT = timedelta(days=90)
MAX_GUEST_LEADS = 500
MAX_GUEST_ENTITIES = 100

GUEST_ENTITY_KINDS: tuple[EntityKind, ...] = (
    EntityKind.VEHICLE, EntityKind.PERSON, EntityKind.PHONE, EntityKind.LOCATION,
    EntityKind.DEAL_POINT, EntityKind.SEIZURE,
)

# Grants ended per expire_grants call (one transaction); a sweep calls again while full.
EXPIRY_BATCH = 1000

_PARIS = ZoneInfo("Europe/Paris")
_PAYLOAD_PREFIX = "payload_"
_PAYLOAD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class GrantStatus(StrEnum):
    SCHEDULED = "scheduled"  # valid_from still ahead
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"  # approved with an end date, now past


class NotificationKind(StrEnum):
    DISCLOSURE_REQUESTED = "disclosure_requested"
    DISCLOSURE_APPROVED = "disclosure_approved"
    DISCLOSURE_DECLINED = "disclosure_declined"
    DISCLOSURE_EXPIRED = "disclosure_expired"
    GUEST_GRANT_CREATED = "guest_grant_created"
    GUEST_GRANT_REVOKED = "guest_grant_revoked"
    GUEST_GRANT_EXPIRED = "guest_grant_expired"
    CROSS_AGENCY_LINK = "cross_agency_link"


# --- models -------------------------------------------------------------------------------------


class GuestGrantRecord(BaseModel):
    """A stored guest grant; ``status`` is evaluated at the instant of the read."""

    grant_id: str
    grantee_user_id: str
    grantee_name: str | None = None
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    valid_from: datetime
    valid_until: datetime
    granted_by: str
    granted_by_name: str | None = None
    granted_at: datetime
    reason: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    expired_at: datetime | None = None
    status: GrantStatus

    def as_policy_grant(self) -> GuestGrant:
        return GuestGrant(
            grant_id=self.grant_id, grantee_user_id=self.grantee_user_id,
            lead_ids=self.lead_ids, entity_keys=self.entity_keys,
            valid_from=self.valid_from, valid_until=self.valid_until, granted_by=self.granted_by,
        )


class DisclosureRequestRecord(BaseModel):
    request_id: str
    lead_id: str
    owner_agency: str
    requester_user_id: str
    requester_name: str
    requester_agency: str
    justification: str
    requested_at: datetime
    status: RequestStatus
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    valid_until: datetime | None = None
    decision_reason: str | None = None
    expired_at: datetime | None = None

    def as_policy_grant(self) -> DisclosureGrant | None:
        """The grant an approval made (whether still active or not), else None."""
        if self.status not in (RequestStatus.APPROVED, RequestStatus.EXPIRED):
            return None
        assert self.decided_by is not None and self.decided_at is not None
        return DisclosureGrant(
            grant_id=self.request_id, lead_id=self.lead_id,
            requester_user_id=self.requester_user_id, owner_agency=self.owner_agency,
            approved_by=self.decided_by, approved_at=self.decided_at, valid_until=self.valid_until,
        )


class Notification(BaseModel):
    notification_id: str
    agency: str
    user_id: str | None = None  # None: for the whole agency (its approvers)
    kind: NotificationKind
    message: str  # French, what the person reads
    created_at: datetime
    read_at: datetime | None = None
    payload: dict[str, str | None] = Field(default_factory=dict)


class ExpiredGrant(BaseModel):
    """One grant ``expire_grants`` just ended: enough to audit and notify it."""

    grant_id: str
    kind: str  # "guest" | "disclosure"
    user_id: str  # the grantee or requester
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    valid_until: datetime


class NewGuestGrant(BaseModel):
    """What the router validated; the graph stores it as is."""

    grantee_user_id: str
    grantee_name: str
    grantee_agency: str
    lead_ids: list[str]
    entity_keys: list[str]
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    granted_by: str
    granted_by_name: str
    reason: str


# --- helpers ------------------------------------------------------------------------------------


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    return {k: _native(v) for k, v in props.items()}


def paris(value: datetime) -> str:
    """A date as a French reader expects it: ``14/10/2025 à 18:00`` (heure de Paris)."""
    return value.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")


_read = transactions.read
_write = transactions.write_once


def _notify(tx: neo4j.Transaction, *, agency: str, user_id: str | None, kind: NotificationKind,
            message: str, payload: dict[str, str | None], now: datetime) -> None:
    props: dict[str, Any] = {
        "notification_id": _new_id("nt"), "agency": agency, "user_id": user_id,
        "kind": kind.value, "message": message, "created_at": now,
    }
    for key, value in payload.items():
        # Keys are ours (never input), checked anyway: they become property names.
        if not _PAYLOAD_KEY.match(key):
            raise ValueError(f"invalid notification payload key {key!r}")
        props[_PAYLOAD_PREFIX + key] = value
    tx.run(f"CREATE (n:{Label.NOTIFICATION.value}) SET n = $props", props=props).consume()


# --- entity keys and lead markings --------------------------------------------------------------


def entity_key_expression(var: str = "x") -> str:
    """Cypher giving the ``<kind>:<key>`` of node ``var`` for the guest-grantable kinds, else
    null. Labels and key properties come from the allow-list."""
    branches = " ".join(
        f"WHEN {var}:{k.label.value} THEN '{k.value}:' + {var}.{k.key_property}"
        for k in GUEST_ENTITY_KINDS
    )
    return f"CASE {branches} ELSE null END"


def lead_entity_keys_expression(lead_var: str = "l") -> str:
    """Cypher giving the list of entity keys a lead mentions directly (its place, vehicles,
    persons, phones, deal point, seizure): what a guest grant on an entity is matched against
    (``LeadMarking.entity_keys``)."""
    key = entity_key_expression("x_")
    return f"[({lead_var})-->(x_) WHERE {key} IS NOT NULL | {key}]"


def parse_entity_key(raw: str) -> tuple[EntityKind, str]:
    """Split ``kind:key``; raises ValueError (French) when malformed or not grantable."""
    kind_text, sep, key = raw.partition(":")
    if not sep or not key:
        raise ValueError("format attendu « type:clé », p. ex. vehicle:AB-123-CD")
    try:
        kind = EntityKind(kind_text)
    except ValueError:
        raise ValueError(f"type d'entité inconnu : {kind_text}") from None
    if kind not in GUEST_ENTITY_KINDS:
        allowed = ", ".join(k.value for k in GUEST_ENTITY_KINDS)
        raise ValueError(f"type d'entité trop partagé pour une autorisation : {kind.value} "
                         f"(admis : {allowed})")
    return kind, key


def known_entity_keys(driver: neo4j.Driver, database: str, keys: list[str],
                      access: AccessFilter) -> set[str]:
    """Which of these well-formed ``kind:key`` keys (keys normalized as ingest did) name an
    entity the caller may know of, at least as a hit, through their compiled ``access``: each
    is resolved by ``graph.read.entity_anchor`` (ADR 0002, "Amendment: entity marking"), so a
    key only leads the caller may not even know of assert is absent from the answer exactly as
    a key nobody holds (one query per key, whose empty result covers both)."""
    parsed = [(raw, *parse_entity_key(raw)) for raw in dict.fromkeys(keys)]

    def work(tx: neo4j.ManagedTransaction) -> set[str]:
        known: set[str] = set()
        for raw, kind, key in parsed:
            try:
                entity_anchor(tx, access, kind, key)
            except NotFound:
                continue
            known.add(raw)
        return known

    return _read(driver, database, work) if parsed else set()


def existing_entity_keys(driver: neo4j.Driver, database: str, keys: list[str]) -> set[str]:
    """Which of these keys name an entity some live lead asserts, whoever may know of it: the
    hub's own consistency checks and tests only — never a caller's request (that is an
    existence oracle; requests use ``known_entity_keys`` with the caller's filter)."""
    return known_entity_keys(driver, database, keys, AccessFilter.unrestricted())


def known_lead_ids(driver: neo4j.Driver, database: str, lead_ids: list[str],
                   access: AccessFilter) -> set[str]:
    """Which of these public lead ids name a lead the caller may know of, at least as a hit,
    through their compiled ``access``: a lead they may not even know of is absent from the
    answer exactly as an id nobody holds (one query; its empty result covers both)."""
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return set()

    def work(tx: neo4j.ManagedTransaction) -> set[str]:
        rows = tx.run(
            f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
            f"WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            f"RETURN l.lead_id AS lead_id",
            ids=ids, **access.params,
        )
        return {r["lead_id"] for r in rows}

    return _read(driver, database, work)


def lead_markings(driver: neo4j.Driver, database: str, lead_ids: list[str]) -> dict[str, LeadMarking]:
    """The marking of each existing lead among ``lead_ids`` (origin, handling code,
    restriction, embargo, entity keys) — what the policy engine decides on, never the content.
    Unknown ids are absent from the answer."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
            f"RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, "
            f"l.handling_code AS handling_code, coalesce(l.restricted_to, []) AS restricted_to, "
            f"l.embargo_until AS embargo_until, {lead_entity_keys_expression('l')} AS entity_keys",
            ids=list(dict.fromkeys(lead_ids)),
        )
        return [r.data() for r in rows]

    out: dict[str, LeadMarking] = {}
    for row in _read(driver, database, work):
        out[row["lead_id"]] = LeadMarking(
            lead_id=row["lead_id"], originating_agency=row["agency"], kind=row["kind"],
            handling_code=row["handling_code"], restricted_to=row["restricted_to"],
            embargo_until=_native(row["embargo_until"]),
            entity_keys=sorted(set(row["entity_keys"])),
        )
    return out


def lead_marking(driver: neo4j.Driver, database: str, lead_id: str) -> LeadMarking | None:
    return lead_markings(driver, database, [lead_id]).get(lead_id)


def leads_on_entity(driver: neo4j.Driver, database: str, entity_id: str, agency: str,
                    access: AccessFilter, *, limit: int = 500) -> list[str]:
    """The ids of ``agency``'s leads on the entity ``<kind>:<key>`` that the caller may know of
    only as hits (through their compiled ``access``), newest first: what an aggregated hit on
    the entity counted, resolved by the hub from a hit handle (hub/handles.py). The leads on an
    entity are those ``graph.read.asserting_leads`` defines — the ones ``entity_anchor`` and the
    network count a hit from (places of a commune, a seizure's place and substances, the leads
    of ``SAME_AS`` links) — so a handle stands for what its hit counted. Unknown kinds or
    entities give an empty list."""
    kind_text, sep, key = entity_id.partition(":")
    try:
        kind = EntityKind(kind_text)
    except ValueError:
        return []
    if not sep or not key or kind.label is Label.LEAD:
        return []

    def work(tx: neo4j.ManagedTransaction) -> list[str]:
        rows = tx.run(
            f"MATCH (ent:{kind.label.value} {{{kind.key_property}: $key}}) "
            f"{asserting_leads()} "
            f"WITH DISTINCT l WHERE l.version > 0 AND l.agency = $agency "
            f"WITH l, {access.case_expression} AS access WHERE access = '{HIT}' "
            f"RETURN l.lead_id AS lead_id ORDER BY l.reported_at DESC, l.lead_id LIMIT $limit",
            key=key, agency=agency, limit=limit, **access.params,
        )
        return [r["lead_id"] for r in rows]

    return _read(driver, database, work)


# --- the per-request read -----------------------------------------------------------------------


def grants_projection(user_id_expr: str) -> str:
    """Cypher giving, for the user whose id is ``user_id_expr``, their active grants at ``$now``
    as two lists (``guest_grants``, ``disclosure_grants``) — usable in any RETURN, so the
    request's identity lookup can bring them in the same round trip. Guest grants not revoked
    with ``valid_from <= now < valid_until``; approved disclosures with ``approved_at <= now``
    and no end or ``now < valid_until``. What is past its end is never returned, whether or not
    ``expire_grants`` has marked it yet."""
    return (
        f"COLLECT {{ MATCH (g:{Label.GUEST_GRANT.value} {{grantee_user_id: {user_id_expr}}}) "
        f"  WHERE g.valid_until > $now AND g.valid_from <= $now AND g.revoked_at IS NULL "
        f"  RETURN g {{.grant_id, .grantee_user_id, .lead_ids, .entity_keys, .valid_from, "
        f"         .valid_until, .granted_by}} }} AS guest_grants, "
        f"COLLECT {{ MATCH (r:{Label.DISCLOSURE_REQUEST.value} "
        f"  {{requester_user_id: {user_id_expr}, status: 'approved'}}) "
        f"  WHERE r.decided_at <= $now AND (r.valid_until IS NULL OR r.valid_until > $now) "
        f"  RETURN r {{grant_id: r.request_id, .lead_id, .requester_user_id, .owner_agency, "
        f"         approved_by: r.decided_by, approved_at: r.decided_at, .valid_until}} }} "
        f"AS disclosure_grants"
    )


def grants_from(guest: list[dict[str, Any]], disclosures: list[dict[str, Any]]) -> list[GuestGrant | DisclosureGrant]:
    grants: list[GuestGrant | DisclosureGrant] = [GuestGrant(**_plain(g)) for g in guest]
    grants += [DisclosureGrant(**{k: v for k, v in _plain(d).items() if v is not None})
               for d in disclosures]
    return grants


def active_grants_for(
    driver: neo4j.Driver, database: str, user_id: str, now: datetime
) -> list[GuestGrant | DisclosureGrant]:
    """Every grant of ``user_id`` active at ``now`` (see ``grants_projection``): one read query
    on indexed properties."""
    records, _, _ = driver.execute_query(
        f"RETURN {grants_projection('$uid')}",
        uid=user_id, now=_utc(now), database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return grants_from(records[0]["guest_grants"], records[0]["disclosure_grants"])


# --- guest grants -------------------------------------------------------------------------------

_GUEST_FIELDS = (
    "grant_id", "grantee_user_id", "grantee_name", "lead_ids", "entity_keys", "valid_from",
    "valid_until", "granted_by", "granted_by_name", "granted_at", "reason", "revoked_at",
    "revoked_by", "revoke_reason", "expired_at",
)


def _guest_record(props: dict[str, Any], now: datetime) -> GuestGrantRecord:
    p = {k: v for k, v in _plain(props).items() if k in _GUEST_FIELDS}
    if p.get("revoked_at") is not None:
        status = GrantStatus.REVOKED
    elif p.get("expired_at") is not None or p["valid_until"] <= now:
        status = GrantStatus.EXPIRED
    elif p["valid_from"] > now:
        status = GrantStatus.SCHEDULED
    else:
        status = GrantStatus.ACTIVE
    return GuestGrantRecord(**p, status=status)


def create_guest_grant(
    driver: neo4j.Driver, database: str, grant: NewGuestGrant, now: datetime,
    before_commit: Callable[[GuestGrantRecord], None] | None = None,
) -> GuestGrantRecord:
    """Store a guest grant (validated by the caller) and notify the grantee."""
    now = _utc(now)
    props = {
        "grant_id": _new_id("gg"),
        "grantee_user_id": grant.grantee_user_id, "grantee_name": grant.grantee_name,
        "lead_ids": grant.lead_ids, "entity_keys": grant.entity_keys,
        "valid_from": _utc(grant.valid_from), "valid_until": _utc(grant.valid_until),
        "granted_by": grant.granted_by, "granted_by_name": grant.granted_by_name,
        "granted_at": now, "reason": grant.reason,
    }

    def work(tx: neo4j.Transaction) -> GuestGrantRecord:
        row = tx.run(f"CREATE (g:{Label.GUEST_GRANT.value}) SET g = $props RETURN g {{.*}} AS g",
                     props=props).single()
        record = _guest_record(row["g"], now)
        scope = _scope_fr(record.lead_ids, record.entity_keys)
        _notify(tx, agency=grant.grantee_agency, user_id=record.grantee_user_id,
                kind=NotificationKind.GUEST_GRANT_CREATED, now=now,
                message=(f"{grant.granted_by_name} (chef de la CROSS) vous a accordé une "
                         f"autorisation d'invité du {paris(record.valid_from)} au "
                         f"{paris(record.valid_until)} : {scope}."),
                payload={"grant_id": record.grant_id,
                         "valid_until": record.valid_until.isoformat()})
        if before_commit:
            before_commit(record)
        return record

    return _write(driver, database, work)


def _scope_fr(lead_ids: list[str], entity_keys: list[str]) -> str:
    parts = []
    if lead_ids:
        parts.append(f"{len(lead_ids)} piste(s)")
    if entity_keys:
        parts.append(f"{len(entity_keys)} entité(s)")
    return " et ".join(parts)


def get_guest_grant(driver: neo4j.Driver, database: str, grant_id: str,
                    now: datetime) -> GuestGrantRecord:
    records, _, _ = driver.execute_query(
        f"MATCH (g:{Label.GUEST_GRANT.value} {{grant_id: $id}}) RETURN g {{.*}} AS g",
        id=grant_id, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        raise NotFound(f"autorisation d'invité inconnue : {grant_id}")
    return _guest_record(records[0]["g"], _utc(now))


def list_guest_grants(
    driver: neo4j.Driver, database: str, now: datetime, *, grantee_user_id: str | None = None,
    active_only: bool = False, limit: int = 500,
) -> list[GuestGrantRecord]:
    """Guest grants, newest first: all of them, or one grantee's; ``active_only`` keeps those
    in force at ``now``."""
    now = _utc(now)
    records, _, _ = driver.execute_query(
        f"MATCH (g:{Label.GUEST_GRANT.value}) "
        f"WHERE ($uid IS NULL OR g.grantee_user_id = $uid) "
        f"  AND (NOT $active OR (g.revoked_at IS NULL AND g.valid_from <= $now AND g.valid_until > $now)) "
        f"RETURN g {{.*}} AS g ORDER BY g.granted_at DESC LIMIT $limit",
        uid=grantee_user_id, active=active_only, now=now, limit=limit,
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return [_guest_record(r["g"], now) for r in records]


def revoke_guest_grant(
    driver: neo4j.Driver, database: str, grant_id: str, *, revoked_by: str, revoked_by_name: str,
    reason: str | None, now: datetime,
    before_commit: Callable[[GuestGrantRecord], None] | None = None,
) -> GuestGrantRecord:
    """End a grant before its term. 404 unknown; 409 if already revoked or expired."""
    now = _utc(now)

    def work(tx: neo4j.Transaction) -> GuestGrantRecord:
        current = _lock(tx, Label.GUEST_GRANT, grant_id)
        if current is None:
            raise NotFound(f"autorisation d'invité inconnue : {grant_id}")
        record = _guest_record(current, now)
        if record.status in (GrantStatus.REVOKED, GrantStatus.EXPIRED):
            verb = "révoquée" if record.status is GrantStatus.REVOKED else "expirée"
            raise Conflict(f"autorisation d'invité déjà {verb} : {grant_id}",
                           details=[{"field": "grant_id", "reason": f"déjà {verb}"}])
        row = tx.run(
            f"MATCH (g:{Label.GUEST_GRANT.value} {{grant_id: $id}}) "
            f"SET g.revoked_at = $now, g.revoked_by = $by, g.revoke_reason = $reason "
            f"WITH g OPTIONAL MATCH (u:{Label.USER.value} {{user_id: g.grantee_user_id}}) "
            f"RETURN g {{.*}} AS g, u.agency AS agency",
            id=grant_id, now=now, by=revoked_by, reason=reason,
        ).single()
        record = _guest_record(row["g"], now)
        if row["agency"]:
            _notify(tx, agency=row["agency"], user_id=record.grantee_user_id,
                    kind=NotificationKind.GUEST_GRANT_REVOKED, now=now,
                    message=(f"Votre autorisation d'invité {grant_id} a été révoquée par "
                             f"{revoked_by_name}" + (f" : {reason}" if reason else "") + "."),
                    payload={"grant_id": grant_id})
        if before_commit:
            before_commit(record)
        return record

    return _write(driver, database, work)


def _lock(tx: neo4j.Transaction, label: Label, key: str) -> dict[str, Any] | None:
    """Take the node's write lock, then read it. Reading after the lock is what makes a
    check-then-set safe: a concurrent decision waits here and then sees the first one's
    committed state (Neo4j does not re-evaluate a WHERE read before the lock)."""
    prop = KEY_PROPERTY[label]
    locked = tx.run(
        f"MATCH (n:{label.value} {{{prop}: $key}}) "
        f"SET n.revision = coalesce(n.revision, 0) + 1 RETURN count(n) AS n",
        key=key,
    ).single()["n"]
    if not locked:
        return None
    return tx.run(f"MATCH (n:{label.value} {{{prop}: $key}}) RETURN n {{.*}} AS n", key=key).single()["n"]


# --- disclosure requests ------------------------------------------------------------------------

_REQUEST_FIELDS = tuple(DisclosureRequestRecord.model_fields)


def _request_record(props: dict[str, Any]) -> DisclosureRequestRecord:
    return DisclosureRequestRecord(**{k: v for k, v in _plain(props).items() if k in _REQUEST_FIELDS})


def create_disclosure_request(
    driver: neo4j.Driver, database: str, *, lead_id: str, requester_user_id: str,
    requester_name: str, requester_agency: str, justification: str, now: datetime,
    before_commit: Callable[[DisclosureRequestRecord], None] | None = None,
) -> DisclosureRequestRecord:
    """Record a request for ``lead_id`` and notify its owning agency (the lead's agency, read
    from the Lead node). The caller has checked the requester may know of the lead: an
    unknown lead here is 404. One pending request per requester and lead (409)."""
    now = _utc(now)

    def work(tx: neo4j.Transaction) -> DisclosureRequestRecord:
        owner = tx.run(
            f"MATCH (l:{Label.LEAD.value} {{lead_id: $lead_id}}) WHERE l.version > 0 "
            f"RETURN l.agency AS agency", lead_id=lead_id,
        ).single()
        if owner is None:
            raise NotFound(f"piste inconnue : {lead_id}")
        pending_key = f"{requester_user_id}|{lead_id}"
        existing = tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{pending_key: $pk}}) RETURN r.request_id AS id",
            pk=pending_key,
        ).single()
        if existing is not None:
            raise _pending_conflict(lead_id, existing["id"])
        props = {
            "request_id": _new_id("dr"), "lead_id": lead_id, "owner_agency": owner["agency"],
            "requester_user_id": requester_user_id, "requester_name": requester_name,
            "requester_agency": requester_agency, "justification": justification,
            "requested_at": now, "status": RequestStatus.REQUESTED.value,
            "pending_key": pending_key,
        }
        try:
            row = tx.run(f"CREATE (r:{Label.DISCLOSURE_REQUEST.value}) SET r = $props "
                         f"RETURN r {{.*}} AS r", props=props).single()
        except neo4j.exceptions.ConstraintError as exc:  # a concurrent identical request won
            raise _pending_conflict(lead_id, None) from exc
        record = _request_record(row["r"])
        _notify(tx, agency=record.owner_agency, user_id=None,
                kind=NotificationKind.DISCLOSURE_REQUESTED, now=now,
                message=(f"{requester_name} ({requester_agency}) demande la communication de "
                         f"votre piste {lead_id}. Motif : {justification}"),
                payload={"request_id": record.request_id, "lead_id": lead_id,
                         "requester_user_id": requester_user_id})
        if before_commit:
            before_commit(record)
        return record

    return _write(driver, database, work)


def _pending_conflict(lead_id: str, request_id: str | None) -> Conflict:
    return Conflict(
        f"une demande de communication de la piste {lead_id} est déjà en attente",
        details=[{"field": "lead_id", "reason": "demande déjà en attente"
                  + (f" ({request_id})" if request_id else "")}],
    )


def decide_disclosure_request(
    driver: neo4j.Driver, database: str, request_id: str, *, approve: bool, decided_by: str,
    decided_by_name: str, decider_agency: str, now: datetime, valid_until: datetime | None = None,
    reason: str | None = None,
    before_commit: Callable[[DisclosureRequestRecord], None] | None = None,
) -> DisclosureRequestRecord:
    """Approve or decline a pending request, as a member of the owning agency (the caller has
    checked the role is one of ``APPROVER_ROLES``). 404 unknown; 403 another agency's request;
    409 already decided. The requester is notified."""
    now = _utc(now)
    if valid_until is not None and _utc(valid_until) <= now:
        raise InvalidInput("fin de validité déjà passée", details=[
            {"field": "valid_until", "reason": "doit être postérieure à maintenant"}])

    def work(tx: neo4j.Transaction) -> DisclosureRequestRecord:
        current = _lock(tx, Label.DISCLOSURE_REQUEST, request_id)
        if current is None:
            raise NotFound(f"demande de communication inconnue : {request_id}")
        record = _request_record(current)
        if record.owner_agency != decider_agency:
            raise Forbidden(
                f"seul le service d'origine de la piste ({record.owner_agency}) peut statuer "
                f"sur cette demande")
        if record.status is not RequestStatus.REQUESTED:
            raise Conflict(f"demande {request_id} déjà traitée ({_STATUS_FR[record.status]})",
                           details=[{"field": "status", "reason": f"déjà {_STATUS_FR[record.status]}"}])
        status = RequestStatus.APPROVED if approve else RequestStatus.DECLINED
        row = tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{request_id: $id}}) "
            f"SET r.status = $status, r.decided_by = $by, r.decided_by_name = $by_name, "
            f"    r.decided_at = $now, r.valid_until = $until, r.decision_reason = $reason "
            f"REMOVE r.pending_key RETURN r {{.*}} AS r",
            id=request_id, status=status.value, by=decided_by, by_name=decided_by_name, now=now,
            until=_utc(valid_until) if approve else None, reason=reason,
        ).single()
        record = _request_record(row["r"])
        if approve:
            until = f" jusqu'au {paris(record.valid_until)}" if record.valid_until else ""
            message = (f"Votre demande de communication de la piste {record.lead_id} a été "
                       f"acceptée par {decided_by_name} ({decider_agency}){until}.")
            kind = NotificationKind.DISCLOSURE_APPROVED
        else:
            message = (f"Votre demande de communication de la piste {record.lead_id} a été "
                       f"refusée par {decided_by_name} ({decider_agency})"
                       + (f" : {reason}" if reason else "") + ".")
            kind = NotificationKind.DISCLOSURE_DECLINED
        _notify(tx, agency=record.requester_agency, user_id=record.requester_user_id, kind=kind,
                message=message, now=now,
                payload={"request_id": request_id, "lead_id": record.lead_id})
        if before_commit:
            before_commit(record)
        return record

    return _write(driver, database, work)


_STATUS_FR = {
    RequestStatus.REQUESTED: "en attente",
    RequestStatus.APPROVED: "acceptée",
    RequestStatus.DECLINED: "refusée",
    RequestStatus.EXPIRED: "expirée",
}


def get_disclosure_request(driver: neo4j.Driver, database: str,
                           request_id: str) -> DisclosureRequestRecord:
    records, _, _ = driver.execute_query(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{request_id: $id}}) RETURN r {{.*}} AS r",
        id=request_id, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        raise NotFound(f"demande de communication inconnue : {request_id}")
    return _request_record(records[0]["r"])


def list_disclosure_requests(
    driver: neo4j.Driver, database: str, *, owner_agency: str | None = None,
    requester_user_id: str | None = None, status: RequestStatus | None = None, limit: int = 500,
) -> list[DisclosureRequestRecord]:
    """The owner's inbox (``owner_agency``) or a requester's own requests, newest first."""
    if (owner_agency is None) == (requester_user_id is None):
        raise ValueError("exactly one of owner_agency, requester_user_id")
    records, _, _ = driver.execute_query(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) "
        f"WHERE ($owner IS NULL OR r.owner_agency = $owner) "
        f"  AND ($uid IS NULL OR r.requester_user_id = $uid) "
        f"  AND ($status IS NULL OR r.status = $status) "
        f"RETURN r {{.*}} AS r ORDER BY r.requested_at DESC LIMIT $limit",
        owner=owner_agency, uid=requester_user_id, status=status.value if status else None,
        limit=limit, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return [_request_record(r["r"]) for r in records]


# --- expiry -------------------------------------------------------------------------------------


def expire_grants(
    driver: neo4j.Driver, database: str, now: datetime, *, limit: int = EXPIRY_BATCH,
    before_commit: Callable[[list[ExpiredGrant]], None] | None = None,
) -> list[ExpiredGrant]:
    """Mark the grants whose end of validity is at or before ``now`` as expired (guest grants
    not revoked; approved disclosures with an end date), notify their holders, and return
    them, at most ``limit`` per call. Run it on a schedule: it is what makes the automatic end
    of a grant an audited event (``active_grants_for`` already ignores it)."""
    now = _utc(now)

    def work(tx: neo4j.Transaction) -> list[ExpiredGrant]:
        guests = tx.run(
            f"MATCH (g:{Label.GUEST_GRANT.value}) "
            f"WHERE g.valid_until <= $now AND g.revoked_at IS NULL AND g.expired_at IS NULL "
            f"WITH g ORDER BY g.valid_until LIMIT $limit "
            f"SET g.expired_at = $now "
            f"WITH g OPTIONAL MATCH (u:{Label.USER.value} {{user_id: g.grantee_user_id}}) "
            f"RETURN g {{.*}} AS g, u.agency AS agency",
            now=now, limit=limit,
        ).data()
        disclosures = tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) "
            f"WHERE r.valid_until <= $now AND r.status = 'approved' "
            f"WITH r ORDER BY r.valid_until LIMIT $limit "
            f"SET r.status = 'expired', r.expired_at = $now "
            f"RETURN r {{.*}} AS r",
            now=now, limit=limit,
        ).data()
        expired: list[ExpiredGrant] = []
        for row in guests:
            g = _plain(row["g"])
            expired.append(ExpiredGrant(
                grant_id=g["grant_id"], kind="guest", user_id=g["grantee_user_id"],
                lead_ids=g.get("lead_ids") or [], entity_keys=g.get("entity_keys") or [],
                valid_until=g["valid_until"]))
            if row["agency"]:
                _notify(tx, agency=row["agency"], user_id=g["grantee_user_id"],
                        kind=NotificationKind.GUEST_GRANT_EXPIRED, now=now,
                        message=(f"Votre autorisation d'invité {g['grant_id']} a pris fin le "
                                 f"{paris(g['valid_until'])}."),
                        payload={"grant_id": g["grant_id"]})
        for row in disclosures:
            r = _request_record(row["r"])
            assert r.valid_until is not None
            expired.append(ExpiredGrant(
                grant_id=r.request_id, kind="disclosure", user_id=r.requester_user_id,
                lead_ids=[r.lead_id], valid_until=r.valid_until))
            _notify(tx, agency=r.requester_agency, user_id=r.requester_user_id,
                    kind=NotificationKind.DISCLOSURE_EXPIRED, now=now,
                    message=(f"La communication de la piste {r.lead_id} a pris fin le "
                             f"{paris(r.valid_until)}."),
                    payload={"request_id": r.request_id, "lead_id": r.lead_id})
        if expired and before_commit:
            before_commit(expired)
        return expired

    return _write(driver, database, work)


# --- notifications ------------------------------------------------------------------------------


def notify_agencies(driver: neo4j.Driver, database: str, notices: list[tuple[str, NotificationKind, str,
                    dict[str, str | None]]], now: datetime) -> int:
    """Address notifications to whole agencies — (agency, kind, French message, payload) — in
    one write. Used for cross-agency link alerts after an ingest."""
    if not notices:
        return 0

    def work(tx: neo4j.ManagedTransaction) -> None:
        for agency, kind, message, payload in notices:
            _notify(tx, agency=agency, user_id=None, kind=kind, message=message, payload=payload, now=now)

    with driver.session(database=database) as session:
        session.execute_write(work)
    return len(notices)


def _notification(props: dict[str, Any]) -> Notification:
    p = _plain(props)
    payload = {k[len(_PAYLOAD_PREFIX):]: v for k, v in p.items() if k.startswith(_PAYLOAD_PREFIX)}
    return Notification(payload=payload, **{k: v for k, v in p.items()
                                            if k in Notification.model_fields and k != "payload"})


def _visible(var: str) -> str:
    return (f"({var}.user_id = $uid OR ($agency_wide AND {var}.user_id IS NULL "
            f"AND {var}.agency = $agency))")


def list_notifications(
    driver: neo4j.Driver, database: str, *, user_id: str, agency: str, agency_wide: bool,
    unread_only: bool = False, limit: int = 200,
) -> list[Notification]:
    """A user's notifications, newest first: their own, plus (``agency_wide``: the caller is
    one of ``AGENCY_NOTIFICATION_ROLES``) those addressed to their whole agency. An agency
    notification is read once for the agency: whoever marks it read marks it for all."""
    records, _, _ = driver.execute_query(
        f"CALL () {{ "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE n.user_id = $uid RETURN n "
        f"  UNION "
        f"  MATCH (n:{Label.NOTIFICATION.value}) WHERE $agency_wide AND n.agency = $agency "
        f"    AND n.user_id IS NULL RETURN n "
        f"}} "
        f"WITH n WHERE NOT $unread OR n.read_at IS NULL "
        f"RETURN n {{.*}} AS n ORDER BY n.created_at DESC LIMIT $limit",
        uid=user_id, agency=agency, agency_wide=agency_wide, unread=unread_only, limit=limit,
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return [_notification(r["n"]) for r in records]


def mark_notification_read(
    driver: neo4j.Driver, database: str, notification_id: str, *, user_id: str, agency: str,
    agency_wide: bool, now: datetime,
) -> Notification:
    """Mark read (idempotent: the first reading time stays). 404 when the notification does
    not exist or is not the caller's to see — the same answer, so ids reveal nothing."""
    records, _, _ = driver.execute_query(
        f"MATCH (n:{Label.NOTIFICATION.value} {{notification_id: $id}}) WHERE {_visible('n')} "
        f"SET n.read_at = coalesce(n.read_at, $now) RETURN n {{.*}} AS n",
        id=notification_id, uid=user_id, agency=agency, agency_wide=agency_wide, now=_utc(now),
        database_=database,
    )
    if not records:
        raise NotFound(f"notification inconnue : {notification_id}")
    return _notification(records[0]["n"])
