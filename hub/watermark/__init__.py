"""Watermarks: whose copy a brief, an export or a chart image is (issue 17, ADR 0026).

Owns the ``Mark`` every document leaving the hub carries — its recipient (user id, name,
agency), the time it was made, the justification given and the strictest handling code of what
it holds, with the code's French label — and the per-copy marker the hub can trace back:

- the **token** ``CROSSHUB-MARQUE.v1.<payload>.<mac>``: the mark as canonical JSON (base64url)
  and an HMAC-SHA256 over it with the hub's watermark key (``keys_dir/watermark.key``, 32
  random bytes, mode 0600 from its first byte, created on first use by hub/keyfiles.py). Only
  the hub can make one; a payload changed by one character no longer verifies. Carried in each
  format's metadata (hub/exports/, hub/brief/, images.py);
- the **short code** ``CRX-XXXX-XXXX-XXXX`` (base32 of the MAC's first bytes): printed visibly
  and on every exported row, so that a few rows pasted elsewhere still name their copy. It is
  not verifiable alone: the hub records every token it issues in the trail entry of the
  document's disclosure (entity key ``watermark:<short code>``, detail ``watermark``), and
  ``trace`` (trace.py) finds the token back from the code there.

The hub never decides anything from a mark: it is evidence for whoever investigates a leak.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from graph.identity import Principal
from hub.contract.errors import ConfigurationError
from hub.keyfiles import PerDirectory, load_or_create_private_file

KEY_FILE = "watermark.key"
KEY_FR = "clé de marquage des documents"
_KEY_BYTES = 32
PREFIX = "CROSSHUB-MARQUE.v1."
TOKEN_RE = re.compile(rb"CROSSHUB-MARQUE\.v1\.([A-Za-z0-9_-]{16,8000})\.([A-Za-z0-9_-]{43})")
CODE_RE = re.compile(rb"CRX-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")
ENTITY_PREFIX = "watermark:"  # the entity key of a disclosure that issued a mark
# The justification as printed on a page or a row (the token holds it whole).
VISIBLE_JUSTIFICATION = 120


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def handling_fr(code: str) -> str:
    # Imported here: hub.brief imports this module, and its package init is heavy.
    from hub.brief.labels import HANDLING_FR

    return HANDLING_FR.get(code, code)


def agency_label(agency: str) -> str:
    from hub.brief.labels import agency_fr

    return agency_fr(agency)


@dataclass(frozen=True)
class Mark:
    """One copy's mark. ``mark_id`` is random, so two copies for one person differ."""

    mark_id: str
    document: str  # "export.csv", "brief.pdf", "brief" (the job's HTML and PDF)...
    user_id: str
    name: str
    agency: str
    at: str  # ISO 8601, UTC, to the second
    justification: str
    handling_code: str

    @property
    def handling_label(self) -> str:
        return handling_fr(self.handling_code)

    @property
    def at_fr(self) -> str:
        return datetime.fromisoformat(self.at).strftime("%d/%m/%Y %H:%M UTC")

    def payload(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")

    def short_justification(self) -> str:
        j = " ".join(self.justification.split())
        return j if len(j) <= VISIBLE_JUSTIFICATION else j[:VISIBLE_JUSTIFICATION - 1] + "…"

    def recipient_fr(self) -> str:
        return f"{self.name} ({agency_label(self.agency)})"


@dataclass(frozen=True)
class IssuedMark:
    """A mark with its token and short code, as printed into a document."""

    mark: Mark
    token: str
    code: str

    @property
    def entity_key(self) -> str:
        return ENTITY_PREFIX + self.code

    def lines_fr(self) -> list[str]:
        """The visible mark in three short lines (page footers, image bands)."""
        m = self.mark
        return [f"Exemplaire de {m.recipient_fr()} — {m.at_fr}",
                f"Justification : {m.short_justification()}",
                f"{m.handling_label} — code de traçage {self.code}"]

    def text_fr(self) -> str:
        return " — ".join(self.lines_fr())

    def audit_details(self) -> dict[str, str]:
        """What the disclosure's trail entry records: the token (it holds the whole mark)."""
        return {"watermark": self.token, "watermark_code": self.code}


def _short_code(mac: bytes) -> str:
    text = base64.b32encode(mac[:8]).decode("ascii")[:12]
    return f"CRX-{text[:4]}-{text[4:8]}-{text[8:12]}"


class Watermarker:
    """Issue and check marks with the hub's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ConfigurationError("clé de marquage des documents : 32 octets attendus")
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, b"crosshub-watermark-v1\n" + payload, hashlib.sha256).digest()

    def issue(self, *, document: str, user_id: str, name: str, agency: str, justification: str,
              handling_code: str, now: datetime | None = None) -> IssuedMark:
        at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        mark = Mark(mark_id=secrets.token_hex(8), document=document, user_id=user_id, name=name,
                    agency=agency, at=at.isoformat(), justification=justification.strip(),
                    handling_code=handling_code)
        payload = mark.payload()
        mac = self._mac(payload)
        return IssuedMark(mark, PREFIX + _b64(payload) + "." + _b64(mac), _short_code(mac))

    def check(self, token: str) -> IssuedMark | None:
        """The mark a token carries if the hub made it, unchanged; None for anything else."""
        m = TOKEN_RE.fullmatch(token.encode("ascii", "replace"))
        if m is None:
            return None
        try:
            payload, mac = _unb64(m.group(1).decode()), _unb64(m.group(2).decode())
        except (binascii.Error, ValueError):
            return None
        expected = self._mac(payload)
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            mark = Mark(**json.loads(payload))
        except (TypeError, ValueError):
            return None
        return IssuedMark(mark, token, _short_code(expected))


def _load(keys_dir: Path) -> Watermarker:
    return Watermarker(load_or_create_private_file(keys_dir, KEY_FILE,
                                                   lambda: secrets.token_bytes(_KEY_BYTES), KEY_FR))


watermarker = PerDirectory(_load)


def issue_for(keys_dir: Path, recipient: Principal, *, document: str, justification: str,
              handling_code: str, now: datetime | None = None) -> IssuedMark:
    """The mark of a copy made for ``recipient`` (a person's ``Principal``)."""
    return watermarker(Path(keys_dir)).issue(
        document=document, user_id=recipient.user_id, name=recipient.name,
        agency=str(getattr(recipient.agency, "value", recipient.agency)),
        justification=justification, handling_code=str(getattr(handling_code, "value", handling_code)),
        now=now)


__all__ = ["CODE_RE", "ENTITY_PREFIX", "IssuedMark", "KEY_FILE", "Mark", "TOKEN_RE", "Watermarker",
           "handling_fr", "issue_for", "watermarker"]
