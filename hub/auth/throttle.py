"""The login-throttle secret: ``keys_dir/login_throttle.key`` (32 random bytes, mode 0600 from
its first byte, created on first use by the hub's exclusive key writer, hub/keyfiles.py), handed
to ``policies.auth.throttle.ThrottleKeyring``, which names the failed-login records by a keyed
hash. The throttling rules themselves are pure: policies/auth/throttle.py.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from hub.keyfiles import PerDirectory, load_or_create_private_file
from policies.auth.throttle import ThrottleKeyring

KEY_FILE = "login_throttle.key"


def load_or_create_keyring(keys_dir: Path) -> ThrottleKeyring:
    return ThrottleKeyring(load_or_create_private_file(
        keys_dir, KEY_FILE, lambda: secrets.token_bytes(32), "clé de limitation des connexions"))


keyring_for = PerDirectory(load_or_create_keyring)  # once per process and directory
