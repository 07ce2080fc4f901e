"""The scheduler (APScheduler 3, persistent SQLAlchemy job store, one per host) and the registry."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors import registry, scheduler
from connectors.base import Connector
from connectors.scheduler import (
    JOB_FUNC,
    SchedulePolicy,
    SchedulerAlreadyRunning,
    SchedulerLock,
    build_scheduler,
    run_connector_job,
    scheduler_running,
    trigger_for,
)
from connectors.state import StateStore
from hub.contract.errors import ConfigurationError
from tests.connectors._harness import MemoryConnector, env, simple_records  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


# --- one scheduler per host -----------------------------------------------------------------------


def test_lock_refuses_a_second_scheduler(tmp_path: Path) -> None:
    first = SchedulerLock(tmp_path).acquire()
    try:
        assert scheduler_running(tmp_path) == os.getpid()
        with pytest.raises(SchedulerAlreadyRunning) as exc:
            SchedulerLock(tmp_path).acquire()
        assert str(os.getpid()) in exc.value.message and "un seul planificateur" in exc.value.message
        assert stat.S_IMODE((tmp_path / "scheduler.lock").stat().st_mode) == 0o600
    finally:
        first.release()
    assert scheduler_running(tmp_path) is None
    SchedulerLock(tmp_path).acquire().release()  # free again


def test_second_scheduler_process_exits_with_a_clear_message(tmp_path: Path) -> None:
    with SchedulerLock(tmp_path):
        code = ("import sys; from hub.cli.connectors import app; "
                f"sys.argv = ['crosshub-connectors', 'schedule', '--state-dir', {str(tmp_path)!r}]; app()")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200"))
    assert proc.returncode == 4, proc.stderr
    assert "tourne déjà" in proc.stderr and str(os.getpid()) in proc.stderr


# --- triggers and the job store -------------------------------------------------------------------


def test_triggers_from_settings(env) -> None:  # noqa: F811
    policy = SchedulePolicy(jitter_s=30)
    interval = trigger_for(env.connector([], schedule_interval_s=600).settings, policy)
    assert isinstance(interval, IntervalTrigger) and interval.interval.total_seconds() == 600
    assert interval.jitter == 30
    cron = trigger_for(env.connector([], schedule_cron="*/15 6-22 * * mon-fri").settings, policy)
    assert isinstance(cron, CronTrigger) and cron.jitter == 30
    assert trigger_for(env.connector([], schedule_interval_s=None).settings, policy) is None
    with pytest.raises(ConfigurationError, match="schedule_cron"):
        trigger_for(env.connector([], schedule_cron="tous les jours").settings, policy)
    with pytest.raises(ConfigurationError, match="10 secondes"):
        trigger_for(env.connector([], schedule_interval_s=1).settings, policy)


def _job_ids(store_file: Path) -> list[str]:
    db = sqlite3.connect(store_file)
    try:
        return sorted(r[0] for r in db.execute("SELECT id FROM apscheduler_jobs"))
    finally:
        db.close()


def test_persistent_jobs_with_fixed_ids_no_overlap(env, tmp_path: Path) -> None:  # noqa: F811
    state = tmp_path / "sched"
    police = env.connector([], schedule_interval_s=300).settings
    douanes = env.connector([], schedule_cron="0 * * * *").settings
    for _ in range(2):  # restarting registers the same jobs again, never twice
        s = build_scheduler(state, {"police": police, "douanes": douanes}, blocking=False)
        s.start(paused=True)
        jobs = {j.id: j for j in s.get_jobs()}
        s.shutdown(wait=False)
        assert set(jobs) == {"connector:police", "connector:douanes"}
        job = jobs["connector:police"]
        assert job.func_ref == JOB_FUNC and job.args == ("police",)
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 300
        assert isinstance(jobs["connector:douanes"].trigger, CronTrigger)
    store_file = state / "scheduler-jobs.sqlite3"
    assert _job_ids(store_file) == ["connector:douanes", "connector:police"]
    assert stat.S_IMODE(store_file.stat().st_mode) == 0o600
    # A connector removed from the host loses its job.
    s = build_scheduler(state, {"police": police}, blocking=False)
    s.start(paused=True)
    s.shutdown(wait=False)
    assert _job_ids(store_file) == ["connector:police"]


def test_scheduled_job_runs_the_connector(env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # noqa: F811
    settings = env.connector(simple_records(12), schedule_interval_s=3600).settings

    class FromEnv(MemoryConnector):
        @classmethod
        def from_env(cls) -> Connector:
            return cls(settings)

    monkeypatch.setattr(registry, "load_connectors", lambda: {"memory": FromEnv})
    s = build_scheduler(tmp_path / "sched", {"memory": settings}, blocking=False)
    s.start()
    try:
        s.modify_job("connector:memory", next_run_time=datetime.now(s.timezone))
        deadline = time.monotonic() + 20
        while len(env.hub.runs) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        s.shutdown(wait=True)
    assert len(env.hub.created) == 12 and env.hub.runs[0]["status"] == "ok"


def test_job_skips_when_a_run_is_in_progress(env, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    settings = env.connector(simple_records(2)).settings

    class FromEnv(MemoryConnector):
        @classmethod
        def from_env(cls) -> Connector:
            return cls(settings)

    monkeypatch.setattr(registry, "load_connectors", lambda: {"memory": FromEnv})
    with StateStore(settings.state_dir, "memory") as store, store.run_lock():
        assert run_connector_job("memory") is None
    assert run_connector_job("memory")["status"] == "ok"
    assert run_connector_job("absent") is None  # logged, never raised into the scheduler


def test_serve_refuses_when_nothing_can_be_scheduled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "load_connectors", lambda: {})
    with pytest.raises(ConfigurationError, match="aucun connecteur"):
        scheduler.serve(tmp_path)
    assert scheduler_running(tmp_path) is None  # the lock was released


# --- registry -----------------------------------------------------------------------------------


def test_registry_loads_entry_points_and_isolates_broken_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint("memory", "tests.connectors._harness:MemoryConnector", registry.GROUP),
        EntryPoint("misnamed", "tests.connectors._harness:MemoryConnector", registry.GROUP),
        EntryPoint("notaconnector", "tests.connectors._harness:FakeHub", registry.GROUP),
        EntryPoint("missing", "tests.connectors.nowhere:Nothing", registry.GROUP),
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: [e for e in eps if e.group == group])
    found = registry.load_connectors()
    assert found == {"memory": MemoryConnector}
    errors = registry.load_errors()
    assert set(errors) == {"misnamed", "notaconnector", "missing"}
    assert "Connector" in errors["notaconnector"] and "ModuleNotFoundError" in errors["missing"]
    assert registry.get_connector("memory") is MemoryConnector
    with pytest.raises(ConfigurationError, match="non chargé"):
        registry.get_connector("missing")
    with pytest.raises(ConfigurationError, match="inconnu"):
        registry.get_connector("nothing")
