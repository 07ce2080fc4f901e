"""Planned operations and their deconfliction: an agency registers an operation (``Operation``);
every clash with another agency's active operation opens a ``DeconflictionAlert`` for both,
open until each has acknowledged it. Registrations are serialized on the ``OperationLedger``
node's write lock, so two agencies registering clashing operations at the same instant cannot
both miss each other.

What clashes is ``policies.deconfliction``'s (``DeconflictionRules``, a required argument); an
agency learns of the other's operation who, what kind, when and whom to call — the contacts
come from the caller's ``contacts`` over the access ``policy``'s (a required argument).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import neo4j

from graph.handle import Graph
from graph.labels import Label
from graph.records import plain, utc
from graph.workflow._common import node_props
from graph.workflow.models import (
    Acknowledgement,
    AckView,
    DeconflictionAlertRecord,
    DeconflictionAlertView,
    OperationPlace,
    OperationRecord,
    OtherOperation,
)
from hub.contract.errors import NotFound
from hub.contract.lead import AGENCY_LABELS_FR, Agency
from policies.deconfliction import (
    OPERATION_KIND_LABELS_FR,
    Clash,
    DeconflictionRules,
    clashes,
)
from policies.models import Policy


def operation_from_props(props: dict[str, Any]) -> OperationRecord:
    p = plain(props)
    place = OperationPlace(insee_code=p["insee_code"], commune=p.get("commune"),
                           location_key=p.get("location_key"), lat=p.get("lat"), lon=p.get("lon"),
                           radius_m=p.get("radius_m", 200.0))
    return OperationRecord(place=place, targets=p.get("targets") or [],
                           tell_lead_author=bool(p.get("tell_lead_author")),
                           **{k: p.get(k) for k in ("operation_id", "agency", "kind", "title", "unit",
                                                    "starts_at", "ends_at", "status", "created_at",
                                                    "created_by", "created_by_name")})


_operation = operation_from_props


def _operation_props(op: OperationRecord) -> dict[str, Any]:
    p = op.place
    props = {
        "operation_id": op.operation_id, "agency": op.agency, "kind": op.kind.value,
        "title": op.title, "unit": op.unit, "starts_at": utc(op.starts_at), "ends_at": utc(op.ends_at),
        "insee_code": p.insee_code, "commune": p.commune, "location_key": p.location_key,
        "lat": p.lat, "lon": p.lon, "radius_m": p.radius_m, "targets": op.targets,
        "status": op.status.value, "created_at": utc(op.created_at), "created_by": op.created_by,
        "created_by_name": op.created_by_name, "tell_lead_author": op.tell_lead_author,
    }
    return {k: v for k, v in props.items() if v is not None}


def _alert(props: dict[str, Any]) -> DeconflictionAlertRecord:
    p = plain(props)
    acks = [Acknowledgement(**a) for a in json.loads(p.pop("acknowledgements_json", None) or "[]")]
    p.pop("acknowledged_agencies", None)
    p.pop("revision", None)
    return DeconflictionAlertRecord(acknowledgements=acks, **p)


def new_operation_id() -> str:
    return f"op-{uuid.uuid4().hex}"


def register_operation(
    graph: Graph,
    operation: OperationRecord,
    rules: DeconflictionRules,
    *,
    before_commit: Callable[[OperationRecord, list[DeconflictionAlertRecord]], None] | None = None,
) -> tuple[OperationRecord, list[DeconflictionAlertRecord]]:
    """Register an operation and open a deconfliction alert for every clash with another
    agency's active operation, in one transaction serialized on the operation ledger."""
    now = operation.created_at

    def work(tx: neo4j.Transaction) -> tuple[OperationRecord, list[DeconflictionAlertRecord]]:
        tx.run(f"MERGE (g:{Label.OPERATION_LEDGER.value} {{name: 'operations'}}) "
               f"SET g.revision = coalesce(g.revision, 0) + 1").consume()
        margin = rules.margin
        others = [_operation(r["o"]) for r in tx.run(
            "MATCH (o:Operation) WHERE o.ends_at > $lo AND o.starts_at < $hi "
            "  AND o.agency <> $agency AND o.status IN $active RETURN o {.*} AS o",
            lo=utc(operation.starts_at - margin), hi=utc(operation.ends_at + margin),
            agency=operation.agency, active=[s.value for s in rules.active_statuses],
        )]
        by_id = {o.operation_id: o for o in others}
        found: list[Clash] = clashes(operation.facts(), [o.facts() for o in others], rules)
        tx.run("CREATE (o:Operation) SET o = $props", props=_operation_props(operation)).consume()
        alerts = [DeconflictionAlertRecord(
            alert_id=f"dc-{uuid.uuid4().hex}",
            operation_ids=[operation.operation_id, c.other_operation_id],
            agencies=[operation.agency, by_id[c.other_operation_id].agency],
            reasons=[r.value for r in c.reasons], reasons_fr=c.reasons_fr,
            shared_targets=c.shared_targets, distance_m=c.distance_m,
            overlap_start=c.overlap_start, overlap_end=c.overlap_end, opened_at=now, status="open",
        ) for c in found]
        if alerts:
            tx.run(
                "UNWIND $alerts AS a CREATE (x:DeconflictionAlert) SET x = a, "
                "x.acknowledged_agencies = [], x.acknowledgements_json = '[]'",
                alerts=[node_props(a, exclude={"acknowledgements"}) for a in alerts],
            ).consume()
        if before_commit:
            before_commit(operation, alerts)
        return operation, alerts

    return graph.write_once(work)


