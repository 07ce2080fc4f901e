"""Schema migrations: uniqueness constraints on every MERGE key, lookup indexes, and the schema
version recorded in the graph. Applied idempotently at start-up (``apply_schema``).

Each migration is a list of idempotent statements (``IF NOT EXISTS``); the version node records
the highest applied, so a newer hub adds what is missing and an older hub refuses a newer graph.
"""

from __future__ import annotations

import hashlib
import logging

import neo4j

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
]

CURRENT_VERSION = MIGRATIONS[-1][0]

# Graph modules that own nodes of their own declare their constraints and indexes as a
# module-level ``SCHEMA: list[str]`` of idempotent statements (``IF NOT EXISTS``); they are
# applied at every start-up after the numbered migrations, and their digest is recorded.
SCHEMA_MODULES = (
    "graph.sessions",
    "graph.grants",
    "graph.analysis",
    "graph.workflow",
    "graph.meetings",
)


def module_statements() -> list[str]:
    import importlib

    statements: list[str] = []
    for name in SCHEMA_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        statements.extend(getattr(module, "SCHEMA", []))
    return statements


def current_version(driver: neo4j.Driver, database: str) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (s:SchemaVersion {name: $name}) RETURN s.version AS version",
        name=SCHEMA_NAME,
        database_=database,
        routing_=neo4j.RoutingControl.READ,
    )
    return records[0]["version"] if records else 0


def apply_schema(driver: neo4j.Driver, database: str) -> int:
    """Bring the graph's schema to ``CURRENT_VERSION``; return the version now in force."""
    found = current_version(driver, database)
    if found > CURRENT_VERSION:
        raise ConfigurationError(
            f"le graphe est au schéma {found}, plus récent que celui de ce hub ({CURRENT_VERSION}) : "
            "mettre le hub à jour"
        )
    for version, description, statements in MIGRATIONS:
        if version <= found:
            continue
        log.info("applying schema migration %s: %s", version, description)
        for statement in statements:
            # Schema statements cannot share a transaction with writes: one auto-commit each.
            driver.execute_query(statement, database_=database)
        driver.execute_query(
            "MERGE (s:SchemaVersion {name: $name}) "
            "SET s.version = $version, s.description = $description, s.applied_at = datetime()",
            name=SCHEMA_NAME,
            version=version,
            description=description,
            database_=database,
        )
    extra = module_statements()
    for statement in extra:
        driver.execute_query(statement, database_=database)
    digest = hashlib.sha256("\n".join(extra).encode()).hexdigest()[:16]
    driver.execute_query(
        "MERGE (s:SchemaVersion {name: $name}) SET s.modules_digest = $digest",
        name=SCHEMA_NAME, digest=digest, database_=database,
    )
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    return CURRENT_VERSION
