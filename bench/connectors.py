"""Connector throughput against the bare ingest path, on the same leads, in one run:

(a) the police connector, from CSV exports dropped in its inbox to the hub's acknowledgement:
    read and parse the files, map, sanitize, pseudonymize, validate, commit to the SQLite outbox
    with the cursor (fsync), push signed batches, apply the acknowledgements (fsync), move the
    files aside, post the run record;
(b) the bare HTTP ingest path: the very same lead payloads, serialized before the clock starts
    (as ``bench/ingest.py`` does), signed and posted one batch after the other, like a connector;
(c) for the breakdown: the connector with no hub to talk to — source to durable outbox only.

The hub is a real uvicorn process (``bench.common.served_hub``) on a real Neo4j; it is warmed up
(query plans, first connections) before anything is timed, the graph is wiped before each timed
step, and (a) and (b) run in several rounds in alternating order (the graph and the JVM keep
warming up; the best round of each counts, every round is printed). Prints leads/s for each and
the ratio (a)/(b). Run:

    .venv/bin/python bench/connectors.py [--leads 5000] [--batch 500] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver, register_connector, served_hub
from connectors.base import RunStatus
from connectors.demo.sources.police import write_samples
from connectors.police.connector import PoliceConnector, PoliceSettings
from connectors.push import PushPolicy
from graph.driver import reset_database
from graph.handle import Graph
from hub.contract.signing import load_private_key, sign_request

LINKAGE_KEY = "bench-linkage-key-0123456789abcdef"


def _count(driver, db: str) -> int:
    return driver.execute_query("MATCH (l:Lead) RETURN count(l) AS n", database_=db).records[0]["n"]


def police(work: Path, inbox: Path, hub_url: str, token: str, key_path: Path, batch: int,
           state: str) -> PoliceConnector:
    return PoliceConnector(PoliceSettings(
        hub_url=hub_url, hub_token=SecretStr(token), state_dir=str(work / state),
        signing_key_path=str(key_path), linkage_key=SecretStr(LINKAGE_KEY), inbox_dir=inbox,
        processed_dir=work / f"{state}-processed", settle_s=0, batch_size=batch,
        schedule_interval_s=None,
    ))


def payloads(connector: PoliceConnector) -> list[dict[str, Any]]:
    """The leads the connector makes of its inbox, built without pushing or moving anything."""
    out = []
    for record in connector.collect(None):
        try:
            out.append(connector.build_lead(record).model_dump(mode="json"))
        except Exception:  # noqa: BLE001, S112 - the samples' malformed rows, quarantined by a run
            continue
    return out


def post_all(url: str, token: str, key_path: Path, bodies: list[bytes]) -> int:
    key = load_private_key(key_path)
    acknowledged = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        for body in bodies:
            headers = sign_request(key, "POST", "/api/v1/leads", body)
            headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            resp = client.post("/api/v1/leads", content=body, headers=headers)
            resp.raise_for_status()
            acknowledged += len(resp.json()["results"])
    return acknowledged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=5000, help="rows in the police exports")
    parser.add_argument("--batch", type=int, default=500, help="leads per push (connector batch_size)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of (a) and (b), in alternating order; the best of each counts")
    args = parser.parse_args()

    with bench_settings() as settings, tempfile.TemporaryDirectory(prefix="crosshub-bench-conn-") as tmp:
        work = Path(tmp)
        db = settings.neo4j_database
        driver = prepared_driver(settings)
        graph = Graph(driver, db)
        pristine = work / "exports"
        print(f"writing police exports ({args.leads} rows)…", flush=True)
        truth = write_samples(pristine, seed=5, n=args.leads)
        expected = len(truth["leads"])
        warm_inbox = work / "warm-inbox"
        write_samples(warm_inbox, seed=6, n=min(args.batch * 2, 1000))

        def fresh_inbox(tag: str) -> Path:
            inbox = work / f"inbox-{tag}"
            shutil.copytree(pristine, inbox, copy_function=shutil.copy2)  # mtimes kept
            return inbox

        def register() -> tuple[str, Path]:
            return register_connector(driver, settings, "police", "police", work)

        timings: dict[str, list[float]] = {"a": [], "b": []}
        with served_hub(settings, CROSSHUB_MAX_BATCH_SIZE=str(max(args.batch, 1000)),
                        CROSSHUB_HUB_JOBS_ENABLED="false") as url:
            # Warm-up: first queries planned, connections open; then a clean graph.
            token, key_path = register()
            warm = police(work, warm_inbox, url, token, key_path, args.batch, "state-warm").run()
            assert warm.status == RunStatus.OK, warm
            reset_database(graph)

            # The payloads of (b): what the connector makes of the same exports, with the same key.
            token, key_path = register()
            leads = payloads(police(work, pristine, url, token, key_path, args.batch, "state-build"))
            n = len(leads)
            bodies = [json.dumps({"leads": leads[i:i + args.batch]}, ensure_ascii=False).encode()
                      for i in range(0, n, args.batch)]

            def run_a(k: int) -> None:
                token, key_path = register()
                connector = police(work, fresh_inbox(f"a{k}"), url, token, key_path, args.batch, f"state-a{k}")
                t0 = time.perf_counter()
                record = connector.run()
                timings["a"].append(time.perf_counter() - t0)
                assert record.status == RunStatus.OK and record.outbox_pending == 0, record
                assert record.count_pushed == n, (record.count_pushed, n)
                assert _count(driver, db) == expected

            def run_b(_k: int) -> None:
                token, key_path = register()
                t0 = time.perf_counter()
                acknowledged = post_all(url, token, key_path, bodies)
                timings["b"].append(time.perf_counter() - t0)
                assert acknowledged == n and _count(driver, db) == expected

            for k in range(args.rounds):
                for step in (run_b, run_a) if k % 2 == 0 else (run_a, run_b):
                    step(k)
                    reset_database(graph)

        # (c) the connector alone: the hub is gone, everything stops at the durable outbox.
        token, key_path = register()
        alone = police(work, fresh_inbox("c"), url, token, key_path, args.batch, "state-c")
        alone.push_policy = PushPolicy(attempts=1, timeout_s=1)  # type: ignore[misc]
        t0 = time.perf_counter()
        offline = alone.run()
        alone_s = time.perf_counter() - t0
        assert offline.status == RunStatus.PARTIAL and offline.outbox_pending == n, offline
        driver.close()

    connector_s, bare_s = min(timings["a"]), min(timings["b"])
    rate_a, rate_b, rate_c = n / connector_s, n / bare_s, n / alone_s

    def rounds(key: str) -> str:
        return ", ".join(f"{n / t:.0f}" for t in timings[key])

    print()
    print(f"leads: {n} pushed ({expected} distinct, from {offline.count_in} rows, "
          f"{offline.count_quarantined} quarantined, {len(truth['files'])} files)  batch: {args.batch}  "
          f"rounds: {args.rounds} (best shown)")
    print(f"(a) police connector, CSV → hub ack   {rate_a:8.0f} leads/s   ({connector_s:.2f} s; rounds: {rounds('a')})")
    print(f"(b) bare HTTP ingest, same payloads   {rate_b:8.0f} leads/s   ({bare_s:.2f} s; rounds: {rounds('b')})")
    print(f"(c) connector alone, CSV → outbox     {rate_c:8.0f} leads/s   ({alone_s:.2f} s)")
    print(f"(a)/(b) = {rate_a / rate_b:5.2f}")


if __name__ == "__main__":
    main()
