"""The ``crosshub`` command: one typer app; each command group lives in its own module and is
registered here, so the CLI stays a thin wiring layer over the rooms (graph, policies, connectors).
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="crosshub",
    help="CROSS Hub: the intelligence-sharing hub of a CROSS.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


def _register() -> None:
    # Imported here, not at module top, so `import hub.cli` stays cheap and side-effect free.
    from hub.cli import (
        analysis,
        audit,
        connectors,
        dev,
        federation,
        intake,
        neo4j,
        policy,
        serve,
        token,
        users,
        workflow,
    )
    from hub.cli import meetings as meetings_cli

    app.add_typer(neo4j.app, name="neo4j")
    app.add_typer(token.app, name="token")
    app.add_typer(audit.app, name="audit")
    app.add_typer(connectors.app, name="connectors")
    app.add_typer(policy.app, name="policy")
    app.add_typer(users.app, name="users")
    app.add_typer(analysis.app, name="analysis")
    app.add_typer(workflow.app, name="workflow")
    app.add_typer(intake.app, name="intake")
    app.add_typer(meetings_cli.retention_app, name="retention")
    app.command("brief")(meetings_cli.brief)
    app.command("dev")(dev.dev)
    app.command("serve")(serve.serve)
    app.add_typer(federation.app, name="federation")
    app.command("antenna")(federation.antenna)
    from hub.cli.trace import trace_cmd  # watermarks (ADR 0026)

    app.command("trace")(trace_cmd)
    from hub.cli import backup as backup_cli  # backup and restore (ADR 0027)

    app.command("backup")(backup_cli.backup)
    app.command("restore")(backup_cli.restore)
    from hub.cli import dpd as dpd_cli  # the DPD's watch on the trail (ADR 0030)

    app.add_typer(dpd_cli.app, name="dpd")


_register()
