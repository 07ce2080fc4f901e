"""Disclosure requests, the hit/no-hit workflow: a caller who got a hit on a lead asks its
originating agency for it; states ``requested`` → ``approved`` | ``declined``, and ``approved`` →
``expired`` when an approval had an end date that passed (graph/grants/expiry.py). An approved
request *is* the ``DisclosureGrant`` the policy engine takes. The owning agency is notified of
each new request, the requester of each decision.

One pending request per (requester, lead): ``pending_key`` is set while requested (unique) and
removed on decision, so two concurrent identical requests cannot both be created.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import neo4j

from graph.grants._common import lock, new_id
from graph.grants.models import DisclosureRequestRecord, NotificationKind, RequestStatus
from graph.grants.notifications import notify
from graph.handle import Graph
from graph.labels import Label
from graph.records import node_by_key, plain, utc
from hub.contract.errors import Conflict, Forbidden, InvalidInput, NotFound
from policies import grants as wording
from policies.models import Policy

_REQUEST_FIELDS = tuple(DisclosureRequestRecord.model_fields)


def request_record(props: dict[str, Any]) -> DisclosureRequestRecord:
    """A disclosure request node's properties as a record."""
    return DisclosureRequestRecord(**{k: v for k, v in plain(props).items() if k in _REQUEST_FIELDS})


def create_disclosure_request(
    graph: Graph, *, lead_id: str, requester_user_id: str,
    requester_name: str, requester_agency: str, justification: str, now: datetime,
    due_at: datetime | None = None,
    before_commit: Callable[[DisclosureRequestRecord], None] | None = None,
) -> DisclosureRequestRecord:
    """Record a request for ``lead_id`` and notify its owning agency (the lead's agency, read
    from the Lead node). The caller has checked the requester may know of the lead: an
    unknown lead here is 404. One pending request per requester and lead (409)."""
    now = utc(now)

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
            "request_id": new_id("dr"), "lead_id": lead_id, "owner_agency": owner["agency"],
            "requester_user_id": requester_user_id, "requester_name": requester_name,
            "requester_agency": requester_agency, "justification": justification,
            "requested_at": now, "status": RequestStatus.REQUESTED.value,
            "pending_key": pending_key, "due_at": utc(due_at) if due_at else None,
        }
        try:
            row = tx.run(f"CREATE (r:{Label.DISCLOSURE_REQUEST.value}) SET r = $props "
                         f"RETURN r {{.*}} AS r", props=props).single()
        except neo4j.exceptions.ConstraintError as exc:  # a concurrent identical request won
            raise _pending_conflict(lead_id, None) from exc
        record = request_record(row["r"])
        notify(tx, agency=record.owner_agency, user_id=None,
               kind=NotificationKind.DISCLOSURE_REQUESTED, now=now,
               message=wording.disclosure_requested(requester_name, requester_agency, lead_id,
                                                    justification),
               payload={"request_id": record.request_id, "lead_id": lead_id,
                        "requester_user_id": requester_user_id})
        if before_commit:
            before_commit(record)
        return record

    return graph.write_once(work)


def _pending_conflict(lead_id: str, request_id: str | None) -> Conflict:
    return Conflict(
        f"une demande de communication de la piste {lead_id} est déjà en attente",
        details=[{"field": "lead_id", "reason": "demande déjà en attente"
                  + (f" ({request_id})" if request_id else "")}],
    )


