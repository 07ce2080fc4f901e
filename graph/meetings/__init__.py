"""The weekly CROSS meeting: the meeting and its actions in the graph, and the agenda read — one
module per aggregate (``meeting``, ``actions``, ``agenda`` with its ``sections``), weeks in
``weeks``, models in ``models``; the week's seizures in ``seizures`` and its map in ``weekmap``.

Owns ``(:Meeting {meeting_id = "<département>-<ISO week>", departement, week, starts_at, ends_at,
created_at, created_by, status})`` and ``(:Action {action_id, meeting_id, title, lead_agency,
tasked, deadline, status: open|done|cancelled, done_at, handling_code, created_at, created_by})``,
joined ``(Meeting)-[:DECIDED]->(Action)``, an action optionally ``-[:ABOUT]->`` leads and entities.
Nothing links *from* a lead to them, so network reads never traverse them.

The agenda is a set of small section providers, each one Cypher read over the meeting's window
(what is new since the last meeting), all in one read transaction. Every lead-derived item is
read through the participant's ``AccessFilter``: leads they may read appear as leads, leads they
may only know of appear as hits per agency (with whom to contact), leads they may not know of do
not appear at all, not even in a count. Each item carries its handling code: for an item derived
from several leads, the strictest of them (``policies.engine.derived_marking``).

"New in the window" means reported in it, or reported earlier but ingested in it (a late
arrival is new to the CROSS). Windows and weeks are Europe/Paris calendar weeks.
"""

from __future__ import annotations

from graph.labels import KEY_PROPERTY, Label
from graph.meetings._common import strictest
from graph.meetings.actions import create_action, get_action, update_action
from graph.meetings.agenda import build_agenda
from graph.meetings.meeting import (
    ensure_meeting,
    get_meeting,
    list_meetings,
    unsaved_meeting,
)
from graph.meetings import seizures as _seizures
from graph.meetings.models import (
    ActionRecord,
    ActionStatus,
    ActionView,
    Agenda,
    CrossAgencyLink,
    DeconflictionItem,
    HitCount,
    HotspotMove,
    LeadRef,
    Meeting,
    NewAction,
    NewLeadsSummary,
    PendingDisclosure,
    TrendPoint,
    MapPoint,
    SeizedQuantity,
    SeizureDelta,
    SeizureItem,
    SeizureTotals,
    SeizureWeek,
    TriageBacklog,
    WeekGraph,
    WeekMap,
)
from graph.meetings.weeks import (
    DEPARTEMENT_RE,
    PARIS,
    WEEK_RE,
    check_departement,
    iso_week_of,
    meeting_id_for,
    week_bounds,
)

SCHEMA: list[str] = [
    # Same names as graph/schema.py's migration 1 gives uniqueness constraints.
    *(
        f"CREATE CONSTRAINT {label.value.lower()}_{KEY_PROPERTY[label]}_unique IF NOT EXISTS "
        f"FOR (n:{label.value}) REQUIRE n.{KEY_PROPERTY[label]} IS UNIQUE"
        for label in (Label.MEETING, Label.ACTION)
    ),
    "CREATE INDEX meeting_departement_starts IF NOT EXISTS FOR (n:Meeting) ON (n.departement, n.starts_at)",
    "CREATE INDEX action_status IF NOT EXISTS FOR (n:Action) ON (n.status)",
    # Late arrivals (reported before the window, ingested in it) are found by ingest time.
    "CREATE INDEX lead_ingested_at IF NOT EXISTS FOR (n:Lead) ON (n.ingested_at)",
    *_seizures.SCHEMA,
]

__all__ = [
    "DEPARTEMENT_RE", "PARIS", "SCHEMA", "WEEK_RE",
    "ActionRecord", "ActionStatus", "ActionView", "Agenda", "CrossAgencyLink", "DeconflictionItem",
    "HitCount", "HotspotMove", "LeadRef", "MapPoint", "Meeting", "NewAction", "NewLeadsSummary",
    "PendingDisclosure", "SeizedQuantity", "SeizureDelta", "SeizureItem", "SeizureTotals", "SeizureWeek",
    "TrendPoint", "TriageBacklog", "WeekGraph", "WeekMap", "build_agenda",
    "check_departement", "create_action", "ensure_meeting", "get_action", "get_meeting",
    "iso_week_of", "list_meetings", "meeting_id_for", "strictest", "unsaved_meeting",
    "update_action", "week_bounds",
]
