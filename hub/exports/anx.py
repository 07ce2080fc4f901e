"""i2 Analyst's Notebook exchange format (ANX): ``Chart`` → ``ChartItemCollection`` of
``ChartItem``s, each an ``End/Entity`` (with ``Icon/IconStyle``) or a ``Link`` (``End1Id``,
``End2Id``, ``LinkStyle``), with ``AttributeCollection``s typed by the chart's
``AttributeClassCollection``; ``EntityTypeCollection`` and ``LinkTypeCollection`` declare the
types used. Element and attribute names are the ANX schema's (PascalCase).

Deviations from a chart saved by ANB itself, documented here:
- icon types are names from i2's standard icon set (``Person``, ``Car``, ``Phone``...) written as
  both ``EntityType/@Name`` and ``@IconFile``; an installation without one shows its default icon;
- every attribute is ``AttText`` (dates as ISO 8601 text): ANB's ``AttTime`` wants its own
  formatting per locale, and text imports everywhere;
- positions are a plain grid (leads on the first rows, then entities): lay out in ANB;
- ``IdReferenceLinking="true"``: a link's ends are the ``EntityId``s of its entities;
  ``Rigorous="false"``: ANB imports what it understands rather than refusing the chart over an
  unknown icon name;
- hits (hit/no-hit) are not chart items: they go on the anchor as the ``Hits`` attribute;
- a marked copy (ADR 0026) carries its mark in the chart ``Summary``: custom properties
  ``Destinataire``, ``Date``, ``Justification``, ``Code de traçage`` and ``Marque`` (the token)
  — ANB shows them in *Chart Properties* — and the visible text in an XML comment at the top.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from graph.models import Network
from hub.exports.common import as_text
from hub.watermark import IssuedMark

ICONS = {
    "lead": "Report", "vehicle": "Car", "person": "Person", "phone": "Phone", "location": "Address",
    "deal_point": "Drugs", "seizure": "Seizure", "substance": "Drugs", "commune": "Town", "agency": "Police",
}
ATTRIBUTES = ("Type", "Service", "Code de traitement", "Accès", "Date du signalement", "Commune",
              "Piste", "Rôle", "Quantité", "Hits")
GRID = 20
STEP = 160


def _attrs(item: ET.Element, values: dict[str, object]) -> None:
    present = {k: v for k, v in values.items() if v not in (None, "")}
    if not present:
        return
    coll = ET.SubElement(item, "AttributeCollection")
    for name, value in present.items():
        ET.SubElement(coll, "Attribute", {"AttributeClass": name, "Value": as_text(value)})


def to_anx(network: Network, mark: IssuedMark | None = None) -> bytes:
    from hub.exports import handling_code

    chart = ET.Element("Chart", {"IdReferenceLinking": "true", "Rigorous": "false"})
    classes = ET.SubElement(chart, "AttributeClassCollection")
    for name in ATTRIBUTES:
        ET.SubElement(classes, "AttributeClass", {"Name": name, "Type": "AttText",
                                                   "ShowValue": "false", "Visible": "true"})
    link_types = ET.SubElement(chart, "LinkTypeCollection")
    ET.SubElement(link_types, "LinkType", {"Name": "Link", "Colour": "0"})
    entity_types = ET.SubElement(chart, "EntityTypeCollection")
    for icon in sorted({ICONS.get(n.kind, "General") for n in network.nodes}):
        ET.SubElement(entity_types, "EntityType", {"Name": icon, "IconFile": icon})

    items = ET.SubElement(chart, "ChartItemCollection")
    hits = "; ".join(f"{h.agency} : {h.lead_count} ({h.contact or 'contact inconnu'})" for h in network.hits)
    ordered = sorted(network.nodes, key=lambda n: (n.kind != "lead", n.kind, n.id))
    for i, n in enumerate(ordered):
        p = n.properties
        item = ET.SubElement(items, "ChartItem", {
            "Label": n.label, "Description": f"{n.kind} {n.key}",
            "DateSet": "false", "XPosition": str((i % GRID) * STEP)})
        end = ET.SubElement(item, "End", {"Y": str((i // GRID) * STEP)})
        entity = ET.SubElement(end, "Entity", {"EntityId": n.id, "Identity": n.key})
        icon = ET.SubElement(entity, "Icon")
        ET.SubElement(icon, "IconStyle", {"Type": ICONS.get(n.kind, "General")})
        _attrs(item, {
            "Type": n.kind, "Service": p.get("agency"), "Code de traitement": p.get("handling_code"),
            "Accès": p.get("access"), "Date du signalement": p.get("reported_at"),
            "Commune": p.get("commune") or p.get("insee_code"),
            "Hits": hits if n.id == network.anchor else None,
        })
    for e in network.edges:
        item = ET.SubElement(items, "ChartItem", {"Label": e.type, "DateSet": "false"})
        link = ET.SubElement(item, "Link", {"End1Id": e.source, "End2Id": e.target})
        ET.SubElement(link, "LinkStyle", {"Type": "Link", "ArrowStyle": "ArrowOnHead"})
        qty = e.properties.get("quantity")
        _attrs(item, {"Service": e.agency, "Piste": e.lead_id, "Rôle": e.properties.get("role"),
                      "Quantité": f"{qty} {e.properties.get('unit') or ''}".strip() if qty is not None else None})
    summary = ET.SubElement(chart, "Summary")
    marking: tuple[tuple[str, str], ...] = ()
    if mark is not None:
        chart.insert(0, ET.Comment(" " + mark.text_fr().replace("--", "—") + " "))
        m = mark.mark
        marking = (("Destinataire", f"{m.recipient_fr()} — {m.user_id}"), ("Date", m.at),
                   ("Justification", m.justification), ("Code de traçage", mark.code), ("Marque", mark.token))
    props = ET.SubElement(summary, "CustomPropertyCollection")
    for name, value in (("Code de traitement", handling_code(network)), ("Ancre", network.anchor),
                        ("Profondeur", str(network.depth)), ("Tronqué", "oui" if network.truncated else "non"),
                        *marking):
        ET.SubElement(props, "CustomProperty", {"Name": name, "Type": "String", "Value": value})
    ET.indent(chart)
    return ET.tostring(chart, encoding="utf-8", xml_declaration=True)
