"""What the CLI commands that talk to a running hub share: the --url/--token/--justification
options, one HTTP call that prints the hub's French error (message and each field) and exits
with a code a script can test, and Paris-time display of the API's UTC times."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.markup import escape

from hub.cli.common import err_console

DEFAULT_URL = "http://127.0.0.1:8000"
PARIS = ZoneInfo("Europe/Paris")

Url = Annotated[str, typer.Option("--url", envvar="CROSSHUB_URL", help="Adresse du hub")]
Token = Annotated[str, typer.Option("--token", envvar="CROSSHUB_TOKEN",
                                    help="Jeton d'accès (ou CROSSHUB_TOKEN)")]
Justif = Annotated[str, typer.Option("--justification", "-j",
                                     help="Motif de la consultation (art. 25), p. ex. n° de procédure")]

EXIT_ERROR, EXIT_UNREACHABLE, EXIT_CONFLICT = 1, 3, 4


def call(client: AbstractContextManager[httpx.Client], url: str, token: str, method: str, path: str, *,
         params: dict[str, Any] | None = None, body: dict[str, Any] | None = None) -> Any:
    """One API call; on failure print the hub's error in French and exit (3: hub unreachable,
    4: conflict — the object changed meanwhile, 1: any other refusal)."""
    query = {k: v for k, v in (params or {}).items() if v is not None}
    try:
        with client as http:
            response = http.request(method, path, params=query, json=body,
                                    headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        err_console.print(f"[red]Hub injoignable[/red] ({escape(url)}) : {escape(str(exc))}")
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    if response.status_code >= 400:
        try:
            payload = response.json()
        except ValueError:
            payload = {"message": response.text}
        err_console.print(f"[red]Erreur {response.status_code}[/red] : "
                          f"{escape(str(payload.get('message', '')))}")
        for detail in payload.get("details", []):
            err_console.print(f"  • {escape(str(detail.get('field')))} : "
                              f"{escape(str(detail.get('reason')))}")
        raise typer.Exit(EXIT_CONFLICT if response.status_code == 409 else EXIT_ERROR)
    return response.json()


def paris_time(value: str | None) -> str:
    """The API speaks UTC; a person reads Paris time."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
