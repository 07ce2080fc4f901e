"""Cross-agency link alerts: an entity (vehicle, phone, person, address, deal point) on which
leads of two or more agencies meet, raised when a new lead creates the meeting (``LinkAlert``),
and told to each agency hit-style (which agency holds how many leads, whom to ask).

The wording and the rule of what each agency is told are ``policies.links``'; the access policy
that names each agency's contact is a required argument of the read.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from datetime import datetime
from typing import Any

import neo4j

from graph.access import NONE, AccessFilter
from graph.handle import Graph
from graph.records import native, utc
from graph.workflow.models import MAX_LEADS_PER_LINK, LinkAlert, LinkAlertView
from hub.contract.lead import AGENCY_LABELS_FR, Agency
from policies.links import Holding, LinkedLead, holding_message_fr
from policies.models import Policy

# Relationship types by which a lead names an entity that can link agencies. Places count only
# with an address (a commune or a vague landmark links everyone to everyone).
_LINK_RELS = "MENTIONS_VEHICLE|MENTIONS_PHONE|INVOLVES|CONCERNS|AT"
_ENTITY_KEY = (
    "CASE WHEN e:Vehicle THEN 'vehicle:' + e.plate WHEN e:Phone THEN 'phone:' + e.number "
    "WHEN e:Person THEN 'person:' + e.pseudonym WHEN e:DealPoint THEN 'deal_point:' + e.key "
    "WHEN e:Location THEN 'location:' + e.key END"
)

_LEAD_MARKING = (
    "{lead_id: o.lead_id, agency: o.agency, kind: o.kind, handling_code: o.handling_code, "
    "restricted_to: coalesce(o.restricted_to, []), embargo_until: o.embargo_until}"
)


def _linked_lead(m: dict[str, Any]) -> LinkedLead:
    return LinkedLead(**{**m, "embargo_until": native(m.get("embargo_until"))})


def raise_link_alerts(tx: Any, ids: list[str], now: datetime) -> list[LinkAlert]:
    """In the triage transaction of ``ids``: a ``LinkAlert`` for every entity on which they make
    leads of two agencies meet, unless one was already raised for the same leads joining it."""
    rows = tx.run(
        f"UNWIND $ids AS id "
        f"MATCH (l:Lead {{lead_id: id}}) WHERE l.version > 0 "
        f"MATCH (l)-[:{_LINK_RELS}]->(e) "
        f"WHERE NOT e:Location OR e.key STARTS WITH 'addr:' "
        f"WITH e, collect(DISTINCT l.lead_id) AS new_ids "
        f"CALL (e) {{ "
        f"  MATCH (e)<-[:{_LINK_RELS}]-(o:Lead) WHERE o.version > 0 RETURN o "
        f"  UNION "
        f"  MATCH (e:Person)-[:SAME_AS]-(:Person)<-[:INVOLVES]-(o:Lead) WHERE o.version > 0 RETURN o "
        f"}} "
        f"WITH e, new_ids, collect(DISTINCT o) AS leads "
        f"WHERE size(reduce(s = [], x IN leads | CASE WHEN x.agency IN s THEN s ELSE s + x.agency END)) >= 2 "
        # The batch's own leads first, so the cap never drops them.
        f"WITH e, new_ids, ([o IN leads WHERE o.lead_id IN new_ids] "
        f"                  + [o IN leads WHERE NOT o.lead_id IN new_ids])[..$cap] AS leads "
        f"OPTIONAL MATCH (a:LinkAlert {{entity_key: {_ENTITY_KEY}}}) "
        f"WITH e, new_ids, leads, collect(a.lead_ids) AS known "
        f"RETURN {_ENTITY_KEY} AS entity_key, new_ids, known, "
        f"       [o IN leads | {_LEAD_MARKING}] AS leads",
        ids=ids, cap=MAX_LEADS_PER_LINK,
    )
    alerts: list[LinkAlert] = []
    for r in rows:
        leads = [_linked_lead(m) for m in r["leads"]]
        lead_ids = sorted(lead.lead_id for lead in leads)
        # One alert per (entity, lead that joined it): a replay or a new version of a lead
        # already alerted on this entity raises nothing new.
        if set(r["new_ids"]) <= {i for known in r["known"] for i in known}:
            continue
        entity_key = r["entity_key"]
        kind, _, key = entity_key.partition(":")
        alert_id = "la-" + hashlib.sha256(
            (entity_key + "|" + ",".join(lead_ids)).encode()).hexdigest()[:24]
        alerts.append(LinkAlert(
            alert_id=alert_id, entity_kind=kind, entity_key=key, created_at=now,
            agencies=[a.value for a in Agency if a in {lead.agency for lead in leads}],
            new_lead_ids=sorted(set(r["new_ids"]) & set(lead_ids)), leads=leads))
    if alerts:
        # Only the alerts this transaction creates are raised: two triage batches committing side
        # by side (two hub processes) compute the same alert id for the same leads, and the MERGE
        # that waited for the other's commit finds its alert — one alert, one set of notices.
        token = secrets.token_hex(8)
        created = {r["alert_id"] for r in tx.run(
            "UNWIND $alerts AS a "
            "MERGE (x:LinkAlert {alert_id: a.alert_id}) "
            "ON CREATE SET x.entity_key = a.entity_key, x.entity_kind = a.entity_kind, "
            "              x.key = a.key, x.agencies = a.agencies, x.lead_ids = a.lead_ids, "
            "              x.new_lead_ids = a.new_lead_ids, x.created_at = $now, x._raised_by = $token "
            "WITH a, x, x._raised_by = $token AS mine REMOVE x._raised_by "
            "WITH a WHERE mine RETURN a.alert_id AS alert_id",
            alerts=[{"alert_id": a.alert_id, "entity_key": f"{a.entity_kind}:{a.entity_key}",
                     "entity_kind": a.entity_kind, "key": a.entity_key, "agencies": a.agencies,
                     "lead_ids": sorted(x.lead_id for x in a.leads), "new_lead_ids": a.new_lead_ids}
                    for a in alerts],
            now=now, token=token,
        )}
        alerts = [a for a in alerts if a.alert_id in created]
    return alerts


def cross_agency_links_for(graph: Graph, lead_ids: list[str]) -> list[LinkAlert]:
    """The link alerts raised by these leads (as new leads), with the current marking of every
    lead on each entity — what ``policies.links.notices_for`` needs to tell each agency."""
    ids = list(dict.fromkeys(lead_ids))

    def work(tx: neo4j.ManagedTransaction) -> list[LinkAlert]:
        rows = tx.run(
            f"UNWIND $ids AS id "
            f"MATCH (l:Lead {{lead_id: id}})-[:{_LINK_RELS}]->(e) "
            f"WITH DISTINCT {_ENTITY_KEY} AS entity_key WHERE entity_key IS NOT NULL "
            f"MATCH (a:LinkAlert {{entity_key: entity_key}}) "
            f"WHERE any(x IN a.new_lead_ids WHERE x IN $ids) "
            f"CALL (a) {{ UNWIND a.lead_ids AS lid MATCH (o:Lead {{lead_id: lid}}) WHERE o.version > 0 "
            f"  RETURN collect({_LEAD_MARKING}) AS leads }} "
            f"RETURN a {{.*}} AS a, leads ORDER BY a.created_at, a.alert_id",
            ids=ids,
        )
        return [LinkAlert(alert_id=r["a"]["alert_id"], entity_kind=r["a"]["entity_kind"],
                          entity_key=r["a"]["key"], created_at=native(r["a"]["created_at"]),
                          agencies=r["a"]["agencies"], new_lead_ids=r["a"]["new_lead_ids"],
                          leads=[_linked_lead(m) for m in r["leads"]]) for r in rows]

    return graph.read(work) if ids else []


def link_alerts_for(graph: Graph, agency: str, access: AccessFilter, *, policy: Policy,
                    since: datetime | None = None, limit: int = 100) -> list[LinkAlertView]:
    """The link alerts of ``agency``, each told hit-style through the caller's access filter:
    another agency's leads count only if the caller may know of them (hit or more); an alert
    with nothing left to tell is not shown. An agency's contact is the caller's
    (``access.contacts``), else the ``policy``'s."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"MATCH (a:LinkAlert) WHERE $agency IN a.agencies "
            f"  AND ($since IS NULL OR a.created_at >= $since) "
            f"WITH a ORDER BY a.created_at DESC, a.alert_id LIMIT $limit "
            f"CALL (a) {{ UNWIND a.lead_ids AS lid MATCH (l:Lead {{lead_id: lid}}) WHERE l.version > 0 "
            f"  WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            f"  RETURN collect({{lead_id: l.lead_id, agency: l.agency, access: access}}) AS leads }} "
            f"RETURN a {{.alert_id, .entity_kind, .key, .created_at}} AS a, leads",
            agency=agency, since=utc(since), limit=limit, **access.params,
        )
        return [r.data() for r in rows]

    views = []
    for row in graph.read(work):
        a, leads = row["a"], row["leads"]
        own = sorted(x["lead_id"] for x in leads if x["agency"] == agency)
        counts: dict[str, int] = defaultdict(int)
        for x in leads:
            if x["agency"] != agency:
                counts[x["agency"]] += 1
        holdings = [
            Holding(agency=ag, agency_label_fr=AGENCY_LABELS_FR[Agency(ag)], lead_count=counts[ag],
                    contact_fr=access.contacts.get(ag) or policy.agency(Agency(ag)).contact_fr)
            for ag in (x.value for x in Agency) if counts.get(ag)
        ]
        if not holdings:
            continue
        views.append(LinkAlertView(
            alert_id=a["alert_id"], created_at=native(a["created_at"]), entity_kind=a["entity_kind"],
            entity_key=a["key"], own_lead_ids=own, holdings=holdings,
            message_fr=holding_message_fr(a["entity_kind"], a["key"], holdings)))
    return views
