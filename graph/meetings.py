"""The weekly CROSS meeting: the meeting and its actions in the graph, and the agenda read.

Owns ``(:Meeting {meeting_id = "<département>-<ISO week>", departement, week, starts_at, ends_at,
created_at, created_by, status})`` and ``(:Action {action_id, meeting_id, title, lead_agency,
tasked, deadline, status: open|done|cancelled, done_at, handling_code, created_at, created_by})``,
joined ``(Meeting)-[:DECIDED]->(Action)``, an action optionally ``-[:ABOUT]->`` leads and entities.
Nothing links *from* a lead to them, so network reads never traverse them.

The agenda is a set of small section providers, each one Cypher read over the meeting's window
(what is new since the last meeting), all in one read transaction. Every lead-derived item is
read through the participant's ``AccessFilter``: leads they may read appear as leads, leads they
may only know of appear as hits per agency (with whom to contact), leads they may not know of do
not appear at all, not even in a count. Each item carries its handling code: for an item derived
from several leads, the strictest of them (``policies.engine.derived_marking``).

Sections reading nodes other modules own (``LinkAlert`` and ``DeconflictionAlert`` of
graph/workflow.py, ``DisclosureRequest`` of graph/grants.py, the ``Lead.status`` mirror) read
them defensively: a graph without them gives an empty section, not an error. The shapes read are
listed on each provider.

"New in the window" means reported in it, or reported earlier but ingested in it (a late
arrival is new to the CROSS). Windows and weeks are Europe/Paris calendar weeks.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import neo4j
from pydantic import BaseModel, Field

from graph.access import HIT, NONE, AccessFilter, shown as public_level
from graph.identity import Principal
from graph.labels import KEY_PROPERTY, LABEL_KIND, EntityKind, Label, Rel
from graph.models import NetworkEdge, NetworkNode
from graph.read import REFERENCE_KINDS, asserting_leads, entity_anchor, level_params, normalize_entity_key
from hub.contract.errors import InvalidInput, NotFound
from hub.contract.lead import HandlingCode
from policies.engine import derived_marking
from policies.models import Marking

PARIS = ZoneInfo("Europe/Paris")

SCHEMA: list[str] = [
    # Same names as graph/schema.py's migration 1 gives uniqueness constraints.
    *(
        f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
        for label in (Label.MEETING, Label.ACTION)
    ),
    "CREATE INDEX meeting_departement_starts IF NOT EXISTS FOR (n:Meeting) ON (n.departement, n.starts_at)",
    "CREATE INDEX action_status IF NOT EXISTS FOR (n:Action) ON (n.status)",
    # Late arrivals (reported before the window, ingested in it) are found by ingest time.
    "CREATE INDEX lead_ingested_at IF NOT EXISTS FOR (n:Lead) ON (n.ingested_at)",
]

# How far back "new since the last meeting" reaches when meetings were skipped.
MAX_CATCH_UP = timedelta(weeks=4)
# Leads awaiting triage older than this are a backlog problem, not agenda items.
TRIAGE_LOOKBACK = timedelta(weeks=12)
# Hotspots: this week's count per commune against the mean of the previous weeks.
HOTSPOT_BASELINE_WEEKS = 4
HOTSPOT_MIN_COUNT = 3  # below this, a commune's movement is noise
HOTSPOT_RATIO = 2.0  # doubled (or halved) against the baseline mean
TREND_WEEKS = 8
SECTION_LIMIT = 20  # items listed per section; counts always cover everything
LEADS_PER_LINK = 5  # readable leads listed on a cross-agency link (all are counted)

# Entity links that make two leads "about the same thing". Commune-level locations are left out:
# every lead of a town shares them.
LINK_RELS = "|".join(r.value for r in (Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE,
                                        Rel.CONCERNS, Rel.AT))
_LINKED_ENTITY = "NOT (ent:Location AND ent.key STARTS WITH 'commune:')"
# The link chart joins leads through what identifies a network — vehicles, persons, phones,
# deal points — not through places, which a whole town's leads share (hotspots cover places).
CHART_RELS = "|".join(r.value for r in (Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE, Rel.CONCERNS))
_ENTITY_PROPS = "ent {.plate, .pseudonym, .number, .key, .address, .place_label, .commune, .label, .insee_code}"

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
DEPARTEMENT_RE = re.compile(r"^(\d{2}|2A|2B|97\d)$")

ActionStatus = Literal["open", "done", "cancelled"]


# --- weeks ---------------------------------------------------------------------------------------


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """``2025-W47`` → [Monday 00:00, next Monday 00:00) in Europe/Paris."""
    m = WEEK_RE.match(week or "")
    if not m:
        raise InvalidInput("semaine invalide : format attendu AAAA-Www (p. ex. 2025-W47)",
                           details=[{"field": "week", "reason": "format attendu AAAA-Www, p. ex. 2025-W47"}])
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InvalidInput(f"semaine inexistante : {week}",
                           details=[{"field": "week",
                                     "reason": f"l'année {m.group(1)} n'a pas de semaine {m.group(2)}"}]) from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=PARIS)
    nxt = monday + timedelta(days=7)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=PARIS)


def iso_week_of(instant: datetime) -> str:
    year, week, _ = instant.astimezone(PARIS).isocalendar()
    return f"{year}-W{week:02d}"


def check_departement(departement: str) -> str:
    d = (departement or "").upper()
    if not DEPARTEMENT_RE.match(d):
        raise InvalidInput("département invalide",
                           details=[{"field": "departement",
                                     "reason": "code de département attendu (p. ex. 25, 2A, 974)"}])
    return d


def meeting_id_for(departement: str, week: str) -> str:
    return f"{check_departement(departement)}-{week}"


def _utc(value: datetime) -> datetime:
    # The driver packs fixed offsets only; the graph stores UTC.
    return value.astimezone(UTC)


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _timestamp(value: Any) -> float:
    return _native(value).timestamp() if value is not None else 0.0


def strictest(codes: list[str] | set[str]) -> HandlingCode:
    """The handling code of something derived from leads with these codes."""
    if not codes:
        return HandlingCode.H0
    return derived_marking([Marking(handling_code=HandlingCode(c)) for c in codes]).handling_code


# --- models --------------------------------------------------------------------------------------


class Meeting(BaseModel):
    meeting_id: str
    departement: str
    week: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: str | None = None
    status: str = "planned"


class ActionView(BaseModel):
    """An action as a participant sees it. When it is about a lead the participant may not
    read, its title and links are withheld (``withheld``): who leads, who is tasked, the
    deadline and the status stay visible, so the meeting can follow it up."""

    action_id: str
    meeting_id: str
    week: str | None = None
    title: str | None = None
    lead_agency: str
    tasked: str
    deadline: date
    status: ActionStatus
    done_at: datetime | None = None
    handling_code: HandlingCode
    lead_ids: list[str] = Field(default_factory=list)
    entity_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    created_by: str | None = None
    overdue: bool = False
    withheld: bool = False


class NewAction(BaseModel):
    title: str
    lead_agency: str
    tasked: str
    deadline: date
    lead_ids: list[str] = Field(default_factory=list)
    entity_ids: list[str] = Field(default_factory=list)
    handling_code: HandlingCode | None = None


class LeadRef(BaseModel):
    lead_id: str
    agency: str
    kind: str
    handling_code: HandlingCode
    reported_at: datetime | None = None
    insee_code: str | None = None
    commune: str | None = None
    access: str = Field(description="niveau d'accès du participant : full ou redacted")


class HitCount(BaseModel):
    """Hit/no-hit: ``agency`` holds ``lead_count`` leads here that the participant may not read."""

    agency: str
    lead_count: int
    contact: str | None = None


class NewLeadsSummary(BaseModel):
    visible: int = 0
    by_agency: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)
    by_commune: dict[str, int] = Field(default_factory=dict, description="insee → nombre")
    commune_names: dict[str, str] = Field(default_factory=dict)
    unlocated: int = 0
    hits: list[HitCount] = Field(default_factory=list)
    handling_code: HandlingCode = HandlingCode.H0


class CrossAgencyLink(BaseModel):
    entity_id: str
    kind: str
    label: str
    agencies: list[str]
    leads: list[LeadRef]
    visible_count: int
    hits: list[HitCount] = Field(default_factory=list)
    new_lead_count: int
    handling_code: HandlingCode
    link_alert_id: str | None = None


class PendingDisclosure(BaseModel):
    request_id: str
    lead_id: str
    owner_agency: str
    requester_user_id: str | None = None
    created_at: datetime | None = None
    lead_access: str
    handling_code: HandlingCode


class DeconflictionItem(BaseModel):
    alert_id: str
    opened_at: datetime | None = None
    agencies: list[str] = Field(default_factory=list)
    lead_ids: list[str] = Field(default_factory=list)
    handling_code: HandlingCode


class TriageBacklog(BaseModel):
    visible: int = 0
    leads: list[LeadRef] = Field(default_factory=list)
    hits: list[HitCount] = Field(default_factory=list)
    handling_code: HandlingCode = HandlingCode.H0


class HotspotMove(BaseModel):
    insee_code: str
    commune: str | None = None
    count: int
    baseline_mean: float
    direction: Literal["hausse", "baisse", "nouveau"]
    handling_code: HandlingCode


class TrendPoint(BaseModel):
    week: str
    visible: int
    hits: int


class WeekGraph(BaseModel):
    """The window's readable leads and the entities they mention: the link chart's input."""

    nodes: list[NetworkNode] = Field(default_factory=list)
    edges: list[NetworkEdge] = Field(default_factory=list)


class Agenda(BaseModel):
    meeting: Meeting
    participant_user_id: str
    participant_agency: str
    participant_role: str
    window_start: datetime
    window_end: datetime
    generated_at: datetime
    policy_id: str
    new_leads: NewLeadsSummary
    cross_agency_links: list[CrossAgencyLink]
    cross_agency_links_total: int
    pending_disclosures: list[PendingDisclosure]
    deconfliction_alerts: list[DeconflictionItem]
    triage: TriageBacklog
    hotspots: list[HotspotMove]
    actions_due: list[ActionView]
    actions_decided: list[ActionView]
    trend: list[TrendPoint]

    def lead_ids(self) -> list[str]:
        """Every lead the participant reads something of in this agenda (for the audit)."""
        ids: dict[str, None] = {}
        for link in self.cross_agency_links:
            ids.update(dict.fromkeys(r.lead_id for r in link.leads))
        ids.update(dict.fromkeys(r.lead_id for r in self.triage.leads))
        for d in self.pending_disclosures:
            ids[d.lead_id] = None
        for a in (*self.actions_due, *self.actions_decided):
            ids.update(dict.fromkeys(a.lead_ids))
        return list(ids)

    def outcome(self) -> str:
        """The audit grade of this agenda: full, redacted (some lead read redacted), hit, none."""
        levels = {r.access for link in self.cross_agency_links for r in link.leads}
        levels |= {r.access for r in self.triage.leads}
        if levels:
            return "full" if levels <= {"full"} else "redacted"
        if self.lead_ids():
            return "full"
        return "hit" if self.hit_count() or self.pending_disclosures else "none"

    def hit_count(self) -> int:
        return (sum(h.lead_count for h in self.new_leads.hits)
                + sum(h.lead_count for h in self.triage.hits))


# --- the read context ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    meeting: Meeting
    departement: str
    include_unlocated: bool
    window_start: datetime
    window_end: datetime
    participant: Principal
    access: AccessFilter
    now: datetime

    def params(self, **extra: Any) -> dict[str, Any]:
        return {"dept": self.departement, "own": self.include_unlocated,
                "ws": _utc(self.window_start), "we": _utc(self.window_end),
                **self.access.params, **extra}

    @property
    def dept_filter(self) -> str:
        return "(l.departement = $dept OR (l.departement IS NULL AND $own))"

    @property
    def new_expr(self) -> str:
        return ("((l.reported_at >= $ws AND l.reported_at < $we) OR "
                "(l.ingested_at >= $ws AND l.ingested_at < $we AND l.reported_at < $ws))")

    def window_leads(self) -> str:
        """Cypher binding ``l`` (new in the window, in the département) and ``access`` (never
        ``none``): the start of every window section."""
        return (
            "CALL () { "
            "  MATCH (l:Lead) WHERE l.reported_at >= $ws AND l.reported_at < $we RETURN l "
            "  UNION "
            "  MATCH (l:Lead) WHERE l.ingested_at >= $ws AND l.ingested_at < $we AND l.reported_at < $ws RETURN l "
            "} "
            f"WITH l WHERE l.version > 0 AND {self.dept_filter} "
            f"WITH l, {self.access.case_expression} AS access WHERE access <> '{NONE}' "
        )

    def hits(self, counts: dict[str, int]) -> list[HitCount]:
        return [HitCount(agency=a, lead_count=n, contact=self.access.contacts.get(a))
                for a, n in sorted(counts.items())]


def _lead_ref(row: dict[str, Any], communes: dict[str, str] | None = None) -> LeadRef:
    insee = row.get("insee_code")
    return LeadRef(lead_id=row["lead_id"], agency=row["agency"], kind=row["kind"],
                   handling_code=row["handling_code"], reported_at=_native(row.get("reported_at")),
                   insee_code=insee, commune=(communes or {}).get(insee) if insee else None,
                   access=public_level(row["access"]))


def _commune_names(tx: neo4j.ManagedTransaction, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return {r["code"]: r["name"] for r in tx.run(
        "MATCH (c:Commune) WHERE c.insee_code IN $codes RETURN c.insee_code AS code, c.name AS name",
        codes=sorted(codes))}


# --- section providers ---------------------------------------------------------------------------


def _new_leads(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> NewLeadsSummary:
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
    summary.commune_names = _commune_names(tx, set(by_commune))
    summary.hits = ctx.hits(hits)
    summary.handling_code = strictest(codes)
    return summary


def _entity_identity(labels: list[str], props: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, key, display label) of an entity. Persons show a short handle of their
    pseudonym — never anything else, there is nothing else."""
    label = next((lb for lb in labels if lb in LABEL_KIND), labels[0] if labels else "?")
    kind = LABEL_KIND.get(label)
    key = str(props.get(KEY_PROPERTY[kind.label]) if kind else props.get("key"))
    if kind is EntityKind.PERSON:
        shown = f"Personne {key.rsplit(':', 1)[-1][:8]}"
    elif kind is EntityKind.VEHICLE:
        shown = f"Véhicule {key}"
    elif kind is EntityKind.PHONE:
        shown = f"Téléphone {key}"
    elif kind is EntityKind.DEAL_POINT:
        shown = f"Point de deal — {props.get('label') or key}"
    elif kind is EntityKind.LOCATION:
        place = props.get("address") or props.get("place_label") or key
        shown = f"Lieu — {place}" + (f" ({props['commune']})" if props.get("commune") else "")
    else:
        shown = key
    return (kind.value if kind else label.lower()), key, shown


