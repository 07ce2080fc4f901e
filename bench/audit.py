"""Audit trail benchmark (ADR 0012): append throughput with 2 writers against 1, and the auditors'
filtered query over a large trail.

    .venv/bin/python -m bench.audit                    # 10⁶ entries, 2 writers
    .venv/bin/python -m bench.audit --entries 200000   # quicker

Appends: W writer *processes* (each its own segment, as hub workers are), each appending
consultations in batches of ``--batch`` (one fsync per batch: group commit); the same total
through 1 process is the baseline in the same run, and the ratio is printed. Then the trail is
filled to ``--entries`` (batches of 1000) across 2 segments, the index is built once (its time
printed: what a hub pays after losing the index), and filtered queries of the kinds the audit
page asks (a user, a lead, an entity, an action and a month, a user and an agency) run
``--queries`` times each with random values, cold index refresh excluded; p50/p95 printed.
Nothing is asserted: the targets (2 writers ≥ 1.5× one; query p95 ≪ 1 s at 10⁶) are read off.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.audit import AuditFilters, WriterKind, open_writer, query
from hub.audit.index import AuditIndex
from hub.contract.lead import Agency
from policies.audit import Actor, AuditAction, AuditEvent, Decision, DecisionOutcome

AGENCIES = [Agency.POLICE, Agency.GENDARMERIE, Agency.DOUANES]
START = datetime(2025, 1, 1, tzinfo=UTC)


def event(i: int, rng: random.Random) -> AuditEvent:
    agency = AGENCIES[i % 3]
    return AuditEvent(
        at=START + timedelta(seconds=i * 30),
        action=AuditAction.CONSULTATION if i % 10 else AuditAction.COLLECTION,
        actor=Actor(user_id=f"{agency.value}:agent-{rng.randrange(300)}", name="Agent",
                    agency=agency, role="analyst"),
        lead_ids=[f"L-{rng.randrange(200_000):06d}"],
        entity_keys=[f"vehicle:AB-{rng.randrange(1000):03d}-CD"],
        client_address="10.25.0.7",
        decision=Decision(outcome=DecisionOutcome.FULL, rule_id="same-agency-full"),
        justification=f"Procédure 2025/{rng.randrange(10_000)}",
        recipients=[],
    )


def _writer(audit_dir: str, keys_dir: str, n: int, batch: int, seed: int) -> None:
    rng = random.Random(seed)
    events = [event(i, rng) for i in range(n)]
    with open_writer(audit_dir=Path(audit_dir), keys_dir=Path(keys_dir), kind=WriterKind.JOB) as trail:
        for k in range(0, n, batch):
            trail.append_many(events[k:k + batch])


def appends(root: Path, writers: int, total: int, batch: int) -> float:
    """Entries per second, ``total`` entries split over ``writers`` processes."""
    audit_dir, keys_dir = root / f"a{writers}-{time.monotonic_ns()}", root / "keys"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(audit_dir), str(keys_dir), total // writers, batch, w))
             for w in range(writers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"writer exited with {p.exitcode}")
    return total / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--append-entries", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1, help="events per append in the append test")
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="crosshub-bench-audit-") as tmp:
        root = Path(tmp)
        # Spawned writers pay their interpreter start; both sides pay it alike.
        appends(root, 1, 2000, args.batch)  # warm the page cache and the key
        one = statistics.median(appends(root, 1, args.append_entries, args.batch) for _ in range(3))
        many = statistics.median(appends(root, args.writers, args.append_entries, args.batch) for _ in range(3))
        print(f"appends ({args.append_entries} entries, {args.batch} per append, fsync each): "
              f"1 writer {one:,.0f}/s · {args.writers} writers {many:,.0f}/s · ratio {many / one:.2f}×")

        audit_dir, keys_dir = root / "big", root / "keys"
        t0 = time.perf_counter()
        per = args.entries // 2
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_writer, args=(str(audit_dir), str(keys_dir), per, 1000, 100 + w))
                 for w in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        print(f"trail filled: {per * 2:,} entries in 2 segments in {time.perf_counter() - t0:.1f} s")
        index = AuditIndex(audit_dir)
        t0 = time.perf_counter()
        index.refresh()
        print(f"index built from the segments in {time.perf_counter() - t0:.1f} s ({index.path.stat().st_size >> 20} MiB)")

        rng = random.Random(7)
        kinds = {
            "user": lambda: AuditFilters(user_id=f"{rng.choice(AGENCIES).value}:agent-{rng.randrange(300)}"),
            "lead": lambda: AuditFilters(lead_id=f"L-{rng.randrange(200_000):06d}"),
            "entity": lambda: AuditFilters(entity_key=f"vehicle:AB-{rng.randrange(1000):03d}-CD"),
            "action+month": lambda: AuditFilters(
                action=AuditAction.COLLECTION, since=START + timedelta(days=30 * (m := rng.randrange(10))),
                until=START + timedelta(days=30 * (m + 1))),
            "user+agency": lambda: AuditFilters(user_id=f"douanes:agent-{rng.randrange(300)}",
                                                agency=Agency.DOUANES),
            "newest page": lambda: AuditFilters(limit=100),
        }
        for name, make in kinds.items():
            times, found = [], 0
            for _ in range(args.queries):
                f = make()
                t0 = time.perf_counter()
                found += len(query(audit_dir, f))
                times.append(time.perf_counter() - t0)
            times.sort()
            print(f"query {name:<13} n={args.queries}  p50={statistics.median(times) * 1000:7.1f} ms  "
                  f"p95={times[int(len(times) * 0.95) - 1] * 1000:7.1f} ms  (mean {found / args.queries:.0f} found)")


if __name__ == "__main__":
    main()
