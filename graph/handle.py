"""The one face of the graph layer: a frozen ``Graph`` handle (the process's driver + the database
name) that every graph function takes instead of a ``(driver, database)`` pair.

- ``read``: a managed read transaction (retried on transient errors; routed to a secondary in a
  cluster).
- ``write_once``: one explicit write transaction, NOT retried — for work whose ``before_commit``
  callback (an audit append) must run exactly once per attempt the caller sees.
- ``write``: a managed write transaction, retried on transient errors (idempotent work only).
- ``query``: one statement in its own managed transaction (the driver's ``execute_query``: retried,
  routed to a reader when ``read_``), returning the records.
- ``session``: a raw session, for the few graph modules that stream or chunk their own work.

Read your writes (causal consistency). A Neo4j cluster is eventually consistent: a read routed
to a follower may not yet see a write the leader just committed. Bookmarks fix that, and the
handle chains every session it opens, at two scales:

- *Within a process*: every session and every ``query`` of a handle goes through the driver's one
  bookmark manager (``driver.execute_query_bookmark_manager``), so a transaction begins only once
  the server holds everything this process committed before it. Kept on the driver, not on the
  handle, so every ``Graph(driver, db)`` built anywhere (lifespan, jobs, CLI, tests) shares it and
  the constructor stays ``Graph(driver, database)``. On a single server the wait is free.
- *Across processes* (hubs behind a load balancer): ``causal_scope(after)`` is a context (a
  ``ContextVar``, so it follows a request into the thread pool) in which every transaction also
  waits for the bookmarks ``after`` — another process's writes — and which collects the bookmarks
  of the write transactions committed in it (``scope.bookmarks()``). The hub turns these into an
  HTTP header (hub/bookmarks.py); graph/ knows nothing of HTTP.

Reads run as read transactions (``read``, ``query(read_=True)``, ``session(read_only=True)``) so a
cluster routes them to followers; the bookmarks are what make that safe.

The handle owns nothing: the driver is opened and closed by whoever opened it (the app's lifespan,
one CLI command, a test session).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
from neo4j.api import BookmarkManager

T = TypeVar("T")


class CausalScope:
    """The bookmarks one unit of work (an HTTP request) waits for, and those its writes made.

    ``bookmarks()`` folds the written ones the way the driver's manager does: a transaction that
    began after (so waited for) earlier bookmarks replaces them, so a request that chained ten
    writes hands on one bookmark, not ten."""

    __slots__ = ("_lock", "_written", "after", "wrote")

    def __init__(self, after: Collection[str] = ()) -> None:
        self.after: frozenset[str] = frozenset(after)
        self.wrote = False
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def record(self, previous: Collection[str], new: Collection[str]) -> None:
        with self._lock:
            self.wrote = True
            self._written.difference_update(previous)
            self._written.update(new)

    def bookmarks(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._written)


_scope: ContextVar[CausalScope | None] = ContextVar("crosshub_causal_scope", default=None)


@contextmanager
def causal_scope(after: Collection[str] = ()) -> Iterator[CausalScope]:
    """Run the body's transactions after ``after`` (bookmarks of another process) and collect
    the bookmarks of the writes committed in it."""
    scope = CausalScope(after)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def current_scope() -> CausalScope | None:
    return _scope.get()


class _ScopedBookmarks(BookmarkManager):
    """The process's bookmark manager, plus the current scope: its bookmarks are waited for, and
    (for a write session) the bookmarks of the transactions committed are recorded in it."""

    __slots__ = ("_base", "_scope", "_write")

    def __init__(self, base: BookmarkManager, scope: CausalScope, write: bool) -> None:
        self._base = base
        self._scope = scope
        self._write = write

    def get_bookmarks(self) -> Collection[str]:
        return {*self._base.get_bookmarks(), *self._scope.after}

    def update_bookmarks(self, previous_bookmarks: Collection[str],
                         new_bookmarks: Collection[str]) -> None:
        self._base.update_bookmarks(previous_bookmarks, new_bookmarks)
        if self._write and new_bookmarks:
            self._scope.record(previous_bookmarks, new_bookmarks)


@dataclass(frozen=True, slots=True)
class Graph:
    driver: neo4j.Driver
    database: str = "neo4j"

    def _bookmark_manager(self, *, write: bool) -> BookmarkManager:
        base = self.driver.execute_query_bookmark_manager
        scope = _scope.get()
        return base if scope is None else _ScopedBookmarks(base, scope, write)

    def session(self, *, read_only: bool = False) -> neo4j.Session:
        if read_only:
            return self.driver.session(database=self.database,
                                       default_access_mode=neo4j.READ_ACCESS,
                                       bookmark_manager=self._bookmark_manager(write=False))
        return self.driver.session(database=self.database,
                                   bookmark_manager=self._bookmark_manager(write=True))

    def query(self, cypher: str, parameters: dict[str, Any] | None = None, *, read_: bool = False,
              **params: Any) -> list[neo4j.Record]:
        records, _, _ = self.driver.execute_query(
            cypher, parameters, database_=self.database,
            routing_=neo4j.RoutingControl.READ if read_ else neo4j.RoutingControl.WRITE,
            bookmark_manager_=self._bookmark_manager(write=not read_), **params)
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
