"""The leads and entities linked to a dossier: link and unlink (only what the member may read),
and how each member sees them at the moment of reading.

A link is an id in the dossier's ``lead_ids`` / ``entity_ids`` — never a relationship, so no
read that walks the graph meets a dossier. Linking resolves the lead or entity through the
member's compiled ``AccessFilter``: what they may not even know of answers exactly as an id or key
nobody holds (the same ``NotFound``, one query whose empty result covers both); a hit is refused
(policies.dossiers.check_link): linking would otherwise let a member put into a shared dossier
what they may not read themselves.

Reading, each lead is decided for the reader now: full or redacted — the lead as
``graph.read.get_lead`` projects it; hit — a ``Hit`` whose entity is the dossier (never the
lead's id) with the reader's hit handle on the lead (ADR 0007); none — absent, not counted. An
entity: readable — the entity; hit — its kind and hits, not its key; none — absent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import neo4j

from graph.access import HIT, NONE, AccessFilter, shown
from graph.dossiers._common import DOSSIER, change
from graph.dossiers.models import DossierChange, LinkedEntity, LinkedLead
from graph.handle import Graph
from graph.identity import Principal
from graph.labels import EntityKind
from graph.models import Hit
from graph.read import entity_anchor, get_lead, normalize_entity_key
from hub.contract.errors import InvalidInput, NotFound
from policies.dossiers import MAX_LINKS, Visibility, check_link

# What an analyst may link: the entities of the link chart (not a seizure — lead content keyed by
# its lead — nor the reference vocabularies).
LINKABLE_KINDS = (EntityKind.VEHICLE, EntityKind.PHONE, EntityKind.PERSON, EntityKind.LOCATION,
                  EntityKind.COMMUNE, EntityKind.DEAL_POINT)


def _levels(tx: Any, ids: list[str], access: AccessFilter) -> list[dict[str, Any]]:
    return tx.run(
        "UNWIND range(0, size($ids) - 1) AS i WITH i, $ids[i] AS id "
        "MATCH (l:Lead {lead_id: id}) WHERE l.version > 0 "
        f"WITH i, l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        "RETURN l.lead_id AS lead_id, l.agency AS agency, access ORDER BY i",
        ids=ids, **access.params).data() if ids else []


def _dossier_hit(access: AccessFilter, dossier_id: str, agency: str, count: int,
                 subject: list[str]) -> Hit:
    return Hit(entity=f"dossier:{dossier_id}", agency=agency, lead_count=count,
               contact=access.contacts.get(agency),
               handle=access.seal(subject) if access.seal is not None else None)


def lead_views(graph: Graph, ids: list[str], access: AccessFilter,
               dossier_id: str) -> tuple[list[LinkedLead], list[str]]:
    """The linked leads as the reader sees them, and the ids of those shown (for the audit entry
    only: a hit's id is never in the answer)."""
    rows = graph.read(lambda tx: _levels(tx, ids, access))
    out: list[LinkedLead] = []
    shown_ids: list[str] = []
    for r in rows:
        try:
            lead = get_lead(graph, r["lead_id"], access) if r["access"] != HIT else None
        except NotFound:  # gone or closed off since the first read: as if never linked
            continue
        shown_ids.append(r["lead_id"])
        if lead is None or isinstance(lead, Hit):
            out.append(LinkedLead(access="hit", hit=_dossier_hit(
                access, dossier_id, r["agency"], 1, ["lead", r["lead_id"]])))
        else:
            out.append(LinkedLead(access=shown(r["access"]), lead=lead))
    return out, shown_ids


def _parse(entity_id: str) -> tuple[EntityKind, str]:
    kind, _, key = entity_id.partition(":")
    return EntityKind(kind), key


def entity_views(tx: Any, entity_ids: list[str], access: AccessFilter, dossier_id: str) -> list[LinkedEntity]:
    out: list[LinkedEntity] = []
    for entity_id in entity_ids:
        kind, key = _parse(entity_id)
        try:
            anchor = entity_anchor(tx, access, kind, key)
        except NotFound:
            continue
        if anchor.readable:
            out.append(LinkedEntity(kind=kind.value, access="read", node=anchor.node, hits=anchor.hits))
        else:
            out.append(LinkedEntity(kind=kind.value, access="hit", hits=[
                _dossier_hit(access, dossier_id, h.agency, h.lead_count, ["entity", anchor.node.id, h.agency])
                for h in anchor.hits]))
    return out


# --- link, unlink ---------------------------------------------------------------------------------


def _lead_level(tx: Any, lead_id: str, access: AccessFilter) -> Visibility:
    rows = _levels(tx, [lead_id], access)
    if not rows:
        raise NotFound(f"piste inconnue : {lead_id}")
    return Visibility.HIT if rows[0]["access"] == HIT else Visibility.READ


def _save(tx: neo4j.Transaction, dossier_id: str, prop: str, values: list[str], now: datetime) -> None:
    # ``prop`` is one of two names of ours, never input.
    assert prop in ("lead_ids", "entity_ids")
    tx.run(f"MATCH (d:{DOSSIER} {{dossier_id: $id}}) SET d.{prop} = $values, d.updated_at = $now",
           id=dossier_id, values=values, now=now).consume()


def set_lead_link(graph: Graph, dossier_id: str, lead_id: str, *, linked: bool, actor: Principal,
                  access: AccessFilter, now: datetime, before_commit=None) -> bool:
    """Link (or unlink) a lead the member may read; returns whether anything changed."""

    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[bool, DossierChange]:
        check_link(_lead_level(tx, lead_id, access))
        ids = list(d.get("lead_ids") or [])
        changed = (lead_id not in ids) if linked else (lead_id in ids)
        if linked and changed and len(ids) >= MAX_LINKS:
            raise InvalidInput(f"un dossier lie au plus {MAX_LINKS} pistes",
                               details=[{"field": "lead_id", "reason": "nombre maximal de pistes liées"}])
        if changed:
            _save(tx, dossier_id, "lead_ids", ids + [lead_id] if linked else [i for i in ids if i != lead_id], now)
        return changed, DossierChange(dossier_id=dossier_id, step="lead_linked" if linked else "lead_unlinked",
                                      lead_ids=[lead_id], details={"changed": changed})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)


