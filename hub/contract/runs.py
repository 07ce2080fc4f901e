"""A connector's run record: what a run of one connector did, whose fault its last error was.
Kept in the connector's state, posted to the hub (``POST /api/v1/connectors/{name}/runs``) and
shown to administrators (``GET /api/v1/connectors``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.contract.lead import Agency


class RunStatus(StrEnum):
    OK = "ok"  # everything collected was pushed; outbox empty
    PARTIAL = "partial"  # the hub could not take everything: items wait in the outbox
    FAILED = "failed"  # the source failed, or our own setup/code did


class Fault(StrEnum):
    """Whose fault the run's last error was."""

    SOURCE = "source"  # the source failed (retryable)
    HUB = "hub"  # the hub was unreachable or answered a transient error (retryable)
    OURS = "ours"  # our configuration or code (not retryable until fixed)


class RunRecord(BaseModel):
    """One run of one connector: kept in the connector's SQLite state and posted to the hub at
    ``POST /api/v1/connectors/{connector}/runs``."""

    model_config = ConfigDict(validate_assignment=True)

    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    connector: str
    agency: Agency
    started_at: datetime
    finished_at: datetime | None = None
    duration_s: float = 0.0
    count_in: int = 0  # records collected from the source
    count_out: int = 0  # leads written to the outbox
    count_quarantined: int = 0  # records quarantined (map/sanitize/validate) + hub rejections
    count_pushed: int = 0  # outbox items acknowledged by the hub (incl. leftovers of earlier runs)
    count_rejected: int = 0  # of which the hub rejected (also counted in count_quarantined)
    outbox_pending: int = 0  # items still waiting in the outbox at the end
    # What the hub's watch on its connectors reads (policies/operations.py): how many records the
    # connector holds in quarantine at the end of the run, and how often it is scheduled to run
    # (None: not scheduled, or a connector older than these fields).
    quarantine_size: int | None = Field(default=None, ge=0)
    expected_every_s: float | None = Field(default=None, gt=0)
    cursor: str | None = None  # cursor at the end of the run
    status: RunStatus = RunStatus.OK
    fault: Fault | None = None
    last_error: str | None = None

    @field_validator("last_error")
    @classmethod
    def _short(cls, v: str | None) -> str | None:
        return v if v is None or len(v) <= 2000 else v[:1997] + "..."
