"""Failed-login throttling, as pure functions over one record of attempts per claimed user id.

The rule (``ThrottlePolicy``): ``max_failures`` failed attempts within ``window`` lock the account
for ``base_lock``; each further lockout doubles the lock, up to ``max_lock``. The lockout count
is forgotten after ``memory`` without a failure, and a successful login clears everything.

Attempts are counted *pessimistically*: ``begin_attempt`` counts an attempt as a failure before
the password is checked, and a success then clears the record. Counting after the check would let
concurrent requests that all passed the gate before any failure was recorded guess far beyond the
limit; counted first, and atomically (the hub runs ``begin_attempt`` inside one graph
transaction), at most ``max_failures`` guesses per lock period are ever verified.

Records are kept for any claimed user id, existing or not: throttling an unknown id exactly like
a real one means a 429 reveals nothing about which accounts exist.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field


class ThrottlePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_failures: int = Field(default=5, ge=1)
    window: timedelta = timedelta(minutes=15)
    base_lock: timedelta = timedelta(minutes=5)
    max_lock: timedelta = timedelta(hours=1)
    # After this long without a failure, the lockout count starts again from zero.
    memory: timedelta = timedelta(hours=24)

    def lock_duration(self, lockout: int) -> timedelta:
        """Length of the ``lockout``-th consecutive lock (1-based): base, 2×base, 4×base... ≤ max."""
        if lockout < 1:
            return timedelta(0)
        factor = 2 ** min(lockout - 1, 30)  # bounded: past ~30 doublings max_lock rules anyway
        return min(self.base_lock * factor, self.max_lock)


class AttemptRecord(BaseModel):
    """Failed logins of one claimed user id. An empty record means "nothing to hold against"."""

    model_config = ConfigDict(frozen=True)

    failures: int = Field(default=0, ge=0)  # in the current window
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = Field(default=0, ge=0)  # consecutive locks, for the increasing delay
    last_failure_at: datetime | None = None


class AttemptDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    retry_after_s: int = 0  # when refused: whole seconds until the lock ends (≥ 1)
    record: AttemptRecord  # what to store


def retry_after(record: AttemptRecord, now: datetime) -> int:
    """Seconds until ``record``'s lock ends (0 when not locked)."""
    if record.locked_until is None or record.locked_until <= now:
        return 0
    return max(1, math.ceil((record.locked_until - now).total_seconds()))


def is_locked(record: AttemptRecord, now: datetime) -> bool:
    return retry_after(record, now) > 0


def register_failure(record: AttemptRecord, policy: ThrottlePolicy, now: datetime) -> AttemptRecord:
    """``record`` after one more failure at ``now``: counted in the window, and a lock when the
    window holds ``max_failures``."""
    lockouts = record.lockouts
    if record.last_failure_at is not None and now - record.last_failure_at >= policy.memory:
        lockouts = 0
    window_open = (record.window_started_at is not None
                   and now - record.window_started_at < policy.window)
    failures = record.failures + 1 if window_open else 1
    window_started_at = record.window_started_at if window_open else now
    if failures >= policy.max_failures:
        lockouts += 1
        # The window restarts after the lock: the next lock needs max_failures fresh failures.
        return AttemptRecord(failures=0, window_started_at=None,
                             locked_until=now + policy.lock_duration(lockouts),
                             lockouts=lockouts, last_failure_at=now)
    return AttemptRecord(failures=failures, window_started_at=window_started_at,
                         locked_until=record.locked_until, lockouts=lockouts, last_failure_at=now)


def begin_attempt(record: AttemptRecord, policy: ThrottlePolicy, now: datetime) -> AttemptDecision:
    """Gate a login attempt: refused while locked (record unchanged), else allowed and counted
    as a failure in advance; call ``register_success`` if the credentials turn out good."""
    wait = retry_after(record, now)
    if wait:
        return AttemptDecision(allowed=False, retry_after_s=wait, record=record)
    return AttemptDecision(allowed=True, record=register_failure(record, policy, now))


def register_success(record: AttemptRecord) -> AttemptRecord:
    """A good login forgives everything."""
    return AttemptRecord()
