"""The second factor's secrets at rest: AES-256-GCM under ``keys_dir/second_factor.key`` (32 random
bytes, mode 0600 from its first byte, created on first use by the hub's exclusive key writer,
hub/keyfiles.py). The graph only ever holds ``base64(nonce ‖ ciphertext ‖ tag)``; the person's id
is the associated data, so a ciphertext copied onto another person's node does not decrypt.

A secret in clear lives only in this process's memory while a code is checked, and in the one
answer that starts an enrolment (shown once). It is never logged: ``SecretText`` hides it from
``repr`` and the key file is the only way back from what is stored.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.contract.errors import ConfigurationError
from hub.keyfiles import PerDirectory, load_or_create_private_file

KEY_FILE = "second_factor.key"
NONCE_BYTES = 12  # 96 bits, random per encryption (NIST SP 800-38D)


class SecretText(str):
    """A secret in clear: a ``str`` whose ``repr`` says nothing (tracebacks, debug logs)."""

    def __repr__(self) -> str:
        return "SecretText('***')"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigurationError("clé du second facteur invalide : 32 octets attendus")
        self._aead = AESGCM(key)

    def seal(self, secret: str, user_id: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), user_id.encode("utf-8"))
        return base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, user_id: str) -> SecretText:
        raw = base64.b64decode(stored)
        try:
            clear = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       user_id.encode("utf-8"))
        except InvalidTag:
            # Another hub's key, or a node tampered with: our setup, not the caller's fault.
            raise ConfigurationError(
                "second facteur illisible avec la clé de ce hub : réinitialiser le second "
                "facteur de cet utilisateur (crosshub users reset-second-factor)") from None
        return SecretText(clear.decode("ascii"))


def load_or_create_box(keys_dir: Path) -> SecretBox:
    return SecretBox(load_or_create_private_file(
        keys_dir, KEY_FILE, lambda: secrets.token_bytes(32), "clé du second facteur"))


box_for = PerDirectory(load_or_create_box)  # once per process and directory


def enrol_directly(graph, keys_dir: Path, user_id: str, rules, now) -> tuple[SecretText, str]:
    """Enrol ``user_id`` at once with a new secret, without a first code — for the demo users of
    ``crosshub dev`` only (their otpauth URI goes to the console, never to a file). Returns the
    secret and its otpauth URI."""
    from graph.identity import second_factor as store
    from policies.second_factor import new_secret, provisioning_uri

    secret = SecretText(new_secret(rules.totp))
    sealed = box_for(keys_dir).seal(secret, user_id)
    store.update(graph, user_id, None, lambda _rec: store.Change(None, set={
        "secret": sealed, "enrolled_at": now, "pending_secret": None, "pending_created_at": None,
        "last_step": None}))
    return secret, provisioning_uri(secret, user_id, rules.totp)
