"""The lead workflow in the graph: triage status and history, cross-agency link alerts, planned
operations and their deconfliction alerts.

Owns six bookkeeping labels (constraints and indexes in ``SCHEMA``), none of them linked from a
``Lead`` — they carry the ``lead_id`` as a property instead. That is deliberate: a new lead
version deletes every outgoing relationship of its lead (graph/leads.py), and analysis reads
expand through every outgoing relationship (graph/read.py, guest-grant entity keys), so workflow
nodes must be neither.

* ``LeadStatus`` (one per lead, ``lead_id``): lifecycle ``state``, ``seq`` (number of changes),
  assignee agency and unit, close outcome or dismissal reason, ``resolved_at``; the precision
  ``score`` with its criteria (``score_json``) and the flagged likely duplicates
  (``duplicates_json``); the ``connector`` that first pushed the lead (for hit rates).
  The state, close outcome and resolution date are mirrored on the ``Lead`` (``status``,
  ``outcome``, ``status_changed_at``, ``closed_at``, ``dismissed_at``) for the retention purge;
  no read projects them.
* ``StatusChange`` (``change_id`` = ``<lead_id>#<seq>``): one per change, attributed (user,
  agency, role, time, note). ``#0`` is the lead's arrival.
* ``LinkAlert`` (``alert_id``): an entity (vehicle, phone, person, address, deal point) on which
  leads of two or more agencies meet, raised when a new lead creates the meeting.
* ``Operation`` (``operation_id``): a planned operation of one agency (kind, window, place,
  targets as ``<kind>:<key>``).
* ``DeconflictionAlert`` (``alert_id``): two agencies' operations that clash; open until each
  agency has acknowledged it.
* ``OperationLedger`` (one node): its write lock serializes registrations, so two agencies
  registering clashing operations at the same instant cannot both miss each other.

Rules live in policies/ (``triage``, ``lifecycle``, ``deconfliction``, ``links``): this module
gathers their facts, calls them, and writes what they decide. Every read of lead data evaluates
the caller's ``AccessFilter`` in the query (its ``case_expression`` on ``l``): lead properties
come only through ``projection()``; leads a caller may only know of (hit) are counted, never
shown; leads below the hit are not even counted.

Writes that the hub audits take a ``before_commit`` callback run inside the transaction after
the change: an audit append that fails rolls the change back (as graph/grants.py).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import neo4j
from pydantic import BaseModel, Field

from graph import tx as transactions
from graph.access import HIT, NONE, AccessFilter
from graph.access import shown as access_shown
from graph.labels import Label
from graph.schema import unique_constraint
from hub.contract.errors import Forbidden, NotFound
from hub.contract.lead import AGENCY_LABELS_FR, Agency
from policies import lifecycle
from policies.deconfliction import (
    OPERATION_KIND_LABELS_FR,
    Clash,
    DeconflictionRules,
    OperationFacts,
    OperationKind,
    OperationStatus,
    clashes,
)
from policies.lifecycle import LeadState
from policies.links import Holding, LinkedLead, holding_message_fr
from policies.triage import (
    DuplicateCandidate,
    DuplicateMatch,
    LeadFacts,
    PlacePrecision,
    PrecisionScore,
    ResolutionCount,
    TriageRules,
    likely_duplicates,
    person_described,
    precision_score,
)

T = TypeVar("T")

# --- schema -------------------------------------------------------------------------------------


SCHEMA: list[str] = [
    *(unique_constraint(label) for label in (Label.LEAD_STATUS, Label.STATUS_CHANGE, Label.LINK_ALERT,
                                   Label.OPERATION, Label.DECONFLICTION_ALERT, Label.OPERATION_LEDGER)),
    # The triage queue: equality on the state, ordered by score.
    "CREATE INDEX leadstatus_state_score IF NOT EXISTS FOR (n:LeadStatus) ON (n.state, n.score)",
    # Hit rates: resolved leads over a period.
    "CREATE INDEX leadstatus_resolved_at IF NOT EXISTS FOR (n:LeadStatus) ON (n.resolved_at)",
    "CREATE INDEX statuschange_lead IF NOT EXISTS FOR (n:StatusChange) ON (n.lead_id)",
    "CREATE INDEX linkalert_entity IF NOT EXISTS FOR (n:LinkAlert) ON (n.entity_key)",
    "CREATE INDEX linkalert_created IF NOT EXISTS FOR (n:LinkAlert) ON (n.created_at)",
    # Clash candidates: operations still running after the new one starts.
    "CREATE INDEX operation_ends_at IF NOT EXISTS FOR (n:Operation) ON (n.ends_at)",
    "CREATE INDEX operation_agency IF NOT EXISTS FOR (n:Operation) ON (n.agency)",
    "CREATE INDEX deconflictionalert_status IF NOT EXISTS FOR (n:DeconflictionAlert) ON (n.status)",
]

# Relationship types by which a lead names an entity that can link agencies. Places count only
# with an address (a commune or a vague landmark links everyone to everyone).
_LINK_RELS = "MENTIONS_VEHICLE|MENTIONS_PHONE|INVOLVES|CONCERNS|AT"
_DUP_RELS = "AT|MENTIONS_VEHICLE|MENTIONS_PHONE|INVOLVES|CONCERNS"
_ENTITY_KEY = (
    "CASE WHEN e:Vehicle THEN 'vehicle:' + e.plate WHEN e:Phone THEN 'phone:' + e.number "
    "WHEN e:Person THEN 'person:' + e.pseudonym WHEN e:DealPoint THEN 'deal_point:' + e.key "
    "WHEN e:Location THEN 'location:' + e.key END"
)
_VIA_SHARED = {"MENTIONS_VEHICLE": "plate", "MENTIONS_PHONE": "phone", "INVOLVES": "person",
               "CONCERNS": "deal_point"}
_PLACE_OF_KEY = {"addr": PlacePrecision.ADDRESS, "pt": PlacePrecision.POINT,
                 "place": PlacePrecision.PLACE_LABEL, "commune": PlacePrecision.COMMUNE}
# Duplicate candidates scored per lead, closest in time first: a hall with hundreds of reports a
# fortnight must not make one batch score tens of thousands of pairs.
MAX_CANDIDATES_PER_LEAD = 100
# Entities on which so many leads meet that a list of them is noise: an alert keeps this many.
MAX_LEADS_PER_LINK = 500
SYSTEM_USER = ("crosshub", "CROSS Hub")


# --- models -------------------------------------------------------------------------------------


# How a caller sees a lead, as answers say it: the policy's redaction profiles (``redacted1``…)
# are one "redacted" to the outside, as in graph.read.LeadView.
Shown = Literal["full", "redacted"]


def shown(level: str) -> Shown:
    """The answer's name of a visible access level (``full`` or one of the redaction profiles)."""
    return access_shown(level)  # type: ignore[return-value]  # visible levels only here


