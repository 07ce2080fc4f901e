"""Crash: a writer process is SIGKILLed mid-stream; every entry whose ``append`` had returned
(the child reports each acknowledged seq on its stdout pipe only after ``append`` returned) is
in the log, and the log verifies after recovery.

SIGKILL tests the process-crash path (including a torn last line when the kill lands inside a
large write, which the kernel may leave partly done). A power cut — what ``fsync`` is for — cannot
be simulated without a VM or a fault-injecting block device.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hub.audit import AuditFilters, AuditTrail, query, verify
from policies.audit import AuditAction
from tests.hub.audit.logfiles import Dirs, entry, read_lines

REPO = Path(__file__).parents[3]

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from hub.audit import AuditTrail
    from tests.hub.audit.logfiles import make_event

    audit_dir, keys_dir = Path(sys.argv[1]), Path(sys.argv[2])
    trail = AuditTrail.open(audit_dir=audit_dir, keys_dir=keys_dir, checkpoint_every=25)
    ack = sys.stdout
    i = 0
    while True:
        i += 1
        if i % 10 == 0:
            # Large batches (about 2 MB) so the kill sometimes lands inside a write.
            leads = [f"police:PV-2025-{n:06d}" for n in range(2000)]
            entries = trail.append_many([make_event(i, lead_ids=leads) for _ in range(25)])
            ack.write("".join(f"{e.seq}\\n" for e in entries))
        else:
            ack.write(f"{trail.append(make_event(i)).seq}\\n")
        ack.flush()  # only after append returned
""")


def run_and_kill(dirs: Dirs, kill_after: int) -> list[int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(dirs.audit), str(dirs.keys)],
        stdout=subprocess.PIPE, cwd=REPO,
    )
    assert proc.stdout is not None
    acked: list[int] = []
    try:
        for raw in proc.stdout:
            acked.append(int(raw))
            if len(acked) >= kill_after:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Acks written before the kill but not read yet: complete lines only.
    rest = proc.stdout.read()
    acked += [int(x) for x in rest.split(b"\n")[:-1]]
    proc.stdout.close()
    return acked


@pytest.mark.parametrize(("kill_after", "tear"), [(7, False), (180, False), (400, False), (60, True)])
def test_sigkill_mid_stream_loses_no_acknowledged_entry(dirs: Dirs, kill_after: int, tear: bool) -> None:
    acked = run_and_kill(dirs, kill_after)
    assert len(acked) >= kill_after and acked == sorted(acked)
    if tear:
        # A kill inside a large write is rare on a fast disk; make the torn tail it would leave.
        with dirs.entries.open("ab") as f:
            f.write(b'{"action":"consultation","actor":{"agency":"gendarmerie","kind":"us')

    # Before any recovery, everything up to a possible torn last line already verifies.
    before = verify(dirs.audit, dirs.keys)
    assert before.ok, before.first_bad
    assert before.head_seq >= acked[-1]
    torn = bool(before.warnings)
    assert torn or not tear

    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:  # recovers
        head = trail.head_seq
        recovered = trail.query(AuditFilters(action=AuditAction.LOG_RECOVERY))
    assert bool(recovered) == torn

    on_disk = [entry(line)["seq"] for line in read_lines(dirs.entries)]
    assert on_disk == list(range(1, head + 1))
    assert set(acked) <= set(on_disk)
    after = verify(dirs.audit, dirs.keys)
    assert after.ok and after.warnings == [] and after.sealed_seq == head
    assert query(dirs.audit, AuditFilters(limit=1))[0].seq == head


def test_lock_dies_with_the_killed_writer(dirs: Dirs) -> None:
    run_and_kill(dirs, 3)
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys, lock_timeout_s=0) as trail:
        assert trail.head_seq >= 3
