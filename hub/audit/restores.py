"""What a backup and a restore say in the audit trail, and what ``verify`` makes of them
(docs/decisions/0027-backup-and-restore.md).

Owns the two entries and their reading back:

- a **backup** entry (action ``backup``, system actor) names the backup, its point and the
  digest of its signed manifest;
- a **restore** entry (action ``restore``, the operator as actor, the reason as justification)
  names what was restored, the backup, and its *point*: the time and the head (seq, entry hash)
  of every segment of the trail at the moment the copy was cut. A restore that failed after its
  entry was written is followed by a ``restore_failed`` entry of the same ``restore_id``.

``restore_notes`` reads them back for ``verify``: for each restore that succeeded, the entries
recorded after its backup point and before it — per segment, those past the head the backup
saw, and every entry of the segments created after the point — describe data the restore
rolled back. Nothing is removed or rewritten: the trail keeps them, and the report says so in
French. The restore's own segment (opened by the restore command) contributes nothing, nor
does any entry recorded after the restore entry (it describes the restored data).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from hub.audit.layout import list_segments
from policies.audit import SYSTEM_ACTOR, Actor, AuditAction, AuditEvent, Decision, DecisionOutcome

RULE_BACKUP = "backup"
RULE_RESTORE = "restore-by-operator"
STEP_RESTORE = "restore"
STEP_FAILED = "restore_failed"
_PARIS = ZoneInfo("Europe/Paris")
_MARK = b'"action":"restore"'


class SegmentHead(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str
    seq: int
    hash: str


class BackupPoint(BaseModel):
    """When the copy was cut, and the head of every segment of the trail at that moment."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    heads: list[SegmentHead]

    def encode(self) -> str:
        """``<segment>=<seq>:<hash>;…`` — one detail value (details hold scalars only)."""
        return ";".join(f"{h.segment}={h.seq}:{h.hash}" for h in self.heads)

    @classmethod
    def decode(cls, at: str, text: str) -> BackupPoint:
        heads = []
        for part in filter(None, text.split(";")):
            name, _, rest = part.partition("=")
            seq, _, digest = rest.partition(":")
            heads.append(SegmentHead(segment=name, seq=int(seq), hash=digest))
        return cls(at=datetime.fromisoformat(at), heads=heads)


def paris(at: datetime) -> str:
    """« 07/12/2026 à 17:02 », Paris time: what a French reader expects."""
    return at.astimezone(_PARIS).strftime("%d/%m/%Y à %H:%M")


def _decision(rule: str) -> Decision:
    return Decision(outcome=DecisionOutcome.NOT_APPLICABLE, rule_id=rule)


def backup_event(origin: str, backup_id: str, point: BackupPoint, manifest_sha256: str,
                 nodes: int, relationships: int) -> AuditEvent:
    return AuditEvent(action=AuditAction.BACKUP, actor=SYSTEM_ACTOR, client_address=origin,
                      decision=_decision(RULE_BACKUP), personal_data=False,
                      details={"backup_id": backup_id, "point_at": point.at.isoformat(),
                               "point": point.encode(), "manifest_sha256": manifest_sha256,
                               "nodes": nodes, "relationships": relationships})


def operator(name: str) -> Actor:
    """The person running ``crosshub restore`` (``--by``)."""
    return Actor(kind="operator", user_id=f"operateur:{name}"[:300], name=name, role="operator")


def restore_event(*, by: str, reason: str, restore_id: str, backup_id: str, point: BackupPoint,
                  restored: str, manifest_sha256: str) -> AuditEvent:
    return AuditEvent(action=AuditAction.RESTORE, actor=operator(by), client_address="cli",
                      decision=_decision(RULE_RESTORE), personal_data=False, justification=reason,
                      details={"step": STEP_RESTORE, "restore_id": restore_id,
                               "backup_id": backup_id, "point_at": point.at.isoformat(),
                               "point": point.encode(), "restored": restored,
                               "manifest_sha256": manifest_sha256})


