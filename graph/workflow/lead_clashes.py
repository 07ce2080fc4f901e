"""Lead-vs-operation deconfliction in the graph (ADR 0017): a new lead of another agency that
meets an active operation (its target, or its place during its window) opens a
``LeadClashAlert`` for the operation's owner, open until the owner acknowledges it.

``raise_lead_clashes`` (the triage worker's one call, hub/jobs/operation_hits.py) gathers the
facts with indexed reads — the operations that end after the batch's earliest lead time (a
range seek on ``operation_ends_at``; with none, that one read is all a batch costs), then only
the batch's leads by ``lead_id`` — hands them to
``policies.lead_clash`` and writes what it decides, in one transaction: the alerts (one per
(operation, lead): ``alert_id`` is derived from the pair and MERGEd, so a replayed or retriaged
lead raises nothing new, and two workers racing on a pair raise it once), the audit entry
(``before_commit``), then the notifications — the owner's (hit-style, and only when the owner's
analysts may know of the lead at that moment) and, if the owner opted in and the rules still
allow it, the author's « contactez <bureau> ». Nothing else is written about the lead: its author
reads exactly what they read before.

``LeadClashAlert`` is a label of its own, not a ``DeconflictionAlert``: the meeting agenda lists
deconfliction alerts to every agency that may know of one of their leads
(graph/meetings/sections.py), which here would tell the author of the surveillance.

Reads show the lead through the reader's ``AccessFilter`` at the moment of reading: full or
redacted — its id and kind; hit — its agency, whom to call and the hit handle; none — the alert
is not shown at all (and cannot be acknowledged: it answers as an unknown alert).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.grants.models import NotificationKind
from graph.grants.notifications import notify
from graph.handle import Graph
from graph.labels import Label
from graph.records import native, plain, utc
from graph.schema import unique_constraint
from graph.workflow.models import (
    Acknowledgement,
    AckView,
    ClashingLead,
    LeadClashAlertView,
    LeadClashRecord,
    OperationRecord,
    shown,
)
from graph.workflow.operations import operation_from_props
from hub.contract.errors import NotFound
from hub.contract.lead import Agency
from policies.deconfliction import DeconflictionRules
from policies.engine import decide
from policies.lead_clash import (
    LeadFacts,
    agency_label_fr,
    author_notice_fr,
    lead_clashes,
    may_tell_author,
    owner_batch_message_fr,
    owner_message_fr,
    reasons_fr,
)
from policies.models import OUTCOME_ORDER, Caller, LeadMarking, Outcome, Policy, Role

_ALERT = Label.LEAD_CLASH_ALERT.value

SCHEMA: list[str] = [
    unique_constraint(Label.LEAD_CLASH_ALERT),
    # An agency's open alerts (the list and the page).
    f"CREATE INDEX leadclashalert_owner_status IF NOT EXISTS FOR (n:{_ALERT}) ON (n.owner_agency, n.status)",
]

_LEAD_FACTS = (
    "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) "
    "WHERE l.version > 0 AND any(a IN $agencies WHERE a <> l.agency) "
    "WITH l, head([(l)-[:AT]->(x:Location) | x]) AS loc "
    "RETURN l.lead_id AS lead_id, l.agency AS agency, coalesce(l.observed_at, l.reported_at) AS at, "
    "  coalesce(l.insee_code, loc.insee_code) AS insee_code, loc.key AS location_key, "
    "  loc.point.latitude AS lat, loc.point.longitude AS lon, "
    "  [(l)-[:MENTIONS_VEHICLE]->(v:Vehicle) | 'vehicle:' + v.plate] "
    "  + [(l)-[:MENTIONS_PHONE]->(p:Phone) | 'phone:' + p.number] "
    "  + [(l)-[:INVOLVES]->(p:Person) | 'person:' + p.pseudonym] "
    "  + [(l)-[:INVOLVES]->(:Person)-[:SAME_AS]-(q:Person) | 'person:' + q.pseudonym] "
    "  + [(l)-[:CONCERNS]->(d:DealPoint) | 'deal_point:' + d.key] "
    "  + CASE WHEN loc IS NULL THEN [] ELSE ['location:' + loc.key] END AS entity_keys, "
    "  {lead_id: l.lead_id, originating_agency: l.agency, kind: l.kind, handling_code: l.handling_code, "
    "   restricted_to: coalesce(l.restricted_to, []), embargo_until: l.embargo_until} AS marking"
)


def alert_id_for(operation_id: str, lead_id: str) -> str:
    return "lc-" + hashlib.sha256(f"{operation_id}|{lead_id}".encode()).hexdigest()[:24]


def _owner_may_know(marking: dict[str, Any], owner: str, policy: Policy, now: datetime) -> bool:
    # As policies.links tells link alerts: what the owner agency's analysts would get, now.
    caller = Caller(user_id=f"{owner}:service", name="service", agency=Agency(owner), role=Role.ANALYST)
    lead = LeadMarking(**{**marking, "embargo_until": native(marking.get("embargo_until"))})
    return OUTCOME_ORDER[decide(caller, lead, policy, now=now).outcome] >= OUTCOME_ORDER[Outcome.HIT]


def raise_lead_clashes(
    graph: Graph, lead_ids: list[str], now: datetime, *, rules: DeconflictionRules, policy: Policy,
    before_commit: Callable[[list[LeadClashRecord]], None] | None = None,
) -> list[LeadClashRecord]:
    """Open an alert for every new clash of these (fresh) leads with an active operation of
    another agency, and notify; returns the alerts this call opened (none on a replay)."""
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return []

    def work(tx: neo4j.Transaction) -> list[LeadClashRecord]:
        # Operations that end (widened by the margin) after the batch's earliest lead time: a
        # range seek on ``operation_ends_at``, on the leads' unique ids; nothing more is read
        # when there is none.
        ops = [operation_from_props(r["o"]) for r in tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) WHERE l.version > 0 "
            "WITH min(coalesce(l.observed_at, l.reported_at)) AS lo "
            "MATCH (o:Operation) WHERE o.ends_at > lo - duration({minutes: $margin}) AND o.status IN $active "
            "RETURN o {.*} AS o",
            ids=ids, margin=rules.time_margin_min, active=[s.value for s in rules.active_statuses])]
        if not ops:
            return []
        rows = tx.run(_LEAD_FACTS, ids=ids, agencies=sorted({o.agency for o in ops})).data()
        leads = [LeadFacts(lead_id=r["lead_id"], agency=r["agency"], at=native(r["at"]),
                           insee_code=r["insee_code"], location_key=r["location_key"], lat=r["lat"],
                           lon=r["lon"], entity_keys=r["entity_keys"]) for r in rows if r["at"] is not None]
        found = lead_clashes(leads, [o.facts() for o in ops], rules)
        if not found:
            return []
        by_op = {o.operation_id: o for o in ops}
        markings = {r["lead_id"]: r["marking"] for r in rows}
        records = [LeadClashRecord(
            alert_id=alert_id_for(c.operation_id, c.lead_id), operation_id=c.operation_id,
            lead_id=c.lead_id, owner_agency=c.owner_agency, lead_agency=c.lead_agency,
            reasons=[r.value for r in c.reasons], shared_targets=c.shared_targets, place=c.place,
            distance_m=c.distance_m, lead_at=c.lead_at, opened_at=now, status="open",
            author_told=by_op[c.operation_id].tell_lead_author
            and may_tell_author(by_op[c.operation_id].kind, c.owner_agency, rules),
        ) for c in found]
        # Only what this transaction creates is raised (as link alerts: a racing worker's MERGE
        # waits for the other's commit and finds its alert).
        token = secrets.token_hex(8)
        created = {r["id"] for r in tx.run(
            f"UNWIND $alerts AS a MERGE (x:{_ALERT} {{alert_id: a.alert_id}}) "
            "ON CREATE SET x = a, x.lead_at = datetime(a.lead_at), x.opened_at = $now, "
            "  x.acknowledgements_json = '[]', x._raised_by = $token "
            "WITH x, x._raised_by = $token AS mine REMOVE x._raised_by "
            "WITH x WHERE mine RETURN x.alert_id AS id",
            alerts=[{**r.model_dump(mode="json", exclude={"acknowledgements", "opened_at", "closed_at"},
                                    exclude_none=True)} for r in records],
            now=utc(now), token=token)}
        records = [r for r in records if r.alert_id in created]
        # One owner notification per operation and batch (a busy place must not turn one batch
        # into thousands of notices), counting only the leads its analysts may know of.
        known: dict[tuple[str, str], bool] = {}
        told: dict[str, list[LeadClashRecord]] = {}
        for r in records:
            pair = (r.lead_id, r.owner_agency)
            if pair not in known:
                known[pair] = _owner_may_know(markings[r.lead_id], r.owner_agency, policy, now)
            if known[pair]:
                told.setdefault(r.operation_id, []).append(r)
        for operation_id, group in told.items():
            op, first = by_op[operation_id], group[0]
            message = (owner_message_fr(
                kind=op.kind, title=op.title, lead_agency=first.lead_agency, level="hit", lead_id=None,
                contact=policy.agency(Agency(first.lead_agency)).contact_fr, open_=True,
                reasons=reasons_fr(first.reasons, first.shared_targets, first.place, None, None, "hit"))
                if len(group) == 1 else owner_batch_message_fr(
                    kind=op.kind, title=op.title, count=len(group), lead_agencies=[r.lead_agency for r in group]))
            notify(tx, agency=op.agency, user_id=None, kind=NotificationKind.LEAD_OPERATION_CLASH,
                   message=message, payload={"alert_id": first.alert_id if len(group) == 1 else None,
                                             "operation_id": operation_id}, now=now)
        for lead_id, owner in dict.fromkeys((r.lead_id, r.owner_agency) for r in records if r.author_told):
            lead_agency = next(r.lead_agency for r in records if r.lead_id == lead_id)
            notify(tx, agency=lead_agency, user_id=None, kind=NotificationKind.CONTACT_REQUESTED,
                   message=author_notice_fr(lead_id, owner, policy.agency(Agency(owner)).contact_fr),
                   payload={"lead_id": lead_id}, now=now)
        if records and before_commit:
            before_commit(records)
        return records

    return graph.write_once(work)


# --- reads and acknowledgement ------------------------------------------------------------------


def _record(props: dict[str, Any]) -> LeadClashRecord:
    p = plain(props)
    acks = [Acknowledgement(**a) for a in json.loads(p.pop("acknowledgements_json", None) or "[]")]
    p.pop("revision", None)
    return LeadClashRecord(acknowledgements=acks, **p)


def _view(a: LeadClashRecord, op: OperationRecord, access: str, kind: str | None,
          reader: AccessFilter, policy: Policy) -> LeadClashAlertView:
    level = HIT if access == HIT else shown(access)
    contact = reader.contacts.get(a.lead_agency) or policy.agency(Agency(a.lead_agency)).contact_fr
    lead = ClashingLead(access=level, agency=a.lead_agency, agency_label_fr=agency_label_fr(a.lead_agency),
                        contact=contact)
    if level == HIT:
        entity = a.shared_targets[0] if a.shared_targets else f"operation:{a.operation_id}"
        lead.hit = reader.hit(entity, a.lead_agency, 1, lead_id=a.lead_id)
    else:
        lead.lead_id, lead.kind = a.lead_id, kind
    said = reasons_fr(a.reasons, a.shared_targets, a.place, a.distance_m, a.lead_at, level)
    return LeadClashAlertView(
        alert_id=a.alert_id, status=a.status, opened_at=a.opened_at, closed_at=a.closed_at,
        operation=op, reasons=a.reasons, reasons_fr=said, shared_targets=a.shared_targets,
        distance_m=a.distance_m if level != HIT else None, lead=lead, author_told=a.author_told,
        acknowledged_by=[AckView(agency=k.agency, at=k.at, user_name=k.user_name) for k in a.acknowledgements],
        message_fr=owner_message_fr(kind=op.kind, title=op.title, lead_agency=a.lead_agency, level=level,
                                    lead_id=a.lead_id, reasons=said, contact=contact,
                                    open_=a.status == "open"))


def _read(tx: Any, where: str, access: AccessFilter, **params: Any) -> list[dict[str, Any]]:
    return tx.run(
        f"MATCH (a:{_ALERT}) WHERE {where} "
        "MATCH (o:Operation {operation_id: a.operation_id}) "
        "OPTIONAL MATCH (l:Lead {lead_id: a.lead_id}) WHERE l.version > 0 "
        f"WITH a, o, l, CASE WHEN l IS NULL THEN '{NONE}' ELSE {access.case_expression} END AS access "
        f"WHERE access <> '{NONE}' "
        "RETURN a {.*} AS a, o {.*} AS o, access, l.kind AS kind ORDER BY a.opened_at DESC, a.alert_id "
        "LIMIT $limit",
        **{"limit": 1, **params}, **access.params,
    ).data()


def lead_clash_alerts_for(graph: Graph, agency: str, access: AccessFilter, *, policy: Policy,
                          open_only: bool = True, limit: int = 200) -> list[LeadClashAlertView]:
    """``agency``'s lead-vs-operation alerts, newest first, each lead as the reader may see it."""
    rows = graph.read(lambda tx: _read(
        tx, "a.owner_agency = $agency AND (NOT $open OR a.status = 'open')", access,
        agency=agency, open=open_only, limit=limit))
    return [_view(_record(r["a"]), operation_from_props(r["o"]), r["access"], r["kind"], access, policy)
            for r in rows]


