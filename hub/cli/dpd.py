"""``crosshub dpd``: the DPD's watch on the audit trail (ADR 0030), from the server.

``report`` builds the weekly report of a week (``--week 2026-W49``; default the last complete
one) and writes it as HTML and/or PDF; ``subject`` answers a data subject's indirect access for a
plate, a phone or a pseudonym. Both read the trail through the auditors' index and log their
reading in a segment of their own (the hub with origin ``cli`` and the operating-system account
that ran them), justified.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub.contract.errors import CrossHubError
from hub.settings import Settings

app = typer.Typer(help="Contrôle du DPD : rapport hebdomadaire du journal d'audit et droit d'accès indirect.",
                  no_args_is_help=True)

Justification = Annotated[str, typer.Option(
    "--justification", help="Motif de la lecture (journalisé), p. ex. « Contrôle DPD semaine 49 »")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", help="Écrire le rapport HTML dans ce fichier")]
PdfOpt = Annotated[Path | None, typer.Option("--pdf", help="Écrire le rapport PDF dans ce fichier")]


def _fail(exc: CrossHubError) -> None:
    err = Console(stderr=True, soft_wrap=True)
    err.print(f"[red]{escape(exc.message)}[/red]")
    for d in exc.details:
        err.print(f"  {escape(str(d.get('field', '')))} : {escape(str(d.get('reason', '')))}")
    raise typer.Exit(1)


def _check_motif(text: str) -> str:
    from hub.deps import require_justification

    try:
        return require_justification(text)
    except CrossHubError as exc:
        _fail(exc)
        raise


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    path.chmod(0o600)  # it names officers and what they looked up


@app.command("report")
def report_cmd(
    justification: Justification,
    week: Annotated[str | None, typer.Option("--week", help="Semaine ISO AAAA-Www (défaut : la dernière complète)")] = None,
    html: HtmlOpt = None,
    pdf: PdfOpt = None,
) -> None:
    """Rapport hebdomadaire du DPD : constats de la semaine, chacun avec ses entrées du journal."""
    from hub.dpd import render
    from hub.dpd.events import SYSTEM_ACTOR, weekly_report_event
    from hub.dpd.weekly import build_weekly
    from hub.jobs.standalone import trail_for
    from policies.dpd_watch import DPD_WATCH_FILE, load_dpd_watch_rules
    from policies.loader import data_dir

    motif = _check_motif(justification)
    settings = Settings()
    try:
        rules = load_dpd_watch_rules(data_dir(settings.rules_dir) / DPD_WATCH_FILE)
        report = build_weekly(settings.audit_dir, settings.audit_index, rules, week=week,
                              base_url=settings.hub_public_url)
        document = "+".join(x for x, path in (("html", html), ("pdf", pdf)) if path) or "texte"
        with trail_for(settings, None) as trail:
            trail.append(weekly_report_event(
                actor=SYSTEM_ACTOR, origin="cli", week=report.week, user_ids=report.user_ids(),
                findings=len(report.lines), justification=motif, document=document,
                operator=getpass.getuser()))
    except CrossHubError as exc:
        _fail(exc)
        return
    console = Console(soft_wrap=True)
    table = Table(title=f"Contrôle du DPD — semaine {report.week} ({report.entries_read} entrées lues)")
    for col in ("Règle", "Personne", "Constat", "Entrées"):
        table.add_column(col)
    for line in report.lines:
        f = line.finding
        table.add_row(f.rule_id, escape(f.user_id or "—"), escape(f.summary_fr),
                      escape(" ".join(link.web for link in line.links)))
    console.print(table if report.lines else "Aucun constat pour cette semaine.")
    if html or pdf:
        page = render.render_weekly_html(report)
        if html:
            _write(html, page)
        if pdf:
            _write(pdf, render.render_pdf(page))


@app.command("subject")
def subject_cmd(
    justification: Justification,
    plate: Annotated[str | None, typer.Option("--plate", help="Immatriculation")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Numéro de téléphone")] = None,
    pseudonym: Annotated[str | None, typer.Option("--pseudonym", help="Pseudonyme ps1:…")] = None,
    html: HtmlOpt = None,
    pdf: PdfOpt = None,
) -> None:
    """Droit d'accès indirect (CNIL) : pistes qui mentionnent la personne, le véhicule ou le
    téléphone, et qui les a consultées, quand."""
    from hub.cli.common import graph_session
    from hub.dpd import render
    from hub.dpd.events import SYSTEM_ACTOR, subject_access_event
    from hub.dpd.subject import build_subject
    from hub.jobs.standalone import trail_for

    given = [(k, v) for k, v in (("vehicle", plate), ("phone", phone), ("person", pseudonym)) if v]
    if len(given) != 1:
        Console(stderr=True).print("[red]Indiquer exactement une valeur : --plate, --phone ou --pseudonym.[/red]")
        raise typer.Exit(2)
    motif = _check_motif(justification)
    (kind, value), = given
    try:
        with graph_session() as (settings, graph):
            report = build_subject(graph, settings.audit_dir, settings.audit_index, kind, value,
                                   base_url=settings.hub_public_url)
            with trail_for(settings, None) as trail:
                trail.append(subject_access_event(
                    actor=SYSTEM_ACTOR, origin="cli", keys=report.keys,
                    lead_ids=[lead.lead_id for lead in report.leads],
                    consultations=len(report.consultations), justification=motif,
                    document="+".join(x for x, p in (("html", html), ("pdf", pdf)) if p) or "texte",
                    operator=getpass.getuser()))
    except CrossHubError as exc:
        _fail(exc)
        return
    console = Console(soft_wrap=True)
    console.print(f"{report.kind} {escape(report.key)} : {len(report.leads)} piste(s), "
                  f"{len(report.consultations)} consultation(s)")
    for lead in report.leads:
        console.print(f"  piste {escape(lead.lead_id)} ({lead.agency}, observée le {lead.observed_at})")
    for c in report.consultations:
        console.print(f"  {c.at:%Y-%m-%d %H:%M} {c.action} par {escape(c.user_id)} — "
                      f"« {escape(c.justification or '—')} » — {escape(c.entry.ref)}")
    if html or pdf:
        page = render.render_subject_html(report)
        if html:
            _write(html, page)
        if pdf:
            _write(pdf, render.render_pdf(page))