def decide_disclosure_request(
    graph: Graph, request_id: str, *, approve: bool, decided_by: str,
    decided_by_name: str, decider_agency: str, decider_role: str, policy: Policy,
    now: datetime, valid_until: datetime | None = None,
    reason: str | None = None, released_groups: list[str] | None = None,
    release_fr: str | None = None,
    before_commit: Callable[[DisclosureRequestRecord], None] | None = None,
) -> DisclosureRequestRecord:
    """Approve or decline a pending request, if ``policies.grants.may_decide_disclosure`` lets
    the decider (a role holding ``disclosure.decide``, of the lead's originating agency). 404
    unknown; 403 not theirs to decide; 409 already decided. The requester is notified.

    A graded approval names the property groups it releases (``released_groups``, checked by
    the hub against the policy; ``release_fr`` their French labels for the notification); the
    access engine withholds every other group at read time."""
    now = utc(now)
    if valid_until is not None and utc(valid_until) <= now:
        raise InvalidInput("fin de validité déjà passée", details=[
            {"field": "valid_until", "reason": "doit être postérieure à maintenant"}])

    def work(tx: neo4j.Transaction) -> DisclosureRequestRecord:
        current = lock(tx, Label.DISCLOSURE_REQUEST, request_id)
        if current is None:
            raise NotFound(f"demande de communication inconnue : {request_id}")
        record = request_record(current)
        may = wording.may_decide_disclosure(policy, decider_role, decider_agency, record.owner_agency)
        if not may.allowed:
            raise Forbidden(
                f"seul le service d'origine de la piste ({record.owner_agency}) peut statuer "
                f"sur cette demande" if may.rule == "originator-control"
                else may.refusal_fr)
        if record.status is not RequestStatus.REQUESTED:
            status_fr = wording.STATUS_FR[record.status]
            raise Conflict(f"demande {request_id} déjà traitée ({status_fr})",
                           details=[{"field": "status", "reason": f"déjà {status_fr}"}])
        status = RequestStatus.APPROVED if approve else RequestStatus.DECLINED
        row = tx.run(
            f"MATCH (r:{Label.DISCLOSURE_REQUEST.value} {{request_id: $id}}) "
            f"SET r.status = $status, r.decided_by = $by, r.decided_by_name = $by_name, "
            f"    r.decided_at = $now, r.valid_until = $until, r.decision_reason = $reason, "
            f"    r.released_groups = $released "
            f"REMOVE r.pending_key RETURN r {{.*}} AS r",
            id=request_id, status=status.value, by=decided_by, by_name=decided_by_name, now=now,
            until=utc(valid_until) if approve and valid_until else None, reason=reason,
            released=released_groups if approve else None,
        ).single()
        record = request_record(row["r"])
        if approve:
            message = wording.disclosure_approved(record.lead_id, decided_by_name, decider_agency,
                                                  record.valid_until)
            if release_fr:
                message += f" Propriétés communiquées : {release_fr}."
            kind = NotificationKind.DISCLOSURE_APPROVED
        else:
            message = wording.disclosure_declined(record.lead_id, decided_by_name, decider_agency,
                                                  reason)
            kind = NotificationKind.DISCLOSURE_DECLINED
        notify(tx, agency=record.requester_agency, user_id=record.requester_user_id, kind=kind,
               message=message, now=now,
               payload={"request_id": request_id, "lead_id": record.lead_id})
        if before_commit:
            before_commit(record)
        return record

    return graph.write_once(work)



def get_disclosure_request(graph: Graph, request_id: str) -> DisclosureRequestRecord:
    return request_record(node_by_key(graph, Label.DISCLOSURE_REQUEST, request_id,
                                      "demande de communication inconnue"))


def list_disclosure_requests(
    graph: Graph, *, owner_agency: str | None = None,
    requester_user_id: str | None = None, status: RequestStatus | None = None, limit: int = 500,
) -> list[DisclosureRequestRecord]:
    """The owner's inbox (``owner_agency``) or a requester's own requests, newest first."""
    if (owner_agency is None) == (requester_user_id is None):
        raise ValueError("exactly one of owner_agency, requester_user_id")
    records = graph.query(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) "
        f"WHERE ($owner IS NULL OR r.owner_agency = $owner) "
        f"  AND ($uid IS NULL OR r.requester_user_id = $uid) "
        f"  AND ($status IS NULL OR r.status = $status) "
        f"RETURN r {{.*}} AS r ORDER BY r.requested_at DESC LIMIT $limit",
        owner=owner_agency, uid=requester_user_id, status=status.value if status else None,
        limit=limit, read_=True,
    )
    return [request_record(r["r"]) for r in records]
