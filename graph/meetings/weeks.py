"""Weeks and départements as the meeting names them: a CROSS meets once a week per département,
its meeting is ``<département>-<ISO week>``, and weeks are Europe/Paris calendar weeks
(``2025-W47`` is [Monday 00:00, next Monday 00:00) in Paris, whatever the daylight saving)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.contract.errors import InvalidInput

PARIS = ZoneInfo("Europe/Paris")

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
DEPARTEMENT_RE = re.compile(r"^(\d{2}|2A|2B|97\d)$")


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """``2025-W47`` → [Monday 00:00, next Monday 00:00) in Europe/Paris."""
    m = WEEK_RE.match(week or "")
    if not m:
        raise InvalidInput("semaine invalide : format attendu AAAA-Www (p. ex. 2025-W47)",
                           details=[{"field": "week", "reason": "format attendu AAAA-Www, p. ex. 2025-W47"}])
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InvalidInput(f"semaine inexistante : {week}",
                           details=[{"field": "week",
                                     "reason": f"l'année {m.group(1)} n'a pas de semaine {m.group(2)}"}]) from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=PARIS)
    nxt = monday + timedelta(days=7)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=PARIS)


def iso_week_of(instant: datetime) -> str:
    year, week, _ = instant.astimezone(PARIS).isocalendar()
    return f"{year}-W{week:02d}"


def check_departement(departement: str) -> str:
    d = (departement or "").upper()
    if not DEPARTEMENT_RE.match(d):
        raise InvalidInput("département invalide",
                           details=[{"field": "departement",
                                     "reason": "code de département attendu (p. ex. 25, 2A, 974)"}])
    return d


def meeting_id_for(departement: str, week: str) -> str:
    return f"{check_departement(departement)}-{week}"
