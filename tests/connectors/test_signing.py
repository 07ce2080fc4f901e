"""The signing contract shared by connectors and the hub (hub.contract.signing)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from connectors.signing import CrossHubAuth
from hub.contract.errors import ConfigurationError, NotAuthenticated
from hub.contract.signing import (
    H_KEY_ID,
    H_NONCE,
    H_SIGNATURE,
    H_TIMESTAMP,
    SIGNATURE_HEADERS,
    generate_keypair,
    key_id_of,
    load_private_key,
    load_public_key_pem,
    sign_request,
    signing_input,
    verify_request,
)
from hub.errors import status_of

BODY = b'{"leads":[{"source_ref":"PV-2025-001"}]}'
PATH = "/api/v1/leads"


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def lookup_for(*keys: Ed25519PrivateKey):
    table = {key_id_of(k.public_key()): k.public_key() for k in keys}
    return table.get


def test_round_trip(key: Ed25519PrivateKey) -> None:
    now = time.time()
    headers = sign_request(key, "POST", PATH, BODY, now=now)
    assert set(headers) == set(SIGNATURE_HEADERS)
    verified = verify_request(headers, "post", PATH, BODY, lookup_for(key), now=now, max_skew_s=300)
    assert verified.key_id == headers[H_KEY_ID]
    assert verified.nonce == headers[H_NONCE] and len(verified.nonce) == 32
    assert verified.timestamp == int(now)


def test_header_names_are_case_insensitive(key: Ed25519PrivateKey) -> None:
    headers = {k.lower(): v for k, v in sign_request(key, "POST", PATH, BODY).items()}
    verify_request(headers, "POST", PATH, BODY, lookup_for(key))


def test_exact_signing_input_and_key_id(key: Ed25519PrivateKey) -> None:
    """The wire format, spelled out, so the hub can be written from this test alone."""
    headers = sign_request(key, "POST", PATH, BODY, now=1_760_000_000)
    expected = (b"crosshub-v1\nPOST\n/api/v1/leads\n1760000000\n" + headers[H_NONCE].encode()
                + b"\n" + hashlib.sha256(BODY).hexdigest().encode())
    assert signing_input("POST", PATH, "1760000000", headers[H_NONCE], BODY) == expected
    key.public_key().verify(base64.b64decode(headers[H_SIGNATURE]), expected)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert headers[H_KEY_ID] == hashlib.sha256(raw).hexdigest()[:16]
    assert headers[H_TIMESTAMP] == "1760000000"


def test_fresh_nonce_each_time(key: Ed25519PrivateKey) -> None:
    assert sign_request(key, "POST", PATH, BODY)[H_NONCE] != sign_request(key, "POST", PATH, BODY)[H_NONCE]


@pytest.mark.parametrize("tamper", ["body", "path", "method"])
def test_tampered_request_is_refused(key: Ed25519PrivateKey, tamper: str) -> None:
    headers = sign_request(key, "POST", PATH, BODY)
    method, path, body = "POST", PATH, BODY
    if tamper == "body":
        body = BODY.replace(b"001", b"002")
    elif tamper == "path":
        path = "/api/v1/connectors/police/runs"
    else:
        method = "PUT"
    with pytest.raises(NotAuthenticated) as exc:
        verify_request(headers, method, path, body, lookup_for(key))
    assert H_SIGNATURE in exc.value.message and status_of(exc.value) == 401


def test_wrong_key_is_refused(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    headers = sign_request(other, "POST", PATH, BODY)
    with pytest.raises(NotAuthenticated) as unknown:
        verify_request(headers, "POST", PATH, BODY, lookup_for(key))
    assert H_KEY_ID in unknown.value.message and "inconnue" in unknown.value.message
    # A key id that maps to another public key (forged key id): the signature fails.
    headers[H_KEY_ID] = key_id_of(key.public_key())
    with pytest.raises(NotAuthenticated) as bad:
        verify_request(headers, "POST", PATH, BODY, lookup_for(key))
    assert H_SIGNATURE in bad.value.message


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_stale_or_future_timestamp_is_refused(key: Ed25519PrivateKey, offset: int) -> None:
    now = time.time()
    headers = sign_request(key, "POST", PATH, BODY, now=now + offset)
    with pytest.raises(NotAuthenticated) as exc:
        verify_request(headers, "POST", PATH, BODY, lookup_for(key), now=now, max_skew_s=300)
    assert H_TIMESTAMP in exc.value.message


@pytest.mark.parametrize("missing", SIGNATURE_HEADERS)
def test_missing_header_is_named(key: Ed25519PrivateKey, missing: str) -> None:
    headers = sign_request(key, "POST", PATH, BODY)
    del headers[missing]
    with pytest.raises(NotAuthenticated) as exc:
        verify_request(headers, "POST", PATH, BODY, lookup_for(key))
    assert missing in exc.value.message and "manquant" in exc.value.message


@pytest.mark.parametrize("header,value", [
    (H_SIGNATURE, "pas-du-base64!"), (H_SIGNATURE, base64.b64encode(b"x" * 10).decode()),
    (H_NONCE, "xyz"), (H_TIMESTAMP, "hier"), (H_KEY_ID, "ABCDEF"),
])
def test_malformed_header_is_named(key: Ed25519PrivateKey, header: str, value: str) -> None:
    headers = sign_request(key, "POST", PATH, BODY)
    headers[header] = value
    with pytest.raises(NotAuthenticated) as exc:
        verify_request(headers, "POST", PATH, BODY, lookup_for(key))
    assert header in exc.value.message


def test_generate_keypair_writes_private_key_0600(tmp_path: Path) -> None:
    path = tmp_path / "police.ed25519.pem"
    old = os.umask(0)  # even with a permissive umask
    try:
        public_pem = generate_keypair(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    private = load_private_key(path)
    assert key_id_of(private.public_key()) == key_id_of(load_public_key_pem(public_pem))
    assert "PRIVATE" not in public_pem
    with pytest.raises(ConfigurationError):
        generate_keypair(path)  # never overwrites silently


def test_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    generate_keypair(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_private_key(path)
    with pytest.raises(ConfigurationError, match="introuvable"):
        load_private_key(tmp_path / "absent.pem")


def test_httpx_auth_signs_each_attempt_and_hides_secrets(key: Ed25519PrivateKey) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        verify_request(request.headers, request.method, request.url.path, request.content,
                       lookup_for(key))
        return httpx.Response(200, json={})

    auth = CrossHubAuth(key, SecretStr("s3cret-token"))
    assert "s3cret" not in repr(auth)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.post("http://hub.test/api/v1/leads", content=BODY)
        client.post("http://hub.test/api/v1/leads", content=BODY)
    assert seen[0].headers["Authorization"] == "Bearer s3cret-token"
    assert seen[0].headers[H_NONCE] != seen[1].headers[H_NONCE]
