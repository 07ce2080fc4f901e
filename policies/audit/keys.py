"""The audit trail's Ed25519 signing key: load it, or generate it on first use.

Owns the key files in ``settings.keys_dir``: ``audit_ed25519.pem`` (private, PKCS#8, mode 0600)
and ``audit_ed25519.pub.pem`` (public, SubjectPublicKeyInfo, for auditors and ``verify``).

The private key is never world- or group-readable at any instant: it is written to a temporary
file created by ``os.open(..., 0o600)`` and then hard-linked into place, which is atomic and
refuses to overwrite a key another process generated at the same moment (that key then wins).
A key found with looser permissions is refused, as ssh does.

Not covered (future work): encryption at rest / an HSM, and key rotation (``verify`` checks every
checkpoint against one public key; ``key_id`` in each checkpoint is there to support rotation).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hub.contract.errors import ConfigurationError

log = logging.getLogger(__name__)

PRIVATE_KEY_FILE = "audit_ed25519.pem"
PUBLIC_KEY_FILE = "audit_ed25519.pub.pem"
AUDIT_KEY_FR = "clé de signature du journal d'audit"
T = TypeVar("T")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short stable name for a public key: the first 16 hex of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def fsync_dir(path: Path) -> None:
    """Make a directory entry (a created, linked or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) and make its creation durable; leave an existing one alone."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Write ``data`` to ``path`` with ``mode`` from the first byte; False if ``path`` exists."""
    # pid and thread: two threads of one process racing to create the same key never share it.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # a leftover of a crash of this same pid number: never acknowledged
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and unlike rename never replaces an existing key
        created = True
    except FileExistsError:
        created = False
    finally:
        tmp.unlink()
    fsync_dir(path.parent)
    return created


def check_private_mode(path: Path, what_fr: str) -> None:
    """Refuse a key file that is not a regular file of mode 0600 (as ssh does); ``what_fr``
    names the key in the French message (« clé des jetons d'accès »)."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise ConfigurationError(f"{what_fr} : {path} n'est pas un fichier")
    if st.st_mode & 0o077:
        raise ConfigurationError(
            f"{what_fr} {path} accessible à d'autres utilisateurs "
            f"(mode {stat.S_IMODE(st.st_mode):04o}) : attendu 0600"
        )


def load_or_create_private_file(keys_dir: Path, name: str, generate: Callable[[], bytes],
                                what_fr: str) -> bytes:
    """The bytes of the 0600 key file ``keys_dir/name``, written from ``generate()`` on first
    use (if another process wins the race to create it, its key is the one loaded)."""
    ensure_private_dir(keys_dir)
    path = keys_dir / name
    if not path.exists():
        create_exclusive(path, generate(), 0o600)
    check_private_mode(path, what_fr)
    return path.read_bytes()


class PerDirectory(Generic[T]):
    """``load(keys_dir)`` once per process and (resolved) directory: keys are used on hot paths,
    where reading a file each time would put disk I/O. Replacing a key file therefore takes
    effect at the next restart."""

    def __init__(self, load: Callable[[Path], T]) -> None:
        self._load = load
        self._cache: dict[Path, T] = {}
        self._lock = threading.Lock()

    def __call__(self, keys_dir: Path) -> T:
        path = keys_dir.resolve()
        value = self._cache.get(path)
        if value is None:
            with self._lock:
                value = self._cache.get(path)
                if value is None:
                    value = self._cache[path] = self._load(path)
        return value


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
