"""Schema migration 2 (ADR 0007) on a graph written the old way: public lead ids were
``<agency>:<source_ref>`` and were copied into relationships, seizure ids and bookkeeping nodes.
After the migration every lead has an opaque id, its internal ``source_key`` and its old id as
``legacy_lead_id``; no stored value but ``legacy_lead_id`` still holds an old id; ingest then
updates the migrated lead (same public id); and the migration is idempotent."""

from __future__ import annotations

import re

import pytest

from graph.access import LEAD_PROPERTIES, AccessFilter
from graph.handle import Graph
from graph.leads import write_leads
from graph.read import get_lead
from graph.schema import CURRENT_VERSION, SCHEMA_NAME
from graph.setup import apply_schema
from hub.contract.lead import Lead
from tests.factories import lead, pseudonym

pytestmark = pytest.mark.usefixtures("clean_graph")

OLD_P = "police:PN-OLD-1"
OLD_G = "gendarmerie:GN:2025/7"  # a source reference holding ':' and '/'
GONE = "police:PN-PURGED"  # a lead purged before the migration: nothing to map it to
X, Y = pseudonym("Martin", "Old"), pseudonym("Martin", "Alias")

OLD_GRAPH = """
CREATE (pa:Agency {code: 'police'}), (ga:Agency {code: 'gendarmerie'})
CREATE (p:Lead {lead_id: $p, agency: 'police', source_ref: 'PN-OLD-1', version: 1, kind: 'seizure',
                channel: 'patrol', handling_code: 'H1', narrative: 'Récit ancien.', payload_hash: 'h1',
                reported_at: datetime('2025-07-29T06:00:00Z'), restricted_to: []})-[:PROVIDED_BY]->(pa)
CREATE (g:Lead {lead_id: $g, agency: 'gendarmerie', source_ref: 'GN:2025/7', version: 1,
                kind: 'field_intelligence', channel: 'patrol', handling_code: 'H0', payload_hash: 'h2',
                reported_at: datetime('2025-07-30T06:00:00Z'), restricted_to: []})-[:PROVIDED_BY]->(ga)
CREATE (v:Vehicle {plate: 'AB-123-CD'})
CREATE (p)-[:MENTIONS_VEHICLE {agency: 'police', lead_id: $p}]->(v)
CREATE (g)-[:MENTIONS_VEHICLE {agency: 'gendarmerie', lead_id: $g}]->(v)
CREATE (s:Seizure {seizure_id: $p + ':seizure', agency: 'police'})
CREATE (p)-[:RECORDED {agency: 'police', lead_id: $p}]->(s)
CREATE (c:Substance {code: 'cocaine'})
CREATE (s)-[:OF_SUBSTANCE {agency: 'police', lead_id: $p, quantity: 12.0, unit: 'g'}]->(c)
CREATE (x:Person {pseudonym: $x}), (y:Person {pseudonym: $y})
CREATE (x)-[:SAME_AS {agency: 'gendarmerie', lead_id: $g}]->(y)
CREATE (:LeadStatus {lead_id: $p, state: 'under_assessment', seq: 1})
CREATE (:StatusChange {change_id: $p + '#0', lead_id: $p, seq: 0, to_state: 'new'})
CREATE (:StatusChange {change_id: $p + '#1', lead_id: $p, seq: 1, to_state: 'under_assessment'})
CREATE (:GuestGrant {grant_id: 'gg-old', grantee_user_id: 'prefecture:invite',
                     lead_ids: [$p, $gone], entity_keys: ['seizure:' + $p + ':seizure', 'vehicle:AB-123-CD']})
CREATE (:DisclosureRequest {request_id: 'dr-old', lead_id: $p, owner_agency: 'police',
                            requester_user_id: 'gendarmerie:x', status: 'requested',
                            pending_key: 'gendarmerie:x|' + $p})
CREATE (:DisclosureRequest {request_id: 'dr-done', lead_id: $g, owner_agency: 'gendarmerie',
                            requester_user_id: 'douanes:y', status: 'approved'})
CREATE (:LinkAlert {alert_id: 'la-old', entity_key: 'vehicle:AB-123-CD', lead_ids: [$g, $p],
                    new_lead_ids: [$g]})
CREATE (:Notification {notification_id: 'nt-old', agency: 'police', kind: 'disclosure_requested',
                       payload_lead_id: $p, payload_request_id: 'dr-old',
                       message: 'X (gendarmerie) demande la communication de votre piste ' + $p + '. Motif : PV'})
CREATE (:Operation {operation_id: 'op-old', agency: 'police',
                    targets: ['seizure:' + $p + ':seizure', 'vehicle:AB-123-CD']})
CREATE (:DeconflictionAlert {alert_id: 'dc-old', shared_targets: ['seizure:' + $p + ':seizure']})
CREATE (:Meeting {meeting_id: 'mt-old'})-[:DECIDED]->(a:Action {action_id: 'ac-old'})
CREATE (a)-[:ABOUT]->(p)
MERGE (sv:SchemaVersion {name: $schema}) SET sv.version = 1
"""


