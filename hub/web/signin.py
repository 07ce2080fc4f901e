"""The cookies of a signed-in browser, set the same way by every sign-in (password form, an
agency's OIDC provider) and by every refresh: the access token (``crosshub_session``, path ``/``,
until the token's expiry), the refresh token (``crosshub_refresh``, HttpOnly, SameSite=Strict,
sent only to ``/api/v1/auth/refresh``: no page or API call ever carries it) and a marker without
any secret (``crosshub_refreshable``, path ``/``, until the session's absolute end) telling a page
that an expired access token may be renewed silently rather than sending the person to sign in.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Response

from hub.web.session import SESSION_COOKIE, cookie_args

REFRESH_COOKIE = "crosshub_refresh"
REFRESH_PATH = "/api/v1/auth/refresh"
REFRESHABLE_COOKIE = "crosshub_refreshable"
# The page hop that renews a session from a page navigation (under REFRESH_PATH, so the browser
# sends the refresh cookie to it).
REFRESH_PAGE = REFRESH_PATH + "/page"


def set_session_cookies(response: Response, *, secure: bool, access_token: str,
                        access_expires_at: datetime, refresh_token: str | None,
                        session_expires_at: datetime, now: datetime) -> None:
    access_ttl = max(int((access_expires_at - now).total_seconds()), 1)
    response.set_cookie(SESSION_COOKIE, access_token, **cookie_args(secure, max_age=access_ttl))
    if refresh_token is None:
        return
    session_ttl = max(int((session_expires_at - now).total_seconds()), 1)
    response.set_cookie(REFRESH_COOKIE, refresh_token,
                        **{**cookie_args(secure, max_age=session_ttl), "path": REFRESH_PATH})
    response.set_cookie(REFRESHABLE_COOKIE, "1", **cookie_args(secure, max_age=session_ttl))


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(REFRESHABLE_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH)
