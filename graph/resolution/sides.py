"""Entities of candidate pairs as the caller may know them, in one query for a batch.

An entity's level is the most open of its asserting leads' levels for the caller (ADR 0002,
"Amendment: entity marking"; ``graph.read.asserting_leads``): readable → its key, label and the
readable leads by id; hit only → its hits (agency, count, whom to call, handle), never its key;
none → absent, so a pair with such a side is never shown (no oracle). Also the agencies the
caller may at least know of on it: who is asked to countersign a merge (policies/resolution.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import neo4j

from graph.access import NONE, AccessFilter
from graph.labels import LABEL_KIND
from graph.read import _entity_node, asserting_leads, level_params
from graph.resolution.models import Side


@dataclass
class Known:
    """One entity as the caller may know it."""

    eid: str
    kind: str
    entity: str  # <kind>:<key> — internal; shown only when ``readable``
    label: str
    readable: bool
    readable_ids: list[str]
    readable_count: int
    hits: Counter[str] = field(default_factory=Counter)  # agency → hit-level leads

    @property
    def agencies(self) -> set[str]:
        return set(self.hits) | set(self._readable_agencies)

    _readable_agencies: set[str] = field(default_factory=set)

    def side(self, access: AccessFilter) -> Side:
        if self.readable:
            return Side(kind=self.kind, entity=self.entity, label=self.label, readable=True,
                        lead_count=self.readable_count,
                        hits=[access.hit(self.entity, a, n) for a, n in sorted(self.hits.items())])
        # A hit: the handle seals the entity for the caller's agency; its key is in no field
        # (the hit names the kind only).
        return Side(kind=self.kind, readable=False,
                    hits=[access.hit(self.entity, a, n).model_copy(update={"entity": self.kind})
                          for a, n in sorted(self.hits.items())])


def known_entities(tx: neo4j.ManagedTransaction, access: AccessFilter, eids: list[str],
                   max_leads: int) -> dict[str, Known]:
    """``eid`` → the entity as the caller may know it, for those they may at least know of."""
    if not eids:
        return {}
    rows = tx.run(
        f"UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
        f"{asserting_leads()} "
        f"WITH DISTINCT ent, l WHERE l.version > 0 "
        f"WITH ent, l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        f"WITH ent, l.agency AS agency, access IN $an_visible AS readable, l.lead_id AS lead_id "
        f"ORDER BY lead_id "
        f"WITH ent, collect(CASE WHEN readable THEN lead_id END) AS ids, "
        f"  collect({{agency: agency, readable: readable}}) AS levels "
        f"RETURN elementId(ent) AS eid, labels(ent) AS labels, "
        f"  CASE WHEN size(ids) > 0 THEN properties(ent) END AS props, ids[..$max] AS ids, "
        f"  size(ids) AS n_readable, levels, "
        # The key (for the hit handle of a side known only as a hit; never shown then).
        f"  coalesce(ent.plate, ent.pseudonym, ent.number, ent.key) AS key",
        eids=list(dict.fromkeys(eids)), max=max_leads, **level_params(access),
    )
    out: dict[str, Known] = {}
    for r in rows:
        label = next((lb for lb in r["labels"] if lb in LABEL_KIND), None)
        if label is None:
            continue
        kind = LABEL_KIND[label]
        props: dict[str, Any] | None = r["props"]
        # Hit only: the node from its key alone (for the handle; the key is never shown).
        node = _entity_node(r["labels"], props if props is not None
                            else {kind.key_property: r["key"]})
        hits: Counter[str] = Counter()
        readable_agencies: set[str] = set()
        for x in r["levels"]:
            if x["readable"]:
                readable_agencies.add(x["agency"])
            else:
                hits[x["agency"]] += 1
        out[r["eid"]] = Known(eid=r["eid"], kind=kind.value, entity=node.id, label=node.label,
                              readable=props is not None, readable_ids=list(r["ids"]),
                              readable_count=r["n_readable"], hits=hits,
                              _readable_agencies=readable_agencies)
    return out


def pair_handle(access: AccessFilter, key: str) -> str:
    """The caller's handle on a pair: sealed for their agency (``hub.handles``) so a hit side's
    key never travels; the bare key for the hub's own maintenance reads (no seal)."""
    return access.seal(["pair", key]) if access.seal is not None else key
