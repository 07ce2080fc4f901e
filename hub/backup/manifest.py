"""A backup's manifest: what it holds, each file's SHA-256, its backup point — signed.

Owns the layout of one backup directory and its proof of integrity:

    <backup id>/manifest.json   canonical JSON: id, time, point, graph counts, every file's
                                SHA-256 and size, the signing key's id
    <backup id>/manifest.sig    base64 Ed25519 signature of the manifest's bytes
    <backup id>/graph/nodes.jsonl, graph/relationships.jsonl
    <backup id>/keys/…          the keys directory, as it was (0600 files, 0700 directories)
    <backup id>/audit/…         the audit trail's segments (ADR 0012), as they were

The manifest is signed with the audit trail's key (``keys_dir/audit_ed25519.pem``) under a
context of its own, so a signature of one can never pass for the other; the public key the
auditors already hold is what checks a backup, even on a host that lost its keys
(``--public-key``). ``verify_backup`` refuses, in French, a manifest whose signature fails, a
file missing, altered or added: nothing is touched before it has passed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel

from hub.audit.keys import key_id, load_public_key
from hub.audit.records import b64, canonical_json, unb64
from hub.audit.restores import BackupPoint
from hub.contract.errors import InvalidInput

FORMAT = "crosshub-backup"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
NODES = "graph/nodes.jsonl"
RELATIONSHIPS = "graph/relationships.jsonl"
KEYS = "keys"
AUDIT = "audit"
SIGNING_CONTEXT = b"crosshub-backup-manifest-v1\n"


class FileSum(BaseModel):
    sha256: str
    size: int


class Manifest(BaseModel):
    format: str = FORMAT
    version: int = VERSION
    backup_id: str
    created_at: str
    point: BackupPoint
    nodes: int
    relationships: int
    labels: dict[str, int]
    files: dict[str, FileSum]
    key_id: str


def sha256_file(path: Path) -> FileSum:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return FileSum(sha256=digest.hexdigest(), size=size)


def backup_files(root: Path) -> list[str]:
    """Every regular file under ``root`` but the manifest and its signature, as POSIX paths."""
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel not in (MANIFEST, SIGNATURE):
                out.append(rel)
    return sorted(out)


def manifest_bytes(manifest: Manifest) -> bytes:
    return canonical_json(manifest.model_dump(mode="json"))


def sign(data: bytes, key: Ed25519PrivateKey) -> str:
    return b64(key.sign(SIGNING_CONTEXT + data))


def _refuse(path: Path, reason: str) -> InvalidInput:
    message = f"sauvegarde {path.name} refusée : {reason} — rien n'a été modifié"
    return InvalidInput(message, details=[{"field": "sauvegarde", "reason": message}])


def verify_backup(path: Path, public_key: Ed25519PublicKey | Path) -> tuple[Manifest, bytes]:
    """The manifest (and its bytes) of the backup in ``path``, once its signature and every
    file's checksum have passed; ``InvalidInput`` in French otherwise."""
    pub = load_public_key(public_key)
    try:
        data = (path / MANIFEST).read_bytes()
        sig = (path / SIGNATURE).read_text().strip()
    except FileNotFoundError:
        raise _refuse(path, "manifeste ou signature introuvable (sauvegarde incomplète ?)") from None
    try:
        pub.verify(unb64(sig), SIGNING_CONTEXT + data)
    except (InvalidSignature, ValueError):
        raise _refuse(path, "signature du manifeste invalide (altéré, ou signé par une autre clé "
                            f"que {key_id(pub)})") from None
    try:
        raw: Any = json.loads(data)
        manifest = Manifest.model_validate(raw)
    except ValueError:
        raise _refuse(path, "manifeste illisible") from None
    if manifest.format != FORMAT or manifest.version != VERSION:
        raise _refuse(path, f"format {manifest.format} v{manifest.version} inconnu")
    present = set(backup_files(path))
    for rel, expected in sorted(manifest.files.items()):
        if rel not in present:
            raise _refuse(path, f"fichier {rel} manquant")
        if sha256_file(path / rel) != expected:
            raise _refuse(path, f"fichier {rel} altéré (empreinte SHA-256 différente du manifeste)")
    extra = sorted(present - set(manifest.files))
    if extra:
        raise _refuse(path, f"fichier(s) ajouté(s) hors du manifeste : {', '.join(extra[:5])}")
    return manifest, data
