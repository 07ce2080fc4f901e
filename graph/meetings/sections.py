"""The agenda's section providers: each one Cypher read over the meeting's window (what is new
since the last meeting), run in the agenda's one read transaction (graph/meetings/agenda.py).

Sections reading nodes other packages own (``LinkAlert`` and ``DeconflictionAlert`` of
graph/workflow/, ``DisclosureRequest`` of graph/grants/, the ``Lead.status`` mirror) read them
defensively: a graph without them gives an empty section, not an error. The shapes read are
listed on each provider.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

import neo4j

from graph.access import HIT, NONE
from graph.access import shown as public_level
from graph.labels import Label
from graph.meetings._common import (
    ENTITY_PROPS,
    LINK_RELS,
    LINKED_ENTITY,
    SECTION_LIMIT,
    AgendaContext,
    commune_names,
    entity_identity,
    lead_ref,
    strictest,
    timestamp,
)
from graph.meetings.models import (
    CrossAgencyLink,
    DeconflictionItem,
    HotspotMove,
    NewLeadsSummary,
    PendingDisclosure,
    TrendPoint,
    TriageBacklog,
)
from graph.meetings.weeks import PARIS, iso_week_of
from graph.records import native, utc
from hub.contract.lead import HandlingCode
from policies.disclosure import is_overdue

# Leads awaiting triage older than this are a backlog problem, not agenda items.
TRIAGE_LOOKBACK = timedelta(weeks=12)
# Hotspots: this week's count per commune against the mean of the previous weeks.
HOTSPOT_BASELINE_WEEKS = 4
HOTSPOT_MIN_COUNT = 3  # below this, a commune's movement is noise
HOTSPOT_RATIO = 2.0  # doubled (or halved) against the baseline mean
TREND_WEEKS = 8
LEADS_PER_LINK = 5  # readable leads listed on a cross-agency link (all are counted)


def new_leads(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> NewLeadsSummary:
    """Counts of the window's new leads by agency, kind and commune. Hits count per agency
    only: a hit reveals who holds something, not what nor where."""
    rows = tx.run(
        ctx.window_leads()
        + f"WITH l, access, CASE WHEN access = '{HIT}' THEN null ELSE {ctx.access.projection()} END AS p "
        f"RETURN access = '{HIT}' AS hit, l.agency AS agency, "
        f"CASE WHEN access = '{HIT}' THEN null ELSE l.kind END AS kind, "
        f"p.insee_code AS insee, collect(DISTINCT l.handling_code) AS codes, count(*) AS n",
        ctx.params(),
    ).data()
    summary = NewLeadsSummary()
    by_agency: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    by_commune: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    codes: set[str] = set()
    for r in rows:
        codes.update(r["codes"])
        if r["hit"]:
            hits[r["agency"]] += r["n"]
            continue
        summary.visible += r["n"]
        by_agency[r["agency"]] += r["n"]
        by_kind[r["kind"]] += r["n"]
        if r["insee"]:
            by_commune[r["insee"]] += r["n"]
        else:
            summary.unlocated += r["n"]
    summary.by_agency = dict(by_agency.most_common())
    summary.by_kind = dict(by_kind.most_common())
    summary.by_commune = dict(by_commune.most_common())
    summary.commune_names = commune_names(tx, set(by_commune))
    summary.hits = ctx.hits(hits)
    summary.handling_code = strictest(codes)
    return summary


def cross_agency_links(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> tuple[list[CrossAgencyLink], int]:
    """Entities (vehicle, person, phone, deal point, precise place) that a lead new in the window
    shares with a lead of another agency (of any date). Shown only if the participant reads at
    least one lead on the entity (otherwise even the entity's key would leak); other agencies'
    leads the participant may only know of come as hits.

    Enriched with the workflow's ``(:LinkAlert {alert_id, entity_key, created_at})`` created in
    the window (graph/workflow/links.py), matched on ``entity_key`` = ``<kind>:<key>``."""
    rows = tx.run(
        ctx.window_leads()
        + f"MATCH (l)-[:{LINK_RELS}]->(ent) WHERE {LINKED_ENTITY} "
        "WITH DISTINCT ent "
        f"MATCH (ent)<-[:{LINK_RELS}]-(l:Lead) WHERE l.version > 0 "
        f"WITH ent, l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        f"WITH ent, collect({{lead_id: l.lead_id, agency: l.agency, kind: l.kind, "
        f"  handling_code: l.handling_code, reported_at: l.reported_at, access: access, "
        f"  insee_code: CASE WHEN access = '{HIT}' THEN null ELSE l.insee_code END, "
        f"  is_new: {ctx.new_expr} AND {ctx.dept_filter}}}) AS leads "
        "WITH ent, leads, "
        "  reduce(s = [], x IN leads | CASE WHEN x.agency IN s THEN s ELSE s + x.agency END) AS agencies "
        "WHERE size(agencies) >= 2 "
        f"  AND any(x IN leads WHERE x.access <> '{HIT}') "
        "  AND any(n IN leads WHERE n.is_new AND any(m IN leads WHERE m.agency <> n.agency)) "
        f"RETURN labels(ent) AS labels, {ENTITY_PROPS} AS props, agencies, leads",
        ctx.params(),
    ).data()
    alerts = {}
    for r in tx.run(
        f"MATCH (a:{Label.LINK_ALERT.value}) WHERE a.created_at >= $ws AND a.created_at < $we "
        "RETURN coalesce(a.alert_id, a.id) AS id, a.entity_key AS entity_key", ctx.params()):
        if r["entity_key"] is not None and r["id"] is not None:
            alerts[str(r["entity_key"])] = str(r["id"])
    communes = commune_names(tx, {x["insee_code"] for r in rows for x in r["leads"] if x.get("insee_code")})
    links: list[CrossAgencyLink] = []
    for r in rows:
        kind, key, shown = entity_identity(r["labels"], r["props"])
        # New leads first, then the most recent.
        visible = sorted((x for x in r["leads"] if x["access"] != HIT),
                         key=lambda x: (not x["is_new"], -timestamp(x["reported_at"])))
        hits = Counter(x["agency"] for x in r["leads"] if x["access"] == HIT)
        entity_id = f"{kind}:{key}"
        links.append(CrossAgencyLink(
            entity_id=entity_id, kind=kind, label=shown, agencies=sorted(r["agencies"]),
            leads=[lead_ref(x, communes) for x in visible[:LEADS_PER_LINK]], visible_count=len(visible),
            hits=ctx.hits(hits), new_lead_count=sum(1 for x in r["leads"] if x["is_new"]),
            handling_code=strictest({x["handling_code"] for x in r["leads"]}),
            link_alert_id=alerts.get(entity_id) or alerts.get(key),
        ))
    # Most agencies first, then most new leads, then most leads in all.
    links.sort(key=lambda c: (-len(c.agencies), -c.new_lead_count,
                              -(c.visible_count + sum(h.lead_count for h in c.hits)), c.entity_id))
    return links[:SECTION_LIMIT], len(links)


def pending_disclosures(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> list[PendingDisclosure]:
    """Hits awaiting the owner's answer: graph/grants/disclosures.py's ``(:DisclosureRequest
    {request_id, lead_id, owner_agency, requester_user_id, status: 'requested', requested_at})``.
    The participant sees a request if they may at least know of its lead."""
    rows = tx.run(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) WHERE coalesce(r.status, r.state) IN ['requested', 'pending'] "
        "MATCH (l:Lead {lead_id: r.lead_id}) "
        f"WHERE l.version > 0 AND {ctx.dept_filter} "
        f"WITH r, l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        "RETURN coalesce(r.request_id, r.id) AS id, r.lead_id AS lead_id, "
        "coalesce(r.owner_agency, l.agency) AS owner_agency, r.requester_user_id AS requester, "
        "coalesce(r.requested_at, r.created_at) AS created_at, access, l.handling_code AS hc, "
        "r.due_at AS due_at, r.escalated_at IS NOT NULL AS escalated "
        # Overdue first (escalated to the meeting), then the oldest.
        "ORDER BY coalesce(r.due_at <= $now, false) DESC, created_at",
        ctx.params(now=utc(ctx.now)),
    ).data()
    return [PendingDisclosure(request_id=str(r["id"]), lead_id=r["lead_id"], owner_agency=r["owner_agency"],
                              requester_user_id=r["requester"], created_at=native(r["created_at"]),
                              lead_access=public_level(r["access"]), handling_code=r["hc"],
                              due_at=native(r["due_at"]) if r["due_at"] is not None else None,
                              # The same test as every read (policies.disclosure.is_overdue).
                              overdue=is_overdue("requested", native(r["due_at"]) if r["due_at"]
                                                 is not None else None, ctx.now),
                              escalated=bool(r["escalated"]))
            for r in rows if r["id"] is not None][:SECTION_LIMIT]


def deconfliction_alerts(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> list[DeconflictionItem]:
    """Open deconfliction alerts: graph/workflow/operations.py's ``(:DeconflictionAlert {alert_id,
    opened_at, status: 'open'|'closed', agencies})``; ``lead_ids`` and ``departement`` are read
    when present. A participant sees an alert when their agency is a party to it, when they
    may know of one of its leads, or when they chair the CROSS. Without leads, its handling code
    is H2 (no action without the parties' consent: it is about planned operations)."""
    rows = tx.run(
        f"MATCH (a:{Label.DECONFLICTION_ALERT.value}) WHERE coalesce(a.status, 'open') = 'open' "
        "  AND (a.departement IS NULL OR a.departement = $dept) "
        "OPTIONAL MATCH (l:Lead) WHERE l.lead_id IN coalesce(a.lead_ids, []) "
        f"WITH a, l, CASE WHEN l IS NULL THEN '{NONE}' ELSE {ctx.access.case_expression} END AS access "
        "WITH a, collect(CASE WHEN access <> 'none' THEN {lead_id: l.lead_id, hc: l.handling_code} END) AS known, "
        "     collect(l.handling_code) AS codes "
        "RETURN coalesce(a.alert_id, a.id) AS id, a.opened_at AS opened_at, "
        "coalesce(a.agencies, []) AS agencies, known, codes "
        "ORDER BY opened_at",
        ctx.params(),
    ).data()
    out = []
    for r in rows:
        if r["id"] is None:
            continue
        party = ctx.participant.agency in r["agencies"]
        if not (party or r["known"] or ctx.participant.role == "coordinator"):
            continue
        out.append(DeconflictionItem(
            alert_id=str(r["id"]), opened_at=native(r["opened_at"]), agencies=list(r["agencies"]),
            lead_ids=[k["lead_id"] for k in r["known"]],
            handling_code=strictest(set(r["codes"])) if r["codes"] else HandlingCode.H2,
        ))
    return out[:SECTION_LIMIT]


def triage_backlog(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> TriageBacklog:
    """Leads of the département awaiting triage (``Lead.status``, written by the workflow
    module; absent means ``new``), reported up to the window's end and at most
    ``TRIAGE_LOOKBACK`` before it, oldest first."""
    rows = tx.run(
        "MATCH (l:Lead) WHERE l.reported_at >= $since AND l.reported_at < $we "
        f"  AND l.version > 0 AND coalesce(l.status, 'new') = 'new' AND {ctx.dept_filter} "
        f"WITH l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        "WITH l, access ORDER BY l.reported_at "
        f"WITH access = '{HIT}' AS hit, l.agency AS agency, count(*) AS n, collect(DISTINCT l.handling_code) AS codes, "
        f"  collect(CASE WHEN access <> '{HIT}' THEN {{lead_id: l.lead_id, agency: l.agency, kind: l.kind, "
        "     handling_code: l.handling_code, reported_at: l.reported_at, insee_code: l.insee_code, "
        "     access: access} END)"
        f"  [..{SECTION_LIMIT}] AS sample "
        "RETURN hit, agency, n, codes, sample",
        ctx.params(since=utc(ctx.window_end - TRIAGE_LOOKBACK)),
    ).data()
    backlog = TriageBacklog()
    hits: Counter[str] = Counter()
    codes: set[str] = set()
    sample: list[dict[str, Any]] = []
    for r in rows:
        codes.update(r["codes"])
        if r["hit"]:
            hits[r["agency"]] += r["n"]
        else:
            backlog.visible += r["n"]
            sample.extend(r["sample"])
    sample.sort(key=lambda x: native(x["reported_at"]))
    sample = sample[:SECTION_LIMIT]
    communes = commune_names(tx, {x["insee_code"] for x in sample if x.get("insee_code")})
    backlog.leads = [lead_ref(x, communes) for x in sample]
    backlog.hits = ctx.hits(hits)
    backlog.handling_code = strictest(codes)
    return backlog


def hotspots(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> list[HotspotMove]:
    """Communes whose count of readable leads this week moved against the mean of the
    ``HOTSPOT_BASELINE_WEEKS`` weeks before: doubled (or new) with at least
    ``HOTSPOT_MIN_COUNT`` leads, or halved from a mean of at least that. By report date; only
    leads the participant reads count (a hit's commune is not theirs to know)."""
    week_start = ctx.meeting.starts_at
    base_start = week_start - timedelta(weeks=HOTSPOT_BASELINE_WEEKS)
    rows = tx.run(
        "MATCH (l:Lead) WHERE l.reported_at >= $bs AND l.reported_at < $wend "
        f"  AND l.version > 0 AND {ctx.dept_filter} "
        f"WITH l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' AND access <> '{HIT}' "
        f"WITH l, access, {ctx.access.projection()} AS p "
        "WITH p.insee_code AS insee, l.reported_at >= $wstart AS current, l.handling_code AS hc "
        "WHERE insee IS NOT NULL "
        "RETURN insee, current, collect(DISTINCT hc) AS codes, count(*) AS n",
        ctx.params(bs=utc(base_start), wstart=utc(week_start), wend=utc(ctx.meeting.ends_at)),
    ).data()
    current: Counter[str] = Counter()
    baseline: Counter[str] = Counter()
    codes: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        (current if r["current"] else baseline)[r["insee"]] += r["n"]
        codes[r["insee"]].update(r["codes"])
    moves: list[HotspotMove] = []
    for insee in set(current) | set(baseline):
        now_n, mean = current[insee], baseline[insee] / HOTSPOT_BASELINE_WEEKS
        direction: str | None = None
        if now_n >= HOTSPOT_MIN_COUNT and mean == 0:
            direction = "nouveau"
        elif now_n >= HOTSPOT_MIN_COUNT and now_n >= HOTSPOT_RATIO * mean:
            direction = "hausse"
        elif mean >= HOTSPOT_MIN_COUNT and now_n <= mean / HOTSPOT_RATIO:
            direction = "baisse"
        if direction:
            moves.append(HotspotMove(insee_code=insee, count=now_n, baseline_mean=round(mean, 2),
                                     direction=direction, handling_code=strictest(codes[insee])))
    moves.sort(key=lambda m: (-abs(m.count - m.baseline_mean), m.insee_code))
    moves = moves[:SECTION_LIMIT]
    names = commune_names(tx, {m.insee_code for m in moves})
    for m in moves:
        m.commune = names.get(m.insee_code)
    return moves


def trend(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> list[TrendPoint]:
    """Readable leads and hits per week, over the ``TREND_WEEKS`` weeks ending with this one."""
    week_start = ctx.meeting.starts_at.astimezone(PARIS)  # a meeting read back from the graph is in UTC
    starts = [week_start - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    # Week starts computed in Paris time (DST-proof), compared in UTC.
    starts = [datetime.combine(s.date(), datetime.min.time(), PARIS) for s in starts]
    bounds = [utc(s) for s in starts]
    rows = tx.run(
        "MATCH (l:Lead) WHERE l.reported_at >= $b0 AND l.reported_at < $wend "
        f"  AND l.version > 0 AND {ctx.dept_filter} "
        f"WITH l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        "WITH size([b IN $bounds WHERE b <= l.reported_at]) - 1 AS i, access = 'hit' AS hit "
        "RETURN i, hit, count(*) AS n",
        ctx.params(b0=bounds[0], wend=utc(ctx.meeting.ends_at), bounds=bounds),
    ).data()
    visible, hits = Counter(), Counter()
    for r in rows:
        (hits if r["hit"] else visible)[r["i"]] += r["n"]
    return [TrendPoint(week=iso_week_of(s), visible=visible[i], hits=hits[i]) for i, s in enumerate(starts)]
