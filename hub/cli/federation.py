"""``crosshub antenna`` — also ``crosshub federation antenna`` — (serve the OFAST antenna,
hub/federation/antenna.py) and ``crosshub federation pki`` (a development federation's CA, certificates, signing keys and directory,
hub/federation/pki.py), and ``crosshub federation round`` (this hub's querier round, now)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(help="Fédération entre CROSS (ticket de correspondance, antenne OFAST).",
                  no_args_is_help=True)


@app.command("antenna")  # also ``crosshub antenna`` (hub/cli/__init__.py)
def antenna(
    host: Annotated[str, typer.Option(help="Adresse d'écoute")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port HTTPS (TLS mutuel)")] = 9443,
    pki_dir: Annotated[Path, typer.Option(
        help="Répertoire de l'ICP de fédération (ca.pem, <antenne>.pem/.key/.sign.pem)")]
        = Path("federation-pki"),
    data_dir: Annotated[Path, typer.Option(
        help="Répertoire des statistiques de l'antenne (fichier SQLite 0600)")]
        = Path("antenna-data"),
    directory_file: Annotated[Path | None, typer.Option(
        help="Annuaire des membres (par défaut <pki-dir>/directory.json)")] = None,
    name: Annotated[str | None, typer.Option(
        help="Nom de l'antenne (par défaut celui de l'annuaire)")] = None,
    wire_log: Annotated[Path | None, typer.Option(
        help="Journal des échanges (une ligne JSON par requête et réponse) ; sinon "
             "CROSSHUB_FEDERATION_WIRE_LOG")] = None,
    log_level: Annotated[str, typer.Option(help="Niveau de journalisation d'uvicorn")] = "info",
) -> None:
    """Serve the antenna: routes filters, blinded evaluations, claims and ticket statuses between
    hubs over mutual TLS; keeps only statistics."""
    from hub.contract.errors import ConfigurationError
    from hub.federation.antenna import AntennaConfig, serve_antenna

    config = AntennaConfig(pki_dir=pki_dir, data_dir=data_dir, directory_file=directory_file,
                           name=name, wire_log=wire_log)
    try:
        serve_antenna(config, host=host, port=port, log_level=log_level)
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


@app.command("pki")
def pki(
    directory: Annotated[Path, typer.Option("--dir", help="Répertoire à créer (0700)")],
    member: Annotated[list[str], typer.Option(
        help="Un CROSS membre (répéter l'option) : cross-25, cross-39…")],
    antenna_name: Annotated[str, typer.Option("--antenna", help="Nom de l'antenne")]
        = "antenna-est",
    url: Annotated[list[str] | None, typer.Option(
        help="Adresse d'un membre ou de l'antenne : nom=https://hôte:port (répéter)")] = None,
    host: Annotated[list[str] | None, typer.Option(
        help="Noms et adresses IP des certificats (par défaut 127.0.0.1 et localhost)")] = None,
) -> None:
    """Create a development federation: CA, TLS certificates, signing keys, directory."""
    from hub.contract.errors import ConfigurationError
    from hub.federation.pki import DEFAULT_HOSTS, make_dev_pki

    urls: dict[str, str] = {}
    for item in url or []:
        key, sep, value = item.partition("=")
        if not sep:
            err_console.print(f"[red]--url « {item} » : nom=https://hôte:port attendu[/red]")
            raise typer.Exit(2)
        urls[key.strip()] = value.strip()
    if directory.exists() and any(directory.iterdir()):
        err_console.print(f"[red]{directory} existe et n'est pas vide : refus d'écraser[/red]")
        raise typer.Exit(2)
    try:
        made = make_dev_pki(directory, member, antenna_name, urls=urls,
                            hosts=tuple(host) if host else DEFAULT_HOSTS)
    except (ConfigurationError, ValueError) as exc:
        err_console.print(f"[red]{getattr(exc, 'message', exc)}[/red]")
        raise typer.Exit(2) from None
    console.print(f"ICP de fédération créée dans {directory} : ca.pem, "
                  f"{len(made.members)} membre(s) et l'antenne {made.antenna} "
                  "(<nom>.pem, <nom>.key, <nom>.sign.pem), directory.json")


@app.command("round")
def round_(
    peer: Annotated[list[str] | None, typer.Option(
        help="Ne demander qu'à ce CROSS (répéter l'option) ; par défaut tous les membres")] = None,
) -> None:
    """Run this hub's federation round now, in this process (settings from the environment, as
    the hub's): refresh its tokens for the epoch, then ask each peer about its new identifiers.
    Prints counts per peer, never a value; exits 1 if a peer's round failed."""
    import json

    from hub.contract.errors import ConfigurationError, GraphUnavailable
    from hub.jobs.federation import run_round_standalone
    from hub.settings import Settings

    try:
        result = run_round_standalone(Settings(), peers=peer or None)
    except (ConfigurationError, GraphUnavailable) as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    except RuntimeError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    failed = [p for p, r in result.get("peers", {}).items() if r.get("error")]
    if failed:
        err_console.print(f"[red]tour incomplet : {', '.join(failed)}[/red]")
        raise typer.Exit(1)
