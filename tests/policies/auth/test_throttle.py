"""policies/auth/throttle.py: the failed-login schedule, as pure functions of time — one record,
then the three records of a login (per account and client, per account, per client) — and the
keyed hash that names them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.auth.throttle import load_or_create_keyring
from policies.auth.throttle import (
    AttemptRecord,
    ClientRecord,
    LoginRecords,
    LoginThrottlePolicy,
    SprayPolicy,
    ThrottleKeyring,
    ThrottlePolicy,
    begin_attempt,
    begin_login,
    client_bucket,
    client_expires_at,
    expires_at,
    is_locked,
    login_succeeded,
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


# --- three records per login: (account, client), account, client ----------------------------------

LOGIN = LoginThrottlePolicy(
    pair=POLICY,
    account=ThrottlePolicy(max_failures=8, window=timedelta(minutes=15),
                           base_lock=timedelta(minutes=5), max_lock=timedelta(minutes=5)),
    client=SprayPolicy(max_accounts=4, window=timedelta(minutes=15),
                       base_lock=timedelta(minutes=5), max_lock=timedelta(minutes=60)),
)


class World:
    """Records as the graph would hold them: one per account, per (account, client), per client."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], AttemptRecord] = {}
        self.accounts: dict[str, AttemptRecord] = {}
        self.clients: dict[str, ClientRecord] = {}

    def records(self, account: str, client: str) -> LoginRecords:
        return LoginRecords(pair=self.pairs.get((account, client), AttemptRecord()),
                            account=self.accounts.get(account, AttemptRecord()),
                            client=self.clients.get(client, ClientRecord()))

    def store(self, account: str, client: str, records: LoginRecords) -> None:
        self.pairs[(account, client)] = records.pair
        self.accounts[account] = records.account
        self.clients[client] = records.client

    def attempt(self, account: str, client: str, now: datetime, good: bool = False):
        decision = begin_login(self.records(account, client), LOGIN, account, now)
        if decision.allowed:
            self.store(account, client, decision.records)
            if good:
                self.store(account, client, login_succeeded(decision.records, account))
        return decision


def test_a_pair_lock_holds_only_the_failing_client() -> None:
    world = World()
    for i in range(5):
        assert world.attempt("alice", "A", T0 + timedelta(seconds=i)).allowed
    refused = world.attempt("alice", "A", T0 + timedelta(seconds=10))
    assert not refused.allowed and refused.refused_by == ("pair",)
    assert refused.retry_after_s == 5 * 60 - 6
    owner = world.attempt("alice", "B", T0 + timedelta(seconds=11), good=True)
    assert owner.allowed


def test_an_account_lock_refuses_recently_failing_clients_only_and_is_bounded() -> None:
    world = World()
    now = T0
    for client in "CDEFGHIJ":  # 8 clients, one failure each: the account-wide threshold
        assert world.attempt("alice", client, now).allowed
        now += timedelta(seconds=1)
    assert world.accounts["alice"].locked_until == now - timedelta(seconds=1) + timedelta(minutes=5)
    dirty = world.attempt("alice", "C", now)
    assert not dirty.allowed and dirty.refused_by == ("account",)
    assert dirty.retry_after_s <= 5 * 60  # never more than the fixed account lock
    assert world.attempt("alice", "Z", now, good=True).allowed  # a clean client: the owner
    # Even if strangers keep the account locked, a client's own failure ages out of the window.
    world.accounts["alice"] = world.accounts["alice"].model_copy(
        update={"locked_until": now + timedelta(hours=5)})
    refused = world.attempt("alice", "C", now)
    assert refused.retry_after_s == 15 * 60 - 8
    assert world.attempt("alice", "C", T0 + timedelta(minutes=15)).allowed