def list_operations(graph: Graph, agency: str, *, now: datetime,
                    include_past: bool = False, limit: int = 200) -> list[OperationRecord]:
    def work(tx: neo4j.ManagedTransaction) -> list[OperationRecord]:
        rows = tx.run(
            "MATCH (o:Operation) WHERE o.agency = $agency AND ($past OR o.ends_at > $now) "
            "RETURN o {.*} AS o ORDER BY o.starts_at, o.operation_id LIMIT $limit",
            agency=agency, past=include_past, now=utc(now), limit=limit,
        )
        return [_operation(r["o"]) for r in rows]

    return graph.read(work)


def _alert_view(a: DeconflictionAlertRecord, ops: list[OperationRecord], agency: str,
                contacts: dict[str, str]) -> DeconflictionAlertView:
    own = next(o for o in ops if o.agency == agency)
    other = next(o for o in ops if o.agency != agency)
    acked = {ack.agency for ack in a.acknowledgements}
    label = AGENCY_LABELS_FR.get(Agency(other.agency), other.agency)
    kind_fr = OPERATION_KIND_LABELS_FR[other.kind]
    state = "ouverte" if a.status == "open" else "close"
    return DeconflictionAlertView(
        alert_id=a.alert_id, status=a.status, opened_at=a.opened_at, closed_at=a.closed_at,
        reasons=a.reasons, reasons_fr=a.reasons_fr, shared_targets=a.shared_targets,
        distance_m=a.distance_m, overlap_start=a.overlap_start, overlap_end=a.overlap_end,
        own_operation=own,
        other_operation=OtherOperation(
            agency=other.agency, agency_label_fr=label, kind=other.kind, kind_label_fr=kind_fr,
            starts_at=other.starts_at, ends_at=other.ends_at, contact=contacts.get(other.agency)),
        acknowledged_by=[AckView(agency=ack.agency, at=ack.at,
                                 user_name=ack.user_name if ack.agency == agency else None)
                         for ack in a.acknowledgements],
        awaiting=[ag for ag in a.agencies if ag not in acked],
        message_fr=(f"Conflit {state} avec une opération de {kind_fr} ({label}) : "
                    + " ; ".join(a.reasons_fr) + "."),
    )


