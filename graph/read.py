"""The reads of linked leads: one lead, and the network around an entity.

Every read takes an ``AccessFilter`` (graph/access.py) and evaluates it inside the query: leads
the caller may not read are never projected, properties they may not see are never fetched, and
leads they may only know of come back as hit counts per agency. Network expansion never passes
through a lead the caller cannot read, so nothing is learnt through a hidden node.

An entity carries the marking of the leads that assert it (ADR 0002, "Amendment: entity
marking"): every read that starts from an entity first resolves it with ``entity_anchor``, one
query through the caller's ``AccessFilter``. An entity only leads the caller may not even know of
assert is answered exactly like a key that does not exist (``NotFound``, same message, same
query); one only hit-level leads assert is a hit (its key and the hits, no property). Seizures
are lead content: shown at the level of the lead that recorded them.

Reads run in read transactions (``Graph.read``) so a cluster routes them to secondaries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graph.access import HIT, LEAD_TEMPORAL, NONE, AccessFilter, shown
from graph.groups import merged_group
from graph.handle import Graph
from graph.labels import LABEL_KIND, EntityKind, Label, Rel
from graph.models import (
    Hit,
    LeadView,
    LocationView,
    Network,
    NetworkEdge,
    NetworkNode,
    PersonView,
    PointView,
    SeizedSubstanceView,
    SeizureView,
    VehicleView,
)
from graph.records import native
from hub.contract.errors import InvalidInput, NotFound
from hub.contract.lead import Agency, Substance
from hub.contract.normalize import normalize_phone, normalize_plate

# Entities shared by so many leads that expanding through them says nothing (every lead links to
# its agency; thousands to "cannabis resin"): shown as nodes, never expanded unless the anchor.
NON_EXPANDING = {Label.AGENCY.value, Label.SUBSTANCE.value, Label.COMMUNE.value}

# Relationship properties shown on a link chart edge (agency and lead_id are fields of their own).
EDGE_PROPERTIES = {"role", "quantity", "unit", "make", "model", "colour"}

# Leads whose projections and links a network read fetches per round trip (see ``network``).
DETAIL_BATCH = 100
# Network reads receive lead instants as epoch microseconds (``AccessFilter.projection(epoch_us=
# True)``): the driver decodes a DateTime ~10x slower, and that decoding dominated large charts.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# How a lead asserts an entity: directly, or through the seizure it recorded (its place and
# substances); a commune through the places of its leads; a person also through the SAME_AS
# links a lead asserted (the alias came from that lead). Types from the allow-list.
ASSERTING_RELS = "|".join(r.value for r in (
    Rel.AT, Rel.MENTIONS_VEHICLE, Rel.INVOLVES, Rel.MENTIONS_PHONE, Rel.REPORTS_SUBSTANCE,
    Rel.CONCERNS, Rel.RECORDED))
SEIZURE_RELS = f"{Rel.AT.value}|{Rel.OF_SUBSTANCE.value}"

# Closed public vocabularies (hub/contract/lead.py): reference data, not intelligence. Their
# anchors answer for every member of the vocabulary whether or not a lead mentioned it yet (so
# the graph's holding a node says nothing), and 404 for anything else, without a graph lookup.
REFERENCE_KINDS: dict[EntityKind, frozenset[str]] = {
    EntityKind.AGENCY: frozenset(a.value for a in Agency),
    EntityKind.SUBSTANCE: frozenset(s.value for s in Substance),
}


def level_params(access: AccessFilter) -> dict[str, Any]:
    """The caller's policy parameters plus the level lists reads filter on: ``an_visible``
    (levels that may read a lead at all), ``an_narrative`` (that may read its narrative) and
    ``an_timed`` (that may read both its times)."""
    visible = access.visible_levels()
    return {
        **access.params,
        "an_visible": visible,
        "an_narrative": [lv for lv in visible if "narrative" in access.profiles.get(lv, ())],
        "an_timed": [lv for lv in visible
                     if {"observed_at", "reported_at"} <= set(access.profiles.get(lv, ()))],
    }


def entity_props(var: str, timed: str) -> str:
    """Cypher for the properties of entity ``var`` shown with a lead the caller reads, ``timed``
    (a Cypher boolean) saying whether that lead's level may read its times. A seizure is lead
    content: its ``seized_at`` is the lead's time, withheld unless ``timed``."""
    return (f"CASE WHEN {var}:{Label.SEIZURE.value} AND NOT coalesce({timed}, false) "
            f"THEN {var} {{.*, seized_at: null}} ELSE properties({var}) END")


