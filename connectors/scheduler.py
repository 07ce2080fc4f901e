"""Scheduling connector runs: APScheduler 3.x with a persistent SQLAlchemy job store.

* One job per connector, id ``connector:<name>``, referencing ``connectors.scheduler:run_connector_job``
  as text with ``args=[name]`` and ``replace_existing=True`` — restarting re-registers the same job;
  jobs of connectors no longer installed are removed.
* ``max_instances=1`` and ``coalesce=True``: never two runs of one connector at once, missed runs
  folded into one; ``misfire_grace_time`` and ``jitter`` from ``SchedulePolicy``.
* Interval (``schedule_interval_s``) or cron (``schedule_cron``, 5 fields, takes precedence) from
  each connector's settings. Prefer day names in cron (``mon-fri``): APScheduler numbers days
  from Monday = 0, unlike crontab.
* Exactly one scheduler per host's state dir: an exclusive, non-blocking ``fcntl`` lock on
  ``<state_dir>/scheduler.lock``; a second copy fails at once with ``SchedulerAlreadyRunning``.
  (Each run also takes its connector's own run lock, so even a manual run cannot overlap.)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors.models import ConnectorSettings
from connectors.state import RunInProgress, create_private_file, ensure_private_dir
from hub.contract.errors import ConfigurationError, Conflict

log = logging.getLogger("crosshub.connectors.scheduler")

JOB_FUNC = "connectors.scheduler:run_connector_job"
JOB_PREFIX = "connector:"
JOBSTORE_FILE = "scheduler-jobs.sqlite3"
LOCK_FILE = "scheduler.lock"
TIMEZONE = "Europe/Paris"


def default_state_dir() -> Path:
    return Path(os.environ.get("CROSSHUB_SCHEDULER_STATE_DIR") or Path.home() / ".crosshub" / "scheduler")


class SchedulerAlreadyRunning(Conflict):
    code = "scheduler_already_running"


@dataclass(frozen=True)
class SchedulePolicy:
    jitter_s: int = 30  # spread runs so connectors don't all hit the hub on the same second
    misfire_grace_s: int = 300  # a run missed by less than this still happens (once: coalesce)
    max_workers: int = 4  # connectors running at the same time


# --- the lock ------------------------------------------------------------------------------------


class SchedulerLock:
    """Exclusive, non-blocking lock: one scheduler per state dir (hence per job store)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.path = ensure_private_dir(state_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> SchedulerLock:
        create_private_file(self.path)
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SchedulerAlreadyRunning(
                f"un planificateur de connecteurs tourne déjà sur cet hôte (pid {holder}, verrou "
                f"{self.path}) : un seul planificateur par hôte — arrêtez l'autre ou utilisez "
                f"« crosshub connectors run NOM » pour un passage manuel"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> SchedulerLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def scheduler_running(state_dir: str | os.PathLike[str] | None = None) -> int | None:
    """The pid of the scheduler holding the lock, or None when none runs."""
    path = Path(state_dir or default_state_dir()) / LOCK_FILE
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        return None
    finally:
        os.close(fd)


# --- the job -------------------------------------------------------------------------------------


def run_connector_job(name: str) -> dict[str, Any] | None:
    """What the scheduler calls (by text reference): one run of connector ``name``."""
    from connectors.registry import get_connector

    try:
        connector = get_connector(name).from_env()
        record = connector.run()
    except RunInProgress as exc:
        log.info("connector %s: skipped, %s", name, exc.message)
        return None
    except ConfigurationError as exc:
        log.error("connector %s: not run, %s", name, exc.message)
        return None
    return record.model_dump(mode="json")


# --- building the scheduler ------------------------------------------------------------------


def trigger_for(settings: ConnectorSettings, policy: SchedulePolicy) -> BaseTrigger | None:
    """Cron when set (5 fields), else the interval; None when the connector is not scheduled."""
    if settings.schedule_cron:
        try:
            trigger = CronTrigger.from_crontab(settings.schedule_cron, timezone=TIMEZONE)
        except ValueError as exc:
            raise ConfigurationError(f"schedule_cron invalide « {settings.schedule_cron} » : {exc}") from None
        trigger.jitter = policy.jitter_s or None
        return trigger
    if settings.schedule_interval_s:
        if settings.schedule_interval_s < 10:
            raise ConfigurationError("schedule_interval_s doit valoir au moins 10 secondes")
        jitter = min(policy.jitter_s, settings.schedule_interval_s // 10) or None
        return IntervalTrigger(seconds=settings.schedule_interval_s, jitter=jitter, timezone=TIMEZONE)
    return None


def jobstore_path(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / JOBSTORE_FILE


def _remove_stale_jobs(path: Path, keep: set[str]) -> None:
    """Drop jobs of connectors no longer scheduled here (their ids, not other jobs)."""
    db = sqlite3.connect(path)
    try:
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'apscheduler_jobs'"
        ).fetchone()
        if not exists:
            return
        ids = [r[0] for r in db.execute("SELECT id FROM apscheduler_jobs WHERE id LIKE ?",
                                        (JOB_PREFIX + "%",))]
        stale = [i for i in ids if i not in keep]
        with db:
            db.executemany("DELETE FROM apscheduler_jobs WHERE id = ?", [(i,) for i in stale])
        for i in stale:
            log.info("scheduler: removed stale job %s", i)
    finally:
        db.close()


def build_scheduler(
    state_dir: str | os.PathLike[str],
    connectors: dict[str, ConnectorSettings],
    *,
    blocking: bool = True,
    policy: SchedulePolicy | None = None,
) -> BaseScheduler:
    """A scheduler with one persistent job per scheduled connector (not started)."""
    policy = policy or SchedulePolicy()
    ensure_private_dir(state_dir)
    store_file = create_private_file(jobstore_path(state_dir))
    triggers = {name: trigger_for(s, policy) for name, s in connectors.items()}
    scheduled = {name: t for name, t in triggers.items() if t is not None}
    _remove_stale_jobs(store_file, {JOB_PREFIX + n for n in scheduled})
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{store_file}")},
        executors={"default": ThreadPoolExecutor(max_workers=policy.max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": policy.misfire_grace_s},
        timezone=TIMEZONE,
    )
    for name, trigger in sorted(scheduled.items()):
        scheduler.add_job(
            JOB_FUNC, trigger, args=[name], id=JOB_PREFIX + name, name=f"connecteur {name}",
            replace_existing=True, coalesce=True, max_instances=1,
            misfire_grace_time=policy.misfire_grace_s,
        )
    return scheduler


def connector_settings(names: list[str] | None = None) -> tuple[dict[str, ConnectorSettings], dict[str, str]]:
    """Settings of the registered connectors (from the environment); those that cannot be
    configured are returned apart with the reason."""
    from connectors.registry import load_connectors, load_errors

    ok: dict[str, ConnectorSettings] = {}
    registered = load_connectors()
    errors = {k: v for k, v in load_errors().items() if names is None or k in names}
    for name in names or list(registered):
        cls = registered.get(name)
        if cls is None:
            errors.setdefault(name, "connecteur inconnu")
            continue
        try:
            ok[name] = cls.from_env().settings
        except ConfigurationError as exc:
            errors[name] = exc.message
    return ok, errors


@contextlib.contextmanager
def _graceful_stop(scheduler: BaseScheduler) -> Iterator[None]:
    def stop(signum: int, _frame: object) -> None:
        log.info("scheduler: signal %d, stopping", signum)
        scheduler.shutdown(wait=False)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve(state_dir: str | os.PathLike[str] | None = None, names: list[str] | None = None,
          policy: SchedulePolicy | None = None) -> None:
    """Run the scheduler in the foreground until interrupted. Raises ``SchedulerAlreadyRunning``
    if another copy holds the lock, ``ConfigurationError`` if no connector can be scheduled."""
    state_dir = Path(state_dir or default_state_dir())
    with SchedulerLock(state_dir):
        settings, errors = connector_settings(names)
        for name, reason in errors.items():
            log.error("connector %s not scheduled: %s", name, reason)
        if not settings:
            raise ConfigurationError("aucun connecteur à planifier : " + (
                "; ".join(f"{n} : {r}" for n, r in errors.items()) or "aucun connecteur enregistré"))
        scheduler = build_scheduler(state_dir, settings, blocking=True, policy=policy)
        with _graceful_stop(scheduler):
            try:
                scheduler.start()
            except (KeyboardInterrupt, SystemExit):
                pass