def _cross_agency_links(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> tuple[list[CrossAgencyLink], int]:
    """Entities (vehicle, person, phone, deal point, precise place) that a lead new in the window
    shares with a lead of another agency (of any date). Shown only if the participant reads at
    least one lead on the entity (otherwise even the entity's key would leak); other agencies'
    leads the participant may only know of come as hits.

    Enriched with the workflow's ``(:LinkAlert {alert_id, entity_key, created_at})`` created in
    the window (graph/workflow.py), matched on ``entity_key`` = ``<kind>:<key>``."""
    rows = tx.run(
        ctx.window_leads()
        + f"MATCH (l)-[:{LINK_RELS}]->(ent) WHERE {_LINKED_ENTITY} "
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
        f"RETURN labels(ent) AS labels, {_ENTITY_PROPS} AS props, agencies, leads",
        ctx.params(),
    ).data()
    alerts = {}
    for r in tx.run(
        f"MATCH (a:{Label.LINK_ALERT.value}) WHERE a.created_at >= $ws AND a.created_at < $we "
        "RETURN coalesce(a.alert_id, a.id) AS id, a.entity_key AS entity_key", ctx.params()):
        if r["entity_key"] is not None and r["id"] is not None:
            alerts[str(r["entity_key"])] = str(r["id"])
    communes = _commune_names(tx, {x["insee_code"] for r in rows for x in r["leads"] if x.get("insee_code")})
    links: list[CrossAgencyLink] = []
    for r in rows:
        kind, key, shown = _entity_identity(r["labels"], r["props"])
        # New leads first, then the most recent.
        visible = sorted((x for x in r["leads"] if x["access"] != HIT),
                         key=lambda x: (not x["is_new"], -_timestamp(x["reported_at"])))
        hits = Counter(x["agency"] for x in r["leads"] if x["access"] == HIT)
        entity_id = f"{kind}:{key}"
        links.append(CrossAgencyLink(
            entity_id=entity_id, kind=kind, label=shown, agencies=sorted(r["agencies"]),
            leads=[_lead_ref(x, communes) for x in visible[:LEADS_PER_LINK]], visible_count=len(visible),
            hits=ctx.hits(hits), new_lead_count=sum(1 for x in r["leads"] if x["is_new"]),
            handling_code=strictest({x["handling_code"] for x in r["leads"]}),
            link_alert_id=alerts.get(entity_id) or alerts.get(key),
        ))
    # Most agencies first, then most new leads, then most leads in all.
    links.sort(key=lambda c: (-len(c.agencies), -c.new_lead_count,
                              -(c.visible_count + sum(h.lead_count for h in c.hits)), c.entity_id))
    return links[:SECTION_LIMIT], len(links)


def _pending_disclosures(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> list[PendingDisclosure]:
    """Hits awaiting the owner's answer: graph/grants.py's ``(:DisclosureRequest {request_id,
    lead_id, owner_agency, requester_user_id, status: 'requested', requested_at})``. The
    participant sees a request if they may at least know of its lead."""
    rows = tx.run(
        f"MATCH (r:{Label.DISCLOSURE_REQUEST.value}) WHERE coalesce(r.status, r.state) IN ['requested', 'pending'] "
        "MATCH (l:Lead {lead_id: r.lead_id}) "
        f"WHERE l.version > 0 AND {ctx.dept_filter} "
        f"WITH r, l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        "RETURN coalesce(r.request_id, r.id) AS id, r.lead_id AS lead_id, "
        "coalesce(r.owner_agency, l.agency) AS owner_agency, r.requester_user_id AS requester, "
        "coalesce(r.requested_at, r.created_at) AS created_at, access, l.handling_code AS hc "
        "ORDER BY created_at",
        ctx.params(),
    ).data()
    return [PendingDisclosure(request_id=str(r["id"]), lead_id=r["lead_id"], owner_agency=r["owner_agency"],
                              requester_user_id=r["requester"], created_at=_native(r["created_at"]),
                              lead_access=public_level(r["access"]), handling_code=r["hc"])
            for r in rows if r["id"] is not None][:SECTION_LIMIT]


def _deconfliction_alerts(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> list[DeconflictionItem]:
    """Open deconfliction alerts: graph/workflow.py's ``(:DeconflictionAlert {alert_id,
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
            alert_id=str(r["id"]), opened_at=_native(r["opened_at"]), agencies=list(r["agencies"]),
            lead_ids=[k["lead_id"] for k in r["known"]],
            handling_code=strictest(set(r["codes"])) if r["codes"] else HandlingCode.H2,
        ))
    return out[:SECTION_LIMIT]


def _triage(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> TriageBacklog:
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
        ctx.params(since=_utc(ctx.window_end - TRIAGE_LOOKBACK)),
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
    sample.sort(key=lambda x: x["reported_at"].to_native())
    sample = sample[:SECTION_LIMIT]
    communes = _commune_names(tx, {x["insee_code"] for x in sample if x.get("insee_code")})
    backlog.leads = [_lead_ref(x, communes) for x in sample]
    backlog.hits = ctx.hits(hits)
    backlog.handling_code = strictest(codes)
    return backlog


def _hotspots(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> list[HotspotMove]:
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
        ctx.params(bs=_utc(base_start), wstart=_utc(week_start), wend=_utc(ctx.meeting.ends_at)),
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
    names = _commune_names(tx, {m.insee_code for m in moves})
    for m in moves:
        m.commune = names.get(m.insee_code)
    return moves


def _trend(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> list[TrendPoint]:
    """Readable leads and hits per week, over the ``TREND_WEEKS`` weeks ending with this one."""
    week_start = ctx.meeting.starts_at
    starts = [week_start - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    # Week starts computed in Paris time (DST-proof), compared in UTC.
    starts = [datetime.combine(s.date(), datetime.min.time(), PARIS) for s in starts]
    bounds = [_utc(s) for s in starts]
    rows = tx.run(
        "MATCH (l:Lead) WHERE l.reported_at >= $b0 AND l.reported_at < $wend "
        f"  AND l.version > 0 AND {ctx.dept_filter} "
        f"WITH l, {ctx.access.case_expression} AS access WHERE access <> '{NONE}' "
        "WITH size([b IN $bounds WHERE b <= l.reported_at]) - 1 AS i, access = 'hit' AS hit "
        "RETURN i, hit, count(*) AS n",
        ctx.params(b0=bounds[0], wend=_utc(ctx.meeting.ends_at), bounds=bounds),
    ).data()
    visible, hits = Counter(), Counter()
    for r in rows:
        (hits if r["hit"] else visible)[r["i"]] += r["n"]
    return [TrendPoint(week=iso_week_of(s), visible=visible[i], hits=hits[i]) for i, s in enumerate(starts)]


def _actions(tx: neo4j.ManagedTransaction, ctx: _Ctx, *, decided_here: bool) -> list[ActionView]:
    """Actions decided at this meeting, or (``decided_here=False``) open actions of earlier
    meetings of the département due by the end of this meeting's week — those past their
    deadline are flagged overdue: what was not done comes back on the next agenda."""
    where = ("m.meeting_id = $mid" if decided_here else
             "m.departement = $dept AND m.starts_at < $mstart AND a.status = 'open' AND a.deadline <= $due")
    rows = tx.run(
        f"MATCH (m:Meeting)-[:DECIDED]->(a:Action) WHERE {where} "
        "OPTIONAL MATCH (a)-[:ABOUT]->(l:Lead) "
        f"WITH m, a, l, CASE WHEN l IS NULL THEN null ELSE {ctx.access.case_expression} END AS access "
        "WITH m, a, collect(CASE WHEN l IS NULL THEN null "
        "  ELSE {lead_id: l.lead_id, access: access, hc: l.handling_code} END) AS leads "
        "OPTIONAL MATCH (a)-[:ABOUT]->(ent) WHERE NOT ent:Lead "
        f"WITH m, a, leads, collect({{eid: elementId(ent), labels: labels(ent), props: {_ENTITY_PROPS}}}) AS ents "
        "RETURN m.week AS week, a {.*} AS a, leads, ents ORDER BY a.deadline, a.created_at",
        ctx.params(mid=ctx.meeting.meeting_id, mstart=_utc(ctx.meeting.starts_at),
                   due=ctx.meeting.ends_at.date()),
    ).data()
    # Earlier meetings' actions are late if due before this meeting; this meeting's, before today.
    due_by, today = ctx.meeting.starts_at.date(), ctx.now.astimezone(PARIS).date()
    readable = _readable_entities(tx, ctx, [ent for r in rows for ent in r["ents"] if ent["labels"]])
    out = []
    for r in rows:
        a = {k: _native(v) for k, v in r["a"].items()}
        leads = r["leads"]
        # An action is told only to a participant who may read everything it names: a lead or
        # an entity they may only know of (or not even that) withholds it (ADR 0002 amendment).
        withheld = (any(x["access"] in (HIT, NONE) for x in leads)
                    or any(ent["eid"] not in readable for ent in r["ents"] if ent["labels"]))
        entity_ids = []
        for ent in r["ents"]:
            if ent["labels"]:
                kind, key, _ = _entity_identity(ent["labels"], ent["props"])
                entity_ids.append(f"{kind}:{key}")
        codes = {x["hc"] for x in leads} | {a["handling_code"]}
        out.append(ActionView(
            action_id=a["action_id"], meeting_id=a["meeting_id"], week=r["week"],
            title=None if withheld else a["title"], lead_agency=a["lead_agency"], tasked=a["tasked"],
            deadline=a["deadline"], status=a["status"], done_at=a.get("done_at"),
            handling_code=strictest(codes),
            lead_ids=[] if withheld else sorted(x["lead_id"] for x in leads),
            entity_ids=[] if withheld else sorted(entity_ids),
            created_at=a.get("created_at"), created_by=a.get("created_by"),
            overdue=a["status"] == "open" and a["deadline"] < (due_by if not decided_here else today),
            withheld=withheld,
        ))
    return out


def _readable_entities(tx: neo4j.ManagedTransaction, ctx: _Ctx, ents: list[dict[str, Any]]) -> set[str]:
    """Element ids of ``ents`` the participant may read: a reference entity (agency, substance),
    or one that a lead they may read asserts (``graph.read.asserting_leads``, the rule of
    ``entity_anchor``)."""
    reference = {k.label.value for k in REFERENCE_KINDS}
    readable = {ent["eid"] for ent in ents if reference.intersection(ent["labels"])}
    wanted = sorted({ent["eid"] for ent in ents} - readable)
    if not wanted:
        return readable
    rows = tx.run(
        "UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
        f"{asserting_leads()} "
        "WITH DISTINCT ent, l WHERE l.version > 0 "
        f"WITH ent, {ctx.access.case_expression} AS access WHERE access IN $an_visible "
        "RETURN DISTINCT elementId(ent) AS eid",
        {**ctx.params(), **level_params(ctx.access), "eids": wanted},
    )
    return readable | {r["eid"] for r in rows}


def _week_graph(tx: neo4j.ManagedTransaction, ctx: _Ctx) -> WeekGraph:
    """The window's leads the participant reads, and the vehicles, persons, phones and deal
    points they mention."""
    rows = tx.run(
        ctx.window_leads()
        + f"WITH l, access WHERE access <> '{HIT}' "
        f"OPTIONAL MATCH (l)-[r:{CHART_RELS}]->(ent) "
        "RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, l.handling_code AS hc, access, "
        "collect(CASE WHEN ent IS NULL THEN null "
        f"  ELSE {{labels: labels(ent), props: {_ENTITY_PROPS}, type: type(r)}} END) AS links",
        ctx.params(),
    ).data()
    nodes: dict[str, NetworkNode] = {}
    edges: list[NetworkEdge] = []
    for r in rows:
        lead_node = f"lead:{r['lead_id']}"
        nodes[lead_node] = NetworkNode(id=lead_node, kind="lead", key=r["lead_id"],
                                       label=f"{r['kind']} — {r['agency']}",
                                       properties={"agency": r["agency"], "kind": r["kind"],
                                                   "handling_code": r["hc"], "access": public_level(r["access"])})
        for link in r["links"]:
            kind, key, shown = _entity_identity(link["labels"], link["props"])
            node_id = f"{kind}:{key}"
            nodes.setdefault(node_id, NetworkNode(id=node_id, kind=kind, key=key, label=shown))
            edges.append(NetworkEdge(source=lead_node, target=node_id, type=link["type"],
                                     agency=r["agency"], lead_id=r["lead_id"]))
    return WeekGraph(nodes=list(nodes.values()), edges=edges)


# --- meetings ------------------------------------------------------------------------------------


def _meeting(m: dict[str, Any]) -> Meeting:
    return Meeting(**{k: _native(v) for k, v in m.items() if k in Meeting.model_fields})


def ensure_meeting(driver: neo4j.Driver, database: str, departement: str, week: str, *,
                   created_by: str | None, now: datetime | None = None) -> tuple[Meeting, bool]:
    """The meeting of ``departement`` for ``week``, created if absent: (meeting, created)."""
    departement = check_departement(departement)
    starts, ends = week_bounds(week)
    now = now or datetime.now(UTC)
    records, _, _ = driver.execute_query(
        "MERGE (m:Meeting {meeting_id: $mid}) "
        "ON CREATE SET m.departement = $dept, m.week = $week, m.starts_at = $starts, "
        "  m.ends_at = $ends, m.created_at = $now, m.created_by = $by, m.status = 'planned', m._new = true "
        "WITH m, coalesce(m._new, false) AS created REMOVE m._new "
        "RETURN m {.*} AS m, created",
        mid=f"{departement}-{week}", dept=departement, week=week, starts=_utc(starts),
        ends=_utc(ends), now=_utc(now), by=created_by, database_=database,
    )
    return _meeting(records[0]["m"]), records[0]["created"]


def get_meeting(driver: neo4j.Driver, database: str, meeting_id: str) -> Meeting:
    records, _, _ = driver.execute_query(
        "MATCH (m:Meeting {meeting_id: $mid}) RETURN m {.*} AS m", mid=meeting_id,
        database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        raise NotFound(f"réunion inconnue : {meeting_id}")
    return _meeting(records[0]["m"])


def unsaved_meeting(departement: str, week: str, now: datetime | None = None) -> Meeting:
    """A meeting not (yet) in the graph: enough to build an agenda."""
    departement = check_departement(departement)
    starts, ends = week_bounds(week)
    return Meeting(meeting_id=f"{departement}-{week}", departement=departement, week=week,
                   starts_at=starts, ends_at=ends, created_at=now or datetime.now(UTC))


def _window_start(tx: neo4j.ManagedTransaction, meeting: Meeting) -> datetime:
    """New since the last meeting: from the end of the previous meeting of the département
    (at most ``MAX_CATCH_UP`` back), else from the start of this meeting's week."""
    record = tx.run(
        "MATCH (m:Meeting) WHERE m.departement = $dept AND m.starts_at < $starts "
        "RETURN m.ends_at AS ends ORDER BY m.starts_at DESC LIMIT 1",
        dept=meeting.departement, starts=_utc(meeting.starts_at),
    ).single()
    start = meeting.starts_at
    if record and record["ends"] is not None:
        prev_end = record["ends"].to_native()
        if prev_end < start:
            start = max(prev_end, start - MAX_CATCH_UP)
    return start


def build_agenda(driver: neo4j.Driver, database: str, meeting: Meeting, participant: Principal,
                 access: AccessFilter, *, include_unlocated: bool = False,
                 now: datetime | None = None) -> tuple[Agenda, WeekGraph]:
    """The meeting's agenda as ``participant`` may see it (through ``access``), and the graph of
    the window's leads they read (for the link chart). One read transaction.

    ``include_unlocated``: leads without a location belong to this CROSS (the hub's own
    département)."""
    now = now or datetime.now(UTC)

    def work(tx: neo4j.ManagedTransaction) -> tuple[Agenda, WeekGraph]:
        ctx = _Ctx(meeting=meeting, departement=meeting.departement,
                   include_unlocated=include_unlocated, window_start=_window_start(tx, meeting),
                   window_end=meeting.ends_at, participant=participant, access=access, now=now)
        links, links_total = _cross_agency_links(tx, ctx)
        agenda = Agenda(
            meeting=meeting, participant_user_id=participant.user_id,
            participant_agency=participant.agency, participant_role=participant.role,
            window_start=ctx.window_start, window_end=ctx.window_end, generated_at=now,
            policy_id=access.policy_id,
            new_leads=_new_leads(tx, ctx),
            cross_agency_links=links, cross_agency_links_total=links_total,
            pending_disclosures=_pending_disclosures(tx, ctx),
            deconfliction_alerts=_deconfliction_alerts(tx, ctx),
            triage=_triage(tx, ctx),
            hotspots=_hotspots(tx, ctx),
            actions_due=_actions(tx, ctx, decided_here=False),
            actions_decided=_actions(tx, ctx, decided_here=True),
            trend=_trend(tx, ctx),
        )
        return agenda, _week_graph(tx, ctx)

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)


# --- actions -------------------------------------------------------------------------------------


def _split_entity_id(entity_id: str, index: int) -> tuple[EntityKind, str]:
    """``<type>:<clé>``, the key normalized as ingest did (as every entity read takes it)."""
    kind, _, key = entity_id.partition(":")
    try:
        entity_kind = EntityKind(kind)
    except ValueError:
        raise InvalidInput("entité invalide", details=[{
            "field": f"entity_ids[{index}]",
            "reason": "format attendu <type>:<clé>, p. ex. vehicle:AB-123-CD"}]) from None
    try:
        return entity_kind, normalize_entity_key(entity_kind, key)
    except InvalidInput as exc:
        raise InvalidInput("entité invalide", details=[{
            "field": f"entity_ids[{index}]", "reason": exc.message}]) from None


def create_action(driver: neo4j.Driver, database: str, meeting_id: str, action: NewAction,
                  access: AccessFilter, *, created_by: str, now: datetime | None = None) -> ActionView:
    """Record a decision of the meeting. Every lead and entity it is about must be readable by
    its author (no one decides on what they cannot read), through the author's ``access``: a lead
    or entity they may know of only as a hit, or not at all, is refused word for word as one that
    does not exist (the entity resolved by ``graph.read.entity_anchor``, ADR 0002, "Amendment:
    entity marking"), so the refusal says nothing of what the graph holds. Its handling code is
    at least the strictest of those leads' (given stricter, kept)."""
    now = now or datetime.now(UTC)
    entities = [_split_entity_id(e, i) for i, e in enumerate(action.entity_ids)]

    def work(tx: neo4j.ManagedTransaction) -> ActionView:
        meeting = tx.run("MATCH (m:Meeting {meeting_id: $mid}) RETURN m {.*} AS m", mid=meeting_id).single()
        if meeting is None:
            raise NotFound(f"réunion inconnue : {meeting_id}")
        m = _meeting(meeting["m"])
        if action.deadline < m.starts_at.date():
            raise InvalidInput("échéance antérieure à la semaine de la réunion", details=[{
                "field": "deadline", "reason": f"doit être au plus tôt le {m.starts_at.date().isoformat()}"}])
        leads = {r["lead_id"]: r for r in tx.run(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) WHERE l.version > 0 "
            f"RETURN l.lead_id AS lead_id, l.handling_code AS hc, {access.case_expression} AS access",
            ids=action.lead_ids, **access.params)}
        for i, lead_id in enumerate(action.lead_ids):
            row = leads.get(lead_id)
            if row is None or row["access"] in (HIT, NONE):
                raise InvalidInput(f"piste inconnue ou non consultable : {lead_id}", details=[{
                    "field": f"lead_ids[{i}]", "reason": "piste inconnue ou que vous ne pouvez pas consulter"}])
        anchors: list[str | None] = []
        for i, (kind, key) in enumerate(entities):
            try:
                anchor = entity_anchor(tx, access, kind, key)
            except NotFound:
                anchor = None
            if anchor is None or not anchor.readable:
                raise InvalidInput(f"entité inconnue ou non consultable : {action.entity_ids[i]}", details=[{
                    "field": f"entity_ids[{i}]", "reason": "entité inconnue ou que vous ne pouvez pas consulter"}])
            anchors.append(anchor.eid)
        derived = strictest({r["hc"] for r in leads.values()})
        code = derived if action.handling_code is None else strictest({derived.value, action.handling_code.value})
        action_id = f"{meeting_id}-{uuid.uuid4().hex[:8]}"
        tx.run(
            "MATCH (m:Meeting {meeting_id: $mid}) "
            "CREATE (m)-[:DECIDED]->(a:Action {action_id: $aid, meeting_id: $mid, title: $title, "
            "  lead_agency: $lead_agency, tasked: $tasked, deadline: $deadline, status: 'open', "
            "  handling_code: $hc, created_at: $now, created_by: $by}) "
            "WITH a UNWIND $lead_ids AS lid MATCH (l:Lead {lead_id: lid}) CREATE (a)-[:ABOUT]->(l)",
            mid=meeting_id, aid=action_id, title=action.title, lead_agency=action.lead_agency,
            tasked=action.tasked, deadline=action.deadline, hc=code.value, now=_utc(now), by=created_by,
            lead_ids=action.lead_ids,
        ).consume()
        for (kind, key), eid in zip(entities, anchors, strict=True):
            if eid is not None:
                tx.run("MATCH (a:Action {action_id: $aid}) MATCH (ent) WHERE elementId(ent) = $eid "
                       "MERGE (a)-[:ABOUT]->(ent)", aid=action_id, eid=eid).consume()
            else:  # reference data no lead mentioned yet (an agency, a substance): its node
                tx.run(f"MATCH (a:Action {{action_id: $aid}}) "
                       f"MERGE (ent:{kind.label.value} {{{kind.key_property}: $key}}) "
                       "MERGE (a)-[:ABOUT]->(ent)", aid=action_id, key=key).consume()
        return ActionView(action_id=action_id, meeting_id=meeting_id, week=m.week, title=action.title,
                          lead_agency=action.lead_agency, tasked=action.tasked, deadline=action.deadline,
                          status="open", handling_code=code, lead_ids=sorted(action.lead_ids),
                          entity_ids=sorted(f"{kind.value}:{key}" for kind, key in entities),
                          created_at=now, created_by=created_by)

    with driver.session(database=database) as session:
        return session.execute_write(work)


class ActionRecord(BaseModel):
    """An action's own fields, as stored (no lead content): for authorization and audit."""

    action_id: str
    meeting_id: str
    lead_agency: str
    tasked: str
    deadline: date
    status: ActionStatus
    done_at: datetime | None = None
    handling_code: HandlingCode
    lead_ids: list[str] = Field(default_factory=list)


def get_action(driver: neo4j.Driver, database: str, action_id: str) -> ActionRecord:
    records, _, _ = driver.execute_query(
        "MATCH (a:Action {action_id: $aid}) "
        "RETURN a {.action_id, .meeting_id, .lead_agency, .tasked, .deadline, .status, .done_at, .handling_code, "
        "  lead_ids: [(a)-[:ABOUT]->(l:Lead) | l.lead_id]} AS a",
        aid=action_id, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    if not records:
        raise NotFound(f"action inconnue : {action_id}")
    return ActionRecord(**{k: _native(v) for k, v in records[0]["a"].items()})


def update_action(driver: neo4j.Driver, database: str, action_id: str, *,
                  status: ActionStatus | None = None, deadline: date | None = None,
                  tasked: str | None = None, now: datetime | None = None) -> ActionRecord:
    """Change an action's status (``done`` stamps ``done_at``; reopening clears it), deadline or
    tasked unit."""
    now = now or datetime.now(UTC)
    records, _, _ = driver.execute_query(
        "MATCH (a:Action {action_id: $aid}) "
        "SET a.status = coalesce($status, a.status), a.deadline = coalesce($deadline, a.deadline), "
        "  a.tasked = coalesce($tasked, a.tasked), "
        "  a.done_at = CASE WHEN $status IS NULL THEN a.done_at WHEN $status = 'done' "
        "    THEN coalesce(a.done_at, $now) ELSE null END, a.updated_at = $now "
        "RETURN a.action_id AS aid",
        aid=action_id, status=status, deadline=deadline, tasked=tasked, now=_utc(now),
        database_=database,
    )
    if not records:
        raise NotFound(f"action inconnue : {action_id}")
    return get_action(driver, database, action_id)


def list_meetings(driver: neo4j.Driver, database: str, departement: str, limit: int = 20) -> list[Meeting]:
    records, _, _ = driver.execute_query(
        "MATCH (m:Meeting) WHERE m.departement = $dept RETURN m {.*} AS m ORDER BY m.starts_at DESC LIMIT $limit",
        dept=check_departement(departement), limit=limit, database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return [_meeting(r["m"]) for r in records]


__all__ = [
    "Agenda", "ActionRecord", "ActionView", "CrossAgencyLink", "DeconflictionItem", "HitCount",
    "HotspotMove", "LeadRef", "Meeting", "NewAction", "NewLeadsSummary", "PendingDisclosure",
    "SCHEMA", "TrendPoint", "TriageBacklog", "WeekGraph", "build_agenda", "check_departement",
    "create_action", "ensure_meeting", "get_action", "get_meeting", "iso_week_of", "list_meetings",
    "meeting_id_for", "strictest", "unsaved_meeting", "update_action", "week_bounds",
]