def asserting_leads() -> str:
    """The Cypher ``CALL (ent) { ... }`` binding ``l`` to each lead asserting the entity ``ent``
    (ADR 0002, "Amendment: entity marking"): linking it (``ASSERTING_RELS``), through its seizure
    (``SEIZURE_RELS``), for a commune at its places, for a person named on a ``SAME_AS`` link
    touching it. Rows may repeat and versions are not filtered: follow with ``WITH DISTINCT ...
    WHERE l.version > 0``. The one definition of an entity's leads: ``entity_anchor`` and the
    hit handle's way back to leads (``graph.grants.leads_on_entity``) both take it."""
    # Entity variable ``ent``, never ``e`` (see graph/analysis/_common.py).
    return (
        f"CALL (ent) {{ "
        f"  MATCH (ent)<-[:{ASSERTING_RELS}]-(l:Lead) RETURN l "
        f"  UNION MATCH (ent)<-[:{SEIZURE_RELS}]-(:{Label.SEIZURE.value})<-[:{Rel.RECORDED.value}]-(l:Lead) "
        f"    RETURN l "
        f"  UNION MATCH (ent:{Label.COMMUNE.value})<-[:{Rel.IN_COMMUNE.value}]-(:{Label.LOCATION.value})"
        f"<-[:{Rel.AT.value}]-(l:Lead) RETURN l "
        f"  UNION MATCH (ent:{Label.PERSON.value})-[link:{Rel.SAME_AS.value}]-(:{Label.PERSON.value}) "
        f"    MATCH (l:Lead {{lead_id: link.lead_id}}) RETURN l "
        f"}}"
    )


@dataclass(frozen=True)
class Anchor:
    """An entity a read starts from, as the caller may know it. ``readable``: some lead the caller
    may read asserts it (``node`` has its properties); else it is a hit (``node`` is its key
    only). ``hits``: the hit-level leads asserting it, per agency. ``eid`` is None for a
    reference entity the graph lacks."""

    eid: str | None
    node: NetworkNode
    readable: bool
    hits: list[Hit] = field(default_factory=list)
    # Entities merged with it (graph/groups.py) the caller may read, when it is readable itself.
    merged: dict[str, NetworkNode] = field(default_factory=dict)



