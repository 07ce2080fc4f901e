"""A connector's durable state: one SQLite file per connector in ``state_dir`` (created 0600).

Tables: ``cursor`` (where the source was read up to), ``outbox`` (validated leads waiting for the
hub's acknowledgement), ``quarantine`` (records that could not become leads, with the reason) and
``runs`` (run records, and whether the hub got them).

The outbox and the cursor move in the same transaction (``commit_batch``), in WAL mode with
``synchronous=FULL``: after a crash at any point, every record before the cursor is in the outbox
or was acknowledged, and every record after it will be collected again.

The quarantine keeps the source record as received (it may hold raw identities): it never leaves
the connector host, and the file is readable by its owner only.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.contract.errors import ConfigurationError, Conflict

if TYPE_CHECKING:
    from hub.contract.lead import Lead

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id   TEXT NOT NULL,
    source_ref  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    lead_json   TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    UNIQUE (source_ref, version)
);
CREATE TABLE IF NOT EXISTS quarantine (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id      TEXT NOT NULL,
    stage          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    details_json   TEXT NOT NULL DEFAULT '[]',
    payload_json   TEXT,
    quarantined_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_source ON quarantine (source_id);
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT,
    payload_json TEXT NOT NULL,
    posted       INTEGER NOT NULL DEFAULT 0
);
"""


