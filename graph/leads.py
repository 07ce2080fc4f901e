"""Writing leads into the graph: version ordering, entity resolution and linking.

Every statement is UNWIND-batched over a chunk of leads, so a chunk costs a fixed number of round
trips (about ten) whatever its size, inside one write transaction: a chunk lands whole or not at
all.

Linking rules (documented in graph/README.md):
- one Vehicle per normalized plate; one Person per pseudonym (aliases under earlier linkage keys
  become Person nodes joined by SAME_AS); one Phone per E.164 number; one Substance per code;
  one DealPoint per (commune, place key);
- one Location per address key (commune + folded address), else per place label, else per point:
  a point joins the nearest Location within ``radius_m`` metres (documented default 50 m), else
  starts a new one; a lead with only a commune links to that commune's ``commune:`` Location;
- a lead's links are replaced when a newer version arrives; entities stay (retention purges
  orphans);
- every relationship carries ``agency`` and ``lead_id``: which agency's lead asserted it.

Concurrent writers (several hub workers or processes on one graph): every statement that merges
or writes shared nodes runs over rows sorted by key, and a node that exists already is written
only when something changes on it (a Location's missing point), so two writers take their locks
in one order and never deadlock; a chunk the driver still has to retry is counted
(``transient_retries``) and logged.

Identity (ADR 0007): a lead is merged on its internal ``source_key`` (``<agency>|<source_ref>``,
unique, never projected to a caller); its public ``lead_id`` is opaque (``L-`` + a random UUID),
set by Cypher when the node is created and never changed, so a new version keeps it. Everything
that stores a lead id (relationships, seizure ids) takes it from ``l.lead_id`` in the query.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import neo4j

from graph.handle import Graph
from graph.labels import Label, Rel
from graph.locations import resolve_locations, write_locations
from graph.models import WriteResult
from graph.records import utc_text
from hub.contract.lead import ItemOutcome, Lead
from hub.contract.normalize import place_key


def payload_hash(lead: Lead) -> str:
    """Content hash of a lead version: a replay with the same hash is a no-op."""
    canonical = json.dumps(lead.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Written leads wait under this label for triage (scoring, duplicates, cross-agency links), set
# in the same transaction as the write so a crash cannot lose it; graph/workflow/pending.py drains it.
TRIAGE_PENDING = "TriagePending"

# The public id of a lead new to the graph: opaque, assigned once (Cypher, on create).
NEW_LEAD_ID = "'L-' + randomUUID()"

log = logging.getLogger(__name__)

# Chunks the driver had to retry after a transient error (a deadlock above all: concurrent
# writers are meant never to meet one), counted per process by the error's short code so a
# benchmark or a test can observe them, and each logged as a warning starting with this mark.
RETRY_LOG_MARK = "ingest chunk retried after a transient error"
_retries: Counter[str] = Counter()
_retries_lock = threading.Lock()


def transient_retries() -> dict[str, int]:
    """Retried chunks since the process started, by short error code (``DeadlockDetected``…)."""
    with _retries_lock:
        return dict(_retries)


def write_leads(
    graph: Graph,
    leads: list[Lead],
    *,
    radius_m: float = 50.0,
    chunk_size: int = 2000,
    pushed_by: str | None = None,
    mark_for_triage: bool = False,
    entered_by: str | None = None,
) -> list[WriteResult]:
    """Write leads (already validated) and return one result per input, in input order.
    ``pushed_by`` (the connector) is kept on each lead for per-connector hit rates;
    ``entered_by`` (the person who entered it through the intake connector) is its provenance;
    ``mark_for_triage`` queues the written leads for the hub's triage worker (ingest does)."""
    results: list[WriteResult] = []
    with graph.session() as session:
        for start in range(0, len(leads), chunk_size):
            chunk = leads[start : start + chunk_size]
            failed: list[str] = []
            results.extend(session.execute_write(_attempt, failed, chunk, radius_m, pushed_by,
                                                 mark_for_triage, entered_by))
            for code in failed:  # each failure was retried, since the chunk went through
                log.warning("%s (%s)", RETRY_LOG_MARK, code)
                with _retries_lock:
                    _retries[code] += 1
    return results