def entity_anchor(tx: neo4j.ManagedTransaction, access: AccessFilter, kind: EntityKind,
                  key: str) -> Anchor:
    """The entity ``kind``/``key`` as the caller may know it, or ``NotFound`` — raised alike
    when no such entity exists and when only leads the caller may not even know of assert it
    (one query: an empty result covers both).

    The leads asserting an entity: those linking it (``ASSERTING_RELS``), those whose seizure
    links it, for a commune those at its places, for a person those that asserted a SAME_AS
    link touching it — an alias is lead content, so a merged identity is joined only through
    links the caller may read, and the lead of such a link asserts both persons. Its marking,
    the most open level among the leads asserting any member, is therefore the most open level
    among the leads asserting the person itself (ADR 0002, "Amendment: entity marking")."""
    label, key_prop = kind.label.value, kind.key_property
    unknown = NotFound(f"entité inconnue : {kind.value} {key}")
    if kind in REFERENCE_KINDS:
        if key not in REFERENCE_KINDS[kind]:
            raise unknown
        record = tx.run(f"OPTIONAL MATCH (ent:{label} {{{key_prop}: $key}}) "
                        f"RETURN elementId(ent) AS eid", key=key).single()
        return Anchor(eid=record["eid"] if record else None,
                      node=_entity_node([label], {key_prop: key}), readable=True)
    # The anchor and its merged group (graph/groups.py): the anchor alone decides if it is known
    # or a hit; only a readable anchor is joined by the readable members (and their hits).
    record = tx.run(
        f"MATCH (anchor:{label} {{{key_prop}: $key}}) "
        f"{merged_group('anchor', label)}"
        f"UNWIND group AS ent "
        f"{asserting_leads()} "
        f"WITH DISTINCT anchor, ent, l WHERE l.version > 0 "
        f"WITH anchor, ent, l, {access.case_expression} AS access WHERE access <> '{NONE}' "
        f"WITH anchor, ent, l.agency AS agency, access IN $an_visible AS readable, "
        f"  access IN $an_timed AS timed, count(*) AS n "
        f"WITH anchor, ent, collect({{agency: agency, readable: readable, timed: timed, n: n}}) AS levels "
        f"WITH anchor, ent, levels, any(x IN levels WHERE x.readable) AS readable, "
        f"  any(x IN levels WHERE x.timed) AS timed "
        f"WITH anchor, collect({{ent: ent, levels: levels, readable: readable, timed: timed}}) AS members "
        f"WITH anchor, [x IN members WHERE x.ent = anchor][0] AS own, "
        f"  [x IN members WHERE x.ent <> anchor] AS others WHERE own IS NOT NULL "
        f"WITH anchor AS ent, own.levels AS levels, own.readable AS readable, own.timed AS timed, "
        f"  CASE WHEN own.readable THEN others ELSE [] END AS others "
        f"RETURN elementId(ent) AS eid, readable, "
        f"  CASE WHEN readable THEN {entity_props('ent', 'timed')} END AS props, "
        f"  [x IN levels WHERE NOT x.readable | [x.agency, x.n]] + "
        f"  reduce(acc = [], o IN others | acc + [x IN o.levels WHERE NOT x.readable | [x.agency, x.n]]) AS hits, "
        f"  [o IN others WHERE o.readable | {{eid: elementId(o.ent), labels: labels(o.ent), "
        f"    props: properties(o.ent)}}] AS merged",
        key=key, **level_params(access),
    ).single()
    if record is None:
        raise unknown
    counts: dict[str, int] = defaultdict(int)
    for agency, n in record["hits"]:
        counts[agency] += n
    if record["readable"]:
        node = _entity_node([label], record["props"])
    else:  # a hit: the key the caller typed, no property
        node = _entity_node([label], {key_prop: key}).model_copy(update={"properties": {}})
    return Anchor(eid=record["eid"], node=node, readable=record["readable"],
                  hits=[access.hit(node.id, agency, n) for agency, n in sorted(counts.items())],
                  merged={m["eid"]: _entity_node(m["labels"], m["props"]) for m in record["merged"]})


def normalize_entity_key(kind: EntityKind, raw: str) -> str:
    """Normalize a key typed by an analyst the way ingest normalized it."""
    try:
        if kind is EntityKind.VEHICLE:
            return normalize_plate(raw)
        if kind is EntityKind.PHONE:
            return normalize_phone(raw)
    except ValueError as exc:
        raise InvalidInput(str(exc), details=[{"field": "key", "reason": str(exc)}]) from exc
    return raw


# --- one lead ------------------------------------------------------------------------------------


def get_lead(graph: Graph, lead_id: str, access: AccessFilter) -> LeadView | Hit:
    """The lead as the caller may see it, or a ``Hit`` if they may only know it exists.
    Raises NotFound when it does not exist or the caller may not even know of it."""

    def work(tx: neo4j.ManagedTransaction) -> dict[str, Any] | None:
        record = tx.run(
            f"MATCH (l:Lead {{lead_id: $lead_id}}) WHERE l.version > 0 "
            # The lead read's own level: the only read that shows a graded release whose
            # profile withholds linked entities (graph/access.py); their links are then never
            # matched (``hidden``: the linked fields the level withholds).
            f"WITH l, {access.detail_case_expression} AS access "
            f"WHERE access <> '{NONE}' "
            f"WITH l, access, coalesce($acc_hidden_links[access], []) AS hidden "
            f"RETURN access, {access.projection()} AS lead, "
            f"CASE WHEN access = '{HIT}' THEN null ELSE {{"
            f"  location: [(l)-[:AT]->(loc:Location) WHERE NOT 'location' IN hidden | loc {{.key, .insee_code, .commune, .address, .place_label, .point}}][0],"
            f"  deal_point: [(l)-[:CONCERNS]->(dp:DealPoint) WHERE NOT 'deal_point' IN hidden | dp {{.key, .label, .insee_code}}][0],"
            f"  vehicles: [(l)-[r:MENTIONS_VEHICLE]->(v:Vehicle) WHERE NOT 'vehicles' IN hidden | r {{plate: v.plate, .make, .model, .colour, .kind}}],"
            f"  persons: [(l)-[r:INVOLVES]->(p:Person) WHERE NOT 'persons' IN hidden | r {{pseudonym: p.pseudonym, .*}}],"
            f"  phones: [(l)-[:MENTIONS_PHONE]->(ph:Phone) WHERE NOT 'phones' IN hidden | ph.number],"
            f"  seizure: [(l)-[:RECORDED]->(s:Seizure) WHERE NOT 'seizure' IN hidden | s {{.seizure_id, .cash_eur, .weapons, .packaging_material,"
            f"     substances: [(s)-[q:OF_SUBSTANCE]->(sub:Substance) | {{substance: sub.code, quantity: q.quantity, unit: q.unit}}]}}][0]"
            f"}} END AS links",
            lead_id=lead_id,
            **access.params, **access.link_params(),
        ).single()
        return record.data() if record else None

    data = _read(graph, work)
    if data is None:
        raise NotFound(f"piste inconnue : {lead_id}")
    lead = data["lead"]
    if data["access"] == HIT:
        return access.hit(f"lead:{lead_id}", lead["agency"], 1, lead_id=lead_id)
    return _lead_view(lead, data["links"], data["access"], access)


