"""The audit trail's single writer: ``AuditTrail`` appends entries durably, chains them by hash,
signs checkpoints, recovers from a crash on open. It owns the files in ``settings.audit_dir``
(their layout and format: records.py); the only truncation ever made is of a torn last line on
open (below).

Durability: ``append``/``append_many`` return only after ``write`` + ``os.fsync`` of the entries
file (and an fsync of the directory when a file is created), so an acknowledged entry survives a
process crash or a power cut. A caller must log *before* acting (before it returns data to the
consulting user): what is acknowledged was logged, what was not must not have happened.

Crash recovery: a crash mid-write can leave a partial last line (no final newline). Its append
never returned, so it was never acknowledged: ``open`` truncates it, then records that recovery
as an audit entry of its own (action ``log_recovery``, with the size and SHA-256 of what was cut).
How the tails are read and checked on open is recovery.py.

Concurrency: a ``threading.Lock`` serializes appends inside the process; the flock makes the
trail single-writer across processes — a second hub process (or a second ``AuditTrail`` on the
same directory in the same process) fails to open instead of interleaving lines and forking the
chain. The flock dies with its process (even on SIGKILL), so no stale lock survives a crash.
It requires a local filesystem (flock over NFS is not reliable). Readers (``query``, ``verify``,
the CLI) take no lock: they read complete lines only.

An I/O error on write or fsync poisons the trail: on Linux a failed fsync may have dropped the
dirty pages and cleared the error, so a retry could "succeed" without the data. The trail cuts
off what it may have written, then refuses every further append (``AuditUnavailable``) until it
is reopened, which re-derives its state from the disk.

Throughput — group commit: an appender writes its batch under the lock, then waits until the file
is fsynced past it. The first waiter becomes the leader and fsyncs with the lock released, for
every batch written so far by any thread; batches written meanwhile go in the next fsync. A
single thread pays one fsync per ``append`` (a few ms); concurrent appenders share fsyncs, and
``append_many`` puts a whole batch under one.

Reading back is query.py (``AuditTrail.query`` reads only what is acknowledged); checking is
verify.py; the byte-level file handling they share is files.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.audit.files import acquire_lock, open_append, release_lock
from hub.audit.keys import key_id, load_or_create_signing_key
from hub.audit.layout import CLOSED_MARKER
from hub.audit.query import read_entries
from hub.audit.records import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    FORMAT_VERSION,
    GENESIS_HASH,
    LOCK_FILE,
    AuditEntry,
    AuditFilters,
    Checkpoint,
    b64,
    canonical_json,
    checkpoint_digest,
    checkpoint_signing_payload,
    entry_hash,
)
from hub.audit.recovery import Head, recover, recovery_event
from hub.contract.errors import AuditUnavailable
from hub.keyfiles import ensure_private_dir, fsync_dir, write_all
from hub.settings import Settings
from policies.audit import AuditEvent, utc_now

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = 1000
_EVENT_FIELDS = frozenset(AuditEvent.model_fields)


def _iso(dt: datetime) -> str:
    # Same text as pydantic's JSON mode for an aware UTC datetime.
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the writer ----------------------------------------------------------------------------------


class AuditTrail:
    """The append-only, hash-chained, checkpoint-signed audit log. Build with ``AuditTrail.open``;
    use as a context manager or call ``close()`` (which seals the tail with a checkpoint)."""

    def __init__(
        self,
        *,
        audit_dir: Path,
        signing_key: Ed25519PrivateKey,
        lock_fd: int,
        entries_fd: int,
        checkpoints_fd: int,
        checkpoint_every: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._dir = audit_dir
        self._key = signing_key
        self._key_id = key_id(signing_key.public_key())
        self._lock_fd = lock_fd
        self._efd = entries_fd
        self._cfd = checkpoints_fd
        self._every = checkpoint_every
        self._clock = clock
        # One lock guards all state; the condition lets appenders wait for the group fsync.
        self._lock = threading.Lock()
        self._synced_cond = threading.Condition(self._lock)
        self._closed = False
        self._broken: BaseException | None = None
        # Entries are written (page cache) then synced (disk); only synced ones are acknowledged.
        self._written = Head()
        self._synced = Head()
        self._syncing = False  # a leader is in fsync, with the lock released
        self._cp_size = 0
        self._cp: Checkpoint | None = None
        self._cp_digest = GENESIS_HASH
        # The writer id when this trail is one writer's segment (writer.py, ADR 0012): closing it
        # cleanly then marks the segment closed, so no later writer needs to adopt it.
        self.segment: str | None = None

    # -- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        audit_dir: Path | None = None,
        keys_dir: Path | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        lock_timeout_s: float = 0.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> AuditTrail:
        """Open (creating if needed) the trail in ``audit_dir`` (default ``settings.audit_dir``),
        signing with the key in ``keys_dir`` (default ``settings.keys_dir``).

        Raises ``AuditUnavailable`` if another process holds the trail (after waiting up to
        ``lock_timeout_s``), ``ConfigurationError`` if the log's tail is inconsistent with its
        last signed checkpoint or its last entry is corrupt (run ``crosshub audit verify``).
        """
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1")
        if audit_dir is None or keys_dir is None:
            settings = settings or Settings()
            audit_dir = audit_dir or settings.audit_dir
            keys_dir = keys_dir or settings.keys_dir
        audit_dir, keys_dir = Path(audit_dir), Path(keys_dir)
        ensure_private_dir(audit_dir)
        lock_fd = acquire_lock(audit_dir / LOCK_FILE, lock_timeout_s)
        fds: list[int] = []
        try:
            key = load_or_create_signing_key(keys_dir)
            efd, e_created = open_append(audit_dir / ENTRIES_FILE)
            fds.append(efd)
            cfd, c_created = open_append(audit_dir / CHECKPOINTS_FILE)
            fds.append(cfd)
            if e_created or c_created:
                fsync_dir(audit_dir)  # the new file's directory entry must survive a power cut
            trail = cls(
                audit_dir=audit_dir, signing_key=key, lock_fd=lock_fd, entries_fd=efd,
                checkpoints_fd=cfd, checkpoint_every=checkpoint_every, clock=clock,
            )
            trail._recover_and_load()
        except BaseException:
            for fd in fds:
                os.close(fd)
            release_lock(lock_fd)
            raise
        return trail

    def _recover_and_load(self) -> None:
        resume = recover(self._efd, self._cfd, self._key.public_key(), self._dir)
        self._written = self._synced = resume.head
        self._cp_size, self._cp, self._cp_digest = resume.cp_size, resume.cp, resume.cp_digest
        if resume.torn:
            self.append_many([recovery_event(name, data) for name, data in resume.torn])
        if self._synced.seq > self.sealed_seq:
            # Seal what survived (a crash, or a run that never reached close()).
            self.checkpoint()

    # -- state ------------------------------------------------------------------------------------

    @property
    def audit_dir(self) -> Path:
        return self._dir

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    @property
    def head_seq(self) -> int:
        """Seq of the last acknowledged entry (0 when empty)."""
        return self._synced.seq

    @property
    def head_hash(self) -> str:
        return self._synced.hash

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        return self._cp

    @property
    def sealed_seq(self) -> int:
        """Entries up to this seq are covered by a signed checkpoint."""
        return self._cp.seq if self._cp else 0

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AuditTrail({str(self._dir)!r}, head={self.head_seq}, sealed={self.sealed_seq})"

    # -- writing ----------------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> AuditEntry:
        """Record one event; returns once it is on disk (written and fsynced)."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        """Record several events with a single write: all are acknowledged together when this
        returns, or none is (an exception)."""
        if not events:
            return []
        for event in events:
            if not isinstance(event, AuditEvent):
                raise TypeError(f"AuditEvent expected, got {type(event).__name__}")
        with self._lock:
            self._check_usable()
            recorded_at = _iso(self._clock())
            seq, prev = self._written.seq, self._written.hash
            bodies: list[dict[str, Any]] = []
            for event in events:
                seq += 1
                body = event.model_dump(mode="json", include=_EVENT_FIELDS)
                body.update(v=FORMAT_VERSION, seq=seq, prev_hash=prev, recorded_at=recorded_at)
                body["entry_hash"] = prev = entry_hash(body)
                bodies.append(body)
            data = b"".join(canonical_json(b) + b"\n" for b in bodies)
            try:
                write_all(self._efd, data)  # O_APPEND: lands at the end, after any other batch
            except OSError as exc:
                self._fail(exc)
                raise self._unavailable(exc) from exc
            self._written = Head(self._written.size + len(data), seq, prev)
            self._wait_synced(self._written.size)
            if self._synced.seq - self.sealed_seq >= self._every:
                try:
                    self._checkpoint_locked()
                except AuditUnavailable:
                    # These entries are durable and acknowledged; the trail is now poisoned, so
                    # the next append fails loudly instead of this one lying about its entries.
                    log.exception("journal d'audit : échec du point de contrôle périodique")
        # The events were validated when built and the added fields are ours: constructing the
        # entries without re-validating them halves the cost of an append.
        recorded = datetime.fromisoformat(recorded_at)
        return [AuditEntry.model_construct(
                    **{name: getattr(event, name) for name in _EVENT_FIELDS}, v=FORMAT_VERSION,
                    seq=b["seq"], prev_hash=b["prev_hash"], recorded_at=recorded, entry_hash=b["entry_hash"])
                for event, b in zip(events, bodies, strict=True)]

    def _wait_synced(self, end: int) -> None:
        """Group commit: return once the file is fsynced up to ``end``. The first waiter becomes
        the leader and fsyncs, lock released, for every batch written so far by any thread;
        those who wrote meanwhile wait for the next round. One thread alone: one fsync, as
        before."""
        while self._synced.size < end:
            if self._broken is not None:
                raise self._unavailable(self._broken)
            if self._closed:
                raise AuditUnavailable("journal d'audit fermé")
            if self._syncing:
                self._synced_cond.wait()
                continue
            self._syncing = True
            target = self._written
            self._lock.release()
            error: OSError | None = None
            try:
                os.fsync(self._efd)
            except OSError as exc:
                error = exc
            finally:
                self._lock.acquire()
                self._syncing = False
                self._synced_cond.notify_all()
            if error is not None:
                self._fail(error)
                raise self._unavailable(error) from error
            if self._broken is None:  # another thread may have failed, and cut, meanwhile
                self._synced = target

    def _fail(self, exc: BaseException) -> None:
        """Poison the trail (lock held). State on disk is unknown after a failed write or fsync,
        and a retried fsync may lie (see module docstring): cut everything not acknowledged and
        refuse to acknowledge anything until reopened."""
        if self._broken is None:
            self._broken = exc
            with contextlib.suppress(OSError):
                os.ftruncate(self._efd, self._synced.size)
                os.fsync(self._efd)
        self._synced_cond.notify_all()

    @staticmethod
    def _unavailable(exc: BaseException) -> AuditUnavailable:
        detail = getattr(exc, "strerror", None) or str(exc)
        return AuditUnavailable(
            f"journal d'audit indisponible : échec d'écriture ({detail}) — le rouvrir"
        )

    def checkpoint(self) -> Checkpoint | None:
        """Sign the acknowledged head now (if not already signed); returns the latest checkpoint,
        or None while the log is empty. Export it to the auditors to pin the log's state."""
        with self._lock:
            self._check_usable()
            return self._checkpoint_locked()

    def _checkpoint_locked(self) -> Checkpoint | None:
        head = self._synced  # never sign what is not yet durable
        if head.seq == 0:
            return None
        if self._cp is not None and self._cp.seq == head.seq:
            return self._cp
        body: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "n": (self._cp.n if self._cp else 0) + 1,
            "seq": head.seq,
            "entry_hash": head.hash,
            "at": _iso(self._clock()),
            "key_id": self._key_id,
            "prev": self._cp_digest,
        }
        body["sig"] = b64(self._key.sign(checkpoint_signing_payload(body)))
        data = canonical_json(body) + b"\n"
        try:
            write_all(self._cfd, data)
            os.fsync(self._cfd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._cfd, self._cp_size)
                os.fsync(self._cfd)
            self._fail(exc)
            raise self._unavailable(exc) from exc
        self._cp_size += len(data)
        self._cp, self._cp_digest = Checkpoint.model_validate(body), checkpoint_digest(body)
        return self._cp

    def _check_usable(self) -> None:
        if self._closed:
            raise AuditUnavailable("journal d'audit fermé")
        if self._broken is not None:
            raise self._unavailable(self._broken)

    def close(self) -> None:
        """Make every written entry durable, seal the tail with a checkpoint, then release the
        files and the lock. Idempotent."""
        with self._lock:
            if self._closed:
                return
            while self._syncing:  # never close the fd under a leader's fsync
                self._synced_cond.wait()
            try:
                if self._broken is None and self._written.size > self._synced.size:
                    try:
                        os.fsync(self._efd)  # for appenders still waiting: they are acknowledged
                        self._synced = self._written
                    except OSError as exc:
                        self._fail(exc)
                if self._broken is None and self._synced.seq > self.sealed_seq:
                    self._checkpoint_locked()
                if self._broken is None and self.segment is not None:
                    marker = os.open(self._dir / CLOSED_MARKER,
                                     os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
                    os.close(marker)
                    fsync_dir(self._dir)
            finally:
                self._closed = True
                self._synced_cond.notify_all()
                os.close(self._efd)
                os.close(self._cfd)
                release_lock(self._lock_fd)

    # -- reading ----------------------------------------------------------------------------------

    def query(self, filters: AuditFilters | None = None) -> list[AuditEntry]:
        """Acknowledged entries matching ``filters``, newest first (see module ``query``)."""
        with self._lock:
            end = self._synced.size if not self._closed else None
        return read_entries(self._dir, filters or AuditFilters(), end)