class DuplicateView(BaseModel):
    """A likely duplicate as one caller may see it: a lead they may only know of (hit) shows its
    agency and whom to ask, not why it matched."""

    lead_id: str
    agency: str
    access: Literal["full", "redacted", "hit"]
    similarity: int
    reasons_fr: list[str] = Field(default_factory=list)
    contact: str | None = None


class TriageView(BaseModel):
    lead_id: str
    agency: str
    access: Shown
    state: LeadState
    score: int | None = None
    precision: PrecisionScore | None = None
    duplicates: list[DuplicateView] = Field(default_factory=list)
    scored_at: datetime | None = None
    computed_on_read: bool = Field(default=False, description="Score calculé à la lecture (piste antérieure au triage)")
    assignee_agency: str | None = None
    unit: str | None = None
    outcome: str | None = None
    reason: str | None = None
    seq: int = 0
    updated_at: datetime | None = None


class StatusChangeRecord(BaseModel):
    change_id: str
    lead_id: str
    seq: int
    from_state: LeadState | None = None
    to_state: LeadState
    at: datetime
    user_id: str
    user_name: str
    user_agency: str | None = None
    user_role: str | None = None
    by: str | None = None
    note: str = ""
    outcome: str | None = None
    reason: str | None = None
    assignee_agency: str | None = None
    unit: str | None = None


class StatusResult(BaseModel):
    lead_id: str
    state: LeadState
    seq: int
    assignee_agency: str | None = None
    unit: str | None = None
    outcome: str | None = None
    reason: str | None = None
    change: StatusChangeRecord


class QueueItem(BaseModel):
    lead_id: str
    agency: str
    kind: str
    access: Shown
    state: LeadState
    score: int | None = None
    duplicate_count: int = 0
    channel: str | None = None
    reported_at: datetime | None = None
    insee_code: str | None = None
    assignee_agency: str | None = None
    unit: str | None = None
    received_at: datetime | None = None
    updated_at: datetime | None = None


class LinkAlert(BaseModel):
    """A cross-agency link as stored: every lead on the entity, with its marking only."""

    alert_id: str
    entity_kind: str
    entity_key: str
    created_at: datetime
    agencies: list[str]
    new_lead_ids: list[str]
    leads: list[LinkedLead]


class LinkAlertView(BaseModel):
    """A link alert as one agency reads it: its own leads, and per other agency a count."""

    alert_id: str
    created_at: datetime
    entity_kind: str
    entity_key: str
    own_lead_ids: list[str]
    holdings: list[Holding]
    message_fr: str


class AfterIngestReport(BaseModel):
    scored: int = 0
    scores: dict[str, int] = Field(default_factory=dict)
    duplicates: dict[str, list[DuplicateMatch]] = Field(default_factory=dict)
    link_alerts: list[LinkAlert] = Field(default_factory=list)