def _attempt(tx: neo4j.ManagedTransaction, failed: list[str], *args: Any) -> list[WriteResult]:
    """One attempt at a chunk; notes the transient error that makes the driver retry it."""
    try:
        return _write_chunk(tx, *args)
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
        if exc.is_retryable():
            code = getattr(exc, "code", None) or type(exc).__name__
            failed.append(code.rsplit(".", 1)[-1])
        raise


# --- classification ------------------------------------------------------------------------------


def _write_chunk(tx: neo4j.ManagedTransaction, chunk: list[Lead], radius_m: float,
                 pushed_by: str | None = None, mark_for_triage: bool = False,
                 entered_by: str | None = None) -> list[WriteResult]:
    hashes = [payload_hash(lead) for lead in chunk]
    # MERGE + SET write-locks each lead until commit, so two concurrent batches carrying the
    # same lead are classified one after the other and an older version never overwrites a
    # newer one. A lead new to the graph gets version 0 until its row is written below.
    # Merged on the internal source key; the public id is drawn on create only.
    held: dict[str, tuple[int, str]] = {}
    public: dict[str, str] = {}
    for r in tx.run(
        "UNWIND $keys AS key MERGE (l:Lead {source_key: key}) "
        f"ON CREATE SET l.version = 0, l.lead_id = {NEW_LEAD_ID} "
        "SET l.last_received_at = $now "
        "RETURN key, l.lead_id AS lead_id, l.version AS version, l.payload_hash AS hash",
        # Sorted: concurrent writers creating new leads take the key locks in one order.
        keys=sorted({lead.source_key for lead in chunk}),
        now=datetime.now(UTC),
    ):
        public[r["key"]] = r["lead_id"]
        if r["version"] > 0:
            held[r["key"]] = (r["version"], r["hash"])
    # Items are classified in order, as if sent one by one: a later item of the same lead sees
    # the earlier one as held. Only each lead's final winner is written. One result per item,
    # so results[i] answers chunk[i].
    results: list[WriteResult] = []
    winners: dict[str, int] = {}
    for lead, h in zip(chunk, hashes, strict=True):
        key, lead_id = lead.source_key, public[lead.source_key]
        current = held.get(key)
        if current is None:
            outcome, held_version = ItemOutcome.CREATED, None
        elif lead.version > current[0]:
            outcome, held_version = ItemOutcome.UPDATED, current[0]
        elif lead.version == current[0]:
            if h == current[1]:
                results.append(WriteResult(lead_id=lead_id, outcome=ItemOutcome.UNCHANGED,
                                           version=lead.version, held_version=current[0]))
                continue
            results.append(WriteResult(
                lead_id=lead_id, outcome=ItemOutcome.REJECTED, version=lead.version,
                held_version=current[0],
                reason=f"la version {lead.version} est déjà détenue avec un contenu différent : "
                       "incrémenter version pour la modifier"))
            continue
        else:
            results.append(WriteResult(lead_id=lead_id, outcome=ItemOutcome.STALE,
                                       version=lead.version, held_version=current[0]))
            continue
        held[key] = (lead.version, h)
        winners[key] = len(results)
        results.append(WriteResult(lead_id=lead_id, outcome=outcome, version=lead.version,
                                   held_version=held_version))
    to_write = [(chunk[i], hashes[i], results[i].outcome is ItemOutcome.UPDATED)
                for i in winners.values()]
    if to_write:
        _write(tx, to_write, radius_m, pushed_by, mark_for_triage, entered_by)
    return results


# --- the writes ----------------------------------------------------------------------------------


