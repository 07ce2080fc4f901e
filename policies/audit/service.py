"""The audit trail's single writer: ``AuditTrail`` appends entries durably, chains them by hash,
signs checkpoints, recovers from a crash on open; ``query`` reads entries back newest first.

Storage (in ``settings.audit_dir``; formats in models.py):

* ``audit.jsonl`` — one ``AuditEntry`` per line, canonical JSON. Append-only: opened with
  O_APPEND, never rewritten; the only truncation ever made is of a torn last line on open (below).
* ``checkpoints.jsonl`` — one signed ``Checkpoint`` per line, every ``checkpoint_every`` entries,
  on demand (``checkpoint()``), at open when entries are unsealed, and at ``close()``.
* ``audit.lock`` — held with ``fcntl.flock(LOCK_EX)`` for as long as a trail is open.

Durability: ``append``/``append_many`` return only after ``write`` + ``os.fsync`` of the entries
file (and an fsync of the directory when a file is created), so an acknowledged entry survives a
process crash or a power cut. A caller must log *before* acting (before it returns data to the
consulting user): what is acknowledged was logged, what was not must not have happened.

Crash recovery: a crash mid-write can leave a partial last line (no final newline). Its append
never returned, so it was never acknowledged: ``open`` truncates it, then records that recovery
as an audit entry of its own (action ``log_recovery``, with the size and SHA-256 of what was cut).

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

Query scans the file backwards and stops when the page is full, so recent pages are cheap; a
filter that matches little reads the whole file (about 70 000 lines/s on the development machine:
10⁶ lines ≈ 15 s). Fine for one CROSS's consultation volume; an index (SQLite beside the log,
rebuilt from it, never trusted over it) is future work.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import ValidationError

from hub.contract.errors import AuditUnavailable, ConfigurationError, CrossHubError
from hub.settings import Settings
from policies.audit.keys import (
    ensure_private_dir,
    fsync_dir,
    key_id,
    load_or_create_signing_key,
)
from policies.audit.models import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    FORMAT_VERSION,
    GENESIS_HASH,
    LOCK_FILE,
    SYSTEM_ACTOR,
    AuditAction,
    AuditEntry,
    AuditEvent,
    AuditFilters,
    Checkpoint,
    Decision,
    DecisionOutcome,
    b64,
    canonical_json,
    checkpoint_digest,
    checkpoint_signing_payload,
    entry_hash,
    sha256_hex,
    unb64,
    utc_now,
)

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = 1000
_EVENT_FIELDS = frozenset(AuditEvent.model_fields)
_BLOCK = 1 << 16




# --- reading files by line, from the end ---------------------------------------------------------


def complete_size(fd: int, size: int) -> int:
    """Offset just after the last newline: the file minus a torn last line."""
    pos = size
    while pos > 0:
        start = max(0, pos - _BLOCK)
        chunk = os.pread(fd, pos - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def iter_lines_reverse(fd: int, end: int) -> Iterator[bytes]:
    """Complete lines (without newline) of ``[0, end)`` from the last to the first; ``end`` must be
    a line boundary (0 or just after a newline)."""
    pos = end - 1 if end > 0 else 0  # drop the final newline
    rest = b""
    while pos > 0:
        start = max(0, pos - _BLOCK)
        parts = (os.pread(fd, pos - start, start) + rest).split(b"\n")
        rest = parts[0]
        yield from reversed(parts[1:])
        pos = start
    if end > 0:
        yield rest


def _last_line(fd: int, end: int) -> bytes | None:
    return next(iter_lines_reverse(fd, end), None)


def _iso(dt: datetime) -> str:
    # Same text as pydantic's JSON mode for an aware UTC datetime.
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the writer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Head:
    """A position in the entries file: its size, and the last entry's seq and hash there."""

    size: int = 0
    seq: int = 0
    hash: str = GENESIS_HASH


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
        self._written = _Head()
        self._synced = _Head()
        self._syncing = False  # a leader is in fsync, with the lock released
        self._cp_size = 0
        self._cp: Checkpoint | None = None
        self._cp_digest = GENESIS_HASH

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
        lock_fd = _acquire_lock(audit_dir / LOCK_FILE, lock_timeout_s)
        fds: list[int] = []
        try:
            key = load_or_create_signing_key(keys_dir)
            efd, e_created = _open_append(audit_dir / ENTRIES_FILE)
            fds.append(efd)
            cfd, c_created = _open_append(audit_dir / CHECKPOINTS_FILE)
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
            _release_lock(lock_fd)
            raise
        return trail

    def _recover_and_load(self) -> None:
        torn: list[tuple[str, bytes]] = []
        sizes: dict[int, int] = {}
        for name, fd in ((ENTRIES_FILE, self._efd), (CHECKPOINTS_FILE, self._cfd)):
            size = os.fstat(fd).st_size
            good = complete_size(fd, size)
            if good < size:
                # Unacknowledged by construction (append returns after the newline is fsynced).
                torn.append((name, os.pread(fd, size - good, good)))
                os.ftruncate(fd, good)
                os.fsync(fd)
                log.warning("journal d'audit : ligne finale incomplète de %s (%d octets) tronquée",
                            name, size - good)
            sizes[fd] = good

        head = _Head(size=sizes[self._efd])
        last = _last_line(self._efd, head.size)
        if last is not None:
            body = _parse(last, "dernière entrée du journal d'audit")
            if not isinstance(body.get("seq"), int) or entry_hash(body) != body.get("entry_hash"):
                raise ConfigurationError(
                    f"dernière entrée du journal d'audit altérée ({self._dir / ENTRIES_FILE}) : "
                    "lancer « crosshub audit verify »"
                )
            head = _Head(size=head.size, seq=body["seq"], hash=body["entry_hash"])
        self._written = self._synced = head

        self._cp_size = sizes[self._cfd]
        last_cp = _last_line(self._cfd, self._cp_size)
        if last_cp is not None:
            record = _parse(last_cp, "dernier point de contrôle du journal d'audit")
            try:
                cp = Checkpoint.model_validate(record)
                self._key.public_key().verify(unb64(cp.sig), checkpoint_signing_payload(record))
            except Exception as exc:  # ValidationError, InvalidSignature, binascii.Error
                raise ConfigurationError(
                    "dernier point de contrôle du journal d'audit invalide (signature ou format) : "
                    "lancer « crosshub audit verify »"
                ) from exc
            if cp.seq > head.seq or (cp.seq == head.seq and cp.entry_hash != head.hash):
                # Entries the key signed for are gone or changed: never write after that silently.
                raise ConfigurationError(
                    f"journal d'audit tronqué ou réécrit : le point de contrôle signé n° {cp.n} "
                    f"couvre l'entrée n° {cp.seq}, le journal s'arrête à l'entrée n° {head.seq} "
                    "— lancer « crosshub audit verify »"
                )
            self._cp, self._cp_digest = cp, checkpoint_digest(record)

        if torn:
            self.append_many([_recovery_event(name, data) for name, data in torn])
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
                _write_all(self._efd, data)  # O_APPEND: lands at the end, after any other batch
            except OSError as exc:
                self._fail(exc)
                raise self._unavailable(exc) from exc
            self._written = _Head(self._written.size + len(data), seq, prev)
            self._wait_synced(self._written.size)
            if self._synced.seq - self.sealed_seq >= self._every:
                try:
                    self._checkpoint_locked()
                except AuditUnavailable:
                    # These entries are durable and acknowledged; the trail is now poisoned, so
                    # the next append fails loudly instead of this one lying about its entries.
                    log.exception("journal d'audit : échec du point de contrôle périodique")
        return [AuditEntry.model_validate(b) for b in bodies]

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
            _write_all(self._cfd, data)
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
            finally:
                self._closed = True
                self._synced_cond.notify_all()
                os.close(self._efd)
                os.close(self._cfd)
                _release_lock(self._lock_fd)

    # -- reading ----------------------------------------------------------------------------------

    def query(self, filters: AuditFilters | None = None) -> list[AuditEntry]:
        """Acknowledged entries matching ``filters``, newest first (see module ``query``)."""
        with self._lock:
            end = self._synced.size if not self._closed else None
        return _query(self._dir, filters or AuditFilters(), end)


