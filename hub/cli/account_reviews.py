"""``crosshub users review``: the periodic access review from the command line — show the
current review (every account with its role, agency and last use, and the decision taken), open
one now, confirm or disable an account, and run the daily accounts job on demand (inactivity,
review due, review overdue). Each change is appended to the audit trail (a CLI segment, ADR 0012)
before it commits, named after ``--by``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer
from rich.table import Table

from hub.cli.common import console, err_console, graph_session

app = typer.Typer(help="Revue périodique des accès : liste, ouverture, décisions.",
                  no_args_is_help=True)

By = Annotated[str | None, typer.Option("--by", help="Qui décide (journal d'audit)")]


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%d/%m/%Y %H:%M") if value else "jamais"


def system_user() -> str:
    """Who runs the command, when ``--by`` does not say: the system account's name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): visibly unknown
        return "inconnu"


def _operator(by: str | None):  # noqa: ANN202
    from hub.audit.account_events import operator_named

    return operator_named(by or system_user())


@app.command("show")
def show() -> None:
    """The latest review: each account with its role, agency, last use and decision."""
    from graph.identity import reviews

    with graph_session() as (settings, graph):
        review = reviews.latest_review(graph)
        items = reviews.review_items(graph, review.review_id) if review else []
    if review is None:
        console.print("Aucune revue des accès n'a encore été ouverte.")
        return
    state = "close" if review.closed_at else ("échue" if review.flagged_at else "ouverte")
    console.print(f"Revue [bold]{review.review_id}[/bold] ({state}) ouverte le "
                  f"{_when(review.opened_at)}, à finir avant le {_when(review.due_at)} : "
                  f"{review.pending} compte(s) sur {review.accounts} sans décision.")
    table = Table("compte", "service", "rôle", "dernière utilisation", "décision", "par")
    for i in items:
        table.add_row(i.user_id, i.agency, i.role, _when(i.last_used_at),
                      {"confirmed": "confirmé", "disabled": "désactivé"}.get(i.decision or "", "—"),
                      i.decided_by or "")
    console.print(table)


@app.command("open")
def open_now(by: By = None) -> None:
    """Open a review now (the daily job opens one when the policy's period has passed)."""
    from hub.jobs.accounts import open_review
    from hub.jobs.standalone import trail_for
    from policies.rulebook import load_rulebook

    actor = _operator(by)
    with graph_session() as (settings, graph), trail_for(settings, None) as trail:
        rules = load_rulebook(settings.rules_dir).accounts
        review = open_review(graph, trail, rules, datetime.now(UTC), opened_by=actor.user_id,
                             origin="cli", actor=actor)
    console.print(f"Revue [bold]{review.review_id}[/bold] ouverte : {review.accounts} compte(s) "
                  f"à revoir avant le {_when(review.due_at)}.")


@app.command("decide")
def decide(
    user_id: Annotated[str, typer.Argument(help="Compte revu (service:nom)")],
    decision: Annotated[str, typer.Argument(help="confirm | disable")],
    review_id: Annotated[str | None, typer.Option(help="Revue (défaut : la dernière)")] = None,
    by: By = None,
) -> None:
    """Confirm an account, or disable it (its rights end at once)."""
    from graph.identity import reviews
    from hub.audit.account_events import access_review_event, account_changed
    from hub.contract.errors import CrossHubError
    from hub.jobs.standalone import trail_for

    chosen: Literal["confirmed", "disabled"] | None = {
        "confirm": "confirmed", "disable": "disabled"}.get(decision)  # type: ignore[assignment]
    if chosen is None:
        err_console.print("[red]Décision : « confirm » ou « disable »[/red]")
        raise typer.Exit(2)
    actor = _operator(by)
    with graph_session() as (settings, graph), trail_for(settings, None) as trail:
        latest = reviews.latest_review(graph) if review_id is None else None
        rid = review_id or (latest.review_id if latest else None)
        if rid is None:
            err_console.print("[red]Aucune revue des accès ouverte[/red]")
            raise typer.Exit(1)

        def log(item, change) -> None:  # noqa: ANN001
            events = [access_review_event("cli", actor, event=f"access_review_{item.decision}",
                                          review_id=rid, user_id=user_id)]
            if change is not None:
                events += account_changed("cli", actor, change, {"review_id": rid})
            trail.append_many(events)

        try:
            reviews.decide_item(graph, rid, user_id, decision=chosen, by=actor.user_id,
                                now=datetime.now(UTC), before_commit=log)
        except CrossHubError as exc:
            err_console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from None
    console.print(f"{user_id} : {'accès confirmé' if chosen == 'confirmed' else 'compte désactivé'} "
                  f"(revue {rid}).")


@app.command("sweep")
def sweep() -> None:
    """Run the daily accounts job now: disable accounts unused past their role's period, open
    the review if due, flag an overdue one."""
    from hub.jobs.accounts import run_accounts_job
    from hub.jobs.standalone import trail_for
    from policies.rulebook import load_rulebook

    with graph_session() as (settings, graph), trail_for(settings, None) as trail:
        rules = load_rulebook(settings.rules_dir).accounts
        report = run_accounts_job(graph, trail, rules,
                                  datetime.now(UTC), origin="cli")
    console.print(f"{len(report.disabled)} compte(s) désactivé(s) pour inactivité"
                  + (f" : {', '.join(report.disabled)}" if report.disabled else "") + " ; "
                  + (f"revue {report.review_opened} ouverte" if report.review_opened
                     else "pas de nouvelle revue") + " ; "
                  + (f"revue(s) échue(s) signalée(s) : {', '.join(report.reviews_flagged)}"
                     if report.reviews_flagged else "aucune revue échue") + ".")
