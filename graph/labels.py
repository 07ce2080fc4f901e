"""The allow-list of node labels, relationship types and entity kinds.

Cypher cannot take a label or relationship type as a parameter, so any label that reaches a
query string must come from here (graphiti's rule): user input selects a member of these enums,
never text that is pasted into Cypher.
"""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    LEAD = "Lead"
    AGENCY = "Agency"
    LOCATION = "Location"
    COMMUNE = "Commune"
    VEHICLE = "Vehicle"
    PERSON = "Person"
    PHONE = "Phone"
    SEIZURE = "Seizure"
    SUBSTANCE = "Substance"
    DEAL_POINT = "DealPoint"
    # The weekly CROSS meeting and the actions it decides (graph/meetings/): never traversed
    # by analysis reads (nothing links from a Lead to them).
    MEETING = "Meeting"
    ACTION = "Action"
    # Hub bookkeeping, never returned by analysis reads.
    USER = "User"
    API_TOKEN = "ApiToken"
    CONNECTOR_KEY = "ConnectorKey"
    NONCE = "Nonce"
    CONNECTOR_RUN = "ConnectorRun"
    SESSION = "Session"  # a login session (graph/sessions.py)
    LOGIN_ATTEMPTS = "LoginAttempts"  # failed-login record, keyed hash (graph/sessions.py)
    # A person's TOTP second factor and a session's step-up (graph/identity/second_factor.py).
    SECOND_FACTOR = "SecondFactor"
    SECOND_FACTOR_STEP_UP = "SecondFactorStepUp"
    SCHEMA = "SchemaVersion"
    # Access grants and their workflow (graph/grants/).
    GUEST_GRANT = "GuestGrant"
    DISCLOSURE_REQUEST = "DisclosureRequest"
    DISCLOSURE_MESSAGE = "DisclosureMessage"  # a request's thread (graph/grants/threads.py)
    NOTIFICATION = "Notification"
    # Lead workflow: triage status and history, cross-agency link alerts, planned operations
    # and their deconfliction (graph/workflow/). Keyed by lead_id property, never linked from
    # a Lead, so analysis reads never traverse them.
    LEAD_STATUS = "LeadStatus"
    STATUS_CHANGE = "StatusChange"
    LINK_ALERT = "LinkAlert"
    OPERATION = "Operation"
    DECONFLICTION_ALERT = "DeconflictionAlert"
    OPERATION_LEDGER = "OperationLedger"  # one node: serializes operation registrations
    LEAD_CLASH_ALERT = "LeadClashAlert"  # a lead of another agency meets an operation (ADR 0017)
    # Jobs run once across hub processes (graph/leases.py): a lease per job, a record per run.
    JOB_LEASE = "JobLease"
    JOB_RUN = "JobRun"
    # Watchlists (graph/watches/): a person's watches and outbound settings, never linked.
    WATCH = "Watch"
    WATCH_DELIVERY = "WatchDelivery"
    # Entity resolution (graph/resolution/): verdicts on pairs and merges, never linked.
    RESOLUTION_JUDGEMENT = "ResolutionJudgement"
    ENTITY_MERGE = "EntityMerge"
    # Dossiers (graph/dossiers/): shared investigations, their tasks and comments, never linked.
    DOSSIER = "Dossier"
    DOSSIER_TASK = "DossierTask"
    DOSSIER_COMMENT = "DossierComment"
    # Federation between CROSS hubs (graph/federation/): tickets of confirmed hits, per-peer
    # daily evaluation counters, the querier round's cursors; never linked from a Lead.
    FEDERATION_TICKET = "FederationTicket"
    FEDERATION_QUOTA = "FederationQuota"
    FEDERATION_CURSOR = "FederationCursor"
    # The watch on the connectors (graph/operations.py): one alert per connector and kind while
    # its condition lasts; never linked.
    CONNECTOR_ALERT = "ConnectorAlert"
    # Accounts over time (graph/identity/reviews.py, graph/policy_deployments.py): access
    # reviews and their per-account items, the policy files' digests last deployed; never linked.
    ACCESS_REVIEW = "AccessReview"
    ACCESS_REVIEW_ITEM = "AccessReviewItem"
    POLICY_STATE = "PolicyState"


class Rel(StrEnum):
    PROVIDED_BY = "PROVIDED_BY"  # Lead -> Agency (the originator)
    AT = "AT"  # Lead|Seizure|DealPoint -> Location
    IN_COMMUNE = "IN_COMMUNE"  # Location -> Commune
    MENTIONS_VEHICLE = "MENTIONS_VEHICLE"  # Lead -> Vehicle
    INVOLVES = "INVOLVES"  # Lead -> Person (role)
    MENTIONS_PHONE = "MENTIONS_PHONE"  # Lead -> Phone
    REPORTS_SUBSTANCE = "REPORTS_SUBSTANCE"  # Lead -> Substance (mentioned, not seized)
    RECORDED = "RECORDED"  # Lead -> Seizure
    OF_SUBSTANCE = "OF_SUBSTANCE"  # Seizure -> Substance (quantity)
    CONCERNS = "CONCERNS"  # Lead -> DealPoint
    SAME_AS = "SAME_AS"  # Person -> Person (pseudonym under an earlier linkage key)
    DECIDED = "DECIDED"  # Meeting -> Action (the meeting that decided it)
    ABOUT = "ABOUT"  # Action -> Lead | entity (what the action is about)
    # Entity -> entity of its kind: an analyst's "same" judgement (graph/resolution/merges.py);
    # carries merge_id only, deleted by a split. Reads follow it (graph.read.merged_group).
    MERGED_INTO = "MERGED_INTO"


