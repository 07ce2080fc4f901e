"""The connector side of request signing: an ``httpx.Auth`` that adds the bearer token and the four
``X-CrossHub-*`` signature headers (``hub.contract.signing``) to every request it sends, with a fresh
timestamp and nonce on every attempt (so a retried request is never a replay)."""

from __future__ import annotations

import os
from collections.abc import Generator

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from hub.contract.signing import (
    generate_keypair,
    key_id_of,
    load_private_key,
    public_key_pem,
    sign_request,
)

__all__ = ["CrossHubAuth", "generate_keypair", "key_id_of", "load_private_key", "public_key_pem",
           "load_signer"]


class CrossHubAuth(httpx.Auth):
    requires_request_body = True

    def __init__(self, private_key: Ed25519PrivateKey, token: SecretStr | None) -> None:
        self._key = private_key
        self._token = token
        self.key_id = key_id_of(private_key.public_key())

    def __repr__(self) -> str:  # never show the token or the key
        return f"CrossHubAuth(key_id={self.key_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is not None:
            request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        request.headers.update(
            sign_request(self._key, request.method, request.url.path, request.content)
        )
        yield request


def load_signer(signing_key_path: str | os.PathLike[str], token: SecretStr | None) -> CrossHubAuth:
    """Raises ``ConfigurationError`` when the key is missing, unreadable or readable by others."""
    return CrossHubAuth(load_private_key(signing_key_path), token)
