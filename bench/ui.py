"""The web application in Chromium, against the API call that feeds it, in the same run.

Builds a graph where one plate is cited by 250 gendarmerie leads, each with its own phone (a
network of ~500 nodes at depth 1, the hub's node cap) plus 1,000 more gendarmerie leads for the
triage queue; serves the hub in its own uvicorn process; signs a gendarmerie analyst in; then,
run after run and interleaved so drift hits both alike:

- **chart**: navigation to ``/graphe?depart=vehicle:…`` until the chart is drawn (the page's
  ``data-state=ready``: network fetched, layout run, list of nodes written) vs the same API call
  alone (``fetch`` of the network from the same page, same query, same session);
- **expansion**: p50/p95 of expanding one node from the keyboard (Enter) until drawn;
- **triage board**: navigation to ``/tri`` until its first page is drawn vs the queue's API call.

Prints seconds, medians, the ratios (target ≤ 1.5× for the chart, printed, never asserted) and
node counts. Run:

    .venv/bin/python bench/ui.py [--runs 5] [--expansions 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver, served_hub  # noqa: E402
from graph import identity  # noqa: E402
from graph import sessions as graph_sessions  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from hub.contract.lead import Lead  # noqa: E402
from policies.auth import passwords  # noqa: E402

PLATE = "ZZ-500-ZZ"
MOTIF = "Banc d'essai bench/ui.py"
TARGET = 1.5
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _lead(i: int, *, star: bool) -> Lead:
    at = datetime(2025, 9, 1, tzinfo=UTC) + timedelta(minutes=37 * i)
    data = {
        "source_agency": "gendarmerie", "source_ref": f"GN-BENCH-{'S' if star else 'Q'}{i:05d}",
        "version": 1, "kind": "field_intelligence", "channel": "patrol",
        "observed_at": at.isoformat(), "reported_at": (at + timedelta(hours=2)).isoformat(),
        "location": {"insee_code": "25056", "commune": "Besançon",
                     "point": {"lat": 47.22 + (i % 50) * 0.001, "lon": 5.97 + (i % 40) * 0.001}},
        "narrative": "Va-et-vient devant le hall, guetteur à l'entrée.",
        "handling_code": "H1", "source_reliability": "B", "information_credibility": "2",
    }
    if star:
        data["vehicles"] = [{"plate": PLATE}]
        data["phones"] = [f"06 {10 + i // 10000 % 90:02d} {i // 100 % 100:02d} {i % 100:02d} 17"]
    return Lead.model_validate(data)


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)] if xs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--expansions", type=int, default=20)
    parser.add_argument("--star", type=int, default=250, help="leads citing the plate")
    parser.add_argument("--queue", type=int, default=1000, help="more leads for the triage queue")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("bench/ui.py: chromium not found (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with bench_settings() as settings:
        driver = prepared_driver(settings)
        graph = Graph(driver, settings.neo4j_database)
        t = time.perf_counter()
        write_leads(graph, [_lead(i, star=True) for i in range(args.star)], mark_for_triage=True)
        write_leads(graph, [_lead(i, star=False) for i in range(args.queue)], mark_for_triage=True)
        print(f"{args.star + args.queue} leads written in {time.perf_counter() - t:.1f} s", flush=True)
        user = identity.upsert_user(graph, agency="gendarmerie", role="analyst", name="bench-ui")
        password = "Banc-d-essai-ui-2026!"
        graph_sessions.set_password_hash(graph, user.user_id, passwords.hash_password(password))
        driver.close()
        with served_hub(settings) as url:
            token = httpx.post(f"{url}/api/v1/auth/login", timeout=30, json={
                "user_id": user.user_id, "password": password}).json()["access_token"]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                context = browser.new_context()
                context.add_cookies([
                    {"name": "crosshub_session", "value": token, "url": url},
                    {"name": "crosshub_motif", "value": MOTIF.replace(" ", "%20").replace("'", "%27"),
                     "url": url}])
                page = context.new_page()
                page.set_default_timeout(120_000)
                _measure(page, url, args)
                browser.close()


def _fetch_ms(page, path: str, query: dict) -> tuple[float, int]:
    """One API call from the page itself (same origin, same session): milliseconds, and the
    number of nodes or items it returned."""
    return page.evaluate("""async ([path, query]) => {
        const url = new URL(path, location.origin);
        for (const [k, v] of Object.entries(query)) url.searchParams.append(k, v);
        const t0 = performance.now();
        const r = await fetch(url, {credentials: 'same-origin'});
        const data = await r.json();
        const ms = performance.now() - t0;
        return [ms, Array.isArray(data) ? data.length : (data.nodes || []).length];
    }""", [path, query])


def _measure(page, url: str, args) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    key = PLATE.replace("-", "")
    page.goto(f"{url}/")  # the origin, for the in-page fetches
    network = f"/api/v1/entities/vehicle/{key}/network"
    api_chart, ui_chart, api_queue, ui_queue, expansions = [], [], [], [], []
    nodes = items = 0
    # The hub's triage job scores what was written before it started: measure a full queue.
    deadline = time.monotonic() + 300
    while _fetch_ms(page, "/api/v1/triage/queue", {"limit": "26"})[1] < 26:
        if time.monotonic() > deadline:
            sys.exit("bench/ui.py: the triage queue never filled (is the triage job running?)")
        time.sleep(2)
    for run in range(args.runs):
        ms, nodes = _fetch_ms(page, network, {"depth": "1", "justification": MOTIF})
        api_chart.append(ms / 1000)
        t = time.perf_counter()
        # From navigation to the drawn chart: not to the load event (fonts, icons).
        page.goto(f"{url}/graphe?depart=vehicle:{key}", wait_until="commit")
        page.wait_for_selector("#app[data-state=ready]")
        ui_chart.append(time.perf_counter() - t)
        marks = page.evaluate("""() => Object.fromEntries(performance.getEntriesByType('mark')
            .map((m) => [m.name, m.startTime]))""")
        if "chart:drawn" in marks:
            print(f"   page timeline: module started {marks['chart:fetch-start'] / 1000:.2f} s "
                  f"after navigation, API answered +{(marks['chart:fetched'] - marks['chart:fetch-start']) / 1000:.2f} s, "
                  f"drawn +{(marks['chart:drawn'] - marks['chart:fetched']) / 1000:.2f} s", flush=True)
        ms, items = _fetch_ms(page, "/api/v1/triage/queue", {"limit": "26"})
        api_queue.append(ms / 1000)
        t = time.perf_counter()
        page.goto(f"{url}/tri", wait_until="commit")
        page.wait_for_selector("#app[data-state=ready]")
        ui_queue.append(time.perf_counter() - t)
        print(f"run {run + 1}: chart API {api_chart[-1]:.2f} s, page {ui_chart[-1]:.2f} s; "
              f"triage API {api_queue[-1]:.2f} s, page {ui_queue[-1]:.2f} s", flush=True)
    page.goto(f"{url}/graphe?depart=vehicle:{key}")
    page.wait_for_selector("#app[data-state=ready]")
    page.focus("#graphe")
    for _ in range(args.expansions * 3):
        if len(expansions) >= args.expansions:
            break
        page.keyboard.press("ArrowRight")
        t = time.perf_counter()
        try:  # a hit or an already expanded node asks nothing: not an expansion, skipped
            with page.expect_response(lambda r: "/network" in r.url, timeout=5_000):
                page.keyboard.press("Enter")
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            page.focus("#graphe")
            continue
        page.wait_for_selector("#app[data-state=ready]")
        expansions.append(time.perf_counter() - t)
    chart_ratio = _median(ui_chart) / _median(api_chart)
    queue_ratio = _median(ui_queue) / _median(api_queue)
    print()
    print(f"network: {nodes} nodes from the API (depth 1, node cap); triage page of 25 of "
          f"{args.queue + args.star} leads ({items} fetched)")
    print(f"chart    page {_median(ui_chart):.2f} s vs API alone {_median(api_chart):.2f} s "
          f"(medians of {args.runs}): ratio {chart_ratio:.2f}x (target <= {TARGET}x)")
    print(f"expand   p50 {_median(expansions):.2f} s, p95 {_p95(expansions):.2f} s "
          f"over {len(expansions)} keyboard expansions")
    print(f"triage   page {_median(ui_queue):.2f} s vs API alone {_median(api_queue):.2f} s: "
          f"ratio {queue_ratio:.2f}x")


if __name__ == "__main__":
    main()
