"""GraphML export (Gephi, yEd): one typed ``<key>`` per property, ``<data>`` per value.

Key types follow the values: ``boolean``, ``long``, ``double``, else ``string`` (lists and maps
as JSON text, dates as ISO 8601). Gephi takes the ``label`` attribute as the node label; in yEd,
map ``label`` to the node label with *Edit → Properties Mapper* (yEd's own ``y:`` graphics
extension is not written: layout is left to the tool). Graph-level data carry the anchor, depth,
truncation flag and the export's handling code, and — for a marked copy (ADR 0026) — its mark:
``marquage`` (the visible text: recipient, date, justification, code) and ``marque`` (the token),
with the visible text repeated in an XML comment at the top of the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from graph.models import Network
from hub.exports.common import as_text
from hub.watermark import IssuedMark

NS = "http://graphml.graphdrawing.org/xmlns"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{NS} http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"


def _type_of(values: Iterable[Any]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds.add("boolean")
        elif isinstance(v, int):
            kinds.add("long")
        elif isinstance(v, float):
            kinds.add("double")
        else:
            kinds.add("string")
    if kinds == {"boolean"}:
        return "boolean"
    if kinds == {"long"}:
        return "long"
    if kinds and kinds <= {"long", "double"}:
        return "double"
    return "string"


def _value(v: Any, attr_type: str) -> str:
    if attr_type == "double":
        return repr(float(v))
    return as_text(v)


def to_graphml(network: Network, mark: IssuedMark | None = None) -> bytes:
    from hub.exports import handling_code

    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}graphml", {f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION})

    node_rows = [{"kind": n.kind, "key": n.key, "label": n.label, **n.properties} for n in network.nodes]
    edge_rows = [{"type": e.type, "agency": e.agency, "lead_id": e.lead_id, **e.properties} for e in network.edges]
    graph_data = {"anchor": network.anchor, "depth": network.depth, "truncated": network.truncated,
                  "handling_code": handling_code(network),
                  "hits": "; ".join(f"{h.entity} {h.agency}×{h.lead_count}" for h in network.hits)}
    if mark is not None:
        graph_data.update(marquage=mark.text_fr(), marque=mark.token)
        root.append(ET.Comment(" " + mark.text_fr().replace("--", "—") + " "))

    keys: dict[tuple[str, str], tuple[str, str]] = {}  # (for, name) -> (id, type)

    def declare(domain: str, rows: list[dict[str, Any]]) -> None:
        names: dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        for name in names:
            attr_type = _type_of(row.get(name) for row in rows)
            key_id = f"{domain[0]}{len([k for k in keys if k[0] == domain])}"
            keys[(domain, name)] = (key_id, attr_type)
            ET.SubElement(root, f"{{{NS}}}key", {"id": key_id, "for": domain, "attr.name": name,
                                                  "attr.type": attr_type})

    declare("graph", [graph_data])
    declare("node", node_rows)
    declare("edge", edge_rows)

    def data(parent: ET.Element, domain: str, row: dict[str, Any]) -> None:
        for name, value in row.items():
            if value is None:
                continue
            key_id, attr_type = keys[(domain, name)]
            ET.SubElement(parent, f"{{{NS}}}data", {"key": key_id}).text = _value(value, attr_type)

    graph = ET.SubElement(root, f"{{{NS}}}graph", {"id": "G", "edgedefault": "directed"})
    data(graph, "graph", graph_data)
    for n, row in zip(network.nodes, node_rows, strict=True):
        data(ET.SubElement(graph, f"{{{NS}}}node", {"id": n.id}), "node", row)
    for i, (e, row) in enumerate(zip(network.edges, edge_rows, strict=True)):
        data(ET.SubElement(graph, f"{{{NS}}}edge", {"id": f"e{i}", "source": e.source, "target": e.target}),
             "edge", row)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
