"""Schemathesis against the live hub (issue 10): the published contract is what the hub answers.

The hub runs as a real server (uvicorn in a thread, free loopback port) on the session's Neo4j,
with demo data loaded the way ``crosshub dev`` loads it (a smaller batch) and triaged; then the
schemathesis CLI (pinned: see SCHEMATHESIS_VERSION) runs in a subprocess, once as a gendarmerie
analyst (who reads police leads redacted, others' H2 as hits) over every operation, and once
anonymously over the operations that take no token (health, sign-in, renewal, the OIDC provider
list), with every check on and at least 25 cases per operation that takes input (that an
anonymous caller is refused by every other operation is proved operation by operation, on raw
bytes, by tests/hub/test_anonymous_refused.py). Its JSON report is parsed here; the totals
(operations, cases, failures) are printed (`-s` to see them).

Asserted: no failure at all — in particular 0 server errors, 0 undocumented status codes and 0
responses off their schema. One setting is ours: a schema-valid request may be answered 422
(``positive_data_acceptance`` also expects 422) — the contract documents 422 for what JSON
Schema cannot say (a phone number that does not parse, "exactly one place", a deadline before
the meeting, a status transition the lifecycle forbids…), each answered with the exact field.

The signed ingest and run-report bodies are generated from their published schemas like any
other (the requests are refused at the signature or the role, 401/403, as documented): nothing
is excluded.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPORT
from tests.hub.test_anonymous_refused import PUBLIC

SCHEMATHESIS_VERSION = "4.32.5"
MAX_EXAMPLES = 25
# A schema-violating body may also be refused for its size before it is parsed: 413 is the
# limits' documented answer (hub/limits.py) — e.g. a message at its maxLength of astral
# characters, each escaped as 12 bytes of JSON, is past the people's body limit.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_hub(settings, tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    """The hub served on loopback with demo data; yields its URL and a token per demo caller."""
    import uvicorn

    from connectors.demo.story import MIN_DEMO_LEADS, generate_demo_leads
    from graph import identity
    from graph.driver import open_driver, reset_database
    from graph.handle import Graph
    from graph.leads import write_leads
    from graph.setup import apply_schema
    from hub.app import create_app

    hub_settings = settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("schemathesis-hub"), "hub_jobs_enabled": False})
    db = hub_settings.neo4j_database
    driver = open_driver(hub_settings.graph_config)
    tokens: dict[str, str] = {}
    try:
        apply_schema(Graph(driver, db))
        reset_database(Graph(driver, db))
        write_leads(Graph(driver, db), generate_demo_leads(seed=2025, n=max(MIN_DEMO_LEADS, 150)),
                    radius_m=hub_settings.location_merge_radius_m, mark_for_triage=True)
        for agency, role in (("gendarmerie", "analyst"), ("police", "coordinator")):
            user = identity.upsert_user(Graph(driver, db), agency=agency, role=role, name=f"demo-{role}",
                                        contact=f"Permanence CROSS — {agency}")
            tokens[f"{agency}:{role}"] = identity.issue_token(
                Graph(driver, db), user.user_id, ttl=timedelta(hours=2)).token
    finally:
        driver.close()

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub_settings), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="schemathesis-hub", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    # Generous: under a loaded machine the first reads wait for the triage worker's writes.
    deadline = time.monotonic() + 180
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.1)
    # The demo leads are triaged by the hub's worker: wait until the queue has them.
    auth = {"Authorization": f"Bearer {tokens['gendarmerie:analyst']}"}
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/api/v1/triage/queue?limit=1", headers=auth, timeout=30).json():
            break
        time.sleep(0.5)
    try:
        yield url, tokens
    finally:
        server.should_exit = True
        thread.join(30)


# The anonymous caller is refused (401) by every operation that requires a token, which
# tests/hub/test_anonymous_refused.py proves on raw bytes, operation by operation (2,200 fuzzed
# cases answered 401 here cost ~4 min of CI for nothing more); here it fuzzes the operations
# that take no token, where what it sends is read (examples and fuzzing, 25 cases per operation,
# every check). The analyst runs every phase (examples, coverage — which probes undeclared
# methods, missing headers —, fuzzing, stateful) over every operation.
PHASES = {"anonymous": "examples,fuzzing", "gendarmerie:analyst": "examples,coverage,fuzzing,stateful"}
ONLY = {"anonymous": "^(" + "|".join(sorted(re.escape(path) for path, _ in PUBLIC)) + ")$",
        "gendarmerie:analyst": None}
# Operations taking no input at all (one distinct case each) among those a caller runs.
NO_INPUT = {"anonymous": 2, "gendarmerie:analyst": 0}


def start_schemathesis(url: str, report_dir: Path, token: str | None, phases: str,
                       only: str | None = None) -> tuple[subprocess.Popen, Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    config = report_dir / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    report = report_dir / "report.json"
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
        "run", f"{url}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
        "--phases", phases, "--seed", "20251118", "--request-timeout", "60", "--no-color",
        # One worker: Python 3.11's AST parser is not thread-safe (hypothesis describes its
        # lambdas with it), and two callers already run side by side. Response times: the
        # suite shares the machine; a slow answer is not what is checked here.
        "--workers", "1", "--max-response-time", "60",
        "--report", "json", "--report-json-path", str(report),
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    if only is not None:
        command += ["--include-path-regex", only]
    log = (report_dir / "output.txt").open("w", encoding="utf-8")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=report_dir,
                            env={**os.environ, "NO_COLOR": "1"})
    return proc, report


def read_report(proc: subprocess.Popen, report: Path) -> dict:
    try:
        proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = (report.parent / "output.txt").read_text(encoding="utf-8")
    assert report.is_file(), f"schemathesis wrote no report (exit {proc.returncode}):\n{output[-5000:]}"
    data = json.loads(report.read_text(encoding="utf-8"))
    data["_output"] = output
    return data


@pytest.fixture(scope="module")
def reports(live_hub, tmp_path_factory) -> dict[str, dict]:
    """Both callers' runs, side by side (each is one request at a time: two use both cores)."""
    url, tokens = live_hub
    base = tmp_path_factory.mktemp("schemathesis")
    started = {caller: start_schemathesis(url, base / caller.replace(":", "-"), tokens.get(caller),
                                          phases, ONLY[caller])
               for caller, phases in PHASES.items()}
    return {caller: read_report(*run) for caller, run in started.items()}


