"""Helpers the audit tests share: build events, write a log, and tamper with its files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.records import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    b64,
    canonical_json,
    checkpoint_digest,
    checkpoint_signing_payload,
    entry_hash,
)
from hub.contract.lead import Agency
from policies.audit import Actor, AuditAction, AuditEvent, Decision, DecisionOutcome

AGENCIES = [Agency.POLICE, Agency.GENDARMERIE, Agency.DOUANES]


@dataclass(frozen=True)
class Dirs:
    audit: Path
    keys: Path

    @property
    def entries(self) -> Path:
        return self.audit / ENTRIES_FILE

    @property
    def checkpoints(self) -> Path:
        return self.audit / CHECKPOINTS_FILE


def make_event(i: int = 0, **overrides: Any) -> AuditEvent:
    """A consultation of personal data (justified), varied by ``i``."""
    agency = AGENCIES[i % len(AGENCIES)]
    fields: dict[str, Any] = dict(
        action=AuditAction.CONSULTATION,
        actor=Actor(user_id=f"u{i % 4}", name=f"Agent {i % 4}", agency=agency, role="analyst"),
        lead_ids=[f"police:PV-2025-{i:04d}"],
        entity_keys=[f"vehicle:AB-{100 + i % 900:03d}-CD"],
        client_address="10.25.0.7",
        decision=Decision(outcome=DecisionOutcome.FULL, rule_id="same-agency-full"),
        justification=f"Enquête préliminaire 2025/{i} — vérification du véhicule",
        recipients=[f"u{i % 4}"],
    )
    fields.update(overrides)
    return AuditEvent(**fields)


def read_lines(path: Path) -> list[bytes]:
    """The file's lines, each with its newline."""
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


def entry(line: bytes) -> dict[str, Any]:
    return json.loads(line)


def dump(body: dict[str, Any]) -> bytes:
    return canonical_json(body) + b"\n"


def rehash(body: dict[str, Any]) -> dict[str, Any]:
    """What an attacker without the key can do: recompute an entry's own hash."""
    body = dict(body)
    body["entry_hash"] = entry_hash(body)
    return body


def rewrite_chain(bodies: list[dict[str, Any]], start_seq: int = 1) -> list[bytes]:
    """Renumber and re-chain ``bodies`` into a self-consistent log (hashes all recomputed)."""
    prev = "0" * 64
    out = []
    for i, body in enumerate(bodies):
        body = dict(body, seq=start_seq + i, prev_hash=prev)
        body = rehash(body)
        prev = body["entry_hash"]
        out.append(dump(body))
    return out


def resign_checkpoints(dirs: Dirs, key: Ed25519PrivateKey) -> None:
    """Re-sign every checkpoint (recomputing entry hashes from the current entries) with ``key``:
    what an attacker holding *a* key — but not ours — can do."""
    from hub.audit.keys import key_id

    hashes = {entry(line)["seq"]: entry(line)["entry_hash"] for line in read_lines(dirs.entries)}
    prev = "0" * 64
    out = []
    for line in read_lines(dirs.checkpoints):
        body = {k: v for k, v in entry(line).items() if k != "sig"}
        body.update(entry_hash=hashes[body["seq"]], key_id=key_id(key.public_key()), prev=prev)
        body["sig"] = b64(key.sign(checkpoint_signing_payload(body)))
        prev = checkpoint_digest(body)
        out.append(dump(body))
    write_lines(dirs.checkpoints, out)


def run_writer_without_close(dirs: Dirs, n: int, every: int) -> None:
    """Append ``n`` entries in a child process that exits without ``close()`` — as a crash would,
    leaving entries after the last periodic checkpoint unsealed."""
    code = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from hub.audit import AuditTrail
        from tests.hub.audit.logfiles import make_event
        trail = AuditTrail.open(audit_dir=Path({str(dirs.audit)!r}), keys_dir=Path({str(dirs.keys)!r}),
                                checkpoint_every={every})
        for i in range({n}):
            trail.append(make_event(i))
        os._exit(0)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])
