"""What watching and deconflicting cost the hub (issue 14): ingest with 10,000 active watches and
200 active operations against ingest with none, in the same run, on the same leads; and the
latency from a lead's acknowledgement to the watcher's live channel.

Phases, each on a freshly wiped graph with the same users and connectors:

- **none**: no watch, no operation; the leads are posted (signed, per-agency batches, ``--workers``
  writers) to one hub served by uvicorn, whose triage worker runs as in production;
- **loaded**: the same, after ``--watches`` watches (spread over ``--watchers`` analysts of the
  three agencies: ``--hit-share`` of them on plates and phones the leads carry, the rest on plates
  nobody holds, plus ``--searches`` saved searches that no key stands for and matching scans) and
  ``--operations`` active operations of the three agencies (targets drawn from the leads'
  entities, places at the leads' points, windows covering the leads' month) were stored.

Two figures per phase, medians over ``--rounds`` rounds after a warm pass, the order of the
phases reversed every other round:

- **acknowledged**: leads per second until the last batch is acknowledged (what a connector sees;
  triage — where watches and operations are matched — shares the hub's process and the window);
- **triaged**: leads per second until the triage queue is empty (every watch hit and operation
  alert written): the full cost of matching.

Then **latency** on the loaded graph: a police analyst follows a plate and holds the live stream
(``GET /api/v1/notifications/stream``) open; ``--samples`` gendarmerie leads on that plate,
written in another spelling, are pushed one at a time; each sample is the time from the push's
acknowledgement to the hit's arrival on the stream (p50, p95, max). The stream reads the graph
every ``STREAM_POLL_S`` (hub/routers/disclosures.py): that period bounds what it can reach.

Run (figures only, never asserted):

    .venv/bin/python bench/notify.py [--leads 4000] [--watches 10000] [--operations 200] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver, register_connector, served_hub  # noqa: E402
from bench.ingest import post_through  # noqa: E402
from connectors.demo.story import generate_demo_leads  # noqa: E402
from graph import identity  # noqa: E402
from graph import sessions as graph_sessions  # noqa: E402
from graph import watches as graph_watches  # noqa: E402
from graph import workflow as graph_workflow  # noqa: E402
from graph.driver import reset_database  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.leads import TRIAGE_PENDING  # noqa: E402
from graph.setup import apply_schema  # noqa: E402
from graph.workflow.models import OperationPlace, OperationRecord  # noqa: E402
from hub.contract.lead import Lead  # noqa: E402
from hub.contract.signing import load_private_key, sign_request  # noqa: E402
from policies.auth import passwords  # noqa: E402
from policies.deconfliction import OperationKind, OperationStatus  # noqa: E402
from policies.rulebook import load_rulebook  # noqa: E402

AGENCIES = ("police", "gendarmerie", "douanes")
PASSWORD = "Mot-de-passe-banc-d-essai-2026"


def _unique_v1(leads: list[Lead]) -> list[Lead]:
    seen: set[str] = set()
    out = []
    for lead in leads:
        if lead.source_key not in seen:
            seen.add(lead.source_key)
            out.append(lead)
    return out


def _plates(leads: list[Lead]) -> list[str]:
    return sorted({v.plate for lead in leads for v in lead.vehicles
                   if v.plate and v.plate_country == "FR"})


def _phones(leads: list[Lead]) -> list[str]:
    return sorted({p for lead in leads for p in lead.phones})


def _random_plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRTXYZ"  # no SS, WW blocks (not issued), no I, O, U
    return (f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randint(100, 999)}-"
            f"{rng.choice(letters)}{rng.choice(letters)}")


def seed_watches(graph: Graph, leads: list[Lead], *, watches: int, watchers: int, searches: int,
                 hit_share: float, max_active: int, seed: int) -> int:
    """``watches`` watches over ``watchers`` analysts; returns how many were stored."""
    rng = random.Random(seed)
    users = [identity.upsert_user(graph, agency=AGENCIES[i % 3], role="analyst",
                                  name=f"veilleur-{i}").user_id for i in range(watchers)]
    plates, phones = _plates(leads), _phones(leads)
    now = datetime.now(UTC)
    targets = []
    for i in range(watches - searches):
        if rng.random() < hit_share and (plates or phones):
            if phones and rng.random() < 0.25:
                targets.append(graph_watches.entity_target("phone", rng.choice(phones)))
            else:
                targets.append(graph_watches.entity_target("vehicle", rng.choice(plates)))
        else:
            targets.append(graph_watches.entity_target("vehicle", _random_plate(rng)))
    from graph.analysis.models import SearchKind
    words = ("guetteur", "hall", "scooter", "livraison", "sacoche", "capuche", "parking")
    for i in range(searches):
        targets.append(graph_watches.search_target(f"{rng.choice(words)} {rng.choice(words)}",
                                                   SearchKind.TEXT))
    per_user = min(max_active, -(-len(targets) // watchers))
    jobs = [(users[i // per_user], t) for i, t in enumerate(targets) if i // per_user < len(users)]

    def store(job) -> None:
        user_id, target = job
        graph_watches.create_watch(graph, user_id=user_id, target=target,
                                   justification="banc d'essai", max_active=max_active, now=now)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(store, jobs))
    return len(jobs)


def seed_operations(graph: Graph, leads: list[Lead], rules, *, n: int, seed: int) -> int:
    """``n`` active operations of the three agencies over the leads' month."""
    rng = random.Random(seed)
    times = [lead.observed_at or lead.reported_at for lead in leads]
    start, end = min(times), max(times)
    span = min(end - start, timedelta(days=rules.max_duration_days - 1))
    placed = [lead for lead in leads if lead.location and lead.location.point]
    plates = [f"vehicle:{p}" for p in _plates(leads)]
    now = datetime.now(UTC)
    kinds = list(OperationKind)
    stored = 0
    for i in range(n):
        lead = rng.choice(placed)
        loc = lead.location
        agency = AGENCIES[i % 3]
        op = OperationRecord(
            operation_id=graph_workflow.new_operation_id(), agency=agency, kind=rng.choice(kinds),
            title=f"Opération banc {i}", unit=f"Unité {agency} {i}",
            starts_at=start, ends_at=start + span,
            place=OperationPlace(insee_code=loc.insee_code, commune=loc.commune,
                                 lat=loc.point.lat, lon=loc.point.lon, radius_m=200.0),
            targets=rng.sample(plates, k=min(2, len(plates))), status=OperationStatus.ACTIVE,
            created_at=now, created_by=f"{agency}:banc", created_by_name="banc d'essai")
        graph_workflow.register_operation(graph, op, rules)
        stored += 1
    return stored


