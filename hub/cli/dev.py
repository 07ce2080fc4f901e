"""``crosshub dev``: the whole hub on this machine with demo data, in one command.

Starts the local Neo4j (unless ``NEO4J_URI`` points elsewhere), applies the schema, loads the
demo leads with a progress bar, creates one demo user per agency and role, prints the URL and
the demo tokens, and serves the API on loopback — in this process, or with ``--workers N`` as N
hub processes behind one port, exactly as ``crosshub serve`` runs them in production.
``--federation N``: N neighbouring CROSS and an OFAST antenna instead (hub/cli/dev_federation.py).
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import timedelta
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from hub.cli.common import (
    DEMO_AGENCIES,
    DEMO_ROLES,
    console,
    enrol_demo_approvers,
    print_second_factors,
)



def dev(
    port: Annotated[int, typer.Option(help="Port HTTP (127.0.0.1)")] = 8000,
    leads: Annotated[int, typer.Option(help="Nombre de pistes de démonstration")] = 600,
    seed: Annotated[int, typer.Option(help="Graine du générateur")] = 2025,
    reset: Annotated[bool, typer.Option(help="Vider le graphe avant de charger")] = False,
    serve: Annotated[bool, typer.Option(help="Servir l'API après le chargement")] = True,
    via_connectors: Annotated[bool, typer.Option(
        help="Faire passer aussi les données d'exemple des sources par les quatre connecteurs "
             "(fichiers CSV police, flux gendarmerie, XML douanes, plateforme citoyenne)")] = False,
    workers: Annotated[int, typer.Option(
        min=1, max=16, help="Processus du hub derrière le même port (comme `crosshub serve`)")] = 1,
    intake: Annotated[bool, typer.Option(
        help="Servir aussi la saisie des pistes (connecteur de saisie, ADR 0014) sur le port "
             "suivant de 100 (un seul processus du hub)")] = False,
    oidc: Annotated[bool, typer.Option(
        help="Démarrer aussi un Keycloak local (Java 21+, ADR 0021) : chaque service de "
             "démonstration se connecte avec le compte de son propre fournisseur d'identité")] = False,
    federation: Annotated[int, typer.Option(
        min=0, max=5, help="Démarrer N CROSS voisins (Doubs, Jura, Haute-Saône, Belfort, "
                           "Côte-d'Or ; N ≥ 2), chacun avec son Neo4j, et une antenne OFAST, avec "
                           "des données de démonstration qui franchissent les limites "
                           "(ADR 0024)")] = 0,
) -> None:
    """Run the hub locally with demo data."""
    import uvicorn

    if federation:
        if federation < 2:
            console.print("[red]--federation : au moins 2 CROSS[/red]")
            raise typer.Exit(2)
        from hub.cli.dev_federation import run_federation_demo
        from hub.settings import Settings

        run_federation_demo(federation, leads=leads, seed=seed,
                            base_dir=Settings().data_dir / "federation-demo")
        return

    from connectors.demo.story import generate_demo_leads
    from graph import identity
    from graph import sessions as graph_sessions
    from graph.driver import open_driver, reset_database, wait_ready
    from graph.handle import Graph
    from graph.leads import write_leads
    from graph.server import LocalNeo4j
    from graph.setup import apply_schema
    from hub.app import create_app
    from hub.settings import Settings
    from policies.auth import passwords

    settings = Settings()
    if settings.uses_local_neo4j:
        with console.status("Démarrage de Neo4j (premier lancement : téléchargement via Maven)…"):
            endpoint = LocalNeo4j(settings.graph_config).start()
        console.print(f"Neo4j local : [bold]{endpoint.uri}[/bold]")
    driver = open_driver(settings.graph_config)
    db = settings.neo4j_database
    graph = Graph(driver, db)
    try:
        wait_ready(graph, 60)
        apply_schema(graph)
        if reset:
            reset_database(graph)
        demo = generate_demo_leads(seed=seed, n=leads)
        chunk = 200
        with Progress(TextColumn("Chargement des pistes de démonstration"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("demo", total=len(demo))
            for start in range(0, len(demo), chunk):
                batch = demo[start : start + chunk]
                write_leads(graph, batch, radius_m=settings.location_merge_radius_m,
                            mark_for_triage=True)  # triaged by the hub once it serves
                progress.advance(task, len(batch))
        tokens: list[tuple[str, str, str]] = []
        for agency in DEMO_AGENCIES:
            for role in DEMO_ROLES:
                user = identity.upsert_user(graph, agency=agency, role=role,
                                            name=f"demo-{role}",
                                            contact=f"Permanence CROSS — {agency}")
                issued = identity.issue_token(graph, user.user_id, ttl=timedelta(days=7))
                # A fresh random password per run, for signing in from the browser; printed
                # once, stored only as its argon2id hash.
                password = secrets.token_urlsafe(12)
                graph_sessions.set_password_hash(graph, user.user_id,
                                                 passwords.hash_password(password))
                tokens.append((user.user_id, password, issued.token))
        second_factors = enrol_demo_approvers(settings, graph, [uid for uid, _, _ in tokens])
    finally:
        driver.close()
    url = f"http://127.0.0.1:{port}"
    console.print(f"Application web : [bold]{url}[/bold] — se connecter avec un identifiant et "
                  "son mot de passe ci-dessous.")
    console.print("Utilisateurs de démonstration : identifiant, mot de passe (navigateur), "
                  "jeton d'API (valable 7 jours) :")
    width = max(len(uid) for uid, _, _ in tokens)
    for uid, password, token in tokens:
        # Plain print: a rich table would cut the tokens to the terminal's width.
        print(f"  {uid:<{width}}  {password}  {token}")
    print_second_factors(second_factors)
    if oidc:
        settings = _start_demo_sso(settings, url)
    console.print(f"API : [bold]{url}/api/v1[/bold]  —  documentation : {url}/docs")
    console.print(f'Exemple : curl -H "Authorization: Bearer <jeton>" '
                  f"{url}/api/v1/entities/vehicle/<immatriculation>/network?depth=2")
    if not (serve or via_connectors):
        return
    if workers > 1:
        _serve_workers(settings, url, port, workers, seed, via_connectors, serve)
        return
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="info"))
    thread = threading.Thread(target=server.run, name="hub", daemon=True)
    thread.start()
    try:
        if via_connectors or intake:
            while not server.started:
                if not thread.is_alive():
                    raise typer.Exit(1)
                time.sleep(0.1)
        if intake:
            from hub.cli.intake import start_for_dev

            start_for_dev(settings, url, port + 100)
        if via_connectors:
            _load_via_connectors(settings, url, seed)
        if serve:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(30)


def _start_demo_sso(settings, url: str):
    """Keycloak with one realm per demo agency; the settings pointed at it. Stopped at exit."""
    import atexit

    from hub.dev import demo_sso

    with console.status("Démarrage de Keycloak (fournisseur d'identité de démonstration)…"):
        sso = demo_sso.start(settings.data_dir, url, DEMO_AGENCIES)
    atexit.register(sso.stop)
    console.print(f"Connexion par le compte de son service (Keycloak {sso.server.base_url}) : "
                  "bouton « Se connecter avec … » de la page de connexion, puis :")
    for agency, username, password in sso.people:
        print(f"  {agency:<12} {username:<17} {password}")
    return settings.model_copy(update={"identity_providers_file": sso.providers_file})


def _serve_workers(settings, url: str, port: int, workers: int, seed: int, via_connectors: bool,
                   serve: bool) -> None:
    """N hub processes on the port (``crosshub serve``'s way), in the foreground: uvicorn's
    supervisor needs the main thread for its signals. The demo connectors push from a thread
    once a worker answers; without ``--serve`` the supervisor is then stopped as SIGTERM would."""
    import os
    import signal

    import httpx

    from hub.cli.serve import run_workers

    def load_then_maybe_stop() -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        try:
            _load_via_connectors(settings, url, seed)
        finally:
            if not serve:
                os.kill(os.getpid(), signal.SIGTERM)

    if via_connectors:
        threading.Thread(target=load_then_maybe_stop, name="demo-connectors", daemon=True).start()
    console.print(f"{workers} processus du hub sur le port {port} (un graphe, un journal par "
                  "processus) ; Ctrl-C arrête proprement.")
    run_workers(host="127.0.0.1", port=port, workers=workers, log_level="info", log_format="text")


def _load_via_connectors(settings, url: str, seed: int) -> None:
    """Register the four demo connectors (key pair, key, token) and run each once against the
    served hub: source files and feed → connector → signed push → hub."""
    from connectors.demo.pipeline import DEMO_CONNECTORS, run_demo_connectors
    from graph import identity
    from graph.driver import open_driver
    from graph.handle import Graph
    from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem

    db = settings.neo4j_database
    keys = settings.keys_dir / "demo-connectors"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    credentials = {}
    driver = open_driver(settings.graph_config)
    graph = Graph(driver, db)
    try:
        for name, agency in DEMO_CONNECTORS.items():
            key_path = keys / f"{name}.ed25519.pem"
            pem = generate_keypair(key_path, overwrite=True)
            identity.register_connector_key(graph, identity.ConnectorKey(
                key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=agency,
                public_key_pem=pem))
            user = identity.upsert_user(graph, agency=agency, role="connector", name=name)
            token = identity.issue_token(graph, user.user_id, ttl=timedelta(days=7),
                                         purpose="connector").token
            credentials[name] = (token, key_path)
    finally:
        driver.close()
    runs = run_demo_connectors(url, credentials, settings.data_dir / "demo-connectors", seed)
    for name, run in runs.items():
        console.print(f"Connecteur {name} : {run.count_in} lus, {run.count_pushed} versés, "
                      f"{run.count_quarantined} en quarantaine ({run.status})")
