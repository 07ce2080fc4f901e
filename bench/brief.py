"""Weekly brief generation time for a week with at least 1,000 new leads in the CROSS's
département, against a baseline measured in the same run: the agenda queries alone.

Generates the demo world over one week (Doubs, Orne, Vosges; seeded), writes it straight into
the graph (``graph.leads.write_leads``), then, run after run and interleaved so drift hits both
alike: (baseline) the agenda read alone, through the participant's real policy filter; (brief)
the whole brief — the same agenda read, figures, link chart, HTML, PDF. Prints the seconds of
each stage, both medians and the ratio brief / agenda alone (what drawing and rendering add to
reading), and the 10 s target of one participant's brief for reference (printed, never
asserted). Run:

    .venv/bin/python bench/brief.py [--leads 2300] [--runs 3] [--role coordinator] [--agency police]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from policies.loader import load_policy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_settings, prepared_driver  # noqa: E402
from connectors.demo.story import generate_demo_leads  # noqa: E402
from graph import meetings as gm  # noqa: E402
from graph.handle import Graph  # noqa: E402
from graph.identity import Principal  # noqa: E402
from graph.leads import write_leads  # noqa: E402
from hub import brief as hub_brief  # noqa: E402

POLICY = load_policy()  # the packaged policy, loaded once like the hub's rulebook
TARGET_S = 10.0
WEEK = "2025-W47"
DEPT = "25"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=2300, help="demo leads in all (three départements)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--role", default="coordinator", choices=["coordinator", "analyst"])
    parser.add_argument("--agency", default="police")
    parser.add_argument("--out", type=Path, default=None, help="keep the last PDF here")
    args = parser.parse_args()

    starts, _ = gm.week_bounds(WEEK)
    print(f"generating {args.leads} demo leads over {WEEK}…", flush=True)
    leads = generate_demo_leads(seed=47, n=args.leads, weeks=1, start=starts)
    with bench_settings() as settings:
        driver = prepared_driver(settings)
        db = settings.neo4j_database
        try:
            t = time.perf_counter()
            write_leads(Graph(driver, db), leads)
            print(f"written in {time.perf_counter() - t:.1f} s", flush=True)
            meeting = gm.unsaved_meeting(DEPT, WEEK)
            new = driver.execute_query(
                "MATCH (l:Lead) WHERE l.departement = $d AND l.reported_at >= $s AND l.reported_at < $e "
                "RETURN count(l) AS n", d=DEPT, s=meeting.starts_at.astimezone(UTC),
                e=meeting.ends_at.astimezone(UTC), database_=db).records[0]["n"]
            print(f"new leads in CROSS {DEPT} during {WEEK}: {new}")
            if new < 1000:
                sys.exit(f"only {new} new leads in the week: raise --leads")

            from hub.access import access_filter_for

            who = Principal(user_id=f"{args.agency}:bench", name="Bench", agency=args.agency, role=args.role)
            now = datetime(2025, 11, 24, 7, tzinfo=UTC)
            access = access_filter_for(Graph(driver, db), who, now, grants=[], policy=POLICY)
            # Warm-up (not counted): plans cached, pages in memory, so neither side pays for them.
            gm.build_agenda(Graph(driver, db), meeting, who, access, include_unlocated=True, now=now)
            totals, baseline = [], []
            for run in range(1, args.runs + 1):
                t0 = time.perf_counter()
                gm.build_agenda(Graph(driver, db), meeting, who, access, include_unlocated=True, now=now)
                baseline.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                agenda, week = gm.build_agenda(Graph(driver, db), meeting, who, access, include_unlocated=True, now=now)
                t1 = time.perf_counter()
                brief = hub_brief.draw(agenda, week, who)
                t2 = time.perf_counter()
                html = hub_brief.render_html(brief)
                t3 = time.perf_counter()
                pdf = hub_brief.render_pdf(html)
                t4 = time.perf_counter()
                totals.append(t4 - t0)
                hits = sum(h.lead_count for h in agenda.new_leads.hits)
                print(f"run {run}: baseline (agenda alone) {baseline[-1]:.2f} s | brief: agenda {t1 - t0:.2f} s, "
                      f"figures + link chart {t2 - t1:.2f} s, HTML {t3 - t2:.2f} s, PDF {t4 - t3:.2f} s "
                      f"→ {t4 - t0:.2f} s ({agenda.new_leads.visible} readable + {hits} hits, "
                      f"{agenda.cross_agency_links_total} links, {len(brief.clusters)} clusters, "
                      f"{len(pdf) // 1024} KiB PDF)", flush=True)
            if args.out:
                args.out.write_bytes(pdf)
                print(f"PDF kept in {args.out}")
            worst, median, base = max(totals), statistics.median(totals), statistics.median(baseline)
            print(f"brief (HTML + PDF, one {args.agency} {args.role}, {new} new leads): median {median:.2f} s, "
                  f"worst {worst:.2f} s | baseline agenda alone: median {base:.2f} s | "
                  f"ratio brief / agenda {median / base:.1f}× | reference target ≤ {TARGET_S:.0f} s")
        finally:
            driver.close()


if __name__ == "__main__":
    main()
