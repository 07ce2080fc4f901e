"""The agenda's seizure section: what was seized in the meeting's week, listed, summed, and
compared with the previous weeks — over the seizures the participant reads, and nothing else.

Reads ``(:Lead)-[:RECORDED]->(:Seizure {cash_eur, weapons (JSON), weapon_count, packaging
(JSON), packaging_material, seized_at})-[:OF_SUBSTANCE {quantity, unit}]->(:Substance {code})``
(graph/leads.py). A week's seizures are those whose ``seized_at`` (the lead's observation time,
else its report time) falls in that Europe/Paris calendar week.

Seizures are lead content (graph/read.py): a lead read full or redacted brings its seizure with
every quantity; a lead the participant may only know of (hit) brings nothing to this section —
not a quantity, not even a count: a hit says who holds something, not what (ADR 0016; such
leads are already counted, without their nature, among the hits of the agenda's new leads).
When and where are shown as far as the lead's level may see: the seizure's time only if the
level reads the lead's times, its commune, place and deal point only if it reads the commune.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import neo4j

from graph.access import HIT, NONE
from graph.access import shown as public_level
from graph.meetings._common import AgendaContext, commune_names, strictest
from graph.meetings.models import (
    SeizedPackaging,
    SeizedQuantity,
    SeizedWeapon,
    SeizureDelta,
    SeizureItem,
    SeizureTotals,
    SeizureWeek,
)
from graph.meetings.weeks import PARIS, iso_week_of
from graph.records import native, utc

# The week is compared with the mean of this many weeks before it.
SEIZURE_BASELINE_WEEKS = 8
SEIZURES_LISTED = 50  # seizures itemized in the section (the totals cover all)

SCHEMA: list[str] = [
    # The section reads seizures by date, over the week and the baseline weeks before it.
    "CREATE INDEX seizure_seized_at IF NOT EXISTS FOR (n:Seizure) ON (n.seized_at)",
]


def week_starts(ctx: AgendaContext, weeks_before: int) -> list[datetime]:
    """Monday 00:00 (Paris, DST-proof) of the ``weeks_before`` weeks before the meeting's and of
    the meeting's own, oldest first."""
    start = ctx.meeting.starts_at.astimezone(PARIS)  # a meeting read back from the graph is in UTC
    return [datetime.combine((start - timedelta(weeks=weeks_before - i)).date(), datetime.min.time(), PARIS)
            for i in range(weeks_before + 1)]


def levels_reading(ctx: AgendaContext, *props: str) -> list[str]:
    """The participant's visible access levels whose profile reads all of ``props``."""
    return [lv for lv in ctx.access.visible_levels() if set(props) <= set(ctx.access.profiles.get(lv, ()))]


