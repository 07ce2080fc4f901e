"""Jobs run once across hub processes sharing one graph (graph/leases.py; docs/decisions/0013).

Every hub process runs the same background work; what makes each piece happen once is in the
graph, not in the process:

- ``Heartbeat`` — renews a held lease every ``RENEW_S`` from a thread while work runs, and notes
  when the lease was lost (taken by another holder after it lapsed);
- ``LoopLease`` — the lease of a loop job (``grant-expiry``, ``triage``): ``hold()`` takes or
  renews it, so one process at a time works and the others idle until it lapses;
- ``ScheduledRuns`` — the scheduled jobs (retention, briefs): each process keeps its own
  in-memory APScheduler, whose callable ``fire(name)`` works out the due time from the job's
  trigger and runs the body only if it claims that (job, due) run in the graph; ``resume()``
  (every ``RESUME_S``) runs what was due while the job's lease was busy and takes over runs
  whose holder died.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger

from graph import leases
from graph.handle import Graph

log = logging.getLogger("crosshub.jobs")

LEASE_TTL_S = 30.0  # a dead holder's job waits at most this long (plus RENEW_S) to be taken over
RENEW_S = 10.0  # three renewals per TTL: one slow transaction does not lose the lease
RESUME_S = 15.0


class LeaseLost(RuntimeError):
    """The run's lease lapsed and another holder took the run: stop, the taker finishes it."""


class Heartbeat:
    """Renew ``holder``'s lease on ``job`` every ``every_s`` while the ``with`` body runs."""

    def __init__(self, graph: Graph, job: str, holder: str, *, ttl_s: float = LEASE_TTL_S,
                 every_s: float = RENEW_S) -> None:
        self.graph, self.job, self.holder = graph, job, holder
        self.ttl_s, self.every_s = ttl_s, every_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if not leases.renew(self.graph, self.job, self.holder, self.ttl_s):
                    log.error("bail %s perdu par %s : un autre processus a repris la tâche",
                              self.job, self.holder)
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 — the graph may be back before the lease lapses
                log.exception("renouvellement du bail %s impossible ; nouvel essai", self.job)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class LoopLease:
    """A loop job's lease kept across iterations: ``hold()`` (blocking; call it from a worker
    thread) acquires it, or renews it once ``renew_s`` have passed, and says whether this
    process holds it; ``run`` does one piece of work under a heartbeat."""

    def __init__(self, graph: Graph, job: str, holder: str, *, ttl_s: float = LEASE_TTL_S,
                 renew_s: float = RENEW_S) -> None:
        self.graph, self.job, self.holder = graph, job, holder
        self.ttl_s, self.renew_s = ttl_s, renew_s
        self.held = False
        self._next_renew = 0.0

    def hold(self) -> bool:
        now = time.monotonic()
        if self.held and now < self._next_renew:
            return True
        was = self.held
        self.held = leases.acquire(self.graph, self.job, self.holder, self.ttl_s).held
        self._next_renew = now + self.renew_s
        if self.held != was:
            log.info("bail %s %s par %s", self.job, "pris" if self.held else "perdu", self.holder)
        return self.held

    def run(self, work: Callable[..., Any], *args: Any) -> Any:
        with Heartbeat(self.graph, self.job, self.holder, ttl_s=self.ttl_s, every_s=self.renew_s):
            result = work(*args)
        self._next_renew = 0.0  # the heartbeat renewed it meanwhile; check again before more work
        return result

    def release(self) -> None:
        if self.held:
            self.held = False
            leases.release(self.graph, self.job, self.holder)