def _old_graph(driver) -> None:
    # The schema of version 1 exists (its constraints; a fresh test server has none yet), then
    # the data as version 1 wrote it.
    apply_schema(Graph(driver, "neo4j"))
    driver.execute_query(OLD_GRAPH, p=OLD_P, g=OLD_G, gone=GONE, x=X, y=Y, schema=SCHEMA_NAME)


def _everything(driver) -> list[tuple[str, str, object]]:
    """Every stored (owner, property, value) but ``legacy_lead_id``."""
    nodes = driver.execute_query(
        "MATCH (n) WHERE NOT n:SchemaVersion RETURN labels(n)[0] AS owner, properties(n) AS props"
    ).records
    rels = driver.execute_query(
        "MATCH ()-[r]->() RETURN type(r) AS owner, properties(r) AS props").records
    return [(r["owner"], k, v) for r in [*nodes, *rels] for k, v in r["props"].items()
            if k != "legacy_lead_id"]


def _leads(driver) -> dict[str, dict]:
    rows = driver.execute_query(
        "MATCH (l:Lead) RETURN l.legacy_lead_id AS old, l {.lead_id, .source_key} AS l").records
    return {r["old"]: r["l"] for r in rows}


def test_migration_gives_opaque_ids_and_rewrites_every_stored_reference(driver):
    _old_graph(driver)
    assert apply_schema(Graph(driver, "neo4j")) == CURRENT_VERSION

    leads = _leads(driver)
    assert set(leads) == {OLD_P, OLD_G}
    p, g = leads[OLD_P]["lead_id"], leads[OLD_G]["lead_id"]
    assert re.fullmatch(r"L-[0-9a-f-]{36}", p) and re.fullmatch(r"L-[0-9a-f-]{36}", g) and p != g
    assert leads[OLD_P]["source_key"] == "police|PN-OLD-1"
    assert leads[OLD_G]["source_key"] == "gendarmerie|GN:2025/7"
    # Neither the internal key nor the old id is a property a read may return.
    assert "source_key" not in LEAD_PROPERTIES and "legacy_lead_id" not in LEAD_PROPERTIES

    # No stored value names an old id any more (the purged lead's id stays: nothing maps it).
    stale = [(o, k, v) for o, k, v in _everything(driver)
             if any(old in str(v) for old in (OLD_P, OLD_G))]
    assert stale == []

    def one(query: str, **params):
        return driver.execute_query(query, **params).records[0][0]

    assert one("MATCH (:Lead {lead_id: $p})-[r:MENTIONS_VEHICLE]->() RETURN r.lead_id", p=p) == p
    assert one("MATCH (s:Seizure) RETURN s.seizure_id") == f"{p}:seizure"
    assert one("MATCH (:Seizure)-[r:OF_SUBSTANCE]->() RETURN r.lead_id") == p
    assert one("MATCH ()-[r:SAME_AS]->() RETURN r.lead_id") == g
    assert one("MATCH (s:LeadStatus) RETURN s.lead_id") == p
    assert one("MATCH (c:StatusChange) RETURN collect(c.change_id)") == [f"{p}#0", f"{p}#1"] or \
        sorted(one("MATCH (c:StatusChange) RETURN collect(c.change_id)")) == [f"{p}#0", f"{p}#1"]
    assert one("MATCH (c:StatusChange) RETURN collect(DISTINCT c.lead_id)") == [p]
    grant = one("MATCH (x:GuestGrant) RETURN x {.lead_ids, .entity_keys}")
    assert grant == {"lead_ids": [p, GONE], "entity_keys": [f"seizure:{p}:seizure", "vehicle:AB-123-CD"]}
    req = one("MATCH (r:DisclosureRequest {request_id: 'dr-old'}) RETURN r {.lead_id, .pending_key}")
    assert req == {"lead_id": p, "pending_key": f"gendarmerie:x|{p}"}
    assert one("MATCH (r:DisclosureRequest {request_id: 'dr-done'}) RETURN r.lead_id") == g
    alert = one("MATCH (a:LinkAlert) RETURN a {.lead_ids, .new_lead_ids}")
    assert alert == {"lead_ids": [g, p], "new_lead_ids": [g]}
    note = one("MATCH (n:Notification) RETURN n {.payload_lead_id, .message}")
    assert note["payload_lead_id"] == p and note["message"].endswith(f"votre piste {p}. Motif : PV")
    assert one("MATCH (o:Operation) RETURN o.targets") == [f"seizure:{p}:seizure", "vehicle:AB-123-CD"]
    assert one("MATCH (d:DeconflictionAlert) RETURN d.shared_targets") == [f"seizure:{p}:seizure"]
    assert one("MATCH (:Action)-[:ABOUT]->(l:Lead) RETURN l.lead_id") == p

    # The migrated lead reads under its new id, its old one is unknown.
    view = get_lead(Graph(driver, "neo4j"), p, AccessFilter.unrestricted())
    assert view.lead_id == p and view.source_ref == "PN-OLD-1" and view.seizure.seizure_id == f"{p}:seizure"

    # Idempotent: run again from version 1, nothing changes.
    before = sorted(map(repr, _everything(driver)))
    driver.execute_query("MATCH (s:SchemaVersion {name: $n}) SET s.version = 1", n=SCHEMA_NAME)
    apply_schema(Graph(driver, "neo4j"))
    assert sorted(map(repr, _everything(driver))) == before
    assert _leads(driver)[OLD_P]["lead_id"] == p


