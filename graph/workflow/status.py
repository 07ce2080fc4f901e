"""A lead's lifecycle in the graph: its status (``LeadStatus``, one per lead) and the attributed
history of its changes (``StatusChange``), the triage queue of leads in one state, and the
resolution counts hit rates are computed from.

The transition rules are ``policies.lifecycle``'s, taken from the ``TriageRules`` the caller
passes (a required argument). The state, close outcome and resolution date are mirrored on the
``Lead`` for the retention purge (graph/retention.py); no read projects them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.handle import Graph
from graph.records import plain, utc
from graph.workflow._common import lead_access, node_props
from graph.workflow.models import (
    SYSTEM_USER,
    QueueItem,
    Shown,
    StatusChangeRecord,
    StatusResult,
    shown,
)
from policies import lifecycle
from policies.lifecycle import LeadState
from policies.triage import ResolutionCount, TriageRules


def history(graph: Graph, lead_id: str,
            access: AccessFilter) -> tuple[Shown, list[StatusChangeRecord]]:
    """How the caller sees the lead (``full`` or ``redacted``), and every change of its state,
    oldest first, attributed (the history holds no lead property a redaction withholds)."""

    def work(tx: neo4j.ManagedTransaction) -> tuple[Shown, list[StatusChangeRecord]]:
        _agency, level = lead_access(tx, lead_id, access)
        rows = tx.run("MATCH (c:StatusChange) WHERE c.lead_id = $id RETURN c {.*} AS c ORDER BY c.seq",
                      id=lead_id)
        return shown(level), [StatusChangeRecord(**plain(r["c"])) for r in rows]

    return graph.read(work)


QUEUE_ORDERS = {
    "score": "s.score DESC, s.created_at ASC",
    "received": "s.created_at ASC",
    "updated": "s.updated_at DESC",
}


def queue(graph: Graph, access: AccessFilter, *, state: LeadState,
          order: str = "score", agency: str | None = None, limit: int = 50,
          offset: int = 0) -> list[QueueItem]:
    """Leads in ``state`` the caller may read (hits and hidden leads are left out: triage needs
    the lead itself), ordered by precision score, arrival or last change."""
    order_by = QUEUE_ORDERS[order]  # a key of our own map, never input text

    def work(tx: neo4j.ManagedTransaction) -> list[QueueItem]:
        rows = tx.run(
            f"MATCH (s:LeadStatus) WHERE s.state = $state AND ($agency IS NULL OR s.agency = $agency) "
            f"MATCH (l:Lead {{lead_id: s.lead_id}}) WHERE l.version > 0 "
            f"WITH s, l, {access.case_expression} AS access "
            f"WHERE NOT access IN ['{NONE}', '{HIT}'] "
            f"WITH s, l, access ORDER BY {order_by}, s.lead_id SKIP $offset LIMIT $limit "
            f"RETURN s {{.*}} AS s, access, {access.projection()} AS lead",
            state=state.value, agency=agency, offset=offset, limit=limit, **access.params,
        )
        items = []
        for r in rows:
            s, lead = plain(r["s"]), plain(r["lead"])
            items.append(QueueItem(
                lead_id=s["lead_id"], agency=lead["agency"], kind=lead["kind"], access=shown(r["access"]),
                state=s["state"], score=s.get("score"), duplicate_count=s.get("duplicate_count") or 0,
                channel=lead.get("channel"), reported_at=lead.get("reported_at"),
                insee_code=lead.get("insee_code"), assignee_agency=s.get("assignee_agency"),
                unit=s.get("unit"), received_at=s.get("created_at"), updated_at=s.get("updated_at")))
        return items

    return graph.read(work)



def change_status(
    graph: Graph,
    lead_id: str,
    request: lifecycle.StatusRequest,
    actor: lifecycle.Actor,
    actor_name: str,
    access: AccessFilter,
    now: datetime,
    *,
    rules: TriageRules,
    before_commit: Callable[[StatusResult], None] | None = None,
) -> StatusResult:
    """Move a lead to a new state under its status lock: the check (``lifecycle.check_transition``)
    reads the state after taking the lock, so of two concurrent changes from the same state the
    second sees the first and gets 409."""
    now = utc(now) or datetime.now(UTC)

    def work(tx: neo4j.Transaction) -> StatusResult:
        owner, _level = lead_access(tx, lead_id, access)
        # Lock first (a lead written before triage existed gets its status now), read after.
        tx.run(
            "MERGE (s:LeadStatus {lead_id: $id}) "
            "ON CREATE SET s.state = $new, s.seq = 0, s.agency = $agency, s.created_at = $now, "
            "              s.updated_at = $now "
            "SET s.revision = coalesce(s.revision, 0) + 1 "
            "MERGE (c:StatusChange {change_id: $id + '#0'}) "
            "ON CREATE SET c.lead_id = $id, c.seq = 0, c.to_state = $new, c.at = $now, "
            "              c.user_id = $system, c.user_name = $system_name, "
            "              c.note = 'suivi ouvert (piste antérieure au triage)'",
            id=lead_id, new=LeadState.NEW.value, agency=owner, now=now,
            system=SYSTEM_USER[0], system_name=SYSTEM_USER[1],
        ).consume()
        s = plain(tx.run("MATCH (s:LeadStatus {lead_id: $id}) RETURN s {.*} AS s", id=lead_id).single()["s"])
        current = lifecycle.CurrentStatus(lead_id=lead_id, owner_agency=owner, state=s["state"],
                                          assignee_agency=s.get("assignee_agency"))
        change = lifecycle.check_transition(rules.lifecycle, current, request, actor)
        target = change.to_state
        seq = int(s.get("seq") or 0) + 1
        resolved = target in lifecycle.RESOLVED_STATES
        assignee = (change.assignee_agency.value if target is LeadState.ASSIGNED and change.assignee_agency
                    else None if target in (LeadState.UNDER_ASSESSMENT,) else s.get("assignee_agency"))
        unit = (change.unit if target is LeadState.ASSIGNED
                else None if target is LeadState.UNDER_ASSESSMENT else s.get("unit"))
        props = {
            "state": target.value, "seq": seq, "updated_at": now, "updated_by": actor.user_id,
            "assignee_agency": assignee, "unit": unit,
            "outcome": change.outcome.value if change.outcome else None,
            "reason": change.reason.value if change.reason else None,
            "resolved_at": now if resolved else None,
        }
        record = StatusChangeRecord(
            change_id=f"{lead_id}#{seq}", lead_id=lead_id, seq=seq, from_state=change.from_state,
            to_state=target, at=now, user_id=actor.user_id, user_name=actor_name,
            user_agency=actor.agency.value, user_role=actor.role, by=change.by, note=change.note,
            outcome=props["outcome"], reason=props["reason"],
            assignee_agency=change.assignee_agency.value if change.assignee_agency else None,
            unit=change.unit)
        tx.run(
            "MATCH (s:LeadStatus {lead_id: $id}) SET s += $props "
            "CREATE (c:StatusChange) SET c = $change "
            # Mirrored on the lead for the retention purge (graph/retention.py reads these):
            # never projected by reads (not in graph.access.LEAD_PROPERTIES).
            "WITH s MATCH (l:Lead {lead_id: $id}) "
            "SET l.status = s.state, l.outcome = s.outcome, l.status_changed_at = $now, "
            "    l.closed_at = CASE WHEN s.state = 'closed' THEN $now END, "
            "    l.dismissed_at = CASE WHEN s.state = 'dismissed' THEN $now END",
            id=lead_id, props=props, now=now, change=node_props(record),
        ).consume()
        result = StatusResult(lead_id=lead_id, state=target, seq=seq, assignee_agency=assignee,
                              unit=unit, outcome=props["outcome"], reason=props["reason"], change=record)
        if before_commit:
            before_commit(result)
        return result

    return graph.write_once(work)


def resolution_counts(graph: Graph, access: AccessFilter, *,
                      since: datetime | None, until: datetime | None) -> list[ResolutionCount]:
    """Leads closed or dismissed in [since, until), counted per channel, connector, state and
    outcome — only leads the caller may at least know of."""

    def work(tx: neo4j.ManagedTransaction) -> list[ResolutionCount]:
        rows = tx.run(
            f"MATCH (s:LeadStatus) WHERE s.resolved_at IS NOT NULL AND s.state IN $resolved "
            f"  AND ($since IS NULL OR s.resolved_at >= $since) AND ($until IS NULL OR s.resolved_at < $until) "
            f"MATCH (l:Lead {{lead_id: s.lead_id}}) WHERE l.version > 0 "
            f"WITH s, l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            f"RETURN coalesce(l.channel, 'inconnu') AS channel, "
            f"       coalesce(s.connector, 'agency:' + l.agency) AS connector, "
            f"       s.state AS state, s.outcome AS outcome, count(*) AS count",
            resolved=[s.value for s in lifecycle.RESOLVED_STATES], since=utc(since), until=utc(until),
            **access.params,
        )
        return [ResolutionCount(**r.data()) for r in rows]

    return graph.read(work)
