"""FollowTheMoney (FtM) export: one entity per line, ``{"id", "schema", "properties"}`` with every
property value a list of strings — the shape ``ftm`` tools and Aleph import.

Mapping (where FtM has a schema for it):
- a lead → ``Event`` (``name``: nature, agency and lead id; ``date``; ``summary``: the narrative
  when the caller may read it; ``location``: the commune; ``involved``: its persons;
  ``addressEntity``: its places; ``phoneMentioned``: its phone numbers; ``keywords``: handling
  code and nature; ``notes``: handling code and access level, in French);
- a vehicle → ``Vehicle`` (``registrationNumber`` and ``name``: the plate; ``country``);
- a person → ``Person`` whose ``name`` is the short handle of its pseudonym (``Personne
  1a2b3c4d``) and ``notes`` the full pseudonym — FtM requires a name, the hub holds none and
  never will;
- a location or a deal point → ``Address`` (``full``, ``city``, ``latitude``/``longitude``;
  the INSEE code in ``remarks``);
- a seizure → ``Note`` on its lead's Event (cash, weapons, substances in ``description``);
- every lead→entity link that FtM cannot express as a property of the Event (vehicles) →
  ``UnknownLink`` (``subject``: the Event, ``object``: the entity, ``role``: the link type).

Not mapped, documented: phones (FtM has no Phone schema: numbers travel as the Event's
``phoneMentioned``, not as entities), substances and communes (reference vocabulary: kept as
the Event's keywords and location), agencies, and hits (hit/no-hit is not an entity).
Ids are ``chx-`` + the SHA-1 of the hub's node id: stable across exports, no key in clear.

A marked copy (ADR 0026) opens with one ``Note`` entity (id ``chx-marquage-<mark id>``):
``name`` « Marquage CROSS Hub », ``description`` the visible mark (recipient, date,
justification, code), ``summary`` the token — FtM has no file-level metadata, and a Note is the
one schema every FtM tool imports without needing it to point at anything.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graph.models import Network, NetworkNode
from hub.brief.labels import agency_fr, kind_fr
from hub.exports.common import as_text
from hub.watermark import IssuedMark

SCHEMAS = ("Event", "Vehicle", "Person", "Address", "Note", "UnknownLink")
LINK_ROLE_FR = {
    "MENTIONS_VEHICLE": "véhicule mentionné", "INVOLVES": "personne impliquée", "AT": "lieu",
    "CONCERNS": "point de deal", "RECORDED": "saisie",
}


def ftm_id(node_id: str) -> str:
    return "chx-" + hashlib.sha1(node_id.encode("utf-8")).hexdigest()


def _props(**values: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        texts = [as_text(v) for v in items if v not in (None, "")]
        if texts:
            out[name] = list(dict.fromkeys(texts))
    return out


def _entity(node: NetworkNode) -> dict[str, Any] | None:
    p = node.properties
    if node.kind == "vehicle":
        country = node.key.split(":", 1)[0].lower() if ":" in node.key else "fr"
        return {"schema": "Vehicle", "properties": _props(name=node.key, registrationNumber=node.key,
                                                          country=country)}
    if node.kind == "person":
        return {"schema": "Person", "properties": _props(
            name=f"Personne {node.key.rsplit(':', 1)[-1][:8]}", notes=f"pseudonyme : {node.key}")}
    if node.kind == "location":
        full = p.get("address") or p.get("place_label") or p.get("commune") or node.key
        return {"schema": "Address", "properties": _props(
            full=full, city=p.get("commune"), latitude=p.get("lat"), longitude=p.get("lon"),
            remarks=f"INSEE {p['insee_code']}" if p.get("insee_code") else None, country="fr")}
    if node.kind == "deal_point":
        return {"schema": "Address", "properties": _props(
            full=f"Point de deal — {p.get('label') or node.key}",
            remarks=f"point de deal ; INSEE {p['insee_code']}" if p.get("insee_code") else "point de deal",
            country="fr")}
    return None


def to_entities(network: Network) -> list[dict[str, Any]]:
    by_id = {n.id: n for n in network.nodes}
    entities: dict[str, dict[str, Any]] = {}
    for n in network.nodes:
        mapped = _entity(n)
        if mapped:
            entities[n.id] = {"id": ftm_id(n.id), **mapped}
    events: dict[str, dict[str, Any]] = {}
    for n in network.nodes:
        if n.kind != "lead":
            continue
        p = n.properties
        events[n.id] = {"id": ftm_id(n.id), "schema": "Event", "properties": _props(
            name=f"{kind_fr(p.get('kind', ''))} — {agency_fr(p.get('agency', ''))} ({n.key})",
            date=p.get("reported_at"), summary=p.get("narrative"), location=None,
            keywords=[p.get("handling_code"), p.get("kind")],
            notes=f"Code de traitement {p.get('handling_code')} ; accès : {p.get('access')}",
            country="fr")}
    links: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for e in network.edges:
        event = events.get(e.source)
        target = by_id.get(e.target)
        if event is None or target is None:
            continue
        props = event["properties"]
        if target.kind == "person":
            props.setdefault("involved", []).append(ftm_id(target.id))
        elif target.kind in ("location", "deal_point"):
            props.setdefault("addressEntity", []).append(ftm_id(target.id))
            if target.kind == "location" and target.properties.get("commune"):
                props.setdefault("location", [])
                if target.properties["commune"] not in props["location"]:
                    props["location"].append(target.properties["commune"])
        elif target.kind == "phone":
            props.setdefault("phoneMentioned", []).append(target.key)
        elif target.kind == "vehicle":
            links.append({"id": ftm_id(f"{e.source}->{e.target}:{e.type}"), "schema": "UnknownLink",
                          "properties": _props(subject=event["id"], object=ftm_id(target.id),
                                               role=LINK_ROLE_FR.get(e.type, e.type),
                                               date=props.get("date", [None])[0])})
        elif target.kind == "seizure":
            tp = target.properties
            substances = [
                f"{x.target.split(':', 1)[-1]} {x.properties.get('quantity', '')} {x.properties.get('unit') or ''}"
                .strip()
                for x in network.edges if x.source == target.id and x.type == "OF_SUBSTANCE"]
            description = "; ".join(filter(None, [
                f"numéraire : {tp['cash_eur']} €" if tp.get("cash_eur") else None,
                f"armes : {tp['weapon_count']}" if tp.get("weapon_count") else None,
                "matériel de conditionnement" if tp.get("packaging_material") else None,
                ("produits : " + ", ".join(substances)) if substances else None,
            ])) or "saisie"
            notes.append({"id": ftm_id(target.id), "schema": "Note", "properties": _props(
                name=target.label, description=description, entity=event["id"])})
    for event in events.values():
        event["properties"] = {k: list(dict.fromkeys(v)) for k, v in event["properties"].items()}
    return [*events.values(), *entities.values(), *links, *notes]


def mark_note(mark: IssuedMark) -> dict[str, Any]:
    return {"id": f"chx-marquage-{mark.mark.mark_id}", "schema": "Note", "properties": _props(
        name="Marquage CROSS Hub", description=mark.text_fr(), summary=mark.token)}


def to_ftm(network: Network, mark: IssuedMark | None = None) -> bytes:
    entities = ([mark_note(mark)] if mark is not None else []) + to_entities(network)
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n"
                   for e in entities).encode("utf-8")
