"""Candidate generation for merges (« Rapprochements », graph/resolution/) on the ≥ 1M-node
benchmark graph, against the plain network read of the same entities, same run.

The graph is bench/analysis.py's (synthetic world, seed 2026), built once and kept under
``--data-dir`` (run bench/analysis.py first, or pass ``--build``). Seed entities are drawn from
fixed seeds: vehicles, persons and phones near-uniformly by key probe, and places of random
leads — ``--entities`` of them (1,000 by default: the hub's ``max_seed_entities``).

Per access filter (a gendarmerie analyst through the real policy path, and unrestricted), each
round times, warm (one untimed pass of each first; Python's collector outside the clock):

- candidates: ``find_candidates`` over all the seeds in one read transaction, as
  ``GET /api/v1/resolution/candidates`` runs it (every rule: aliases, plate variants, phones
  cited together, nearby places, co-presence; then the sides at the caller's level);
- network: ``graph.read.network`` at depth 1 of each of the same entities, one after the other.

Prints the median over ``--rounds`` of each, per 1,000 entities, and their ratio. No target is
asserted: the ratio says what candidate generation costs beside the read it sits next to.

    .venv/bin/python bench/resolution.py --data-dir ~/.cache/crosshub/bench-analysis
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.analysis import (  # noqa: E402 - after the path insert
    MIN_NODES,
    analysis_settings,
    build_graph,
    network_anchors,
    node_count,
    read_marker,
)
from bench.common import prepared_driver  # noqa: E402
from graph import identity  # noqa: E402
from graph.access import AccessFilter  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.labels import EntityKind  # noqa: E402
from graph.read import network  # noqa: E402
from graph.resolution import find_candidates  # noqa: E402
from hub.access import access_filter_for  # noqa: E402
from hub.contract.errors import NotFound  # noqa: E402
from policies.loader import load_policy  # noqa: E402
from policies.resolution import load_resolution_rules  # noqa: E402


def seed_entities(driver, db: str, n: int, rng: random.Random) -> list[tuple[EntityKind, str, str]]:
    """(kind, key, element id): three quarters actors (network_anchors), a quarter places of
    random leads (lead ids are random: a probe seeks the index)."""
    actors = network_anchors(driver, db, n - n // 4, rng)
    places = []
    while len(places) < n // 4:
        probe = "L-" + "".join(rng.choice("0123456789abcdef") for _ in range(8))
        rec = driver.execute_query(
            "MATCH (l:Lead) WHERE l.lead_id >= $p WITH l ORDER BY l.lead_id LIMIT 1 "
            "MATCH (l)-[:AT]->(loc:Location) RETURN loc.key AS k", p=probe, database_=db).records
        if rec:
            places.append((EntityKind.LOCATION, rec[0]["k"]))
    out = []
    for kind, key in actors + places:
        eid = driver.execute_query(
            f"MATCH (x:{kind.label.value} {{{kind.key_property}: $k}}) RETURN elementId(x) AS e",
            k=key, database_=db).records[0]["e"]
        out.append((kind, key, eid))
    return out


def time_candidates(graph: Graph, access: AccessFilter, rules, seeds) -> tuple[float, int]:
    eids = [eid for _, _, eid in seeds]
    gc.collect()
    gc.disable()
    try:
        t = time.perf_counter()
        result = graph.read(lambda tx: find_candidates(tx, access, rules, eids))
        return time.perf_counter() - t, len(result.candidates)
    finally:
        gc.enable()


def time_network(graph: Graph, access: AccessFilter, seeds) -> tuple[float, int]:
    gc.collect()
    gc.disable()
    nodes = 0
    try:
        t = time.perf_counter()
        for kind, key, _ in seeds:
            try:
                nodes += len(network(graph, kind, key, 1, access).nodes)
            except NotFound:  # unknown to this caller: answered like a key nobody holds
                pass
        return time.perf_counter() - t, nodes
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the analysis bench's kept store (e.g. ~/.cache/crosshub/bench-analysis)")
    parser.add_argument("--build", action="store_true", help="build the 1M graph if it is missing")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--pagecache", default="1g")
    args = parser.parse_args()
    data_dir = args.data_dir.expanduser().resolve() if args.data_dir else None
    rules = load_resolution_rules()
    with analysis_settings(data_dir, args.heap, args.pagecache) as (settings, _server):
        db = settings.neo4j_database
        driver = prepared_driver(settings, wipe=False)  # applies the schema (resolution indexes)
        try:
            nodes, marker = node_count(driver, db), read_marker(driver, db)
            if marker is None or nodes < MIN_NODES:
                if not args.build:
                    raise SystemExit("no ≥ 1M-node benchmark graph here: run bench/analysis.py "
                                     "--data-dir … first, or pass --build")
                marker = build_graph(driver, db, args.seed, MIN_NODES)
                nodes = node_count(driver, db)
            print(f"graph: {nodes:,} nodes ({marker.get('leads', '?')} leads, seed {marker.get('seed')})")
            graph = Graph(driver, db)
            rng = random.Random(args.seed + 7)
            seeds = seed_entities(driver, db, args.entities, rng)
            kinds = {k.value: sum(1 for s in seeds if s[0] is k) for k in {s[0] for s in seeds}}
            print(f"{len(seeds)} seed entities: {kinds}")
            analyst = identity.upsert_user(graph, agency="gendarmerie", role="analyst",
                                           name="bench-resolution")
            filters = {"gendarmerie analyst": access_filter_for(graph, analyst, policy=load_policy()),
                       "unrestricted": AccessFilter.unrestricted()}
            per = 1000 / len(seeds)
            for name, access in filters.items():
                time_candidates(graph, access, rules, seeds)  # warm: plans, pages, JIT
                time_network(graph, access, seeds)
                cand, net = [], []
                for _ in range(args.rounds):  # alternating, so drift in load hits both alike
                    c, pairs = time_candidates(graph, access, rules, seeds)
                    n, shown = time_network(graph, access, seeds)
                    cand.append(c)
                    net.append(n)
                c, n = statistics.median(cand) * per, statistics.median(net) * per
                print(f"{name}: candidates {c:.2f} s per 1,000 entities ({pairs} pairs), "
                      f"network depth 1 {n:.2f} s per 1,000 entities ({shown:,} nodes) "
                      f"→ ratio {c / n:.2f}x  (rounds: candidates "
                      f"{', '.join(f'{x:.2f}' for x in cand)} s; network "
                      f"{', '.join(f'{x:.2f}' for x in net)} s)", flush=True)
        finally:
            driver.close()


if __name__ == "__main__":
    main()
