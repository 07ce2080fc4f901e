"""The files of a backup: copied in private (0700 directories, 0600 files, fsynced), and put
back only where missing.

Owns the two file trees a backup carries besides the graph:

- **keys** (``keys_dir``, recursively): copied as they are. Put back only where the current
  keys directory lacks a file; a current key that differs from the backup's is never
  overwritten — it is reported (``KeysRestored.differing``), the operator decides.
- **the audit trail** (ADR 0012: ``segments/<writer id>/`` and the ADR 0003 root files; the
  sealed archives of ADR 0028, ``archives/``, copied as files and put back only if absent): each
  segment copied checkpoints first, then entries, complete lines only — a checkpoint written
  meanwhile then never covers an entry the copy lacks. The ``closed`` marker is copied too,
  never the lock. Put back only the segments the current trail lacks (each copied aside, then
  renamed into place, so a half-copied segment is never listed); an existing segment is never
  touched: the trail is never rewound.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from pydantic import BaseModel

from hub.audit.archives import ARCHIVES_DIR
from hub.audit.files import complete_size
from hub.audit.layout import (
    CLOSED_MARKER,
    INITIAL_SEGMENT,
    SEGMENTS_DIR,
    list_segments,
    segments_root,
)
from hub.audit.records import CHECKPOINTS_FILE, ENTRIES_FILE
from hub.keyfiles import create_exclusive, ensure_private_dir, fsync_dir, write_all


def private_dir(path: Path) -> Path:
    """``path`` and every parent it creates, 0700 (``mkdir(parents=True)`` would make the
    parents with the umask's mode)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):
            p.mkdir(mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """``data`` to a new 0600 file, fsynced."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_private(src: Path, dst: Path, *, complete_lines: bool = False) -> None:
    """``src`` to a new 0600 ``dst``; with ``complete_lines``, up to its last newline (a file
    being appended to: a torn last line was never acknowledged)."""
    fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        end = complete_size(fd, size) if complete_lines else size
        chunks, pos = [], 0
        while pos < end:
            chunk = os.pread(fd, min(1 << 20, end - pos), pos)
            if not chunk:
                break
            chunks.append(chunk)
            pos += len(chunk)
    finally:
        os.close(fd)
    write_private(dst, b"".join(chunks))


# --- keys ----------------------------------------------------------------------------------------


def copy_keys(keys_dir: Path, dest: Path) -> int:
    """Every file of ``keys_dir`` under ``dest``; how many."""
    n = 0
    if not keys_dir.is_dir():
        return 0
    for src in sorted(p for p in keys_dir.rglob("*") if p.is_file()):
        if src.name.startswith(".") and src.name.endswith(".tmp"):
            continue  # a key being written by hub/keyfiles.py: not a key yet
        copy_private(src, dest / src.relative_to(keys_dir))
        n += 1
    private_dir(dest)
    return n


class KeysRestored(BaseModel):
    restored: list[str] = []  # put back: they were missing
    differing: list[str] = []  # present and different: kept as they are, not overwritten


def put_back_keys(src: Path, keys_dir: Path) -> KeysRestored:
    out = KeysRestored()
    if not src.is_dir():
        return out
    ensure_private_dir(keys_dir)
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = path.relative_to(src)
        target = keys_dir / rel
        data = path.read_bytes()
        if target.exists():
            if target.read_bytes() != data:
                out.differing.append(rel.as_posix())
            continue
        for parent in reversed(rel.parents[:-1]):
            ensure_private_dir(keys_dir / parent)
        # Exclusive: a key another process created meanwhile wins (and is then reported).
        mode = 0o644 if path.name.endswith(".pub.pem") else 0o600
        if create_exclusive(target, data, mode):
            out.restored.append(rel.as_posix())
        elif target.read_bytes() != data:
            out.differing.append(rel.as_posix())
    return out


# --- the audit trail -----------------------------------------------------------------------------


def archived(audit_dir: Path) -> set[str]:
    """The segments sealed into the trail's archives (``archives/<n>-<segment>.tar``, ADR 0028)."""
    root = Path(audit_dir) / ARCHIVES_DIR
    if not root.is_dir():
        return set()
    return {p.name[7:-4] for p in root.glob("*.tar") if p.name[6:7] == "-"}


def copy_trail(audit_dir: Path, dest: Path) -> list[str]:
    """Every segment of the trail under ``dest`` (same layout), then its archives; the names of
    the segments copied. A segment archived while this runs is skipped here and found in the
    archives, copied after."""
    names = []
    for seg in list_segments(audit_dir):
        target = dest if seg.name == INITIAL_SEGMENT else dest / SEGMENTS_DIR / seg.name
        closed = seg.closed  # read first: a segment closed after this is copied as open
        try:
            for name in (CHECKPOINTS_FILE, ENTRIES_FILE):  # checkpoints first (module docstring)
                if (seg.path / name).exists():
                    copy_private(seg.path / name, target / name, complete_lines=True)
        except FileNotFoundError:
            shutil.rmtree(target, ignore_errors=True)  # archived meanwhile: in the archives
            continue
        private_dir(target)
        if closed and seg.name != INITIAL_SEGMENT:
            write_private(target / CLOSED_MARKER, b"")
        names.append(seg.name)
    root = Path(audit_dir) / ARCHIVES_DIR
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.is_file() and not path.name.startswith("."):  # not the archiver's lock
                copy_private(path, dest / ARCHIVES_DIR / path.name)
    return names


def put_back_trail(src: Path, audit_dir: Path) -> list[str]:
    """The backup's segments the current trail lacks, put back; their names. Existing segments
    are left exactly as they are."""
    ensure_private_dir(audit_dir)
    ensure_private_dir(segments_root(audit_dir))
    # A segment archived (here, or already in the backup's copy) is not put back live.
    current = {seg.name for seg in list_segments(audit_dir)} | archived(audit_dir) | archived(src)
    put_back = []
    for seg in list_segments(src):
        if seg.name in current:
            continue
        if seg.name == INITIAL_SEGMENT:
            for name in (ENTRIES_FILE, CHECKPOINTS_FILE):
                if (seg.path / name).exists():
                    tmp = audit_dir / f".{name}.restore-{uuid.uuid4().hex[:8]}"
                    copy_private(seg.path / name, tmp)
                    os.rename(tmp, audit_dir / name)
            fsync_dir(audit_dir)
        else:
            # Copied aside (not under segments/, where verify would list it), then renamed in.
            aside = private_dir(audit_dir / f".restore-{uuid.uuid4().hex[:8]}")
            try:
                for name in (ENTRIES_FILE, CHECKPOINTS_FILE, CLOSED_MARKER):
                    if (seg.path / name).exists():
                        copy_private(seg.path / name, aside / name)
                os.rename(aside, segments_root(audit_dir) / seg.name)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    shutil.rmtree(aside)
            fsync_dir(segments_root(audit_dir))
        put_back.append(seg.name)
    put_back += _put_back_archives(src, audit_dir)
    return put_back


def _put_back_archives(src: Path, audit_dir: Path) -> list[str]:
    """The backup's archive files the current trail lacks (its archives directory was lost);
    an archive present is never touched."""
    root, target = src / ARCHIVES_DIR, Path(audit_dir) / ARCHIVES_DIR
    if not root.is_dir():
        return []
    ensure_private_dir(target)
    out = []
    for path in sorted(root.iterdir()):
        if not (target / path.name).exists():
            tmp = target / f".{path.name}.restore-{uuid.uuid4().hex[:8]}"
            copy_private(path, tmp)
            os.rename(tmp, target / path.name)
            out.append(f"{ARCHIVES_DIR}/{path.name}")
    if out:
        fsync_dir(target)
    return out
