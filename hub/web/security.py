"""Security headers on every answer of the hub (pages, static files, the API): a strict
Content-Security-Policy (``default-src 'self'``, no inline script or style, no framing, forms
only to the hub), no MIME sniffing, no referrer beyond the hub, no powerful browser features.

An answer that already carries its own policy keeps it (``/docs`` allows its one inline start-up
script by hash, hub/openapi.py); nothing else is relaxed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make forms send Origin: null
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)


def csp_for(map_tiles_url: str | None) -> str:
    """The hub's policy; a configured basemap (``CROSSHUB_MAP_STYLE_URL``) adds its origin to
    ``img-src`` only, so its tiles load and nothing else from that host can."""
    if not map_tiles_url:
        return CSP
    parts = urlsplit(map_tiles_url)
    origin = f"{parts.scheme}://{parts.netloc.split('{')[0]}"
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, csp: str = CSP) -> None:
        self.app = app
        self._csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", self._csp))
                headers.extend((n, v) for n, v in HEADERS if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
