"""Jobs run once across hub processes (hub/jobs/once.py, ADR 0013): threads with different
holder ids stand for hubs sharing the test's Neo4j, with one real audit trail between them (the
per-writer trail is another piece of work). Expected outcomes come from the rule: a due time
runs once; a dead hub's run is taken over once; each lead is triaged once with one link alert;
each grant expiry is audited once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from graph import grants as graph_grants
from graph import leases
from graph.grants.models import NewGuestGrant
from graph.handle import Graph
from graph.leads import write_leads
from graph.setup import apply_schema
from hub.audit import AuditFilters, AuditTrail, query
from hub.contract.lead import Lead
from hub.jobs import grant_expiry, triage
from hub.jobs.once import LoopLease, ScheduledJob, ScheduledRuns, due_time
from policies.rulebook import load_rulebook
from tests.factories import lead
from tests.graph.test_leases import race, wait_server_past

PARIS = ZoneInfo("Europe/Paris")
YEARLY = CronTrigger.from_crontab("0 0 1 1 *", timezone="Europe/Paris")


@pytest.fixture(scope="module", autouse=True)
def _schema(graph: Graph) -> None:
    apply_schema(graph)  # the uniqueness constraints the claims rely on (wiping keeps them)


# The holders this module's loops run as: the only ones allowed a loop lease while it runs.
TEST_HOLDERS = frozenset({"hub-0", "hub-1"})


@pytest.fixture(scope="module", autouse=True)
def _only_this_modules_loops():
    """The in-process session hubs of other modules on this xdist worker (tests/hub's
    ``client``, tests/web's ``live_hub``) keep their triage and expiry loops running on the same
    graph, polling every few seconds: they would claim this module's pending leads and sweep its
    grants into *their* trails, so a count here would come up short (seen in CI: 9 of 18 leads).
    While this module runs, a loop lease is held only by the holders it names; the other loops
    idle as a hub without the lease does, and resume when the module ends."""
    original = LoopLease.hold

    def hold(self: LoopLease) -> bool:
        if self.holder not in TEST_HOLDERS:
            self.held = False
            return False
        return original(self)

    patch = pytest.MonkeyPatch()
    patch.setattr(LoopLease, "hold", hold)
    yield
    patch.undo()


@pytest.fixture
def trail(tmp_path):
    with AuditTrail.open(audit_dir=tmp_path / "audit", keys_dir=tmp_path / "keys") as t:
        yield t


@pytest.fixture
def app(clean: Graph, trail: AuditTrail) -> SimpleNamespace:
    """What the jobs read from a hub app's state: the graph, the trail, the rulebook."""
    return SimpleNamespace(state=SimpleNamespace(graph=clean, audit=trail, rulebook=load_rulebook()))


# --- scheduled runs -------------------------------------------------------------------------------


def test_the_due_time_is_the_triggers_latest_slot_not_the_clock():
    daily = CronTrigger.from_crontab("30 3 * * *", timezone="Europe/Paris")
    # 29 March 2026: Paris moves to summer time at 02:00, 03:30 is CEST (UTC+2).
    assert due_time(daily, datetime(2026, 3, 29, 12, 0, tzinfo=PARIS)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due_time(daily, datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # A second early: the day before's slot, then in winter time (UTC+1).
    assert due_time(daily, datetime(2026, 3, 29, 3, 29, 59, tzinfo=PARIS)) == datetime(2026, 3, 28, 2, 30, tzinfo=UTC)
    weekly = CronTrigger.from_crontab("0 6 * * thu", timezone="Europe/Paris")
    # Wednesday 2026-03-04: the previous Thursday, 2026-02-26 06:00 CET.
    assert due_time(weekly, datetime(2026, 3, 4, 20, 0, tzinfo=PARIS)) == datetime(2026, 2, 26, 5, 0, tzinfo=UTC)


def test_a_due_time_fired_by_two_hubs_runs_once(clean):
    ran: list[tuple[str, datetime]] = []

    def hub(holder: str) -> ScheduledRuns:
        def body(due, progress):
            ran.append((holder, due))
            time.sleep(0.5)  # still running when the other hub fires
            return holder
        return ScheduledRuns(clean, [ScheduledJob("new-year", YEARLY, body)], holder)

    hubs = [hub("hub-a"), hub("hub-b")]
    results = race(2, lambda i: hubs[i].fire("new-year"))
    assert len(ran) == 1, ran
    holder, due = ran[0]
    assert due == datetime(datetime.now(PARIS).year, 1, 1, tzinfo=PARIS).astimezone(UTC)
    assert sorted(results, key=str) == sorted([holder, None], key=str)
    run = leases.get_run(clean, "new-year", due)
    assert run.state == "done" and run.holder == holder
    # Fired again for the same due time (a restart within the misfire grace): nothing runs.
    assert [h.fire("new-year") for h in hubs] == [None, None] and len(ran) == 1
    assert [h.resume() for h in hubs] == [0, 0]


def test_a_run_whose_hub_died_is_taken_over_once_and_skips_what_it_finished(clean):
    due = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)
    # Hub "dead" claimed the run, finished one participant's copy, and died.
    assert leases.claim_run(clean, "weekly-briefs", due, "hub-dead", 5).outcome == "claimed"
    assert leases.record_progress(clean, "weekly-briefs", due, "hub-dead", "police:chef")
    ran: list[tuple[str, frozenset[str]]] = []

    def hub(holder: str) -> ScheduledRuns:
        def body(due, progress):
            ran.append((holder, progress.done))
            for person in ("police:chef", "gendarmerie:chef"):
                if person not in progress.done:
                    progress.mark(person)
        return ScheduledRuns(clean, [ScheduledJob("weekly-briefs", YEARLY, body)], holder)

    hubs = [hub("hub-b"), hub("hub-c")]
    assert [h.resume() for h in hubs] == [0, 0]  # its lease still runs: not taken from a live hub
    assert ran == []
    wait_server_past(clean, leases.lease(clean, "weekly-briefs").expires_at)
    taken = race(2, lambda i: hubs[i].resume())
    assert sorted(taken) == [0, 1]
    assert len(ran) == 1 and ran[0][1] == {"police:chef"}, ran
    run = leases.get_run(clean, "weekly-briefs", due)
    assert run.state == "done" and run.holder == ran[0][0]
    assert run.takeovers == 1 and run.taken_over_from == "hub-dead"
    assert run.progress == ["police:chef", "gendarmerie:chef"]  # each participant once
    assert [h.resume() for h in hubs] == [0, 0]


# --- the triage worker ----------------------------------------------------------------------------


PLATE = "GH-456-JK"


def _pending_leads(graph: Graph, fillers: int) -> list[str]:
    """A police lead and a gendarmerie lead on one plate (a cross-agency link: one alert), at
    different addresses, between police fillers that link to nothing; all pending triage."""
    def write(payloads):
        return [r.lead_id for r in write_leads(graph, [Lead.model_validate(p) for p in payloads],
                                               pushed_by="test", mark_for_triage=True)]

    ids = write([lead(vehicles=[{"plate": PLATE}])])
    ids += write([lead(location={"insee_code": "25056", "commune": "Besançon",
                                 "address": f"{i} rue des Fillers"}) for i in range(fillers)])
    ids += write([lead(source_agency="gendarmerie", channel="patrol", vehicles=[{"plate": PLATE}],
                       location={"insee_code": "25056", "commune": "Besançon",
                                 "address": "Rue du Gendarme"})])
    return ids


def _assert_each_lead_triaged_once(graph: Graph, trail: AuditTrail, ids: list[str]) -> None:
    assert graph.query("MATCH (l:TriagePending) RETURN count(l) AS n")[0]["n"] == 0
    scored = Counter(i for e in query(trail.audit_dir, AuditFilters(action="combination", limit=10_000))
                     for i in e.lead_ids)
    assert set(scored) == set(ids) and set(scored.values()) == {1}, scored
    alerts = graph.query("MATCH (a:LinkAlert) RETURN a.alert_id AS id, a.entity_kind AS kind")
    assert [a["kind"] for a in alerts] == ["vehicle"], alerts
    notices = graph.query("MATCH (n:Notification {kind: 'cross_agency_link'}) "
                          "RETURN n.agency AS agency, n.payload_alert_id AS alert")
    # One notice per agency holding a lead on the plate (policies.links.notices_for), once.
    assert sorted(n["agency"] for n in notices) == ["gendarmerie", "police"], notices
    assert {n["alert"] for n in notices} == {alerts[0]["id"]}


def test_two_triage_workers_over_the_same_leads_triage_each_once(app, monkeypatch):
    monkeypatch.setattr(triage, "BATCH", 3)  # small batches, so the two workers interleave
    ids = _pending_leads(app.state.graph, 16)

    def drain(i: int) -> int:
        total = 0
        while n := triage.triage_pending_once(app, f"hub-{i}"):
            total += n
        return total

    counts = race(2, drain)
    assert sum(counts) == len(ids), counts  # a lead counted by both would be triaged twice
    _assert_each_lead_triaged_once(app.state.graph, app.state.audit, ids)


def test_two_triage_loops_one_holds_the_lease_and_each_lead_is_triaged_once(app):
    graph = app.state.graph

    async def main() -> set[str | None]:
        stop, wakeups = asyncio.Event(), [asyncio.Event(), asyncio.Event()]
        loops = [asyncio.create_task(triage.triage_loop(app, wakeups[i], stop, 0.2, holder=f"hub-{i}"))
                 for i in range(2)]
        ids = await asyncio.to_thread(_pending_leads, graph, 8)
        for w in wakeups:
            w.set()  # both hubs took ingest
        holders = set()
        deadline = time.monotonic() + 60
        while graph.query("MATCH (l:TriagePending) RETURN count(l) AS n")[0]["n"]:
            assert time.monotonic() < deadline, "pending leads never triaged"
            holders.add(leases.lease(graph, "triage").holder)
            await asyncio.sleep(0.1)
        holders.add(leases.lease(graph, "triage").holder)
        stop.set()
        for w in wakeups:
            w.set()
        await asyncio.gather(*loops)
        app.ids = ids
        return holders

    holders = asyncio.run(main()) - {None}  # None: before either loop first took it
    assert len(holders) == 1 and holders <= {"hub-0", "hub-1"}, holders  # one holder throughout
    assert not leases.lease(graph, "triage").held  # released at stop, for another hub
    _assert_each_lead_triaged_once(graph, app.state.audit, app.ids)


# --- grant expiry ---------------------------------------------------------------------------------


def _ended_grants(graph: Graph, n: int) -> set[str]:
    now = datetime.now(UTC)
    return {graph_grants.create_guest_grant(graph, NewGuestGrant(
        grantee_user_id=f"prefecture:invite-{i}", grantee_name="Invité", grantee_agency="prefecture",
        lead_ids=[], entity_keys=[f"vehicle:{PLATE}"], valid_from=now - timedelta(days=2),
        valid_until=now - timedelta(minutes=1), granted_by="gendarmerie:chef", granted_by_name="Chef",
        reason="Réunion"), now - timedelta(days=2)).grant_id for i in range(n)}


def _audited_expiries(trail: AuditTrail) -> Counter[str]:
    return Counter(e.details.get("grant_id") for e in query(
        trail.audit_dir, AuditFilters(action="alteration", limit=10_000))
        if e.details.get("step") == "guest_grant_expiry")


def test_two_concurrent_sweeps_end_and_audit_each_grant_once(app):
    grants = _ended_grants(app.state.graph, 30)
    swept = race(2, lambda i: grant_expiry.sweep(app.state.graph, app.state.audit))
    ended = [g.grant_id for batch in swept for g in batch]
    assert sorted(ended) == sorted(grants)  # each grant ended by one sweep, none by both
    assert _audited_expiries(app.state.audit) == Counter({g: 1 for g in grants})


def test_two_expiry_loops_one_sweeps_and_each_expiry_is_audited_once(app):
    graph = app.state.graph
    grants = _ended_grants(graph, 12)

    async def main() -> set[str | None]:
        stop = asyncio.Event()
        loops = [asyncio.create_task(grant_expiry.expiry_loop(app, stop, 0.2, holder=f"hub-{i}"))
                 for i in range(2)]
        holders, deadline = set(), time.monotonic() + 60
        while sum(_audited_expiries(app.state.audit).values()) < len(grants):
            assert time.monotonic() < deadline, "the expiries were never swept"
            holders.add(leases.lease(graph, "grant-expiry").holder)
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # several more sweeps by the holder: nothing more to audit
        holders.add(leases.lease(graph, "grant-expiry").holder)
        stop.set()
        await asyncio.gather(*loops)
        return holders

    holders = asyncio.run(main()) - {None}  # None: before either loop first took it
    assert len(holders) == 1 and holders <= {"hub-0", "hub-1"}, holders
    assert _audited_expiries(app.state.audit) == Counter({g: 1 for g in grants})
    assert not leases.lease(graph, "grant-expiry").held