_read = Graph.read  # module-level name: tests spy on it to see the raw Bolt records


def _lead_view(lead: dict[str, Any], links: dict[str, Any], level: str, access: AccessFilter) -> LeadView:
    loc = links.get("location")
    location = None
    if loc:
        point = loc.pop("point", None)
        location = LocationView(**loc, point=PointView(lat=point.y, lon=point.x) if point else None)
    persons = []
    for p in links.get("persons", []):
        pseudonym = p.pop("pseudonym")
        role = p.pop("role", None)
        for bookkeeping in ("agency", "lead_id"):
            p.pop(bookkeeping, None)
        persons.append(PersonView(pseudonym=pseudonym, role=role, description=p))
    seizure = None
    if links.get("seizure"):
        s = links["seizure"]
        seizure = SeizureView(
            seizure_id=s["seizure_id"], cash_eur=s.get("cash_eur"),
            weapons=json.loads(s["weapons"]) if s.get("weapons") else [],
            packaging_material=bool(s.get("packaging_material")),
            substances=[SeizedSubstanceView(**q) for q in s.get("substances", [])],
        )
    vehicles = [VehicleView(**{k: v for k, v in veh.items() if v is not None})
                for veh in links.get("vehicles", [])]
    if lead.get("unplated_vehicles"):
        vehicles += [VehicleView(**v) for v in json.loads(lead["unplated_vehicles"])]
    values = {k: native(v) for k, v in lead.items() if k != "unplated_vehicles"}
    return LeadView(
        **{k: v for k, v in values.items() if k not in {"agency", "insee_code"} and v is not None},
        source_agency=lead["agency"],
        location=location,
        deal_point=links.get("deal_point"),
        vehicles=vehicles,
        persons=persons,
        phones=links.get("phones", []),
        seizure=seizure,
        access=shown(level),
        redacted=access.redacted_properties(level),
    )


# --- network -------------------------------------------------------------------------------------


