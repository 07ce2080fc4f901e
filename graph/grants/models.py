"""The records of the grant workflow (graph/grants/): guest grants and disclosure requests as
stored (``status`` of a guest grant evaluated at the instant of the read), notifications, what an
expiry sweep ended, and a guest grant as the router validated it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from policies.models import DisclosureGrant, GuestGrant


class GrantStatus(StrEnum):
    SCHEDULED = "scheduled"  # valid_from still ahead
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"  # approved with an end date, now past


class NotificationKind(StrEnum):
    DISCLOSURE_REQUESTED = "disclosure_requested"
    DISCLOSURE_APPROVED = "disclosure_approved"
    DISCLOSURE_DECLINED = "disclosure_declined"
    DISCLOSURE_EXPIRED = "disclosure_expired"
    GUEST_GRANT_CREATED = "guest_grant_created"
    GUEST_GRANT_REVOKED = "guest_grant_revoked"
    GUEST_GRANT_EXPIRED = "guest_grant_expired"
    CROSS_AGENCY_LINK = "cross_agency_link"
    # Lead-vs-operation deconfliction (graph/workflow/lead_clashes.py, ADR 0017): the owner's
    # alert; and the only thing a clashing lead's author may be told (if the owner opted in) —
    # a neutral kind, so its name reveals no operation.
    LEAD_OPERATION_CLASH = "lead_operation_clash"
    CONTACT_REQUESTED = "contact_requested"
    # Watchlists (graph/watches/, hub/jobs/watch_hits.py).
    WATCH_HIT = "watch_hit"
    WATCH_ENDED = "watch_ended"
    WATCH_DIGEST = "watch_digest"
    # Entity resolution (graph/resolution/merges.py): a merge awaiting the agency's
    # countersignature; the outcome told to the agency that asked.
    RESOLUTION_COUNTERSIGN = "resolution_countersign"
    RESOLUTION_DECIDED = "resolution_decided"
    # Graded disclosure (graph/grants/escalation.py, threads.py): a request past its deadline,
    # to the CROSS coordinators; a message in a request's thread, to the other side.
    DISCLOSURE_ESCALATED = "disclosure_escalated"
    DISCLOSURE_MESSAGE = "disclosure_message"
    # Federation (graph/federation/tickets.py): a hit confirmed between two CROSS hubs.
    FEDERATION_TICKET = "federation_ticket"
    # The DPD's weekly report of the audit trail (hub/jobs/dpd.py), to each auditor.
    DPD_REPORT = "dpd_report"
    # The watch on the connectors (graph/operations.py): a connector silent or whose
    # quarantine grows, to each administrator.
    CONNECTOR_ALERT = "connector_alert"
    # Accounts over time (graph/identity/reviews.py): a review opened, to its reviewers; one past
    # its deadline with accounts undecided, to the administrators.
    ACCESS_REVIEW_OPENED = "access_review_opened"
    ACCESS_REVIEW_OVERDUE = "access_review_overdue"


# --- models -------------------------------------------------------------------------------------


class GuestGrantRecord(BaseModel):
    """A stored guest grant; ``status`` is evaluated at the instant of the read."""

    grant_id: str
    grantee_user_id: str
    grantee_name: str | None = None
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    valid_from: datetime
    valid_until: datetime
    granted_by: str
    granted_by_name: str | None = None
    granted_at: datetime
    reason: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    expired_at: datetime | None = None
    status: GrantStatus

    def as_policy_grant(self) -> GuestGrant:
        return GuestGrant(
            grant_id=self.grant_id, grantee_user_id=self.grantee_user_id,
            lead_ids=self.lead_ids, entity_keys=self.entity_keys,
            valid_from=self.valid_from, valid_until=self.valid_until, granted_by=self.granted_by,
        )


class DisclosureRequestRecord(BaseModel):
    request_id: str
    lead_id: str
    owner_agency: str
    requester_user_id: str
    requester_name: str
    requester_agency: str
    justification: str
    requested_at: datetime
    status: RequestStatus
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    valid_until: datetime | None = None
    decision_reason: str | None = None
    expired_at: datetime | None = None
    # Graded release: the property groups released (None: every group, an approval of old).
    released_groups: list[str] | None = None
    # The deadline of the answer (policies/disclosure.py), when the job escalated it to the
    # CROSS coordinators, and ``overdue``: unanswered past its deadline at the instant of the
    # read (set by the hub from the policy, so it shows before the job has run).
    due_at: datetime | None = None
    escalated_at: datetime | None = None
    overdue: bool = False

    def as_policy_grant(self) -> DisclosureGrant | None:
        """The grant an approval made (whether still active or not), else None."""
        if self.status not in (RequestStatus.APPROVED, RequestStatus.EXPIRED):
            return None
        assert self.decided_by is not None and self.decided_at is not None
        return DisclosureGrant(
            grant_id=self.request_id, lead_id=self.lead_id,
            requester_user_id=self.requester_user_id, owner_agency=self.owner_agency,
            approved_by=self.decided_by, approved_at=self.decided_at, valid_until=self.valid_until,
            released_groups=self.released_groups,
        )


class DisclosureMessage(BaseModel):
    """One message of a request's thread (graph/grants/threads.py)."""

    message_id: str
    request_id: str
    author_user_id: str
    author_name: str
    author_agency: str
    side: str  # "requester" | "holder" | "coordinator"
    text: str
    created_at: datetime


class Notification(BaseModel):
    notification_id: str
    agency: str
    user_id: str | None = None  # None: for the whole agency (its approvers)
    kind: NotificationKind
    message: str  # French, what the person reads
    created_at: datetime
    read_at: datetime | None = None
    payload: dict[str, str | None] = Field(default_factory=dict)


class ExpiredGrant(BaseModel):
    """One grant ``expire_grants`` just ended: enough to audit and notify it."""

    grant_id: str
    kind: str  # "guest" | "disclosure"
    user_id: str  # the grantee or requester
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    valid_until: datetime


class NewGuestGrant(BaseModel):
    """What the router validated; the graph stores it as is."""

    grantee_user_id: str
    grantee_name: str
    grantee_agency: str
    lead_ids: list[str]
    entity_keys: list[str]
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    granted_by: str
    granted_by_name: str
    reason: str
