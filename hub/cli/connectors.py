"""``crosshub connectors``: list, run, watch and schedule the connectors; create their signing keys.

Registered in ``hub.cli`` as the ``connectors`` group. Knows nothing of the graph.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hub.contract.errors import ConfigurationError

app = typer.Typer(help="Connecteurs des services (police, gendarmerie, douanes, plateforme citoyenne).",
                  no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_BUSY, EXIT_CONFIG = 0, 1, 2, 4, 3


def _registered() -> tuple[dict[str, Any], dict[str, str]]:
    from connectors.registry import load_connectors, load_errors

    return load_connectors(), load_errors()


def _last_run(connector_cls: Any) -> tuple[Any | None, dict[str, Any] | None, str | None]:
    """(settings, last run payload, configuration error) for one connector class."""
    from connectors.state import StateStore

    try:
        settings = connector_cls.from_env().settings
    except ConfigurationError as exc:
        return None, None, exc.message
    with StateStore(settings.state_dir, connector_cls.name) as store:
        return settings, store.last_run(), None


def _fmt_time(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _schedule_text(settings: Any) -> str:
    if settings is None:
        return ""
    if settings.schedule_cron:
        return f"cron « {settings.schedule_cron} »"
    if settings.schedule_interval_s:
        return f"toutes les {settings.schedule_interval_s} s"
    return "manuel"


_STATUS_STYLE = {"ok": "green", "partial": "yellow", "failed": "red", "running": "cyan"}


def _status_cell(run: dict[str, Any] | None) -> str:
    if not run:
        return "[dim]jamais lancé[/dim]"
    status = run.get("status", "?")
    return f"[{_STATUS_STYLE.get(status, 'white')}]{status}[/]"


@app.command("list")
def list_() -> None:
    """Registered connectors and their last run."""
    connectors, errors = _registered()
    table = Table("connecteur", "service", "planification", "dernier passage", "état",
                  "entrées", "envoyées", "quarantaine", "erreur")
    for name, cls in connectors.items():
        settings, run, config_error = _last_run(cls)
        if config_error:
            table.add_row(name, "", "", "", "[red]non configuré[/red]", "", "", "", config_error)
            continue
        run = run or {}
        table.add_row(
            name, settings.agency.value, _schedule_text(settings),
            _fmt_time(run.get("finished_at") or run.get("started_at")), _status_cell(run or None),
            str(run.get("count_in", "")), str(run.get("count_pushed", "")),
            str(run.get("count_quarantined", "")), run.get("last_error") or "",
        )
    for name, reason in errors.items():
        table.add_row(name, "", "", "", "[red]non chargé[/red]", "", "", "", reason)
    if not connectors and not errors:
        console.print("Aucun connecteur enregistré (groupe de points d'entrée « crosshub.connectors »).")
        return
    console.print(table)


def _is_due(settings: Any, last: dict[str, Any] | None, now: datetime) -> tuple[bool, datetime | None]:
    """Whether a run is due by the connector's schedule, and when the next one is."""
    if not last or last.get("status") != "ok":
        return True, None
    started = datetime.fromisoformat(last["started_at"])
    if settings.schedule_cron:
        from apscheduler.triggers.cron import CronTrigger

        nxt = CronTrigger.from_crontab(settings.schedule_cron, timezone="Europe/Paris") \
            .get_next_fire_time(None, started)
    elif settings.schedule_interval_s:
        nxt = started + timedelta(seconds=settings.schedule_interval_s)
    else:
        return True, None
    return (nxt is None or nxt <= now), nxt


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Nom du connecteur (voir « list »)")],
    now: Annotated[bool, typer.Option("--now", help="Lancer même si le prochain passage "
                                                    "planifié n'est pas encore dû")] = False,
) -> None:
    """Run one connector in the foreground, with a progress bar.

    Without --now the run happens only if it is due by the connector's schedule (or the last run
    did not end « ok »); --now forces it. Exit code: 0 ok, 1 partial (hub unavailable, items kept
    for the next run), 2 failed, 3 configuration, 4 a run is already in progress."""
    from connectors.registry import get_connector
    from connectors.state import RunInProgress, StateStore

    try:
        connector = get_connector(name).from_env()
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_CONFIG) from None
    if not now:
        with StateStore(connector.settings.state_dir, name) as store:
            last = store.last_finished_run()
        due, nxt = _is_due(connector.settings, last, datetime.now(UTC))
        if not due:
            console.print(f"Passage non dû : le prochain est prévu à "
                          f"{nxt.astimezone().strftime('%H:%M:%S') if nxt else '?'} "
                          f"(--now pour lancer quand même).")
            raise typer.Exit(EXIT_OK)

    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(f"{name} : collecte", total=None)
        phase = {"push": False}

        def progress(done: int, total: int | None) -> None:
            if total is None:
                bar.update(task, completed=done)
            else:
                if not phase["push"]:
                    phase["push"] = True
                    bar.update(task, description=f"{name} : envoi au hub", completed=0)
                bar.update(task, completed=done, total=total)

        try:
            record = connector.run(progress=progress)
        except RunInProgress as exc:
            err_console.print(f"[yellow]{exc.message}[/yellow]")
            raise typer.Exit(EXIT_BUSY) from None
        bar.update(task, total=bar.tasks[0].completed or 1, completed=bar.tasks[0].completed or 1)

    style = _STATUS_STYLE.get(record.status.value, "white")
    console.print(
        f"[{style}]{record.status.value}[/] — {record.count_in} enregistrement(s) lus, "
        f"{record.count_out} piste(s) en file, {record.count_pushed} envoyée(s), "
        f"{record.count_quarantined} en quarantaine, {record.outbox_pending} en attente, "
        f"{record.duration_s:.1f} s"
    )
    if record.last_error:
        err_console.print(f"[{style}]{record.last_error}[/]")
    raise typer.Exit({"ok": EXIT_OK, "partial": EXIT_PARTIAL}.get(record.status.value, EXIT_FAILED))


