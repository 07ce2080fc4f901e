"""The hub's secret files: written mode 0600 from their first byte, never overwritten, refused
when found too open — and read once per process.

Owns the primitives every key of the hub goes through (the audit trail's signing key,
hub/audit/keys.py; the access-token key, hub/auth/tokens.py; the login-throttle secret,
hub/auth/throttle.py; the hit-handle key, hub/handles.py): a private directory (0700, its
creation made durable), the exclusive writer (a temporary file created by
``os.open(..., 0o600)``, fsynced, then hard-linked into place — atomic, and a key another process
generated at the same moment wins), the mode check (as ssh does), ``load_or_create_private_file``
and the per-directory cache ``PerDirectory``.

Not covered (future work): encryption at rest / an HSM, and key rotation.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from hub.contract.errors import ConfigurationError

T = TypeVar("T")

def fsync_dir(path: Path) -> None:
    """Make a directory entry (a created, linked or renamed file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until all of ``data`` is written (a write may be partial)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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
        write_all(fd, data)
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
