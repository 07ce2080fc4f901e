"""Test helper: a person's session stepped up with the second factor, through the real API.

Approving or declining a disclosure and exporting a network need a person's session that proved
its TOTP code recently (policies/data/second_factor.yaml; hub.deps.requires). An API token
(``make_user``'s default) is refused. Use:

* ``stepped_up(client, user_id)`` → bearer headers of a new session of that (existing) user,
  enrolled through ``/api/v1/second-factor`` with pyotp and fresh for the policy's 10 min. Works
  with any app: a ``TestClient`` (its own settings and graph) or a live hub (``LiveHub``).
* ``make_user(agency, role, second_factor=True)`` (tests/hub/conftest.py) does both steps on
  the session ``client``.
* ``enrol(client, headers)`` → ``Authenticator`` (its ``next_code()`` is a code the hub has not
  seen yet — the enrolment's own code cannot be used twice, the next time step's can, within the
  ±1 step drift) and ``step_up(client, headers, authenticator)``.
* Browser: ``enrol_web_user(live_hub, web_user)`` then ``step_up_page(page, live_hub,
  authenticator)`` steps the signed-in page's own session up (the approve button then works
  without the step-up dialog).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from hub.auth.tokens import keys_for

PERIOD_S = 30


@dataclass
class Authenticator:
    """The phone app: the secret, and the last time step whose code was spent."""

    secret: str
    last_step: int | None = None

    @property
    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.secret, interval=PERIOD_S)

    def next_code(self) -> str:
        """A code for a step the hub has not seen: now's, or the next one (accepted: ±1 step
        drift), waiting for the clock only if both are spent."""
        while True:
            now_step = int(time.time()) // PERIOD_S
            step = now_step if self.last_step is None or self.last_step < now_step else now_step + 1
            if self.last_step is None or step > self.last_step:
                self.last_step = step
                return self.totp.at(step * PERIOD_S)
            time.sleep(max(0.05, (now_step + 1) * PERIOD_S - time.time()))


def session_headers(graph: Graph, keys_dir, user_id: str,
                    ttl: timedelta = timedelta(minutes=30)) -> dict[str, str]:
    """Bearer headers of a new person's session (as a password login opens one)."""
    user = identity.get_user(graph, user_id)
    sid = graph_sessions.new_session_id()
    issued = keys_for(keys_dir).issue(user_id=user.user_id, agency=user.agency, role=user.role,
                                      session_id=sid, ttl=ttl)
    graph_sessions.create_session(graph, user_id=user.user_id, expires_at=datetime.now(UTC) + ttl,
                                  client="127.0.0.1", provider="password", session_id=sid)
    return {"Authorization": f"Bearer {issued.token}"}


def enrol(client: Any, headers: dict[str, str]) -> Authenticator:
    """Enrol through the API (begin, then confirm with a first pyotp code): the session of
    ``headers`` is stepped up at that instant."""
    begun = client.post("/api/v1/second-factor/enrolment", headers=headers)
    assert begun.status_code == 201, begun.text
    auth = Authenticator(begun.json()["secret"])
    done = client.post("/api/v1/second-factor/enrolment/confirm", headers=headers,
                       json={"code": auth.next_code()})
    assert done.status_code == 200, done.text
    return auth


def step_up(client: Any, headers: dict[str, str], auth: Authenticator) -> None:
    answer = client.post("/api/v1/second-factor/verify", headers=headers,
                         json={"code": auth.next_code()})
    assert answer.status_code == 200, answer.text


class SteppedUpHeaders(Mapping[str, str]):
    """Bearer headers of a person's session that stay usable for second-factor actions however
    long a module's tests take: read (as httpx and TestClient read headers), they step the
    session up again once the last step-up is older than ``RENEW_AFTER`` (the policy's freshness
    is 10 min), and open a new session before the access token's 30 min are out."""

    RENEW_AFTER = timedelta(minutes=5)
    NEW_SESSION_AFTER = timedelta(minutes=20)

    def __init__(self, client: Any, user_id: str) -> None:
        self._client, self.user_id = client, user_id
        self._headers = self._new_session()
        self.authenticator = enrol(client, self._headers)
        self._session_at = self._stepped_at = time.monotonic()

    def _new_session(self) -> dict[str, str]:
        state = self._client.app.state
        return session_headers(state.graph, state.settings.keys_dir, self.user_id)

    def current(self) -> dict[str, str]:
        now = time.monotonic()
        if now - self._session_at > self.NEW_SESSION_AFTER.total_seconds():
            self._headers, self._session_at = self._new_session(), now
            self._stepped_at = 0.0
        if now - self._stepped_at > self.RENEW_AFTER.total_seconds():
            step_up(self._client, self._headers, self.authenticator)
            self._stepped_at = now
        return self._headers

    def __getitem__(self, key: str) -> str:
        return self.current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self._headers)


def stepped_up(client: Any, user_id: str) -> SteppedUpHeaders:
    """Headers of a new, enrolled and freshly stepped-up session of ``user_id`` on the app behind
    ``client`` (a TestClient), renewed by themselves when read later (``SteppedUpHeaders``)."""
    return SteppedUpHeaders(client, user_id)


# --- the web application ---------------------------------------------------------------------------


def enrol_web_user(hub: Any, user: Any) -> Authenticator:
    """Enrol a ``WebUser`` of the live hub (through the API, in a session of its own)."""
    headers = session_headers(hub.graph, hub.settings.keys_dir, user.user_id)
    with hub.client() as c:
        return enrol(c, headers)


def step_up_page(page: Any, hub: Any, auth: Authenticator) -> None:
    """Step the signed-in page's own session up, as its step-up dialog would."""
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    answer = page.request.post(f"{hub.url}/api/v1/second-factor/verify",
                               headers={"X-CSRF-Token": csrf or "", "Origin": hub.url},
                               data={"code": auth.next_code()})
    assert answer.status == 200, answer.text()