def restore_failed_event(*, by: str, restore_id: str, error: str) -> AuditEvent:
    return AuditEvent(action=AuditAction.RESTORE, actor=operator(by), client_address="cli",
                      decision=Decision(outcome=DecisionOutcome.DENY, rule_id=RULE_RESTORE),
                      personal_data=False,
                      details={"step": STEP_FAILED, "restore_id": restore_id, "error": error[:500]})


# --- reading back, for verify --------------------------------------------------------------------


class RolledBack(BaseModel):
    """Entries n° ``first_seq`` to ``last_seq`` of ``segment`` describe rolled-back data."""

    model_config = ConfigDict(frozen=True)

    segment: str
    first_seq: int
    last_seq: int


class RestoreNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: str  # where the restore entry is
    seq: int
    at: datetime
    by: str
    reason: str
    backup_id: str
    point_at: datetime
    failed: bool = False
    rolled_back: list[RolledBack] = []

    @property
    def message(self) -> str:
        head = (f"restauration du {paris(self.at)} par {self.by} (motif : {self.reason}), "
                f"sauvegarde {self.backup_id} du {paris(self.point_at)}")
        if self.failed:
            return f"{head} : échouée, rien n'a été remplacé"
        if not self.rolled_back:
            return f"{head} : aucune entrée postérieure au point de sauvegarde"
        spans = " ; ".join(
            f"segment {r.segment} : n° {r.first_seq}" + (f" à {r.last_seq}" if r.last_seq > r.first_seq else "")
            for r in self.rolled_back)
        return (f"{head} : les entrées postérieures au point de sauvegarde ({spans}) décrivent "
                "des données annulées")


def restore_notes(audit_dir: Path) -> list[RestoreNote]:
    """Every restore recorded in the trail, oldest first, with the entries it rolled back."""
    segments = list_segments(Path(audit_dir))
    found: list[tuple[str, dict]] = []
    failed: set[str] = set()
    for seg in segments:
        for body in _bodies(seg.entries, only_restores=True):
            details = body.get("details") or {}
            if details.get("step") == STEP_FAILED:
                failed.add(str(details.get("restore_id")))
            elif details.get("step") == STEP_RESTORE:
                found.append((seg.name, body))
    if not found:
        return []
    # (seq, recorded_at) of every entry, per segment: only read when there is a restore.
    times = {seg.name: [(b["seq"], datetime.fromisoformat(b["recorded_at"]))
                        for b in _bodies(seg.entries, only_restores=False)] for seg in segments}
    notes = []
    for name, body in sorted(found, key=lambda f: f[1]["recorded_at"]):
        d = body["details"]
        at = datetime.fromisoformat(body["recorded_at"])
        point = BackupPoint.decode(d["point_at"], d.get("point") or "")
        heads = {h.segment: h.seq for h in point.heads}
        spans = []
        is_failed = d.get("restore_id") in failed
        for seg in segments:
            if is_failed or seg.name == name:
                continue
            after = [seq for seq, t in times[seg.name] if seq > heads.get(seg.name, 0) and t < at]
            if after:
                spans.append(RolledBack(segment=seg.name, first_seq=min(after), last_seq=max(after)))
        notes.append(RestoreNote(segment=name, seq=body["seq"], at=at, by=body["actor"]["name"],
                                 reason=body.get("justification") or "", backup_id=d["backup_id"],
                                 point_at=point.at, failed=is_failed, rolled_back=spans))
    return notes


def _bodies(path: Path, *, only_restores: bool):
    """The entries of one segment file (complete lines only), as dicts."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return
    with f:
        for raw in f:
            if not raw.endswith(b"\n") or (only_restores and _MARK not in raw):
                continue
            try:
                body = json.loads(raw)
            except ValueError:
                continue  # verify names it
            if isinstance(body, dict) and isinstance(body.get("seq"), int) and "recorded_at" in body:
                yield body
