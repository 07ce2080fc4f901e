"""Request signing between connectors and the hub (pure; shared by both sides).

Ed25519 over a canonical string, sent in four headers::

    X-CrossHub-Key-Id     first 16 hex of sha256(raw 32-byte public key)
    X-CrossHub-Timestamp  unix seconds (decimal)
    X-CrossHub-Nonce      random 128-bit value, 32 lower-case hex
    X-CrossHub-Signature  base64 (standard, padded) of the signature over

    b"crosshub-v1\\n" + METHOD + b"\\n" + path + b"\\n" + timestamp + b"\\n" + nonce + b"\\n"
        + sha256(body).hexdigest()

``METHOD`` is upper-case; ``path`` is the URL path without the query string (``/api/v1/leads``)
as the client sent it; ``body`` is the exact bytes of the request body (``b""`` when none).

``verify_request`` checks presence, format, freshness (``max_skew_s``), the key and the signature,
and raises ``NotAuthenticated`` with a French message naming the header. Replay protection is the
hub's: it must remember each ``(key_id, nonce)`` for at least twice ``max_skew_s`` and answer
``ReplayDetected`` (409) to a nonce seen again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.contract.errors import ConfigurationError, NotAuthenticated

SCHEME = b"crosshub-v1"
H_KEY_ID = "X-CrossHub-Key-Id"
H_TIMESTAMP = "X-CrossHub-Timestamp"
H_NONCE = "X-CrossHub-Nonce"
H_SIGNATURE = "X-CrossHub-Signature"
SIGNATURE_HEADERS = (H_KEY_ID, H_TIMESTAMP, H_NONCE, H_SIGNATURE)
DEFAULT_MAX_SKEW_S = 300

_KEY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
_TS_RE = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class VerifiedSignature:
    key_id: str
    nonce: str
    timestamp: int


# --- keys ----------------------------------------------------------------------------------------


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("clé publique attendue de type Ed25519")
    return key


def generate_keypair(private_path: str | os.PathLike[str], *, overwrite: bool = False) -> str:
    """Create an Ed25519 key; write the private key (PKCS#8 PEM) readable by its owner only
    (0600) and return the public key PEM (to register at the hub)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = Path(private_path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(f"la clé {path} existe déjà : refus de l'écraser") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    return public_key_pem(key.public_key())


def load_private_key(private_path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load the private key; refuse a file others can read (like ssh)."""
    path = Path(private_path)
    try:
        mode = path.stat().st_mode & 0o777
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(
            f"clé de signature introuvable : {path} (créez-la avec « crosshub connectors keygen »)"
        ) from None
    except PermissionError:
        raise ConfigurationError(f"clé de signature illisible : {path}") from None
    if mode & 0o077:
        raise ConfigurationError(
            f"clé de signature {path} lisible par d'autres (mode {mode:o}) : chmod 600 requis"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"clé de signature {path} illisible (PEM PKCS#8 attendu)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"clé de signature {path} : Ed25519 attendu")
    return key


# --- signing -------------------------------------------------------------------------------------


def _b(v: str | bytes) -> bytes:
    return v if isinstance(v, bytes) else v.encode("utf-8")


def signing_input(method: str | bytes, path: str | bytes, timestamp: str | bytes,
                  nonce: str | bytes, body: bytes) -> bytes:
    return b"\n".join([
        SCHEME, _b(method).upper(), _b(path), _b(timestamp), _b(nonce),
        hashlib.sha256(body or b"").hexdigest().encode("ascii"),
    ])


def sign_request(private_key: Ed25519PrivateKey, method: str, path: str, body: bytes,
                 now: float | None = None) -> dict[str, str]:
    """The four signature headers for one request (a fresh nonce each call)."""
    ts = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    sig = private_key.sign(signing_input(method, path, ts, nonce, body))
    return {
        H_KEY_ID: key_id_of(private_key.public_key()),
        H_TIMESTAMP: ts,
        H_NONCE: nonce,
        H_SIGNATURE: base64.b64encode(sig).decode("ascii"),
    }


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    lookup_public_key: Callable[[str], Ed25519PublicKey | None],
    now: float | datetime | None = None,
    max_skew_s: int = DEFAULT_MAX_SKEW_S,
) -> VerifiedSignature:
    """Check a signed request; raise ``NotAuthenticated`` (French message naming the header)."""
    h = {k.lower(): v for k, v in headers.items()}

    def get(name: str) -> str:
        v = h.get(name.lower())
        if v is None or not v.strip():
            raise NotAuthenticated(f"en-tête {name} manquant : requête non signée",
                                   details=[{"field": name, "reason": "manquant"}])
        return v.strip()

    key_id, ts_raw, nonce, sig_raw = (get(n) for n in SIGNATURE_HEADERS)
    if not _KEY_ID_RE.match(key_id):
        raise NotAuthenticated(f"en-tête {H_KEY_ID} invalide : 16 caractères hexadécimaux attendus",
                               details=[{"field": H_KEY_ID, "reason": "format"}])
    if not _TS_RE.match(ts_raw):
        raise NotAuthenticated(f"en-tête {H_TIMESTAMP} invalide : secondes Unix attendues",
                               details=[{"field": H_TIMESTAMP, "reason": "format"}])
    if not _NONCE_RE.match(nonce):
        raise NotAuthenticated(f"en-tête {H_NONCE} invalide : 32 caractères hexadécimaux attendus",
                               details=[{"field": H_NONCE, "reason": "format"}])
    try:
        signature = base64.b64decode(sig_raw, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise NotAuthenticated(f"en-tête {H_SIGNATURE} invalide : signature Ed25519 en base64 attendue",
                               details=[{"field": H_SIGNATURE, "reason": "format"}])
    if now is None:
        current = time.time()
    elif isinstance(now, datetime):
        current = now.timestamp()
    else:
        current = float(now)
    ts = int(ts_raw)
    if abs(current - ts) > max_skew_s:
        raise NotAuthenticated(
            f"en-tête {H_TIMESTAMP} hors délai : écart de {int(current - ts)} s "
            f"(tolérance {max_skew_s} s) — horloge du connecteur à vérifier ou requête rejouée",
            details=[{"field": H_TIMESTAMP, "reason": "hors délai"}])
    public_key = lookup_public_key(key_id)
    if public_key is None:
        raise NotAuthenticated(f"en-tête {H_KEY_ID} : clé « {key_id} » inconnue ou révoquée",
                               details=[{"field": H_KEY_ID, "reason": "inconnue"}])
    try:
        public_key.verify(signature, signing_input(method, path, ts_raw, nonce, body))
    except InvalidSignature:
        raise NotAuthenticated(
            f"en-tête {H_SIGNATURE} : signature invalide (corps, chemin ou en-têtes modifiés, "
            f"ou mauvaise clé)", details=[{"field": H_SIGNATURE, "reason": "invalide"}]) from None
    return VerifiedSignature(key_id=key_id, nonce=nonce, timestamp=ts)
