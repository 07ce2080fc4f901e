"""Federation costs (issue 16, ADR 0024), each printed beside a baseline measured in the same run.

1. Tokenizing: ``--tokens`` identifiers (1,000,000 by default) through the holder's own OPRF
   evaluation (``HolderKey.token``, RFC 9497 ``Evaluate``), one core, per second — beside
   HMAC-SHA256 of the same inputs, the shared-key shortcut the issue rules out. The ratio is
   what the OPRF costs more per value, and the reason an enumeration must go online to the
   holder instead of running offline at HMAC speed.
2. One federation round: three real hubs (hub/dev/federation.py: three Neo4j, six hub processes,
   the antenna, mutual TLS), each holding ``--identifiers`` plates (10,000 by default, a tenth of
   them shared with each neighbour); the time of one querier round of one hub (run by its hub process) against its two
   peers — filters, blinded evaluations, proofs, claims, tickets — beside the same look-up done
   locally: the same identifiers matched against one hub's own graph in one query.

    .venv/bin/python bench/federation.py                      # both
    .venv/bin/python bench/federation.py --skip-round --tokens 200000

No target is asserted: the figures say what federation costs beside what it replaces.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.federation import oprf  # noqa: E402 - after the path insert


def _plates(n: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    letters = "ABCDEFGHJKLMNPQRSTVWXYZ"
    out: set[str] = set()
    while len(out) < n:
        left = rng.choice(letters) + rng.choice(letters)
        right = rng.choice(letters) + rng.choice(letters)
        if "SS" in (left, right):
            continue
        out.add(f"{left}-{rng.randint(1, 999):03d}-{right}")
    return sorted(out)


def bench_tokens(n: int) -> None:
    inputs = [f"plate:FR:{p.replace('-', '')}".encode() for p in _plates(min(n, 200_000), 7)]
    inputs = (inputs * (n // len(inputs) + 1))[:n]
    key = oprf.HolderKey.from_seed(secrets.token_bytes(32), "cross-25", 0)
    shared = secrets.token_bytes(32)
    t0 = time.perf_counter()
    for value in inputs:
        hmac.new(shared, value, hashlib.sha256).digest()
    t_hmac = time.perf_counter() - t0
    t0 = time.perf_counter()
    for value in inputs:
        key.token(value)
    t_oprf = time.perf_counter() - t0
    print(f"tokenizing {n:,} identifiers, one core:")
    print(f"  OPRF (RFC 9497 Evaluate)  {n / t_oprf:>12,.0f} /s   ({t_oprf:.1f} s)")
    print(f"  HMAC-SHA256 (baseline)    {n / t_hmac:>12,.0f} /s   ({t_hmac:.1f} s)")
    print(f"  ratio OPRF/HMAC time      {t_oprf / t_hmac:>12.1f}×")
    print(f"  whole SIV space (2.8e8) at the OPRF rate: {2.8e8 / (n / t_oprf) / 3600:.1f} h of "
          "the holder's own CPU — and a peer gets only its daily quota of it")


def bench_round(n: int) -> None:
    from graph.driver import open_driver
    from graph.handle import Graph
    from graph.leads import write_leads
    from hub.contract.lead import Lead
    from hub.dev.federation import DevFederation

    plates = _plates(n * 3, 11)
    tenth = n // 10
    held = {  # 25 shares a tenth with 39 and a tenth with 70; the rest is each hub's own
        "cross-25": plates[:n],
        "cross-39": plates[:tenth] + plates[n:2 * n - tenth],
        "cross-70": plates[tenth:2 * tenth] + plates[2 * n:3 * n - tenth],
    }
    with tempfile.TemporaryDirectory(prefix="crosshub-bench-fed-") as tmp:
        with DevFederation(Path(tmp)) as fed:
            for member, its in held.items():
                settings = fed.hubs[member].settings
                driver = open_driver(settings.graph_config)
                try:
                    leads = [Lead.model_validate({
                        "source_agency": "douanes", "source_ref": f"B-{member}-{i}", "version": 1,
                        "kind": "field_intelligence", "channel": "patrol",
                        "observed_at": "2026-11-28T21:40:00+01:00",
                        "reported_at": "2026-11-29T08:00:00+01:00",
                        "location": {"insee_code": "25056", "commune": "Besançon",
                                     "point": {"lat": 47.24, "lon": 6.02}},
                        "narrative": "Contrôle routier.", "handling_code": "H0",
                        "source_reliability": "B", "information_credibility": "2",
                        "vehicles": [{"plate": p} for p in its[i:i + 20]]})
                        for i in range(0, len(its), 20)]
                    write_leads(Graph(driver, settings.neo4j_database), leads)
                finally:
                    driver.close()
            # The peers' rounds first: each refreshes its own tokens and asks the others (Doubs
            # tokenizes its identifiers when first asked for its filter), so the timed round of
            # Doubs measures asking, not indexing.
            for member in ("cross-39", "cross-70"):
                fed.run_round(member, timeout_s=1800, check=False)
            t0 = time.perf_counter()
            result = fed.run_round("cross-25", timeout_s=1800)
            t_round = time.perf_counter() - t0
            tickets = sum(p["new_tickets"] for p in result["peers"].values())
            settings = fed.hubs["cross-39"].settings
            driver = open_driver(settings.graph_config)
            try:
                with driver.session(database=settings.neo4j_database) as s:
                    t0 = time.perf_counter()
                    found = s.run("UNWIND $keys AS k MATCH (v:Vehicle {plate: k}) "
                                  "RETURN count(v) AS n", keys=held["cross-25"]).single()["n"]
                    t_local = time.perf_counter() - t0
            finally:
                driver.close()
    print(f"one round of {n:,} new identifiers of cross-25 against cross-39 and cross-70:")
    print(f"  federation round (TLS, OPRF, claims; {tickets:,} tickets)  {t_round:>8.2f} s")
    print(f"  local look-up in one hub's graph (baseline)    {t_local:>8.2f} s  ({found:,} found)")
    print(f"  ratio                                          {t_round / t_local:>8.0f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--identifiers", type=int, default=10_000)
    parser.add_argument("--skip-tokens", action="store_true")
    parser.add_argument("--skip-round", action="store_true")
    args = parser.parse_args()
    if not args.skip_tokens:
        bench_tokens(args.tokens)
    if not args.skip_round:
        bench_round(args.identifiers)


if __name__ == "__main__":
    main()
