"""``crosshub policy``: validate the policy files, and explain one decision for one user and lead."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import console, err_console
from hub.contract.errors import ConfigurationError, NotFound

app = typer.Typer(help="Politique d'accès : vérification et explication des décisions.",
                  no_args_is_help=True)


@app.command("check")
def check(directory: Annotated[Path | None, typer.Option(help="Dossier de politique (défaut : celui du paquet)")] = None) -> None:
    """Validate every rules file (access policy, triage, deconfliction, retention); on error,
    name the file and line."""
    from policies.auth.oidc import IDENTITY_PROVIDERS_FILE, load_identity_providers
    from policies.rulebook import load_rulebook

    try:
        policy = load_rulebook(directory).policy
        # The agencies' OIDC providers (ADR 0021), when the directory has the file.
        providers = (load_identity_providers(directory / IDENTITY_PROVIDERS_FILE)
                     if directory is not None and (directory / IDENTITY_PROVIDERS_FILE).is_file()
                     else load_identity_providers() if directory is None else None)
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        for d in exc.details:
            err_console.print(f"  {d.get('file')}:{d.get('line')} {d.get('field')} — {d.get('reason')}")
        raise typer.Exit(1) from exc
    console.print(f"Politique valide : {len(policy.rules)} règles, {len(policy.roles)} rôles, "
                  f"{len(policy.agencies)} services (empreinte {policy.digest.split(':')[-1][:12]}).")
    if providers is not None:
        console.print(f"Fournisseurs d'identité : {len(providers.providers)} "
                      f"({', '.join(p.id for p in providers.providers) or 'aucun'}).")


@app.command("explain")
def explain(
    user: Annotated[str, typer.Option(help="Identifiant de l'utilisateur (service:nom)")],
    lead: Annotated[str, typer.Option(
        help="Identifiant public de la piste (L-…), ou sa référence source « service:référence »")],
) -> None:
    """Print the decision for USER reading LEAD now, the rule that matched and why. LEAD is the
    lead's public id, or its source reference as ``agency:source_ref`` (what the connector
    sent), resolved on the hub side."""
    from graph import identity
    from graph.grants import active_grants_for, lead_marking
    from graph.leads import public_lead_ids
    from hub.access import caller_of
    from hub.cli.common import graph_session
    from hub.contract.lead import Agency, source_key
    from hub.settings import Settings
    from policies.engine import decide
    from policies.rulebook import load_rulebook

    now = datetime.now(UTC)
    with graph_session() as (settings, graph):
        try:
            principal = identity.get_user(graph, user)
            lead_id = lead
            agency, sep, ref = lead.partition(":")
            if sep and ref and agency in {a.value for a in Agency}:
                key = source_key(agency, ref)
                lead_id = public_lead_ids(graph, [key]).get(key, lead)
            marking = lead_marking(graph, lead_id)
            if marking is None:
                raise NotFound(f"piste inconnue : {lead}")
        except NotFound as exc:
            err_console.print(f"[red]{exc.message}[/red]")
            raise typer.Exit(1) from exc
        grants = active_grants_for(graph, principal.user_id, now)
    decision = decide(caller_of(principal), marking, load_rulebook(Settings().rules_dir).policy, grants,
                      now=now)
    table = Table(show_header=False)
    table.add_row("utilisateur", f"{principal.user_id} ({principal.role}, {principal.agency})")
    shown = marking.lead_id if marking.lead_id == lead else f"{marking.lead_id} ({lead})"
    table.add_row("piste", f"{shown} ({marking.originating_agency.value}, {marking.handling_code.value}, "
                           f"{marking.kind.value})")
    table.add_row("décision", decision.outcome.value)
    table.add_row("règle", decision.rule_id)
    table.add_row("motif", decision.reason_fr)
    if decision.hidden_properties:
        table.add_row("masqué", ", ".join(decision.hidden_properties))
    if decision.contact_fr:
        table.add_row("contact", decision.contact_fr)
    console.print(table)
