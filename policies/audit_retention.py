"""Retention of the audit trail itself: how long closed segments stay online before they are
archived, and how long archives are kept before they are deleted. Pure: the durations are data
(``policies/data/audit_retention.yaml``), the decisions functions of (rules, a segment's last
entry time, the instant). The hub seals, verifies, deletes and records (hub/audit/archives.py,
hub/jobs/audit_archive.py; ADR 0027).

Public API: ``load_audit_retention``, ``AuditRetention`` (``archive_due``, ``delete_due``,
``delete_after``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from policies.models import PolicyModel
from policies.retention import add_months

AUDIT_RETENTION_FILE = "audit_retention.yaml"
Months = Annotated[int, Field(ge=1, le=1200)]


class AuditRetention(PolicyModel):
    version: int = 1
    online_months: Months = 12
    archive_months: Months = 72
    digest: str | None = None

    def archive_due(self, last_entry_at: datetime, now: datetime) -> bool:
        """A closed segment whose last entry is older than the online period goes to archive."""
        return now >= add_months(last_entry_at, self.online_months)

    def delete_after(self, last_entry_at: datetime) -> datetime:
        """When an archive may be deleted, counted from its segment's last entry."""
        return add_months(last_entry_at, self.archive_months)

    def delete_due(self, last_entry_at: datetime, now: datetime) -> bool:
        return now >= self.delete_after(last_entry_at)


def _check(source: str, data: Any, rules: AuditRetention) -> None:
    from policies.loader import _fail, line_of

    if rules.archive_months <= rules.online_months:
        raise _fail(source, line_of(data, ("archive_months",)), "archive_months",
              "doit dépasser online_months : une archive ne peut pas être supprimée avant d'avoir été faite")


def load_audit_retention(path: Path | str | None = None) -> AuditRetention:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / AUDIT_RETENTION_FILE
    return load_rules_file(AuditRetention, entry, "conservation du journal d'audit", _check)


__all__ = ["AUDIT_RETENTION_FILE", "AuditRetention", "load_audit_retention"]