def due_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's latest fire time at or before ``now`` — the due time APScheduler is running
    (with ``coalesce``, it runs the latest of those it missed). The same on every hub whatever
    its clock's drift, as long as the drift is below the trigger's period."""
    for back in (timedelta(minutes=5), timedelta(hours=2), timedelta(days=2), timedelta(days=9),
                 timedelta(days=40), timedelta(days=400)):
        fire = trigger.get_next_fire_time(None, now - back)
        if fire is None or fire > now:
            continue
        while (later := trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))) \
                is not None and later <= now:
            fire = later
        return fire.astimezone(UTC)
    return None


class RunProgress:
    """What a run's body sees: the items a predecessor already finished (a taken-over run skips
    them) and ``mark(item)`` to record one more; raises ``LeaseLost`` once the run is no longer
    this holder's, so the body stops between items."""

    def __init__(self, graph: Graph, job: str, due: datetime, holder: str, done: list[str],
                 heartbeat: Heartbeat) -> None:
        self.graph, self.job, self.due, self.holder = graph, job, due, holder
        self.done = frozenset(done)
        self._heartbeat = heartbeat

    def check(self) -> None:
        if self._heartbeat.lost.is_set():
            raise LeaseLost(self.job)

    def mark(self, item: str) -> None:
        if not leases.record_progress(self.graph, self.job, self.due, self.holder, item):
            raise LeaseLost(self.job)
        self.check()


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    trigger: BaseTrigger
    body: Callable[[datetime, RunProgress], Any]  # (due time, progress) → the job's result


class ScheduledRuns:
    """The scheduled jobs of one hub process, each run once per due time across processes."""

    def __init__(self, graph: Graph, jobs: list[ScheduledJob], holder: str, *,
                 ttl_s: float = LEASE_TTL_S, renew_s: float = RENEW_S,
                 on_outcome: Callable[[str, str, float], None] | None = None) -> None:
        self.graph, self.holder = graph, holder
        self.jobs = {job.name: job for job in jobs}
        self.ttl_s, self.renew_s = ttl_s, renew_s
        # Told (job, outcome, seconds) after each due time this process fired: done, failed,
        # lease_lost, or elsewhere (another process runs it) — the hub's job-run metrics.
        self._on_outcome = on_outcome

    def _tell(self, name: str, outcome: str, started: float) -> None:
        if self._on_outcome is not None:
            with contextlib.suppress(Exception):  # a metric never fails a job
                self._on_outcome(name, outcome, time.monotonic() - started)

    def fire(self, name: str) -> Any:
        """APScheduler's callable: run ``name`` for the due time it is firing."""
        now = datetime.now(UTC)
        # Off the trigger's slots only when fired by hand (``modify_job``): that instant is its due.
        due = due_time(self.jobs[name].trigger, now) or now.replace(microsecond=0)
        return self.run(name, due)

    def run(self, name: str, due: datetime) -> Any:
        """Run ``name`` for ``due`` if this process claims it; its result, else None."""
        return self._run(name, due)[1]

    def resume(self) -> int:
        """Run what is due and unfinished with its job's lease free (pending while it was busy,
        or left running by a dead holder); how many runs this process took."""
        return sum(self._run(name, due)[0]
                   for name, due in leases.resumable_runs(self.graph, sorted(self.jobs)))

    def _run(self, name: str, due: datetime) -> tuple[bool, Any]:
        job = self.jobs[name]
        started = time.monotonic()
        claim = leases.claim_run(self.graph, name, due, self.holder, self.ttl_s)
        if not claim.mine:
            log.info("%s dû à %s : %s (%s)", name, due.isoformat(), claim.outcome, claim.run.holder)
            self._tell(name, "elsewhere", started)
            return False, None
        if claim.outcome == "taken_over":
            log.warning("%s dû à %s repris de %s (mort en cours d'exécution)", name,
                        due.isoformat(), claim.run.taken_over_from)
        try:
            with Heartbeat(self.graph, name, self.holder, ttl_s=self.ttl_s,
                           every_s=self.renew_s) as heartbeat:
                result = job.body(due, RunProgress(self.graph, name, due, self.holder,
                                                   claim.run.progress, heartbeat))
        except LeaseLost:
            log.error("%s dû à %s : bail perdu, la reprise appartient à un autre processus",
                      name, due.isoformat())
            self._tell(name, "lease_lost", started)
            return True, None
        except BaseException as exc:
            leases.finish_run(self.graph, name, due, self.holder, failed=True,
                              error=f"{type(exc).__name__}: {exc}"[:500])
            self._tell(name, "failed", started)
            raise
        leases.finish_run(self.graph, name, due, self.holder)
        self._tell(name, "done", started)
        return True, result
