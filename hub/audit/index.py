"""The auditors' index of the trail: SQLite, rebuilt from the segments, never trusted over them.

Owns ``AuditIndex``: one row per entry of every segment (who, when, what, the decision, where the
line sits in its file, its hash), with the lead ids and entity keys it names, so a filtered query
over 10⁶ entries answers from B-tree indexes instead of scanning every file (query.py).

- **Fed from the chains.** ``refresh`` reads each segment from where it last stopped to its last
  complete line and indexes what was added; a writer on another host becomes visible as soon as
  its lines reach the shared directory. A segment already closed and fully indexed costs nothing.
- **Never trusted over them.** Every entry a query returns is read back from its segment at the
  indexed offset, re-hashed and re-matched against the filters; a segment whose file no longer
  ends where the index says (rewritten, restored) is dropped from the index and read again. The
  index holds no state of its own: deleting the file only costs the time to rebuild it.
- **Local, private, shared by the processes of one host.** The file lives outside the audit
  directory (default ``<audit_dir>-index.sqlite``, i.e. beside it in the data dir): SQLite must not
  live on a network filesystem, and shipping the audit directory to the auditors must not ship a
  second copy of it. Mode 0600. Workers of one host share it: WAL mode, each segment's update is
  one ``BEGIN IMMEDIATE`` transaction that re-reads where the segment stood (idempotent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from hub.audit.files import complete_size, last_line
from hub.audit.layout import Segment, list_segments
from hub.audit.records import AuditFilters, entry_hash

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    name TEXT PRIMARY KEY, indexed_size INTEGER NOT NULL, last_hash TEXT, closed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, segment TEXT NOT NULL, seq INTEGER NOT NULL, at_us INTEGER NOT NULL,
    recorded_us INTEGER NOT NULL, action TEXT, outcome TEXT, user_id TEXT, agency TEXT,
    offset INTEGER NOT NULL, length INTEGER NOT NULL, entry_hash TEXT NOT NULL,
    UNIQUE (segment, seq));
CREATE INDEX IF NOT EXISTS entries_recent ON entries (recorded_us DESC, segment DESC, seq DESC);
CREATE INDEX IF NOT EXISTS entries_user ON entries (user_id, recorded_us DESC);
CREATE INDEX IF NOT EXISTS entries_action ON entries (action, recorded_us DESC);
CREATE INDEX IF NOT EXISTS entries_agency ON entries (agency, recorded_us DESC);
CREATE INDEX IF NOT EXISTS entries_at ON entries (at_us);
CREATE TABLE IF NOT EXISTS entry_leads (entry INTEGER NOT NULL, lead_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entry_leads_lead ON entry_leads (lead_id, entry);
CREATE INDEX IF NOT EXISTS entry_leads_entry ON entry_leads (entry);
CREATE TABLE IF NOT EXISTS entry_entities (entry INTEGER NOT NULL, entity_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entry_entities_key ON entry_entities (entity_key, entry);
CREATE INDEX IF NOT EXISTS entry_entities_entry ON entry_entities (entry);
"""
_READ_CHUNK = 8 << 20
_VERSION = 1


def default_index_path(audit_dir: Path) -> Path:
    audit_dir = Path(audit_dir)
    return audit_dir.parent / f"{audit_dir.name}-index.sqlite"


def _micros(text: str) -> int:
    dt = datetime.fromisoformat(text)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


