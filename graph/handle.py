"""The one face of the graph layer: a frozen ``Graph`` handle (the process's driver + the database
name) that every graph function takes instead of a ``(driver, database)`` pair.

- ``read``: a managed read transaction (retried on transient errors; routed to a secondary in a
  cluster).
- ``write_once``: one explicit write transaction, NOT retried — for work whose ``before_commit``
  callback (an audit append) must run exactly once per attempt the caller sees.
- ``write``: a managed write transaction, retried on transient errors (idempotent work only).
- ``query``: one statement in its own managed transaction (the driver's ``execute_query``: retried,
  routed to a reader when ``read_``, causally chained through the driver's bookmark manager),
  returning the records.
- ``session``: a raw session, for the few graph modules that stream or chunk their own work.

The handle owns nothing: the driver is opened and closed by whoever opened it (the app's lifespan,
one CLI command, a test session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Graph:
    driver: neo4j.Driver
    database: str = "neo4j"

    def session(self, *, read_only: bool = False) -> neo4j.Session:
        if read_only:
            return self.driver.session(database=self.database,
                                       default_access_mode=neo4j.READ_ACCESS)
        return self.driver.session(database=self.database)

    def query(self, cypher: str, parameters: dict[str, Any] | None = None, *, read_: bool = False,
              **params: Any) -> list[neo4j.Record]:
        records, _, _ = self.driver.execute_query(
            cypher, parameters, database_=self.database,
            routing_=neo4j.RoutingControl.READ if read_ else neo4j.RoutingControl.WRITE, **params)
        return records

    def read(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        with self.session(read_only=True) as session:
            return session.execute_read(work)

    def write(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        with self.session() as session:
            return session.execute_write(work)

    def write_once(self, work: Callable[[neo4j.Transaction], T]) -> T:
        with self.session() as session, session.begin_transaction() as tx:
            result = work(tx)
            tx.commit()
            return result
