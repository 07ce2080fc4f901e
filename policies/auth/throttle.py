"""Failed-login throttling, as pure functions over attempt records — plus the one keyed hash that
names the records (so the graph never stores a claimed id or a client address in clear).

Three records gate a password login (``LoginThrottlePolicy``, ``begin_login``; the design and its
argument are in docs/decisions/0004-sessions-and-sso.md, "Throttling (amended)"):

* **per (account, client address)** — ``pair``: ``max_failures`` failures within ``window`` lock
  *that client* out of *that account* for ``base_lock``, doubling per further lockout up to
  ``max_lock`` (``ThrottlePolicy``). Only the failing client waits.
* **per account, all clients** — ``account``: many failures across clients lock the account for a
  short, fixed time (``base_lock == max_lock``: never growing). The lock only refuses clients with
  a recent failure on this account (``dirty``); a client with none — the owner at their own desk —
  goes through. So a stranger can slow distributed guessing but cannot hold the owner out: an
  owner who mistyped waits at most until their own failure leaves the window.
* **per client address, all accounts** — ``client``: failures on ``max_accounts`` distinct
  accounts within ``window`` (password spraying: one try per account) lock that client out of
  every account, doubling per further lockout up to ``max_lock``.

The single-record rule (``ThrottlePolicy`` and ``begin_attempt``): ``max_failures`` failed attempts
within ``window`` lock for ``base_lock``; each further lockout doubles the lock, up to
``max_lock``. The lockout count is forgotten after ``memory`` without a failure, and a successful
login clears everything.

Attempts are counted *pessimistically*: ``begin_attempt`` counts an attempt as a failure before
the password is checked, and a success then clears the record. Counting after the check would let
concurrent requests that all passed the gate before any failure was recorded guess far beyond the
limit; counted first, and atomically (the hub runs ``begin_login`` inside one graph
transaction), at most ``max_failures`` guesses per lock period are ever verified.

Records are kept for any claimed user id, existing or not: throttling an unknown id exactly like
a real one means a 429 reveals nothing about which accounts exist. Every record carries an expiry
(``expires_at``) after which it holds nothing against anyone and is swept.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.errors import ConfigurationError


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


def expires_at(record: AttemptRecord, policy: ThrottlePolicy) -> datetime | None:
    """When ``record`` stops mattering and may be deleted (None: it is empty already).

    Without a lockout, only the current window counts; after one, the lockout count matters for
    ``memory`` (the next lock's length), and the lock itself until it ends."""
    if record.last_failure_at is None:
        return record.locked_until
    if record.lockouts == 0:
        end = record.last_failure_at + policy.window
    else:
        end = record.last_failure_at + policy.memory
    return max(end, record.locked_until) if record.locked_until else end


# --- three records per login: (account, client), account, client ----------------------------------


class SprayPolicy(BaseModel):
    """Failures on ``max_accounts`` distinct accounts from one client within ``window`` lock that
    client for ``base_lock``, doubling per further lockout up to ``max_lock``."""

    model_config = ConfigDict(frozen=True)

    max_accounts: int = Field(default=10, ge=2)
    window: timedelta = timedelta(minutes=15)
    base_lock: timedelta = timedelta(minutes=5)
    max_lock: timedelta = timedelta(hours=1)
    memory: timedelta = timedelta(hours=24)

    def lock_duration(self, lockout: int) -> timedelta:
        return ThrottlePolicy(base_lock=self.base_lock, max_lock=self.max_lock).lock_duration(lockout)


class ClientRecord(BaseModel):
    """Failed logins of one client address: the distinct accounts (keyed hashes) it failed on in
    the current window."""

    model_config = ConfigDict(frozen=True)

    accounts: tuple[str, ...] = ()
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = Field(default=0, ge=0)
    last_failure_at: datetime | None = None


def register_client_failure(record: ClientRecord, policy: SprayPolicy, account: str,
                            now: datetime) -> ClientRecord:
    lockouts = record.lockouts
    if record.last_failure_at is not None and now - record.last_failure_at >= policy.memory:
        lockouts = 0
    window_open = (record.window_started_at is not None
                   and now - record.window_started_at < policy.window)
    accounts = record.accounts if window_open else ()
    if account not in accounts:
        accounts = (*accounts, account)
    if len(accounts) >= policy.max_accounts:
        lockouts += 1
        return ClientRecord(accounts=(), window_started_at=None,
                            locked_until=now + policy.lock_duration(lockouts), lockouts=lockouts,
                            last_failure_at=now)
    return ClientRecord(accounts=accounts,
                        window_started_at=record.window_started_at if window_open else now,
                        locked_until=record.locked_until, lockouts=lockouts, last_failure_at=now)


def client_expires_at(record: ClientRecord, policy: SprayPolicy) -> datetime | None:
    as_attempts = AttemptRecord(lockouts=record.lockouts, last_failure_at=record.last_failure_at,
                                locked_until=record.locked_until)
    return expires_at(as_attempts, ThrottlePolicy(window=policy.window, memory=policy.memory))


class LoginThrottlePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    pair: ThrottlePolicy = ThrottlePolicy()
    # Across all clients: a short lock that never grows (base_lock == max_lock, checked below).
    account: ThrottlePolicy = ThrottlePolicy(max_failures=20, base_lock=timedelta(minutes=5),
                                             max_lock=timedelta(minutes=5))
    client: SprayPolicy = SprayPolicy()

    def model_post_init(self, _context: object) -> None:
        if self.account.max_lock != self.account.base_lock:
            raise ValueError("the account-wide lock must not grow: account.max_lock == base_lock")


class LoginRecords(BaseModel):
    """The three records one login attempt reads and writes."""

    model_config = ConfigDict(frozen=True)

    pair: AttemptRecord = AttemptRecord()
    account: AttemptRecord = AttemptRecord()
    client: ClientRecord = ClientRecord()


RefusedBy = Literal["pair", "account", "client"]


class LoginDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    retry_after_s: int = 0
    refused_by: tuple[RefusedBy, ...] = ()  # for the audit trail only, never for the caller
    records: LoginRecords


def _until(moment: datetime | None, now: datetime) -> int:
    if moment is None or moment <= now:
        return 0
    return max(1, math.ceil((moment - now).total_seconds()))


def is_dirty(pair: AttemptRecord, policy: LoginThrottlePolicy, now: datetime) -> bool:
    """This client failed on this account recently (within the pair window)."""
    return pair.last_failure_at is not None and now - pair.last_failure_at < policy.pair.window


def begin_login(records: LoginRecords, policy: LoginThrottlePolicy, account: str,
                now: datetime) -> LoginDecision:
    """Gate one password login of claimed account ``account`` (its keyed hash) from one client.

    Refused (records unchanged: a refusal never extends anything) when the client is locked for
    spraying, when this client is locked out of this account, or when the account is locked and
    this client failed on it recently. Otherwise allowed, and counted in advance as a failure in
    all three records; call ``login_succeeded`` when the password turns out good."""
    waits: dict[RefusedBy, int] = {}
    if wait := retry_after(AttemptRecord(locked_until=records.client.locked_until), now):
        waits["client"] = wait
    if wait := retry_after(records.pair, now):
        waits["pair"] = wait
    if (wait := retry_after(records.account, now)) and is_dirty(records.pair, policy, now):
        assert records.pair.last_failure_at is not None
        # Whichever comes first: the account lock ends, or this client's failure ages out.
        waits["account"] = min(wait, _until(records.pair.last_failure_at + policy.pair.window, now))
    if waits:
        return LoginDecision(allowed=False, retry_after_s=max(waits.values()),
                             refused_by=tuple(waits), records=records)
    return LoginDecision(allowed=True, records=LoginRecords(
        pair=register_failure(records.pair, policy.pair, now),
        account=register_failure(records.account, policy.account, now),
        client=register_client_failure(records.client, policy.client, account, now),
    ))


def login_succeeded(records: LoginRecords, account: str) -> LoginRecords:
    """After a good password: this client's record on this account is forgiven, the failure
    counted in advance is taken back from the account, and the account leaves the client's
    spraying count. Locks already set stay (a success proves nothing about other clients)."""
    return LoginRecords(
        pair=register_success(records.pair),
        account=records.account.model_copy(
            update={"failures": max(0, records.account.failures - 1)}),
        client=records.client.model_copy(
            update={"accounts": tuple(a for a in records.client.accounts if a != account)}),
    )


# --- naming the records: a keyed hash, never the id or the address in clear -----------------------

def client_bucket(address: str) -> str:
    """The unit a client is throttled as: an IPv4 address, an IPv6 /64 (one subscriber's
    allocation: a client rotating through its own /64 stays one client), or the text as given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class ThrottleKeys(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: str  # the account record's key, also what a client's spraying count holds
    pair: str
    client: str

    def all(self) -> list[str]:
        return [self.account, self.pair, self.client]


class ThrottleKeyring:
    """HMAC-SHA256 under the hub's own secret: stable across hub processes sharing ``keys_dir``,
    not reversible by someone reading the graph (a password typed into the id field, an address).
    The secret is handed in: the hub keeps its file (hub/auth/throttle.py)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ConfigurationError("clé de limitation des connexions trop courte (32 octets requis)")
        self._secret = secret

    def _mac(self, kind: str, *parts: str) -> str:
        msg = "\x1f".join((kind, *parts)).encode("utf-8")
        return f"{kind}:{hmac.new(self._secret, msg, hashlib.sha256).hexdigest()}"

    def account(self, user_id: str) -> str:
        return self._mac("account", user_id)

    def keys(self, user_id: str, client_address: str) -> ThrottleKeys:
        bucket = client_bucket(client_address)
        return ThrottleKeys(account=self.account(user_id), pair=self._mac("pair", user_id, bucket),
                            client=self._mac("client", bucket))