def acknowledge_lead_clash(
    graph: Graph, alert_id: str, *, access: AccessFilter, policy: Policy, agency: str, user_id: str,
    user_name: str, note: str, now: datetime,
    before_commit: Callable[[LeadClashRecord], None] | None = None,
) -> tuple[LeadClashAlertView, bool]:
    """The owner's acknowledgement closes the alert (a second one changes nothing). NotFound when
    the caller's agency is not the owner, or may not even know of the lead: as an unknown id."""

    def work(tx: neo4j.Transaction) -> tuple[LeadClashAlertView, bool]:
        locked = tx.run(f"MATCH (a:{_ALERT} {{alert_id: $id}}) WHERE a.owner_agency = $agency "
                        "SET a.revision = coalesce(a.revision, 0) + 1 RETURN count(a) AS n",
                        id=alert_id, agency=agency).single()["n"]
        rows = _read(tx, "a.alert_id = $id", access, id=alert_id) if locked else []
        if not rows:
            raise NotFound(f"alerte de déconfliction inconnue : {alert_id}")
        row = rows[0]
        alert = _record(row["a"])
        changed = not alert.acknowledgements
        if changed:
            ack = Acknowledgement(agency=agency, user_id=user_id, user_name=user_name, at=now, note=note)
            tx.run(f"MATCH (a:{_ALERT} {{alert_id: $id}}) SET a.acknowledgements_json = $acks, "
                   "a.status = 'closed', a.closed_at = $now",
                   id=alert_id, acks=json.dumps([ack.model_dump(mode="json")], ensure_ascii=False),
                   now=utc(now)).consume()
            alert = alert.model_copy(update={"acknowledgements": [ack], "status": "closed", "closed_at": now})
            if before_commit:
                before_commit(alert)
        return _view(alert, operation_from_props(row["o"]), row["access"], row["kind"], access, policy), changed

    return graph.write_once(work)
