"""Job leases and run records in the graph (graph/leases.py), raced by threads standing for hub
processes (each its own holder id) against the real Neo4j. Expiry is the graph server's clock:
the tests wait — bounded — until the server's ``datetime()`` has passed an instant, never on
the test's own clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from graph import leases
from graph.handle import Graph
from graph.setup import apply_schema

DUE = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _schema(graph: Graph) -> None:
    """The schema in force (wiping keeps constraints): the lease and run keys' uniqueness
    constraints are what make two racing MERGEs meet on one node."""
    apply_schema(graph)


def race(n: int, work: Callable[[int], object]) -> list[object]:
    """``work(i)`` on ``n`` threads released together; the results in thread order."""
    barrier, results = threading.Barrier(n), [None] * n

    def one(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def wait_server_past(graph: Graph, instant: datetime) -> None:
    deadline = time.monotonic() + 30
    while not graph.query("RETURN datetime() > $t AS past", t=instant)[0]["past"]:
        assert time.monotonic() < deadline, "the server's clock never passed the lease's end"
        time.sleep(0.1)


def test_holder_id_names_this_process_once():
    import os
    import socket

    me = leases.holder_id()
    assert me == leases.holder_id()
    host, pid, rand = me.rsplit("-", 2)
    assert host == socket.gethostname() and pid == str(os.getpid()) and len(rand) == 8


def test_holders_racing_for_a_lease_exactly_one_wins(clean):
    for round_ in range(5):
        job = f"race-{round_}"
        states = race(6, lambda i, job=job: leases.acquire(clean, job, f"hub-{i}", 60))
        winners = [s.holder for s in states if s.held]
        assert len(winners) == 1, states
        # The losers were told who holds it; the graph says the same.
        assert {s.holder for s in states} == set(winners)
        assert leases.lease(clean, job).holder == winners[0] and leases.lease(clean, job).held


def test_an_expired_lease_is_taken_over_and_its_old_holder_can_no_longer_renew(clean):
    a = leases.acquire(clean, "grant-expiry", "hub-a", 3)
    assert a.held
    b = leases.acquire(clean, "grant-expiry", "hub-b", 30)
    assert not b.held and b.holder == "hub-a"
    wait_server_past(clean, a.expires_at)
    b = leases.acquire(clean, "grant-expiry", "hub-b", 30)
    assert b.held and b.holder == "hub-b"
    assert not leases.renew(clean, "grant-expiry", "hub-a", 30)
    assert not leases.release(clean, "grant-expiry", "hub-a")  # not A's to give up
    assert leases.lease(clean, "grant-expiry").holder == "hub-b"


def test_a_renewed_lease_is_not_taken_over(clean):
    first = leases.acquire(clean, "triage", "hub-a", 3)
    assert leases.renew(clean, "triage", "hub-a", 60)
    wait_server_past(clean, first.expires_at)  # the first term is over, the renewed one is not
    b = leases.acquire(clean, "triage", "hub-b", 30)
    assert not b.held and b.holder == "hub-a"
    again = leases.acquire(clean, "triage", "hub-a", 60)  # its own: extended, not refused
    assert again.held and again.expires_at >= first.expires_at


def test_a_released_lease_is_free_at_once(clean):
    assert leases.acquire(clean, "triage", "hub-a", 60).held
    assert leases.release(clean, "triage", "hub-a")
    assert not leases.lease(clean, "triage").held
    assert leases.acquire(clean, "triage", "hub-b", 60).held


def test_a_due_run_claimed_by_racing_hubs_is_claimed_once_and_then_done(clean):
    claims = race(6, lambda i: leases.claim_run(clean, "retention", DUE, f"hub-{i}", 60))
    mine = [c for c in claims if c.mine]
    assert [c.outcome for c in mine] == ["claimed"]
    assert {c.outcome for c in claims if not c.mine} == {"busy"}
    winner = mine[0].run.holder
    assert leases.lease(clean, "retention").holder == winner  # the run holds the job's lease
    assert not leases.finish_run(clean, "retention", DUE, "hub-x")  # only its holder finishes it
    assert leases.finish_run(clean, "retention", DUE, winner)
    run = leases.get_run(clean, "retention", DUE)
    assert run.state == "done" and run.holder == winner and run.takeovers == 0
    assert not leases.lease(clean, "retention").held  # released with the run
    assert {leases.claim_run(clean, "retention", DUE, f"hub-{i}", 60).outcome
            for i in range(3)} == {"done"}


def test_a_run_whose_holder_died_is_taken_over_exactly_once(clean):
    dead = leases.claim_run(clean, "weekly-briefs", DUE, "hub-dead", 5)
    assert dead.outcome == "claimed"
    assert leases.record_progress(clean, "weekly-briefs", DUE, "hub-dead", "police:chef")
    # While its lease runs, the run is not another hub's to take, nor offered for resumption.
    assert leases.claim_run(clean, "weekly-briefs", DUE, "hub-b", 30).outcome == "busy"
    assert leases.resumable_runs(clean, ["weekly-briefs"]) == []

    wait_server_past(clean, leases.lease(clean, "weekly-briefs").expires_at)
    assert leases.resumable_runs(clean, ["weekly-briefs", "retention"]) == [("weekly-briefs", DUE)]
    claims = race(2, lambda i: leases.claim_run(clean, "weekly-briefs", DUE, ["hub-b", "hub-c"][i], 30))
    assert sorted(c.outcome for c in claims) == ["busy", "taken_over"]
    taker = next(c for c in claims if c.mine)
    assert taker.run.progress == ["police:chef"]  # what the dead hub finished is not redone
    run = leases.get_run(clean, "weekly-briefs", DUE)
    assert run.takeovers == 1 and run.taken_over_from == "hub-dead" and run.state == "running"

    # Back from the dead (a paused VM): it may no longer record anything nor finish the run.
    assert not leases.record_progress(clean, "weekly-briefs", DUE, "hub-dead", "police:autre")
    assert not leases.finish_run(clean, "weekly-briefs", DUE, "hub-dead")
    assert leases.finish_run(clean, "weekly-briefs", DUE, taker.run.holder)
    run = leases.get_run(clean, "weekly-briefs", DUE)
    assert run.state == "done" and run.takeovers == 1 and run.progress == ["police:chef"]
    assert leases.resumable_runs(clean, ["weekly-briefs"]) == []


def test_a_run_due_while_its_job_was_busy_waits_pending_then_is_claimed(clean):
    later = DUE.replace(day=6)
    assert leases.claim_run(clean, "retention", DUE, "hub-a", 60).outcome == "claimed"
    busy = leases.claim_run(clean, "retention", later, "hub-b", 60)
    assert busy.outcome == "busy" and busy.run.state == "pending"
    assert leases.resumable_runs(clean, ["retention"]) == []  # the job's lease is A's
    assert leases.finish_run(clean, "retention", DUE, "hub-a")
    assert leases.resumable_runs(clean, ["retention"]) == [("retention", later)]
    claim = leases.claim_run(clean, "retention", later, "hub-b", 60)
    assert claim.outcome == "claimed" and claim.run.takeovers == 0
