"""Candidate pairs: two entities of one kind that may be one, found around seed entities by the
rules of policies/resolution.py, scored, with their evidence at the caller's level.

Seeds are the entities of the caller's readable leads of the last ``recent_days`` (or the
entities a caller — the bench — names). Each rule is one query over all seeds:

- ``alias``: two pseudonyms joined by a SAME_AS link a lead asserted, or sharing an alias;
- ``plate_variant``: the plates one confusable character from a seed's (graph/analysis/plates.py),
  looked up by key through the uniqueness index — never a scan;
- ``phones_together``: two numbers cited by the same readable leads, at least N of them;
- ``nearby_places``: places within the radius of a seed place (point index);
- ``copresence``: persons or vehicles cited by distinct readable leads at one place within the
  window, at several places, and never by one same lead (one lead citing both says they are two).

Content rules (alias, phones, co-presence: what a lead says of two entities) count only leads the
caller may read, with times they may read for co-presence. Key rules (plates, places) may pair a
seed with an entity the caller knows only as a hit, shown as a hit (``graph/resolution/sides``).
A side the caller may not even know of drops the pair; a pair needs one readable side. Pairs
judged "not the same", or merged, or awaiting countersignature, are left out (``listed``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import neo4j

from graph.access import AccessFilter
from graph.analysis import plates
from graph.read import level_params
from graph.resolution.judgements import annotation, pair_statuses
from graph.resolution.models import Candidate, CandidateList, Evidence
from graph.resolution.sides import Known, known_entities, pair_handle
from policies.resolution import (
    RULE_LABELS_FR,
    ResolutionRules,
    Rule,
    listed,
    pair_key,
    score,
)

# Other leads examined per (lead, place) for co-presence: a busy place is bounded, not scanned.
COPRESENCE_FANOUT = 200
SEED_LINKS = "MENTIONS_VEHICLE|INVOLVES|MENTIONS_PHONE|AT"


@dataclass
class _Found:
    count: int = 0
    details: list[str] = field(default_factory=list)
    leads: set[str] = field(default_factory=set)


def seed_entities(tx: neo4j.ManagedTransaction, access: AccessFilter, rules: ResolutionRules,
                  now: datetime) -> list[str]:
    """Element ids of the entities cited by the caller's readable leads reported since
    ``recent_days``, most recent first, at most ``max_seed_entities``."""
    record = tx.run(
        f"MATCH (l:Lead) WHERE l.reported_at >= $since AND l.version > 0 "
        f"WITH l, {access.case_expression} AS access WHERE access IN $an_visible "
        f"WITH l ORDER BY l.reported_at DESC "
        f"MATCH (l)-[:{SEED_LINKS}]->(ent) WHERE ent:Vehicle OR ent:Person OR ent:Phone OR ent:Location "
        f"WITH DISTINCT ent LIMIT $max RETURN collect(elementId(ent)) AS eids",
        since=now - timedelta(days=rules.recent_days), max=rules.max_seed_entities,
        **level_params(access)).single()
    return list(record["eids"]) if record else []


def _alias(tx, access, seeds, found) -> None:
    for r in tx.run(
        f"UNWIND $seeds AS eid MATCH (s:Person) WHERE elementId(s) = eid "
        f"CALL (s) {{ MATCH (s)-[r:SAME_AS]-(o:Person) RETURN o, [r.lead_id] AS links "
        f"  UNION MATCH (s)-[r1:SAME_AS]-(:Person)-[r2:SAME_AS]-(o:Person) WHERE o <> s "
        f"  RETURN o, [r1.lead_id, r2.lead_id] AS links }} "
        f"UNWIND links AS lid MATCH (l:Lead {{lead_id: lid}}) WHERE l.version > 0 "
        f"WITH s, o, links, l, {access.case_expression} AS access "
        # Every link of the chain must be readable: an alias is its lead's content.
        f"WITH s, o, links, collect(CASE WHEN access IN $an_visible THEN l.lead_id END) AS seen "
        f"WHERE size(seen) = size(links) "
        f"RETURN elementId(s) AS a, elementId(o) AS b, collect(DISTINCT seen) AS chains",
        seeds=seeds, **level_params(access)):
        item = found[(r["a"], r["b"])][Rule.ALIAS]
        item.count += len(r["chains"])
        item.leads.update(x for chain in r["chains"] for x in chain)


def _plate_variants(tx, seeds, found) -> None:
    keys = tx.run("UNWIND $seeds AS eid MATCH (s:Vehicle) WHERE elementId(s) = eid "
                  "RETURN eid, s.plate AS plate", seeds=seeds)
    rows = [{"seed": r["eid"], "plate": p, "why": why}
            for r in keys for p, why in plates.variants(r["plate"], "confusable").items()]
    for r in tx.run("UNWIND $rows AS row MATCH (v:Vehicle {plate: row.plate}) "
                    "RETURN row.seed AS a, elementId(v) AS b, row.why AS why", rows=rows):
        item = found[(r["a"], r["b"])][Rule.PLATE_VARIANT]
        item.count = 1
        item.details.append(r["why"])


def _phones_together(tx, access, rules, seeds, found) -> None:
    for r in tx.run(
        f"UNWIND $seeds AS eid MATCH (s:Phone) WHERE elementId(s) = eid "
        f"MATCH (s)<-[:MENTIONS_PHONE]-(l:Lead)-[:MENTIONS_PHONE]->(o:Phone) "
        f"WHERE o <> s AND l.version > 0 "
        f"WITH s, o, l, {access.case_expression} AS access WHERE access IN $an_visible "
        f"WITH s, o, collect(DISTINCT l.lead_id) AS leads WHERE size(leads) >= $min "
        f"RETURN elementId(s) AS a, elementId(o) AS b, leads",
        seeds=seeds, min=rules.phones_min_leads, **level_params(access)):
        item = found[(r["a"], r["b"])][Rule.PHONES_TOGETHER]
        item.count = len(r["leads"])
        item.leads.update(r["leads"])
        item.details.append(f"{len(r['leads'])} pistes")


def _nearby_places(tx, rules, seeds, found) -> None:
    for r in tx.run(
        "UNWIND $seeds AS eid MATCH (s:Location) WHERE elementId(s) = eid AND s.point IS NOT NULL "
        "WITH s, s.point AS here "
        "CALL (s, here) { MATCH (o:Location) WHERE point.distance(o.point, here) <= $radius "
        "  AND o <> s RETURN o, point.distance(o.point, here) AS d } "
        "RETURN elementId(s) AS a, elementId(o) AS b, toInteger(round(d)) AS d",
        seeds=seeds, radius=rules.nearby_radius_m):
        item = found[(r["a"], r["b"])][Rule.NEARBY_PLACES]
        item.count = 1
        item.details.append(f"{r['d']} m")


def _copresence(tx, access, rules, seeds, found) -> None:
    case = access.case_expression
    for r in tx.run(
        f"UNWIND $seeds AS eid MATCH (s) WHERE elementId(s) = eid AND (s:Person OR s:Vehicle) "
        f"MATCH (s)<-[:INVOLVES|MENTIONS_VEHICLE]-(l:Lead) WHERE l.version > 0 "
        f"WITH s, l, {case} AS access WHERE access IN $an_timed "
        f"WITH s, l AS l1, coalesce(l.observed_at, l.reported_at) AS t1 "
        f"MATCH (l1)-[:AT]->(loc:Location) "
        f"CALL (l1, loc, t1) {{ MATCH (loc)<-[:AT]-(l:Lead) WHERE l <> l1 AND l.version > 0 "
        f"  AND abs(duration.inSeconds(t1, coalesce(l.observed_at, l.reported_at)).seconds) <= $window "
        f"  RETURN l LIMIT {COPRESENCE_FANOUT} }} "
        f"WITH s, l1, loc, l, {case} AS access WHERE access IN $an_timed "
        f"MATCH (l)-[:INVOLVES|MENTIONS_VEHICLE]->(o) "
        f"WHERE o <> s AND labels(o) = labels(s) AND NOT (l1)-->(o) AND NOT (l)-->(s) "
        f"WITH s, o, collect(DISTINCT loc.key) AS places, "
        f"  collect(DISTINCT l1.lead_id) + collect(DISTINCT l.lead_id) AS leads "
        f"WHERE size(places) >= $min_places "
        f"RETURN elementId(s) AS a, elementId(o) AS b, size(places) AS n, leads",
        seeds=seeds, window=rules.copresence_window_min * 60,
        min_places=rules.copresence_min_places, **level_params(access)):
        item = found[(r["a"], r["b"])][Rule.COPRESENCE]
        item.count = r["n"]
        item.leads.update(r["leads"])
        item.details.append(f"{r['n']} lieux")


def raw_pairs(tx: neo4j.ManagedTransaction, access: AccessFilter, rules: ResolutionRules,
              seeds: list[str]) -> dict[tuple[str, str], dict[Rule, _Found]]:
    """(seed eid, other eid) → what each rule found (both orders may appear; merged later)."""
    found: dict[tuple[str, str], dict[Rule, _Found]] = defaultdict(lambda: defaultdict(_Found))
    _alias(tx, access, seeds, found)
    _plate_variants(tx, seeds, found)
    _phones_together(tx, access, rules, seeds, found)
    _nearby_places(tx, rules, seeds, found)
    _copresence(tx, access, rules, seeds, found)
    return found


def find_candidates(tx: neo4j.ManagedTransaction, access: AccessFilter, rules: ResolutionRules,
                    seeds: list[str], *, viewer_agency: str | None = None) -> CandidateList:
    """Candidate pairs around ``seeds``, best first, at the caller's level."""
    found = raw_pairs(tx, access, rules, seeds)
    known = known_entities(tx, access, [e for pair in found for e in pair],
                           rules.max_evidence_leads)
    pairs: dict[str, tuple[Known, Known, dict[Rule, _Found]]] = {}
    for (a_eid, b_eid), by_rule in found.items():
        a, b = known.get(a_eid), known.get(b_eid)
        if a is None or b is None or not (a.readable or b.readable):
            continue  # a side the caller may not know of, or nothing readable: no pair
        key = pair_key(a.entity, b.entity)
        if key in pairs:  # found from both seeds: the same evidence, keep the first
            continue
        first, second = (a, b) if a.entity < b.entity else (b, a)
        pairs[key] = (first, second, by_rule)
    statuses = pair_statuses(tx, list(pairs))
    out: list[Candidate] = []
    for key, (a, b, by_rule) in pairs.items():
        status = statuses.get(key)
        if status is not None and (status.ever_not_same or not listed(status.verdict, status.state)):
            continue
        pieces = [rule for rule, item in by_rule.items() for _ in range(max(item.count, 1))]
        value = score(pieces, rules)
        if value < rules.min_score:
            continue
        evidence = [Evidence(
            rule=rule.value, label=RULE_LABELS_FR[rule],
            # A misread or a distance to a hit side would spell out its key: left out.
            detail=(", ".join(dict.fromkeys(item.details)) or None) if a.readable and b.readable
            else None, weight_count=max(item.count, 1),
            lead_ids=sorted(item.leads)[: rules.max_evidence_leads]
            or sorted(set(a.readable_ids) | set(b.readable_ids))[: rules.max_evidence_leads],
            hits=[] if item.leads else [h for side in (a, b) if not side.readable
                                        for h in side.side(access).hits],
        ) for rule, item in sorted(by_rule.items())]
        out.append(Candidate(pair=pair_handle(access, key), kind=a.kind, a=a.side(access),
                             b=b.side(access), score=value, evidence=evidence,
                             annotation=annotation(status, viewer_agency) if status else None))
    out.sort(key=lambda c: (-c.score, c.kind, c.pair))
    return CandidateList(candidates=out[: rules.max_candidates], seeds=len(seeds),
                         truncated=len(out) > rules.max_candidates)