class OperationPlace(BaseModel):
    insee_code: str
    commune: str | None = None
    location_key: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_m: float = 200.0


class OperationRecord(BaseModel):
    operation_id: str
    agency: str
    kind: OperationKind
    title: str | None = None
    unit: str
    starts_at: datetime
    ends_at: datetime
    place: OperationPlace
    targets: list[str] = Field(default_factory=list)
    status: OperationStatus = OperationStatus.PLANNED
    created_at: datetime
    created_by: str
    created_by_name: str

    def facts(self) -> OperationFacts:
        p = self.place
        return OperationFacts(
            operation_id=self.operation_id, agency=self.agency, kind=self.kind,
            starts_at=self.starts_at, ends_at=self.ends_at, insee_code=p.insee_code,
            commune=p.commune, location_key=p.location_key, lat=p.lat, lon=p.lon,
            radius_m=p.radius_m, targets=self.targets, status=self.status)


class Acknowledgement(BaseModel):
    agency: str
    user_id: str
    user_name: str
    at: datetime
    note: str = ""


class DeconflictionAlertRecord(BaseModel):
    alert_id: str
    operation_ids: list[str]
    agencies: list[str]
    reasons: list[str]
    reasons_fr: list[str]
    shared_targets: list[str] = Field(default_factory=list)
    distance_m: float | None = None
    overlap_start: datetime
    overlap_end: datetime
    opened_at: datetime
    status: str  # open | closed
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    closed_at: datetime | None = None


class OtherOperation(BaseModel):
    """What an agency learns of the other agency's clashing operation: who, what kind, when,
    whom to call — not its title, unit, other targets or exact place."""

    agency: str
    agency_label_fr: str
    kind: OperationKind
    kind_label_fr: str
    starts_at: datetime
    ends_at: datetime
    contact: str | None = None


class AckView(BaseModel):
    agency: str
    at: datetime
    user_name: str | None = None  # only for the reader's own agency


class DeconflictionAlertView(BaseModel):
    alert_id: str
    status: str
    opened_at: datetime
    closed_at: datetime | None = None
    reasons: list[str]
    reasons_fr: list[str]
    shared_targets: list[str]
    distance_m: float | None = None
    overlap_start: datetime
    overlap_end: datetime
    own_operation: OperationRecord
    other_operation: OtherOperation
    acknowledged_by: list[AckView]
    awaiting: list[str] = Field(description="Services dont l'acquittement est attendu")
    message_fr: str


