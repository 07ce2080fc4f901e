"""The HTTP edge of the error hierarchy: which status each kind of error answers with, decided
once, here. The kernel's errors (``hub.contract.errors``) carry a code, a French message, details
and whether a retry may succeed — never an HTTP status: graph, policies and connectors raise them
without knowing there is an HTTP edge at all."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from hub.contract.errors import (
    AuditUnavailable,
    ConfigurationError,
    Conflict,
    CrossHubError,
    Forbidden,
    GraphUnavailable,
    InvalidInput,
    MethodNotAllowed,
    MissingJustification,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    SourceError,
    SourceRecordInvalid,
    TooManyRequests,
)

# Most specific class first matters not: the lookup walks each error's MRO, so a subclass without
# an entry (ReplayDetected, InvalidCredentials…) answers as its nearest listed ancestor.
HTTP_STATUS: dict[type[CrossHubError], int] = {
    MissingJustification: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    InvalidInput: 422,
    SourceRecordInvalid: 422,
    TooManyRequests: 429,
    ConfigurationError: 500,
    SourceError: 502,
    GraphUnavailable: 503,
    AuditUnavailable: 503,
    CrossHubError: 500,
}


class HttpError(CrossHubError):
    """An answer the web framework decided (an unusual status of Starlette's or of a route's own
    ``HTTPException``): it keeps that status."""

    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def status_of(error: CrossHubError) -> int:
    if isinstance(error, HttpError):
        return error.status
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def error_response(error: CrossHubError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one way an error becomes an answer: its body, its status, and the headers the status
    implies (``WWW-Authenticate`` on 401, ``Retry-After`` when a retry may succeed)."""
    status = status_of(error)
    extra: dict[str, Any] = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    if error.retryable:
        extra["Retry-After"] = str(error.retry_after_s or 5)
    return JSONResponse(error.to_dict(), status_code=status, headers=extra or None)
