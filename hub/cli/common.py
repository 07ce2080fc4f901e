"""What every CLI command that touches the graph needs: the settings and a ready graph handle."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from graph.driver import open_driver, wait_ready
from graph.handle import Graph
from graph.setup import apply_schema
from hub.settings import Settings

console = Console()
err_console = Console(stderr=True)

# The demo's accounts: one per agency and role (``crosshub dev``, ``crosshub dev --federation``).
DEMO_AGENCIES = ("police", "gendarmerie", "douanes")
DEMO_ROLES = ("analyst", "coordinator", "guest_referent", "auditor", "administrator")


@contextmanager
def graph_session(settings: Settings | None = None) -> Iterator[tuple[Settings, Graph]]:
    settings = settings or Settings()
    driver = open_driver(settings.graph_config)
    try:
        graph = Graph(driver, settings.neo4j_database)
        wait_ready(graph, 60)
        apply_schema(graph)
        yield settings, graph
    finally:
        driver.close()


def enrol_demo_approvers(settings, graph, user_ids: list[str]) -> list[tuple[str, str, str]]:
    """The demo users who may decide disclosures or export (policies/data/second_factor.yaml)
    get a second factor at once, new each run: (user id, key, otpauth URI), for the console
    only — never written to a file."""
    from datetime import UTC, datetime

    from hub.auth.second_factor import enrol_directly
    from policies.permissions import permission
    from policies.rulebook import load_rulebook

    rulebook = load_rulebook(settings.rules_dir)
    needing = {rule.action for rule in rulebook.second_factor.step_up}
    enrolled = []
    for uid in user_ids:
        role = uid.split(":", 1)[1].removeprefix("demo-")
        if any(permission(rulebook.policy, role, action).allowed for action in needing):
            secret, uri = enrol_directly(graph, settings.keys_dir, uid, rulebook.second_factor,
                                         datetime.now(UTC))
            enrolled.append((uid, str(secret), uri))
    return enrolled


def print_second_factors(enrolled: list[tuple[str, str, str]]) -> None:
    console.print("Second facteur (TOTP) des utilisateurs qui décident des communications ou "
                  "exportent — exigé par ces opérations : ajouter la clé (ou l'URI otpauth) dans "
                  "une application d'authentification, ou obtenir un code par "
                  "[bold]python -c \"import pyotp; print(pyotp.TOTP('<clé>').now())\"[/bold] :")
    for uid, secret, uri in enrolled:
        print(f"  {uid}  {secret}  {uri}")