class RunInProgress(Conflict):
    """Another run of the same connector holds its state lock."""

    code = "run_in_progress"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_private_file(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` readable by its owner only (0600), or tighten an existing one."""
    p = Path(path)
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return p


def ensure_private_dir(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True, mode=0o700)
    return p


@dataclass
class OutboxItem:
    id: int
    source_id: str
    source_ref: str
    version: int
    lead: dict[str, Any]
    attempts: int = 0

    @classmethod
    def of(cls, source_id: str, lead: Lead) -> OutboxItem:
        return cls(0, source_id, lead.source_ref, lead.version, lead.model_dump(mode="json"))


@dataclass
class QuarantineEntry:
    source_id: str
    stage: str  # map | sanitize | pseudonymize | validate | hub
    reason: str
    details: list[dict[str, Any]] = field(default_factory=list)
    payload: dict[str, Any] | None = None
    id: int | None = None
    quarantined_at: str | None = None


class StateStore:
    """The SQLite state of one connector. One instance per thread."""

    def __init__(self, state_dir: str | os.PathLike[str], connector: str) -> None:
        if not connector or "/" in connector or connector.startswith("."):
            raise ConfigurationError(f"nom de connecteur invalide pour un fichier d'état : « {connector} »")
        self.dir = ensure_private_dir(state_dir)
        self.connector = connector
        self.path = self.dir / f"{connector}.sqlite3"
        self.lock_path = self.dir / f"{connector}.lock"
        create_private_file(self.path)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.executescript(_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),))
        self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('connector', ?)", (connector,))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Exclusive, non-blocking: one run of a connector at a time on this state."""
        create_private_file(self.lock_path)
        fd = os.open(self.lock_path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunInProgress(
                    f"un passage du connecteur « {self.connector} » est déjà en cours "
                    f"(verrou {self.lock_path})"
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            os.close(fd)  # releases the lock

    # --- cursor ---------------------------------------------------------------------------------

    def get_cursor(self) -> str | None:
        row = self.db.execute("SELECT value FROM cursor WHERE id = 1").fetchone()
        return row["value"] if row else None

    def _set_cursor(self, value: str | None) -> None:
        self.db.execute(
            "INSERT INTO cursor(id, value, updated_at) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (value, _now()),
        )

    def reset_cursor(self, value: str | None = None) -> None:
        with self.transaction():
            self._set_cursor(value)

    # --- the batch commit -------------------------------------------------------------------------

    def commit_batch(self, leads: list[OutboxItem], quarantined: list[QuarantineEntry], *,
                     cursor: str) -> None:
        """Outbox items, quarantine entries and the new cursor: all or nothing."""
        now = _now()
        with self.transaction() as db:
            for item in leads:
                db.execute(
                    "INSERT INTO outbox(source_id, source_ref, version, lead_json, enqueued_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(source_ref, version) DO UPDATE SET "
                    "source_id = excluded.source_id, lead_json = excluded.lead_json",
                    (item.source_id, item.source_ref, item.version,
                     json.dumps(item.lead, ensure_ascii=False, sort_keys=True), now),
                )
            for q in quarantined:
                self._insert_quarantine(q, now)
            self._set_cursor(cursor)

    # --- outbox ------------------------------------------------------------------------------------

    def outbox_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def outbox_peek(self, limit: int) -> list[OutboxItem]:
        rows = self.db.execute(
            "SELECT id, source_id, source_ref, version, lead_json, attempts FROM outbox "
            "ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [OutboxItem(r["id"], r["source_id"], r["source_ref"], r["version"],
                           json.loads(r["lead_json"]), r["attempts"]) for r in rows]

    def outbox_note_failure(self, ids: list[int], error: str) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                           [(error[:1000], i) for i in ids])

    def outbox_ack(self, acked_ids: list[int],
                   rejected: list[tuple[OutboxItem, QuarantineEntry]]) -> None:
        """Remove what the hub acknowledged; its rejections go to quarantine (one transaction)."""
        now = _now()
        with self.transaction() as db:
            db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in acked_ids])
            for item, q in rejected:
                self._insert_quarantine(q, now)
                db.execute("DELETE FROM outbox WHERE id = ?", (item.id,))

    # --- quarantine --------------------------------------------------------------------------------

    def _insert_quarantine(self, q: QuarantineEntry, now: str) -> None:
        self.db.execute(
            "INSERT INTO quarantine(source_id, stage, reason, details_json, payload_json, quarantined_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (q.source_id, q.stage, q.reason[:4000],
             json.dumps(q.details, ensure_ascii=False, default=str),
             None if q.payload is None else json.dumps(q.payload, ensure_ascii=False, default=str),
             now),
        )

    def quarantine_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM quarantine").fetchone()[0])

    def quarantine_list(self, limit: int = 100) -> list[QuarantineEntry]:
        rows = self.db.execute(
            "SELECT * FROM quarantine ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [QuarantineEntry(
            source_id=r["source_id"], stage=r["stage"], reason=r["reason"],
            details=json.loads(r["details_json"]),
            payload=None if r["payload_json"] is None else json.loads(r["payload_json"]),
            id=r["id"], quarantined_at=r["quarantined_at"],
        ) for r in rows]

    # --- run records -------------------------------------------------------------------------------

    def start_run(self, run_id: str, payload: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO runs(run_id, started_at, status, payload_json) VALUES (?, ?, ?, ?)",
                       (run_id, payload["started_at"], "running", json.dumps(payload)))

    def close_interrupted_runs(self) -> int:
        """Runs still « running » while we hold the run lock died with their process (SIGKILL,
        power loss): record them as failed so they are reported too."""
        rows = self.db.execute("SELECT run_id, payload_json FROM runs WHERE status = 'running'").fetchall()
        now = _now()
        with self.transaction() as db:
            for r in rows:
                payload = json.loads(r["payload_json"]) | {
                    "finished_at": now, "status": "failed", "fault": "ours",
                    "last_error": "passage interrompu (arrêt brutal du processus) ; la file d'envoi "
                                  "et le curseur sont intacts, le passage suivant a repris",
                }
                db.execute("UPDATE runs SET finished_at = ?, status = 'failed', payload_json = ? "
                           "WHERE run_id = ?", (now, json.dumps(payload), r["run_id"]))
        return len(rows)

    def finish_run(self, run_id: str, payload: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ?, status = ?, payload_json = ? WHERE run_id = ?",
                       (payload["finished_at"], payload["status"], json.dumps(payload), run_id))

    def unposted_runs(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT run_id, payload_json FROM runs WHERE posted = 0 AND finished_at IS NOT NULL "
            "ORDER BY started_at"
        ).fetchall()
        return [(r["run_id"], json.loads(r["payload_json"])) for r in rows]

    def mark_run_posted(self, run_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET posted = 1 WHERE run_id = ?", (run_id,))

    def last_run(self) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT payload_json, status FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        payload = json.loads(row["payload_json"])
        if row["status"] == "running":
            payload["status"] = "running"  # running now, or interrupted (crash) before it finished
        return payload

    def last_finished_run(self) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT payload_json FROM runs WHERE finished_at IS NOT NULL "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        return None if row is None else json.loads(row["payload_json"])
