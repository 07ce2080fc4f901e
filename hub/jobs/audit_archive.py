"""The audit trail's own retention (ADR 0028), a job the hub runs nightly (hub/jobs/schedule.py,
once across all hub processes: hub/jobs/once.py) or ``crosshub audit archive`` on demand: closed
segments past the online period sealed into signed archives, archives past their retention
deleted — each recorded in the trail (hub/audit/archiving.py). The durations are policy data
(policies/data/audit_retention.yaml).

A plain function of the settings: inside the hub, pass its ``AuditTrail`` (``app.state.audit``:
the entries go to the worker's own segment, never archived while open); standalone, it opens a
segment of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hub.audit import AuditTrail
from hub.audit.archiving import ArchivingReport, run_archiving
from hub.jobs.standalone import trail_for
from hub.settings import Settings
from policies.audit_retention import AuditRetention

JOB_NAME = "audit-archive"
# Nightly, Europe/Paris, after the lead purge (retention_cron) so that its entries are written.
ARCHIVE_CRON = "40 3 * * *"


def run_audit_archive(settings: Settings, rules: AuditRetention, *, audit: AuditTrail | None = None,
                      now: datetime | None = None) -> ArchivingReport:
    now = now or datetime.now(UTC)
    with trail_for(settings, audit) as trail:
        return run_archiving(settings.audit_dir, settings.keys_dir, trail, rules, now,
                             index_path=settings.audit_index)


__all__ = ["ARCHIVE_CRON", "JOB_NAME", "run_audit_archive"]
