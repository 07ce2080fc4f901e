"""Whether the graph answers right now: a real query, never just an open socket."""

from __future__ import annotations

import neo4j


def ping(driver: neo4j.Driver, database: str) -> bool:
    try:
        driver.execute_query("RETURN 1", database_=database, routing_=neo4j.RoutingControl.READ)
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError):
        return False
    return True
