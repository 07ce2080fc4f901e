"""The federable entities of this hub and their tokens.

``federable_entities`` pages through the Vehicles (plate) and Phones (number) that local leads
mention, each with the leads behind it (id, agency, handling code, lifecycle, embargo,
restriction): the facts the federation scope decision (policies/federation.py, asked by the hub)
needs. Only leads written by this hub's ingest are in the graph — federation writes tickets,
never leads — so nothing learnt from a peer is ever tokenized (no transitive hits). Leads of
version 0 (created, not yet written) are left out, as every read does; purged leads are gone
from the graph (graph/retention.py).

Memory stays bounded: pages of ``page_size`` entities, keyset-paginated on the entity key (its
uniqueness constraint's index); with ``since``, the leads received since then are paged on
``(last_received_at, lead_id)`` first, and only the entities they mention are read — plus, with
``until``, those of leads whose embargo ended in the window (they federate from then on without
being received again).

Tokens live on the entity: ``fed_token`` (hex of the truncated OPRF output under this hub's key)
and ``fed_epoch``; ``entities_by_token`` finds entities by token *for one epoch*, so a token of
another epoch never matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import neo4j

from graph.federation.models import FederableEntity, FederableKind, LeadBehind, TokenRow
from graph.handle import Graph
from graph.labels import KEY_PROPERTY, Label, Rel
from graph.records import native, utc

# kind -> (label, mention relationship); labels and types from the allow-list.
KINDS: dict[str, tuple[Label, Rel]] = {
    "plate": (Label.VEHICLE, Rel.MENTIONS_VEHICLE),
    "phone": (Label.PHONE, Rel.MENTIONS_PHONE),
}

PAGE_SIZE = 2000


def _leads_of(kind: str) -> str:
    label, rel = KINDS[kind]
    return (
        f"CALL (ent) {{ "
        f"  OPTIONAL MATCH (ent)<-[:{rel.value}]-(l:{Label.LEAD.value}) WHERE l.version > 0 "
        f"  WITH DISTINCT l WHERE l IS NOT NULL "
        f"  RETURN collect({{lead_id: l.lead_id, agency: l.agency, handling_code: l.handling_code, "
        f"    status: l.status, embargo_until: l.embargo_until, "
        f"    restricted: size(coalesce(l.restricted_to, [])) > 0}}) AS leads "
        f"}} "
        f"RETURN ent.{KEY_PROPERTY[label]} AS key, ent.fed_token AS token, ent.fed_epoch AS epoch, "
        f"  leads"
    )


def _entity(kind: FederableKind, record: neo4j.Record) -> FederableEntity | None:
    leads = [LeadBehind(**{k: native(v) for k, v in lead.items()}) for lead in record["leads"]]
    if not leads:
        return None
    leads.sort(key=lambda lead: lead.lead_id)
    return FederableEntity(kind=kind, key=record["key"], leads=leads, fed_token=record["token"],
                           fed_epoch=record["epoch"])


def _check_kinds(kinds: Iterable[str]) -> list[FederableKind]:
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown federable kinds: {unknown}")
    return chosen  # type: ignore[return-value]


def federable_entities(graph: Graph, *, kinds: Iterable[str] = ("plate", "phone"),
                       since: datetime | None = None, until: datetime | None = None,
                       page_size: int = PAGE_SIZE) -> Iterator[list[FederableEntity]]:
    """Pages of the entities of ``kinds`` that local leads mention (with ``since``: only those
    a lead received at or after ``since`` mentions, or — with ``until`` — a lead whose embargo
    ended between ``since`` and ``until``; each still with *all* its leads)."""
    for kind in _check_kinds(kinds):
        if since is None:
            yield from _all_of_kind(graph, kind, page_size)
        else:
            seen: set[str] = set()
            for keys in _keys_since(graph, kind, since, page_size, seen):
                page = entities_by_key(graph, kind, keys)
                if page:
                    yield page
            if until is not None:
                fresh = sorted(set(_keys_unembargoed(graph, kind, since, until)) - seen)
                for i in range(0, len(fresh), page_size):
                    page = entities_by_key(graph, kind, fresh[i:i + page_size])
                    if page:
                        yield page


def _all_of_kind(graph: Graph, kind: FederableKind, page_size: int) -> Iterator[list[FederableEntity]]:
    label, _ = KINDS[kind]
    prop = KEY_PROPERTY[label]
    after = ""
    while True:
        records = graph.query(
            f"MATCH (ent:{label.value}) WHERE ent.{prop} > $after "
            f"WITH ent ORDER BY ent.{prop} LIMIT $limit " + _leads_of(kind),
            after=after, limit=page_size, read_=True)
        if not records:
            return
        page = [e for r in records if (e := _entity(kind, r)) is not None]
        if page:
            yield page
        if len(records) < page_size:
            return
        after = records[-1]["key"]


def _keys_since(graph: Graph, kind: FederableKind, since: datetime, page_size: int,
                seen: set[str]) -> Iterator[list[str]]:
    """Distinct keys of the entities of ``kind`` mentioned by leads received since ``since``,
    in chunks (the leads are paged; a key already yielded — in ``seen`` — is not again)."""
    label, rel = KINDS[kind]
    prop = KEY_PROPERTY[label]
    at: datetime | None = None
    last_id = ""
    while True:
        records = graph.query(
            f"MATCH (l:{Label.LEAD.value}) WHERE l.last_received_at >= $since AND l.version > 0 "
            f"  AND ($at IS NULL OR l.last_received_at > $at "
            f"       OR (l.last_received_at = $at AND l.lead_id > $id)) "
            f"WITH l ORDER BY l.last_received_at, l.lead_id LIMIT $limit "
            f"RETURN l.lead_id AS lead_id, l.last_received_at AS at, "
            f"  [(l)-[:{rel.value}]->(ent:{label.value}) | ent.{prop}] AS keys",
            since=utc(since), at=at, id=last_id, limit=page_size, read_=True)
        if not records:
            return
        fresh = sorted({k for r in records for k in r["keys"]} - seen)
        seen.update(fresh)
        for i in range(0, len(fresh), page_size):
            yield fresh[i:i + page_size]
        if len(records) < page_size:
            return
        at, last_id = records[-1]["at"], records[-1]["lead_id"]


def _keys_unembargoed(graph: Graph, kind: FederableKind, since: datetime,
                      until: datetime) -> list[str]:
    """Keys of the entities of ``kind`` mentioned by leads whose embargo ended in
    [``since``, ``until``): they may federate now, without having been received again."""
    label, rel = KINDS[kind]
    records = graph.query(
        f"MATCH (l:{Label.LEAD.value}) WHERE l.embargo_until >= $since AND l.embargo_until < $until "
        f"  AND l.version > 0 "
        f"MATCH (l)-[:{rel.value}]->(ent:{label.value}) "
        f"RETURN DISTINCT ent.{KEY_PROPERTY[label]} AS key",
        since=utc(since), until=utc(until), read_=True)
    return [r["key"] for r in records]


def entities_by_key(graph: Graph, kind: FederableKind, keys: list[str]) -> list[FederableEntity]:
    """The entities of ``kind`` with these keys that local leads mention (others left out)."""
    label, _ = KINDS[_check_kinds([kind])[0]]
    records = graph.query(
        f"UNWIND $keys AS key MATCH (ent:{label.value} {{{KEY_PROPERTY[label]}: key}}) "
        + _leads_of(kind), keys=keys, read_=True)
    return [e for r in records if (e := _entity(kind, r)) is not None]


def set_tokens(graph: Graph, epoch: int, rows: list[TokenRow]) -> int:
    """Store each row's token (hex) for ``epoch`` on its entity, or remove the token when the
    row's is None; returns how many entities were written. One write per kind."""
    written = 0
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append({"key": row.key, "token": row.token})

    def work(tx: neo4j.ManagedTransaction) -> int:
        n = 0
        for kind, items in sorted(by_kind.items()):
            label, _ = KINDS[kind]
            # Sorted by key: concurrent writers lock entities in one order.
            items.sort(key=lambda item: item["key"])
            n += tx.run(
                f"UNWIND $rows AS row MATCH (ent:{label.value} {{{KEY_PROPERTY[label]}: row.key}}) "
                f"SET ent.fed_token = row.token, "
                f"  ent.fed_epoch = CASE WHEN row.token IS NULL THEN null ELSE $epoch END "
                f"RETURN count(*) AS n", rows=items, epoch=epoch).single()["n"]
        return n

    if by_kind:
        written = graph.write(work)
    return written


def entities_by_token(graph: Graph, epoch: int, tokens: list[tuple[str, str]]) -> dict[
        tuple[str, str], FederableEntity]:
    """The entities holding each (kind, token hex) for ``epoch``, with their leads, keyed by
    (kind, token). A token of another epoch, or of another kind, finds nothing."""
    found: dict[tuple[str, str], FederableEntity] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, token in tokens:
        by_kind.setdefault(kind, []).append(token)
    for kind, wanted in by_kind.items():
        if kind not in KINDS:
            continue
        label, _ = KINDS[kind]
        records = graph.query(
            f"UNWIND $tokens AS token MATCH (ent:{label.value} {{fed_token: token}}) "
            f"WHERE ent.fed_epoch = $epoch " + _leads_of(kind),
            tokens=sorted(set(wanted)), epoch=epoch, read_=True)
        for r in records:
            entity = _entity(kind, r)  # type: ignore[arg-type]
            if entity is not None and entity.fed_token is not None:
                found[(kind, entity.fed_token)] = entity
    return found