def week_seizures(tx: neo4j.ManagedTransaction, ctx: AgendaContext) -> SeizureWeek:
    starts = week_starts(ctx, SEIZURE_BASELINE_WEEKS)
    bounds = [utc(s) for s in starts]
    rows = tx.run(
        "MATCH (s:Seizure) WHERE s.seized_at >= $sz_b0 AND s.seized_at < $sz_end "
        "MATCH (l:Lead)-[:RECORDED]->(s) "
        f"WHERE l.version > 0 AND {ctx.dept_filter} "
        f"WITH l, s, {ctx.access.case_expression} AS access "
        # Readable leads only: a hit-level seizure is not read at all (module docstring).
        f"WHERE access <> '{NONE}' AND access <> '{HIT}' "
        "RETURN size([b IN $sz_bounds WHERE b <= s.seized_at]) - 1 AS i, "
        "  l.lead_id AS lead_id, l.agency AS agency, l.kind AS kind, l.handling_code AS hc, access, "
        "  CASE WHEN access IN $sz_timed THEN s.seized_at END AS seized_at, "
        "  CASE WHEN access IN $sz_placed THEN l.insee_code END AS insee, "
        "  CASE WHEN access IN $sz_placed THEN [(l)-[:AT]->(loc:Location) | "
        "    coalesce(loc.place_label, loc.address)][0] END AS place, "
        "  CASE WHEN access IN $sz_placed THEN [(l)-[:CONCERNS]->(dp:DealPoint) | dp.label][0] END AS deal_point, "
        "  s.cash_eur AS cash, s.weapons AS weapons, coalesce(s.weapon_count, 0) AS weapon_count, "
        "  s.packaging AS packaging, coalesce(s.packaging_material, false) AS packaging_material, "
        "  [(s)-[q:OF_SUBSTANCE]->(sub:Substance) WHERE q.quantity IS NOT NULL | "
        "    {substance: sub.code, quantity: q.quantity, unit: q.unit}] AS substances, "
        "  [(s)-[q:OF_SUBSTANCE]->(sub:Substance) WHERE q.quantity IS NULL | sub.code] AS unweighed",
        ctx.params(sz_b0=bounds[0], sz_end=utc(ctx.meeting.ends_at), sz_bounds=bounds,
                   sz_timed=levels_reading(ctx, "observed_at", "reported_at"),
                   sz_placed=levels_reading(ctx, "insee_code")),
    ).data()
    current = len(starts) - 1
    per_week: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if 0 <= r["i"] <= current:
            per_week[r["i"]].append(r)
    trend = [_totals(iso_week_of(s), per_week.get(i, [])) for i, s in enumerate(starts)]
    this_week = sorted(per_week.get(current, []),
                       key=lambda r: (native(r["seized_at"]) is None, native(r["seized_at"]) or 0, r["lead_id"]))
    communes = commune_names(tx, {r["insee"] for r in this_week if r["insee"]})
    items = [_item(r, communes) for r in this_week[:SEIZURES_LISTED]]
    return SeizureWeek(items=items, listed_total=len(this_week), totals=trend[-1], trend=trend,
                       deltas=_deltas(trend), handling_code=strictest({r["hc"] for r in this_week}))


def _item(r: dict[str, Any], communes: dict[str, str]) -> SeizureItem:
    return SeizureItem(
        lead_id=r["lead_id"], agency=r["agency"], kind=r["kind"], handling_code=r["hc"],
        access=public_level(r["access"]), seized_at=native(r["seized_at"]),
        insee_code=r["insee"], commune=communes.get(r["insee"]) if r["insee"] else None,
        place=r["place"], deal_point=r["deal_point"],
        substances=sorted((SeizedQuantity(**q) for q in r["substances"]), key=lambda q: (q.substance, q.unit)),
        unweighed=sorted(set(r["unweighed"])),
        cash_eur=r["cash"], weapons=[SeizedWeapon(**w) for w in json.loads(r["weapons"] or "[]")],
        weapon_count=r["weapon_count"],
        packaging=[SeizedPackaging(**p) for p in json.loads(r["packaging"] or "[]")],
        packaging_material=r["packaging_material"],
    )


def _totals(week: str, rows: list[dict[str, Any]]) -> SeizureTotals:
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        for q in r["substances"]:
            sums[(q["substance"], q["unit"])] += q["quantity"]
    return SeizureTotals(
        week=week, seizures=len(rows), cash_eur=round(sum(r["cash"] or 0 for r in rows), 2),
        weapons=sum(r["weapon_count"] for r in rows),
        quantities=[SeizedQuantity(substance=s, unit=u, quantity=round(v, 3)) for (s, u), v in sorted(sums.items())],
    )


def _deltas(trend: list[SeizureTotals]) -> list[SeizureDelta]:
    """This week (last of ``trend``) against the mean of the weeks before, for the count, the
    cash, the weapons and every substance and unit seen in any of these weeks."""
    *before, now = trend
    n = max(len(before), 1)

    def delta(measure: str, value, **key: str) -> SeizureDelta:
        cur = value(now)
        mean = round(sum(value(t) for t in before) / n, 3)
        return SeizureDelta(measure=measure, current=cur, previous_mean=mean, delta=round(cur - mean, 3),
                            ratio=round(cur / mean, 3) if mean else None, **key)

    out = [delta("seizures", lambda t: t.seizures), delta("cash_eur", lambda t: t.cash_eur),
           delta("weapons", lambda t: t.weapons)]
    keys = sorted({(q.substance, q.unit) for t in trend for q in t.quantities})
    out += [delta("quantity", lambda t, s=s, u=u: t.quantity(s, u), substance=s, unit=u) for s, u in keys]
    return out
