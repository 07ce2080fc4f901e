"""The hub schedules its own jobs (retention purge, weekly briefs) and they run with its driver
and audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from graph import identity
from graph.handle import Graph
from hub.app import create_app


def test_hub_schedules_retention_and_briefs_and_the_brief_job_runs(settings, driver, tmp_path, clean_graph):
    own = settings.model_copy(update={"data_dir": tmp_path, "brief_cron": "0 6 * * thu",
                                      "watch_digest_cron": "15 7 * * *"})
    identity.upsert_user(Graph(driver, own.neo4j_database), agency="police", role="coordinator", name="chef-sched")
    with TestClient(create_app(own)) as client:
        scheduler = client.app.state.scheduler
        jobs = {job.id: job for job in scheduler.get_jobs()}
        # The jobs (retention, the weekly briefs, the daily watch digest — ADR 0018, the
        # escalation of unanswered disclosure requests), and the one that takes over their runs
        # left by a dead hub (ADR 0013).
        assert set(jobs) == {"retention", "weekly-briefs", "watch-digest", "disclosure-escalation",
                             "accounts", "audit-archive", "connector-watch", "dpd-weekly", "job-takeover"}
        assert jobs["weekly-briefs"].next_run_time.strftime("%a %H:%M") == "Thu 06:00"
        assert jobs["watch-digest"].next_run_time.strftime("%H:%M") == "07:15"
        assert str(jobs["retention"].next_run_time.tzinfo) == "Europe/Paris"
        job = jobs["weekly-briefs"]
        files = job.func(*job.args, **job.kwargs)
        assert any("police:chef-sched" in str(f) or getattr(f, "user_id", "") == "police:chef-sched"
                   for f in files), files
        assert any(p.suffix == ".pdf" for p in (tmp_path / "briefs").rglob("*"))


def test_jobs_can_be_disabled(settings, tmp_path):
    own = settings.model_copy(update={"data_dir": tmp_path, "hub_jobs_enabled": False})
    with TestClient(create_app(own)) as client:
        assert client.app.state.scheduler is None


def test_the_hubs_scheduler_fires_the_retention_job_itself(settings, driver, tmp_path, clean_graph):
    """Not a direct call: the hub's own APScheduler (jobs enabled, its own data_dir) is told to
    run the retention job now, and the test waits — bounded — for its effects: the lead that
    retention says is due is gone, the recent one stays, and the erasure is in the trail,
    logged by the scheduler."""
    import time
    from datetime import UTC, datetime

    from graph.handle import Graph
    from graph.leads import write_leads
    from hub.audit import AuditFilters, query
    from hub.contract.lead import Lead
    from tests.factories import lead

    db = settings.neo4j_database
    old, recent = write_leads(Graph(driver, db), [
        # Open since 2015: the default rule (36 months from the report) has long run out.
        Lead.model_validate(lead(kind="surveillance", observed_at="2015-03-01T10:00:00+01:00",
                                 reported_at="2015-03-02T10:00:00+01:00")),
        Lead.model_validate(lead(kind="surveillance")),  # reported 2025-07-29: kept
    ])
    own = settings.model_copy(update={"data_dir": tmp_path, "hub_jobs_enabled": True,
                                      "retention_cron": "30 3 * * *", "brief_cron": "0 6 * * thu"})

    def lead_ids() -> set[str]:
        return {r["id"] for r in driver.execute_query("MATCH (l:Lead) RETURN l.lead_id AS id").records}

    with TestClient(create_app(own)) as client:
        scheduler = client.app.state.scheduler
        assert scheduler is not None and scheduler.running
        # Due now: the scheduler's own thread picks it up (same job, same driver and trail).
        scheduler.modify_job("retention", next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + 30
        while old.lead_id in lead_ids():
            assert time.monotonic() < deadline, "the scheduled retention job never ran"
            time.sleep(0.2)
        assert recent.lead_id in lead_ids()
        entries = query(own.audit_dir, AuditFilters(action="erasure", lead_id=old.lead_id))
        assert len(entries) == 1, entries
        assert entries[0].details["operation"] == "retention_purge"
        assert entries[0].client_address == "scheduler"
        # Back on its nightly schedule afterwards.
        job = scheduler.get_job("retention")
        assert job.next_run_time.strftime("%H:%M") == "03:30"
