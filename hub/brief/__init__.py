"""The weekly CROSS meeting brief, rendered in French as HTML and PDF.

``build_brief`` reads the agenda for one participant (graph/meetings/, through that
participant's ``AccessFilter``) and draws its figures; ``render_html`` fills the Jinja2 template
(figures embedded as PNG data URIs, so the HTML is one self-contained file); ``render_pdf``
prints that same HTML with WeasyPrint. A participant's copy is built from their own filter
only: nothing another participant may see is ever read for it.

The document's own handling code is the strictest of its items' (each item shows its own).
Given the copy's mark (hub/watermark, ADR 0026), ``render_html`` prints it on every page (the
header and footer of each PDF page, a faint diagonal line, a band under the title), puts its
token in the document's keywords, and marks every figure (hub/watermark/images.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from graph.access import AccessFilter
from graph.handle import Graph
from graph.identity import Principal
from graph.meetings import Agenda, Meeting, WeekGraph, build_agenda, strictest
from hub.brief import charts, labels, sections, weekmap
from hub.brief.linkchart import Cluster, main_clusters
from hub.contract.lead import HandlingCode
from hub.watermark import IssuedMark
from hub.watermark.images import mark_png

TEMPLATES = Path(__file__).parent / "templates"
# Items a section lists in the printed brief (counts always cover everything; the agenda API
# lists more): a brief is read in a meeting, not searched.
LISTED = 15

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    agency=labels.agency_fr, kind=labels.kind_fr, date_fr=labels.date_fr, datetime_fr=labels.datetime_fr,
    access=labels.access_fr, handling=lambda c: labels.HANDLING_FR.get(str(c), str(c)),
    status=lambda s: labels.STATUS_FR.get(s, s), direction=lambda d: labels.DIRECTION_FR.get(d, d),
    entity_kind=lambda k: labels.ENTITY_KIND_FR.get(k, k), role=lambda r: labels.ROLE_FR.get(r, r),
    substance=labels.substance_fr, mass=labels.mass_fr, cash=labels.cash_fr, number=labels.number_fr,
)
_env.globals.update(quantity_fr=labels.quantity_fr, weapon_fr=labels.weapon_fr, packaging_fr=labels.packaging_fr,
                    measure_fr=labels.measure_fr, measure_value_fr=labels.measure_value_fr,
                    delta_fr=labels.delta_fr)


def _css_string(text: object) -> Markup:
    """A CSS string literal (for ``content:``): quotes, backslashes, angle brackets and control
    characters as CSS escapes, so no value can close the string or the ``<style>`` element."""
    escaped = "".join(f"\\{ord(ch):x} " if ch in '\\"\'<>&' or ord(ch) < 32 else ch for ch in str(text))
    return Markup(f'"{escaped}"')


_env.filters["css_string"] = _css_string


@dataclass
class Brief:
    """One participant's copy: the agenda they may see, its figures, map and link chart, and
    what other features' sections read for them (``extras``, hub/brief/sections.py)."""

    agenda: Agenda
    participant: Principal
    figures: dict[str, bytes] = field(default_factory=dict)
    clusters: list[Cluster] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def handling_code(self) -> str:
        a = self.agenda
        codes = {a.new_leads.handling_code, a.triage.handling_code, a.seizures.handling_code,
                 a.week_map.handling_code}
        codes.update(i.handling_code for i in a.seizures.items)
        for extra in self.extras.values():
            if getattr(extra, "handling_code", None) is not None:
                codes.add(HandlingCode(extra.handling_code))
        for items in (a.cross_agency_links, a.pending_disclosures, a.deconfliction_alerts, a.hotspots,
                      a.actions_due, a.actions_decided):
            codes.update(i.handling_code for i in items)
        return strictest({c.value for c in codes}).value

    @property
    def meeting(self) -> Meeting:
        return self.agenda.meeting


def draw(agenda: Agenda, week: WeekGraph, participant: Principal) -> Brief:
    """Figures and link chart for an agenda already read."""
    return Brief(
        agenda=agenda, participant=participant,
        figures={"agency": charts.by_agency(agenda), "kind": charts.by_kind(agenda),
                 "commune": charts.by_commune(agenda), "trend": charts.trend(agenda),
                 "seizure_trend": charts.seizure_trend(agenda), "map": weekmap.draw(agenda.week_map)},
        clusters=main_clusters(week),
    )


def build_brief(graph: Graph, meeting: Meeting, participant: Principal,
                access: AccessFilter, *, include_unlocated: bool = False,
                now: datetime | None = None) -> Brief:
    now = now or datetime.now(UTC)
    agenda, week = build_agenda(graph, meeting, participant, access,
                                include_unlocated=include_unlocated, now=now)
    brief = draw(agenda, week, participant)
    for extra in sections.EXTRA_SECTIONS:
        brief.extras[extra.key] = extra.read(graph, meeting, participant, access, now)
    return brief


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(brief: Brief, mark: IssuedMark | None = None) -> str:
    """The copy as one HTML file; ``mark``: the copy's watermark (every hub path gives one)."""

    def png(data: bytes) -> str:
        return _data_uri(mark_png(data, mark) if mark is not None else data)

    return _env.get_template("brief.html.j2").render(
        brief=brief, a=brief.agenda, m=brief.meeting, p=brief.participant, wm=mark,
        figures={k: png(v) for k, v in brief.figures.items()},
        clusters=[(c, png(c.png)) for c in brief.clusters],
        handling_fr=labels.HANDLING_FR, listed=LISTED,
        sections=sections.order(brief.extras), extras=brief.extras,
    )


def render_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi at import, which only the PDF needs.
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def file_stem(brief: Brief) -> str:
    # ASCII only: the name goes into a Content-Disposition header (latin-1 on the wire).
    safe_user = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "_"
                        for ch in brief.participant.user_id)
    return f"brief-{brief.meeting.meeting_id}-{safe_user}"


__all__ = ["Brief", "build_brief", "draw", "file_stem", "render_html", "render_pdf"]
