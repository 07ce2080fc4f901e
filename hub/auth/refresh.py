"""Opening a session and renewing its access tokens: what every sign-in (password or OIDC) hands
out, and the refresh token's format.

A session lasts ``session_max_hours`` (absolute, from sign-in); its access tokens last
``access_token_ttl_min`` and never past the session's end. A refresh token is
``crr_<session id>.<256 random bits>``: opaque to its holder, only the SHA-256 of the random part
is stored (graph/sessions.py), it is single use (each refresh hands out the next one) and
presenting one already used revokes the whole session (theft detection) — except within
``refresh_reuse_grace_s`` of its rotation, where it is merely refused (two tabs racing).

Also owns the signed, short-lived cookie that carries a pending OIDC sign-in (provider, state,
nonce, PKCE verifier, where to go next) from the start to the callback: HMAC-SHA256 under
``keys_dir/oidc_state.key`` (32 random bytes, 0600), ten minutes, single use (its state is
consumed in the graph at the callback).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from hub.auth.tokens import IssuedAccessToken, keys_for
from hub.keyfiles import PerDirectory, load_or_create_private_file
from hub.settings import Settings

REFRESH_PREFIX = "crr_"
_REFRESH_RE = re.compile(r"^crr_([A-Za-z0-9_-]{8,100})\.([A-Za-z0-9_-]{43})$")
PENDING_TTL_S = 600
STATE_KEY_FILE = "oidc_state.key"


def refresh_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_refresh_token(session_id: str) -> tuple[str, str]:
    """(token to hand out, hash to store)."""
    secret = secrets.token_urlsafe(32)
    return f"{REFRESH_PREFIX}{session_id}.{secret}", refresh_hash(secret)


def parse_refresh_token(token: str | None) -> tuple[str, str] | None:
    """(session id, hash of its secret), or None for anything not shaped like one."""
    m = _REFRESH_RE.match(token or "")
    return (m.group(1), refresh_hash(m.group(2))) if m else None


class OpenedSession(BaseModel):
    session_id: str
    access: IssuedAccessToken
    refresh_token: str
    refresh_hash: str
    session_expires_at: datetime


def session_end(settings: Settings, now: datetime) -> datetime:
    return (now + timedelta(hours=settings.session_max_hours)).replace(microsecond=0)


def access_ttl(settings: Settings, now: datetime, ends_at: datetime) -> timedelta:
    """The access token's lifetime: its setting, never past the session's end."""
    return max(timedelta(seconds=1),
               min(timedelta(minutes=settings.access_token_ttl_min), ends_at - now))


def open_session(settings: Settings, *, session_id: str, user_id: str, agency: str, role: str,
                 now: datetime) -> OpenedSession:
    """The first access token and refresh token of a new session (stored by the caller, after
    it logged the sign-in: nothing is issued that the trail does not show)."""
    ends_at = session_end(settings, now)
    issued = keys_for(settings.keys_dir).issue(
        user_id=user_id, agency=agency, role=role, session_id=session_id,
        ttl=access_ttl(settings, now, ends_at), now=now)
    token, hashed = new_refresh_token(session_id)
    return OpenedSession(session_id=session_id, access=issued, refresh_token=token,
                         refresh_hash=hashed, session_expires_at=ends_at)


# --- the pending OIDC sign-in cookie -------------------------------------------------------------

class PendingSignIn(BaseModel):
    provider: str
    state: str
    nonce: str
    verifier: str
    suite: str
    exp: int


class StateSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()
                                        ).rstrip(b"=").decode()

    def seal(self, pending: PendingSignIn) -> str:
        body = base64.urlsafe_b64encode(pending.model_dump_json().encode()).rstrip(b"=")
        return body.decode() + "." + self._mac(body)

    def open(self, value: str | None, now: float | None = None) -> PendingSignIn | None:
        """The pending sign-in, or None if missing, tampered with or older than ten minutes."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(self._mac(body.encode()), mac):
            return None
        try:
            data: Any = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            pending = PendingSignIn.model_validate(data)
        except ValueError:
            return None
        return pending if pending.exp > (now or time.time()) else None


state_signer_for = PerDirectory(lambda keys_dir: StateSigner(load_or_create_private_file(
    keys_dir, STATE_KEY_FILE, lambda: os.urandom(32), "clé des connexions OIDC en cours")))