def _write(tx: neo4j.ManagedTransaction, items: list[tuple[Lead, str, bool]], radius_m: float,
           pushed_by: str | None = None, mark_for_triage: bool = False,
           entered_by: str | None = None) -> None:
    now = datetime.now(UTC)
    lead_rows = [_lead_row(lead, h, now) for lead, h, _ in items]
    updated_keys = [lead.source_key for lead, _, is_update in items if is_update]

    if updated_keys:
        # A newer version asserts its links afresh: drop the old ones (and the old seizure).
        tx.run(
            "UNWIND $keys AS key MATCH (l:Lead {source_key: key}) "
            "CALL (l) { OPTIONAL MATCH (l)-[:RECORDED]->(s:Seizure) DETACH DELETE s } "
            "CALL (l) { MATCH (l)-[r]->() WHERE type(r) <> 'PROVIDED_BY' DELETE r }",
            keys=updated_keys,
        ).consume()
    # The lead nodes exist already (locked by the classification query). A handful of agencies:
    # matched once per row through the uniqueness index, created beforehand if new.
    tx.run("UNWIND $codes AS code MERGE (:Agency {code: code})",
           codes=sorted({row["agency"] for row in lead_rows})).consume()
    tx.run(
        "UNWIND $rows AS row "
        "MATCH (l:Lead {source_key: row.sk}) "
        "SET l += row.props, l.updated_at = $now, "
        + "".join(f"l.{name} = datetime(row.props.{name}), " for name in _INSTANTS) +
        "    l.ingested_at = coalesce(l.ingested_at, $now), "
        "    l.pushed_by = coalesce(l.pushed_by, $pushed_by), "
        # Provenance: who entered this version (intake connector), never projected to readers.
        "    l.entered_by = $entered_by "
        f"FOREACH (_ IN CASE WHEN $mark THEN [1] ELSE [] END | SET l:{TRIAGE_PENDING}) "
        "WITH l, row WHERE NOT (l)-[:PROVIDED_BY]->() "
        "MATCH (a:Agency {code: row.agency}) "
        "CREATE (l)-[:PROVIDED_BY]->(a)",
        rows=lead_rows,
        now=now,
        pushed_by=pushed_by,
        entered_by=entered_by,
        mark=mark_for_triage,
    ).consume()

    leads = [lead for lead, _, _ in items]
    location_keys = resolve_locations(tx, leads, radius_m)
    write_locations(tx, leads, location_keys)

    _link_entities(tx, Label.VEHICLE, "plate", Rel.MENTIONS_VEHICLE, [
        {"sk": lead.source_key, "key": v.plate,
         "rel": {"agency": lead.source_agency.value, "make": v.make,
                 "model": v.model, "colour": v.colour, "kind": v.kind}}
        for lead in leads for v in lead.vehicles if v.plate
    ])
    _link_entities(tx, Label.PHONE, "number", Rel.MENTIONS_PHONE, [
        {"sk": lead.source_key, "key": phone,
         "rel": {"agency": lead.source_agency.value}}
        for lead in leads for phone in lead.phones
    ])
    _link_entities(tx, Label.PERSON, "pseudonym", Rel.INVOLVES, [
        {"sk": lead.source_key, "key": p.pseudonym,
         "rel": {"agency": lead.source_agency.value,
                 "role": p.role.value, **_description(p)}}
        for lead in leads for p in lead.persons
    ])
    _link_entities(tx, Label.SUBSTANCE, "code", Rel.REPORTS_SUBSTANCE, [
        {"sk": lead.source_key, "key": s.value,
         "rel": {"agency": lead.source_agency.value}}
        for lead in leads for s in set(lead.substances)
    ])
    _link_entities(tx, Label.DEAL_POINT, "key", Rel.CONCERNS, [
        {"sk": lead.source_key,
         "key": f"{lead.deal_point.insee_code}:{place_key(lead.deal_point.label)}",
         "rel": {"agency": lead.source_agency.value},
         "props": {"label": lead.deal_point.label, "insee_code": lead.deal_point.insee_code}}
        for lead in leads if lead.deal_point
    ])
    alias_rows = sorted((  # by the merged key (see _link_entities)
        {"key": p.pseudonym, "alias": alias, "agency": lead.source_agency.value,
         "sk": lead.source_key}
        for lead in leads for p in lead.persons for alias in p.aliases
    ), key=lambda row: (row["alias"], row["key"], row["sk"]))
    if alias_rows:
        tx.run(
            "UNWIND $rows AS row "
            "MATCH (l:Lead {source_key: row.sk}) "
            "MATCH (p:Person {pseudonym: row.key}) "
            "MERGE (a:Person {pseudonym: row.alias}) "
            "MERGE (p)-[r:SAME_AS]->(a) "
            "ON CREATE SET r.agency = row.agency, r.lead_id = l.lead_id",
            rows=alias_rows,
        ).consume()
    _write_seizures(tx, leads, location_keys)


