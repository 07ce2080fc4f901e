"""hub/auth/tokens.py: EdDSA access tokens — issue, verify, tampering, expiry, algorithm
confusion, audience and issuer, and the key file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth import tokens
from hub.auth.tokens import AccessTokenKeys
from hub.contract.errors import ConfigurationError, NotAuthenticated


@pytest.fixture
def keys(tmp_path: Path) -> AccessTokenKeys:
    return tokens.load_or_create_keys(tmp_path / "keys")


def issue(keys: AccessTokenKeys, **overrides) -> tokens.IssuedAccessToken:
    args = {"user_id": "police:dupont", "agency": "police", "role": "analyst",
            "session_id": "sess-123456", "ttl": timedelta(minutes=30)} | overrides
    return keys.issue(**args)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return head + "." + b64(signature)


def test_issue_then_verify_round_trips_every_claim(keys: AccessTokenKeys) -> None:
    issued = issue(keys)
    claims = keys.verify(issued.token)
    assert claims == issued.claims
    assert (claims.sub, claims.agency, claims.role, claims.sid) == (
        "police:dupont", "police", "analyst", "sess-123456")
    assert (claims.iss, claims.aud) == ("crosshub", "crosshub-api")
    assert claims.exp - claims.iat == timedelta(minutes=30)
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": keys.key_id}
    assert issue(keys).claims.jti != issued.claims.jti


def test_tampered_payload_or_signature_is_refused(keys: AccessTokenKeys) -> None:
    token = issue(keys).token
    head, payload, sig = token.split(".")
    body = json.loads(unb64(payload))
    body["role"] = "administrator"
    with pytest.raises(NotAuthenticated):
        keys.verify(f"{head}.{b64(json.dumps(body).encode())}.{sig}")
    flipped = bytearray(unb64(sig))
    flipped[0] ^= 1
    with pytest.raises(NotAuthenticated):
        keys.verify(f"{head}.{payload}.{b64(bytes(flipped))}")
    with pytest.raises(NotAuthenticated):
        keys.verify("pas.un.jeton")


def test_expired_beyond_leeway_is_refused_within_leeway_accepted(keys: AccessTokenKeys) -> None:
    now = datetime.now(UTC)
    just_expired = issue(keys, ttl=timedelta(minutes=1), now=now - timedelta(seconds=70))
    assert keys.verify(just_expired.token).sub == "police:dupont"  # 10 s late: clock drift
    expired = issue(keys, ttl=timedelta(minutes=1), now=now - timedelta(seconds=100))
    with pytest.raises(NotAuthenticated, match="expiré"):
        keys.verify(expired.token)


def test_another_keys_token_is_refused(keys: AccessTokenKeys, tmp_path: Path) -> None:
    other = tokens.load_or_create_keys(tmp_path / "other")
    with pytest.raises(NotAuthenticated):
        keys.verify(issue(other).token)
    # Even with our kid in the header, the signature decides.
    rogue = Ed25519PrivateKey.generate()
    payload = jwt.decode(issue(keys).token, options={"verify_signature": False})
    forged = jwt.encode(payload, rogue, algorithm="EdDSA",
                        headers={"kid": keys.key_id, "typ": "at+jwt"})
    with pytest.raises(NotAuthenticated):
        keys.verify(forged)


def test_alg_none_and_hmac_with_the_public_key_are_refused(keys: AccessTokenKeys) -> None:
    payload = jwt.decode(issue(keys).token, options={"verify_signature": False})
    with pytest.raises(NotAuthenticated):
        keys.verify(forge({"alg": "none", "typ": "at+jwt", "kid": keys.key_id}, payload))
    # The classic confusion: HS256 keyed with the (public) verification key's PEM.
    public_pem = keys.public_key.public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": keys.key_id}
    signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode()))
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(NotAuthenticated):
        keys.verify(signing_input + "." + b64(mac))


def test_wrong_audience_issuer_or_type_or_missing_claim_is_refused(keys: AccessTokenKeys) -> None:
    private = keys._private
    good = jwt.decode(issue(keys).token, options={"verify_signature": False})
    headers = {"kid": keys.key_id, "typ": "at+jwt"}

    def signed(payload: dict, hdrs: dict = headers) -> str:
        return jwt.encode(payload, private, algorithm="EdDSA", headers=hdrs)

    assert keys.verify(signed(good)).sub == "police:dupont"  # the control: re-signed as-is passes
    for bad in ({**good, "aud": "another-api"}, {**good, "iss": "someone-else"},
                {k: v for k, v in good.items() if k != "sid"},
                {k: v for k, v in good.items() if k != "exp"},
                {**good, "role": "superuser"}):
        with pytest.raises(NotAuthenticated):
            keys.verify(signed(bad))
    with pytest.raises(NotAuthenticated):
        keys.verify(signed(good, {"kid": keys.key_id, "typ": "JWT"}))


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    first = tokens.load_or_create_keys(keys_dir)
    path = keys_dir / tokens.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert tokens.load_or_create_keys(keys_dir).key_id == first.key_id
    assert tokens.keys_for(keys_dir) is tokens.keys_for(keys_dir)
    assert not [p for p in keys_dir.iterdir() if p.name.endswith(".tmp")]


def test_key_file_created_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        tokens.load_or_create_keys(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k" / tokens.KEY_FILE).stat().st_mode) == 0o600


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    tokens.load_or_create_keys(tmp_path / "keys")
    (tmp_path / "keys" / tokens.KEY_FILE).chmod(0o640)
    with pytest.raises(ConfigurationError, match="0600"):
        tokens.load_or_create_keys(tmp_path / "keys")
