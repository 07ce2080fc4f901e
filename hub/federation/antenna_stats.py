"""The antenna's only memory: one statistics row per federation ticket, and its weekly roll-up.

A row is (ticket id, holder CROSS, claimant CROSS, identifier kind, created, due, status,
answered at, deadline met) — no key, no token, no value, no body, no desk, no handling code:
what the antenna needs to show an OFAST antenna how the federation answers, and nothing it could
leak. SQLite (stdlib) in the antenna's data directory, the file 0600 from its creation.

The roll-up groups the tickets opened in one ISO week by (claimant, holder, kind): opened,
answered (any closing status), overdue (still open past the deadline, at the time of the
roll-up), answered late, and the median answer time in hours.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from hub.contract.errors import InvalidInput
from hub.keyfiles import check_private_mode, create_exclusive, ensure_private_dir

STATS_FILE = "antenna-stats.sqlite3"
CLOSING = ("answered", "released", "declined")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id    TEXT PRIMARY KEY,
    holder       TEXT NOT NULL,
    claimant     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    answered_at  TEXT,
    deadline_met INTEGER
);
CREATE INDEX IF NOT EXISTS tickets_created ON tickets (created_at);
"""


def iso(moment: datetime) -> str:
    """One spelling of an instant (UTC, seconds), so stored times compare as text."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class TicketRow:
    ticket_id: str
    holder: str
    claimant: str
    kind: str
    created_at: str
    due_at: str
    status: str = "open"
    answered_at: str | None = None
    deadline_met: bool | None = None


class PairRow(BaseModel):
    claimant: str
    holder: str
    kind: str
    opened: int
    answered: int
    overdue: int
    late: int
    median_answer_hours: float | None


class Rollup(BaseModel):
    week: str
    start: str
    end: str
    generated_at: str
    rows: list[PairRow]
    opened: int
    answered: int
    overdue: int


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """``2026-W49`` → [Monday 00:00 UTC, next Monday 00:00 UTC); 422 naming ``week`` otherwise."""
    m = WEEK.match(week)
    try:
        if not m:
            raise ValueError
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InvalidInput(f"semaine « {week[:20]} » invalide : format AAAA-Sss attendu "
                           "(p. ex. 2026-W49)",
                           details=[{"field": "week", "reason": "format AAAA-Sss"}]) from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def week_of(moment: datetime) -> str:
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


class StatsStore:
    """The SQLite file; one connection shared under a lock (the antenna is one process)."""

    def __init__(self, data_dir: Path) -> None:
        ensure_private_dir(data_dir)
        self.path = data_dir / STATS_FILE
        if not self.path.exists():
            create_exclusive(self.path, b"", 0o600)  # SQLite keeps the mode of an existing file
        check_private_mode(self.path, "statistiques de l'antenne")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, rows: list[TicketRow]) -> None:
        """One row per ticket; a ticket seen again (a repeated claim) keeps its first row."""
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO tickets (ticket_id, holder, claimant, kind, created_at, "
                "due_at, status) VALUES (?, ?, ?, ?, ?, ?, 'open')",
                [(r.ticket_id, r.holder, r.claimant, r.kind, r.created_at, r.due_at)
                 for r in rows])

    def get(self, ticket_id: str) -> TicketRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT ticket_id, holder, claimant, kind, created_at, due_at, status, "
                "answered_at, deadline_met FROM tickets WHERE ticket_id = ?",
                (ticket_id,)).fetchone()
        if row is None:
            return None
        met = None if row[8] is None else bool(row[8])
        return TicketRow(*row[:8], deadline_met=met)

    def close_ticket(self, ticket_id: str, status: str, at: datetime) -> None:
        """The holder answered: the first closing time counts (a later change of status keeps
        it), the deadline is met if that time is not after ``due_at``."""
        with self._lock:
            self._db.execute(
                "UPDATE tickets SET status = ?, "
                "answered_at = COALESCE(answered_at, ?), "
                "deadline_met = COALESCE(deadline_met, CASE WHEN ? <= due_at THEN 1 ELSE 0 END) "
                "WHERE ticket_id = ?", (status, iso(at), iso(at), ticket_id))

    def rollup(self, week: str, now: datetime) -> Rollup:
        start, end = week_bounds(week)
        with self._lock:
            rows = self._db.execute(
                "SELECT claimant, holder, kind, created_at, due_at, status, answered_at, "
                "deadline_met FROM tickets WHERE created_at >= ? AND created_at < ? "
                "ORDER BY claimant, holder, kind", (iso(start), iso(end))).fetchall()
        now_s = iso(now)
        groups: dict[tuple[str, str, str], list[tuple]] = {}
        for r in rows:
            groups.setdefault((r[0], r[1], r[2]), []).append(r)
        out: list[PairRow] = []
        for (claimant, holder, kind), items in groups.items():
            closed = [r for r in items if r[5] != "open"]
            waits = [(datetime.fromisoformat(r[6]) - datetime.fromisoformat(r[3])
                      ).total_seconds() / 3600 for r in closed if r[6]]
            out.append(PairRow(
                claimant=claimant, holder=holder, kind=kind, opened=len(items),
                answered=len(closed),
                overdue=sum(1 for r in items if r[5] == "open" and r[4] < now_s),
                late=sum(1 for r in closed if r[7] == 0),
                median_answer_hours=round(statistics.median(waits), 1) if waits else None))
        return Rollup(week=week, start=iso(start), end=iso(end), generated_at=now_s, rows=out,
                      opened=sum(r.opened for r in out), answered=sum(r.answered for r in out),
                      overdue=sum(r.overdue for r in out))
