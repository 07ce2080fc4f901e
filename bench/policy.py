"""The cost of access-policy enforcement on network reads, comparing like with like: the same
caller, the same anchors, the **same rows**.

Two paths, both doing what every request does first (resolve the caller's token):

(a) written out: ``graph.read.network`` with a filter whose ``CASE`` is the gendarmerie
    analyst's policy hand-written as Cypher literals (own agency full; other agencies' H0/H1
    redacted, H2 / surveillance / ``restricted_to`` not naming them → hit; H3 and active
    embargoes → nothing), projecting the same properties: what a developer would write for
    that one caller with no policy engine;
(b) compiled: the hub's per-request path — active grants read, the policy compiled into a
    parameterized ``CASE`` (``hub.access.access_filter_for``, cached per role/agency/grants)
    and evaluated per lead inside the query.

Before timing, every anchor's network is read both ways at every depth and compared (nodes,
edges, hits, lead properties): the run stops if they differ, since the ratio would then compare
different work. Prints, per depth, p50/p95 of each path, the ratio of means, and the mean node,
lead and hit counts per read. Figures are printed, never asserted. Run:

    .venv/bin/python bench/policy.py [--leads 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver  # noqa: E402
from connectors.demo.story import generate_demo_leads  # noqa: E402
from graph import identity  # noqa: E402
from graph.access import FULL, HIT, LEAD_PROPERTIES, NONE, AccessFilter  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.labels import EntityKind  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from graph.read import network  # noqa: E402
from hub.contract.errors import NotFound  # noqa: E402
from hub.access import access_filter_for  # noqa: E402
from policies.loader import load_policy  # noqa: E402

POLICY = load_policy()  # the packaged policy, loaded once like the hub's rulebook
AGENCY = "gendarmerie"
ANALYST_HIDDEN = {"narrative", "source_reliability", "information_credibility"}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def written_out(compiled: AccessFilter, now: datetime) -> AccessFilter:
    """The gendarmerie analyst's policy as a literal Cypher CASE (rules.yaml read by a person),
    with the compiled filter's own projection profiles, so both project the same properties."""
    redacted = [level for level, props in compiled.profiles.items()
                if level not in (FULL, HIT, NONE)
                and {p for p in LEAD_PROPERTIES if p not in props} == ANALYST_HIDDEN]
    assert len(redacted) == 1, compiled.profiles
    case = (
        "CASE "
        f"WHEN l.agency = '{AGENCY}' THEN '{FULL}' "
        f"WHEN l.handling_code = 'H3' THEN '{NONE}' "
        f"WHEN l.embargo_until IS NOT NULL AND l.embargo_until > $acc_as_of THEN '{NONE}' "
        f"WHEN l.handling_code = 'H2' OR l.kind = 'surveillance' "
        f"  OR (size(coalesce(l.restricted_to, [])) > 0 AND NOT '{AGENCY}' IN l.restricted_to) "
        f"  THEN '{HIT}' "
        f"WHEN l.handling_code IN ['H0', 'H1'] THEN '{redacted[0]}' "
        f"ELSE '{NONE}' END"
    )
    return replace(compiled, case_expression=case, params={"acc_as_of": now})


def _shape(net) -> dict:
    data = net.model_dump(mode="json")
    for h in data.get("hits", []):
        h.pop("handle", None)  # sealed per call when the hub seals hits: not content
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["edges"] = sorted(data["edges"], key=lambda e: (e["source"], e["target"], e["type"],
                                                         e.get("lead_id") or ""))
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    leads = generate_demo_leads(seed=11, n=args.leads, weeks=52)
    with bench_settings() as settings:
        db = settings.neo4j_database
        driver = prepared_driver(settings)
        graph = Graph(driver, db)
        write_leads(graph, leads)
        analyst = identity.upsert_user(graph, agency=AGENCY, role="analyst", name="bench")
        token = identity.issue_token(graph, analyst.user_id).token
        plates = [r["p"] for r in driver.execute_query(
            "MATCH (v:Vehicle)<-[:MENTIONS_VEHICLE]-(l:Lead) WITH DISTINCT v "
            "RETURN v.plate AS p ORDER BY p", database_=db).records]
        now = datetime.now(UTC)
        by_hand = written_out(access_filter_for(graph, identity.principal_for_token(graph, token), now,
                                             policy=POLICY),
                              now)
        # Anchors among the plates the caller may at least know of: a plate asserted only by leads
        # it may not know of answers 404 at the anchor, before any network is read (ADR 0002).
        known = []
        for plate in plates:
            try:
                network(graph, EntityKind.VEHICLE, plate, 1, by_hand)
            except NotFound:
                continue
            known.append(plate)
        rng = random.Random(3)
        anchors = [rng.choice(known) for _ in range(args.queries)]

        def compiled_path() -> AccessFilter:
            caller = identity.principal_for_token(graph, token)
            return access_filter_for(Graph(driver, db), caller, now, policy=POLICY)

        def by_hand_path() -> AccessFilter:
            identity.principal_for_token(graph, token)  # authentication, as on path (b)
            return by_hand

        # Same rows, or no comparison.
        counts: dict[int, tuple[float, float, float]] = {}
        for depth in (1, 2, 3):
            nodes = leads_seen = hits = 0
            for plate in dict.fromkeys(anchors):
                a = network(graph, EntityKind.VEHICLE, plate, depth, by_hand)
                b = network(graph, EntityKind.VEHICLE, plate, depth, compiled_path())
                if _shape(a) != _shape(b):
                    sys.exit(f"depth {depth}, {plate}: the written-out and compiled reads differ — "
                             f"the ratio would compare different work")
            for plate in anchors:
                net = network(graph, EntityKind.VEHICLE, plate, depth, by_hand)
                nodes += len(net.nodes)
                leads_seen += sum(n.kind == "lead" for n in net.nodes)
                hits += sum(h.lead_count for h in net.hits)
            counts[depth] = (nodes / len(anchors), leads_seen / len(anchors), hits / len(anchors))

        def run(depth: int, path) -> list[float]:
            times = []
            for plate in anchors:
                t0 = time.perf_counter()
                network(graph, EntityKind.VEHICLE, plate, depth, path())
                times.append((time.perf_counter() - t0) * 1000)
            return times

        print(f"graph: {len(leads)} leads, {len(plates)} plated vehicles ({len(plates) - len(known)} "
              f"unknown to the caller); {len(anchors)} anchors "
              f"({len(set(anchors))} distinct); caller: {AGENCY} analyst; rows checked equal")
        for depth in (1, 2, 3):
            run(depth, by_hand_path), run(depth, compiled_path)  # warm-up: plans, page cache
            hand, comp = [], []
            for _ in range(2):  # interleaved, so drift hits both alike
                hand += run(depth, by_hand_path)
                comp += run(depth, compiled_path)
            ratio = statistics.mean(comp) / statistics.mean(hand)
            n_nodes, n_leads, n_hits = counts[depth]
            print(f"depth {depth}: written out p50 {_pct(hand, .5):6.1f} ms p95 {_pct(hand, .95):6.1f} ms | "
                  f"compiled p50 {_pct(comp, .5):6.1f} ms p95 {_pct(comp, .95):6.1f} ms | "
                  f"ratio {ratio:4.2f} | per read: {n_nodes:6.1f} nodes, {n_leads:6.1f} leads, "
                  f"{n_hits:5.1f} hit leads", flush=True)
        driver.close()


if __name__ == "__main__":
    main()
