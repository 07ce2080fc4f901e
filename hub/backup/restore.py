"""Bringing a backup back: ``restore_backup`` (``crosshub restore BACKUP --by … --motif …``).

Order, and why:

1. the manifest's signature and every file's checksum (hub/backup/manifest.py), then every label
   and relationship type of the copy against the allow-list: a tampered or foreign backup is
   refused in French before anything is touched;
2. unless forced, refused while hub processes hold job leases on the graph (they would keep
   writing into the graph being replaced);
3. the audit segments the current trail lacks are put back (the audit directory was lost);
   existing ones are never touched — the trail is never rewound;
4. the keys the current keys directory lacks are put back; a differing key is kept and named;
5. the graph is replaced in ONE transaction (graph/backup.py), the restore entry appended to
   the trail inside it, just before the commit (log before acting, ADR 0003): the entry names
   the operator, the reason, the backup and its point — the segment heads it saw — so
   ``verify`` marks the entries recorded after that point as describing rolled-back data
   (hub/audit/restores.py). A commit that fails after the entry is followed by a
   ``restore_failed`` entry; the graph is then as it was.

Re-running after an interruption is safe: steps 3 and 4 only add what is missing, and step 5
is all or nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from graph import backup as graph_backup
from graph.handle import Graph
from hub.audit.keys import PUBLIC_KEY_FILE
from hub.audit.layout import WriterKind
from hub.audit.restores import BackupPoint, restore_event, restore_failed_event
from hub.audit.writer import open_writer
from hub.backup import files
from hub.backup.manifest import (
    AUDIT,
    KEYS,
    MANIFEST,
    NODES,
    RELATIONSHIPS,
    sha256_file,
    verify_backup,
)
from hub.contract.errors import Conflict, ConfigurationError, InvalidInput
from hub.settings import Settings


class RestoreResult(BaseModel):
    restore_id: str
    backup_id: str
    point: BackupPoint
    nodes: int
    relationships: int
    segments_put_back: list[str]
    keys: files.KeysRestored
    entry_segment: str
    entry_seq: int


def _rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _check_names(path: Path) -> None:
    labels, types = set(), set()
    for row in _rows(path / NODES):
        labels.update(row["labels"])
    for row in _rows(path / RELATIONSHIPS):
        types.add(row["type"])
    try:
        graph_backup.check_names(labels, types)
    except graph_backup.BackupRefused as exc:
        message = f"sauvegarde {path.name} refusée : {exc} — rien n'a été modifié"
        raise InvalidInput(message, details=[{"field": "sauvegarde", "reason": message}]) from None


def public_key_for(settings: Settings, given: Path | None) -> Path:
    """The key that checks a backup: ``given`` (the auditors' copy), else the current one. Never
    the backup's own copy: whoever altered the backup could have replaced it too."""
    key = given or settings.keys_dir / PUBLIC_KEY_FILE
    if not key.exists():
        raise ConfigurationError(
            f"clé publique du journal d'audit introuvable ({key}) : indiquer --public-key (la copie "
            "détenue par les auditeurs) pour vérifier la sauvegarde")
    return key


def restore_backup(settings: Settings, graph: Graph, path: Path, *, by: str, reason: str,
                   public_key: Path | None = None, force: bool = False) -> RestoreResult:
    """Restore the backup in ``path`` (module docstring); the restore entry's place in the trail."""
    by, reason = by.strip(), reason.strip()
    if not by or not reason:
        field = "by" if not by else "motif"
        message = f"{field} : obligatoire — qui restaure, et pourquoi, entre au journal d'audit"
        raise InvalidInput(message, details=[{"field": field, "reason": message}])
    path = Path(path)
    manifest, _ = verify_backup(path, public_key_for(settings, public_key))
    _check_names(path)
    holders = graph_backup.live_holders(graph)
    if holders and not force:
        raise Conflict(
            "restauration refusée : des processus du hub travaillent sur ce graphe ("
            + ", ".join(holders[:5]) + ") — les arrêter d'abord (ils écriraient dans le graphe "
            "remplacé), ou --force si ces baux sont ceux de processus arrêtés")
    segments = files.put_back_trail(path / AUDIT, settings.audit_dir)
    keys = files.put_back_keys(path / KEYS, settings.keys_dir)
    restore_id = uuid.uuid4().hex
    restored = (f"graphe ({manifest.nodes} nœud(s), {manifest.relationships} relation(s)) ; "
                f"{len(segments)} segment(s) d'audit remis ; {len(keys.restored)} clé(s) remise(s)"
                + (f" ; {len(keys.differing)} clé(s) différente(s) conservée(s)" if keys.differing else ""))
    digest = sha256_file(path / MANIFEST).sha256
    entry = []
    with open_writer(settings, kind=WriterKind.CLI) as trail:
        try:
            counts = graph_backup.replace_graph(
                graph, _rows(path / NODES), _rows(path / RELATIONSHIPS),
                lambda: entry.append(trail.append(restore_event(
                    by=by, reason=reason, restore_id=restore_id, backup_id=manifest.backup_id,
                    point=manifest.point, restored=restored,
                    manifest_sha256=digest))))
        except BaseException as exc:
            if entry:  # logged, then not committed: say so, the graph is as it was
                trail.append(restore_failed_event(by=by, restore_id=restore_id,
                                                  error=f"{type(exc).__name__}: {exc}"))
            raise
        segment = trail.segment or ""
    return RestoreResult(restore_id=restore_id, backup_id=manifest.backup_id, point=manifest.point,
                         nodes=counts.nodes, relationships=counts.relationships,
                         segments_put_back=segments, keys=keys, entry_segment=segment,
                         entry_seq=entry[0].seq)