# --- plumbing -----------------------------------------------------------------------------------


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _plain(props: dict[str, Any] | None) -> dict[str, Any]:
    return {k: _native(v) for k, v in (props or {}).items()}


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _props(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """A model as node properties: enums as their values, datetimes in UTC, nulls left out."""
    out = {}
    for k, v in model.model_dump(exclude=exclude).items():
        if v is None:
            continue
        if isinstance(v, datetime):
            v = _utc(v)
        elif isinstance(v, str):
            v = str(v)  # StrEnum -> plain str
        elif isinstance(v, list):
            v = [str(x) if isinstance(x, str) else x for x in v]
        out[k] = v
    return out


_read = transactions.read
_write = transactions.write_once


def _lead_access(tx: Any, lead_id: str, access: AccessFilter) -> tuple[str, str]:
    """(agency, access level) of a lead the caller may read; NotFound when it does not exist or
    the caller may not even know of it, Forbidden when they may only know it exists."""
    row = tx.run(
        f"MATCH (l:Lead {{lead_id: $lead_id}}) WHERE l.version > 0 "
        f"WITH l, {access.case_expression} AS access RETURN l.agency AS agency, access",
        lead_id=lead_id, **access.params,
    ).single()
    if row is None or row["access"] == NONE:
        raise NotFound(f"piste inconnue : {lead_id}")
    if row["access"] == HIT:
        contact = access.contacts.get(row["agency"])
        raise Forbidden(
            f"vous ne connaissez de la piste {lead_id} que son existence (hit) : "
            f"s'adresser au service d'origine{f' ({contact})' if contact else ''}")
    return row["agency"], row["access"]


# --- triage: facts, scores, duplicates ----------------------------------------------------------

# Counting with ``count(DISTINCT CASE WHEN <predicate> THEN o END)``: the predicates compare the
# candidate with ``l`` and must not become index seeks (see _DUPLICATES_QUERY below).
_COUNTED = ("CASE WHEN o.version > 0 AND lo <= coalesce(o.observed_at, o.reported_at) <= hi "
            "AND (o.agency = l.agency OR (NOT o.handling_code IN $excluded "
            "     AND (o.embargo_until IS NULL OR o.embargo_until <= $now))) THEN o END")
_FACTS_QUERY = f"""
UNWIND $ids AS id
MATCH (l:Lead {{lead_id: id}}) WHERE l.version > 0
WITH l, coalesce(l.observed_at, l.reported_at) AS t
WITH l, t - $window AS lo, t + $window AS hi
OPTIONAL MATCH (l)-[:AT]->(loc:Location)
CALL (l, loc, lo, hi) {{
  OPTIONAL MATCH (loc)<-[:AT]-(o:Lead) WHERE NOT loc.key STARTS WITH 'commune:'
  RETURN count(DISTINCT {_COUNTED}) AS same_place
}}
CALL (l, lo, hi) {{
  OPTIONAL MATCH (l)-[:CONCERNS]->(dp:DealPoint)
  OPTIONAL MATCH (dp)<-[:CONCERNS]-(o:Lead)
  RETURN count(DISTINCT {_COUNTED}) AS same_deal_point
}}
CALL (l, lo, hi) {{
  OPTIONAL MATCH (l)-[:MENTIONS_VEHICLE]->(v:Vehicle)
  OPTIONAL MATCH (v)<-[:MENTIONS_VEHICLE]-(o:Lead)
  WITH v, count(DISTINCT {_COUNTED}) AS n
  RETURN coalesce(max(n), 0) AS same_plate
}}
RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind,
       l.observed_at IS NOT NULL AS observed, loc.key AS location_key,
       [(l)-[r:INVOLVES]->(:Person) | r {{.apparent_age_min, .apparent_age_max, .height_cm, .build,
                                          .clothing, .distinctive_marks}}] AS persons,
       [(l)-[r:MENTIONS_VEHICLE]->(:Vehicle) | r {{.make, .model, .colour}}] AS vehicles,
       l.unplated_vehicles AS unplated,
       same_place, same_deal_point, same_plate
"""

# Predicates on the candidate ``o`` that compare it with ``l`` are written after the expansion
# subquery, never inside it: Lead carries range indexes (ingested_at, observed_at, agency…), and
# a predicate like ``o.ingested_at < l.ingested_at`` inside the MATCH invites the planner to seek
# every earlier lead through the index and hash-join — thousands of times per batch. One branch
# per relationship type: expanding each type on its own is cheaper than comparing types.
_SHARED_BRANCHES = " UNION ".join(
    f"MATCH (l)-[:{rel}]->(e)<-[:{rel}]-(o:Lead)"
    + (" WHERE NOT e.key STARTS WITH 'commune:'" if rel == "AT" else "")
    + f" RETURN o, '{rel}' AS via, null AS distance"
    for rel in _DUP_RELS.split("|")
)
_DUPLICATES_QUERY = f"""
UNWIND $ids AS id
MATCH (l:Lead {{lead_id: id}}) WHERE l.version > 0
WITH l, coalesce(l.observed_at, l.reported_at) AS t
CALL (l) {{
  {_SHARED_BRANCHES}
  UNION
  MATCH (l)-[:AT]->(loc:Location) WHERE loc.point IS NOT NULL
  MATCH (near:Location) WHERE point.distance(near.point, loc.point) <= $radius AND near <> loc
  MATCH (near)<-[:AT]-(o:Lead)
  RETURN o, 'NEAR' AS via, point.distance(near.point, loc.point) AS distance
}}
WITH l, t, o, via, distance, coalesce(o.observed_at, o.reported_at) AS ot
WHERE o <> l AND o.version > 0 AND t - $window <= ot <= t + $window
  AND (o.ingested_at < l.ingested_at OR (o.ingested_at = l.ingested_at AND o.lead_id < l.lead_id))
WITH l, t, o, ot, collect(DISTINCT via) AS vias, min(distance) AS distance
WITH l, o, vias, distance, abs(duration.inSeconds(ot, t).seconds) AS seconds_apart
ORDER BY seconds_apart, o.lead_id
WITH l, collect({{other_id: o.lead_id, other_agency: o.agency, other_kind: o.kind, vias: vias,
                  distance: distance, seconds_apart: seconds_apart}})[..$per_lead] AS candidates
UNWIND candidates AS c
RETURN l.lead_id AS lead_id, l.kind AS kind, c.other_id AS other_id, c.other_agency AS other_agency,
       c.other_kind AS other_kind, c.vias AS vias, c.distance AS distance, c.seconds_apart AS seconds_apart
"""


def _facts(tx: Any, ids: list[str], rules: TriageRules, now: datetime) -> list[LeadFacts]:
    pattern = rules.precision.pattern
    rows = tx.run(_FACTS_QUERY, ids=ids, window=timedelta(days=pattern.window_days), now=now,
                  excluded=[c.value for c in pattern.exclude_other_agencies_handling])
    facts = []
    for r in rows:
        key = r["location_key"]
        unplated = json.loads(r["unplated"]) if r["unplated"] else []
        facts.append(LeadFacts(
            lead_id=r["lead_id"], agency=r["agency"], kind=r["kind"],
            place=_PLACE_OF_KEY.get(key.split(":", 1)[0]) if key else None,
            observed=r["observed"],
            described_persons=sum(1 for p in r["persons"] if person_described(p)),
            described_vehicles=sum(1 for v in r["vehicles"] + unplated
                                   if v.get("make") or v.get("model") or v.get("colour")),
            plates=len(r["vehicles"]),
            same_place=r["same_place"], same_deal_point=r["same_deal_point"],
            same_plate=r["same_plate"],
        ))
    return facts


def _candidates(tx: Any, ids: list[str], rules: TriageRules) -> list[DuplicateCandidate]:
    d = rules.duplicates
    rows = tx.run(_DUPLICATES_QUERY, ids=ids, window=timedelta(days=d.window_days), radius=d.radius_m,
                  per_lead=MAX_CANDIDATES_PER_LEAD)
    out = []
    for r in rows:
        vias = set(r["vias"])
        out.append(DuplicateCandidate(
            lead_id=r["lead_id"], other_lead_id=r["other_id"], other_agency=r["other_agency"],
            lead_kind=r["kind"], other_kind=r["other_kind"], same_location="AT" in vias,
            near_location_m=r["distance"] if "NEAR" in vias else None,
            shared=sorted({_VIA_SHARED[v] for v in vias if v in _VIA_SHARED}),
            hours_apart=r["seconds_apart"] / 3600,
        ))
    return out


def score_leads(tx: Any, ids: list[str], rules: TriageRules,
                now: datetime) -> tuple[dict[str, tuple[str, PrecisionScore]], dict[str, list[DuplicateMatch]]]:
    """Scores (with each lead's agency) and flagged duplicates of ``ids``: two queries whatever
    the number of leads."""
    facts = _facts(tx, ids, rules, now)
    scores = {f.lead_id: (f.agency.value, precision_score(f, rules)) for f in facts}
    return scores, likely_duplicates(_candidates(tx, ids, rules), rules)


def after_ingest(
    driver: neo4j.Driver,
    database: str,
    lead_ids: list[str],
    now: datetime,
    *,
    connector: str | None = None,
    rules: TriageRules | None = None,
    before_commit: Callable[[AfterIngestReport], None] | None = None,
) -> AfterIngestReport:
    """Triage freshly written leads: precision score, likely duplicates of earlier leads, status
    ``new`` with its arrival in the history (first time only), and a ``LinkAlert`` for every
    entity on which the batch makes leads of two agencies meet. One transaction of six queries
    whatever the batch size; idempotent (a replay rescores and raises no second alert).

    ``connector`` is recorded on the leads' status the first time (hit rates per connector).
    Notices for the agencies come from ``policies.links.notices_for`` on each ``LinkAlert``."""
    from policies.triage import default_triage_rules

    rules = rules or default_triage_rules()
    # Sorted: concurrent batches lock the statuses they share in the same order (no deadlock).
    ids = sorted(set(lead_ids))
    if not ids:
        return AfterIngestReport()
    now = _utc(now) or datetime.now(UTC)

    def work(tx: neo4j.Transaction) -> AfterIngestReport:
        scores, duplicates = score_leads(tx, ids, rules, now)
        rows = [{
            "lead_id": lead_id, "agency": agency, "score": score.score,
            "score_json": score.model_dump_json(),
            "duplicates_json": json.dumps([m.model_dump() for m in duplicates.get(lead_id, [])],
                                          ensure_ascii=False),
            "duplicate_of": [m.lead_id for m in duplicates.get(lead_id, [])],
        } for lead_id, (agency, score) in scores.items()]
        if rows:
            tx.run(
                "UNWIND $rows AS row "
                "MERGE (s:LeadStatus {lead_id: row.lead_id}) "
                "ON CREATE SET s.state = $new, s.seq = 0, s.agency = row.agency, s.created_at = $now, "
                "              s.updated_at = $now "
                "SET s.score = row.score, s.score_json = row.score_json, "
                "    s.duplicates_json = row.duplicates_json, s.duplicate_of = row.duplicate_of, "
                "    s.duplicate_count = size(row.duplicate_of), s.scored_at = $now, "
                "    s.connector = coalesce(s.connector, $connector) "
                "MERGE (c:StatusChange {change_id: row.lead_id + '#0'}) "
                "ON CREATE SET c.lead_id = row.lead_id, c.seq = 0, c.to_state = $new, c.at = $now, "
                "              c.user_id = $user_id, c.user_name = $user_name, c.note = $note",
                rows=rows, now=now, new=LeadState.NEW.value, connector=connector,
                user_id=f"connector:{connector}" if connector else SYSTEM_USER[0],
                user_name=connector or SYSTEM_USER[1], note="piste reçue",
            ).consume()
        alerts = _raise_link_alerts(tx, ids, now)
        report = AfterIngestReport(
            scored=len(scores), scores={k: v[1].score for k, v in scores.items()},
            duplicates={k: v for k, v in duplicates.items() if v}, link_alerts=alerts)
        if before_commit:
            before_commit(report)
        return report

    return _write(driver, database, work)


# --- cross-agency links -------------------------------------------------------------------------

_LEAD_MARKING = (
    "{lead_id: o.lead_id, agency: o.agency, kind: o.kind, handling_code: o.handling_code, "
    "restricted_to: coalesce(o.restricted_to, []), embargo_until: o.embargo_until}"
)


def _linked_lead(m: dict[str, Any]) -> LinkedLead:
    return LinkedLead(**{**m, "embargo_until": _native(m.get("embargo_until"))})


def _raise_link_alerts(tx: Any, ids: list[str], now: datetime) -> list[LinkAlert]:
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
        tx.run(
            "UNWIND $alerts AS a "
            "MERGE (x:LinkAlert {alert_id: a.alert_id}) "
            "ON CREATE SET x.entity_key = a.entity_key, x.entity_kind = a.entity_kind, "
            "              x.key = a.key, x.agencies = a.agencies, x.lead_ids = a.lead_ids, "
            "              x.new_lead_ids = a.new_lead_ids, x.created_at = $now",
            alerts=[{"alert_id": a.alert_id, "entity_key": f"{a.entity_kind}:{a.entity_key}",
                     "entity_kind": a.entity_kind, "key": a.entity_key, "agencies": a.agencies,
                     "lead_ids": sorted(x.lead_id for x in a.leads), "new_lead_ids": a.new_lead_ids}
                    for a in alerts],
            now=now,
        ).consume()
    return alerts


def cross_agency_links_for(driver: neo4j.Driver, database: str, lead_ids: list[str]) -> list[LinkAlert]:
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
                          entity_key=r["a"]["key"], created_at=_native(r["a"]["created_at"]),
                          agencies=r["a"]["agencies"], new_lead_ids=r["a"]["new_lead_ids"],
                          leads=[_linked_lead(m) for m in r["leads"]]) for r in rows]

    return _read(driver, database, work) if ids else []


