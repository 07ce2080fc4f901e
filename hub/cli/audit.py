"""``crosshub audit``: verify the audit trail's integrity, list its entries, archive it.

``verify`` and ``list`` are read-only: neither opens a segment of the trail for writing, so both
are safe to run beside the hubs, or on a copy for the auditors (``verify`` checks the archives
too). ``archive`` applies the trail's retention (policies/data/audit_retention.yaml, ADR 0028):
it writes its own segment. ``list`` reads through the auditors' index
(refreshed from the segments first, rebuilt if deleted; ``--index`` to put it elsewhere, e.g.
when reading an auditor's copy).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hub.audit import AuditFilters, TrailEntry, query, verify
from hub.audit.index import default_index_path
from hub.audit.keys import PUBLIC_KEY_FILE
from hub.contract.errors import CrossHubError
from hub.contract.lead import Agency
from hub.settings import Settings
from policies.audit import (
    ACTION_LABELS_FR,
    DECISION_LABELS_FR,
    AuditAction,
    DecisionOutcome,
)

app = typer.Typer(help="Journal d'audit (art. 25, directive (UE) 2016/680) : intégrité et consultation.",
                  no_args_is_help=True)


def _consoles() -> tuple[Console, Console]:
    # Built per command, so the terminal width (COLUMNS) is read when the command runs;
    # soft_wrap: a verdict line is never cut in the middle for a narrow terminal or a pipe.
    return Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)

AuditDirOpt = Annotated[
    Path | None, typer.Option("--audit-dir", help="Répertoire du journal (défaut : celui des réglages)")
]


def _audit_dir(audit_dir: Path | None) -> Path:
    return audit_dir or Settings().audit_dir


@app.command("verify")
def verify_cmd(
    audit_dir: AuditDirOpt = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help=f"Clé publique PEM (défaut : {PUBLIC_KEY_FILE} du répertoire des clés)")] = None,
    checkpoints: Annotated[Path | None, typer.Option(
        "--checkpoints",
        help="Copie exportée des points de contrôle, utilisée à la place de la locale : un "
             "fichier pour un journal à une seule chaîne, un répertoire <segment>/checkpoints.jsonl "
             "pour un journal en segments")] = None,
) -> None:
    """Vérifie le chaînage, les empreintes et les points de contrôle signés.

    Code de sortie : 0 si le journal est intègre, 1 s'il est altéré, 2 si la vérification est
    impossible (répertoire ou clé introuvable)."""
    console, err_console = _consoles()
    directory = _audit_dir(audit_dir)
    if not directory.is_dir():
        err_console.print(f"[red]Répertoire du journal d'audit introuvable : {escape(str(directory))}[/red]")
        raise typer.Exit(2)
    key = public_key or Settings().keys_dir / PUBLIC_KEY_FILE
    try:
        report = verify(directory, key, checkpoints_file=checkpoints)
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None
    for warning in report.warnings:
        err_console.print(f"[yellow]Avertissement : {escape(warning)}[/yellow]")
    if report.ok:
        console.print(f"[green]OK[/green] — {escape(report.summary_fr())}", highlight=False)
        return
    console.print(f"[bold red]ALTÉRATION DÉTECTÉE[/bold red] — {escape(str(report.first_bad))}",
                  highlight=False)
    for problem in report.problems[1:]:
        console.print(f"  aussi : {escape(str(problem))}", highlight=False)
    if report.segments:
        for seg in report.segments:
            state = "intègre" if seg.ok else "ALTÉRÉ"
            console.print(f"  segment {escape(seg.name)} : {state}, {seg.entries} entrée(s) vérifiée(s)",
                          highlight=False)
    else:
        console.print(f"Entrées vérifiées intègres : n° 1 à {report.head_seq}.", highlight=False)
    raise typer.Exit(1)


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"date invalide « {value} » (ISO 8601, ex. 2025-10-01T08:00:00+02:00)",
                                 param_hint=option) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # no zone given: UTC, as stored


def _list(
    audit_dir: Path | None,
    since: str | None,
    until: str | None,
    user: str | None,
    agency: Agency | None,
    action: AuditAction | None,
    lead: str | None,
    entity: str | None,
    outcome: DecisionOutcome | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    filters = AuditFilters(
        since=_parse_time(since, "--since"), until=_parse_time(until, "--until"), user_id=user,
        agency=agency, action=action, lead_id=lead, entity_key=entity, outcome=outcome,
        limit=limit, offset=offset,
    )
    index = default_index_path(audit_dir) if audit_dir else Settings().audit_index
    entries = query(_audit_dir(audit_dir), filters, index_path=index)
    console, _ = _consoles()
    if as_json:
        for e in entries:
            print(e.model_dump_json())
        return
    if not entries:
        console.print("Aucune entrée.")
        return
    console.print(_table(entries))


def _short(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n})" if len(items) > n else "")


def _table(entries: list[TrailEntry]) -> Table:
    table = Table("segment", "n°", "date (UTC)", "action", "qui", "objet", "origine", "décision", "justification",
                  "destinataires")
    for e in entries:
        who = f"{e.actor.name} ({e.actor.user_id}"
        who += f", {e.actor.agency.value}" if e.actor.agency else ""
        who += f", {e.actor.role})"
        objet = _short(e.lead_ids + e.entity_keys) or _short([f"{k}={v}" for k, v in e.details.items()])
        # Every cell is data, some typed by users: escaped so "[...]" is never read as markup.
        cells = [
            e.segment,
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            ACTION_LABELS_FR[e.action],
            who,
            objet,
            e.client_address or e.connector_id or "",
            f"{DECISION_LABELS_FR[e.decision.outcome]} [{e.decision.rule_id}]",
            e.justification or "",
            _short(e.recipients),
        ]
        table.add_row(*(escape(c) for c in cells))
    return table


Since = Annotated[str | None, typer.Option(help="Depuis (inclus), ISO 8601 ; UTC si sans fuseau")]
Until = Annotated[str | None, typer.Option(help="Jusqu'à (exclu), ISO 8601 ; UTC si sans fuseau")]
User = Annotated[str | None, typer.Option("--user", help="Identifiant de l'utilisateur")]
AgencyOpt = Annotated[Agency | None, typer.Option(help="Service de l'acteur")]
ActionOpt = Annotated[AuditAction | None, typer.Option(help="Type d'opération")]
Lead = Annotated[str | None, typer.Option("--lead", help="Identifiant de piste (agence:référence)")]
Entity = Annotated[str | None, typer.Option("--entity", help="Clé d'entité")]
OutcomeOpt = Annotated[DecisionOutcome | None, typer.Option(help="Décision de la politique")]
Offset = Annotated[int, typer.Option(min=0, help="Entrées correspondantes à sauter")]
AsJson = Annotated[bool, typer.Option("--json", help="Une entrée JSON par ligne")]


@app.command("list")
def list_cmd(
    audit_dir: AuditDirOpt = None, since: Since = None, until: Until = None, user: User = None,
    agency: AgencyOpt = None, action: ActionOpt = None, lead: Lead = None, entity: Entity = None,
    outcome: OutcomeOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Nombre d'entrées")] = 100,
    offset: Offset = 0, as_json: AsJson = False,
) -> None:
    """Liste les entrées, les plus récentes d'abord, avec filtres."""
    _list(audit_dir, since, until, user, agency, action, lead, entity, outcome, limit, offset, as_json)


