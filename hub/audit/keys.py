"""The audit trail's Ed25519 signing key: load it, or generate it on first use.

Owns the key files in ``settings.keys_dir``: ``audit_ed25519.pem`` (private, PKCS#8, mode 0600,
written through the hub's exclusive key writer, hub/keyfiles.py) and ``audit_ed25519.pub.pem``
(public, SubjectPublicKeyInfo, for auditors and ``verify``), and the short ``key_id`` each
checkpoint names. A private key found with looser permissions is refused, as ssh does.

Not covered (future work): key rotation (``verify`` checks every checkpoint against one public
key; ``key_id`` in each checkpoint is there to support rotation).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.contract.errors import ConfigurationError
from hub.keyfiles import check_private_mode, create_exclusive, ensure_private_dir

log = logging.getLogger(__name__)

PRIVATE_KEY_FILE = "audit_ed25519.pem"
PUBLIC_KEY_FILE = "audit_ed25519.pub.pem"
AUDIT_KEY_FR = "clé de signature du journal d'audit"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable name for a public key: the first 16 hex of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The existing private key; ConfigurationError if missing, unreadable or too open."""
    path = keys_dir / PRIVATE_KEY_FILE
    if not path.exists():
        raise ConfigurationError(f"clé de signature du journal d'audit introuvable : {path}")
    check_private_mode(path, AUDIT_KEY_FR)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"clé de signature du journal d'audit illisible : {path}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"clé de signature du journal d'audit : {path} n'est pas une clé Ed25519")
    return key


def load_or_create_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The private key, generated on first use; also (re)writes the public key beside it."""
    ensure_private_dir(keys_dir)
    path = keys_dir / PRIVATE_KEY_FILE
    if not path.exists():
        new = Ed25519PrivateKey.generate()
        pem = new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_exclusive(path, pem, 0o600)  # if another process won the race, load its key
    key = load_signing_key(keys_dir)
    pub_path = keys_dir / PUBLIC_KEY_FILE
    expected = _public_pem(key.public_key())
    if not pub_path.exists() or pub_path.read_bytes() != expected:
        if pub_path.exists():
            # A public key that does not match the private one would make verify fail for the
            # wrong reason; the private key is the source of truth.
            log.warning("clé publique d'audit %s ne correspond pas à la clé privée : réécrite", pub_path)
            pub_path.unlink()
        create_exclusive(pub_path, expected, 0o644)
    return key


def load_public_key(source: Path | str | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from a PEM file, a keys directory (its ``audit_ed25519.pub.pem``), PEM bytes,
    or a key object."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, bytes):
        data = source
        where = "(octets PEM)"
    else:
        path = Path(source)
        if path.is_dir():
            path = path / PUBLIC_KEY_FILE
        if not path.exists():
            raise ConfigurationError(f"clé publique du journal d'audit introuvable : {path}")
        data = path.read_bytes()
        where = str(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"clé publique du journal d'audit illisible : {where}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"clé publique du journal d'audit : {where} n'est pas une clé Ed25519")
    return key
