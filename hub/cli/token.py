"""``crosshub token``: create (printed once, stored hashed), revoke and list API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from graph import identity
from hub.cli.common import console, err_console, graph_session
from hub.contract.lead import Agency
from policies.models import Role

app = typer.Typer(help="Jetons d'accès à l'API (affichés une seule fois, conservés hachés).",
                  no_args_is_help=True)

ROLES = tuple(role.value for role in Role)  # the closed vocabulary of policies.models


@app.command("create")
def create(
    agency: Annotated[Agency, typer.Option(help="Service de rattachement")],
    role: Annotated[str, typer.Option(help=f"Rôle : {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="Identifiant de l'utilisateur ou du connecteur")],
    ttl_days: Annotated[int | None, typer.Option(help="Durée de validité en jours")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact fonctionnel (hit/no-hit)")] = None,
) -> None:
    """Create a user (or connector identity) if needed and issue a token for it."""
    if role not in ROLES:
        err_console.print(f"[red]Rôle inconnu « {role} »[/red] : {', '.join(ROLES)}")
        raise typer.Exit(2)
    with graph_session() as (settings, graph):
        graph = graph
        user = identity.upsert_user(graph, agency=agency.value, role=role, name=name,
                                    contact=contact)
        issued = identity.issue_token(graph, user.user_id,
                                      ttl=timedelta(days=ttl_days) if ttl_days else None)
    err_console.print(f"Jeton émis pour [bold]{user.user_id}[/bold] ({role}) — "
                      "il ne sera plus affiché :")
    # The token alone on stdout, so it can be captured by a script.
    print(issued.token)


@app.command("revoke")
def revoke(token: Annotated[str, typer.Argument(help="Le jeton à révoquer")]) -> None:
    with graph_session() as (settings, graph):
        if not identity.revoke_token(graph, token):
            err_console.print("[yellow]Jeton inconnu ou déjà révoqué[/yellow]")
            raise typer.Exit(1)
    console.print("Jeton révoqué.")


@app.command("users")
def users() -> None:
    """List users and connector identities."""
    with graph_session() as (settings, graph):
        rows = identity.list_users(graph)
    table = Table("utilisateur", "service", "rôle", "désactivé")
    for u in rows:
        table.add_row(u.user_id, u.agency, u.role, "oui" if u.disabled else "")
    console.print(table)
