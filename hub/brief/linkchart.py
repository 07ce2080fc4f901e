"""The link chart of the week's main clusters: connected components of the window's readable
leads and the entities they mention, largest (most leads) first, each drawn as a PNG.

Leads are joined through the vehicles, persons, phones and deal points they mention (not places:
a town's leads all share them). Nodes are labelled by kind — leads by their nature and agency,
entities by type and a short key (a person is a pseudonym's first hex digits: there is no name
anywhere to show). Only clusters joining at least two leads are drawn. A big cluster is drawn as
a connected extract that keeps its structure: grown from its most shared entity through the
leads that bridge to other shared entities.
"""

from __future__ import annotations

import heapq
import io
from collections import Counter
from dataclasses import dataclass

import networkx as nx
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from graph.meetings import WeekGraph

MAX_CLUSTERS = 3
MAX_DRAWN_NODES = 45
LEADS_PER_ENTITY = 3
KIND_SHORT = {"citizen_report": "Sig.", "field_intelligence": "Rens.", "surveillance": "Surv.",
              "stop_check": "Ctrl", "video_protection": "Vidéo", "arrest": "Interp.", "search": "Perq.",
              "seizure": "Saisie", "landlord_report": "Bailleur"}
DPI = 110
AGENCY_SHORT = {"police": "PN", "gendarmerie": "GN", "douanes": "Douane", "police_judiciaire": "PJ",
                "paf": "PAF", "gir": "GIR", "prefecture": "Préf.", "ofast": "OFAST"}
AGENCY_COLOURS = {
    "police": "#1f4e9c", "gendarmerie": "#2e7d32", "douanes": "#6a3d9a", "police_judiciaire": "#0b6e8a",
    "paf": "#8c564b", "gir": "#b35806", "prefecture": "#555555", "ofast": "#c2185b",
}
ENTITY_COLOUR = {"vehicle": "#f4a261", "person": "#e76f51", "phone": "#2a9d8f", "location": "#8ab17d",
                 "deal_point": "#d62828"}
ENTITY_SHAPE = {"vehicle": "s", "person": "o", "phone": "D", "location": "^", "deal_point": "p"}


@dataclass
class Cluster:
    png: bytes
    lead_count: int
    entity_count: int
    agencies: list[str]
    drawn_nodes: int
    total_nodes: int


def _short_label(kind: str, key: str, props: dict) -> str:
    if kind == "lead":
        agency, kind = props.get("agency", ""), props.get("kind", "")
        return f"{KIND_SHORT.get(kind, kind)} {AGENCY_SHORT.get(agency, agency)}"
    if kind == "person":
        return f"Pers. {key.rsplit(':', 1)[-1][:6]}"
    if kind == "vehicle":
        return key
    if kind == "phone":
        return f"Tél. …{key[-4:]}"
    if kind == "deal_point":
        return "Point de deal"
    if kind == "location":
        return "Lieu"
    return kind


def _graph(week: WeekGraph) -> nx.Graph:
    g = nx.Graph()
    for n in week.nodes:
        g.add_node(n.id, kind=n.kind, key=n.key, props=n.properties)
    for e in week.edges:
        g.add_edge(e.source, e.target)
    return g


def _trim(g: nx.Graph, nodes: set[str]) -> set[str]:
    """At most MAX_DRAWN_NODES of a big cluster, connected and showing its structure rather than
    one hub's star: grown from its most shared entity, a few leads per entity and round (those
    that bridge to other shared entities first), with the shared entities those leads reach."""
    if len(nodes) <= MAX_DRAWN_NODES:
        return nodes
    shared = {n for n in nodes if g.nodes[n]["kind"] != "lead" and g.degree(n) >= 2}
    start = max(shared, key=lambda n: (g.degree(n), n))
    keep = {start}
    hubs = [start]  # in the order reached
    grown = True
    while grown and len(keep) < MAX_DRAWN_NODES:
        grown = False
        queue = [(-g.degree(h), h) for h in hubs]
        heapq.heapify(queue)
        while queue and len(keep) < MAX_DRAWN_NODES:
            _, hub = heapq.heappop(queue)
            leads = sorted((n for n in g[hub] if n not in keep),
                           key=lambda n: (-len(shared.intersection(g[n]) - keep), n))[:LEADS_PER_ENTITY]
            for lead in leads:
                if len(keep) >= MAX_DRAWN_NODES:
                    break
                keep.add(lead)
                grown = True
                for other in sorted(shared.intersection(g[lead]) - keep):
                    if len(keep) >= MAX_DRAWN_NODES:
                        break
                    keep.add(other)
                    hubs.append(other)
                    heapq.heappush(queue, (-g.degree(other), other))
    return keep


