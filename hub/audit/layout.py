"""Where the audit trail's segments live, and what they are called (ADR 0012).

Owns the directory layout of a trail with several writers. Every writer — a hub worker, one CLI
invocation, a job run outside the hub — appends to a segment of its own, a directory holding one
hash-chained entries file and its signed checkpoints (the format of records.py, unchanged):

    <audit_dir>/segments/<writer id>/audit.jsonl
    <audit_dir>/segments/<writer id>/checkpoints.jsonl
    <audit_dir>/segments/<writer id>/audit.lock     flock'ed by the one process writing it
    <audit_dir>/segments/<writer id>/closed         written once the segment is sealed for good
    <audit_dir>/audit.jsonl, checkpoints.jsonl       the single-writer trail of ADR 0003, if any:
                                                     read and verified as segment ``initial``,
                                                     never written again

A writer id is ``<UTC time to the µs>-<kind>-<host>-<pid>-<random>``: unique per process lifetime, sortable
by creation time (which is how a new segment names the one created before it), and saying which
host and process wrote it. No two processes ever write one file, so nothing is locked across
processes or hosts: the flock only refuses a second writer on the same segment (which cannot
happen by construction, and would fork the chain if it did).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from hub.audit.records import CHECKPOINTS_FILE, ENTRIES_FILE

SEGMENTS_DIR = "segments"
CLOSED_MARKER = "closed"
INITIAL_SEGMENT = "initial"  # the ADR 0003 trail at the root of the directory
_WRITER_ID = re.compile(r"^[0-9]{8}T[0-9]{12}Z-[a-z]+-[a-z0-9-]{1,40}-[0-9]+-[0-9a-f]{6}$")


class WriterKind(StrEnum):
    """What kind of process writes a segment: said in its name, for the auditors."""

    HUB = "hub"  # a hub worker, for its lifetime
    CLI = "cli"  # one ``crosshub`` command
    JOB = "job"  # a job run outside the hub (an external scheduler)


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    path: Path  # the directory holding its entries and checkpoints files

    @property
    def entries(self) -> Path:
        return self.path / ENTRIES_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_FILE

    @property
    def closed(self) -> bool:
        return (self.path / CLOSED_MARKER).exists()

    @property
    def host(self) -> str | None:
        """The host tag in the writer id (None for the initial trail)."""
        if self.name == INITIAL_SEGMENT:
            return None
        return self.name.split("-", 2)[2].rsplit("-", 2)[0]


def host_tag() -> str:
    """This host's name as it appears in writer ids: lowercase letters, digits and dashes."""
    tag = re.sub(r"[^a-z0-9]+", "-", socket.gethostname().lower()).strip("-")
    return (tag or "hote")[:40]


def new_writer_id(kind: WriterKind, now: datetime | None = None) -> str:
    now = (now or datetime.now(UTC)).astimezone(UTC)
    # Microseconds: two writers opened by one process in the same second still sort in order.
    return f"{now:%Y%m%dT%H%M%S%fZ}-{kind.value}-{host_tag()}-{os.getpid()}-{secrets.token_hex(3)}"


def is_writer_id(name: str) -> bool:
    return bool(_WRITER_ID.match(name))


def segments_root(audit_dir: Path) -> Path:
    return Path(audit_dir) / SEGMENTS_DIR


def list_segments(audit_dir: Path) -> list[Segment]:
    """Every segment of the trail in ``audit_dir``, oldest first: the initial single-writer trail
    if there is one, then the writers' segments by name (= by creation time). A directory under
    ``segments/`` that is not named like a writer id is listed too (verify reports it rather than
    ignoring what someone put there)."""
    audit_dir = Path(audit_dir)
    found: list[Segment] = []
    if (audit_dir / ENTRIES_FILE).exists() or (audit_dir / CHECKPOINTS_FILE).exists():
        found.append(Segment(INITIAL_SEGMENT, audit_dir))
    root = segments_root(audit_dir)
    if root.is_dir():
        found += [Segment(p.name, p) for p in sorted(root.iterdir()) if p.is_dir()]
    return found


def segment(audit_dir: Path, name: str) -> Segment:
    if name == INITIAL_SEGMENT:
        return Segment(name, Path(audit_dir))
    return Segment(name, segments_root(audit_dir) / name)
