"""Guest grants: a CROSS non permanente calls in a referent — a time-boxed grant to one
``guest_referent`` user, scoped to named leads and/or entities, created and revoked by the CROSS
chief (coordinator), ended by the expiry sweep (graph/grants/expiry.py). The guest is notified
of each change. ``status`` is evaluated at the instant of the read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.grants._common import lock, new_id
from graph.grants.models import (
    GrantStatus,
    GuestGrantRecord,
    NewGuestGrant,
    NotificationKind,
)
from graph.grants.notifications import notify
from graph.handle import Graph
from graph.labels import Label
from graph.records import node_by_key, plain, utc
from hub.contract.errors import Conflict, NotFound
from policies import grants as wording

_GUEST_FIELDS = (
    "grant_id", "grantee_user_id", "grantee_name", "lead_ids", "entity_keys", "valid_from",
    "valid_until", "granted_by", "granted_by_name", "granted_at", "reason", "revoked_at",
    "revoked_by", "revoke_reason", "expired_at",
)


def _guest_record(props: dict[str, Any], now: datetime) -> GuestGrantRecord:
    """A guest grant node's properties as a record, its status at ``now``."""
    p = {k: v for k, v in plain(props).items() if k in _GUEST_FIELDS}
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
    graph: Graph, grant: NewGuestGrant, now: datetime,
    before_commit: Callable[[GuestGrantRecord], None] | None = None,
) -> GuestGrantRecord:
    """Store a guest grant (validated by the caller) and notify the grantee."""
    now = utc(now)
    props = {
        "grant_id": new_id("gg"),
        "grantee_user_id": grant.grantee_user_id, "grantee_name": grant.grantee_name,
        "lead_ids": grant.lead_ids, "entity_keys": grant.entity_keys,
        "valid_from": utc(grant.valid_from), "valid_until": utc(grant.valid_until),
        "granted_by": grant.granted_by, "granted_by_name": grant.granted_by_name,
        "granted_at": now, "reason": grant.reason,
    }

    def work(tx: neo4j.Transaction) -> GuestGrantRecord:
        row = tx.run(f"CREATE (g:{Label.GUEST_GRANT.value}) SET g = $props RETURN g {{.*}} AS g",
                     props=props).single()
        record = _guest_record(row["g"], now)
        notify(tx, agency=grant.grantee_agency, user_id=record.grantee_user_id,
               kind=NotificationKind.GUEST_GRANT_CREATED, now=now,
               message=wording.guest_grant_created(grant.granted_by_name, record.valid_from,
                                                   record.valid_until, record.lead_ids,
                                                   record.entity_keys),
               payload={"grant_id": record.grant_id,
                        "valid_until": record.valid_until.isoformat()})
        if before_commit:
            before_commit(record)
        return record

    return graph.write_once(work)



def get_guest_grant(graph: Graph, grant_id: str, now: datetime) -> GuestGrantRecord:
    return _guest_record(node_by_key(graph, Label.GUEST_GRANT, grant_id,
                                     "autorisation d'invité inconnue"), utc(now))


def list_guest_grants(
    graph: Graph, now: datetime, *, grantee_user_id: str | None = None,
    active_only: bool = False, limit: int = 500,
) -> list[GuestGrantRecord]:
    """Guest grants, newest first: all of them, or one grantee's; ``active_only`` keeps those
    in force at ``now``."""
    now = utc(now)
    records = graph.query(
        f"MATCH (g:{Label.GUEST_GRANT.value}) "
        f"WHERE ($uid IS NULL OR g.grantee_user_id = $uid) "
        f"  AND (NOT $active OR (g.revoked_at IS NULL AND g.valid_from <= $now AND g.valid_until > $now)) "
        f"RETURN g {{.*}} AS g ORDER BY g.granted_at DESC LIMIT $limit",
        uid=grantee_user_id, active=active_only, now=now, limit=limit,
        read_=True,
    )
    return [_guest_record(r["g"], now) for r in records]


def revoke_guest_grant(
    graph: Graph, grant_id: str, *, revoked_by: str, revoked_by_name: str,
    reason: str | None, now: datetime,
    before_commit: Callable[[GuestGrantRecord], None] | None = None,
) -> GuestGrantRecord:
    """End a grant before its term. 404 unknown; 409 if already revoked or expired."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> GuestGrantRecord:
        current = lock(tx, Label.GUEST_GRANT, grant_id)
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
            notify(tx, agency=row["agency"], user_id=record.grantee_user_id,
                   kind=NotificationKind.GUEST_GRANT_REVOKED, now=now,
                   message=wording.guest_grant_revoked(grant_id, revoked_by_name, reason),
                   payload={"grant_id": grant_id})
        if before_commit:
            before_commit(record)
        return record

    return graph.write_once(work)
