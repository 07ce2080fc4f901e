"""Transaction helpers shared by graph modules.

- ``read``: a managed read transaction (retried on transient errors; routed to a secondary in a
  cluster).
- ``write_once``: one explicit write transaction, NOT retried — for work whose ``before_commit``
  callback (an audit append) must run exactly once per attempt the caller sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import neo4j

T = TypeVar("T")


def read(driver: neo4j.Driver, database: str, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)


def write_once(driver: neo4j.Driver, database: str, work: Callable[[neo4j.Transaction], T]) -> T:
    with driver.session(database=database) as session, session.begin_transaction() as tx:
        result = work(tx)
        tx.commit()
        return result
