"""The expiry sweep: grants whose end of validity has passed are marked expired (guest grants not
revoked; approved disclosures with an end date) and their holders notified. ``active_grants_for``
already ignores them; the sweep is what makes the automatic end of a grant an audited event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import neo4j

from graph.grants.disclosures import request_record
from graph.grants.models import ExpiredGrant, NotificationKind
from graph.grants.notifications import notify
from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from policies import grants as wording

# Grants ended per expire_grants call (one transaction); a sweep calls again while full.
EXPIRY_BATCH = 1000


def expire_grants(
    graph: Graph, now: datetime, *, limit: int = EXPIRY_BATCH,
    before_commit: Callable[[list[ExpiredGrant]], None] | None = None,
) -> list[ExpiredGrant]:
    """Mark the grants whose end of validity is at or before ``now`` as expired (guest grants
    not revoked; approved disclosures with an end date), notify their holders, and return
    them, at most ``limit`` per call. Run it on a schedule: it is what makes the automatic end
    of a grant an audited event (``active_grants_for`` already ignores it)."""
    now = utc(now)

    def work(tx: neo4j.Transaction) -> list[ExpiredGrant]:
        # Two statements per kind: pick candidates, then lock each (sorted) and check it again
        # before marking it, so of two sweeps racing (two hub processes) one ends each grant.
        guest_ids = [r["id"] for r in tx.run(
            f"MATCH (g:{Label.GUEST_GRANT.value}) "
            f"WHERE g.valid_until <= $now AND g.revoked_at IS NULL AND g.expired_at IS NULL "
            f"WITH g ORDER BY g.valid_until LIMIT $limit RETURN g.grant_id AS id",
            now=now, limit=limit)]
        guests = tx.run(
            f"UNWIND $ids AS id MATCH (g:{Label.GUEST_GRANT.value} {{grant_id: id}}) "
            f"SET g._lock = true "
            f"WITH g, g.revoked_at IS NULL AND g.expired_at IS NULL AS due "
            f"REMOVE g._lock "
            f"WITH g WHERE due "
            f"SET g.expired_at = $now "
            f"WITH g OPTIONAL MATCH (u:{Label.USER.value} {{user_id: g.grantee_user_id}}) "
            f"RETURN g {{.*}} AS g, u.agency AS agency ORDER BY g.valid_until",
            now=now, ids=sorted(guest_ids),
        ).data() if guest_ids else []
        request_ids = [r["id"] for r in tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) "
            f"WHERE r.valid_until <= $now AND r.status = 'approved' "
            f"WITH r ORDER BY r.valid_until LIMIT $limit RETURN r.request_id AS id",
            now=now, limit=limit)]
        disclosures = tx.run(
            f"UNWIND $ids AS id MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{request_id: id}}) "
            f"SET r._lock = true "
            f"WITH r, r.status = 'approved' AS due "
            f"REMOVE r._lock "
            f"WITH r WHERE due "
            f"SET r.status = 'expired', r.expired_at = $now "
            f"RETURN r {{.*}} AS r ORDER BY r.valid_until",
            now=now, ids=sorted(request_ids),
        ).data() if request_ids else []
        expired: list[ExpiredGrant] = []
        for row in guests:
            g = plain(row["g"])
            expired.append(ExpiredGrant(
                grant_id=g["grant_id"], kind="guest", user_id=g["grantee_user_id"],
                lead_ids=g.get("lead_ids") or [], entity_keys=g.get("entity_keys") or [],
                valid_until=g["valid_until"]))
            if row["agency"]:
                notify(tx, agency=row["agency"], user_id=g["grantee_user_id"],
                       kind=NotificationKind.GUEST_GRANT_EXPIRED, now=now,
                       message=wording.guest_grant_expired(g["grant_id"], g["valid_until"]),
                       payload={"grant_id": g["grant_id"]})
        for row in disclosures:
            r = request_record(row["r"])
            assert r.valid_until is not None
            expired.append(ExpiredGrant(
                grant_id=r.request_id, kind="disclosure", user_id=r.requester_user_id,
                lead_ids=[r.lead_id], valid_until=r.valid_until))
            notify(tx, agency=r.requester_agency, user_id=r.requester_user_id,
                   kind=NotificationKind.DISCLOSURE_EXPIRED, now=now,
                   message=wording.disclosure_expired(r.lead_id, r.valid_until),
                   payload={"request_id": r.request_id, "lead_id": r.lead_id})
        if expired and before_commit:
            before_commit(expired)
        return expired

    return graph.write_once(work)
