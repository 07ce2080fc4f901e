"""The hub schedules its own jobs (retention purge, weekly briefs) and they run with its driver
and audit trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from graph import identity
from hub.app import create_app


def test_hub_schedules_retention_and_briefs_and_the_brief_job_runs(settings, driver, tmp_path, clean_graph):
    own = settings.model_copy(update={"data_dir": tmp_path, "brief_cron": "0 6 * * thu"})
    identity.upsert_user(driver, own.neo4j_database, agency="police", role="coordinator", name="chef-sched")
    with TestClient(create_app(own)) as client:
        scheduler = client.app.state.scheduler
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"retention", "weekly-briefs"}
        assert jobs["weekly-briefs"].next_run_time.strftime("%a %H:%M") == "Thu 06:00"
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