@app.command("tail")
def tail_cmd(
    audit_dir: AuditDirOpt = None, since: Since = None, until: Until = None, user: User = None,
    agency: AgencyOpt = None, action: ActionOpt = None, lead: Lead = None, entity: Entity = None,
    outcome: OutcomeOpt = None,
    limit: Annotated[int, typer.Option("-n", "--limit", min=1, max=10_000, help="Nombre d'entrées")] = 20,
    offset: Offset = 0, as_json: AsJson = False,
) -> None:
    """Les dernières entrées (20 par défaut)."""
    _list(audit_dir, since, until, user, agency, action, lead, entity, outcome, limit, offset, as_json)


@app.command("archive")
def archive_cmd(audit_dir: AuditDirOpt = None) -> None:
    """Archive les segments fermés plus anciens que la durée en ligne (archives signées et
    chaînées) et supprime les archives arrivées au terme de leur conservation ; chaque opération
    est inscrite au journal. Durées : policies/data/audit_retention.yaml."""
    from hub.jobs.audit_archive import run_audit_archive
    from policies.rulebook import load_rulebook

    console, err_console = _consoles()
    settings = Settings()
    if audit_dir is not None:
        settings = settings.model_copy(update={"audit_path": audit_dir})
    try:
        rules = load_rulebook(settings.rules_dir).audit_retention
        report = run_audit_archive(settings, rules)
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Conservation du journal : {rules.online_months} mois en ligne, archives gardées "
                  f"{rules.archive_months} mois après leur dernière entrée.", highlight=False)
    for name in report.archived:
        console.print(f"archivé : {escape(name)}", highlight=False)
    for name in report.deleted:
        console.print(f"archive supprimée (conservation échue) : {escape(name)}", highlight=False)
    for line in report.refused:
        err_console.print(f"[yellow]{escape(line)}[/yellow]")
    if not (report.archived or report.deleted):
        console.print("Rien à archiver ni à supprimer.", highlight=False)
    if report.refused:
        raise typer.Exit(1)
