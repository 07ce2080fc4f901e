"""The one error hierarchy of CROSS Hub.

Every room (graph, policies, connectors, hub) raises these; the web edge maps them to HTTP once
(``hub.errors``: the kernel knows no HTTP status), and connectors read the same codes back from the hub's answers. ``message`` is what a
person reads, so it is in French; ``code`` is stable and machine-readable.

Whose fault: ``retryable`` is True only when the same request may succeed later unchanged
(the graph is down, a source answered 5xx) — never for the caller's bad input.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    """One reason an error names: which field, and why (French)."""

    model_config = ConfigDict(extra="allow", title="ErrorDetail")
    field: str = Field(description="Chemin exact du champ, p. ex. leads[3].vehicles[0].plate, "
                                   "ou un emplacement entre parenthèses : (corps), (en-tête)")
    reason: str = Field(description="Raison, en français")


class ErrorResponse(BaseModel):
    """The body of every error answer of the hub (``CrossHubError.to_dict()``): a stable
    machine-readable ``code``, a French ``message`` for people, and per field the ``details``
    (left out when there are none)."""

    model_config = ConfigDict(title="ErrorResponse")
    code: str = Field(description="Code stable, p. ex. invalid_input, missing_justification, "
                                  "not_authenticated, forbidden, not_found, conflict")
    message: str = Field(description="Message lisible, en français")
    details: list[ErrorDetail] = Field(default_factory=list,
                                       description="Champs en cause (absent s'il n'y en a pas)")


class CrossHubError(Exception):
    """Base of every error we raise on purpose."""

    code: str = "internal_error"
    retryable: bool = False

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        # When a retryable error knows how long to wait (a lockout), the edge says so.
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(CrossHubError):
    """The caller sent something we refuse; ``details`` names each field and reason."""

    code = "invalid_input"


class MissingJustification(InvalidInput):
    """A consultation of personal data without the justification Art. 25 requires."""

    code = "missing_justification"


class PayloadTooLarge(CrossHubError):
    code = "payload_too_large"


class NotAuthenticated(CrossHubError):
    code = "not_authenticated"


class MethodNotAllowed(CrossHubError):
    """The path exists, not with this method (the answer's ``Allow`` header lists those it has)."""

    code = "method_not_allowed"


class Forbidden(CrossHubError):
    code = "forbidden"


class CsrfRefused(Forbidden):
    """A browser mutation without its session's anti-CSRF token, or from another origin."""

    code = "csrf_refused"


class SecondFactorRequired(Forbidden):
    """The action needs the person to prove their second factor first (a fresh step-up in this
    session: policies/second_factor.py). The web application reacts to this code by asking for
    the 6-digit code, then retrying."""

    code = "second_factor_required"


class SecondFactorNotEnrolled(SecondFactorRequired):
    """The action needs a second factor and the person has none yet: enrol first."""

    code = "second_factor_not_enrolled"


class SecondFactorSessionRequired(SecondFactorRequired):
    """The action needs a person's session stepped up; an API token can never do it."""

    code = "second_factor_session_required"


class NotFound(CrossHubError):
    code = "not_found"


class Conflict(CrossHubError):
    code = "conflict"


class ReplayDetected(Conflict):
    code = "replay_detected"


class TooManyRequests(CrossHubError):
    code = "too_many_requests"
    retryable = True


class QuotaExceeded(TooManyRequests):
    """A federation peer asked more evaluations than its daily quota (policies/federation.py):
    429 until the next UTC day, nothing evaluated."""

    code = "quota_exceeded"


class GraphUnavailable(CrossHubError):
    """The graph could not be reached or answered a transient error: retry later."""

    code = "graph_unavailable"
    retryable = True


class AuditUnavailable(CrossHubError):
    """The audit trail cannot record: the operation it would have logged must not proceed."""

    code = "audit_unavailable"
    retryable = True


class SourceError(CrossHubError):
    """A connector's source failed (5xx, timeout, slow page): the source's fault, retryable."""

    code = "source_error"
    retryable = True


class SourceRecordInvalid(CrossHubError):
    """One source record cannot be mapped: the source's data, not retryable; quarantined."""

    code = "source_record_invalid"


class ConfigurationError(CrossHubError):
    """Our own setup is wrong (bad policy file, missing key): our fault, not retryable."""

    code = "configuration_error"
