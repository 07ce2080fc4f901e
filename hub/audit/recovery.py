"""Opening the audit trail after whatever ended the last run: where the writer resumes.

``recover`` cuts a torn last line off each file — a crash mid-write can leave one (no final
newline); its append never returned, so it was never acknowledged — then checks the last entry
(intact: its hash matches) and the last checkpoint (signed by the trail's key, and covering no
entry the log has lost or changed), and returns where the writer resumes. ``recovery_event`` is
the entry the writer then appends for each cut (action ``log_recovery``, with the size and
SHA-256 of what was cut). Anything inconsistent is a ``ConfigurationError`` naming ``crosshub
audit verify``: the writer never writes after a tail it cannot vouch for.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.files import complete_size, last_line
from hub.audit.records import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    GENESIS_HASH,
    Checkpoint,
    checkpoint_digest,
    checkpoint_signing_payload,
    entry_hash,
    sha256_hex,
    unb64,
)
from hub.contract.errors import ConfigurationError
from policies.audit import (
    SYSTEM_ACTOR,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    """A position in the entries file: its size, and the last entry's seq and hash there."""

    size: int = 0
    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True)
class Resume:
    """Where the writer resumes: the entries file's head, the checkpoints file's size, its last
    checkpoint (None while none was signed) and that checkpoint's digest (the next one's
    ``prev``), and the torn lines that were cut, (file name, bytes) each."""

    head: Head
    cp_size: int
    cp: Checkpoint | None = None
    cp_digest: str = GENESIS_HASH
    torn: list[tuple[str, bytes]] = field(default_factory=list)


def recover(entries_fd: int, checkpoints_fd: int, public_key: Ed25519PublicKey,
            audit_dir: Path) -> Resume:
    """Cut torn last lines, check both tails, and say where the writer resumes (module docstring)."""
    torn: list[tuple[str, bytes]] = []
    sizes: dict[int, int] = {}
    for name, fd in ((ENTRIES_FILE, entries_fd), (CHECKPOINTS_FILE, checkpoints_fd)):
        size = os.fstat(fd).st_size
        good = complete_size(fd, size)
        if good < size:
            # Unacknowledged by construction (append returns after the newline is fsynced).
            torn.append((name, os.pread(fd, size - good, good)))
            os.ftruncate(fd, good)
            os.fsync(fd)
            log.warning("journal d'audit : ligne finale incomplète de %s (%d octets) tronquée",
                        name, size - good)
        sizes[fd] = good

    head = Head(size=sizes[entries_fd])
    last = last_line(entries_fd, head.size)
    if last is not None:
        body = _parse(last, "dernière entrée du journal d'audit")
        if not isinstance(body.get("seq"), int) or entry_hash(body) != body.get("entry_hash"):
            raise ConfigurationError(
                f"dernière entrée du journal d'audit altérée ({audit_dir / ENTRIES_FILE}) : "
                "lancer « crosshub audit verify »"
            )
        head = Head(size=head.size, seq=body["seq"], hash=body["entry_hash"])

    resume = Resume(head=head, cp_size=sizes[checkpoints_fd], torn=torn)
    last_cp = last_line(checkpoints_fd, resume.cp_size)
    if last_cp is None:
        return resume
    record = _parse(last_cp, "dernier point de contrôle du journal d'audit")
    try:
        cp = Checkpoint.model_validate(record)
        public_key.verify(unb64(cp.sig), checkpoint_signing_payload(record))
    except Exception as exc:  # ValidationError, InvalidSignature, binascii.Error
        raise ConfigurationError(
            "dernier point de contrôle du journal d'audit invalide (signature ou format) : "
            "lancer « crosshub audit verify »"
        ) from exc
    if cp.seq > head.seq or (cp.seq == head.seq and cp.entry_hash != head.hash):
        # Entries the key signed for are gone or changed: never write after that silently.
        raise ConfigurationError(
            f"journal d'audit tronqué ou réécrit : le point de contrôle signé n° {cp.n} "
            f"couvre l'entrée n° {cp.seq}, le journal s'arrête à l'entrée n° {head.seq} "
            "— lancer « crosshub audit verify »"
        )
    return Resume(head=head, cp_size=resume.cp_size, cp=cp, cp_digest=checkpoint_digest(record),
                  torn=torn)


def _parse(line: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(line)
    except ValueError as exc:
        raise ConfigurationError(f"{what} illisible : lancer « crosshub audit verify »") from exc
    if not isinstance(body, dict):
        raise ConfigurationError(f"{what} illisible : lancer « crosshub audit verify »")
    return body


def recovery_event(file_name: str, torn: bytes) -> AuditEvent:
    """The entry recording a torn last line cut on open: what was cut (size, SHA-256) and where."""
    return AuditEvent(
        action=AuditAction.LOG_RECOVERY,
        actor=SYSTEM_ACTOR,
        decision=Decision(outcome=DecisionOutcome.NOT_APPLICABLE, rule_id="audit.recovery"),
        personal_data=False,
        details={
            "file": file_name,
            "reason": "ligne finale incomplète (écriture interrompue, jamais acquittée) tronquée",
            "truncated_bytes": len(torn),
            "truncated_sha256": sha256_hex(torn),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        },
    )
