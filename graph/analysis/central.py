"""Central actors of a neighbourhood: degree and betweenness of the entities around an anchor.

The neighbourhood is the network read of graph/read.py (``depth`` lead-hops, leads the caller
may not read never expanded, hidden ones only as hits), so this analysis sees exactly what the
caller's link chart shows. Betweenness is computed here with Brandes' algorithm (Neo4j
Community has no GDS): the neighbourhood is bounded by ``max_nodes``, so O(V·E) is at most a
few million steps.

The anchor is resolved by that read: unknown (404) when only leads the caller may not even know
of assert it; known only as a hit, the neighbourhood is the anchor alone and nothing is ranked
(a lone node is no actor), the hits are returned.

Agencies, substances and communes are left out of the computation: everything links to them,
so they would come out "central" and bridge leads that have nothing else in common. Leads and
seizures stay in the graph (they are what joins two actors) but are not ranked: the actors are
persons, phones, vehicles, places and deal points.
"""

from __future__ import annotations

from collections import deque

from graph import read as graph_read
from graph.access import AccessFilter
from graph.analysis._common import normalize_key
from graph.analysis.models import CentralActor, CentralityResult, CentralParams
from graph.handle import Graph

NOT_IN_GRAPH = {"agency", "substance", "commune"}
ACTORS = {"person", "phone", "vehicle", "location", "deal_point"}


def central_actors(graph: Graph, access: AccessFilter,
                   params: CentralParams) -> CentralityResult:
    key = normalize_key(params.kind, params.key, "key")
    net = graph_read.network(graph, params.kind, key, params.depth, access,
                             max_nodes=params.max_nodes)
    kinds = {n.id: n.kind for n in net.nodes}
    adjacency: dict[str, set[str]] = {n.id: set() for n in net.nodes if n.kind not in NOT_IN_GRAPH}
    for edge in net.edges:
        if edge.source in adjacency and edge.target in adjacency and edge.source != edge.target:
            adjacency[edge.source].add(edge.target)
            adjacency[edge.target].add(edge.source)
    raw = betweenness(adjacency)
    n = len(adjacency)
    scale = 2.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
    ranked = sorted((node_id for node_id in adjacency if kinds[node_id] in ACTORS and net.edges),
                    key=lambda v: (-raw[v], -len(adjacency[v]), v))
    by_id = {node.id: node for node in net.nodes}
    actors = [CentralActor(rank=i + 1, node=by_id[v], degree=len(adjacency[v]),
                           betweenness=round(raw[v] * scale, 6), betweenness_raw=round(raw[v], 6),
                           is_anchor=v == net.anchor)
              for i, v in enumerate(ranked[: params.limit])]
    return CentralityResult(anchor=net.anchor, depth=params.depth, node_count=n,
                            edge_count=sum(len(a) for a in adjacency.values()) // 2,
                            actors=actors, hits=net.hits, truncated=net.truncated)


def betweenness(adjacency: dict[str, set[str]]) -> dict[str, float]:
    """Unnormalized betweenness of every node of an undirected, unweighted graph (Brandes 2001):
    for each pair of other nodes, the share of their shortest paths passing through the node."""
    nodes = sorted(adjacency)
    score = dict.fromkeys(nodes, 0.0)
    for source in nodes:
        order: list[str] = []
        preds: dict[str, list[str]] = {v: [] for v in nodes}
        paths = dict.fromkeys(nodes, 0)
        paths[source] = 1
        dist = dict.fromkeys(nodes, -1)
        dist[source] = 0
        queue = deque([source])
        while queue:
            v = queue.popleft()
            order.append(v)
            for w in sorted(adjacency[v]):
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    queue.append(w)
                if dist[w] == dist[v] + 1:
                    paths[w] += paths[v]
                    preds[w].append(v)
        dependency = dict.fromkeys(nodes, 0.0)
        for w in reversed(order):
            for v in preds[w]:
                dependency[v] += paths[v] / paths[w] * (1 + dependency[w])
            if w != source:
                score[w] += dependency[w]
    # Each unordered pair was counted from both ends.
    return {v: s / 2 for v, s in score.items()}
