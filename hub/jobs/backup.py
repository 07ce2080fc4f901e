"""The scheduled backup (``backup_cron``, off by default): ``crosshub backup`` run by the hubs
themselves, once per due time across all of them (``ScheduledRuns``, ADR 0013).

A taker after a crash simply makes a new backup: a half-made one was never renamed into place
(hub/backup/make.py), and the next pruning removes its leftovers.
"""

from __future__ import annotations

from graph.handle import Graph
from hub.audit.trail import AuditTrail
from hub.backup.make import BackupResult, make_backup
from hub.settings import Settings

JOB_NAME = "backup"
ORIGIN = "crosshub:sauvegarde-planifiee"


def run_backup(settings: Settings, graph: Graph, audit: AuditTrail) -> BackupResult:
    return make_backup(settings, graph, audit, origin=ORIGIN)