def test_ingest_after_migration_updates_the_migrated_lead_under_its_id(driver):
    _old_graph(driver)
    apply_schema(Graph(driver, "neo4j"))
    p = _leads(driver)[OLD_P]["lead_id"]
    v2 = Lead.model_validate(lead(source_ref="PN-OLD-1", version=2, kind="field_intelligence",
                                  vehicles=[{"plate": "EF-456-GH"}]))
    [result] = write_leads(Graph(driver, "neo4j"), [v2])
    assert result.outcome.value == "updated" and result.held_version == 1 and result.lead_id == p
    assert driver.execute_query("MATCH (l:Lead {source_key: 'police|PN-OLD-1'}) RETURN count(l) AS n"
                                ).records[0]["n"] == 1
    rel = driver.execute_query(
        "MATCH (:Lead {lead_id: $p})-[r:MENTIONS_VEHICLE]->(v) RETURN v.plate AS plate, r.lead_id AS id",
        p=p).records
    assert [(r["plate"], r["id"]) for r in rel] == [("EF-456-GH", p)]


def test_hubs_starting_together_on_an_unmigrated_graph_all_start(clean: Graph) -> None:
    """Several hub processes (here threads, each with the same driver's sessions, as separate
    processes would have their own) migrate a bare graph at once: every one of them must come up
    with the schema in force — a deadlock between two identical idempotent statements is retried,
    never a failed start."""
    import threading

    for record in clean.query("SHOW CONSTRAINTS YIELD name RETURN name"):
        clean.query(f"DROP CONSTRAINT `{record['name']}` IF EXISTS")
    for record in clean.query("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"):
        clean.query(f"DROP INDEX `{record['name']}` IF EXISTS")
    clean.query("MATCH (s:SchemaVersion) DELETE s")
    assert not clean.query("SHOW CONSTRAINTS YIELD name RETURN name")

    outcomes: list[object] = []

    def start() -> None:
        try:
            outcomes.append(apply_schema(clean))
        except Exception as exc:  # noqa: BLE001 — the test reports what a hub would die of
            outcomes.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == [CURRENT_VERSION] * 3, [getattr(o, "code", o) for o in outcomes]
    names = {r["name"] for r in clean.query("SHOW CONSTRAINTS YIELD name RETURN name")}
    assert names, "no constraint re-created"
    version = clean.query("MATCH (s:SchemaVersion {name: $n}) RETURN s.version AS v", n=SCHEMA_NAME)
    assert version[0]["v"] == CURRENT_VERSION
