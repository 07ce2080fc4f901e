"""The per-request read of a user's active grants: the policy engine takes grants as input, and
``active_grants_for`` (or ``grants_projection`` inside the request's identity lookup) is the one
cheap read the hub makes per request to feed it. It filters on time itself, so a grant past its
end is never returned even before ``expire_grants`` (graph/grants/expiry.py) has marked it: that
is the automatic revocation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from policies.models import DisclosureGrant, GuestGrant


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
        f"         approved_by: r.decided_by, approved_at: r.decided_at, .valid_until, .released_groups}} }} "
        f"AS disclosure_grants"
    )


def grants_from(guest: list[dict[str, Any]],
                disclosures: list[dict[str, Any]]) -> list[GuestGrant | DisclosureGrant]:
    """The policy's grants from the two lists ``grants_projection`` returns."""
    grants: list[GuestGrant | DisclosureGrant] = [GuestGrant(**plain(g)) for g in guest]
    grants += [DisclosureGrant(**{k: v for k, v in plain(d).items() if v is not None})
               for d in disclosures]
    return grants


def active_grants_for(graph: Graph, user_id: str, now: datetime) -> list[GuestGrant | DisclosureGrant]:
    """Every grant of ``user_id`` active at ``now`` (see ``grants_projection``): one read query
    on indexed properties."""
    records = graph.query(
        f"RETURN {grants_projection('$uid')}",
        uid=user_id, now=utc(now), read_=True,
    )
    return grants_from(records[0]["guest_grants"], records[0]["disclosure_grants"])