def network(
    graph: Graph,
    kind: EntityKind,
    key: str,
    depth: int,
    access: AccessFilter,
    *,
    max_nodes: int = 500,
    rel_types: Collection[Rel] | None = None,
) -> Network:
    """The leads and entities linked to an entity, ``depth`` lead-hops out (1 to 3): depth 1 is
    the entity's leads and what they mention; depth 2 adds the leads on those entities, and so
    on. Ready to draw as a link chart.

    ``rel_types`` (all when None) restricts the relationships followed and drawn: a lead is
    reached from an entity only through a link of those types, and only its links of those
    types are shown (a seizure's own links need RECORDED and their own type)."""
    if not 1 <= depth <= 3:
        raise InvalidInput("profondeur hors bornes : 1 à 3",
                           details=[{"field": "depth", "reason": "doit être comprise entre 1 et 3"}])
    # Relationship types travel as a parameter (compared with type(r)), never into the query.
    followed = [r.value for r in (rel_types if rel_types else Rel)]

    def work(tx: neo4j.ManagedTransaction) -> Network:
        anchor = entity_anchor(tx, access, kind, key)
        if not anchor.readable:
            # Known only as a hit: its key and who holds it, nothing read through it.
            return Network(anchor=anchor.node.id, depth=depth, nodes=[anchor.node], edges=[],
                           hits=anchor.hits)
        nodes: dict[str, NetworkNode] = {}
        edges: dict[tuple[str, str, str, str | None], NetworkEdge] = {}
        hits: dict[tuple[str, str], int] = defaultdict(int)
        anchor_node = anchor.node
        nodes[anchor.eid or anchor_node.id] = anchor_node
        frontier = [anchor.eid] if anchor.eid else []
        # Entities merged with the anchor (ADR 0019): shown, joined to it, expanded like it.
        for eid, member in anchor.merged.items():
            nodes[eid] = member
            frontier.append(eid)
            edges[(member.id, anchor_node.id, Rel.MERGED_INTO.value, None)] = NetworkEdge(
                source=member.id, target=anchor_node.id, type=Rel.MERGED_INTO.value)
        seen_leads: set[str] = set()
        truncated = False
        for level in range(depth):
            if not frontier or truncated:
                break
            # Two steps per level. First the (entity, lead) rows with ids only: cheap to read
            # however many. Then the leads' projections and links, fetched in batches in the order
            # the rows are taken, so past ``max_nodes`` nothing more is fetched nor decoded (a
            # busy place's thousand leads would otherwise all cross the wire for a chart that
            # keeps a hundred: decoding their dates dominated a truncated network).
            rows = tx.run(
                # Entity variable ``ent``, never ``e`` (see graph/analysis/_common.py).
                f"UNWIND $frontier AS eid MATCH (ent) WHERE elementId(ent) = eid "
                f"CALL (ent) {{ "
                f"  MATCH (ent)<-[r0:{ASSERTING_RELS}]-(l:Lead) "
                f"  WHERE type(r0) IN $rel_types RETURN l "
                f"  UNION "
                f"  MATCH (ent)<-[r0:{SEIZURE_RELS}]-(:Seizure)<-[:RECORDED]-(l:Lead) "
                f"  WHERE type(r0) IN $rel_types AND 'RECORDED' IN $rel_types RETURN l "
                f"}} "
                f"WITH ent, l WHERE l.version > 0 AND NOT elementId(l) IN $seen "
                f"WITH DISTINCT ent, l, {access.case_expression} AS access "
                f"WHERE access <> '{NONE}' "
                # One record holding every row: the driver's cost is per record, and a busy
                # place yields a thousand rows.
                f"RETURN collect([elementId(ent), elementId(l), access, l.lead_id, l.agency]) AS rows",
                frontier=frontier,
                seen=list(seen_leads),
                rel_types=followed,
                **access.params,
            ).single()["rows"]
            rows = [dict(zip(("entity_eid", "lead_eid", "access", "lead_id", "agency"), r, strict=True))
                    for r in rows]
            detail = _batched_details(
                tx,
                f"UNWIND $leads AS id MATCH (l) WHERE elementId(l) = id "
                f"WITH l, {access.case_expression} AS access "
                f"RETURN elementId(l) AS lead_eid, {access.projection(epoch_us=True)} AS lead, "
                # A seizure shown at the level of the lead that recorded it (entity_props).
                f"  [(l)-[r]->(x) WHERE NOT x:Agency AND type(r) IN $rel_types | {{eid: elementId(x), labels: labels(x), props: {entity_props('x', 'access IN $an_timed')}, type: type(r), rel: properties(r)}}] + "
                f"  [(l)-[:RECORDED]->(s:Seizure)-[r]->(x) WHERE 'RECORDED' IN $rel_types AND type(r) IN $rel_types | {{from: elementId(s), eid: elementId(x), labels: labels(x), props: properties(x), type: type(r), rel: properties(r)}}] "
                f"AS links",
                [r["lead_eid"] for r in rows if r["access"] != HIT],
                {"rel_types": followed, **level_params(access)},
            )
            next_frontier: list[str] = []
            node_id = {eid: n.id for eid, n in nodes.items()}
            for row in rows:
                if row["access"] == HIT:
                    hits[(node_id.get(row["entity_eid"], row["entity_eid"]), row["agency"])] += 1
                    continue
                lead_key = f"lead:{row['lead_id']}"
                if lead_key not in nodes:
                    if len(nodes) >= max_nodes:
                        truncated = True
                        break
                    nodes[lead_key] = _lead_node(_from_epoch_us(detail(row["lead_eid"])["lead"]),
                                                 row["access"])
                    seen_leads.add(row["lead_eid"])
                # Direct links of the lead come first, so a seizure is a node before its own
                # links (substances, place) are read.
                for link in detail(row["lead_eid"])["links"]:
                    source_eid = link.get("from") or lead_key
                    if source_eid not in nodes:
                        continue
                    target_eid = link["eid"]
                    if target_eid not in nodes:
                        if len(nodes) >= max_nodes:
                            truncated = True
                            break
                        nodes[target_eid] = _entity_node(link["labels"], link["props"])
                        if not NON_EXPANDING.intersection(link["labels"]) and level + 1 < depth:
                            next_frontier.append(target_eid)
                    source, target = nodes[source_eid].id, nodes[target_eid].id
                    rel = link["rel"] or {}
                    edges.setdefault((source, target, link["type"], rel.get("lead_id")), NetworkEdge(
                        source=source, target=target, type=link["type"], agency=rel.get("agency"),
                        lead_id=rel.get("lead_id"),
                        properties={k: native(v) for k, v in rel.items() if k in EDGE_PROPERTIES},
                    ))
            frontier = list(dict.fromkeys(next_frontier))
        return Network(
            anchor=anchor_node.id,
            depth=depth,
            nodes=list(nodes.values()),
            edges=list(edges.values()),
            hits=[access.hit(entity, agency, count) for (entity, agency), count in sorted(hits.items())],
            truncated=truncated,
        )

    return _read(graph, work)


