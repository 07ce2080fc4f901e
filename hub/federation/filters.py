"""A holder's signed, padded filter: the truncated tokens of the identifiers a given peer may
find, as a sorted list padded with random tokens up to a power of two (so its size says little
about how much the holder holds), signed with the holder's Ed25519 federation key.

A peer keeps the filter only after the signature verifies against the holder's key in the
federation directory; it then tests its own values locally (``contains``) and claims only the
candidates, which the holder confirms against its index.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.federation.wire import SignedFilter


class FilterSignatureInvalid(Exception):
    """The filter was not signed by the holder it names (or was altered on the way)."""


def padded_size(count: int, minimum: int) -> int:
    size = max(minimum, 1)
    while size < count:
        size *= 2
    return size


def _signed_bytes(f: SignedFilter) -> bytes:
    body = f.model_dump(mode="json", exclude={"signature"})
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def build_filter(*, holder: str, peer: str, epoch: int, public_key: bytes, token_bytes: int,
                 tokens: set[bytes], minimum: int, issued_at: datetime,
                 signing_key: Ed25519PrivateKey) -> SignedFilter:
    real = {t[:token_bytes] for t in tokens}
    padded = set(real)
    target = padded_size(len(real), minimum)
    while len(padded) < target:
        padded.add(secrets.token_bytes(token_bytes))
    unsigned = SignedFilter(holder=holder, peer=peer, epoch=epoch, public_key=public_key,
                            token_bytes=token_bytes, tokens=sorted(padded), issued_at=issued_at)
    return unsigned.model_copy(update={"signature": signing_key.sign(_signed_bytes(unsigned))})


def verify_filter(f: SignedFilter, holder_key: Ed25519PublicKey) -> SignedFilter:
    try:
        holder_key.verify(f.signature, _signed_bytes(f))
    except InvalidSignature:
        raise FilterSignatureInvalid(f"filtre de {f.holder} : signature invalide") from None
    return f


class FilterIndex:
    """A verified filter, ready for local membership tests."""

    def __init__(self, f: SignedFilter) -> None:
        self.filter = f
        self._tokens = frozenset(f.tokens)

    def contains(self, output: bytes) -> bool:
        return output[: self.filter.token_bytes] in self._tokens
