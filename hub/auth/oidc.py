"""The OIDC protocol as the hub speaks it to an agency's identity provider: discovery, the
authorization request (code flow, PKCE S256, state, nonce), the code exchange and the ID token's
verification. Which providers exist and how claims map to hub terms are policies/auth/oidc.py.

- **Discovery** — ``<issuer>/.well-known/openid-configuration``, fetched with httpx and kept an
  hour per provider; its ``issuer`` must be the configured one exactly (OIDC Discovery §4.3) and
  its endpoints https (http only for a loopback issuer, the tests' Keycloak).
- **ID token** — signature against the issuer's JWKS (pyjwt's ``PyJWKClient``, keys cached, an
  unknown ``kid`` refetched once); algorithm from an asymmetric allow-list and the provider's
  advertised ones (never ``none`` or HMAC); ``iss`` = the provider's issuer, ``aud`` contains the
  hub's client id, ``azp`` (required when several audiences) = the client id, ``exp``/``iat``
  with 60 s of drift, ``nonce`` = the one this sign-in sent. Any mismatch is ``OidcRefused`` with
  the cause (for the audit trail); the person reads one French message.
- **Client secret** — only for ``client_auth: client_secret_basic``: the file
  ``keys_dir/oidc/<provider id>.secret``, refused unless mode 0600 (never in the repository or
  the policy file).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from hub.contract.errors import ConfigurationError
from policies.auth.oidc import (
    IdentityProviderConfig,
    IdentityProviders,
    OidcRefused,
    VerifiedIdToken,
    load_identity_providers,
)

DISCOVERY_TTL_S = 3600
HTTP_TIMEOUT_S = 10.0
LEEWAY_S = 60
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                        "ES512", "EdDSA"})
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "nonce")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): 64 URL-safe characters (RFC 7636 allows 43 to 128)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class Discovery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = ["RS256"]


def client_secret(keys_dir: Path, provider_id: str) -> SecretStr:
    path = keys_dir / "oidc" / f"{provider_id}.secret"
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"secret client OIDC introuvable pour « {provider_id} » : {path} (mode 0600)") from exc
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigurationError(
            f"secret client OIDC {path} lisible par d'autres : mode 0600 exigé")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigurationError(f"secret client OIDC vide : {path}")
    return SecretStr(value)


def _loopback_http(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return urlsplit(url).scheme == "http" and host in ("127.0.0.1", "localhost", "::1")


class OidcClient:
    """The hub as a client of one provider."""

    def __init__(self, config: IdentityProviderConfig, keys_dir: Path) -> None:
        self.config = config
        self._keys_dir = keys_dir
        self._lock = threading.Lock()
        self._discovery: tuple[float, Discovery] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    # --- discovery ---------------------------------------------------------------------------

    def discovery(self) -> Discovery:
        with self._lock:
            if self._discovery and time.monotonic() - self._discovery[0] < DISCOVERY_TTL_S:
                return self._discovery[1]
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=HTTP_TIMEOUT_S)
            response.raise_for_status()
            found = Discovery.model_validate(response.json())
        except (httpx.HTTPError, ValueError, ValidationError) as exc:
            raise OidcRefused("discovery_failed") from exc
        if found.issuer != self.config.issuer:
            raise OidcRefused("discovery_issuer_mismatch")
        secure_ok = _loopback_http(self.config.issuer)
        for endpoint in (found.authorization_endpoint, found.token_endpoint, found.jwks_uri):
            if not (endpoint.startswith("https://") or (secure_ok and _loopback_http(endpoint))):
                raise OidcRefused("discovery_insecure_endpoint")
        with self._lock:
            self._discovery = (time.monotonic(), found)
            if self._jwks is None or self._jwks.uri != found.jwks_uri:
                self._jwks = jwt.PyJWKClient(found.jwks_uri, cache_keys=True, lifespan=3600,
                                             timeout=int(HTTP_TIMEOUT_S))
        return found

    # --- the authorization request ------------------------------------------------------------

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str,
                          challenge: str) -> str:
        d = self.discovery()
        query = {"response_type": "code", "client_id": self.config.client_id,
                 "redirect_uri": redirect_uri, "scope": " ".join(self.config.scopes),
                 "state": state, "nonce": nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256"}
        sep = "&" if "?" in d.authorization_endpoint else "?"
        return d.authorization_endpoint + sep + urlencode(query)

    # --- the code exchange --------------------------------------------------------------------

    def exchange_code(self, *, code: str, verifier: str, redirect_uri: str) -> str:
        """The ID token the provider gives for ``code`` (with the PKCE verifier)."""
        d = self.discovery()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": verifier}
        auth = None
        if self.config.client_auth == "client_secret_basic":
            auth = httpx.BasicAuth(self.config.client_id,
                                   client_secret(self._keys_dir, self.config.id).get_secret_value())
        else:
            form["client_id"] = self.config.client_id
        try:
            response = httpx.post(d.token_endpoint, data=form, auth=auth, timeout=HTTP_TIMEOUT_S,
                                  headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcRefused("token_endpoint_unreachable") from exc
        if response.status_code != 200:
            raise OidcRefused("code_exchange_refused")
        try:
            id_token = response.json().get("id_token")
        except ValueError:
            id_token = None
        if not isinstance(id_token, str) or not id_token:
            raise OidcRefused("code_exchange_no_id_token")
        return id_token

    # --- the ID token -------------------------------------------------------------------------

    def verify_id_token(self, id_token: str, *, nonce: str) -> VerifiedIdToken:
        d = self.discovery()
        try:
            alg = jwt.get_unverified_header(id_token).get("alg")
        except jwt.PyJWTError as exc:
            raise OidcRefused("token_malformed") from exc
        if alg not in ASYMMETRIC or alg not in d.id_token_signing_alg_values_supported:
            raise OidcRefused("token_algorithm")
        assert self._jwks is not None  # set by discovery()
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token)
        except jwt.PyJWTError as exc:  # PyJWKClientError: the kid is not among the issuer's keys
            raise OidcRefused("token_key_unknown") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=[alg], audience=self.config.client_id,
                issuer=self.config.issuer, leeway=LEEWAY_S,
                options={"require": list(REQUIRED_CLAIMS)})
        except jwt.InvalidIssuerError as exc:
            raise OidcRefused("token_issuer") from exc
        except jwt.InvalidAudienceError as exc:
            raise OidcRefused("token_audience") from exc
        except jwt.ExpiredSignatureError as exc:
            raise OidcRefused("token_expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise OidcRefused("token_signature") from exc
        except jwt.PyJWTError as exc:
            raise OidcRefused("token_invalid") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 and azp is None) or (azp is not None and azp != self.config.client_id):
            raise OidcRefused("token_azp")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
                claims["nonce"].encode(), nonce.encode()):
            raise OidcRefused("token_nonce")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise OidcRefused("token_subject")
        return VerifiedIdToken(provider_id=self.config.id, claims=claims)


class OidcClients:
    """One client per configured provider, for the life of an app (discovery and keys cached)."""

    def __init__(self, keys_dir: Path) -> None:
        self._keys_dir = keys_dir
        self._clients: dict[tuple[str, str, str], OidcClient] = {}
        self._lock = threading.Lock()

    def for_provider(self, config: IdentityProviderConfig) -> OidcClient:
        key = (config.id, config.issuer, config.client_id)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = OidcClient(config, self._keys_dir)
            return self._clients[key]


def load_providers_for(settings) -> IdentityProviders:  # noqa: ANN001 - hub.settings.Settings
    """The configured providers: ``identity_providers_file``, else the rules directory's
    ``identity_providers.yaml`` (none configured when a custom rules directory has no such
    file), else the packaged one."""
    if settings.identity_providers_file is not None:
        return load_identity_providers(settings.identity_providers_file)
    if settings.rules_dir is not None:
        path = settings.rules_dir / "identity_providers.yaml"
        return load_identity_providers(path) if path.is_file() else IdentityProviders()
    return load_identity_providers()


def providers_of(request) -> IdentityProviders:  # noqa: ANN001 - a Starlette request
    state = request.app.state
    found = getattr(state, "identity_providers", None)
    if found is None:
        found = state.identity_providers = load_providers_for(state.settings)
    return found