def _grouped(g: nx.Graph, nodes: set[str]) -> nx.Graph:
    """The drawn graph, with leads mentioning exactly the same entities merged into one node
    ("4 pistes PN, GN"): a network's leads often all name the same few persons, and drawn one by
    one they pile up into an unreadable knot."""
    sub = g.subgraph(nodes)
    groups: dict[frozenset[str], list[str]] = {}
    out = nx.Graph()
    for n in sorted(sub):
        data = sub.nodes[n]
        if data["kind"] == "lead":
            groups.setdefault(frozenset(sub[n]), []).append(n)
        else:
            total = g.degree(n)
            out.add_node(n, kind=data["kind"], key=data["key"], props=data["props"],
                         trimmed_total=total if total > sub.degree(n) else None)
    for i, (neighbours, leads) in enumerate(sorted(groups.items(), key=lambda kv: kv[1][0])):
        agencies = sorted({sub.nodes[x]["props"].get("agency", "") for x in leads})
        if len(leads) == 1:
            node, data = leads[0], sub.nodes[leads[0]]
            out.add_node(node, kind="lead", key=data["key"], props=data["props"], count=1, agencies=agencies)
        else:
            node = f"leads:{i}"
            main = Counter(sub.nodes[x]["props"].get("agency", "") for x in leads).most_common(1)[0][0]
            out.add_node(node, kind="lead", key=node, props={"agency": main}, count=len(leads),
                         agencies=agencies)
        out.add_edges_from((node, other) for other in neighbours)
    return out


def _label(data: dict) -> str:
    if data["kind"] == "lead" and data.get("count", 1) > 1:
        return f"{data['count']} pistes\n{', '.join(AGENCY_SHORT.get(a, a) for a in data['agencies'])}"
    label = _short_label(data["kind"], data["key"], data["props"])
    if data.get("trimmed_total"):
        label += f"\n({data['trimmed_total']} pistes)"  # trimmed: how many leads it really joins
    return label


def _draw(g: nx.Graph, nodes: set[str], title: str) -> bytes:
    sub = _grouped(g, nodes)
    pos = nx.spring_layout(sub, seed=47, k=3.0 / max(len(sub) ** 0.5, 1), iterations=150)
    size = 6.6 if len(sub) > 25 else 5.4
    fig = Figure(figsize=(size, size * 0.7))
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title, fontsize=9, loc="left")
    nx.draw_networkx_edges(sub, pos, ax=ax, edge_color="#9aa5b1", width=0.9)
    leads = [n for n in sub if sub.nodes[n]["kind"] == "lead"]
    nx.draw_networkx_nodes(sub, pos, nodelist=leads, ax=ax, node_shape="h",
                           node_size=[300 + 60 * min(sub.nodes[n]["count"] - 1, 8) for n in leads],
                           node_color=[AGENCY_COLOURS.get(sub.nodes[n]["props"].get("agency"), "#444") for n in leads])
    for kind, shape in ENTITY_SHAPE.items():
        members = [n for n in sub if sub.nodes[n]["kind"] == kind]
        if members:
            nx.draw_networkx_nodes(sub, pos, nodelist=members, ax=ax, node_shape=shape, node_size=260,
                                   node_color=ENTITY_COLOUR[kind])
    nx.draw_networkx_labels(sub, pos, labels={n: _label(sub.nodes[n]) for n in sub}, ax=ax, font_size=5.5)
    ax.margins(0.12)
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def main_clusters(week: WeekGraph, limit: int = MAX_CLUSTERS) -> list[Cluster]:
    g = _graph(week)
    comps = []
    for comp in nx.connected_components(g):
        leads = [n for n in comp if g.nodes[n]["kind"] == "lead"]
        if len(leads) >= 2:
            comps.append((len(leads), len(comp), sorted(comp)[0], comp))
    comps.sort(key=lambda c: (-c[0], -c[1], c[2]))
    out = []
    for i, (n_leads, n_nodes, _, comp) in enumerate(comps[:limit], start=1):
        agencies = sorted({g.nodes[n]["props"].get("agency") for n in comp if g.nodes[n]["kind"] == "lead"})
        drawn = _trim(g, comp)
        title = f"Groupe {i} — {n_leads} pistes, {len(agencies)} service(s)"
        if len(drawn) < n_nodes:
            title += f" (extrait : {len(drawn)} nœuds sur {n_nodes})"
        out.append(Cluster(png=_draw(g, drawn, title), lead_count=n_leads, entity_count=n_nodes - n_leads,
                           agencies=agencies, drawn_nodes=len(drawn), total_nodes=n_nodes))
    return out
