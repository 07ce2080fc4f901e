"""The key behind the citizen receipt's publication jitter (policies/receipts.py): only the hub
holds it, so neither the connector, nor the platform, nor a citizen can predict when a lead's
change becomes visible.

The draw of a lead is HMAC-SHA256(key, context ‖ lead_id) read as a fraction of [0, 1): the same
lead always draws the same (polling more often reveals nothing), two leads draw independently.
The key is ``keys_dir/receipt_jitter.key`` (32 random bytes, 0600 from its first byte, created on
first use by the shared exclusive writer, hub/keyfiles.py), shared by every hub process of one
data directory. Replacing it re-draws every lead's jitter (a published status may then move back
for a while): don't, but nothing breaks.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from hub.contract.errors import ConfigurationError
from hub.keyfiles import PerDirectory, load_or_create_private_file

KEY_FILE = "receipt_jitter.key"
_KEY_BYTES = 32
_CONTEXT = b"crosshub-receipt-jitter-v1\x00"


class JitterKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_BYTES:
            raise ConfigurationError("clé de gigue des récépissés : 32 octets attendus")
        self._key = key

    def draw(self, lead_id: str) -> float:
        """The lead's draw in [0, 1): 53 bits of its keyed hash (a float's whole mantissa)."""
        digest = hmac.new(self._key, _CONTEXT + lead_id.encode("utf-8"), hashlib.sha256).digest()
        return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def load_or_create(keys_dir: Path) -> JitterKey:
    return JitterKey(load_or_create_private_file(
        keys_dir, KEY_FILE, lambda: os.urandom(_KEY_BYTES), "clé de gigue des récépissés"))


jitter_key_for = PerDirectory(load_or_create)
