"""Keyed pseudonyms for persons: the only form in which a person leaves a connector.

``ps1:<key id>:<HMAC-SHA-256(linkage key, normalized identity)>``. The linkage key is shared by the
CROSS's connectors (never by the hub), so two agencies that know the same person produce the same
token and their leads link in the graph without either sending a name.

Rotation: a keyring holds the current key and the previous ones. A person is pseudonymized under
the current key, and the tokens under the previous keys travel as ``aliases`` so the hub can keep
the links made before the rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pydantic import SecretStr


def normalize_identity(last_name: str, first_name: str, birth_date: date | None = None) -> str:
    """Canonical string for a person's identity: accents, case, hyphens and spacing folded, so
    « Éric-Jean DUPONT » and « eric jean dupont » are one person; birth date when known."""

    def fold(s: str) -> str:
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c)).lower()
        return " ".join(re.sub(r"[^a-z]+", " ", s).split())

    parts = [fold(last_name), fold(first_name)]
    if birth_date:
        parts.append(birth_date.isoformat())
    return "|".join(parts)


@dataclass(frozen=True)
class LinkageKey:
    key_id: str
    secret: SecretStr

    def pseudonym(self, normalized_identity: str) -> str:
        digest = hmac.new(
            self.secret.get_secret_value().encode(), normalized_identity.encode(), hashlib.sha256
        ).hexdigest()
        return f"ps1:{self.key_id}:{digest}"


@dataclass(frozen=True)
class LinkageKeyring:
    """The current key first, then earlier ones still honoured for linking."""

    current: LinkageKey
    previous: tuple[LinkageKey, ...] = ()

    def pseudonymize(self, normalized_identity: str) -> tuple[str, list[str]]:
        """Return (token under the current key, tokens under the previous keys)."""
        return (
            self.current.pseudonym(normalized_identity),
            [k.pseudonym(normalized_identity) for k in self.previous],
        )