def link_alerts_for(driver: neo4j.Driver, database: str, agency: str, access: AccessFilter, *,
                    since: datetime | None = None, limit: int = 100) -> list[LinkAlertView]:
    """The link alerts of ``agency``, each told hit-style through the caller's access filter:
    another agency's leads count only if the caller may know of them (hit or more); an alert
    with nothing left to tell is not shown."""
    from policies.links import default_policy

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"MATCH (a:LinkAlert) WHERE $agency IN a.agencies "
            f"  AND ($since IS NULL OR a.created_at >= $since) "
            f"WITH a ORDER BY a.created_at DESC, a.alert_id LIMIT $limit "
            f"CALL (a) {{ UNWIND a.lead_ids AS lid MATCH (l:Lead {{lead_id: lid}}) WHERE l.version > 0 "
            f"  WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            f"  RETURN collect({{lead_id: l.lead_id, agency: l.agency, access: access}}) AS leads }} "
            f"RETURN a {{.alert_id, .entity_kind, .key, .created_at}} AS a, leads",
            agency=agency, since=_utc(since), limit=limit, **access.params,
        )
        return [r.data() for r in rows]

    policy = default_policy()
    views = []
    for row in _read(driver, database, work):
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
            alert_id=a["alert_id"], created_at=_native(a["created_at"]), entity_kind=a["entity_kind"],
            entity_key=a["key"], own_lead_ids=own, holdings=holdings,
            message_fr=holding_message_fr(a["entity_kind"], a["key"], holdings)))
    return views