def _pending(graph: Graph) -> int:
    return graph.query(f"MATCH (l:{TRIAGE_PENDING}) RETURN count(l) AS n")[0]["n"]


def _wait_drained(graph: Graph, deadline_s: float = 900) -> None:
    end = time.monotonic() + deadline_s
    while _pending(graph):
        if time.monotonic() > end:
            raise RuntimeError("triage did not drain")
        time.sleep(0.05)


def _latency(settings, graph: Graph, driver, keys: Path, samples: int) -> list[float]:
    """Ack → live stream, seconds, for ``samples`` single-lead pushes on a watched plate."""
    token_g, key_g = register_connector(driver, settings, "gendarmerie", "bench-lat-gn", keys)
    watcher = identity.upsert_user(graph, agency="police", role="analyst", name="veilleur-latence")
    graph_sessions.set_password_hash(graph, watcher.user_id, passwords.hash_password(PASSWORD))
    plate = "GZ-418-KT"
    out: list[float] = []
    with served_hub(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        login = client.post("/api/v1/auth/login", json={"user_id": watcher.user_id, "password": PASSWORD})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = client.post("/api/v1/watches", headers=auth, json={
            "entity_kind": "vehicle", "value": "gz 418 kt", "justification": "banc latence"})
        created.raise_for_status()
        arrived: list[float] = []  # when each watch hit reached the stream
        stop = threading.Event()

        def listen() -> None:
            cursor = None
            with httpx.Client(base_url=url, timeout=None) as sse:
                while not stop.is_set():
                    params = {"max_seconds": 25, **({"since": cursor} if cursor is not None else {})}
                    with sse.stream("GET", "/api/v1/notifications/stream", params=params,
                                    headers={**auth, "Accept": "text/event-stream"}) as resp:
                        for line in resp.iter_lines():
                            if stop.is_set():
                                return
                            if line.startswith("id:"):
                                cursor = int(line[3:].strip())
                            elif line.startswith("data:") and line[5:].strip():
                                if json.loads(line[5:]).get("kind") == "watch_hit":
                                    arrived.append(time.perf_counter())

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(2.0)  # the stream is open and has its cursor
        key = load_private_key(key_g)
        for _ in range(samples):
            seen_before = len(arrived)
            now = datetime.now(UTC).isoformat()
            lead = {
                "source_agency": "gendarmerie", "source_ref": f"GN-LAT-{uuid.uuid4().hex[:10]}",
                "version": 1, "kind": "stop_check", "channel": "patrol",
                "observed_at": now, "reported_at": now,
                "location": {"insee_code": "25056", "commune": "Besançon", "address": "Place Cassin"},
                "narrative": "Contrôle routier.", "handling_code": "H0",
                "source_reliability": "B", "information_credibility": "2",
                "vehicles": [{"plate": plate.lower().replace("-", " ")}],
            }
            body = json.dumps({"leads": [lead]}).encode()
            headers = sign_request(key, "POST", "/api/v1/leads", body)
            headers.update({"Authorization": f"Bearer {token_g}", "Content-Type": "application/json"})
            client.post("/api/v1/leads", content=body, headers=headers).raise_for_status()
            acked = time.perf_counter()
            while len(arrived) <= seen_before:
                if time.perf_counter() > acked + 30:
                    raise RuntimeError("no watch hit reached the live stream within 30 s")
                time.sleep(0.01)
            out.append(arrived[seen_before] - acked)
        stop.set()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--watches", type=int, default=10_000)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--searches", type=int, default=200, help="saved searches among the watches")
    parser.add_argument("--hit-share", type=float, default=0.3,
                        help="share of entity watches on plates/phones the leads carry")
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()

    leads = _unique_v1(generate_demo_leads(seed=11, n=args.leads, weeks=4))
    n = len(leads)
    by_agency: dict[str, list[Lead]] = {}
    for lead in leads:
        by_agency.setdefault(lead.source_agency.value, []).append(lead)
    batches = [items[s: s + args.batch] for items in by_agency.values()
               for s in range(0, len(items), args.batch)]
    serialized = [(chunk[0].source_agency.value,
                   json.dumps({"leads": [x.model_dump(mode="json") for x in chunk]}).encode())
                  for chunk in batches]

    with bench_settings() as settings, tempfile.TemporaryDirectory() as tmp:
        settings = settings.model_copy(update={"max_batch_size": max(args.batch, 1000)})
        rulebook = load_rulebook(settings.rules_dir)
        driver = prepared_driver(settings)
        graph = Graph(driver, settings.neo4j_database)
        keys = Path(tmp) / "keys"
        keys.mkdir()
        seeded: dict[str, str] = {}

        def prepare(loaded: bool) -> dict[str, tuple[str, Path]]:
            """A wiped graph with the connectors, and when ``loaded`` the watches and operations."""
            reset_database(graph)
            apply_schema(graph)
            ids = {agency: register_connector(driver, settings, agency, f"bench-{agency}", keys)
                   for agency in by_agency}
            if loaded:
                t0 = time.perf_counter()
                w = seed_watches(graph, leads, watches=args.watches, watchers=args.watchers,
                                 searches=args.searches, hit_share=args.hit_share,
                                 max_active=rulebook.watches.max_active_per_user, seed=3)
                o = seed_operations(graph, leads, rulebook.deconfliction, n=args.operations, seed=5)
                seeded["setup"] = f"{w} watches, {o} operations stored in {time.perf_counter() - t0:.0f} s"
            return ids

        def phase(loaded: bool) -> tuple[float, float, dict[str, int]]:
            ids = prepare(loaded)
            bodies = [(ids[a][0], load_private_key(ids[a][1]), body) for a, body in serialized]
            with served_hub(settings):
                pass  # started once to compile and warm its imports outside the clock
            with served_hub(settings) as url:
                t0 = time.perf_counter()
                accepted = post_through([url], bodies, args.workers)
                acked = time.perf_counter() - t0
                _wait_drained(graph)
                drained = time.perf_counter() - t0
            assert accepted == n, (accepted, n)
            counts = graph.query(
                "CALL () { MATCH (x:Notification {kind: 'watch_hit'}) RETURN count(x) AS hits } "
                "CALL () { MATCH (x:Notification) RETURN count(x) AS notes } "
                "RETURN hits, notes")[0]
            return acked, drained, {"watch hits": counts["hits"], "notifications": counts["notes"]}

        print(f"{n} leads in {len(batches)} batches; warm pass…", flush=True)
        phase(False)
        phase(True)
        times: dict[str, list[tuple[float, float]]] = {"none": [], "loaded": []}
        work: dict[str, dict[str, int]] = {}
        for r in range(args.rounds):
            order = ["none", "loaded"] if r % 2 == 0 else ["loaded", "none"]
            for name in order:
                acked, drained, counts = phase(name == "loaded")
                times[name].append((acked, drained))
                work[name] = counts
                print(f"round {r + 1} {name:6}: acknowledged {n / acked:6.0f} leads/s, "
                      f"triaged {n / drained:6.0f} leads/s  {counts}", flush=True)

        print(f"latency: {args.samples} samples…", flush=True)
        prepare(True)
        lat = _latency(settings, graph, driver, keys, args.samples)
        reset_database(graph)
        driver.close()

    def med(name: str, i: int) -> float:
        return n / statistics.median(t[i] for t in times[name])

    print()
    print(f"leads: {n}  batches of ≤ {args.batch}  writers: {args.workers}  rounds: {args.rounds} "
          f"after a warm pass, medians; loaded = {seeded.get('setup', '?')}")
    # The target is on ingest (what a connector sees); the triaged rate is printed for
    # what matching costs in all, every hit written and audited.
    for label, i, note in (("acknowledged", 0, "(target ≥ 0.90)"), ("triaged", 1, "(no target)")):
        none, loaded = med("none", i), med("loaded", i)
        print(f"{label:13} none {none:6.0f} leads/s   loaded {loaded:6.0f} leads/s   "
              f"loaded / none = {loaded / none:.2f}   {note}")
    print(f"work done when loaded: {work.get('loaded')}")
    lat_ms = sorted(x * 1000 for x in lat)
    p95 = lat_ms[max(0, int(round(0.95 * len(lat_ms))) - 1)]
    print(f"ack → live stream ({len(lat_ms)} samples): p50 {statistics.median(lat_ms):.0f} ms   "
          f"p95 {p95:.0f} ms   max {lat_ms[-1]:.0f} ms")


if __name__ == "__main__":
    main()
