"""The HTTP status of each error kind is decided once, at the edge (``hub.errors``); the kernel's
errors carry none. The table below is written from HTTP's meaning of each status and the API's
documented answers (README, /openapi.json), not read back from the code."""

from __future__ import annotations

import inspect

import pytest

from hub.contract import errors as kernel
from hub.errors import HttpError, error_response, status_of

EXPECTED = {
    "MissingJustification": 400,  # documented: a consultation without justification is 400
    "NotAuthenticated": 401,
    "Forbidden": 403,
    "CsrfRefused": 403,  # a forged or token-less browser mutation is refused, not unauthenticated
    # The caller is authenticated; the act needs a fresh second factor (ADR 0022): « not this,
    # not now », never 401 (which sends the web application back to sign-in).
    "SecondFactorRequired": 403,
    "SecondFactorNotEnrolled": 403,
    "SecondFactorSessionRequired": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "Conflict": 409,
    "ReplayDetected": 409,  # a nonce seen twice conflicts with what the hub recorded
    "PayloadTooLarge": 413,
    "InvalidInput": 422,
    "SourceRecordInvalid": 422,
    "TooManyRequests": 429,
    # A federation peer past its daily evaluations (policies/data/federation.yaml): too many, for
    # today — retryable after midnight UTC (ADR 0024).
    "QuotaExceeded": 429,
    "CrossHubError": 500,
    "ConfigurationError": 500,  # our own setup: our fault
    "SourceError": 502,  # an upstream source failed
    "GraphUnavailable": 503,
    "AuditUnavailable": 503,
}


def _kernel_errors() -> dict[str, type[kernel.CrossHubError]]:
    return {name: cls for name, cls in inspect.getmembers(kernel, inspect.isclass)
            if issubclass(cls, kernel.CrossHubError) and cls.__module__ == kernel.__name__}


def test_every_kernel_error_has_its_status_in_the_table() -> None:
    assert set(_kernel_errors()) == set(EXPECTED), "a new error kind needs its status decided here"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_status_of_each_error_kind(name: str) -> None:
    error = _kernel_errors()[name]("message")
    assert status_of(error) == EXPECTED[name]
    response = error_response(error)
    assert response.status_code == EXPECTED[name]
    assert (response.headers.get("WWW-Authenticate") == "Bearer") == (EXPECTED[name] == 401)
    assert ("Retry-After" in response.headers) == error.retryable


def test_the_kernel_knows_no_http_status() -> None:
    assert "status_code" not in inspect.getsource(kernel)
    for cls in _kernel_errors().values():
        assert not hasattr(cls, "status_code"), cls


def test_a_subclass_answers_as_its_nearest_listed_ancestor() -> None:
    class LeadAlreadyClosed(kernel.Conflict):
        code = "lead_closed"

    assert status_of(LeadAlreadyClosed("déjà clos")) == 409
    assert status_of(HttpError("je suis une théière", status=418, code="http_418")) == 418