@app.command("status")
def status() -> None:
    """State of each connector: cursor, outbox, quarantine, last run; and the scheduler."""
    from connectors.scheduler import default_state_dir, scheduler_running
    from connectors.state import StateStore

    connectors, errors = _registered()
    table = Table("connecteur", "curseur", "en attente", "quarantaine", "dernier passage", "état",
                  "erreur")
    for name, cls in connectors.items():
        try:
            settings = cls.from_env().settings
        except ConfigurationError as exc:
            table.add_row(name, "", "", "", "", "[red]non configuré[/red]", exc.message)
            continue
        with StateStore(settings.state_dir, name) as store:
            last = store.last_run() or {}
            table.add_row(name, store.get_cursor() or "[dim]début[/dim]", str(store.outbox_count()),
                          str(store.quarantine_count()),
                          _fmt_time(last.get("finished_at") or last.get("started_at")),
                          _status_cell(last or None), last.get("last_error") or "")
    for name, reason in errors.items():
        table.add_row(name, "", "", "", "", "[red]non chargé[/red]", reason)
    console.print(table)
    pid = scheduler_running(default_state_dir())
    console.print(f"Planificateur : {'en marche (pid ' + str(pid) + ')' if pid else 'arrêté'} "
                  f"— {default_state_dir()}")


@app.command("quarantine")
def quarantine(
    name: Annotated[str, typer.Argument(help="Nom du connecteur")],
    limit: Annotated[int, typer.Option(help="Nombre d'entrées")] = 50,
) -> None:
    """The latest quarantined records of a connector (source id, stage, reason; not the content)."""
    from connectors.registry import get_connector
    from connectors.state import StateStore

    try:
        settings = get_connector(name).from_env().settings
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_CONFIG) from None
    table = Table("date", "id source", "étape", "motif")
    with StateStore(settings.state_dir, name) as store:
        for q in store.quarantine_list(limit):
            table.add_row(_fmt_time(q.quarantined_at), q.source_id, q.stage, q.reason)
    console.print(table)