# --- triage reads -------------------------------------------------------------------------------


def _status_fields(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s.get(k) for k in ("assignee_agency", "unit", "outcome", "reason")}


def triage(driver: neo4j.Driver, database: str, lead_id: str, access: AccessFilter, now: datetime,
           rules: TriageRules | None = None) -> TriageView:
    """The lead's precision score with its reasons, its likely duplicates (each as the caller may
    see it) and its status. A lead written before triage existed is scored on read."""
    from policies.triage import default_triage_rules

    rules = rules or default_triage_rules()

    def work(tx: neo4j.ManagedTransaction) -> TriageView:
        agency, level = _lead_access(tx, lead_id, access)
        record = tx.run("MATCH (s:LeadStatus {lead_id: $id}) RETURN s {.*} AS s", id=lead_id).single()
        s = _plain(record["s"]) if record else {}
        computed = not s.get("score_json")
        if computed:
            scores, dups = score_leads(tx, [lead_id], rules, _utc(now) or datetime.now(UTC))
            precision = scores[lead_id][1]
            matches = dups.get(lead_id, [])
        else:
            precision = PrecisionScore.model_validate_json(s["score_json"])
            matches = [DuplicateMatch(**m) for m in json.loads(s.get("duplicates_json") or "[]")]
        views = []
        if matches:
            seen = {
                r["lead_id"]: r["access"]
                for r in tx.run(
                    f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) WHERE l.version > 0 "
                    f"RETURN l.lead_id AS lead_id, {access.case_expression} AS access",
                    ids=[m.lead_id for m in matches], **access.params)
            }
            for m in matches:
                level_m = seen.get(m.lead_id, NONE)
                if level_m == NONE:
                    continue
                views.append(DuplicateView(
                    lead_id=m.lead_id, agency=m.agency,
                    access=HIT if level_m == HIT else shown(level_m), similarity=m.similarity,
                    reasons_fr=[] if level_m == HIT else m.reasons_fr,
                    contact=access.contacts.get(m.agency) if level_m == HIT else None))
        return TriageView(
            lead_id=lead_id, agency=agency, access=shown(level),
            state=LeadState(s.get("state", LeadState.NEW.value)), score=precision.score,
            precision=precision, duplicates=views, scored_at=s.get("scored_at"),
            computed_on_read=computed, seq=s.get("seq", 0), updated_at=s.get("updated_at"),
            **_status_fields(s))

    return _read(driver, database, work)


