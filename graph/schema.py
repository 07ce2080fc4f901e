"""Schema migrations: uniqueness constraints on every MERGE key, lookup indexes, and the schema
version recorded in the graph. Applied idempotently at start-up (``graph.setup.apply_schema``,
which also registers every module's own constraints and indexes).

Each migration is a list of idempotent statements (``IF NOT EXISTS``, or data rewrites that
skip what is already done); the version node records the highest applied, so a newer hub adds
what is missing and an older hub refuses a newer graph. Statements run in auto-commit
transactions, so a data rewrite batches itself with ``CALL { … } IN TRANSACTIONS``: a migration
interrupted half-way keeps what it committed and finishes at the next start-up.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import neo4j
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from graph.handle import Graph
from graph.labels import KEY_PROPERTY, Label
from hub.contract.errors import ConfigurationError

log = logging.getLogger(__name__)

SCHEMA_NAME = "crosshub"


def unique_constraint(label: Label) -> str:
    """The uniqueness constraint on a label's MERGE key; one name per label, so a module
    declaring it again in its SCHEMA is the same constraint."""
    prop = KEY_PROPERTY[label]
    name = f"{label.value.lower()}_{prop}_unique"
    return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label.value}) REQUIRE n.{prop} IS UNIQUE"


# --- migration 2: opaque public lead ids (ADR 0007) -------------------------------------------------
#
# Before: ``Lead.lead_id`` = ``<agency>:<source_ref>``, copied onto every relationship the lead
# asserted, into its seizure's id (``<lead_id>:seizure``) and into bookkeeping nodes. After: the
# lead is keyed internally by ``source_key`` = ``<agency>|<source_ref>`` (never projected), its
# public ``lead_id`` is ``L-<uuid>``, and the old id stays on the lead as ``legacy_lead_id`` (never
# projected) so audit entries written before stay joinable. Every statement only touches values
# still in the old form, so each is idempotent.

# An old id (or any value) → the lead's new public id when a migrated lead had it, else unchanged.
def _new_id(value: str) -> str:
    return f"coalesce(COLLECT {{ MATCH (m_:Lead {{legacy_lead_id: {value}}}) RETURN m_.lead_id }}[0], {value})"


def _new_entity_key(value: str) -> str:
    # Only seizure keys embed a lead id: ``seizure:<lead_id>:seizure``.
    inner = f"substring({value}, 8, size({value}) - 16)"
    return (f"CASE WHEN {value} STARTS WITH 'seizure:' AND {value} ENDS WITH ':seizure' "
            f"THEN coalesce('seizure:' + COLLECT {{ MATCH (m_:Lead {{legacy_lead_id: {inner}}}) "
            f"RETURN m_.lead_id }}[0] + ':seizure', {value}) ELSE {value} END")


OPAQUE_LEAD_IDS: list[str] = [
    "CREATE CONSTRAINT lead_source_key_unique IF NOT EXISTS FOR (n:Lead) REQUIRE n.source_key IS UNIQUE",
    "CREATE INDEX lead_legacy_id IF NOT EXISTS FOR (n:Lead) ON (n.legacy_lead_id)",
    "CALL db.awaitIndexes(300)",
    # Each lead, with what hangs off it: its relationships, its seizure and what that asserts,
    # its triage status and status changes (indexed by lead id).
    "MATCH (l:Lead) WHERE l.source_key IS NULL AND l.lead_id IS NOT NULL "
    "CALL (l) { "
    "  WITH l, l.lead_id AS old, head(split(l.lead_id, ':')) AS agency, 'L-' + randomUUID() AS new "
    "  SET l.legacy_lead_id = old, l.lead_id = new, "
    "      l.source_key = agency + '|' + substring(old, size(agency) + 1) "
    "  WITH l, old, new "
    "  CALL (l, old, new) { MATCH (l)-[r]->() WHERE r.lead_id = old SET r.lead_id = new } "
    "  CALL (l, old, new) { MATCH (l)-[:RECORDED]->(:Seizure)-[r]->() WHERE r.lead_id = old "
    "                       SET r.lead_id = new } "
    "  CALL (l, old, new) { MATCH (l)-[:RECORDED]->(s:Seizure) WHERE s.seizure_id = old + ':seizure' "
    "                       SET s.seizure_id = new + ':seizure' } "
    "  CALL (old, new) { MATCH (st:LeadStatus {lead_id: old}) SET st.lead_id = new } "
    "  CALL (old, new) { MATCH (c:StatusChange {lead_id: old}) SET c.lead_id = new, "
    "      c.change_id = CASE WHEN c.change_id STARTS WITH old + '#' "
    "                         THEN new + substring(c.change_id, size(old)) ELSE c.change_id END } "
    "} IN TRANSACTIONS OF 500 ROWS",
    # Aliases asserted by a lead that no longer involves the person.
    "MATCH ()-[r:SAME_AS]->() WHERE r.lead_id IS NOT NULL AND NOT r.lead_id STARTS WITH 'L-' "
    "CALL (r) { SET r.lead_id = " + _new_id("r.lead_id") + " } IN TRANSACTIONS OF 1000 ROWS",
    # Bookkeeping nodes naming leads (or seizures) by id.
    "MATCH (g:GuestGrant) CALL (g) { "
    "  SET g.lead_ids = [x IN g.lead_ids | " + _new_id("x") + "], "
    "      g.entity_keys = [x IN g.entity_keys | " + _new_entity_key("x") + "] "
    "} IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (r:DisclosureRequest) WHERE r.lead_id IS NOT NULL CALL (r) { "
    "  WITH r, " + _new_id("r.lead_id") + " AS id "
    "  SET r.lead_id = id, r.pending_key = CASE WHEN r.pending_key IS NULL THEN null "
    "                                      ELSE r.requester_user_id + '|' + id END "
    "} IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (a:LinkAlert) CALL (a) { "
    "  SET a.lead_ids = [x IN a.lead_ids | " + _new_id("x") + "], "
    "      a.new_lead_ids = [x IN a.new_lead_ids | " + _new_id("x") + "] "
    "} IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (n:Notification) WHERE n.payload_lead_id IS NOT NULL CALL (n) { "
    "  WITH n, n.payload_lead_id AS old, " + _new_id("n.payload_lead_id") + " AS id WHERE id <> old "
    "  SET n.payload_lead_id = id, n.message = replace(n.message, old, id) "
    "} IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (o:Operation) WHERE o.targets IS NOT NULL CALL (o) { "
    "  SET o.targets = [x IN o.targets | " + _new_entity_key("x") + "] "
    "} IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (d:DeconflictionAlert) WHERE d.shared_targets IS NOT NULL CALL (d) { "
    "  SET d.shared_targets = [x IN d.shared_targets | " + _new_entity_key("x") + "] "
    "} IN TRANSACTIONS OF 1000 ROWS",
]


MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "uniqueness constraints on merge keys; lead and location lookup indexes",
        [unique_constraint(label) for label in Label]
        + [
            "CREATE INDEX lead_reported_at IF NOT EXISTS FOR (n:Lead) ON (n.reported_at)",
            "CREATE INDEX lead_agency IF NOT EXISTS FOR (n:Lead) ON (n.agency)",
            "CREATE INDEX lead_insee IF NOT EXISTS FOR (n:Lead) ON (n.insee_code)",
            "CREATE POINT INDEX location_point IF NOT EXISTS FOR (n:Location) ON (n.point)",
            "CREATE INDEX nonce_seen_at IF NOT EXISTS FOR (n:Nonce) ON (n.seen_at)",
            "CREATE INDEX token_user IF NOT EXISTS FOR (n:ApiToken) ON (n.user_id)",
        ],
    ),
    (
        2,
        "opaque public lead ids: leads keyed by source_key, old ids kept as legacy_lead_id and "
        "rewritten wherever stored",
        OPAQUE_LEAD_IDS,
    ),
    (
        # Every ingested lead paid for these two at commit, and no read starts from them: leads
        # are reached by time (reported_at, observed_at, ingested_at), by id, by text or through
        # their entities; agency and commune are filters on leads already found.
        3,
        "drop the lead indexes no read uses (lead_agency, lead_insee)",
        ["DROP INDEX lead_agency IF EXISTS", "DROP INDEX lead_insee IF EXISTS"],
    ),
]

CURRENT_VERSION = MIGRATIONS[-1][0]

def current_version(graph: Graph) -> int:
    record = graph.read(lambda tx: tx.run(
        "MATCH (s:SchemaVersion {name: $name}) RETURN s.version AS version",
        name=SCHEMA_NAME,
    ).single())
    return record["version"] if record else 0


@retry(retry=retry_if_exception_type(neo4j.exceptions.TransientError), stop=stop_after_attempt(8),
       wait=wait_random_exponential(multiplier=0.2, max=5), reraise=True)
def _auto_commit(session: neo4j.Session, statement: str) -> None:
    """One migration statement, retried on transient errors: hub processes starting together on
    a graph that needs migrating run the same (idempotent) statements at once, and Neo4j answers
    one of them with a deadlock — which must not stop that hub from starting. A schema rule
    another process created meanwhile is what the statement wanted: done."""
    try:
        session.run(statement).consume()
    except neo4j.exceptions.ClientError as exc:
        if exc.code not in _ALREADY_THERE:
            raise


# ``CREATE … IF NOT EXISTS`` racing the same statement in another process can still answer these.
_ALREADY_THERE = frozenset({
    "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
    "Neo.ClientError.Schema.ConstraintAlreadyExists",
    "Neo.ClientError.Schema.IndexAlreadyExists",
})


def _run(graph: Graph, statement: str, **params: Any) -> None:
    """One statement in its own write transaction (retried on transient errors; a schema rule
    created meanwhile by another hub process counts as done)."""
    try:
        graph.write(lambda tx: tx.run(statement, params).consume())
    except neo4j.exceptions.ClientError as exc:
        if exc.code not in _ALREADY_THERE:
            raise


def apply_schema(graph: Graph, module_statements: list[str]) -> int:
    """Bring the graph's schema to ``CURRENT_VERSION``, then apply ``module_statements`` (the
    constraints and indexes the graph modules declare, gathered by ``graph.setup``); return the
    version now in force."""
    found = current_version(graph)
    if found > CURRENT_VERSION:
        raise ConfigurationError(
            f"le graphe est au schéma {found}, plus récent que celui de ce hub ({CURRENT_VERSION}) : "
            "mettre le hub à jour"
        )
    for version, description, statements in MIGRATIONS:
        if version <= found:
            continue
        log.info("applying schema migration %s: %s", version, description)
        with graph.session() as session:
            for statement in statements:
                # Schema statements cannot share a transaction with writes, and data rewrites
                # batch themselves (CALL … IN TRANSACTIONS): one auto-commit each.
                _auto_commit(session, statement)
        _run(
            graph,
            "MERGE (s:SchemaVersion {name: $name}) "
            "SET s.version = $version, s.description = $description, s.applied_at = datetime()",
            name=SCHEMA_NAME,
            version=version,
            description=description,
        )
    extra = module_statements
    for statement in extra:
        _run(graph, statement)
    digest = hashlib.sha256("\n".join(extra).encode()).hexdigest()[:16]
    _run(graph, "MERGE (s:SchemaVersion {name: $name}) SET s.modules_digest = $digest",
         name=SCHEMA_NAME, digest=digest)
    _run(graph, "CALL db.awaitIndexes(300)")
    return CURRENT_VERSION