@app.command("keygen")
def keygen(
    name: Annotated[str, typer.Option("--name", help="Nom du connecteur")],
    out: Annotated[Path, typer.Option("--out", help="Dossier des clés")] = Path("~/.crosshub/keys"),
    force: Annotated[bool, typer.Option("--force", help="Remplacer une clé existante")] = False,
) -> None:
    """Create the connector's Ed25519 signing key: the private key is written 0600, the public
    key is printed (PEM, on stdout) to be registered at the hub."""
    from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem

    if not name.replace("-", "").replace("_", "").isalnum():
        err_console.print("[red]nom de connecteur invalide[/red]")
        raise typer.Exit(EXIT_CONFIG)
    directory = out.expanduser()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = directory / f"{name}.ed25519.pem"
    try:
        public_pem = generate_keypair(private_path, overwrite=force)
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red] (--force pour la remplacer)")
        raise typer.Exit(EXIT_CONFIG) from None
    public_path = directory / f"{name}.ed25519.pub.pem"
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(public_pem)
    key_id = key_id_of(load_public_key_pem(public_pem))
    err_console.print(f"Clé privée : {private_path} (0600) — à déclarer dans signing_key_path\n"
                      f"Identifiant de clé : {key_id} — clé publique à enregistrer au hub :")
    print(public_pem, end="")


@app.command("schedule")
def schedule(
    state_dir: Annotated[Path | None, typer.Option(help="Dossier d'état du planificateur "
                                                        "(CROSSHUB_SCHEDULER_STATE_DIR)")] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Ne planifier que ces connecteurs")] = None,
) -> None:
    """Start the scheduler in the foreground (one per host; Ctrl-C or SIGTERM to stop)."""
    import os

    from connectors.scheduler import SchedulerAlreadyRunning, default_state_dir, serve
    from hub.ops.logs import configure

    # The hub's log lines (hub/ops/logs.py): a source's error quoted in a run's last error must
    # not put a plate or a phone number in the host's journal. JSON unless told otherwise.
    configure(os.environ.get("CROSSHUB_LOG_FORMAT", "json"), "INFO")
    directory = state_dir or default_state_dir()
    err_console.print(f"Planificateur des connecteurs — état dans {directory}")
    try:
        serve(directory, names=only or None)
    except SchedulerAlreadyRunning as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_BUSY) from None
    except ConfigurationError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_CONFIG) from None


@app.command("register")
def register(
    name: Annotated[str, typer.Option(help="Nom du connecteur (p. ex. police)")],
    agency: Annotated[str, typer.Option(help="Service dont le connecteur verse les pistes")],
    public_key: Annotated[Path, typer.Option(help="Clé publique Ed25519 (PEM) produite par keygen")],
) -> None:
    """Hub side: register a connector's public key and issue its API token (printed once)."""
    from graph import identity
    from hub.cli.common import graph_session
    from hub.contract.lead import Agency
    from hub.contract.signing import key_id_of, load_public_key_pem

    pem = public_key.read_text()
    key_id = key_id_of(load_public_key_pem(pem))
    agency_code = Agency(agency).value
    with graph_session() as (settings, graph):
        graph = graph
        identity.register_connector_key(graph, identity.ConnectorKey(
            key_id=key_id, connector=name, agency=agency_code, public_key_pem=pem))
        user = identity.upsert_user(graph, agency=agency_code, role="connector", name=name)
        token = identity.issue_token(graph, user.user_id, purpose="connector")
    Console(stderr=True).print(f"Clé {key_id} enregistrée pour le connecteur « {name} » ({agency_code}). "
                               "Jeton (affiché une seule fois) :")
    print(token.token)
