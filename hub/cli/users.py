"""``crosshub users``: people's accounts — create with a password (a joiner, in the audit trail),
change the password, disable, list; a mover's new role or agency (``move``) and a leaver
(``leave``), each ending every right of the old account at once (graph/identity/lifecycle.py,
ADR 0029); the periodic access review (``review``, hub/cli/account_reviews.py).

Passwords are typed twice without echo, or read from standard input (``--password-stdin``) for
scripts; they are checked against the password policy and stored as argon2id hashes only.

Connectors are not people: they get API tokens and signing keys (``crosshub token``,
``crosshub connectors``), never a password.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from graph import identity
from graph import sessions as graph_sessions
from hub.cli.account_reviews import app as reviews_app
from hub.cli.account_reviews import system_user as _system_user
from hub.cli.common import console, err_console, graph_session
from hub.contract.errors import NotFound
from hub.contract.lead import Agency
from policies.auth import passwords
from policies.auth.providers import INTERACTIVE_ROLES
from policies.models import Role

app = typer.Typer(help="Comptes des personnes : création, mot de passe, désactivation, liste, "
                       "mutation, départ, revue des accès.", no_args_is_help=True)

By = Annotated[str | None, typer.Option(
    "--by", help="Qui fait la modification (journal d'audit ; défaut : le compte système)")]
PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Lire le mot de passe sur l'entrée standard (première ligne)")]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            err_console.print("[red]Aucun mot de passe reçu sur l'entrée standard[/red]")
            raise typer.Exit(2)
        return password
    return typer.prompt("Mot de passe", hide_input=True,
                        confirmation_prompt="Confirmer le mot de passe")


def _checked_hash(password: str, *, name: str, user_id: str) -> str:
    problems = passwords.password_problems(password, name=name, user_id=user_id)
    if problems:
        err_console.print("[red]Mot de passe refusé :[/red]")
        for problem in problems:
            err_console.print(f"  – {problem}")
        raise typer.Exit(2)
    return passwords.hash_password(password)


@app.command("create")
def create(
    agency: Annotated[Agency, typer.Option(help="Service de rattachement")],
    role: Annotated[Role, typer.Option(help="Rôle")],
    name: Annotated[str, typer.Option(help="Nom de connexion (l'identifiant sera service:nom)")],
    contact: Annotated[str | None, typer.Option(help="Contact fonctionnel (hit/no-hit)")] = None,
    password_stdin: PasswordStdin = False,
    by: By = None,
) -> None:
    """Create a person's account with a password (a joiner: recorded in the audit trail)."""
    by = by or _system_user()
    if role not in INTERACTIVE_ROLES:
        err_console.print(f"[red]Le rôle « {role.value} » ne se connecte pas par mot de passe[/red] : "
                          "un connecteur reçoit un jeton (« crosshub token create »).")
        raise typer.Exit(2)
    name = name.strip()
    user_id = identity.user_id_for(agency.value, name)
    if not name:
        err_console.print("[red]Nom vide[/red]")
        raise typer.Exit(2)
    with graph_session() as (settings, graph):
        try:
            identity.get_user(graph, user_id)
        except NotFound:
            pass
        else:
            err_console.print(f"[red]L'utilisateur {user_id} existe déjà[/red] : "
                              "« crosshub users set-password » pour changer son mot de passe.")
            raise typer.Exit(3)
        password_hash = _checked_hash(_read_password(password_stdin), name=name, user_id=user_id)
        user = identity.upsert_user(graph, agency=agency.value, role=role.value, name=name,
                                    contact=contact, password_hash=password_hash)
        from hub.audit.account_events import account_created, operator_named
        from hub.jobs.standalone import trail_for

        with trail_for(settings, None) as trail:  # a joiner enters the trail
            trail.append(account_created("cli", operator_named(by), user))
    console.print(f"Utilisateur [bold]{user_id}[/bold] créé ({role.value}).")


