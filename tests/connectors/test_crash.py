"""Crash safety: a connector killed with SIGKILL mid-run loses nothing, and the restart creates
no duplicate at the hub (re-sends come back « unchanged »)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.base import RunStatus
from connectors.state import StateStore
from tests.connectors._harness import LINKAGE_KEY, TOKEN, env, simple_records  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
N = 120


def start_child(env, **extra: object) -> subprocess.Popen:  # noqa: F811
    settings = {
        "HUB_URL": env.hub.url, "HUB_TOKEN": TOKEN, "AGENCY": "police",
        "STATE_DIR": str(env.tmp / "state"), "SIGNING_KEY_PATH": str(env.key_path),
        "LINKAGE_KEY": LINKAGE_KEY, "SOURCE_FILE": str(env.source), "BATCH_SIZE": "10",
    } | {k.upper(): str(v) for k, v in extra.items()}
    child_env = dict(os.environ, PYTHONPATH=str(ROOT)) | {
        f"CROSSHUB_TEST_MEMORY_{k}": v for k, v in settings.items()}
    code = "from tests.connectors._harness import MemoryConnector; MemoryConnector.from_env().run()"
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=child_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen, condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the child ended before it could be killed: {err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("condition never met")
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL


def cursor_of(env) -> str | None:  # noqa: F811
    with StateStore(env.tmp / "state", "memory") as store:
        return store.get_cursor()


def assert_complete_and_unique(env) -> None:  # noqa: F811
    record = env.connector().run()
    assert record.status == RunStatus.OK and record.outbox_pending == 0, record
    assert sorted(ref for _, ref in env.hub.created) == [f"R{i:04d}" for i in range(N)]
    assert set(env.hub.created.values()) == {1}, "a lead was created twice"
    assert env.hub.outcomes["created"] == N


def test_sigkill_while_collecting(env) -> None:  # noqa: F811
    env.connector(simple_records(N))
    proc = start_child(env, map_delay_s=0.01)
    kill_when(proc, lambda: int(cursor_of(env) or -1) >= 29)  # three batches committed
    assert int(cursor_of(env)) < N - 1  # really mid-run
    assert_complete_and_unique(env)
    # The killed run is reported as interrupted, then the restart's run.
    assert [r["status"] for r in env.hub.runs] == ["failed", "ok"]
    assert "interrompu" in env.hub.runs[0]["last_error"]


def test_sigkill_after_the_hub_ingested_before_the_ack(env) -> None:  # noqa: F811
    env.connector(simple_records(N))
    env.hub.response_delay_s = 2.0  # the hub has written the batch but not answered yet
    proc = start_child(env, batch_size=N)
    # wait until the batch is written, not merely received: counting on arrival raced the loop
    kill_when(proc, lambda: env.hub.ingested_requests >= 1)
    assert sum(env.hub.created.values()) == N  # all ingested...
    with StateStore(env.tmp / "state", "memory") as store:
        assert store.outbox_count() == N  # ...and all still waiting for an acknowledgement
    env.hub.response_delay_s = 0
    assert_complete_and_unique(env)
    assert env.hub.outcomes["unchanged"] == N  # the re-send was harmless


@pytest.mark.parametrize("when", ["cursor>=9", "cursor>=59", "requests>=3", "requests>=9"])
def test_sigkill_at_various_points(env, when: str) -> None:  # noqa: F811
    """Killed right after a commit, mid-batch, between pushes, late in the run: same outcome."""
    env.connector(simple_records(N))
    what, threshold = when.split(">=")
    proc = start_child(env, map_delay_s=0.01)
    if what == "cursor":
        kill_when(proc, lambda: int(cursor_of(env) or -1) >= int(threshold))
    else:
        kill_when(proc, lambda: env.hub.lead_requests >= int(threshold))
    assert_complete_and_unique(env)
