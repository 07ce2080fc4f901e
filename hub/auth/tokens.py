"""Short-lived access tokens issued at login: JWTs signed EdDSA (Ed25519) with the hub's key.

Owns the key file ``keys_dir/access_token_ed25519.pem`` (PKCS#8, mode 0600 from its first byte,
written by the hub's exclusive key writer — hub/keyfiles.py — so it is never readable by others,
not even for an instant, and a concurrent first start cannot overwrite it; a key found with
looser permissions is refused), the claims (``AccessClaims``), issuing and verifying.

A token says who (``sub``, ``agency``, ``role``), which session (``sid``), its own id (``jti``),
when (``iat``, ``exp``), by whom (``iss`` = crosshub) and for whom (``aud`` = crosshub-api).
Verification pins the algorithm to EdDSA — ``none`` and every HMAC algorithm are refused, so a
token "signed" with the public key as an HMAC secret never passes — checks issuer, audience and
expiry with 30 s of leeway for clock drift, and requires every claim. The signature proves the
hub issued the token; whether its session is still open is the hub's one graph look-up
(graph/sessions.py), so logout and revocation take effect at once, not at ``exp``.

Not covered (future work): key rotation (``kid`` is in every header to allow it) and an HSM.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import BaseModel, ConfigDict

from hub.contract.errors import ConfigurationError, NotAuthenticated
from hub.contract.lead import Agency
from hub.keyfiles import PerDirectory, load_or_create_private_file
from policies.models import Role

KEY_FILE = "access_token_ed25519.pem"
ALGORITHM = "EdDSA"
ISSUER = "crosshub"
AUDIENCE = "crosshub-api"
TOKEN_TYPE = "at+jwt"  # RFC 9068: an access token, not an ID token or anything else we may sign
LEEWAY_S = 30
REQUIRED_CLAIMS = ("sub", "agency", "role", "sid", "jti", "iat", "exp", "iss", "aud")

INVALID_TOKEN = "jeton d'accès invalide"


class AccessClaims(BaseModel):
    """The verified content of an access token."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str  # user_id
    agency: Agency
    role: Role
    sid: str  # session id
    jti: str
    iat: datetime
    exp: datetime
    iss: str
    aud: str


class IssuedAccessToken(BaseModel):
    token: str
    claims: AccessClaims

    @property
    def expires_at(self) -> datetime:
        return self.claims.exp


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "at-ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


class AccessTokenKeys:
    """The hub's access-token key pair: issues and verifies tokens."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def issue(self, *, user_id: str, agency: str, role: str, session_id: str, ttl: timedelta,
              now: datetime | None = None) -> IssuedAccessToken:
        # Whole seconds: JWT NumericDate, and what verification will read back.
        iat = (now or datetime.now(UTC)).replace(microsecond=0)
        exp = iat + ttl
        claims = AccessClaims(sub=user_id, agency=agency, role=role, sid=session_id,
                              jti=secrets.token_urlsafe(16), iat=iat, exp=exp, iss=ISSUER,
                              aud=AUDIENCE)
        payload = {**claims.model_dump(mode="json"),
                   "iat": int(iat.timestamp()), "exp": int(exp.timestamp())}
        token = jwt.encode(payload, self._private, algorithm=ALGORITHM,
                           headers={"kid": self.key_id, "typ": TOKEN_TYPE})
        return IssuedAccessToken(token=token, claims=claims)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a token this key issued, still within its lifetime; else
        ``NotAuthenticated`` (French)."""
        try:
            decoded = jwt.api_jwt.decode_complete(
                token, self.public_key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                leeway=LEEWAY_S, options={"require": list(REQUIRED_CLAIMS), "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("jeton d'accès expiré : se reconnecter") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(INVALID_TOKEN) from exc
        header = decoded["header"]
        if header.get("typ") != TOKEN_TYPE or header.get("kid") != self.key_id:
            raise NotAuthenticated(INVALID_TOKEN)
        payload = decoded["payload"]
        try:
            return AccessClaims.model_validate(
                {**payload, "iat": datetime.fromtimestamp(payload["iat"], UTC),
                 "exp": datetime.fromtimestamp(payload["exp"], UTC)})
        except (ValueError, TypeError, OverflowError) as exc:
            raise NotAuthenticated(INVALID_TOKEN) from exc


# --- the key file ----------------------------------------------------------------------------------


def load_or_create_keys(keys_dir: Path) -> AccessTokenKeys:
    """The hub's access-token key, generated on first use."""
    path = keys_dir / KEY_FILE
    pem = load_or_create_private_file(keys_dir, KEY_FILE, _new_private_pem, "clé des jetons d'accès")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"clé des jetons d'accès illisible : {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"clé des jetons d'accès : {path} n'est pas une clé Ed25519")
    return AccessTokenKeys(key)


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


# Every request verifies a token: the key is read once per process and directory.
keys_for = PerDirectory(load_or_create_keys)
