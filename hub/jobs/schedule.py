"""The hub's own scheduled jobs: the retention purge (daily) and the weekly meeting briefs.

Every hub process runs its own APScheduler 3.x with an in-memory job store — the jobs are fixed
and come from the settings at each start, so there is nothing to persist, and a job store shared
between schedulers would not make a job run once (docs/decisions/0013). What does is the graph:
the scheduler calls ``ScheduledRuns.fire`` (hub/jobs/once.py), which claims the (job, due time)
run in the graph before running the body, so with N hubs each due time runs once; a run whose hub
died is taken over by another hub's ``job-takeover`` job (every ``RESUME_S``), which also runs
what fell due while the job's lease was busy. The bodies run as of their due time, not the wall
clock, so a taker does the same work. ``coalesce`` and ``max_instances=1`` keep a slow run from
overlapping the next in one process, and a misfire grace lets a run missed during a restart
still happen.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from fastapi import FastAPI

from graph.leases import holder_id
from hub.jobs import audit_archive, briefs, disclosure_escalation, retention, watch_delivery, watch_hits
from hub.jobs.once import RESUME_S, RunProgress, ScheduledJob, ScheduledRuns
from hub.settings import Settings

log = logging.getLogger("crosshub.schedule")
PARIS = "Europe/Paris"


def scheduled_runs(app: FastAPI, settings: Settings, holder: str | None = None) -> ScheduledRuns:
    """The hub's scheduled jobs, each body run as of its due time with the hub's driver and
    trail; ``holder`` names this process in the graph (default: ``graph.leases.holder_id()``)."""
    common = {"driver": app.state.driver, "audit": app.state.audit}
    rulebook = app.state.rulebook

    def purge(due: datetime, progress: RunProgress) -> retention.RetentionReport:
        # Idempotent: a taker re-plans from what is still due (erased leads are gone).
        return retention.run_retention(settings, now=due, policy=rulebook.retention, **common)

    def weekly_briefs(due: datetime, progress: RunProgress) -> list[briefs.BriefFiles]:
        # A taker skips the participants whose copy was already written and logged.
        return briefs.generate_weekly_briefs(
            settings, now=due, rulebook=rulebook, skip_user_ids=progress.done,
            on_written=lambda files: progress.mark(files.user_id), **common)

    def watch_digest(due: datetime, progress: RunProgress) -> dict[str, int]:
        # Ends the watches of owners whose rights ended, then one summary per person; a taker
        # skips the people already told.
        watch_hits.sweep_standing(app.state.graph, app.state.audit, rulebook.policy,
                                  rulebook.watches, due)
        return watch_delivery.run_digest(app.state.graph, rulebook.policy, rulebook.watches, due,
                                         skip_user_ids=progress.done, on_done=progress.mark)

    def escalate(due: datetime, progress: RunProgress) -> int:
        # Idempotent: a taker escalates what is still unescalated at the same due time.
        return len(disclosure_escalation.sweep(app.state.graph, app.state.audit,
                                               rulebook.disclosure, due))

    def dpd_report(due: datetime, progress: RunProgress) -> object:
        # The DPD's report of the last complete week as of the due time (hub/jobs/dpd.py); a
        # taker writes and logs it again.
        from hub.jobs import dpd

        return dpd.run_weekly_report(settings, app.state.graph, app.state.audit, rulebook, due)

    def archive_trail(due: datetime, progress: RunProgress) -> dict[str, int]:
        # The trail's own retention (ADR 0028); a taker finishes what a run began (archiving.py).
        report = audit_archive.run_audit_archive(settings, rulebook.audit_retention,
                                                 audit=app.state.audit, now=due)
        return {"archived": len(report.archived), "deleted": len(report.deleted)}

    def accounts_job(due: datetime, progress: RunProgress) -> object:
        # Inactivity, the access review's opening and its deadline (hub/jobs/accounts.py);
        # idempotent: a taker does the same work as of the same due time.
        from hub.jobs import accounts

        return accounts.run_accounts_job(app.state.graph, app.state.audit, rulebook.accounts, due)

    jobs: list[ScheduledJob] = [ScheduledJob("accounts", CronTrigger.from_crontab(
        settings.accounts_cron, timezone=PARIS), accounts_job)]

    def connector_watch(due: datetime, progress: RunProgress) -> dict[str, int]:
        # Silent connectors and growing quarantines: alerts opened once, closed when they end.
        from hub.jobs import connector_watch as watch

        return watch.run_connector_watch(app, due)

    jobs.append(ScheduledJob("connector-watch", CronTrigger.from_crontab(
        settings.connector_watch_cron, timezone=PARIS), connector_watch))
    if settings.federation_enabled:
        # The federation round (issue 16): this hub's tokens refreshed, its new plates and
        # phones asked of every peer through the antenna.
        from hub.jobs import federation

        def federation_round(due: datetime, progress: RunProgress) -> dict[str, object]:
            return federation.run_federation_round(app, due)

        jobs.append(ScheduledJob(federation.JOB_NAME, CronTrigger.from_crontab(
            settings.federation_cron, timezone=PARIS), federation_round))

    if settings.backup_cron:
        # The backup (hub/jobs/backup.py, ADR 0027): off unless a crontab is configured.
        from hub.jobs import backup as backup_job

        def backup(due: datetime, progress: RunProgress) -> object:
            return backup_job.run_backup(settings, app.state.graph, app.state.audit)

        jobs.append(ScheduledJob(backup_job.JOB_NAME, CronTrigger.from_crontab(
            settings.backup_cron, timezone=PARIS), backup))
    return ScheduledRuns(app.state.graph, jobs + [
        ScheduledJob("retention", CronTrigger.from_crontab(settings.retention_cron, timezone=PARIS), purge),
        ScheduledJob("weekly-briefs", CronTrigger.from_crontab(settings.brief_cron, timezone=PARIS),
                     weekly_briefs),
        ScheduledJob("watch-digest", CronTrigger.from_crontab(settings.watch_digest_cron,
                                                              timezone=PARIS), watch_digest),
        ScheduledJob(disclosure_escalation.JOB_NAME, CronTrigger.from_crontab(
            disclosure_escalation.ESCALATION_CRON, timezone=PARIS), escalate),
        ScheduledJob("dpd-weekly", CronTrigger.from_crontab(settings.dpd_report_cron, timezone=PARIS),
                     dpd_report),
        ScheduledJob(audit_archive.JOB_NAME, CronTrigger.from_crontab(
            audit_archive.ARCHIVE_CRON, timezone=PARIS), archive_trail),
    ], holder or holder_id(), on_outcome=app.state.metrics.job_run)


def start_hub_jobs(app: FastAPI, settings: Settings) -> BackgroundScheduler | None:
    if not settings.hub_jobs_enabled:
        return None
    scheduler = BackgroundScheduler(timezone=PARIS, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    runs = scheduled_runs(app, settings)
    for name, job in runs.jobs.items():
        scheduler.add_job(runs.fire, job.trigger, args=[name], id=name, replace_existing=True)
    scheduler.add_job(runs.resume, IntervalTrigger(seconds=RESUME_S), id="job-takeover",
                      replace_existing=True)
    scheduler.start()
    log.info("hub jobs scheduled: retention %r, briefs %r", settings.retention_cron, settings.brief_cron)
    return scheduler