class AuditIndex:
    """The index of the trail in ``audit_dir``, kept in ``path``."""

    def __init__(self, audit_dir: Path, path: Path | None = None) -> None:
        self.audit_dir = Path(audit_dir)
        self.path = Path(path) if path else default_index_path(self.audit_dir)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # a lost index tail is re-read from the chain
            if db.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {_VERSION}")
            yield db
        finally:
            db.close()

    # -- feeding ----------------------------------------------------------------------------------

    def refresh(self) -> int:
        """Index what the segments gained since the last refresh; how many entries were added."""
        added = 0
        with self._connect() as db:
            known = {row[0]: (row[1], row[2], bool(row[3]))
                     for row in db.execute("SELECT name, indexed_size, last_hash, closed FROM segments")}
            for seg in list_segments(self.audit_dir):
                state = known.get(seg.name)
                if state is not None and state[2]:
                    continue  # closed, and indexed to its end when it was marked so
                added += self._refresh_segment(db, seg)
        return added

    def _refresh_segment(self, db: sqlite3.Connection, seg: Segment) -> int:
        closed = seg.closed  # read before the file: a segment closed later is re-read next time
        try:
            fd = os.open(seg.entries, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return 0
        try:
            end = complete_size(fd, os.fstat(fd).st_size)
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT indexed_size, last_hash FROM segments WHERE name = ?",
                                 (seg.name,)).fetchone()
                start, last = (row[0], row[1]) if row else (0, None)
                if start and not self._still_ends_with(fd, start, end, last):
                    log.warning("index d'audit : le segment %s a changé sous l'index, relu en entier",
                                seg.name)
                    self._forget(db, seg.name)
                    start, last = 0, None
                added, last = self._index_lines(db, seg.name, fd, start, end, last)
                db.execute(
                    "INSERT INTO segments (name, indexed_size, last_hash, closed) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET indexed_size = excluded.indexed_size, "
                    "last_hash = excluded.last_hash, closed = excluded.closed",
                    (seg.name, end, last, int(closed)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            os.close(fd)
        return added

    @staticmethod
    def _still_ends_with(fd: int, start: int, end: int, last_hash: str | None) -> bool:
        """Does the file still hold, just before ``start``, the line the index stopped at?"""
        if start > end:
            return False
        line = last_line(fd, start)  # ``start`` is a line boundary: the index stops after a newline
        try:
            return line is not None and json.loads(line).get("entry_hash") == last_hash
        except (ValueError, AttributeError):
            return False

    @staticmethod
    def _forget(db: sqlite3.Connection, name: str) -> None:
        db.execute("DELETE FROM entry_leads WHERE entry IN (SELECT id FROM entries WHERE segment = ?)", (name,))
        db.execute("DELETE FROM entry_entities WHERE entry IN (SELECT id FROM entries WHERE segment = ?)", (name,))
        db.execute("DELETE FROM entries WHERE segment = ?", (name,))
        db.execute("DELETE FROM segments WHERE name = ?", (name,))

    @staticmethod
    def _index_lines(db: sqlite3.Connection, name: str, fd: int, start: int, end: int,
                     last: str | None) -> tuple[int, str | None]:
        added, pos = 0, start
        while pos < end:
            chunk = os.pread(fd, min(_READ_CHUNK, end - pos), pos)
            cut = chunk.rfind(b"\n") + 1
            if cut == 0:  # one line longer than the chunk
                chunk = os.pread(fd, end - pos, pos)
                cut = chunk.rfind(b"\n") + 1
            rows, leads, entities = [], [], []
            offset = pos
            for line in chunk[:cut].split(b"\n")[:-1]:
                length = len(line) + 1
                try:
                    body = json.loads(line)
                    row = (name, body["seq"], _micros(body["at"]), _micros(body["recorded_at"]),
                           body["action"], body["decision"]["outcome"], body["actor"]["user_id"],
                           body["actor"].get("agency"), offset, length, body["entry_hash"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    log.warning("index d'audit : ligne illisible du segment %s ignorée", name)
                    offset += length
                    continue
                rows.append(row)
                leads.append(body.get("lead_ids") or [])
                entities.append(body.get("entity_keys") or [])
                last = body["entry_hash"]
                offset += length
            # Ids assigned here (the segment's update holds the write lock): one executemany per
            # table instead of a round trip per entry.
            first = (db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]) + 1
            ids = range(first, first + len(rows))
            db.executemany(
                "INSERT INTO entries (id, segment, seq, at_us, recorded_us, action, outcome, user_id, "
                "agency, offset, length, entry_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [(i, *row) for i, row in zip(ids, rows, strict=True)])
            db.executemany("INSERT INTO entry_leads (entry, lead_id) VALUES (?, ?)",
                           [(i, lead) for i, lead_ids in zip(ids, leads, strict=True) for lead in lead_ids])
            db.executemany("INSERT INTO entry_entities (entry, entity_key) VALUES (?, ?)",
                           [(i, key) for i, keys in zip(ids, entities, strict=True) for key in keys])
            added += len(rows)
            pos += cut
        return added, last

    # -- querying ---------------------------------------------------------------------------------

    def locate(self, f: AuditFilters, limit: int, offset: int) -> list[tuple[str, int, int, int, str]]:
        """(segment, seq, offset, length, hash) of the entries matching ``f``, newest first."""
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("action", f.action), ("outcome", f.outcome), ("user_id", f.user_id),
                              ("agency", f.agency)):
            if value is not None:
                where.append(f"e.{column} = ?")
                args.append(getattr(value, "value", value))
        if f.since is not None:
            where.append("e.at_us >= ?")
            args.append(_micros(f.since.isoformat()))
        if f.until is not None:
            where.append("e.at_us < ?")
            args.append(_micros(f.until.isoformat()))
        if f.lead_id is not None:
            ids = [f.lead_id, *f.lead_aliases]
            where.append(f"e.id IN (SELECT entry FROM entry_leads WHERE lead_id IN ({','.join('?' * len(ids))}))")
            args += ids
        if f.entity_key is not None:
            where.append("e.id IN (SELECT entry FROM entry_entities WHERE entity_key = ?)")
            args.append(f.entity_key)
        if f.entries:  # exact entries: the unique (segment, seq) index answers each
            refs = f.entry_refs()
            where.append("(" + " OR ".join("(e.segment = ? AND e.seq = ?)" for _ in refs) + ")")
            args += [x for ref in refs for x in ref]
        sql = ("SELECT e.segment, e.seq, e.offset, e.length, e.entry_hash FROM entries e"
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY e.recorded_us DESC, e.segment DESC, e.seq DESC LIMIT ? OFFSET ?")
        with self._connect() as db:
            return db.execute(sql, (*args, limit, offset)).fetchall()

    def forget(self, name: str) -> None:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            self._forget(db, name)
            db.execute("COMMIT")


def read_indexed(fd: int, offset: int, length: int, expected_hash: str) -> dict[str, Any] | None:
    """The entry at ``offset`` of the segment file open as ``fd``, if it is still the one the
    index points at (its hash recomputed and equal); None otherwise."""
    try:
        body = json.loads(os.pread(fd, length, offset))
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("entry_hash") != expected_hash \
            or entry_hash(body) != expected_hash:
        return None
    return body
