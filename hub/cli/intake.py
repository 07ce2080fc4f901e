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