@app.command("set-password")
def set_password(
    user_id: Annotated[str, typer.Argument(help="Identifiant service:nom")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password; the user's open sessions are closed and failed logins forgiven."""
    with graph_session() as (settings, graph):
        graph = graph
        try:
            user = identity.get_user(graph, user_id)
        except NotFound:
            err_console.print(f"[red]Utilisateur inconnu : {user_id}[/red]")
            raise typer.Exit(1) from None
        if user.role not in INTERACTIVE_ROLES:
            err_console.print(f"[red]Le rôle « {user.role} » ne se connecte pas par mot de passe[/red]")
            raise typer.Exit(2)
        password_hash = _checked_hash(_read_password(password_stdin), name=user.name,
                                      user_id=user_id)
        graph_sessions.set_password_hash(graph, user_id, password_hash)
        closed = graph_sessions.revoke_user_sessions(graph, user_id)
        from hub.auth.throttle import keyring_for

        graph_sessions.clear_login_attempts(graph, keyring_for(settings.keys_dir).account(user_id))
    console.print(f"Mot de passe de [bold]{user_id}[/bold] changé ; {closed} session(s) fermée(s).")


@app.command("disable")
def disable(user_id: Annotated[str, typer.Argument(help="Identifiant service:nom")],
            by: By = None) -> None:
    """Disable an account: every right it held ends at once (sessions, API tokens, guest grants,
    pending and approved disclosures), recorded in the audit trail like « leave »."""
    from graph.identity import lifecycle

    _account_change(user_id, by, lambda graph, actor_id, now, log: lifecycle.disable_account(
        graph, user_id, reason=lifecycle.DISABLED, by=actor_id, now=now, before_commit=log))
    console.print(f"Utilisateur [bold]{user_id}[/bold] désactivé.")


@app.command("reset-second-factor")
def reset_second_factor(user_id: Annotated[str, typer.Argument(help="Identifiant service:nom")]
                        ) -> None:
    """Forget a person's second factor (lost phone): they enrol again at their next sign-in.
    Audited in a trail segment of the CLI's own (ADR 0012), like the API's reset."""
    from graph.identity import second_factor
    from hub.audit.events import authentication
    from hub.jobs.standalone import trail_for
    from policies.audit import SYSTEM_ACTOR, DecisionOutcome

    with graph_session() as (settings, graph):
        try:
            had = second_factor.reset(graph, user_id)
        except NotFound:
            err_console.print(f"[red]Utilisateur inconnu : {user_id}[/red]")
            raise typer.Exit(1) from None
        with trail_for(settings, None) as trail:
            trail.append(authentication(
                "cli", SYSTEM_ACTOR, event="second_factor_reset", outcome=DecisionOutcome.ALLOW,
                rule_id="auth-second-factor-reset-cli", user_id=user_id,
                details={"had_second_factor": had}))
    console.print(f"Second facteur de [bold]{user_id}[/bold] réinitialisé"
                  + ("" if had else " (aucun n'était enrôlé)")
                  + " : il devra en enrôler un nouveau (page « Second facteur »).")


@app.command("list")
def list_users() -> None:
    """List accounts: role, whether a password is set, disabled, open sessions."""
    with graph_session() as (settings, graph):
        rows = identity.list_users(graph)
        open_sessions = graph_sessions.active_session_counts(graph)
    table = Table("utilisateur", "nom", "service", "rôle", "mot de passe", "désactivé",
                  "sessions ouvertes")
    for u in rows:
        table.add_row(u.user_id, u.name, u.agency, u.role, "oui" if u.password_hash else "non",
                      "oui" if u.disabled else "", str(open_sessions.get(u.user_id, 0)))
    console.print(table)


def _account_change(user_id: str, by: str | None, change_fn: Callable[..., Any]) -> Any:
    """Run a lifecycle change with the trail open (its entry appended before the commit)."""
    from datetime import UTC, datetime

    from hub.audit.account_events import account_changed, operator_named
    from hub.contract.errors import CrossHubError
    from hub.jobs.standalone import trail_for

    actor = operator_named(by or _system_user())
    with graph_session() as (settings, graph), trail_for(settings, None) as trail:
        try:
            change = change_fn(graph, actor.user_id, datetime.now(UTC),
                               lambda c: trail.append_many(account_changed("cli", actor, c)))
        except CrossHubError as exc:
            err_console.print(f"[red]{exc.message}[/red]")
            for d in exc.details:
                err_console.print(f"  {d.get('field')} — {d.get('reason')}")
            raise typer.Exit(1 if isinstance(exc, NotFound) else 2) from None
    e = change.ended
    console.print(f"{e.sessions} session(s), {e.api_tokens} jeton(s) d'API, "
                  f"{len(e.guest_grants)} accès d'invité, {len(e.requests_declined)} demande(s) "
                  f"en attente et {len(e.disclosures_ended)} communication(s) révoqué(s).")
    return change


@app.command("move")
def move(
    user_id: Annotated[str, typer.Argument(help="Identifiant service:nom")],
    agency: Annotated[Agency | None, typer.Option(help="Nouveau service (défaut : inchangé)")] = None,
    role: Annotated[Role | None, typer.Option(help="Nouveau rôle (défaut : inchangé)")] = None,
    by: By = None,
) -> None:
    """A mover: another role and/or agency. Every right of the old ones ends at once (sessions,
    API tokens, guest grants, pending and approved disclosures); another agency is a new account
    service:nom without a password (« users set-password »), the old one disabled."""
    from graph.identity import lifecycle

    change = _account_change(user_id, by, lambda graph, actor_id, now, log: lifecycle.move_account(
        graph, user_id, agency=agency.value if agency else None, role=role.value if role else None,
        by=actor_id, now=now, before_commit=log))
    console.print(f"[bold]{user_id}[/bold] ({change.old_agency}, {change.old_role}) → "
                  f"[bold]{change.new_user_id}[/bold] ({change.new_agency}, {change.new_role}).")
    if change.new_user_id != user_id:
        console.print(f"Ancien compte désactivé ; définir le mot de passe du nouveau : "
                      f"« crosshub users set-password {change.new_user_id} ».")


@app.command("leave")
def leave(user_id: Annotated[str, typer.Argument(help="Identifiant service:nom")],
          by: By = None) -> None:
    """A leaver: the account is disabled and every right it held ends at once (recorded in the
    audit trail as a departure)."""
    from graph.identity import lifecycle

    _account_change(user_id, by, lambda graph, actor_id, now, log: lifecycle.disable_account(
        graph, user_id, reason=lifecycle.LEFT, by=actor_id, now=now, before_commit=log))
    console.print(f"Compte [bold]{user_id}[/bold] désactivé (départ).")


app.add_typer(reviews_app, name="review")