def entity_kind(raw: str) -> EntityKind:
    try:
        kind = EntityKind(raw)
    except ValueError:
        kind = None
    if kind not in LINKABLE_KINDS:
        raise InvalidInput("type d'entité inconnu", details=[{
            "field": "entity_kind", "reason": "attendu : " + ", ".join(k.value for k in LINKABLE_KINDS)}])
    return kind


def set_entity_link(graph: Graph, dossier_id: str, kind: EntityKind, raw_key: str, *, linked: bool,
                    actor: Principal, access: AccessFilter, now: datetime, before_commit=None) -> bool:
    key = normalize_entity_key(kind, raw_key)

    def work(tx: neo4j.Transaction, d: dict[str, Any]) -> tuple[bool, DossierChange]:
        anchor = entity_anchor(tx, access, kind, key)  # NotFound as a key nobody holds
        check_link(Visibility.READ if anchor.readable else Visibility.HIT)
        entity_id = anchor.node.id
        ids = list(d.get("entity_ids") or [])
        changed = (entity_id not in ids) if linked else (entity_id in ids)
        if linked and changed and len(ids) >= MAX_LINKS:
            raise InvalidInput(f"un dossier lie au plus {MAX_LINKS} entités",
                               details=[{"field": "key", "reason": "nombre maximal d'entités liées"}])
        if changed:
            _save(tx, dossier_id, "entity_ids",
                  ids + [entity_id] if linked else [i for i in ids if i != entity_id], now)
        return changed, DossierChange(dossier_id=dossier_id,
                                      step="entity_linked" if linked else "entity_unlinked",
                                      entity_keys=[entity_id], details={"changed": changed})

    return change(graph, dossier_id, actor.user_id, access, work, before_commit=before_commit)