# The lead properties that are instants: sent as UTC ISO text (``utc_text``), made DateTimes by
# the server.
_INSTANTS = ("observed_at", "reported_at", "embargo_until")


def _lead_row(lead: Lead, h: str, now: datetime) -> dict[str, Any]:
    loc = lead.location
    unplated = [v.model_dump(mode="json", exclude_none=True) for v in lead.vehicles if not v.plate]
    props: dict[str, Any] = {
        "agency": lead.source_agency.value,
        "source_ref": lead.source_ref,
        "version": lead.version,
        "schema_version": lead.schema_version,
        "kind": lead.kind.value,
        "channel": lead.channel.value,
        "observed_at": utc_text(lead.observed_at),
        "reported_at": utc_text(lead.reported_at),
        "narrative": lead.narrative,
        "handling_code": lead.handling_code.value,
        "source_reliability": lead.source_reliability.value,
        "information_credibility": lead.information_credibility.value,
        "restricted_to": [a.value for a in lead.restricted_to],
        "embargo_until": utc_text(lead.embargo_until),
        "substances": sorted({s.value for s in lead.substances}),
        "insee_code": loc.insee_code if loc else None,
        "departement": loc.departement if loc else None,
        "unplated_vehicles": json.dumps(unplated, ensure_ascii=False) if unplated else None,
        "payload_hash": h,
    }
    return {"sk": lead.source_key, "agency": lead.source_agency.value, "props": props}


def _description(p: Any) -> dict[str, Any]:
    if p.description is None:
        return {}
    d = p.description
    return {k: v for k, v in {
        "sex": d.sex, "apparent_age_min": d.apparent_age_min, "apparent_age_max": d.apparent_age_max,
        "height_cm": d.height_cm, "build": d.build, "clothing": d.clothing,
        "distinctive_marks": d.distinctive_marks,
    }.items() if v is not None}