def history(driver: neo4j.Driver, database: str, lead_id: str,
            access: AccessFilter) -> tuple[Shown, list[StatusChangeRecord]]:
    """How the caller sees the lead (``full`` or ``redacted``), and every change of its state,
    oldest first, attributed (the history holds no lead property a redaction withholds)."""

    def work(tx: neo4j.ManagedTransaction) -> tuple[Shown, list[StatusChangeRecord]]:
        _agency, level = _lead_access(tx, lead_id, access)
        rows = tx.run("MATCH (c:StatusChange) WHERE c.lead_id = $id RETURN c {.*} AS c ORDER BY c.seq",
                      id=lead_id)
        return shown(level), [StatusChangeRecord(**_plain(r["c"])) for r in rows]

    return _read(driver, database, work)


QUEUE_ORDERS = {
    "score": "s.score DESC, s.created_at ASC",
    "received": "s.created_at ASC",
    "updated": "s.updated_at DESC",
}


def queue(driver: neo4j.Driver, database: str, access: AccessFilter, *, state: LeadState,
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
            s, lead = _plain(r["s"]), _plain(r["lead"])
            items.append(QueueItem(
                lead_id=s["lead_id"], agency=lead["agency"], kind=lead["kind"], access=shown(r["access"]),
                state=s["state"], score=s.get("score"), duplicate_count=s.get("duplicate_count") or 0,
                channel=lead.get("channel"), reported_at=lead.get("reported_at"),
                insee_code=lead.get("insee_code"), assignee_agency=s.get("assignee_agency"),
                unit=s.get("unit"), received_at=s.get("created_at"), updated_at=s.get("updated_at")))
        return items

    return _read(driver, database, work)


# --- lifecycle ----------------------------------------------------------------------------------


def change_status(
    driver: neo4j.Driver,
    database: str,
    lead_id: str,
    request: lifecycle.StatusRequest,
    actor: lifecycle.Actor,
    actor_name: str,
    access: AccessFilter,
    now: datetime,
    *,
    rules: TriageRules | None = None,
    before_commit: Callable[[StatusResult], None] | None = None,
) -> StatusResult:
    """Move a lead to a new state under its status lock: the check (``lifecycle.check_transition``)
    reads the state after taking the lock, so of two concurrent changes from the same state the
    second sees the first and gets 409."""
    from policies.triage import default_triage_rules

    rules = rules or default_triage_rules()
    now = _utc(now) or datetime.now(UTC)

    def work(tx: neo4j.Transaction) -> StatusResult:
        owner, _level = _lead_access(tx, lead_id, access)
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
        s = _plain(tx.run("MATCH (s:LeadStatus {lead_id: $id}) RETURN s {.*} AS s", id=lead_id).single()["s"])
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
            id=lead_id, props=props, now=now, change=_props(record),
        ).consume()
        result = StatusResult(lead_id=lead_id, state=target, seq=seq, assignee_agency=assignee,
                              unit=unit, outcome=props["outcome"], reason=props["reason"], change=record)
        if before_commit:
            before_commit(result)
        return result

    return _write(driver, database, work)


def resolution_counts(driver: neo4j.Driver, database: str, access: AccessFilter, *,
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
            resolved=[s.value for s in lifecycle.RESOLVED_STATES], since=_utc(since), until=_utc(until),
            **access.params,
        )
        return [ResolutionCount(**r.data()) for r in rows]

    return _read(driver, database, work)


