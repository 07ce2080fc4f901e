"""``crosshub trace FILE``: whose copy is this file? (ADR 0026)

Reads a brief (PDF, HTML), an export (CSV zip or a lone CSV, GraphML, ANX, FtM JSON lines), a
chart image (PNG) or any text holding pasted rows, finds the marks the hub put in it
(hub/watermark/trace.py), checks them with the hub's key and the trail, and names the copy's
recipient, date, justification and handling code — in French. A forged or altered mark is
reported as such.

Naming who received a copy is a consultation of personal data: it needs a justification and is
recorded in the trail (a segment of this command, ADR 0012) before the answer is printed.

Exit code: 0 an authentic mark was found; 1 a forged or unknown mark; 2 no mark, or the file
cannot be read.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from hub.audit import WriterKind, open_writer
from hub.audit.events import system_event
from hub.settings import Settings
from hub.watermark.trace import trace
from policies.audit import AuditAction, DecisionOutcome

ORIGIN = "crosshub:trace"
RULE = "watermark-trace"
MAX_BYTES = 512 << 20


def trace_cmd(
    file: Annotated[Path, typer.Argument(help="Fichier à examiner (PDF, PNG, CSV, zip, GraphML, ANX, JSON…)")],
    justification: Annotated[str, typer.Option(
        "--justification", "-j", help="Motif de la recherche (obligatoire, journalisé)")],
    audit_dir: Annotated[Path | None, typer.Option(
        "--audit-dir", help="Répertoire du journal d'audit (défaut : celui des réglages)")] = None,
) -> None:
    """Retrouve le destinataire d'un exemplaire (note de séance, export, graphique) à partir de sa marque."""
    console, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    if not justification.strip():
        err.print("[red]Justification obligatoire : elle est inscrite au journal d'audit.[/red]")
        raise typer.Exit(2)
    try:
        if file.stat().st_size > MAX_BYTES:
            err.print(f"[red]Fichier trop volumineux (plus de {MAX_BYTES >> 20} Mio).[/red]")
            raise typer.Exit(2)
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]Fichier illisible : {escape(str(file))} ({escape(exc.strerror or str(exc))})[/red]")
        raise typer.Exit(2) from None
    settings = Settings()
    audit = audit_dir or settings.audit_dir
    index = settings.audit_index if audit_dir is None else None
    report = trace(data, settings.keys_dir, audit, index_path=index)
    digest = hashlib.sha256(data).hexdigest()
    codes = sorted({f.code for f in report.findings if f.code})
    recipients = sorted({f.issued.mark.user_id for f in report.authentic if f.issued})
    with open_writer(settings, kind=WriterKind.CLI, audit_dir=audit) as trail:
        trail.append(system_event(
            AuditAction.CONSULTATION, origin=ORIGIN, rule_id=RULE, lead_ids=[],
            entity_keys=[f"watermark:{c}" for c in codes] or [f"fichier:sha256:{digest}"],
            justification=justification, outcome=DecisionOutcome.ALLOW,
            details={"operation": "watermark_trace", "file_sha256": digest, "verdict": report.verdict,
                     "recipients": ", ".join(recipients)[:2000] or None,
                     "os_user": getpass.getuser()}))
    console.print(f"Fichier : {escape(file.name)} (SHA-256 {digest[:16]}…)", highlight=False)
    if not report.findings:
        console.print("Aucune marque du hub trouvée dans ce fichier.", highlight=False)
        raise typer.Exit(2)
    for finding in report.findings:
        for line in finding.lines_fr():
            console.print(escape(line), highlight=False)
    if report.verdict != "authentic":
        raise typer.Exit(1)


__all__ = ["trace_cmd"]