def summarize(label: str, data: dict) -> tuple[int, int, int]:
    """(operations, cases, failures) from schemathesis' JSON run report, printed with the
    failures by code and operation."""
    ops = data["operations"]["tested"]
    cases = data["test_cases"]["generated"]
    failures = sum(f.get("count", 1) for f in data["failures"])
    print(f"\nschemathesis {data['schemathesis_version']} as {label}: {ops} operations, "
          f"{cases} cases, {failures} failures, {len(data['errors'])} errors "
          f"({data['running_time']:.0f} s)")
    for f in data["failures"]:
        print(f"  {f['code']} {f['title']} x{f.get('count', 1)}: {', '.join(f.get('operations', []))}")
    for e in data["errors"]:
        print(f"  error: {json.dumps(e, ensure_ascii=False)[:300]}")
    return ops, cases, failures


@pytest.mark.parametrize("caller", list(PHASES))
def test_the_hub_answers_as_its_contract_says(reports, caller, record_property):
    data = reports[caller]
    ops, cases, failures = summarize(caller, data)
    record_property(REPORT, f"schemathesis {data['schemathesis_version']} as {caller}: {ops} operations, "
                            f"{cases} cases, {failures} failures, {len(data['errors'])} errors")
    assert data["complete"], data["_output"][-3000:]
    if ONLY[caller] is None:
        assert ops == data["operations"]["total"] >= 40, data["_output"][-3000:]
    else:
        assert ops == len(PUBLIC), data["_output"][-3000:]
    # 25 per operation, but an operation with no input (/healthz…) has fewer distinct cases.
    assert cases >= (ops - NO_INPUT[caller]) * (MAX_EXAMPLES - 5), (cases, ops)
    assert data["errors"] == [], data["_output"][-8000:]
    assert failures == 0, data["_output"][-12000:]
