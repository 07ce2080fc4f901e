"""The DPD's reports in French, as one self-contained HTML file and its PDF (WeasyPrint, as the
meeting brief: hub/brief/)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.brief import labels
from hub.dpd.subject import ACTION_FR, KIND_FR, SubjectReport
from hub.dpd.weekly import WeeklyReport

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters.update(agency=labels.agency_fr, date_fr=labels.date_fr, datetime_fr=labels.datetime_fr,
                    role=lambda r: labels.ROLE_FR.get(r, r), access=labels.access_fr,
                    handling=lambda c: labels.HANDLING_FR.get(str(c), str(c)),
                    kind=labels.kind_fr)


def render_weekly_html(report: WeeklyReport) -> str:
    return _env.get_template("weekly.html.j2").render(r=report)


def render_subject_html(report: SubjectReport) -> str:
    return _env.get_template("subject.html.j2").render(r=report, kind_fr=KIND_FR, action_fr=ACTION_FR)


def render_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi at import, which only the PDF needs.
    from weasyprint import HTML

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
