"""What the audit trail stores, and its on-disk format — defined once, here.

Owns the stored model (``AuditEntry``: the event a caller recorded — ``policies.audit.AuditEvent``
— plus ``seq``, ``prev_hash``, ``entry_hash``, ``recorded_at``), the signed ``Checkpoint``, the
query ``AuditFilters``, and the format primitives both the writer (trail.py) and the checker
(verify.py) must agree on: ``canonical_json``, ``entry_hash``, the checkpoint signing payload and
the file names.

Storage (in ``settings.audit_dir``):

* ``audit.jsonl`` — one ``AuditEntry`` per line, canonical JSON. Append-only: opened with
  O_APPEND, never rewritten (but for a torn last line, cut on open: trail.py).
* ``checkpoints.jsonl`` — one signed ``Checkpoint`` per line, every ``checkpoint_every`` entries,
  on demand (``checkpoint()``), at open when entries are unsealed, and at ``close()``.
* ``audit.lock`` — held with ``fcntl.flock(LOCK_EX)`` for as long as a trail is open.

The writer and the verifier share these functions and nothing else, so a verifier reading the
files needs no writer state.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from hub.contract.lead import Agency, StrictModel
from policies.audit import AuditAction, AuditEvent, DecisionOutcome, UtcDatetime

# --- on-disk layout ------------------------------------------------------------------------------

FORMAT_VERSION = 1
ENTRIES_FILE = "audit.jsonl"  # one AuditEntry per line, canonical JSON, append-only
CHECKPOINTS_FILE = "checkpoints.jsonl"  # one signed Checkpoint per line, append-only
LOCK_FILE = "audit.lock"  # fcntl.flock'ed by the single writer process
GENESIS_HASH = "0" * 64  # prev_hash of entry n° 1, and prev of checkpoint n° 1
# Domain separation: a checkpoint signature can never be replayed as a signature of anything else
# the same key might one day sign.
CHECKPOINT_SIGNING_CONTEXT = b"crosshub-audit-checkpoint-v1\n"


def canonical_json(obj: Any) -> bytes:
    """THE canonical encoding hashed and signed everywhere: sorted keys, no whitespace, UTF-8.

    No floats ever reach it (the models have none), so the encoding of a value read back with
    ``json.loads`` is byte-identical to the one written — the verifier re-hashes what it reads,
    without going through pydantic. NaN/Infinity are refused rather than emitted as non-JSON.
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry without its own ``entry_hash`` field. The body
    includes ``prev_hash`` and ``seq``, which is what chains the entries."""
    return sha256_hex(canonical_json({k: v for k, v in body.items() if k != "entry_hash"}))


def checkpoint_signing_payload(body: dict[str, Any]) -> bytes:
    """The bytes a checkpoint's Ed25519 signature covers: the record without ``sig``."""
    return CHECKPOINT_SIGNING_CONTEXT + canonical_json({k: v for k, v in body.items() if k != "sig"})


def checkpoint_digest(record: dict[str, Any]) -> str:
    """What the next checkpoint's ``prev`` must be: the hash of this whole record, signature
    included, so removing or reordering a checkpoint in the middle breaks the next one."""
    return sha256_hex(canonical_json(record))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- stored models ------------------------------------------------------------------------------


class AuditEntry(AuditEvent):
    """An event as stored: numbered, timestamped by the trail, and chained by hash."""

    v: Literal[1] = FORMAT_VERSION
    seq: int = Field(ge=1)
    recorded_at: UtcDatetime
    prev_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    entry_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class TrailEntry(AuditEntry):
    """An entry as read back from the trail: the stored entry and the writer's segment holding it
    (``seq`` counts within that segment)."""

    segment: str = Field(description="Segment d'écriture (processus du hub ou commande) qui l'a enregistrée")


class Checkpoint(StrictModel):
    """A signed statement "the chain up to entry n° ``seq`` ends with ``entry_hash``"."""

    v: Literal[1] = FORMAT_VERSION
    n: int = Field(ge=1, description="Numéro du point de contrôle")
    seq: int = Field(ge=1)
    entry_hash: str
    at: UtcDatetime
    key_id: str
    prev: str  # checkpoint_digest of the previous checkpoint (GENESIS_HASH for n° 1)
    sig: str  # base64 Ed25519 signature of checkpoint_signing_payload


class AuditFilters(StrictModel):
    """Query filters; all optional and AND-ed. ``since`` inclusive, ``until`` exclusive, on ``at``."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    user_id: str | None = None
    agency: Agency | None = None
    action: AuditAction | None = None
    lead_id: str | None = None
    # Other ids the same lead is known by (its pre-migration id, ADR 0007): an entry naming any
    # of them matches ``lead_id`` too.
    lead_aliases: list[str] = Field(default_factory=list)
    entity_key: str | None = None
    outcome: DecisionOutcome | None = None
    # Exactly these entries, each ``<segment>:<seq>`` (how the DPD's report links to the entries
    # behind a finding, ADR 0030): found through the index's unique (segment, seq).
    entries: list[str] = Field(default_factory=list, max_length=500)
    limit: int = Field(default=100, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0)

    def entry_refs(self) -> list[tuple[str, int]]:
        """``entries`` as (segment, seq); a malformed one names no entry (matches nothing)."""
        out = []
        for ref in self.entries:
            segment, _, seq = ref.rpartition(":")
            out.append((segment, int(seq) if seq.isdigit() else 0))
        return out