# --- operations and deconfliction ---------------------------------------------------------------


def _operation(props: dict[str, Any]) -> OperationRecord:
    p = _plain(props)
    place = OperationPlace(insee_code=p["insee_code"], commune=p.get("commune"),
                           location_key=p.get("location_key"), lat=p.get("lat"), lon=p.get("lon"),
                           radius_m=p.get("radius_m", 200.0))
    return OperationRecord(place=place, targets=p.get("targets") or [],
                           **{k: p.get(k) for k in ("operation_id", "agency", "kind", "title", "unit",
                                                    "starts_at", "ends_at", "status", "created_at",
                                                    "created_by", "created_by_name")})


def _operation_props(op: OperationRecord) -> dict[str, Any]:
    p = op.place
    props = {
        "operation_id": op.operation_id, "agency": op.agency, "kind": op.kind.value,
        "title": op.title, "unit": op.unit, "starts_at": _utc(op.starts_at), "ends_at": _utc(op.ends_at),
        "insee_code": p.insee_code, "commune": p.commune, "location_key": p.location_key,
        "lat": p.lat, "lon": p.lon, "radius_m": p.radius_m, "targets": op.targets,
        "status": op.status.value, "created_at": _utc(op.created_at), "created_by": op.created_by,
        "created_by_name": op.created_by_name,
    }
    return {k: v for k, v in props.items() if v is not None}


def _alert(props: dict[str, Any]) -> DeconflictionAlertRecord:
    p = _plain(props)
    acks = [Acknowledgement(**a) for a in json.loads(p.pop("acknowledgements_json", None) or "[]")]
    p.pop("acknowledged_agencies", None)
    p.pop("revision", None)
    return DeconflictionAlertRecord(acknowledgements=acks, **p)


def new_operation_id() -> str:
    return f"op-{uuid.uuid4().hex}"


def register_operation(
    driver: neo4j.Driver,
    database: str,
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
            lo=_utc(operation.starts_at - margin), hi=_utc(operation.ends_at + margin),
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
                alerts=[_props(a, exclude={"acknowledgements"}) for a in alerts],
            ).consume()
        if before_commit:
            before_commit(operation, alerts)
        return operation, alerts

    return _write(driver, database, work)


def list_operations(driver: neo4j.Driver, database: str, agency: str, *, now: datetime,
                    include_past: bool = False, limit: int = 200) -> list[OperationRecord]:
    def work(tx: neo4j.ManagedTransaction) -> list[OperationRecord]:
        rows = tx.run(
            "MATCH (o:Operation) WHERE o.agency = $agency AND ($past OR o.ends_at > $now) "
            "RETURN o {.*} AS o ORDER BY o.starts_at, o.operation_id LIMIT $limit",
            agency=agency, past=include_past, now=_utc(now), limit=limit,
        )
        return [_operation(r["o"]) for r in rows]

    return _read(driver, database, work)


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


def _contacts(contacts: dict[str, str] | None) -> dict[str, str]:
    from policies.links import default_policy

    policy = default_policy()
    base = {a.agency.value: a.contact_fr for a in policy.agencies}
    return {**base, **(contacts or {})}


def deconfliction_alerts_for(driver: neo4j.Driver, database: str, agency: str, *,
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

    book = _contacts(contacts)
    return [_alert_view(_alert(r["a"]), [_operation(o) for o in r["ops"]], agency, book)
            for r in _read(driver, database, work)]


def acknowledge_alert(
    driver: neo4j.Driver,
    database: str,
    alert_id: str,
    *,
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
    now = _utc(now) or datetime.now(UTC)

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
        return _alert_view(alert, [_operation(o) for o in row["ops"]], agency, _contacts(contacts)), changed

    return _write(driver, database, work)


# --- the triage queue of freshly written leads ------------------------------------------------------


def pending_triage(driver: neo4j.Driver, database: str, limit: int = 2000) -> dict[str | None, list[str]]:
    """Leads written but not yet triaged (graph.leads.TRIAGE_PENDING), oldest first, grouped by
    the connector that pushed them."""
    from graph.leads import TRIAGE_PENDING

    records, _, _ = driver.execute_query(
        f"MATCH (l:{TRIAGE_PENDING}) WITH l ORDER BY l.updated_at LIMIT $limit "
        "RETURN l.pushed_by AS connector, collect(l.lead_id) AS ids",
        limit=limit, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return {r["connector"]: r["ids"] for r in records}


def triage_done(driver: neo4j.Driver, database: str, lead_ids: list[str]) -> None:
    from graph.leads import TRIAGE_PENDING

    driver.execute_query(
        f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) REMOVE l:{TRIAGE_PENDING}",
        ids=lead_ids, database_=database,
    )
