"""``crosshub brief`` (the weekly meeting's brief, one copy per participant) and ``crosshub
retention dry-run|purge`` (the retention purge). Thin wrappers over hub/jobs/ (briefs.py, retention.py).

Both write to the audit trail (a brief is a disclosure to its participant; a purge an erasure),
which has one writer: run them while the hub is stopped, or let the hub's scheduler run them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.common import console, err_console
from hub.contract.errors import CrossHubError
from hub.settings import Settings
from policies.rulebook import load_rulebook


def brief(
    cross: Annotated[str, typer.Option("--cross", help="Département de la CROSS (p. ex. 25)")],
    week: Annotated[str, typer.Option("--week", help="Semaine ISO (p. ex. 2025-W47)")],
    as_user: Annotated[list[str] | None, typer.Option(
        "--as", help="Identifiant du participant (répétable) ; défaut : tous les analystes et chefs")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Répertoire de sortie (défaut : <data_dir>/briefs/<réunion>)")] = None,
) -> None:
    """Écrit la note de séance de la réunion hebdomadaire (HTML et PDF), un exemplaire par
    participant, chacun ne contenant que ce que ce participant peut voir."""
    from hub.jobs.briefs import generate_weekly_briefs

    try:
        settings = Settings()
        files = generate_weekly_briefs(settings, week=week, departement=cross, out_dir=out,
                                       user_ids=as_user or None, origin="cli",
                                       rulebook=load_rulebook(settings.rules_dir))
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        for d in exc.details:
            err_console.print(f"  {escape(str(d.get('field', '')))} : {escape(str(d.get('reason', '')))}")
        raise typer.Exit(1) from None
    if not files:
        err_console.print("[yellow]Aucun participant (analyste ou chef de la CROSS) : aucune note écrite.[/yellow]")
        raise typer.Exit(1)
    table = Table(title=f"Notes de séance CROSS {escape(cross)} — {escape(week)}")
    for col in ("Participant", "Code", "Pistes", "PDF"):
        table.add_column(col)
    for f in files:
        table.add_row(escape(f.user_id), f.handling_code, str(f.lead_count), escape(str(f.pdf)))
    console.print(table)


retention_app = typer.Typer(help="Conservation des pistes : ce qui est à effacer, et la purge.",
                            no_args_is_help=True)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("date ISO 8601 attendue, avec fuseau (p. ex. 2027-01-01T00:00:00+01:00)") from None
    if parsed.tzinfo is None:
        raise typer.BadParameter("préciser le fuseau horaire (p. ex. +01:00)")
    return parsed


AsOf = Annotated[str | None, typer.Option("--as-of", help="Instant d'évaluation (défaut : maintenant)")]


@retention_app.command("dry-run")
def dry_run(as_of: AsOf = None,
            limit: Annotated[int, typer.Option("--limit", help="Lignes affichées au plus")] = 200) -> None:
    """Liste les pistes dont la durée de conservation est échue, sans rien effacer."""
    from hub.jobs.retention import run_retention

    try:
        settings = Settings()
        report = run_retention(settings, dry_run=True, now=_as_of(as_of), origin="cli",
                               policy=load_rulebook(settings.rules_dir).retention)
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None
    table = Table(title=f"Pistes à effacer : {len(report.due)}")
    for col in ("Piste", "Service", "Nature", "Issue", "Règle", "Depuis le", "Échue le"):
        table.add_column(col)
    for d in report.due[:limit]:
        table.add_row(escape(d.lead_id), d.agency, d.kind.value, d.outcome.value, d.rule_id,
                      d.reference_at.date().isoformat(), d.expires_at.date().isoformat())
    console.print(table)
    console.print(f"Entités qui ne seraient plus mentionnées par aucune piste : {len(report.planned_entities)}")
    console.print(f"Règles : {report.policy_digest}")


@retention_app.command("purge")
def purge_cmd(as_of: AsOf = None,
              yes: Annotated[bool, typer.Option("--yes", help="Ne pas demander de confirmation")] = False) -> None:
    """Efface les pistes échues, leurs saisies et les entités devenues orphelines ; chaque lot est
    journalisé (effacement) avant d'être effacé."""
    from hub.jobs.retention import run_retention

    settings = Settings()
    try:
        policy = load_rulebook(settings.rules_dir).retention
        if not yes:
            preview = run_retention(settings, dry_run=True, now=_as_of(as_of), origin="cli",
                                    policy=policy)
            if not preview.due:
                console.print("Aucune piste échue : rien à effacer.")
                return
            typer.confirm(f"Effacer définitivement {len(preview.due)} piste(s) et "
                          f"{len(preview.planned_entities)} entité(s) orpheline(s) ?", abort=True)
        report = run_retention(settings, now=_as_of(as_of), origin="cli", policy=policy)
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Effacé : {report.leads_erased} piste(s), {report.seizures_erased} saisie(s), "
                  f"{len(report.entities_erased)} entité(s) orpheline(s). Journalisé (effacement).")
