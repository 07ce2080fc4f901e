"""The hub's own scheduled jobs: the retention purge (daily) and the weekly meeting briefs.

They run inside the hub process because both write to the audit trail, which has a single
writer (the hub holds its lock); a second hub on the same data dir cannot start, so jobs never
run twice. APScheduler 3.x with an in-memory job store: the jobs are fixed and come from the
settings at each start, so there is nothing to persist; ``coalesce`` and ``max_instances=1``
keep a slow run from overlapping the next, and a misfire grace lets a run missed during a
restart still happen.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from fastapi import FastAPI

from hub.jobs import briefs, retention
from hub.settings import Settings

log = logging.getLogger("crosshub.schedule")
PARIS = "Europe/Paris"


def start_hub_jobs(app: FastAPI, settings: Settings) -> BackgroundScheduler | None:
    if not settings.hub_jobs_enabled:
        return None
    scheduler = BackgroundScheduler(timezone=PARIS, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    common = {"driver": app.state.driver, "audit": app.state.audit}
    rulebook = app.state.rulebook
    scheduler.add_job(retention.run_retention, CronTrigger.from_crontab(settings.retention_cron, timezone=PARIS),
                      args=[settings], kwargs={**common, "policy": rulebook.retention}, id="retention", replace_existing=True)
    scheduler.add_job(briefs.generate_weekly_briefs, CronTrigger.from_crontab(settings.brief_cron, timezone=PARIS),
                      args=[settings], kwargs={**common, "rulebook": rulebook}, id="weekly-briefs", replace_existing=True)
    scheduler.start()
    log.info("hub jobs scheduled: retention %r, briefs %r", settings.retention_cron, settings.brief_cron)
    return scheduler