# --- reading -------------------------------------------------------------------------------------


def query(audit_dir: Path, filters: AuditFilters | None = None) -> list[AuditEntry]:
    """Entries of the log in ``audit_dir`` matching ``filters``, newest (highest seq) first,
    ``filters.offset`` matches skipped, at most ``filters.limit`` returned.

    A linear scan from the end of the file (see the module docstring for its cost). Does not
    verify the chain (``verify`` does): an unreadable line is skipped with a warning. Takes no
    lock: a line being appended is not read until complete.
    """
    return _query(Path(audit_dir), filters or AuditFilters(), None)


def _query(audit_dir: Path, f: AuditFilters, end: int | None) -> list[AuditEntry]:
    """``end``: read only up to this offset (the writer's acknowledged size) when given."""
    try:
        fd = os.open(audit_dir / ENTRIES_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return []
    out: list[AuditEntry] = []
    try:
        if end is None:
            end = complete_size(fd, os.fstat(fd).st_size)
        skipped = 0
        for line in iter_lines_reverse(fd, end):
            try:
                body = json.loads(line)
                if not _matches(body, f):
                    continue
                entry = AuditEntry.model_validate(body)
            except (ValueError, KeyError, TypeError, AttributeError, ValidationError, CrossHubError):
                log.warning("journal d'audit : ligne illisible ignorée par la recherche")
                continue
            if skipped < f.offset:
                skipped += 1
                continue
            out.append(entry)
            if len(out) >= f.limit:
                break
    finally:
        os.close(fd)
    return out


def _matches(body: dict[str, Any], f: AuditFilters) -> bool:
    # Cheap tests on the raw dict first: only matches pay for pydantic validation.
    if f.action is not None and body["action"] != f.action.value:
        return False
    if f.outcome is not None and body["decision"]["outcome"] != f.outcome.value:
        return False
    if f.user_id is not None and body["actor"]["user_id"] != f.user_id:
        return False
    if f.agency is not None and body["actor"]["agency"] != f.agency.value:
        return False
    if f.lead_id is not None and f.lead_id not in body["lead_ids"]:
        return False
    if f.entity_key is not None and f.entity_key not in body["entity_keys"]:
        return False
    if f.since is not None or f.until is not None:
        at = datetime.fromisoformat(body["at"])
        if f.since is not None and at < f.since:
            return False
        if f.until is not None and at >= f.until:
            return False
    return True


# --- helpers -------------------------------------------------------------------------------------


def _parse(line: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(line)
    except ValueError as exc:
        raise ConfigurationError(f"{what} illisible : lancer « crosshub audit verify »") from exc
    if not isinstance(body, dict):
        raise ConfigurationError(f"{what} illisible : lancer « crosshub audit verify »")
    return body


def _recovery_event(file_name: str, torn: bytes) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.LOG_RECOVERY,
        actor=SYSTEM_ACTOR,
        decision=Decision(outcome=DecisionOutcome.NOT_APPLICABLE, rule_id="audit.recovery"),
        personal_data=False,
        details={
            "file": file_name,
            "reason": "ligne finale incomplète (écriture interrompue, jamais acquittée) tronquée",
            "truncated_bytes": len(torn),
            "truncated_sha256": sha256_hex(torn),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        },
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _open_append(path: Path) -> tuple[int, bool]:
    """(fd, created). O_RDWR for pread/ftruncate; O_APPEND so every write goes to the end."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600), True
    except FileExistsError:
        return os.open(path, flags), False


def _acquire_lock(path: Path, timeout_s: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise AuditUnavailable(
                    f"journal d'audit déjà ouvert en écriture par un autre processus (pid {holder}) : "
                    "un seul processus du hub écrit le journal"
                ) from None
            time.sleep(0.05)
        except BaseException:
            os.close(fd)
            raise
    # The holder's pid, for the message above only; the flock is what excludes.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
