"""What the audit trail records, and the rule each record must satisfy — decided here, kept by
the hub (hub/audit/: storage, chaining, signing, verification, query).

Owns the vocabulary (``AuditAction``: the six processing operations Directive (EU) 2016/680
Art. 25 requires logging, plus the trail's own events; ``DecisionOutcome``: what the policy
decided; their French labels), who acted (``Actor``, ``SYSTEM_ACTOR``), which rule decided
(``Decision``), and the event a caller records (``AuditEvent``: who, when, what, from where,
which action, which decision — and for consultation or disclosure of personal data the
justification and recipients Art. 25 requires, refused with a French reason when missing).

Pure: no file, no clock beyond the event's default timestamp, no key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StringConstraints,
    model_validator,
)

from hub.contract.errors import InvalidInput, MissingJustification
from hub.contract.lead import Agency, StrictModel

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
    # The trail itself: a writer opened its own segment (ADR 0012), naming the segment before it.
    LOG_OPENED = "log_opened"
    # The trail itself (ADR 0028): a closed segment sealed into a signed archive, and an archive
    # deleted at the end of its retention (policies/data/audit_retention.yaml).
    LOG_ARCHIVED = "log_archived"
    LOG_ARCHIVE_DELETED = "log_archive_deleted"
    # The hub's state copied (``crosshub backup``), or brought back from a copy (``crosshub
    # restore``): the restore entry names the backup point, so ``verify`` marks the entries
    # recorded after it as describing data that was rolled back (hub/audit/restores.py).
    BACKUP = "backup"
    RESTORE = "restore"
    # Who may do or see what changed: a deployment of policy files (their digests, who deployed).
    CONFIGURATION = "configuration"


ACTION_LABELS_FR: dict[AuditAction, str] = {
    AuditAction.COLLECTION: "Collecte",
    AuditAction.ALTERATION: "Modification",
    AuditAction.CONSULTATION: "Consultation",
    AuditAction.DISCLOSURE: "Communication",
    AuditAction.COMBINATION: "Interconnexion",
    AuditAction.ERASURE: "Effacement",
    AuditAction.AUTHENTICATION: "Authentification",
    AuditAction.LOG_RECOVERY: "Reprise du journal",
    AuditAction.LOG_OPENED: "Ouverture d'un segment du journal",
    AuditAction.LOG_ARCHIVED: "Archivage d'un segment du journal",
    AuditAction.LOG_ARCHIVE_DELETED: "Suppression d'une archive du journal (conservation échue)",
    AuditAction.BACKUP: "Sauvegarde",
    AuditAction.RESTORE: "Restauration",
    AuditAction.CONFIGURATION: "Configuration",
}

# Art. 25: logs of consultation and disclosure must show the justification and the recipients.
JUSTIFIED_ACTIONS = frozenset({AuditAction.CONSULTATION, AuditAction.DISCLOSURE})
SYSTEM_ACTIONS = frozenset({AuditAction.LOG_RECOVERY, AuditAction.LOG_OPENED, AuditAction.BACKUP,
                            AuditAction.RESTORE})
SYSTEM_ACTIONS |= {AuditAction.LOG_ARCHIVED, AuditAction.LOG_ARCHIVE_DELETED}  # ADR 0028


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
# An event names at most this many leads, or entities (callers with more cut the list).
MAX_IDS = 50_000


def _utc(v: datetime) -> datetime:
    # Stored in UTC so the text form (and therefore the hash) does not depend on the writer's zone.
    return v.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


# --- models --------------------------------------------------------------------------------------


class Actor(StrictModel):
    """Who acted. ``name`` is the officer's name: Art. 25 requires identifying the person."""

    # "operator": a person running a ``crosshub`` command on the hub's host (a restore), named
    # by the command's ``--by``; not an account of an agency.
    kind: Literal["user", "connector", "system", "operator"] = "user"
    user_id: Identifier
    name: Label
    agency: Agency | None = None
    role: Label

    @model_validator(mode="after")
    def _agency(self) -> Actor:
        if self.kind not in ("system", "operator") and self.agency is None:
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
    lead_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_IDS)
    entity_keys: list[Identifier] = Field(default_factory=list, max_length=MAX_IDS)
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
