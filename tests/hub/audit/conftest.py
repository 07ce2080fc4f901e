"""Fixtures for the audit-trail tests: a private audit/keys directory pair per test, and a
closed log of 20 entries sealed by checkpoints at entries 10 and 20."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.audit import AuditTrail
from tests.hub.audit.logfiles import Dirs, make_event

N_ENTRIES = 20
EVERY = 10


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    return Dirs(audit=tmp_path / "data" / "audit", keys=tmp_path / "data" / "keys")


@pytest.fixture
def populated(dirs: Dirs) -> Dirs:
    """20 entries; periodic checkpoint at 10 and the closing one at 20."""
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, checkpoint_every=EVERY) as trail:
        for i in range(N_ENTRIES):
            trail.append(make_event(i))
    return dirs
