"""Triage of freshly written leads and the triage read of one lead: the facts the precision score
is computed from, the likely duplicates of earlier leads, the status ``new`` with its arrival in
the history, and (through ``links``) the cross-agency link alerts a batch raises.

The score and the duplicate rules are ``policies.triage``'s (``TriageRules``, a required
argument); this module gathers their facts in two queries per batch and writes what they decide.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.handle import Graph
from graph.records import plain, utc
from graph.workflow._common import lead_access
from graph.workflow.links import raise_link_alerts
from graph.workflow.models import (
    MAX_CANDIDATES_PER_LEAD,
    SYSTEM_USER,
    AfterIngestReport,
    DuplicateView,
    TriageView,
    shown,
)
from policies.lifecycle import LeadState
from policies.triage import (
    DuplicateCandidate,
    DuplicateMatch,
    LeadFacts,
    PlacePrecision,
    PrecisionScore,
    TriageRules,
    likely_duplicates,
    person_described,
    precision_score,
)

# Relationship types by which two leads may name the same thing (duplicate candidates).
_DUP_RELS = "AT|MENTIONS_VEHICLE|MENTIONS_PHONE|INVOLVES|CONCERNS"
_VIA_SHARED = {"MENTIONS_VEHICLE": "plate", "MENTIONS_PHONE": "phone", "INVOLVES": "person",
               "CONCERNS": "deal_point"}
_PLACE_OF_KEY = {"addr": PlacePrecision.ADDRESS, "pt": PlacePrecision.POINT,
                 "place": PlacePrecision.PLACE_LABEL, "commune": PlacePrecision.COMMUNE}

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
// One lead's expansion is grouped, ordered and cut to its best candidates inside its own call:
// a place or a plate shared by thousands of leads (a busy deal point) then costs the memory of
// one lead's fan-out at a time, never the whole batch's (2,000 leads x that fan-out).
CALL (l, t) {{
  CALL (l) {{
  {_SHARED_BRANCHES}
  UNION
  MATCH (l)-[:AT]->(loc:Location) WHERE loc.point IS NOT NULL
  MATCH (near:Location) WHERE point.distance(near.point, loc.point) <= $radius AND near <> loc
  MATCH (near)<-[:AT]-(o:Lead)
  RETURN o, 'NEAR' AS via, point.distance(near.point, loc.point) AS distance
  }}
  WITH o, via, distance, coalesce(o.observed_at, o.reported_at) AS ot
  WHERE o <> l AND o.version > 0 AND t - $window <= ot <= t + $window
    AND (o.ingested_at < l.ingested_at OR (o.ingested_at = l.ingested_at AND o.lead_id < l.lead_id))
  WITH o, ot, collect(DISTINCT via) AS vias, min(distance) AS distance
  WITH o, vias, distance, abs(duration.inSeconds(ot, t).seconds) AS seconds_apart
  ORDER BY seconds_apart, o.lead_id
  LIMIT $per_lead
  RETURN collect({{other_id: o.lead_id, other_agency: o.agency, other_kind: o.kind, vias: vias,
                   distance: distance, seconds_apart: seconds_apart}}) AS candidates
}}
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
    graph: Graph,
    lead_ids: list[str],
    now: datetime,
    *,
    rules: TriageRules,
    connector: str | None = None,
    before_commit: Callable[[AfterIngestReport], None] | None = None,
) -> AfterIngestReport:
    """Triage freshly written leads: precision score, likely duplicates of earlier leads, status
    ``new`` with its arrival in the history (first time only), and a ``LinkAlert`` for every
    entity on which the batch makes leads of two agencies meet. One transaction of six queries
    whatever the batch size; idempotent (a replay rescores and raises no second alert).

    ``connector`` is recorded on the leads' status the first time (hit rates per connector).
    Notices for the agencies come from ``policies.links.notices_for`` on each ``LinkAlert``."""
    # Sorted: concurrent batches lock the statuses they share in the same order (no deadlock).
    ids = sorted(set(lead_ids))
    if not ids:
        return AfterIngestReport()
    now = utc(now) or datetime.now(UTC)

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
        alerts = raise_link_alerts(tx, ids, now)
        report = AfterIngestReport(
            scored=len(scores), scores={k: v[1].score for k, v in scores.items()},
            duplicates={k: v for k, v in duplicates.items() if v}, link_alerts=alerts)
        if before_commit:
            before_commit(report)
        return report

    return graph.write_once(work)





def _status_fields(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s.get(k) for k in ("assignee_agency", "unit", "outcome", "reason")}


def triage(graph: Graph, lead_id: str, access: AccessFilter, now: datetime, *,
           rules: TriageRules) -> TriageView:
    """The lead's precision score with its reasons, its likely duplicates (each as the caller may
    see it) and its status. A lead written before triage existed is scored on read."""

    def work(tx: neo4j.ManagedTransaction) -> TriageView:
        agency, level = lead_access(tx, lead_id, access)
        record = tx.run("MATCH (s:LeadStatus {lead_id: $id}) RETURN s {.*} AS s", id=lead_id).single()
        s = plain(record["s"]) if record else {}
        computed = not s.get("score_json")
        if computed:
            scores, dups = score_leads(tx, [lead_id], rules, utc(now) or datetime.now(UTC))
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

    return graph.read(work)