def _contacts(policy: Policy, contacts: dict[str, str] | None) -> dict[str, str]:
    base = {a.agency.value: a.contact_fr for a in policy.agencies}
    return {**base, **(contacts or {})}


def deconfliction_alerts_for(graph: Graph, agency: str, *, policy: Policy,
                             open_only: bool = True, contacts: dict[str, str] | None = None,
                             limit: int = 200) -> list[DeconflictionAlertView]:
    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            "MATCH (a:DeconflictionAlert) WHERE $agency IN a.agencies AND (NOT $open OR a.status = 'open') "
            "WITH a ORDER BY a.opened_at DESC, a.alert_id LIMIT $limit "
            "MATCH (o:Operation) WHERE o.operation_id IN a.operation_ids "
            "RETURN a {.*} AS a, collect(o {.*}) AS ops ORDER BY a.opened_at DESC, a.alert_id",
            agency=agency, open=open_only, limit=limit,
        )
        return [r.data() for r in rows]

    book = _contacts(policy, contacts)
    return [_alert_view(_alert(r["a"]), [_operation(o) for o in r["ops"]], agency, book)
            for r in graph.read(work)]


def acknowledge_alert(
    graph: Graph,
    alert_id: str,
    *,
    policy: Policy,
    agency: str,
    user_id: str,
    user_name: str,
    note: str,
    now: datetime,
    contacts: dict[str, str] | None = None,
    before_commit: Callable[[DeconflictionAlertRecord, bool], None] | None = None,
) -> tuple[DeconflictionAlertView, bool]:
    """Record ``agency``'s acknowledgement; the alert closes when every agency has acknowledged.
    Returns the alert as ``agency`` sees it and whether this call changed anything (a second
    acknowledgement by the same agency is a no-op). NotFound when ``agency`` is not a party:
    an agency does not learn of other agencies' alerts."""
    now = utc(now) or datetime.now(UTC)

    def work(tx: neo4j.Transaction) -> tuple[DeconflictionAlertView, bool]:
        locked = tx.run(
            "MATCH (a:DeconflictionAlert {alert_id: $id}) WHERE $agency IN a.agencies "
            "SET a.revision = coalesce(a.revision, 0) + 1 RETURN count(a) AS n",
            id=alert_id, agency=agency,
        ).single()["n"]
        if not locked:
            raise NotFound(f"alerte de déconfliction inconnue : {alert_id}")
        row = tx.run(
            "MATCH (a:DeconflictionAlert {alert_id: $id}) "
            "MATCH (o:Operation) WHERE o.operation_id IN a.operation_ids "
            "RETURN a {.*} AS a, collect(o {.*}) AS ops", id=alert_id,
        ).single()
        alert = _alert(row["a"])
        changed = agency not in {ack.agency for ack in alert.acknowledgements}
        if changed:
            acks = [*alert.acknowledgements,
                    Acknowledgement(agency=agency, user_id=user_id, user_name=user_name, at=now, note=note)]
            done = {ack.agency for ack in acks} >= set(alert.agencies)
            tx.run(
                "MATCH (a:DeconflictionAlert {alert_id: $id}) "
                "SET a.acknowledgements_json = $acks, a.acknowledged_agencies = $agencies, "
                "    a.status = $status, a.closed_at = $closed_at",
                id=alert_id, acks=json.dumps([ack.model_dump(mode="json") for ack in acks], ensure_ascii=False),
                agencies=[ack.agency for ack in acks], status="closed" if done else "open",
                closed_at=now if done else None,
            ).consume()
            alert = alert.model_copy(update={"acknowledgements": acks, "status": "closed" if done else "open",
                                             "closed_at": now if done else None})
        if changed and before_commit:
            before_commit(alert, changed)
        return _alert_view(alert, [_operation(o) for o in row["ops"]], agency, _contacts(policy, contacts)), changed

    return graph.write_once(work)
