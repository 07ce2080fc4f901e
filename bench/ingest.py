"""Ingest throughput against its floor, in one run, on the **same leads** at the **same
concurrency** (``--workers`` writers on every path):

- **floor**: the very nodes and relationships ingest writes for these leads (read back from the
  graph after the warm-up pass, so they are the same elements, counted and printed) written with
  plain ``CREATE`` in large UNWIND batches (``FLOOR_BATCH`` rows) into an empty database with no
  schema: nodes first (their element ids kept), then relationships matched by element id. No
  MERGE, no lookup, no index or constraint to maintain: what the store itself costs;
- **bare write**: ``graph.leads.write_leads`` called straight from this script on the per-agency
  batches a connector would push, marking the leads for triage as ingest does;
- **HTTP through 1 hub** and **through N hubs** (``--hubs N``, default 2): signed batches posted
  to uvicorn-served hub processes (validation, signature and nonce check, audit, the same write;
  their triage workers run as in production), the writers spread over the hubs round-robin.

Warm: one full pass of every path first (the JVM compiles, the planner caches, each hub process
imports and compiles its own paths), then ``--rounds`` rounds, the order of the paths reversed
every other round; each path starts from an empty graph; medians are printed with the ratios,
and the transient retries (deadlocks above all) observed on each path: the bare write's counted
by ``graph.leads.transient_retries``, the hubs' from the warning each logs on a retry.

Why the floor shares the database: Community edition has one user database, so the floor runs in
the same one, between the other phases, in the same run: it wipes the graph, drops every
constraint and index (the token lookup indexes, which Neo4j keeps for every database, stay), writes,
wipes again and re-applies the hub's schema (``graph.setup.apply_schema``, idempotent; fast on an
empty graph). The alternative, a dedicated run, would measure the floor on a different JVM warm-up
and machine load than the paths it is compared with. The hubs are started for their own phases
only (their triage workers would otherwise pick up the bare write's pending leads) and stopped
before the next phase, once they have acknowledged everything.

Hub data dirs: the hubs share one ``CROSSHUB_DATA_DIR`` (each writes its own audit segment);
``--separate-data-dirs`` gives each extra hub its own, holding a copy of the first hub's keys (how
hubs had to run before the audit trail took one segment per writer).

Run (figures only, never asserted):

    .venv/bin/python bench/ingest.py [--leads 20000] [--batch 1000] [--workers 2] [--hubs 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import queue
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver, register_connector, served_hub  # noqa: E402
from connectors.demo.story import generate_demo_leads  # noqa: E402
from graph.driver import reset_database  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.leads import RETRY_LOG_MARK, TRIAGE_PENDING, transient_retries, write_leads  # noqa: E402
from graph.setup import apply_schema  # noqa: E402
from hub.contract.lead import Lead  # noqa: E402
from hub.contract.signing import load_private_key, sign_request  # noqa: E402

# The floor's transaction size, in rows (nodes or relationships): large, yet small enough for
# the writers to share the work evenly (a single label or type would otherwise be one job).
FLOOR_BATCH = 5_000
DEADLOCK = "DeadlockDetected"


def _count(graph: Graph) -> int:
    return graph.query("MATCH (l:Lead) RETURN count(l) AS n")[0]["n"]


def _in_parallel(workers: int, fn: Callable, items: list) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


# --- the floor -----------------------------------------------------------------------------------


class Floor:
    """The elements ingest wrote for the leads, read back once, and how to write them bare."""

    def __init__(self, graph: Graph) -> None:
        self.nodes: dict[tuple[str, ...], list[dict]] = {}
        for r in graph.query("MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, "
                             "properties(n) AS p"):
            self.nodes.setdefault(tuple(sorted(r["labels"])), []).append({"id": r["id"], "p": r["p"]})
        self.rels: dict[str, list[dict]] = {}
        for r in graph.query("MATCH (a)-[r]->(b) RETURN elementId(a) AS a, elementId(b) AS b, "
                             "type(r) AS t, properties(r) AS p"):
            self.rels.setdefault(r["t"], []).append({"a": r["a"], "b": r["b"], "p": r["p"]})
        self.node_count = sum(len(v) for v in self.nodes.values())
        self.rel_count = sum(len(v) for v in self.rels.values())

    def counts(self) -> str:
        nodes = ", ".join(f"{':'.join(k)} {len(v)}" for k, v in sorted(self.nodes.items()))
        rels = ", ".join(f"{k} {len(v)}" for k, v in sorted(self.rels.items()))
        return (f"{self.node_count} nodes ({nodes})\n       {self.rel_count} relationships ({rels})")

    def write(self, graph: Graph, workers: int) -> float:
        """Drop the schema, write every element with plain CREATE, time it; the caller wipes and
        restores the schema."""
        _drop_schema(graph)
        t0 = time.perf_counter()
        node_jobs = sorted(((labels, rows[i : i + FLOOR_BATCH]) for labels, rows in self.nodes.items()
                            for i in range(0, len(rows), FLOOR_BATCH)), key=lambda job: -len(job[1]))

        def create_nodes(job) -> dict[str, str]:
            labels, rows = job
            # Labels come from the graph ingest wrote, never from input.
            cypher = (f"UNWIND $rows AS row CREATE (n:{':'.join(labels)}) SET n = row.p "
                      "RETURN row.id AS old, elementId(n) AS new")
            return {r["old"]: r["new"] for r in graph.write(
                lambda tx: list(tx.run(cypher, rows=rows)))}

        ids: dict[str, str] = {}
        for part in _in_parallel(workers, create_nodes, node_jobs):
            ids.update(part)
        rel_jobs = sorted(((t, [{"a": ids[x["a"]], "b": ids[x["b"]], "p": x["p"]}
                                for x in rows[i : i + FLOOR_BATCH]])
                           for t, rows in self.rels.items() for i in range(0, len(rows), FLOOR_BATCH)),
                          key=lambda job: -len(job[1]))

        def create_rels(job) -> None:
            rel_type, rows = job
            cypher = ("UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.a "
                      "MATCH (b) WHERE elementId(b) = row.b "
                      f"CREATE (a)-[r:{rel_type}]->(b) SET r = row.p")
            graph.write(lambda tx: tx.run(cypher, rows=rows).consume())

        _in_parallel(workers, create_rels, rel_jobs)
        return time.perf_counter() - t0


def _drop_schema(graph: Graph) -> None:
    for r in graph.query("SHOW CONSTRAINTS YIELD name"):
        graph.query(f"DROP CONSTRAINT `{r['name']}` IF EXISTS")
    for r in graph.query("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'"):
        graph.query(f"DROP INDEX `{r['name']}` IF EXISTS")
    left = graph.query("SHOW INDEXES YIELD type WHERE type <> 'LOOKUP' RETURN count(*) AS n")[0]["n"]
    assert left == 0, f"{left} indexes left: the floor must run without a schema"


# --- HTTP ----------------------------------------------------------------------------------------


class Hubs:
    """N hub processes on the benchmark's graph, started for one phase; the data dir of each
    extra hub holds a copy of the first one's keys unless they share one."""

    def __init__(self, settings, n: int, batch: int, shared: bool, logs: Path) -> None:
        self.settings, self.n, self.batch, self.shared, self.logs = settings, n, batch, shared, logs
        self.extra_dirs = [] if shared else [Path(tempfile.mkdtemp(prefix=f"crosshub-bench-hub{i}-"))
                                             for i in range(1, n)]
        self.log_files: list[Path] = []

    def __call__(self, n: int, stack: ExitStack) -> list[str]:
        urls = []
        for i in range(n):
            data_dir = self.settings.data_dir if i == 0 or self.shared else self.extra_dirs[i - 1]
            if i > 0 and not self.shared:
                shutil.rmtree(data_dir / "keys", ignore_errors=True)
                if self.settings.keys_dir.exists():
                    shutil.copytree(self.settings.keys_dir, data_dir / "keys")
            log = self.logs / f"hub{i}-{len(self.log_files)}.log"
            self.log_files.append(log)
            urls.append(stack.enter_context(served_hub(
                self.settings, log_path=log, CROSSHUB_DATA_DIR=str(data_dir),
                CROSSHUB_MAX_BATCH_SIZE=str(max(self.batch, 1000)))))
        return urls

    def retries(self, since: int = 0) -> Counter:
        """Transient retries the hubs logged, in the logs of the phases from ``since`` on."""
        found: Counter = Counter()
        for log in self.log_files[since:]:
            if log.exists():
                for line in log.read_text(errors="replace").splitlines():
                    if RETRY_LOG_MARK in line:
                        m = re.search(r"\(([^)]*)\)", line)
                        found[m.group(1) if m else "?"] += 1
        return found


