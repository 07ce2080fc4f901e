"""The brief's sections, in the order a participant reads them, and the extension point for
sections other features add.

Each name is a template under ``templates/sections/`` rendered with the participant's brief
(``brief``, ``a`` the agenda, ``m`` the meeting, ``p`` the participant, ``figures``, ``extras``);
``h2(title)`` numbers its heading. A feature adding a section (the watchlists' « Vos veilles »)
adds a template and one ``ExtraSection`` to ``EXTRA_SECTIONS``: its ``read`` is called for each
copy with the participant's own filter, and its answer is ``extras[<key>]`` in the template
(``None`` leaves the section out of that copy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.access import AccessFilter
from graph.handle import Graph
from graph.identity import Principal
from graph.meetings import Meeting
from hub.brief import dossiers as brief_dossiers
from hub.brief import federation as brief_federation
from hub.jobs import connector_watch, watch_delivery


@dataclass(frozen=True)
class ExtraSection:
    key: str  # also the template's name: templates/sections/<key>.html.j2
    read: Callable[[Graph, Meeting, Principal, AccessFilter, datetime], Any]


# Sections other modules add, placed after the seizures and the map.
EXTRA_SECTIONS: tuple[ExtraSection, ...] = (
    ExtraSection("watches", watch_delivery.brief_section),  # « Vos veilles » (watchlists)
    ExtraSection("dossiers", brief_dossiers.brief_section),  # « Dossiers en retard » (ADR 0019)
    # « Partagé avec d'autres CROSS » (issue 16): federation tickets of the agency's leads
    ExtraSection("federation", brief_federation.brief_section),
    # « État des sources » (issue 17): connectors silent or with a growing quarantine this week
    ExtraSection("sources", connector_watch.brief_section),
)

BEFORE_EXTRAS = ("summary", "seizures", "map")
AFTER_EXTRAS = ("links", "disclosures", "deconfliction", "triage", "hotspots", "actions", "linkchart")


def order(extras: dict[str, Any]) -> list[str]:
    """Section templates of one copy: the extras it has data for, between the fixed ones."""
    return [*BEFORE_EXTRAS, *(s.key for s in EXTRA_SECTIONS if extras.get(s.key) is not None), *AFTER_EXTRAS]
