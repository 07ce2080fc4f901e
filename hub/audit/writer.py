"""Opening a writer's own segment of the audit trail (ADR 0012): ``open_writer``.

Owns what happens when a process starts writing the trail: it first adopts the segments this host
left open (a writer killed before ``close()``: its torn tail is cut and recorded, its tail sealed,
the segment marked closed — by whoever starts next, since the dead writer cannot), then creates a
segment of its own and records its opening as the segment's first entry (``log_opened``), naming
the segment created just before it and that segment's head (seq and hash). Those names link every
segment to an earlier one, so deleting a whole segment that any later writer saw is detected by
``verify`` and named.

A segment of another host is never adopted: whether its writer is alive cannot be told from here
(flock does not cross hosts reliably); its own host adopts it when it restarts.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hub.audit.files import complete_size, last_line
from hub.audit.layout import (
    CLOSED_MARKER,
    INITIAL_SEGMENT,
    Segment,
    WriterKind,
    host_tag,
    list_segments,
    new_writer_id,
    segment,
    segments_root,
)
from hub.audit.records import GENESIS_HASH
from hub.audit.trail import DEFAULT_CHECKPOINT_EVERY, AuditTrail
from hub.contract.errors import AuditUnavailable, ConfigurationError
from hub.keyfiles import ensure_private_dir, fsync_dir
from hub.settings import Settings
from policies.audit import (
    SYSTEM_ACTOR,
    AuditAction,
    AuditEvent,
    Decision,
    DecisionOutcome,
    utc_now,
)

log = logging.getLogger(__name__)


def open_writer(
    settings: Settings | None = None,
    *,
    kind: WriterKind = WriterKind.HUB,
    audit_dir: Path | None = None,
    keys_dir: Path | None = None,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    clock: Callable[[], datetime] = utc_now,
) -> AuditTrail:
    """A new segment of the trail in ``audit_dir`` (default ``settings.audit_dir``), opened for
    this process alone, its opening already recorded. Close it (``close()`` or ``with``): that
    seals it and marks it closed."""
    if audit_dir is None or keys_dir is None:
        settings = settings or Settings()
        audit_dir = audit_dir or settings.audit_dir
        keys_dir = keys_dir or settings.keys_dir
    audit_dir, keys_dir = Path(audit_dir), Path(keys_dir)
    ensure_private_dir(audit_dir)
    ensure_private_dir(segments_root(audit_dir))
    adopted = adopt_orphans(audit_dir, keys_dir, clock=clock)
    previous = list_segments(audit_dir)
    name = new_writer_id(kind, clock())
    mine = segment(audit_dir, name)
    mine.path.mkdir(mode=0o700)
    fsync_dir(mine.path.parent)
    trail = AuditTrail.open(audit_dir=mine.path, keys_dir=keys_dir, checkpoint_every=checkpoint_every,
                            lock_timeout_s=0.0, clock=clock)
    trail.segment = name
    try:
        trail.append(opened_event(name, kind, previous[-1] if previous else None, adopted))
    except BaseException:
        trail.close()
        raise
    return trail


def adopt_orphans(audit_dir: Path, keys_dir: Path, *,
                  clock: Callable[[], datetime] = utc_now) -> list[str]:
    """Seal and close every segment of this host whose writer is gone; their names. A segment
    whose writer still holds its lock is left alone; one whose tail is inconsistent is left for
    ``crosshub audit verify`` to name (logged), never written after."""
    host = host_tag()
    adopted: list[str] = []
    for seg in list_segments(audit_dir):
        if seg.closed or (seg.name != INITIAL_SEGMENT and seg.host != host):
            continue
        try:
            trail = AuditTrail.open(audit_dir=seg.path, keys_dir=keys_dir, lock_timeout_s=0.0,
                                    clock=clock)
        except AuditUnavailable:
            continue  # its writer is alive
        except ConfigurationError:
            log.error("segment d'audit %s incohérent : laissé tel quel, voir « crosshub audit verify »",
                      seg.name)
            continue
        trail.segment = seg.name
        trail.close()  # recovery (torn tail cut and recorded) happened on open; close seals
        adopted.append(seg.name)
        log.warning("segment d'audit %s repris : son processus s'est arrêté sans le fermer", seg.name)
    return adopted


def segment_head(seg: Segment) -> tuple[int, str]:
    """(seq, hash) of the last complete entry of ``seg`` (0 and the genesis hash when empty)."""
    try:
        fd = os.open(seg.entries, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0, GENESIS_HASH
    try:
        line = last_line(fd, complete_size(fd, os.fstat(fd).st_size))
    finally:
        os.close(fd)
    if line is None:
        return 0, GENESIS_HASH
    try:
        body = json.loads(line)
        return int(body["seq"]), str(body["entry_hash"])
    except (ValueError, KeyError, TypeError):
        return 0, GENESIS_HASH  # verify names the bad line; the link then only names the segment


def opened_event(name: str, kind: WriterKind, previous: Segment | None,
                 adopted: list[str]) -> AuditEvent:
    """The first entry of a segment: who writes it, and the segment before it with its head."""
    details: dict[str, str | int | bool | None] = {
        "segment": name, "writer_kind": kind.value, "host": host_tag(), "pid": os.getpid(),
        "adopted": ", ".join(adopted)[:2000] or None,
    }
    if previous is not None:
        seq, digest = segment_head(previous)
        details.update(previous_segment=previous.name, previous_seq=seq, previous_hash=digest)
    return AuditEvent(
        action=AuditAction.LOG_OPENED,
        actor=SYSTEM_ACTOR,
        decision=Decision(outcome=DecisionOutcome.NOT_APPLICABLE, rule_id="audit.segment"),
        personal_data=False,
        details=details,
    )


__all__ = ["CLOSED_MARKER", "adopt_orphans", "open_writer", "opened_event", "segment_head"]
