"""Hit handles: how a caller names a hit (graph.models.Hit) in a later request for
communication without learning the id of the lead behind it (ADR 0007).

A handle is ``hit_`` + base64url of a deterministic AEAD seal (AES-SIV) of the hit's subject —
``["lead", <lead_id>]`` for a hit on one lead, ``["entity", <entity id>, <agency>]`` for an
agency's leads counted on an entity — with the caller's agency as associated data. Only the hub
holds the key (``keys_dir/hit_handles.key``, 64 random bytes, mode 0600 from its first byte,
created on first use by the shared exclusive key writer), so only the hub can open a handle; the
same hit gives the same handle to one agency (stable across reads) and unrelated handles to two
agencies (unlinkable). A handle forged, altered or sealed for another agency opens to nothing,
and callers answer that exactly as they answer an unknown lead.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from hub.contract.errors import ConfigurationError
from hub.keyfiles import PerDirectory, load_or_create_private_file

KEY_FILE = "hit_handles.key"
PREFIX = "hit_"
_KEY_BYTES = 64  # AES-256-SIV
_CONTEXT = b"crosshub-hit-handle-v1"
# A handle longer than this was not made by the hub (an entity key is at most a few hundred
# bytes): refused before any decoding.
MAX_HANDLE_LENGTH = 2048


class HitHandles:
    """Seal and open hit handles with the hub's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ConfigurationError("clé des poignées de hit : 64 octets attendus")
        self._aead = AESSIV(key)

    def seal(self, subject: list[str], agency: str) -> str:
        data = json.dumps(subject, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = self._aead.encrypt(data, [_CONTEXT, agency.encode()])
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, handle: str, agency: str) -> list[str] | None:
        """The subject sealed in ``handle`` for ``agency``; None for anything else."""
        if not handle.startswith(PREFIX) or len(handle) > MAX_HANDLE_LENGTH:
            return None
        body = handle[len(PREFIX):]
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii") != body:
                return None  # not the one canonical spelling the hub makes
            subject = json.loads(self._aead.decrypt(sealed, [_CONTEXT, agency.encode()]))
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
            return None
        if not (isinstance(subject, list) and subject and all(isinstance(x, str) for x in subject)):
            return None
        return subject

    def sealer(self, agency: str) -> Callable[[list[str]], str]:
        """``seal`` bound to one caller's agency (what an ``AccessFilter`` carries)."""
        return lambda subject: self.seal(subject, agency)


def load_or_create(keys_dir: Path) -> HitHandles:
    """The hub's hit-handle key, generated on first use."""
    return HitHandles(load_or_create_private_file(
        keys_dir, KEY_FILE, lambda: os.urandom(_KEY_BYTES), "clé des poignées de hit"))


# ``load_or_create`` once per process and directory (every read that shows a hit seals).
handles_for = PerDirectory(load_or_create)
