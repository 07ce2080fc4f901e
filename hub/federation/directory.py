"""The federation directory: who the members and the antenna are on the network — each party's
Ed25519 public signing key and URL (``directory.json``, written by hub/federation/pki.py).

The antenna reads it to know who signed a request and where to forward it; a hub reads it for the
antenna's URL and public key (a peer-facing route accepts only requests the antenna signed). It
holds no secret. Which CROSS may learn what is policy data (policies/federation.py), not this.

Shape::

    {"antenna": {"id": "antenna-est", "url": "https://127.0.0.1:9443", "public_key": "<PEM>"},
     "members": {"cross-25": {"url": "https://127.0.0.1:9444", "public_key": "<PEM>"}, ...}}
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.contract.errors import ConfigurationError
from hub.contract.signing import key_id_of, load_public_key_pem

PARTY_ID = re.compile(r"^[a-z0-9-]{2,60}$")


class Party(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = Field(default=None, pattern=r"^https://[^/?#\s]+$")
    public_key: str

    @field_validator("public_key")
    @classmethod
    def _ed25519(cls, value: str) -> str:
        load_public_key_pem(value)  # ValueError (French) unless an Ed25519 public key
        return value

    def key(self) -> Ed25519PublicKey:
        return load_public_key_pem(self.public_key)

    def key_id(self) -> str:
        return key_id_of(self.key())


class Directory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    antenna: str = Field(pattern=PARTY_ID.pattern)
    antenna_party: Party
    members: dict[str, Party]

    @field_validator("members")
    @classmethod
    def _ids(cls, value: dict[str, Party]) -> dict[str, Party]:
        bad = [k for k in value if not PARTY_ID.match(k)]
        if bad:
            raise ValueError(f"identifiant de membre invalide : {bad[0]!r}")
        return value

    def member_of_key_id(self, key_id: str) -> str | None:
        """The member whose signing key has this id (None: not a member)."""
        for name, party in self.members.items():
            if party.key_id() == key_id:
                return name
        return None

    def antenna_key(self, key_id: str) -> Ed25519PublicKey | None:
        """For ``verify_request`` on a hub: the antenna's key, and only it."""
        return self.antenna_party.key() if self.antenna_party.key_id() == key_id else None

    def to_json(self) -> dict[str, object]:
        return {"antenna": {"id": self.antenna, **self.antenna_party.model_dump()},
                "members": {k: v.model_dump() for k, v in sorted(self.members.items())}}


def load_directory(path: str | Path) -> Directory:
    """Read ``directory.json``; a missing or malformed file is a ``ConfigurationError`` naming it."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
        antenna = dict(raw["antenna"])
        return Directory(antenna=antenna.pop("id"), antenna_party=Party(**antenna),
                         members=raw["members"])
    except FileNotFoundError:
        raise ConfigurationError(f"annuaire de fédération introuvable : {p}") from None
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ConfigurationError(f"annuaire de fédération {p} invalide : {exc}") from None


def save_directory(path: str | Path, directory: Directory) -> None:
    """Write ``directory.json`` atomically (a temporary file renamed into place)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(directory.to_json(), indent=2, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    os.replace(tmp, p)


def set_url(path: str | Path, name: str, url: str) -> Directory:
    """Give party ``name`` (a member or the antenna) its URL in the directory file."""
    d = load_directory(path)
    if name == d.antenna:
        d = d.model_copy(update={"antenna_party": d.antenna_party.model_copy(update={"url": url})})
    elif name in d.members:
        members = {**d.members, name: d.members[name].model_copy(update={"url": url})}
        d = d.model_copy(update={"members": members})
    else:
        raise ConfigurationError(f"« {name} » n'est pas dans l'annuaire de fédération {path}")
    Party(url=url, public_key=d.antenna_party.public_key)  # validates the URL's shape
    save_directory(path, d)
    return d
