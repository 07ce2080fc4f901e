"""``crosshub intake serve``: the intake connector's web face (connectors/intake, ADR 0014), a
process of its own next to the hub — it holds the CROSS linkage key, so a name a person types is
pseudonymized there and never reaches the hub. Settings: ``CROSSHUB_INTAKE_*`` (the connector's
identity as for any connector, plus ``HOST``, ``PORT``, ``CSRF_SECRET``, ``SECURE_COOKIE``)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import err_console

app = typer.Typer(help="Connecteur de saisie : formulaire et import de tableurs pour les services "
                       "membres sans connecteur.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut : CROSSHUB_INTAKE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port HTTP (défaut : CROSSHUB_INTAKE_PORT)")] = None,
) -> None:
    """Serve the intake pages (sign-in through the hub, form, spreadsheet import)."""
    import uvicorn

    from connectors.intake.connector import IntakeConnector
    from connectors.intake.web import create_app
    from hub.contract.errors import ConfigurationError

    try:
        settings = IntakeConnector.from_env().settings
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="info")


def start_for_dev(settings, hub_url: str, port: int) -> None:
    """``crosshub dev --intake``: register the intake connector (key pair, key, token) and a
    demo member of a bailleur social, and serve the intake pages in a thread on ``port``, under
    the demo linkage key so its pseudonyms link with the demo data."""
    import secrets
    import threading
    from datetime import timedelta

    import uvicorn
    from pydantic import SecretStr

    from connectors.demo.story import DEMO_KEY_ID, DEMO_KEY_SECRET
    from connectors.intake.connector import IntakeSettings
    from connectors.intake.web import create_app
    from graph import identity
    from graph import sessions as graph_sessions
    from graph.driver import open_driver
    from graph.handle import Graph
    from hub.cli.common import console
    from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
    from policies.auth import passwords

    key_path = settings.keys_dir / "demo-connectors" / "intake.ed25519.pem"
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    driver = open_driver(settings.graph_config)
    graph = Graph(driver, settings.neo4j_database)
    try:
        pem = generate_keypair(key_path, overwrite=True)
        identity.register_connector_key(graph, identity.ConnectorKey(
            key_id=key_id_of(load_public_key_pem(pem)), connector="intake", agency="prefecture",
            public_key_pem=pem))
        user = identity.upsert_user(graph, agency="prefecture", role="connector", name="intake")
        token = identity.issue_token(graph, user.user_id, ttl=timedelta(days=7), purpose="connector").token
        member = identity.upsert_user(graph, agency="bailleur_social", role="analyst", name="demo-bailleur",
                                      contact="Référent sûreté — bailleur social")
        password = secrets.token_urlsafe(12)
        graph_sessions.set_password_hash(graph, member.user_id, passwords.hash_password(password))
    finally:
        driver.close()
    intake = IntakeSettings(
        hub_url=hub_url, hub_token=SecretStr(token), agency="prefecture",
        state_dir=str(settings.data_dir / "intake"), signing_key_path=str(key_path),
        linkage_key_id=DEMO_KEY_ID, linkage_key=SecretStr(DEMO_KEY_SECRET), port=port)
    server = uvicorn.Server(uvicorn.Config(create_app(intake), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, name="intake", daemon=True).start()
    console.print(f"Saisie des pistes (connecteur de saisie) : [bold]http://127.0.0.1:{port}[/bold] — "
                  "tout compte analyste ou chef de CROSS ; membre d'un bailleur social :")
    print(f"  {member.user_id}  {password}")
