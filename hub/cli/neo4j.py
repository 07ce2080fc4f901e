"""``crosshub neo4j ...``: install, start, stop and inspect the local Neo4j server
(``graph.server.LocalNeo4j``). Prints the URI and where the password file is, never the password.
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graph.server import LocalNeo4j, ServerStatus
from hub.contract.errors import CrossHubError
from hub.settings import Settings

app = typer.Typer(
    help="The local Neo4j Community server (under CROSSHUB_DATA_DIR/neo4j).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

_out = Console()
_err = Console(stderr=True)


def _server() -> LocalNeo4j:
    settings = Settings()
    if not settings.uses_local_neo4j:
        _err.print(
            f"[yellow]NEO4J_URI is set ({settings.neo4j_uri}): the hub uses that server, "
            "not this local one.[/yellow]"
        )
    return LocalNeo4j(settings.graph_config)


def _fail(exc: CrossHubError) -> typer.Exit:
    _err.print(f"[bold red]Error:[/bold red] {escape(exc.message)}", highlight=False)
    return typer.Exit(code=1)


def _show(status: ServerStatus) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    state = "[green]running[/green]" if status.running else "[red]stopped[/red]"
    table.add_row("state", state)
    if status.pid is not None:
        table.add_row("pid", str(status.pid))
    if status.uri is not None:
        table.add_row("uri", status.uri)
    elif status.port is not None:
        table.add_row("port", f"{status.port} (reused at next start if free)")
    table.add_row("user", "neo4j")
    table.add_row("password file", str(status.password_file))
    table.add_row("version", status.version)
    table.add_row("home", str(status.home))
    _out.print(table)


@app.command()
def install() -> None:
    """Fetch the Neo4j runtime jars with Maven (done by `start` too; instant once cached)."""
    server = _server()
    started = time.monotonic()
    try:
        lib = server.install()
    except CrossHubError as exc:
        raise _fail(exc) from exc
    elapsed = time.monotonic() - started
    _out.print(f"Neo4j {server.version} runtime ready in {lib} ({elapsed:.1f} s)")


@app.command()
def start(
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Bolt port on 127.0.0.1 (default: a free one)."
    ),
    wait: float = typer.Option(90.0, "--wait", min=1, help="Seconds to wait for readiness."),
) -> None:
    """Start the local server (idempotent) and wait until it answers."""
    server = _server()
    started = time.monotonic()
    try:
        with _err.status("Starting Neo4j..."):
            server.start(port=port, wait_s=wait)
    except CrossHubError as exc:
        raise _fail(exc) from exc
    _out.print(f"Neo4j ready in {time.monotonic() - started:.1f} s")
    _show(server.status())


@app.command()
def stop() -> None:
    """Stop the local server (SIGTERM, then SIGKILL after 60 s)."""
    server = _server()
    try:
        stopped = server.stop()
    except CrossHubError as exc:
        raise _fail(exc) from exc
    _out.print("Neo4j stopped" if stopped else "Neo4j was not running")


@app.command()
def status() -> None:
    """Show whether the local server runs, and where to reach it."""
    _show(_server().status())