class EntityKind(StrEnum):
    """Kinds an analyst addresses in the API (``/entities/{kind}/{key}``), with their label and
    key property."""

    VEHICLE = "vehicle"
    PERSON = "person"
    PHONE = "phone"
    LOCATION = "location"
    COMMUNE = "commune"
    SEIZURE = "seizure"
    SUBSTANCE = "substance"
    DEAL_POINT = "deal_point"
    AGENCY = "agency"

    @property
    def label(self) -> Label:
        return _KIND_LABEL[self]

    @property
    def key_property(self) -> str:
        return KEY_PROPERTY[self.label]


# The property each label is MERGEd on (and carries a uniqueness constraint).
KEY_PROPERTY: dict[Label, str] = {
    Label.LEAD: "lead_id",
    Label.AGENCY: "code",
    Label.LOCATION: "key",
    Label.COMMUNE: "insee_code",
    Label.VEHICLE: "plate",
    Label.PERSON: "pseudonym",
    Label.PHONE: "number",
    Label.SEIZURE: "seizure_id",
    Label.SUBSTANCE: "code",
    Label.DEAL_POINT: "key",
    Label.MEETING: "meeting_id",
    Label.ACTION: "action_id",
    Label.USER: "user_id",
    Label.API_TOKEN: "token_hash",
    Label.CONNECTOR_KEY: "key_id",
    Label.NONCE: "value",
    Label.CONNECTOR_RUN: "run_id",
    Label.SESSION: "session_id",
    Label.LOGIN_ATTEMPTS: "throttle_key",
    Label.SECOND_FACTOR: "user_id",
    Label.SECOND_FACTOR_STEP_UP: "session_id",
    Label.SCHEMA: "name",
    Label.GUEST_GRANT: "grant_id",
    Label.DISCLOSURE_REQUEST: "request_id",
    Label.DISCLOSURE_MESSAGE: "message_id",
    Label.NOTIFICATION: "notification_id",
    Label.LEAD_STATUS: "lead_id",
    Label.STATUS_CHANGE: "change_id",
    Label.LINK_ALERT: "alert_id",
    Label.OPERATION: "operation_id",
    Label.DECONFLICTION_ALERT: "alert_id",
    Label.OPERATION_LEDGER: "name",
    Label.LEAD_CLASH_ALERT: "alert_id",
    Label.JOB_LEASE: "job",
    Label.JOB_RUN: "run_key",
    Label.WATCH: "watch_id",
    Label.WATCH_DELIVERY: "user_id",
    Label.RESOLUTION_JUDGEMENT: "judgement_id",
    Label.ENTITY_MERGE: "merge_id",
    Label.DOSSIER: "dossier_id",
    Label.DOSSIER_TASK: "task_id",
    Label.DOSSIER_COMMENT: "comment_id",
    # side|peer|kind|entity key: one ticket per pair of hubs and identifier (the holder's
    # ticket_id is not unique in a graph that plays both sides in tests).
    Label.FEDERATION_TICKET: "ticket_key",
    Label.FEDERATION_QUOTA: "quota_key",  # peer|UTC day
    Label.FEDERATION_CURSOR: "name",
    Label.CONNECTOR_ALERT: "alert_id",
    Label.ACCESS_REVIEW: "review_id",
    Label.ACCESS_REVIEW_ITEM: "item_key",  # review_id|user_id
    Label.POLICY_STATE: "name",
}

_KIND_LABEL: dict[EntityKind, Label] = {
    EntityKind.VEHICLE: Label.VEHICLE,
    EntityKind.PERSON: Label.PERSON,
    EntityKind.PHONE: Label.PHONE,
    EntityKind.LOCATION: Label.LOCATION,
    EntityKind.COMMUNE: Label.COMMUNE,
    EntityKind.SEIZURE: Label.SEIZURE,
    EntityKind.SUBSTANCE: Label.SUBSTANCE,
    EntityKind.DEAL_POINT: Label.DEAL_POINT,
    EntityKind.AGENCY: Label.AGENCY,
}

LABEL_KIND: dict[str, EntityKind] = {label.value: kind for kind, label in _KIND_LABEL.items()}

# Labels an analysis read may traverse or return.
ENTITY_LABELS: tuple[str, ...] = tuple(label.value for label in _KIND_LABEL.values())