def _from_epoch_us(lead: dict[str, Any]) -> dict[str, Any]:
    """A lead projected with ``epoch_us=True``, its instants back to aware datetimes (UTC)."""
    return {k: EPOCH + timedelta(microseconds=v) if k in LEAD_TEMPORAL and v is not None else v
            for k, v in lead.items()}


def _batched_details(tx: neo4j.ManagedTransaction, query: str, lead_eids: list[str],
                     params: dict[str, Any]) -> Callable[[str], Any]:
    """``lead_eid`` → its row of ``query`` (which takes ``$leads``), read ``DETAIL_BATCH`` leads
    at a time in the order of ``lead_eids``, on the first request of a lead not yet read."""
    wanted = list(dict.fromkeys(lead_eids))
    batches = (wanted[i : i + DETAIL_BATCH] for i in range(0, len(wanted), DETAIL_BATCH))
    details: dict[str, Any] = {}

    def detail(lead_eid: str) -> Any:
        while lead_eid not in details:
            details.update((r["lead_eid"], r) for r in tx.run(query, leads=next(batches), **params))
        return details[lead_eid]

    return detail


def _entity_node(labels: list[str], props: dict[str, Any]) -> NetworkNode:
    label = next((lb for lb in labels if lb in LABEL_KIND), labels[0])
    kind = LABEL_KIND.get(label)
    key_prop = kind.key_property if kind else "key"
    key = str(props.get(key_prop))
    shown = {k: native(v) for k, v in props.items() if k not in {"point"} and v is not None}
    if props.get("point") is not None:
        shown["lat"], shown["lon"] = props["point"].y, props["point"].x
    return NetworkNode(id=f"{kind.value if kind else label.lower()}:{key}", kind=kind.value if kind else label,
                       key=key, label=_display(kind, props, key), properties=shown)


def _display(kind: EntityKind | None, props: dict[str, Any], key: str) -> str:
    if kind is EntityKind.PERSON:
        return f"Personne {key.split(':')[-1][:8]}"  # a pseudonym is unreadable: show a short handle
    if kind is EntityKind.LOCATION:
        return props.get("address") or props.get("place_label") or props.get("commune") or key
    if kind is EntityKind.DEAL_POINT:
        return f"Point de deal — {props.get('label', key)}"
    if kind is EntityKind.SEIZURE:
        return f"Saisie {key.split(':seizure')[0]}"
    return key


def _lead_node(lead: dict[str, Any], level: str) -> NetworkNode:
    props = {k: native(v) for k, v in lead.items() if v is not None and k != "unplated_vehicles"}
    # The public vocabulary, as on a lead read: "full" or "redacted" — never the compiled
    # filter's internal level name ("redacted1"...), which says nothing to a reader.
    props["access"] = shown(level)
    return NetworkNode(id=f"lead:{lead['lead_id']}", kind="lead", key=lead["lead_id"],
                       label=f"{lead['kind']} — {lead['agency']}", properties=props)
