"""« Dossiers en retard » in a participant's brief (hub/brief/sections.py): the open dossiers
they are a member of and may read, with tasks past due — the agenda's list, read with their own
filter (graph.dossiers.overdue_for). None (no section) when there is none."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from graph import dossiers as graph_dossiers
from graph.access import AccessFilter
from graph.handle import Graph

_PARIS = ZoneInfo("Europe/Paris")


def brief_section(graph: Graph, meeting: Any, participant: Any, access: AccessFilter,
                  now: datetime) -> list[graph_dossiers.OverdueDossier] | None:
    rows = graph_dossiers.overdue_for(graph, participant.user_id, access, now.astimezone(_PARIS).date())
    return rows or None
