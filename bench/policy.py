"""Network-query latency with access-policy enforcement against the same query without it, in one
run, on the same graph and the same anchors.

Both paths resolve the caller's token first, as every request does (authentication happens
with or without a policy):
(a) without: ``graph.read.network`` with ``AccessFilter.unrestricted()``;
(b) with: the full per-request path of a gendarmerie analyst — active grants read with the
    identity in the same round trip, the compiled policy filter (cached per role/agency/grants),
    and the CASE evaluated per lead inside the query.

Prints p50/p95 per depth and the ratio of means (target ≤ 1.2). Run:

    .venv/bin/python bench/policy.py [--leads 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver  # noqa: E402
from connectors.samples.demo import generate_demo_leads  # noqa: E402
from graph import identity  # noqa: E402
from graph.access import AccessFilter  # noqa: E402
from graph.labels import EntityKind  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from graph.read import network  # noqa: E402
from hub.access import access_filter_for  # noqa: E402

TARGET = 1.2


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    leads = generate_demo_leads(seed=11, n=args.leads, weeks=52)
    with bench_settings() as settings:
        db = settings.neo4j_database
        driver = prepared_driver(settings)
        write_leads(driver, db, leads)
        analyst = identity.upsert_user(driver, db, agency="gendarmerie", role="analyst", name="bench")
        token = identity.issue_token(driver, db, analyst.user_id).token
        plates = [r["p"] for r in driver.execute_query(
            "MATCH (v:Vehicle)<-[:MENTIONS_VEHICLE]-(l:Lead) WITH v, count(l) AS n WHERE n >= 1 "
            "RETURN v.plate AS p ORDER BY p", database_=db).records]
        rng = random.Random(3)
        anchors = [rng.choice(plates) for _ in range(args.queries)]
        unrestricted = AccessFilter.unrestricted()

        def run(depth: int, with_policy: bool) -> list[float]:
            times = []
            for plate in anchors:
                t0 = time.perf_counter()
                caller = identity.principal_for_token(driver, db, token)
                access = access_filter_for(driver, db, caller) if with_policy else unrestricted
                network(driver, db, EntityKind.VEHICLE, plate, depth, access)
                times.append((time.perf_counter() - t0) * 1000)
            return times

        print(f"graph: {len(leads)} leads, {len(plates)} plated vehicles; {args.queries} anchors")
        for depth in (1, 2, 3):
            run(depth, False), run(depth, True)  # warm-up: plans cached, pages in memory
            # Interleave the two so drift (GC, page cache) hits both alike.
            without, with_ = [], []
            for _ in range(2):
                without += run(depth, False)
                with_ += run(depth, True)
            ratio = statistics.mean(with_) / statistics.mean(without)
            print(f"depth {depth}: without p50 {_pct(without, .5):6.1f} ms p95 {_pct(without, .95):6.1f} ms | "
                  f"with p50 {_pct(with_, .5):6.1f} ms p95 {_pct(with_, .95):6.1f} ms | "
                  f"ratio {ratio:4.2f} (target ≤ {TARGET})")
        driver.close()


if __name__ == "__main__":
    main()