def _link_entities(tx: neo4j.ManagedTransaction, label: Label, key: str, rel: Rel,
                   rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    # Sorted by entity key: concurrent writers merging the same new entities lock their keys in
    # one order, so neither waits on the other in a cycle (a deadlock, rolled back and retried).
    rows.sort(key=lambda row: (row["key"], row["sk"]))
    # label, key and rel come from the allow-list enums, never from input.
    tx.run(
        f"UNWIND $rows AS row "
        f"MATCH (l:Lead {{source_key: row.sk}}) "
        f"MERGE (e:{label.value} {{{key}: row.key}}) "
        f"ON CREATE SET e += coalesce(row.props, {{}}) "
        f"CREATE (l)-[r:{rel.value}]->(e) SET r = row.rel, r.lead_id = l.lead_id",
        rows=[{**row, "rel": {k: v for k, v in row["rel"].items() if v is not None}} for row in rows],
    ).consume()


# --- seizures ------------------------------------------------------------------------------------


def _write_seizures(tx: neo4j.ManagedTransaction, leads: Iterable[Lead], keys: dict[str, str]) -> None:
    rows, substance_rows = [], []
    for lead in leads:
        s = lead.seizure
        if s is None:
            continue
        rows.append({
            "sk": lead.source_key, "agency": lead.source_agency.value,
            "location_key": keys.get(lead.source_key),
            "props": {
                "cash_eur": float(s.cash_eur) if s.cash_eur is not None else None,
                "weapons": json.dumps([w.model_dump(mode="json") for w in s.weapons]) if s.weapons else None,
                "weapon_count": sum(w.count for w in s.weapons),
                "packaging_material": s.packaging_material,
                "packaging": json.dumps([p.model_dump(mode="json") for p in s.packaging]) if s.packaging else None,
                "seized_at": utc_text(lead.observed_at or lead.reported_at),
                "agency": lead.source_agency.value,
            },
        })
        for q in s.substances:
            substance_rows.append({
                "sk": lead.source_key, "code": q.substance.value,
                "rel": {"agency": lead.source_agency.value,
                        "quantity": float(q.quantity) if q.quantity is not None else None,
                        "unit": q.unit if q.quantity is not None else None},
            })
    if not rows:
        return
    rows.sort(key=lambda row: (row["location_key"] or "", row["sk"]))
    tx.run(
        "UNWIND $rows AS row "
        "MATCH (l:Lead {source_key: row.sk}) "
        # The seizure is named after the lead's public id (``<lead_id>:seizure``).
        "CREATE (s:Seizure {seizure_id: l.lead_id + ':seizure'}) "
        "SET s += row.props, s.seized_at = datetime(row.props.seized_at) "
        "CREATE (l)-[:RECORDED {agency: row.agency, lead_id: l.lead_id}]->(s) "
        "WITH l, s, row WHERE row.location_key IS NOT NULL "
        "MATCH (loc:Location {key: row.location_key}) "
        "CREATE (s)-[:AT {agency: row.agency, lead_id: l.lead_id}]->(loc)",
        rows=rows,
    ).consume()
    if substance_rows:
        tx.run(
            "UNWIND $rows AS row "
            "MATCH (l:Lead {source_key: row.sk})-[:RECORDED]->(s:Seizure) "
            "MERGE (sub:Substance {code: row.code}) "
            "CREATE (s)-[r:OF_SUBSTANCE]->(sub) SET r = row.rel, r.lead_id = l.lead_id",
            rows=[{**r, "rel": {k: v for k, v in r["rel"].items() if v is not None}}
                  for r in sorted(substance_rows, key=lambda r: (r["code"], r["sk"]))],
        ).consume()


# --- identity lookups ----------------------------------------------------------------------------


def public_lead_ids(graph: Graph, source_keys: list[str]) -> dict[str, str]:
    """``source_key`` (``<agency>|<source_ref>``) → public ``lead_id`` of the leads that exist
    among them. For the hub's own tools (CLI, tests), never an API answer: it is how someone who
    already holds the source reference finds the opaque id."""
    keys = list(dict.fromkeys(source_keys))
    return graph.read(lambda tx: {r["key"]: r["lead_id"] for r in tx.run(
        "UNWIND $keys AS key MATCH (l:Lead {source_key: key}) WHERE l.version > 0 "
        "RETURN key, l.lead_id AS lead_id",
        keys=keys,
    )})


def lead_aliases(graph: Graph, lead_id: str) -> list[str]:
    """Every id the lead named ``lead_id`` is known by — its public id and, for a lead migrated
    from schema 1, its old ``<agency>:<source_ref>`` id (ADR 0007) — given either one; an audit
    entry written before the migration names the old one. Auditors only: never an API answer."""
    rows = graph.query(
        "MATCH (l:Lead {lead_id: $id}) RETURN l.lead_id AS public, l.legacy_lead_id AS legacy "
        "UNION MATCH (l:Lead {legacy_lead_id: $id}) RETURN l.lead_id AS public, "
        "l.legacy_lead_id AS legacy", id=lead_id, read_=True)
    found = [v for r in rows for v in (r["public"], r["legacy"]) if v]
    return list(dict.fromkeys([lead_id, *found]))

