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


@app.command("diff")
def diff(
    first: Annotated[Path, typer.Argument(help="ANCIEN dossier ; seul, c'est le NOUVEAU, comparé "
                                               "à la politique déployée")],
    second: Annotated[Path | None, typer.Argument(help="NOUVEAU dossier")] = None,
) -> None:
    """What deploying NEW instead of OLD would grant or withdraw, to whom — before deploying.
    With one directory, OLD is the deployed policy (CROSSHUB_RULES_DIR, else the packaged one).

    Lists the files changed, per role the actions (``may:``) gained or lost, and per caller
    agency × role × handling code × originating agency the read level before and after
    (complet / expurgé / signalement / aucun), decided by the access engine on representative
    leads (no restriction, embargo or grant); and the retention periods that change.

    Exit code: 0 when no right changes, 1 when some right changes (granted or withdrawn),
    2 when a directory is invalid."""
    from hub.policy_deployments import rules_directory
    from hub.settings import Settings
    from policies.diff import OTHER_KINDS, diff_policies, file_digests
    from policies.rulebook import load_rulebook

    old_dir, new_dir = (first, second) if second is not None else (
        rules_directory(Settings()), first)
    try:
        old, new = load_rulebook(old_dir), load_rulebook(new_dir)
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    result = diff_policies(old.policy, new.policy, file_digests(old_dir), file_digests(new_dir),
                           old.retention, new.retention)
    console.print(f"Politique déployée : {old_dir}\nPolitique proposée : {new_dir}")
    if result.files:
        files = Table("fichier", "avant", "après", title="Fichiers modifiés")
        for f in result.files:
            files.add_row(f.name, (f.old or "absent")[7:19], (f.new or "supprimé")[7:19])
        console.print(files)
    if result.permissions:
        perms = Table("rôle", "change", "action", "autorisation", title="Autorisations (may:)")
        for p in result.permissions:
            perms.add_row(p.role, "[green]+ accordée[/green]" if p.gained else "[red]− retirée[/red]",
                          p.action.value, p.label_fr)
        console.print(perms)
    if result.access:
        access = Table("service", "rôle", "code", "émetteur", "nature", "avant", "après", "sens",
                       title="Accès aux pistes (moteur de décision, pistes représentatives)")
        for a in result.access:
            access.add_row(a.caller_agency, a.role, a.handling_code, a.originating_agency,
                           {None: "toutes", OTHER_KINDS: "les autres"}.get(a.kind, a.kind),
                           a.old.label_fr, a.new.label_fr,
                           "[green]élargi[/green]" if a.widened else "[red]restreint[/red]")
        console.print(access)
    if result.retention:
        kept = Table("règle", "avant", "après", title="Durées de conservation (mois)")
        for r in result.retention:
            kept.add_row(r.rule_id, str(r.old_months) if r.old_months is not None else "—",
                         str(r.new_months) if r.new_months is not None else "supprimée")
        console.print(kept)
    if not result.rights_changed:
        console.print("Aucun droit ne change" + (" (fichiers modifiés ci-dessus)." if result.files
                                                 else " : politiques identiques."))
        raise typer.Exit(0)
    console.print(f"{len(result.permissions)} autorisation(s) et {len(result.access)} niveau(x) "
                  "d'accès changent.")
    raise typer.Exit(1)


@app.command("deploy")
def deploy(
    by: Annotated[str, typer.Option("--by", help="Qui déploie (nommé dans le journal d'audit)")],
    directory: Annotated[Path | None, typer.Option(
        help="Dossier de politique déployé (défaut : CROSSHUB_RULES_DIR, sinon celui du paquet)")] = None,
) -> None:
    """Record the deployment of the policy files (checked first): if their digests changed since
    the last record, the audit trail gets an entry naming the files, old and new digests and who
    deployed. Hubs started afterwards find nothing new to record."""
    from hub.cli.common import graph_session
    from hub.jobs.standalone import trail_for
    from hub.policy_deployments import record_policy_files
    from hub.settings import Settings
    from policies.diff import changed_files
    from policies.rulebook import load_rulebook

    settings = Settings()
    if directory is not None:
        settings = settings.model_copy(update={"rules_dir": directory})
    try:
        load_rulebook(settings.rules_dir)
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from exc
    with graph_session(settings) as (settings, graph), trail_for(settings, None) as trail:
        change = record_policy_files(graph, trail, settings, deployed_by=by, origin="cli")
    if change is None:
        console.print("Politique inchangée depuis le dernier déploiement enregistré.")
        return
    names = [c.name for c in changed_files(change.old_files, change.files)]
    console.print(f"Déploiement enregistré par {change.deployed_by} : {len(names)} fichier(s) "
                  f"modifié(s) ({', '.join(names)}), empreinte {change.combined[7:19]}.")
