"""The connector's HTTP client to the hub (httpx), with retries (tenacity).

* ``POST {hub_url}/api/v1/leads`` with ``{"leads": [...]}`` → ``IngestResponse``;
* ``POST {hub_url}/api/v1/connectors/{name}/runs`` with a run record.

Every attempt is signed afresh (``connectors.signing.CrossHubAuth``) and carries the bearer token.

Whose fault: a transport error, a 5xx, a 429 or a 409 ``replay_detected`` is the hub's (or the
network's) and transient → ``HubUnavailable``, retried with exponential backoff plus jitter (and
the hub's ``Retry-After`` when it gives one). Any other 4xx means the hub refuses what we sent or who
we are → ``HubRefused`` (our fault: token, key registration, envelope, size), not retried.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from connectors.signing import CrossHubAuth, load_signer
from hub.contract.errors import ConfigurationError, CrossHubError
from hub.contract.lead import IngestResponse

if TYPE_CHECKING:
    from connectors.models import ConnectorSettings

log = logging.getLogger("crosshub.connectors.push")

LEADS_PATH = "/api/v1/leads"
RUNS_PATH = "/api/v1/connectors/{name}/runs"


@dataclass(frozen=True)
class PushPolicy:
    attempts: int = 6  # per request, first try included
    initial_wait_s: float = 1.0  # then doubling...
    max_wait_s: float = 60.0  # ...up to this, plus up to initial_wait_s of jitter
    max_retry_after_s: float = 300.0  # cap on the hub's Retry-After
    timeout_s: float = 30.0


class HubUnavailable(CrossHubError):
    """The hub could not be reached or answered a transient error: the hub's fault, retry later."""

    code = "hub_unavailable"
    retryable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.http_status = status
        self.retry_after = retry_after


class HubRefused(CrossHubError):
    """The hub refused the request (4xx other than 409 replay/429): ours to fix, not retried."""

    code = "hub_refused"

    def __init__(self, message: str, *, status: int, code: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, details=details)
        self.http_status = status
        if code:
            self.code = code


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_body(resp: httpx.Response) -> tuple[str | None, str, list[dict[str, Any]]]:
    try:
        body = resp.json()
    except ValueError:
        return None, (resp.text or "").strip()[:300] or resp.reason_phrase, []
    if isinstance(body, dict):
        details = body.get("details") if isinstance(body.get("details"), list) else []
        return body.get("code"), str(body.get("message") or resp.reason_phrase), details
    return None, resp.reason_phrase, []


def classify(resp: httpx.Response) -> None:
    """Raise the error an HTTP answer means; return for a 2xx."""
    if resp.is_success:
        return
    code, message, details = _error_body(resp)
    status = resp.status_code
    where = f"{resp.request.method} {resp.request.url.path} → {status}"
    if status >= 500 or status == 429 or (status == 409 and code == "replay_detected"):
        raise HubUnavailable(f"{where} {code or ''} : {message}".replace("  ", " "),
                             status=status, retry_after=_retry_after(resp), details=details)
    raise HubRefused(f"{where} {code or ''} : {message}".replace("  ", " "),
                     status=status, code=code, details=details)


class HubClient:
    def __init__(self, hub_url: str, auth: CrossHubAuth, policy: PushPolicy | None = None, *,
                 transport: httpx.BaseTransport | None = None,
                 allow_insecure_http: bool = False) -> None:
        """Raises ``ConfigurationError`` for plain http to a non-loopback hub unless
        ``allow_insecure_http`` (connectors.models.check_hub_url)."""
        from connectors.models import check_hub_url

        if not allow_insecure_http:  # when allowed, the settings' validator already warned
            try:
                check_hub_url(hub_url)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from None
        self.policy = policy or PushPolicy()
        self.base = hub_url.rstrip("/")
        self._http = httpx.Client(
            auth=auth, timeout=self.policy.timeout_s, transport=transport,
            headers={"User-Agent": "crosshub-connector/1", "Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, settings: ConnectorSettings, policy: PushPolicy | None = None) -> HubClient:
        """Raises ``ConfigurationError`` when the signing key is missing or unsafe."""
        return cls(settings.hub_url, load_signer(settings.signing_key_path, settings.hub_token), policy,
                   allow_insecure_http=settings.allow_insecure_http)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the calls -----------------------------------------------------------------------------

    def push_leads(self, leads: list[dict[str, Any]]) -> IngestResponse:
        resp = self._post(LEADS_PATH, {"leads": leads})
        try:
            answer = IngestResponse.model_validate(resp.json())
        except (ValueError, ValidationError) as exc:
            raise HubUnavailable(f"réponse illisible du hub à l'envoi des pistes : {exc}") from None
        return answer

    def post_run(self, name: str, run_record: dict[str, Any]) -> None:
        self._post(RUNS_PATH.format(name=name), run_record)

    # --- plumbing --------------------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        p = self.policy
        backoff = (wait_exponential(multiplier=p.initial_wait_s, max=p.max_wait_s)
                   + wait_random(0, p.initial_wait_s))(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, HubUnavailable) and exc.retry_after is not None:
            return min(max(backoff, exc.retry_after), p.max_retry_after_s)
        return backoff

    def _post(self, path: str, payload: Any) -> httpx.Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        url = self.base + path
        retrying = Retrying(
            retry=retry_if_exception_type(HubUnavailable),
            stop=stop_after_attempt(max(1, self.policy.attempts)),
            wait=self._wait,
            reraise=True,
            before_sleep=lambda s: log.warning(
                "hub: attempt %d failed (%s), retrying", s.attempt_number,
                s.outcome.exception() if s.outcome else "?"),
        )
        for attempt in retrying:
            with attempt:
                try:
                    resp = self._http.post(url, content=body,
                                           headers={"Content-Type": "application/json"})
                except httpx.TransportError as exc:
                    raise HubUnavailable(f"hub injoignable ({url}) : {type(exc).__name__}: {exc}") from None
                classify(resp)
                return resp
        raise AssertionError("unreachable")  # pragma: no cover
