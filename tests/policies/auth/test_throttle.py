"""policies/auth/throttle.py: the failed-login schedule, as pure functions of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from policies.auth.throttle import (
    AttemptRecord,
    ThrottlePolicy,
    begin_attempt,
    is_locked,
    register_failure,
    register_success,
    retry_after,
)

T0 = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_failures=5, window=timedelta(minutes=15),
                        base_lock=timedelta(minutes=5), max_lock=timedelta(minutes=60))


def fail(record: AttemptRecord, times: int, start: datetime, step=timedelta(seconds=10)):
    now = start
    for _ in range(times):
        decision = begin_attempt(record, POLICY, now)
        assert decision.allowed, f"refused at {now}"
        record = decision.record
        now += step
    return record, now


def test_lock_durations_double_up_to_the_cap() -> None:
    assert [POLICY.lock_duration(n).total_seconds() / 60 for n in range(1, 8)] == [
        5, 10, 20, 40, 60, 60, 60]
    assert POLICY.lock_duration(10_000) == timedelta(minutes=60)


def test_five_failures_in_the_window_lock_for_five_minutes() -> None:
    record, now = fail(AttemptRecord(), 4, T0)
    assert record.failures == 4 and not is_locked(record, now)
    record, now = fail(record, 1, now)  # the 5th
    assert record.locked_until == T0 + timedelta(seconds=40) + timedelta(minutes=5)
    refused = begin_attempt(record, POLICY, now)
    assert not refused.allowed and refused.record == record  # a refusal does not extend the lock
    assert refused.retry_after_s == retry_after(record, now) == 290
    assert begin_attempt(record, POLICY, record.locked_until).allowed  # lock over


def test_failures_spread_beyond_the_window_never_lock() -> None:
    record = AttemptRecord()
    now = T0
    for _ in range(20):
        decision = begin_attempt(record, POLICY, now)
        assert decision.allowed
        record = decision.record
        now += timedelta(minutes=4)  # 4 failures per 16 minutes: always a fresh window by the 5th
    assert record.lockouts == 0 and record.locked_until is None


def test_each_further_lockout_is_longer() -> None:
    record, now = fail(AttemptRecord(), 5, T0)
    first = record.locked_until - (now - timedelta(seconds=10))
    record, now = fail(record, 5, record.locked_until)
    second = record.locked_until - (now - timedelta(seconds=10))
    record, now = fail(record, 5, record.locked_until)
    third = record.locked_until - (now - timedelta(seconds=10))
    assert (first, second, third) == (timedelta(minutes=5), timedelta(minutes=10),
                                      timedelta(minutes=20))
    assert record.lockouts == 3


def test_lockout_count_is_forgotten_after_a_quiet_day() -> None:
    record, now = fail(AttemptRecord(), 5, T0)
    record, now = fail(record, 5, record.locked_until)
    assert record.lockouts == 2  # a third lock now would last 20 minutes
    later = now + timedelta(days=1)
    record, now = fail(record, 5, later)
    assert record.lockouts == 1
    assert record.locked_until - (now - timedelta(seconds=10)) == timedelta(minutes=5)


def test_success_clears_everything() -> None:
    record, _ = fail(AttemptRecord(), 5, T0)
    assert register_success(record) == AttemptRecord()


def test_counting_is_pessimistic_the_gate_counts_before_the_check() -> None:
    decision = begin_attempt(AttemptRecord(), POLICY, T0)
    assert decision.allowed and decision.record.failures == 1
    assert decision.record.window_started_at == T0 and decision.record.last_failure_at == T0


def test_register_failure_opens_a_new_window_after_expiry() -> None:
    record = register_failure(AttemptRecord(failures=4, window_started_at=T0), POLICY,
                              T0 + timedelta(minutes=15))
    assert record.failures == 1 and record.window_started_at == T0 + timedelta(minutes=15)
