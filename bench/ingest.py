"""Ingest throughput, three ways in one run, on the same generated leads:

(a) the hub's HTTP ingest path: signed batches posted to a uvicorn-served hub (validation,
    signature and nonce check, UNWIND-batched writes);
(b) the same Cypher batched straight from this script (``graph.leads.write_leads``);
(c) a naive loop: one write transaction per lead (measured on a sample: it is slow by design).

Prints leads/s for each and the ratios (a)/(c) and (a)/(b) against their targets. Run:

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
from connectors.samples.demo import generate_demo_leads  # noqa: E402
from graph.driver import reset_database  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from hub.contract.lead import Lead  # noqa: E402
from hub.contract.signing import load_private_key, sign_request  # noqa: E402

TARGET_HTTP = 3000.0
TARGET_HTTP_OVER_NAIVE = 20.0
TARGET_HTTP_OVER_DIRECT = 0.5


def _count(driver, db: str) -> int:
    return driver.execute_query("MATCH (l:Lead) RETURN count(l) AS n", database_=db).records[0]["n"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="concurrent HTTP clients")
    parser.add_argument("--naive-sample", type=int, default=1000)
    args = parser.parse_args()

    print(f"generating {args.leads} leads…", flush=True)
    all_leads = generate_demo_leads(seed=7, n=args.leads, weeks=52)
    # Keep version 1 of each lead only, so every path writes the same N distinct leads.
    seen: set[str] = set()
    leads: list[Lead] = []
    for lead in all_leads:
        if lead.lead_id not in seen:
            seen.add(lead.lead_id)
            leads.append(lead)
    n = len(leads)
    by_agency: dict[str, list[Lead]] = {}
    for lead in leads:
        by_agency.setdefault(lead.source_agency.value, []).append(lead)

    with bench_settings() as settings, tempfile.TemporaryDirectory() as keys:
        settings = settings.model_copy(update={"max_batch_size": max(args.batch, 1000)})
        db = settings.neo4j_database
        driver = prepared_driver(settings)

        # Warm-up: the JVM compiles the hot paths and the planner caches the plans, so the first
        # path measured is not penalized. Then wipe.
        write_leads(driver, db, leads[: args.batch], chunk_size=args.batch)
        reset_database(driver, db)

        # (b) direct batched Cypher
        t0 = time.perf_counter()
        write_leads(driver, db, leads, chunk_size=args.batch, mark_for_triage=True)  # as ingest does
        direct_s = time.perf_counter() - t0
        assert _count(driver, db) == n
        reset_database(driver, db)

        # (a) HTTP: one connector per agency, bodies serialized before the clock starts (a
        # connector's outbox holds them ready), signed at send time.
        bodies = []
        for agency, items in by_agency.items():
            token, key_path = register_connector(driver, settings, agency, f"bench-{agency}", Path(keys))
            key = load_private_key(key_path)
            for start in range(0, len(items), args.batch):
                chunk = items[start : start + args.batch]
                body = json.dumps({"leads": [x.model_dump(mode="json") for x in chunk]}).encode()
                bodies.append((token, key, body))
        with served_hub(settings, CROSSHUB_MAX_BATCH_SIZE=str(max(args.batch, 1000))) as url:
            client = httpx.Client(base_url=url, timeout=120)

            def post(item) -> int:
                token, key, body = item
                headers = sign_request(key, "POST", "/api/v1/leads", body)
                headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                resp = client.post("/api/v1/leads", content=body, headers=headers)
                resp.raise_for_status()
                return resp.json()["accepted"]

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.workers) as pool:
                accepted = sum(pool.map(post, bodies))
            http_s = time.perf_counter() - t0
            client.close()
        assert accepted == n, (accepted, n)
        assert _count(driver, db) == n
        reset_database(driver, db)

        # (c) naive: one transaction per lead, on a sample
        sample = leads[: args.naive_sample]
        t0 = time.perf_counter()
        for lead in sample:
            write_leads(driver, db, [lead])
        naive_s = time.perf_counter() - t0
        driver.close()

    http_rate, direct_rate, naive_rate = n / http_s, n / direct_s, len(sample) / naive_s
    print()
    print(f"leads: {n}  batch: {args.batch}  HTTP clients: {args.workers}")
    print(f"(a) HTTP ingest            {http_rate:10.0f} leads/s   ({http_s:.2f} s)   target ≥ {TARGET_HTTP:.0f}")
    print(f"(b) direct batched Cypher  {direct_rate:10.0f} leads/s   ({direct_s:.2f} s)")
    print(f"(c) one tx per lead        {naive_rate:10.0f} leads/s   ({naive_s:.2f} s on {len(sample)})")
    print(f"(a)/(c) = {http_rate / naive_rate:6.1f}×   target ≥ {TARGET_HTTP_OVER_NAIVE:.0f}×")
    print(f"(a)/(b) = {http_rate / direct_rate:6.2f}    target ≥ {TARGET_HTTP_OVER_DIRECT}")


if __name__ == "__main__":
    main()
