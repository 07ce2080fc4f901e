"""The DPD's watch on the trail (policies/dpd_watch.py), against a table of cases.

The oracle is the rule text and its thresholds, read here from dpd_watch.yaml with a plain
``yaml.safe_load`` (not through the loader): each case builds a week of look-ups just below or
at a threshold and names the findings the rule says it must give — (rule, person) pairs, and for
some the exact entries behind them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from policies.audit import Actor, AuditAction, DecisionOutcome
from policies.dpd_watch import TrailRecord, is_meaningless, load_dpd_watch_rules, normalize_justification, watch

Y = yaml.safe_load((Path(str(resources.files("policies") / "data")) / "dpd_watch.yaml").read_text("utf-8"))
RULES = load_dpd_watch_rules()
ZONE = ZoneInfo(Y["timezone"])
PEERS, OFF, REUSE, QUALITY, BURST, DISC = (Y[k]["rule_id"] for k in (
    "peers", "off_hours", "justification_reuse", "justification_quality", "burst", "disclosures"))
TUESDAY = date(2026, 12, 1)  # week 2026-W49, a working day
SATURDAY = date(2026, 12, 5)
WEEKDAY_HOLIDAY = next(d for d in Y["off_hours"]["holidays"] if d.isoweekday() not in Y["off_hours"]["weekend"])
START_H = int(Y["off_hours"]["start"].split(":")[0])
END_H = int(Y["off_hours"]["end"].split(":")[0])


class World:
    """A week of trail records, numbered as one segment writes them."""

    def __init__(self) -> None:
        self.records: list[TrailRecord] = []

    def add(self, user: str, day: date, hh: int, mm: int = 0, *, keys: list[str] | None = None,
            motif: str | None = None, agency: str = "police", role: str = "analyst",
            action: AuditAction = AuditAction.CONSULTATION, recipients: list[str] | None = None,
            details: dict | None = None) -> TrailRecord:
        n = len(self.records) + 1
        at = datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZONE)
        r = TrailRecord(
            segment="20261130T000000Z-hub-test-1-abcdef", seq=n, entry_hash=f"{n:064x}", at=at,
            action=action, actor=Actor(user_id=f"{agency}:{user}", name=user, agency=agency, role=role),
            outcome=DecisionOutcome.FULL, entity_keys=keys if keys is not None else [f"vehicle:AA-{n:03d}-AA"],
            justification=motif if motif is not None else f"PV 2026/{n:05d} enquête stupéfiants",
            recipients=recipients or [], details=details or {})
        self.records.append(r)
        return r

    def ordinary(self, user: str, n: int, *, day: date = TUESDAY, agency: str = "police",
                 role: str = "analyst") -> list[TrailRecord]:
        """``n`` look-ups in working hours, each of its own plate with its own procedure number."""
        return [self.add(user, day, START_H + 2 + (i * 7) // 60 % (END_H - START_H - 3), (i * 7) % 60,
                         agency=agency, role=role) for i in range(n)]


def found(records: list[TrailRecord]) -> set[tuple[str, str | None]]:
    return {(f.rule_id, f.user_id) for f in watch(records, RULES)}


def _normal_day(w: World) -> set:
    for user in ("ana", "bea", "cyr"):
        w.ordinary(user, 12)
    return set()


def _off_hours_below(w: World) -> set:
    for i in range(Y["off_hours"]["min_entries"] - 1):
        w.add("nuit", TUESDAY, 22, 10 + i)
    return set()


def _off_hours_at(w: World) -> set:
    for i in range(Y["off_hours"]["min_entries"]):
        w.add("nuit", TUESDAY, 23, 10 + i)
    return {(OFF, "police:nuit")}


def _weekend(w: World) -> set:
    for i in range(Y["off_hours"]["min_entries"]):
        w.add("samedi", SATURDAY, 10, i)
    return {(OFF, "police:samedi")}


def _holiday(w: World) -> set:
    for i in range(Y["off_hours"]["min_entries"]):
        w.add("ferie", WEEKDAY_HOLIDAY, 10, i)
    return {(OFF, "police:ferie")}


def _hours_edges(w: World) -> set:
    # [start, end): at the start is working time, at the end is not.
    for i in range(Y["off_hours"]["min_entries"]):
        w.add("matin", TUESDAY, START_H, 0, keys=[f"vehicle:BB-{i:03d}-BB"])
        w.add("soir", TUESDAY, END_H, 0, keys=[f"vehicle:CC-{i:03d}-CC"])
    return {(OFF, "police:soir")}


def _reuse_unrelated(w: World) -> set:
    for i in range(Y["justification_reuse"]["min_unrelated"]):
        w.add("copie", TUESDAY, 10, i * 5, motif="Enquête en cours secteur nord")
    return {(REUSE, "police:copie")}


def _reuse_below(w: World) -> set:
    for i in range(Y["justification_reuse"]["min_unrelated"] - 1):
        w.add("copie", TUESDAY, 10, i * 5, motif="Enquête en cours secteur nord")
    return set()


def _reuse_related(w: World) -> set:
    # One working context: every look-up shares the same person.
    for i in range(Y["justification_reuse"]["min_unrelated"] + 2):
        w.add("ctx", TUESDAY, 10, i * 5, motif="PV 2026/777 réseau Planoise",
              keys=[f"vehicle:DD-{i:03d}-DD", "person:ps1:t1:" + "a" * 64])
    return set()


def _reuse_accents(w: World) -> set:
    # Case, accents and punctuation do not make another motif.
    motifs = ["Enquête en cours, secteur Nord", "enquete en cours secteur nord.", "ENQUÊTE EN COURS SECTEUR NORD"]
    for i in range(Y["justification_reuse"]["min_unrelated"]):
        w.add("casse", TUESDAY, 11, i * 5, motif=motifs[i % 3])
    return {(REUSE, "police:casse")}


def _empty_motifs(w: World) -> set:
    w.add("vide", TUESDAY, 10, 0, motif="vérif")
    w.add("ras", TUESDAY, 10, 5, motif="RAS.")
    w.add("point", TUESDAY, 10, 10, motif=".....")
    w.add("tests", TUESDAY, 10, 15, motif="Test test TEST")
    w.add("bon", TUESDAY, 10, 20, motif="PV 2026/118 stups")
    return {(QUALITY, "police:vide"), (QUALITY, "police:ras"), (QUALITY, "police:point"),
            (QUALITY, "police:tests")}


def _burst_at(w: World) -> set:
    step = Y["burst"]["window_minutes"] / Y["burst"]["count"]  # count look-ups inside one window
    for i in range(Y["burst"]["count"]):
        minute = int(i * step)
        w.add("rafale", TUESDAY, 14 + minute // 60, minute % 60, keys=["vehicle:EE-123-EE"])
    return {(BURST, "police:rafale")}


def _burst_below(w: World) -> set:
    for i in range(Y["burst"]["count"] - 1):
        w.add("rafale", TUESDAY, 14, i, keys=["vehicle:EE-123-EE"])
    return set()


def _burst_spread(w: World) -> set:
    # As many look-ups, but never `count` of them inside one window.
    gap = Y["burst"]["window_minutes"] / (Y["burst"]["count"] - 2) + 1
    for i in range(Y["burst"]["count"]):
        minute = int(i * gap)
        w.add("lent", TUESDAY, 9 + minute // 60, minute % 60, keys=["vehicle:EE-123-EE"])
    return set()


def _peers_flag(w: World) -> set:
    base = 10
    for user in ("p1", "p2", "p3"):
        w.ordinary(user, base)
    heavy = max(Y["peers"]["floor"], int(Y["peers"]["factor"] * base)) + 1
    for d in range(4):  # spread over the week, in working hours
        w.ordinary("gros", heavy // 4 + (1 if d < heavy % 4 else 0), day=TUESDAY + timedelta(days=d))
    # Another agency's analysts are not peers of the police ones.
    w.ordinary("g1", heavy, agency="gendarmerie")
    return {(PEERS, "police:gros")}


def _peers_under_floor(w: World) -> set:
    for user in ("p1", "p2", "p3"):
        w.ordinary(user, 2)
    w.ordinary("moyen", min(Y["peers"]["floor"], int(Y["peers"]["factor"] * 2) + 1))
    return set()


def _peers_too_few(w: World) -> set:
    w.ordinary("seul", 3, role="coordinator")
    w.ordinary("chef", Y["peers"]["floor"] + 50, role="coordinator")
    return set() if Y["peers"]["min_peers"] > 1 else {(PEERS, "police:chef")}


def _disclosures(w: World) -> set:
    w.add("exp", TUESDAY, 15, action=AuditAction.DISCLOSURE, recipients=["police:exp"],
          details={"format": "csv"})
    return {(DISC, "police:exp")}


CASES = {f.__name__[1:]: f for f in (
    _normal_day, _off_hours_below, _off_hours_at, _weekend, _holiday, _hours_edges, _reuse_unrelated,
    _reuse_below, _reuse_related, _reuse_accents, _empty_motifs, _burst_at, _burst_below, _burst_spread,
    _peers_flag, _peers_under_floor, _peers_too_few, _disclosures)}


@pytest.mark.parametrize("case", list(CASES))
def test_findings_follow_the_thresholds(case: str) -> None:
    w = World()
    expected = CASES[case](w)
    assert found(w.records) == expected


def test_a_finding_names_exactly_the_entries_behind_it() -> None:
    w = World()
    w.ordinary("jour", 5)
    late = [w.add("jour", TUESDAY, 2, i, motif="contrôle", keys=["phone:+33612345678"])
            for i in range(max(Y["off_hours"]["min_entries"], Y["burst"]["count"]))]
    by_rule = {f.rule_id: f for f in watch(w.records, RULES)}
    expected = [(r.segment, r.seq, r.entry_hash) for r in late]
    for rule in (OFF, BURST, QUALITY):
        assert [(x.segment, x.seq, x.entry_hash) for x in by_rule[rule].refs] == expected, rule
    assert by_rule[BURST].subject == "phone:+33612345678"


def test_justifications_compare_without_case_accents_or_punctuation() -> None:
    assert normalize_justification("  Vérif.  N°12 ") == "verif n 12"
    assert is_meaningless("Vérification", RULES.justification_quality)
    assert not is_meaningless("Contrôle routier A36, PV 2026/42", RULES.justification_quality)
