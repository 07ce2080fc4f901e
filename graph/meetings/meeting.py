"""The meeting node: ``(:Meeting {meeting_id = "<département>-<ISO week>", departement, week,
starts_at, ends_at, created_at, created_by, status})`` — created on first use, read back, listed
per département; an unsaved one is enough to build an agenda."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graph.handle import Graph
from graph.labels import Label
from graph.meetings.models import Meeting
from graph.meetings.weeks import check_departement, week_bounds
from graph.records import native, node_by_key, utc


def meeting_of(m: dict[str, Any]) -> Meeting:
    """A meeting node's properties (as read) as a Meeting."""
    return Meeting(**{k: native(v) for k, v in m.items() if k in Meeting.model_fields})


def ensure_meeting(graph: Graph, departement: str, week: str, *,
                   created_by: str | None, now: datetime | None = None) -> tuple[Meeting, bool]:
    """The meeting of ``departement`` for ``week``, created if absent: (meeting, created)."""
    departement = check_departement(departement)
    starts, ends = week_bounds(week)
    now = now or datetime.now(UTC)
    records = graph.query(
        "MERGE (m:Meeting {meeting_id: $mid}) "
        "ON CREATE SET m.departement = $dept, m.week = $week, m.starts_at = $starts, "
        "  m.ends_at = $ends, m.created_at = $now, m.created_by = $by, m.status = 'planned', m._new = true "
        "WITH m, coalesce(m._new, false) AS created REMOVE m._new "
        "RETURN m {.*} AS m, created",
        mid=f"{departement}-{week}", dept=departement, week=week, starts=utc(starts),
        ends=utc(ends), now=utc(now), by=created_by,
    )
    return meeting_of(records[0]["m"]), records[0]["created"]


def get_meeting(graph: Graph, meeting_id: str) -> Meeting:
    return meeting_of(node_by_key(graph, Label.MEETING, meeting_id, "réunion inconnue"))


def unsaved_meeting(departement: str, week: str, now: datetime | None = None) -> Meeting:
    """A meeting not (yet) in the graph: enough to build an agenda."""
    departement = check_departement(departement)
    starts, ends = week_bounds(week)
    return Meeting(meeting_id=f"{departement}-{week}", departement=departement, week=week,
                   starts_at=starts, ends_at=ends, created_at=now or datetime.now(UTC))


def list_meetings(graph: Graph, departement: str, limit: int = 20) -> list[Meeting]:
    records = graph.query(
        "MATCH (m:Meeting) WHERE m.departement = $dept RETURN m {.*} AS m ORDER BY m.starts_at DESC LIMIT $limit",
        dept=check_departement(departement), limit=limit, read_=True,
    )
    return [meeting_of(r["m"]) for r in records]
