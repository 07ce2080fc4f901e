"""The browser's session: which cookies the web application sets, and the anti-CSRF tokens.

A signed-in browser holds the same short-lived access token the API hands out at login
(ADR 0004), in an HttpOnly, SameSite=Strict cookie (``Secure`` over https); the hub reads it
exactly as a bearer token (hub.deps.get_caller), so a page sees what the same user's API call
sees and no more. Every mutation authenticated by that cookie must also carry an anti-CSRF
token: ``HMAC(key, "session:" + session id)`` for a signed-in browser (a page holds it in
``<meta name="csrf-token">`` and forms in a hidden field), ``HMAC(key, "login:" + nonce)`` for
the sign-in form, the nonce living in its own short cookie (signed double submit, as OWASP
recommends). The key is ``keys_dir/web_csrf.key``, 32 random bytes, 0600 from its first byte.

The motif of consultation (the justification the API requires) is remembered per browser in a
cookie of its own; the API never reads it: pages send it explicitly with each consultation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from hub.keyfiles import PerDirectory, load_or_create_private_file

SESSION_COOKIE = "crosshub_session"
LOGIN_COOKIE = "crosshub_login"
MOTIF_COOKIE = "crosshub_motif"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
KEY_FILE = "web_csrf.key"
LOGIN_NONCE_TTL_S = 3600


class CsrfKeys:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def for_session(self, session_id: str) -> str:
        return self._mac("session", session_id)

    def for_login(self, nonce: str) -> str:
        return self._mac("login", nonce)

    def session_token_ok(self, session_id: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.for_session(session_id),
                                                       presented or "")

    def login_token_ok(self, nonce: str | None, presented: str | None) -> bool:
        return bool(nonce and presented) and hmac.compare_digest(self.for_login(nonce or ""),
                                                                 presented or "")


csrf_keys_for = PerDirectory(lambda keys_dir: CsrfKeys(load_or_create_private_file(
    keys_dir, KEY_FILE, lambda: os.urandom(32), "clé anti-CSRF de l'application web")))


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def safe_next(target: str | None) -> str:
    """Where to send the user after sign-in: a path of this hub only (never another host, never
    a scheme-relative ``//host``), else the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 for c in target):
        return "/"
    return target


def cookie_args(secure: bool, *, max_age: int | None = None) -> dict:
    """The attributes of every cookie the web application sets."""
    args: dict = {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}
    if max_age is not None:
        args["max_age"] = max_age
    return args


def keys_dir_of(settings) -> Path:
    return settings.keys_dir