def test_spraying_distinct_accounts_locks_the_client_everywhere() -> None:
    world = World()
    now = T0
    for account in ("a1", "a2", "a3", "a4"):
        assert world.attempt(account, "S", now).allowed
        now += timedelta(seconds=1)
    refused = world.attempt("a5", "S", now)
    assert not refused.allowed and refused.refused_by == ("client",)
    assert refused.retry_after_s == 5 * 60 - 1
    assert world.attempt("a5", "T", now).allowed  # another client is not concerned
    # Many failures on ONE account are not spraying (the pair rule handles them).
    for i in range(4):
        assert world.attempt("bob", "R", T0 + timedelta(seconds=i)).allowed
    assert world.clients["R"].accounts == (world.clients["R"].accounts[0],)
    assert world.clients["R"].locked_until is None


def test_a_refusal_changes_nothing() -> None:
    world = World()
    for i in range(5):
        world.attempt("alice", "A", T0 + timedelta(seconds=i))
    before = world.records("alice", "A")
    decision = begin_login(before, LOGIN, "alice", T0 + timedelta(minutes=1))
    assert not decision.allowed and decision.records == before


def test_a_success_forgives_the_pair_and_takes_back_the_counted_failure() -> None:
    world = World()
    world.attempt("alice", "A", T0)
    world.attempt("other", "A", T0)
    world.attempt("alice", "A", T0 + timedelta(seconds=1), good=True)
    assert world.pairs[("alice", "A")] == AttemptRecord()
    assert world.accounts["alice"].failures == 1  # the earlier failure stays, this one is taken back
    assert world.clients["A"].accounts == ("other",)


def test_records_expire_after_the_window_or_after_memory_once_locked() -> None:
    record, now = fail(AttemptRecord(), 2, T0)
    assert expires_at(record, POLICY) == record.last_failure_at + POLICY.window
    record, now = fail(AttemptRecord(), 5, T0)
    assert record.lockouts == 1
    assert expires_at(record, POLICY) == record.last_failure_at + POLICY.memory
    assert expires_at(AttemptRecord(), POLICY) is None
    spray = ClientRecord(accounts=("x",), window_started_at=T0, last_failure_at=T0)
    assert client_expires_at(spray, LOGIN.client) == T0 + LOGIN.client.window


def test_the_account_wide_lock_may_not_grow() -> None:
    with pytest.raises(ValueError):
        LoginThrottlePolicy(account=ThrottlePolicy(base_lock=timedelta(minutes=1),
                                                   max_lock=timedelta(minutes=2)))


def test_keys_are_keyed_hashes_never_the_id_or_address() -> None:
    ring = ThrottleKeyring(b"k" * 32)
    keys = ring.keys("police:dupont", "203.0.113.9")
    assert keys == ring.keys("police:dupont", "203.0.113.9")
    assert "dupont" not in str(keys.model_dump()) and "203.0.113" not in str(keys.model_dump())
    assert keys != ThrottleKeyring(b"j" * 32).keys("police:dupont", "203.0.113.9")
    assert ring.keys("police:dupont", "203.0.113.10").account == keys.account
    assert ring.keys("police:dupont", "203.0.113.10").pair != keys.pair
    assert len({keys.account, keys.pair, keys.client}) == 3
    with pytest.raises(Exception, match="32"):
        ThrottleKeyring(b"court")


def test_clients_are_bucketed_by_address_ipv6_by_64() -> None:
    assert client_bucket("2001:db8:1:2:aaaa::1") == client_bucket("2001:db8:1:2:ffff::9") \
        == "2001:db8:1:2::/64"
    assert client_bucket("2001:db8:1:3::1") != client_bucket("2001:db8:1:2::1")
    assert client_bucket("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_bucket("198.51.100.4") == "198.51.100.4"
    assert client_bucket("testclient") == "testclient"


def test_the_key_file_is_created_0600_once(tmp_path: Path) -> None:
    first = load_or_create_keyring(tmp_path / "keys")
    path = tmp_path / "keys" / "login_throttle.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_keyring(tmp_path / "keys").account("x") == first.account("x")
    path.chmod(0o644)
    with pytest.raises(Exception, match="0600"):
        load_or_create_keyring(tmp_path / "keys")