def post_through(urls: list[str], bodies: list[tuple], workers: int) -> int:
    """Post every body, ``workers`` writers at a time, writer k through hub k mod N."""
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in bodies:
        work.put(item)
    accepted = [0] * workers
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        with httpx.Client(base_url=urls[k % len(urls)], timeout=300) as client:
            while True:
                try:
                    token, key, body = work.get_nowait()
                except queue.Empty:
                    return
                headers = sign_request(key, "POST", "/api/v1/leads", body)
                headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                try:
                    resp = client.post("/api/v1/leads", content=body, headers=headers)
                    resp.raise_for_status()
                except BaseException as exc:  # noqa: BLE001 — reported after the join
                    errors.append(exc)
                    return
                accepted[k] += resp.json()["accepted"]

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(accepted)


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="concurrent writers, on every path")
    parser.add_argument("--hubs", type=int, default=2, help="hub processes of the multi-hub path")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after the warm pass")
    parser.add_argument("--separate-data-dirs", action="store_true",
                        help="each extra hub on its own CROSSHUB_DATA_DIR with a copy of the keys")
    parser.add_argument("--only", default="", help="comma-separated subset of floor,bare,http1,httpN")
    args = parser.parse_args()

    print(f"generating {args.leads} leads…", flush=True)
    all_leads = generate_demo_leads(seed=7, n=args.leads, weeks=52)
    # Keep version 1 of each lead only, so every path writes the same N distinct leads.
    seen: set[str] = set()
    leads: list[Lead] = []
    for lead in all_leads:
        if lead.source_key not in seen:
            seen.add(lead.source_key)
            leads.append(lead)
    n = len(leads)
    by_agency: dict[str, list[Lead]] = {}
    for lead in leads:
        by_agency.setdefault(lead.source_agency.value, []).append(lead)
    # The same batches on every path: per agency (a connector pushes its own), in order.
    batches = [items[start : start + args.batch] for items in by_agency.values()
               for start in range(0, len(items), args.batch)]
    # A connector's outbox holds its bodies serialized: done before any clock starts.
    serialized = [(chunk[0].source_agency.value,
                   json.dumps({"leads": [x.model_dump(mode="json") for x in chunk]}).encode())
                  for chunk in batches]
    # The leads live for the whole run: the collector need not walk them again and again.
    gc.collect()
    gc.freeze()

    with bench_settings() as settings, tempfile.TemporaryDirectory() as tmp:
        settings = settings.model_copy(update={"max_batch_size": max(args.batch, 1000)})
        driver = prepared_driver(settings)
        graph = Graph(driver, settings.neo4j_database)
        keys, logs = Path(tmp) / "keys", Path(tmp) / "logs"
        keys.mkdir()
        logs.mkdir()
        hubs = Hubs(settings, args.hubs, args.batch, not args.separate_data_dirs, logs)

        triaged: dict[str, list[int]] = {f"http{k}": [] for k in (1, args.hubs)}

        def wipe() -> None:
            reset_database(graph)

        def bare() -> float:
            wipe()
            t0 = time.perf_counter()
            _in_parallel(args.workers, lambda chunk: write_leads(
                graph, chunk, chunk_size=args.batch, mark_for_triage=True), batches)
            took = time.perf_counter() - t0
            assert _count(graph) == n
            return took

        def http(n_hubs: int) -> Callable[[], float]:
            def run() -> float:
                wipe()
                ids = {agency: register_connector(driver, settings, agency, f"bench-{agency}", keys)
                       for agency in by_agency}
                bodies = [(ids[agency][0], load_private_key(ids[agency][1]), body)
                          for agency, body in serialized]
                with ExitStack() as stack:
                    urls = hubs(n_hubs, stack)
                    t0 = time.perf_counter()
                    accepted = post_through(urls, bodies, max(args.workers, n_hubs))
                    took = time.perf_counter() - t0
                    # How much triage the hubs did inside the timed window, alongside ingest.
                    triaged[f"http{n_hubs}"].append(n - graph.query(
                        f"MATCH (l:{TRIAGE_PENDING}) RETURN count(l) AS n")[0]["n"])
                assert accepted == n, (accepted, n)
                assert _count(graph) == n
                return took
            return run

        # The warm pass writes the leads once: the floor's elements are read back from it.
        print("warm pass…", flush=True)
        wipe()
        write_leads(graph, leads, chunk_size=args.batch, mark_for_triage=True)
        floor = Floor(graph)

        def floor_run() -> float:
            wipe()
            try:
                return floor.write(graph, args.workers)
            finally:
                wipe()
                apply_schema(graph)

        paths: dict[str, Callable[[], float]] = {"floor": floor_run, "bare": bare, "http1": http(1)}
        if args.hubs > 1:
            paths[f"http{args.hubs}"] = http(args.hubs)
        if args.only:
            wanted = {p.replace("httpN", f"http{args.hubs}") for p in args.only.split(",")}
            paths = {k: v for k, v in paths.items() if k in wanted}

        times: dict[str, list[float]] = {name: [] for name in paths}
        retries: dict[str, Counter] = {name: Counter() for name in paths}
        for name, run in paths.items():  # warm: every path once, not counted
            run()
        for counted in triaged.values():
            counted.clear()
        for round_ in range(args.rounds):
            order = list(paths) if round_ % 2 == 0 else list(reversed(paths))
            for name in order:
                before_bare, hub_logs = Counter(transient_retries()), len(hubs.log_files)
                times[name].append(paths[name]())
                if name == "bare":
                    retries[name] += Counter(transient_retries()) - before_bare
                elif name.startswith("http"):
                    retries[name] += hubs.retries(since=hub_logs)
            print(f"round {round_ + 1}: " + "  ".join(
                f"{name} {n / times[name][-1]:.0f}/s" for name in order), flush=True)
        wipe()
        driver.close()
        for d in hubs.extra_dirs:
            shutil.rmtree(d, ignore_errors=True)

    med = {name: n / statistics.median(ts) for name, ts in times.items()}
    print()
    print(f"leads: {n}  batches: {len(batches)} of ≤ {args.batch}  writers: {args.workers} on every path "
          f"(≥ one per hub)  rounds: {args.rounds} after a full warm pass, medians")
    print(f"floor: {floor.counts()}")
    print(f"       plain CREATE, UNWIND batches of {FLOOR_BATCH}, empty graph, no schema")
    labels = {"floor": "floor (plain CREATE)", "bare": "bare write_leads", "http1": "HTTP, 1 hub"}
    labels.update({f"http{args.hubs}": f"HTTP, {args.hubs} hubs"})
    elements = floor.node_count + floor.rel_count
    for name, rate in med.items():
        spread = ", ".join(f"{n / t:.0f}" for t in times[name])
        retry = retries.get(name)
        retry_text = "" if name == "floor" else (
            f"   retries: {sum(retry.values())} ({retry.get(DEADLOCK, 0) and 'deadlock ' + str(retry[DEADLOCK]) or '0 deadlock'}"
            f"{''.join(f', {k} {v}' for k, v in retry.items() if k != DEADLOCK)})")
        print(f"{labels[name]:22} {rate:7.0f} leads/s  {rate * elements / n:8.0f} elements/s   "
              f"[{spread}]{retry_text}")
        if triaged.get(name):
            print(f"{'':22} its hubs' triage workers had triaged {statistics.median(triaged[name]):.0f} of "
                  f"the {n} leads by the last acknowledgement (median; their work shares the window)")
    print()
    if "floor" in med and "bare" in med:
        print(f"bare / floor        = {med['bare'] / med['floor']:.2f}   (target ≥ 0.85)")
    for name in med:
        if name.startswith("http") and "bare" in med:
            print(f"{labels[name]} / bare = {med[name] / med['bare']:.2f}   (target ≥ 0.90)")


if __name__ == "__main__":
    main()
