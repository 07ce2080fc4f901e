"""Ingest throughput, three ways in one run, on the **same leads** and at the **same
concurrency** (``--workers`` threads each):

(a) the hub's HTTP ingest path: signed batches posted to a uvicorn-served hub (validation,
    signature and nonce check, UNWIND-batched writes, audit; its triage worker runs as in
    production);
(b) the same Cypher batched straight from this script (``graph.leads.write_leads`` on the same
    per-agency batches, marking leads for triage as ingest does);
(c) a naive loop: one write transaction per lead, over the same leads (``--naive-sample N``
    limits it to the first N when the full set would take too long: then said in the output).

Each path starts from an empty graph after a warm-up. Prints leads/s for each and the ratios
(figures only, never asserted). Run:

    .venv/bin/python bench/ingest.py [--leads 20000] [--batch 1000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver, register_connector, served_hub  # noqa: E402
from connectors.demo.story import generate_demo_leads  # noqa: E402
from graph.driver import reset_database  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from hub.contract.lead import Lead  # noqa: E402
from hub.contract.signing import load_private_key, sign_request  # noqa: E402


def _count(driver, db: str) -> int:
    return driver.execute_query("MATCH (l:Lead) RETURN count(l) AS n", database_=db).records[0]["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="concurrent writers, on every path")
    parser.add_argument("--naive-sample", type=int, default=None,
                        help="naive loop on the first N leads only (default: all of them)")
    args = parser.parse_args()

    print(f"generating {args.leads} leads…", flush=True)
    all_leads = generate_demo_leads(seed=7, n=args.leads, weeks=52)
    # Keep version 1 of each lead only, so every path writes the same N distinct leads.
    seen: set[tuple[str, str]] = set()
    leads: list[Lead] = []
    for lead in all_leads:
        identity_ = (lead.source_agency.value, lead.source_ref)
        if identity_ not in seen:
            seen.add(identity_)
            leads.append(lead)
    n = len(leads)
    by_agency: dict[str, list[Lead]] = {}
    for lead in leads:
        by_agency.setdefault(lead.source_agency.value, []).append(lead)
    # The same batches on paths (a) and (b): per agency (a connector pushes its own), in order.
    batches = [items[start : start + args.batch] for items in by_agency.values()
               for start in range(0, len(items), args.batch)]
    sample = leads if args.naive_sample is None else leads[: args.naive_sample]

    with bench_settings() as settings, tempfile.TemporaryDirectory() as keys:
        settings = settings.model_copy(update={"max_batch_size": max(args.batch, 1000)})
        db = settings.neo4j_database
        driver = prepared_driver(settings)
        graph = Graph(driver, db)

        def warm_up() -> None:
            # The JVM compiles the hot paths and the planner caches the plans, so no path pays
            # for them; then wipe.
            write_leads(graph, leads[: args.batch], chunk_size=args.batch)
            for lead in leads[args.batch : args.batch + 50]:
                write_leads(graph, [lead])
            reset_database(graph)

        # (b) direct batched Cypher, same batches, same concurrency
        warm_up()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda chunk: write_leads(graph, chunk, chunk_size=args.batch,
                                                    mark_for_triage=True), batches))
        direct_s = time.perf_counter() - t0
        assert _count(driver, db) == n
        reset_database(graph)

        # (c) naive: one transaction per lead, same concurrency
        warm_up()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            list(pool.map(lambda lead: write_leads(graph, [lead]), sample))
        naive_s = time.perf_counter() - t0
        assert _count(driver, db) == len(sample)
        reset_database(graph)

        # (a) HTTP: one connector per agency, bodies serialized before the clock starts (a
        # connector's outbox holds them ready), signed at send time.
        serialized = [(chunk[0].source_agency.value,
                       json.dumps({"leads": [x.model_dump(mode="json") for x in chunk]}).encode())
                      for chunk in batches]

        def connectors_and_bodies() -> list[tuple]:
            ids = {agency: register_connector(driver, settings, agency, f"bench-{agency}", Path(keys))
                   for agency in by_agency}
            return [(ids[agency][0], load_private_key(ids[agency][1]), body)
                    for agency, body in serialized]

        warm_up()
        bodies = connectors_and_bodies()
        with served_hub(settings, CROSSHUB_MAX_BATCH_SIZE=str(max(args.batch, 1000))) as url:
            client = httpx.Client(base_url=url, timeout=120)

            def post(item) -> int:
                token, key, body = item
                headers = sign_request(key, "POST", "/api/v1/leads", body)
                headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                resp = client.post("/api/v1/leads", content=body, headers=headers)
                resp.raise_for_status()
                return resp.json()["accepted"]

            post(bodies[0])  # warms the served hub's own paths; wiped, not counted
            reset_database(graph)
            bodies = connectors_and_bodies()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                accepted = sum(pool.map(post, bodies))
            http_s = time.perf_counter() - t0
            client.close()
        assert accepted == n, (accepted, n)
        assert _count(driver, db) == n
        driver.close()

    http_rate, direct_rate, naive_rate = n / http_s, n / direct_s, len(sample) / naive_s
    print()
    print(f"leads: {n}  batches: {len(batches)} of ≤ {args.batch}  concurrency: {args.workers} on every path")
    print(f"(a) HTTP ingest            {http_rate:10.0f} leads/s   ({http_s:.2f} s)")
    print(f"(b) direct batched Cypher  {direct_rate:10.0f} leads/s   ({direct_s:.2f} s)")
    naive_on = "the same leads" if len(sample) == n else f"the first {len(sample)} of them"
    print(f"(c) one tx per lead        {naive_rate:10.0f} leads/s   ({naive_s:.2f} s on {naive_on})")
    print(f"(a)/(b) = {http_rate / direct_rate:6.2f}   (b)/(c) = {direct_rate / naive_rate:6.1f}×   "
          f"(a)/(c) = {http_rate / naive_rate:6.1f}×")


if __name__ == "__main__":
    main()
