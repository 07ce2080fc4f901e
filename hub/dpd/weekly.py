"""The DPD's weekly report: a week of the trail read, the watch's findings (policies/dpd_watch.py)
with, for each, links to exactly the trail entries behind it, and the thresholds applied — in
French, for the auditors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from graph.meetings.weeks import iso_week_of, week_bounds
from hub.dpd.trail import EntryLink, entry_links, week_records
from policies.dpd_watch import DpdWatchRules, Finding, watch


class ReportLine(BaseModel):
    finding: Finding
    links: list[EntryLink]


class RuleSummary(BaseModel):
    rule_id: str
    reason_fr: str
    threshold_fr: str
    findings: int


class WeeklyReport(BaseModel):
    week: str
    since: datetime
    until: datetime
    generated_at: datetime
    rules_digest: str
    entries_read: int
    people: int
    rules: list[RuleSummary]
    lines: list[ReportLine]

    def user_ids(self) -> list[str]:
        """The people the report names (the trail records that the DPD read about them)."""
        return sorted({ln.finding.user_id for ln in self.lines if ln.finding.user_id})


def thresholds_fr(rules: DpdWatchRules) -> dict[str, str]:
    """Each rule's thresholds as an auditor reads them."""
    p, o, r, q, b = (rules.peers, rules.off_hours, rules.justification_reuse,
                     rules.justification_quality, rules.burst)
    days = {1: "lundi", 2: "mardi", 3: "mercredi", 4: "jeudi", 5: "vendredi", 6: "samedi", 7: "dimanche"}
    return {
        p.rule_id: (f"plus de {p.factor:g} fois la médiane des pairs (même service, même rôle, au "
                    f"moins {p.min_peers} pairs) et plus de {p.floor} consultations"),
        o.rule_id: (f"hors {o.start:%H:%M}–{o.end:%H:%M} ({rules.timezone}), "
                    f"{', '.join(days[d] for d in o.weekend) or 'aucun jour de repos'}, "
                    f"{len(o.holidays)} jour(s) férié(s) ; à partir de {o.min_entries} consultations"),
        r.rule_id: (f"au moins {r.min_unrelated} recherches sans piste ni entité commune "
                    f"({', '.join(r.related_by)}) sous un même motif"),
        q.rule_id: (f"moins de {q.min_length} caractères utiles, ou uniquement des mots vides "
                    f"({', '.join(q.meaningless[:8])}…) ; à partir de {q.min_entries} consultation(s)"),
        b.rule_id: (f"au moins {b.count} consultations d'une même entité ({', '.join(b.kinds)}) "
                    f"en {b.window_minutes:g} minutes"),
        rules.disclosures.rule_id: "toutes les communications et tous les exports",
    }


def build_weekly(audit_dir: Path, index_path: Path | None, rules: DpdWatchRules, *,
                 week: str | None = None, base_url: str, now: datetime | None = None) -> WeeklyReport:
    """The report of ``week`` (``AAAA-Www``; default: the week before ``now``'s, the last
    complete one). Raises InvalidInput naming ``week`` when it is not a week."""
    now = now or datetime.now(UTC)
    if week is None:
        this_monday, _ = week_bounds(iso_week_of(now))
        week = iso_week_of(this_monday - timedelta(days=3))
    since, until = week_bounds(week)
    records = week_records(audit_dir, index_path, since, until)
    findings = watch(records, rules)
    thresholds = thresholds_fr(rules)
    counts = {r.rule_id: 0 for r in rules.rules()}
    for f in findings:
        counts[f.rule_id] += 1
    return WeeklyReport(
        week=week, since=since, until=until, generated_at=now, rules_digest=rules.digest,
        entries_read=len(records), people=len({r.actor.user_id for r in records if r.actor.kind == "user"}),
        rules=[RuleSummary(rule_id=r.rule_id, reason_fr=r.reason_fr, threshold_fr=thresholds[r.rule_id],
                           findings=counts[r.rule_id]) for r in rules.rules()],
        lines=[ReportLine(finding=f, links=entry_links(f.refs, base_url)) for f in findings])


def file_stem(report: WeeklyReport) -> str:
    return f"controle-dpd-{report.week}"
