"""What every analysis shares: bounded read transactions, the caller's access levels as query
parameters, the projection of readable leads, and node builders identical to the network read's
(same ids, so an analysis result overlays a link chart).

Never bind a Cypher variable named ``e`` (nor ``acc_ent``) where the access expression is
evaluated: the compiled guest-grant test is ``EXISTS { MATCH (l)-->(acc_ent) WHERE ... }``
(graph/access.py), and filters written by hand (tests) use ``e``; an outer variable of that name
would be imported into the subquery, testing the outer entity instead of every entity of the
lead. Analyses and the network read (graph/read.py) name their entity variables ``ent``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import neo4j

from graph.access import AccessFilter
from graph.analysis.models import QUERY_TIMEOUT_S
from graph.handle import Graph
from graph.labels import EntityKind
from graph.models import Hit, NetworkNode
from graph.read import Anchor, entity_anchor, level_params, normalize_entity_key
from graph.read import _entity_node as entity_node
from graph.read import _lead_node as lead_node
from graph.records import native
from hub.contract.errors import InvalidInput

T = TypeVar("T")

# The time of a lead: when it was observed, else when it was reported (always known). Stored in
# UTC by ingest, so comparisons are chronological whatever the source's offset.
LEAD_TIME = "coalesce(l.observed_at, l.reported_at)"


def run_read(graph: Graph, work: Callable[[neo4j.ManagedTransaction], T], *,
             field: str, timeout_s: float = QUERY_TIMEOUT_S) -> T:
    """Run ``work`` in one read transaction bounded by ``timeout_s``. A timeout is the caller's
    request being too broad: 422 naming ``field``, the parameter to narrow."""

    @neo4j.unit_of_work(timeout=timeout_s)
    def bounded(tx: neo4j.ManagedTransaction) -> T:
        return work(tx)

    try:
        return graph.read(bounded)
    except neo4j.exceptions.ClientError as exc:
        # Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration: our own bound.
        if "TransactionTimedOut" not in (exc.code or ""):
            raise
        reason = f"analyse interrompue après {timeout_s:g} s : resserrer ce paramètre"
        raise InvalidInput("analyse trop coûteuse pour être menée en une requête",
                           details=[{"field": field, "reason": reason}]) from exc


def access_params(access: AccessFilter) -> dict[str, Any]:
    """The caller's policy parameters plus the three level lists the analyses filter on:
    ``an_visible`` (levels that may read a lead at all), ``an_narrative`` (levels that may
    read its narrative — the only leads full-text search may match) and ``an_timed`` (levels
    that may read both its times — the only leads an analysis may place in time: ordering,
    windows, periods, since they would otherwise reveal a withheld time). Shared with the
    network read (``graph.read.level_params``)."""
    return level_params(access)


def project_leads(tx: neo4j.ManagedTransaction, access: AccessFilter,
                  lead_ids: Iterable[str]) -> dict[str, NetworkNode]:
    """Readable leads as link-chart nodes, their properties projected by the caller's policy
    (withheld properties are never fetched)."""
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return {}
    rows = tx.run(
        f"UNWIND $ids AS id MATCH (l:Lead {{lead_id: id}}) WHERE l.version > 0 "
        f"WITH l, {access.case_expression} AS access WHERE access IN $an_visible "
        f"RETURN access, {access.projection()} AS lead",
        ids=ids, **access_params(access),
    )
    return {r["lead"]["lead_id"]: lead_node(r["lead"], r["access"]) for r in rows}


def normalize_key(kind: EntityKind, raw: str, field: str) -> str:
    """An analyst's key normalized as ingest did, a bad one reported under ``field``."""
    try:
        return normalize_entity_key(kind, raw)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, details=[
            {"field": field, "reason": d.get("reason", exc.message)} for d in exc.details]) from exc


def find_entity(tx: neo4j.ManagedTransaction, access: AccessFilter, kind: EntityKind,
                key: str) -> Anchor:
    """The entity an analysis starts from, as the caller may know it (``graph.read.entity_anchor``):
    NotFound alike for a key nobody holds and for one only leads the caller may not even know of
    assert; a hit (``readable`` False, key and hits only) when only hit-level leads assert it."""
    return entity_anchor(tx, access, kind, key)


def lead_time(node: NetworkNode) -> datetime | None:
    """A lead's time as its projection shows it (None when the policy withholds it)."""
    return as_utc(node.properties.get("observed_at") or node.properties.get("reported_at"))


def hits_of(counts: dict[tuple[str, str], int], access: AccessFilter) -> list[Hit]:
    """Hit/no-hit: (entity id, agency) → number of leads the caller may only know exist."""
    return [access.hit(entity, agency, n) for (entity, agency), n in sorted(counts.items())]


def hit_counter() -> defaultdict[tuple[str, str], int]:
    return defaultdict(int)


def as_utc(value: Any) -> datetime | None:
    value = native(value)
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def span_check(since: datetime | None, until: datetime | None, max_days: int | None,
               fields: tuple[str, str] = ("since", "until")) -> None:
    """``since`` before ``until`` and at most ``max_days`` apart, else 422 naming the field."""
    if since is not None and until is not None:
        if since >= until:
            raise InvalidInput("période invalide", details=[
                {"field": fields[0], "reason": f"doit précéder {fields[1]}"}])
        if max_days is not None and (until - since).total_seconds() > max_days * 86400:
            raise InvalidInput("période trop longue", details=[
                {"field": fields[1], "reason": f"au plus {max_days} jours après {fields[0]}"}])

