"""Lookups the grant workflow and the policy engine make: which entity keys (graph/grants/keys.py)
and lead ids a caller may know of, and the leads behind an entity hit, through their compiled
``AccessFilter``; the markings the policy engine decides on — never a lead's content.
"""

from __future__ import annotations

from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter
from graph.grants.keys import lead_entity_keys_expression, parse_entity_key
from graph.handle import Graph
from graph.labels import EntityKind, Label
from graph.read import asserting_leads, entity_anchor
from graph.records import native
from hub.contract.errors import NotFound
from policies.models import LeadMarking


def known_entity_keys(graph: Graph, keys: list[str], access: AccessFilter) -> set[str]:
    """Which of these well-formed ``kind:key`` keys (keys normalized as ingest did) name an
    entity the caller may know of, at least as a hit, through their compiled ``access``: each
    is resolved by ``graph.read.entity_anchor`` (ADR 0002, "Amendment: entity marking"), so a
    key only leads the caller may not even know of assert is absent from the answer exactly as
    a key nobody holds (one query per key, whose empty result covers both)."""
    parsed = [(raw, *parse_entity_key(raw)) for raw in dict.fromkeys(keys)]

    def work(tx: neo4j.ManagedTransaction) -> set[str]:
        known: set[str] = set()
        for raw, kind, key in parsed:
            try:
                entity_anchor(tx, access, kind, key)
            except NotFound:
                continue
            known.add(raw)
        return known

    return graph.read(work) if parsed else set()


def existing_entity_keys(graph: Graph, keys: list[str]) -> set[str]:
    """Which of these keys name an entity some live lead asserts, whoever may know of it: the
    hub's own consistency checks and tests only — never a caller's request (that is an
    existence oracle; requests use ``known_entity_keys`` with the caller's filter)."""
    return known_entity_keys(graph, keys, AccessFilter.unrestricted())


def known_lead_ids(graph: Graph, lead_ids: list[str], access: AccessFilter) -> set[str]:
    """Which of these public lead ids name a lead the caller may know of, at least as a hit,
    through their compiled ``access``: a lead they may not even know of is absent from the
    answer exactly as an id nobody holds (one query; its empty result covers both)."""
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return set()

    def work(tx: neo4j.ManagedTransaction) -> set[str]:
        rows = tx.run(
            f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
            f"WITH l, {access.case_expression} AS access WHERE access <> '{NONE}' "
            f"RETURN l.lead_id AS lead_id",
            ids=ids, **access.params,
        )
        return {r["lead_id"] for r in rows}

    return graph.read(work)


def lead_markings(graph: Graph, lead_ids: list[str]) -> dict[str, LeadMarking]:
    """The marking of each existing lead among ``lead_ids`` (origin, handling code,
    restriction, embargo, entity keys) — what the policy engine decides on, never the content.
    Unknown ids are absent from the answer."""

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        rows = tx.run(
            f"UNWIND $ids AS id MATCH (l:{Label.LEAD.value} {{lead_id: id}}) WHERE l.version > 0 "
            f"RETURN l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, "
            f"l.handling_code AS handling_code, coalesce(l.restricted_to, []) AS restricted_to, "
            f"l.embargo_until AS embargo_until, {lead_entity_keys_expression('l')} AS entity_keys",
            ids=list(dict.fromkeys(lead_ids)),
        )
        return [r.data() for r in rows]

    out: dict[str, LeadMarking] = {}
    for row in graph.read(work):
        out[row["lead_id"]] = LeadMarking(
            lead_id=row["lead_id"], originating_agency=row["agency"], kind=row["kind"],
            handling_code=row["handling_code"], restricted_to=row["restricted_to"],
            embargo_until=native(row["embargo_until"]),
            entity_keys=sorted(set(row["entity_keys"])),
        )
    return out


def lead_marking(graph: Graph, lead_id: str) -> LeadMarking | None:
    return lead_markings(graph, [lead_id]).get(lead_id)


def leads_on_entity(graph: Graph, entity_id: str, agency: str,
                    access: AccessFilter, *, limit: int = 500) -> list[str]:
    """The ids of ``agency``'s leads on the entity ``<kind>:<key>`` that the caller may know of
    only as hits (through their compiled ``access``), newest first: what an aggregated hit on
    the entity counted, resolved by the hub from a hit handle (hub/handles.py). The leads on an
    entity are those ``graph.read.asserting_leads`` defines — the ones ``entity_anchor`` and the
    network count a hit from (places of a commune, a seizure's place and substances, the leads
    of ``SAME_AS`` links) — so a handle stands for what its hit counted. Unknown kinds or
    entities give an empty list."""
    kind_text, sep, key = entity_id.partition(":")
    try:
        kind = EntityKind(kind_text)
    except ValueError:
        return []
    if not sep or not key or kind.label is Label.LEAD:
        return []

    def work(tx: neo4j.ManagedTransaction) -> list[str]:
        rows = tx.run(
            f"MATCH (ent:{kind.label.value} {{{kind.key_property}: $key}}) "
            f"{asserting_leads()} "
            f"WITH DISTINCT l WHERE l.version > 0 AND l.agency = $agency "
            f"WITH l, {access.case_expression} AS access WHERE access = '{HIT}' "
            f"RETURN l.lead_id AS lead_id ORDER BY l.reported_at DESC, l.lead_id LIMIT $limit",
            key=key, agency=agency, limit=limit, **access.params,
        )
        return [r["lead_id"] for r in rows]

    return graph.read(work)
