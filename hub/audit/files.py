"""The audit trail's files at the byte level: opening for append, the single-writer lock, and
reading complete lines from the end.

Owns the file handling the writer (trail.py) and the readers (query.py) share: every entry is
one line, a line is complete only with its newline (a torn last line is never read), and
``audit.lock`` is held with ``fcntl.flock(LOCK_EX)`` by the one process that writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from hub.contract.errors import AuditUnavailable

_BLOCK = 1 << 16


def complete_size(fd: int, size: int) -> int:
    """Offset just after the last newline: the file minus a torn last line."""
    pos = size
    while pos > 0:
        start = max(0, pos - _BLOCK)
        chunk = os.pread(fd, pos - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


def iter_lines_reverse(fd: int, end: int) -> Iterator[bytes]:
    """Complete lines (without newline) of ``[0, end)`` from the last to the first; ``end`` must be
    a line boundary (0 or just after a newline)."""
    pos = end - 1 if end > 0 else 0  # drop the final newline
    rest = b""
    while pos > 0:
        start = max(0, pos - _BLOCK)
        parts = (os.pread(fd, pos - start, start) + rest).split(b"\n")
        rest = parts[0]
        yield from reversed(parts[1:])
        pos = start
    if end > 0:
        yield rest


def last_line(fd: int, end: int) -> bytes | None:
    return next(iter_lines_reverse(fd, end), None)


# --- writing and locking ---------------------------------------------------------------------------


def open_append(path: Path) -> tuple[int, bool]:
    """(fd, created). O_RDWR for pread/ftruncate; O_APPEND so every write goes to the end."""
    flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600), True
    except FileExistsError:
        return os.open(path, flags), False


def acquire_lock(path: Path, timeout_s: float) -> int:
    """The single-writer lock: ``flock(LOCK_EX)`` on ``path``, waiting up to ``timeout_s``; the
    fd to keep open for as long as the trail is (closing it, or dying, releases the lock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise AuditUnavailable(
                    f"journal d'audit déjà ouvert en écriture par un autre processus (pid {holder}) : "
                    "un seul processus du hub écrit le journal"
                ) from None
            time.sleep(0.05)
        except BaseException:
            os.close(fd)
            raise
    # The holder's pid, for the message above only; the flock is what excludes.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def release_lock(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
