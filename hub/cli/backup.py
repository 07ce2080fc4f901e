"""``crosshub backup`` and ``crosshub restore``: the hub's state copied, and brought back
(hub/backup/, docs/decisions/0027-backup-and-restore.md).

Both log in a trail segment of their own (ADR 0012), so they run beside serving hubs — a backup
is meant to; a restore refuses while hubs hold job leases on the graph unless ``--force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.audit.restores import paris
from hub.cli.common import console, err_console, graph_session
from hub.contract.errors import CrossHubError


def backup() -> None:
    """Sauvegarde le graphe, les clés et le journal d'audit dans le répertoire des sauvegardes
    (signée, avec l'empreinte SHA-256 de chaque fichier)."""
    from hub.backup.make import make_backup
    from hub.jobs.standalone import trail_for

    with graph_session() as (settings, graph), trail_for(settings, None) as trail:
        try:
            result = make_backup(settings, graph, trail, origin="cli")
        except CrossHubError as exc:
            err_console.print(f"[red]{escape(exc.message)}[/red]")
            raise typer.Exit(1) from None
    console.print(
        f"Sauvegarde [bold]{escape(result.backup_id)}[/bold] écrite dans {escape(str(result.path))} : "
        f"{result.nodes} nœud(s), {result.relationships} relation(s), {result.keys} clé(s), "
        f"{result.segments} segment(s) d'audit ; point de sauvegarde du {paris(result.point.at)}.",
        highlight=False)
    if result.removed:
        console.print(f"Sauvegardes anciennes supprimées : {escape(', '.join(result.removed))}.",
                      highlight=False)


def restore(
    backup_path: Annotated[Path, typer.Argument(help="Répertoire de la sauvegarde")],
    by: Annotated[str, typer.Option("--by", "--par", help="Nom de la personne qui restaure")],
    reason: Annotated[str, typer.Option("--motif", "--reason", help="Pourquoi (entre au journal)")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Clé publique du journal d'audit (copie des auditeurs) si celle du "
                             "répertoire des clés est perdue")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Restaurer même si des baux de tâches du hub sont actifs")] = False,
) -> None:
    """Restaure une sauvegarde : vérifie sa signature et ses empreintes, remplace le graphe (tout
    ou rien), remet les clés et segments d'audit manquants, et inscrit la restauration au
    journal. Le journal n'est jamais rembobiné."""
    from hub.backup.manifest import verify_backup
    from hub.backup.restore import public_key_for, restore_backup
    from hub.settings import Settings

    try:  # a tampered backup is refused before the graph is even reached (checked again inside)
        verify_backup(backup_path, public_key_for(Settings(), public_key))
    except CrossHubError as exc:
        err_console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(1) from None
    with graph_session() as (settings, graph):
        try:
            result = restore_backup(settings, graph, backup_path, by=by, reason=reason,
                                    public_key=public_key, force=force)
        except CrossHubError as exc:
            err_console.print(f"[red]{escape(exc.message)}[/red]")
            raise typer.Exit(1) from None
    console.print(
        f"Sauvegarde [bold]{escape(result.backup_id)}[/bold] restaurée : {result.nodes} nœud(s), "
        f"{result.relationships} relation(s) ; point de sauvegarde du {paris(result.point.at)}.",
        highlight=False)
    if result.segments_put_back:
        console.print(f"Segments d'audit remis (absents du journal) : "
                      f"{escape(', '.join(result.segments_put_back))}.", highlight=False)
    if result.keys.restored:
        console.print(f"Clés remises (absentes) : {escape(', '.join(result.keys.restored))}.",
                      highlight=False)
    if result.keys.differing:
        console.print(f"[yellow]Clés différentes de la sauvegarde, conservées (non écrasées) : "
                      f"{escape(', '.join(result.keys.differing))}.[/yellow]", highlight=False)
    console.print(f"Restauration inscrite au journal d'audit (segment {escape(result.entry_segment)}, "
                  f"entrée n° {result.entry_seq}). Toutes les sessions sont fermées : chacun se "
                  "reconnecte.", highlight=False)
