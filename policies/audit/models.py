"""What the audit trail records, and its on-disk format — defined once, here.

Owns: the input model (``AuditEvent``: who, when, what, from where, which action, which policy
decision, and for consultation/disclosure of personal data the justification and recipients that
Directive (EU) 2016/680 Art. 25 requires), the stored model (``AuditEntry``: the event plus
``seq``, ``prev_hash``, ``entry_hash``), the signed ``Checkpoint``, the query ``AuditFilters``,
and the format primitives both the writer (service.py) and the checker (verify.py) must agree on:
``canonical_json``, ``entry_hash``, the checkpoint signing payload and the file names.

The writer and the verifier share these functions and nothing else, so a verifier reading the
files needs no writer state.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    model_validator,
)

from hub.contract.errors import InvalidInput, MissingJustification
from hub.contract.lead import Agency, StrictModel

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


# --- vocabulary ----------------------------------------------------------------------------------


class AuditAction(StrEnum):
    """The six processing operations Art. 25 requires logging, plus the trail's own events."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"  # includes transfers
    COMBINATION = "combination"
    ERASURE = "erasure"
    # Security events that are not processing of personal data: logins, logouts, revocations.
    AUTHENTICATION = "authentication"
    # The trail itself: a torn last line (crash mid-write) was truncated on open.
    LOG_RECOVERY = "log_recovery"


ACTION_LABELS_FR: dict[AuditAction, str] = {
    AuditAction.COLLECTION: "Collecte",
    AuditAction.ALTERATION: "Modification",
    AuditAction.CONSULTATION: "Consultation",
    AuditAction.DISCLOSURE: "Communication",
    AuditAction.COMBINATION: "Interconnexion",
    AuditAction.ERASURE: "Effacement",
    AuditAction.AUTHENTICATION: "Authentification",
    AuditAction.LOG_RECOVERY: "Reprise du journal",
}

# Art. 25: logs of consultation and disclosure must show the justification and the recipients.
JUSTIFIED_ACTIONS = frozenset({AuditAction.CONSULTATION, AuditAction.DISCLOSURE})
SYSTEM_ACTIONS = frozenset({AuditAction.LOG_RECOVERY})


class DecisionOutcome(StrEnum):
    """What the policy engine decided. Reads are graded with the engine's own levels
    (``policies.models.Outcome``: full, redacted, hit, none); other operations are allowed or
    denied."""

    FULL = "full"  # read: every property
    REDACTED = "redacted"  # read: some properties withheld
    HIT = "hit"  # read: hit/no-hit only — the caller learns that an agency holds something
    NONE = "none"  # read: not even the hit
    ALLOW = "allow"  # any other operation, allowed
    DENY = "deny"  # any other operation, refused
    NOT_APPLICABLE = "not_applicable"  # the trail's own events: no policy involved


DECISION_LABELS_FR: dict[DecisionOutcome, str] = {
    DecisionOutcome.FULL: "accès complet",
    DecisionOutcome.REDACTED: "accès expurgé",
    DecisionOutcome.HIT: "hit/no-hit",
    DecisionOutcome.NONE: "aucun accès",
    DecisionOutcome.ALLOW: "autorisé",
    DecisionOutcome.DENY: "refusé",
    DecisionOutcome.NOT_APPLICABLE: "sans objet",
}

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Values of ``details``: no floats, so the canonical encoding round-trips exactly.
DetailValue = str | int | bool | None


def _utc(v: datetime) -> datetime:
    # Stored in UTC so the text form (and therefore the hash) does not depend on the writer's zone.
    return v.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


# --- models --------------------------------------------------------------------------------------


class Actor(StrictModel):
    """Who acted. ``name`` is the officer's name: Art. 25 requires identifying the person."""

    kind: Literal["user", "connector", "system"] = "user"
    user_id: Identifier
    name: Label
    agency: Agency | None = None
    role: Label

    @model_validator(mode="after")
    def _agency(self) -> Actor:
        if self.kind != "system" and self.agency is None:
            raise ValueError("l'agence de l'acteur est obligatoire (sauf pour le hub lui-même)")
        return self


SYSTEM_ACTOR = Actor(kind="system", user_id="crosshub", name="CROSS Hub", role="system")


class Decision(StrictModel):
    outcome: DecisionOutcome
    rule_id: Identifier = Field(description="Règle de la politique qui a décidé")


class AuditEvent(StrictModel):
    """One logged processing operation, as the caller describes it.

    ``personal_data`` defaults to True: nearly every lead carries personal data (pseudonyms are
    still personal data), so a caller must say so explicitly to skip the justification.
    """

    at: UtcDatetime = Field(default_factory=utc_now, description="Quand (UTC)")
    action: AuditAction
    actor: Actor
    lead_ids: list[Identifier] = Field(default_factory=list, max_length=50_000)
    entity_keys: list[Identifier] = Field(default_factory=list, max_length=50_000)
    client_address: Label | None = None
    connector_id: Identifier | None = None
    decision: Decision
    personal_data: bool = True
    justification: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    recipients: list[Identifier] = Field(default_factory=list, max_length=1000)
    details: dict[Identifier, DetailValue] = Field(default_factory=dict, max_length=50)

    @model_validator(mode="after")
    def _art25(self) -> AuditEvent:
        if self.action in SYSTEM_ACTIONS:
            return self
        if self.action is AuditAction.AUTHENTICATION:
            # About an account, not a lead: no object to name, but always an origin.
            if not (self.client_address or self.connector_id):
                raise ValueError("préciser l'origine : client_address ou connector_id")
            return self
        if not (self.lead_ids or self.entity_keys):
            raise ValueError("préciser l'objet du traitement : lead_ids ou entity_keys")
        if not (self.client_address or self.connector_id):
            raise ValueError("préciser l'origine : client_address ou connector_id")
        if self.action in JUSTIFIED_ACTIONS and self.personal_data:
            verb = "consultation" if self.action is AuditAction.CONSULTATION else "communication"
            if not self.justification:
                reason = (f"justification obligatoire pour toute {verb} de données personnelles "
                          "(art. 25, directive (UE) 2016/680)")
                raise MissingJustification(
                    reason, details=[{"field": "justification", "reason": reason}]
                )
            if self.action is AuditAction.DISCLOSURE and not self.recipients:
                # For a consultation the recipient is the consulting actor; a disclosure must
                # name who received the data.
                reason = ("destinataires obligatoires pour toute communication de données "
                          "personnelles (art. 25, directive (UE) 2016/680)")
                raise InvalidInput(reason, details=[{"field": "recipients", "reason": reason}])
        return self


class AuditEntry(AuditEvent):
    """An event as stored: numbered, timestamped by the trail, and chained by hash."""

    v: Literal[1] = FORMAT_VERSION
    seq: int = Field(ge=1)
    recorded_at: UtcDatetime
    prev_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    entry_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


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
    entity_key: str | None = None
    outcome: DecisionOutcome | None = None
    limit: int = Field(default=100, ge=1, le=10_000)
    offset: int = Field(default=0, ge=0)
