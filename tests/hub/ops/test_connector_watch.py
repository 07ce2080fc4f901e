"""The watch on the connectors (hub/jobs/connector_watch.py, policies/operations.py): run
records posted through the real, signed API; the watch run as of chosen instants. Expected
outcomes from the rule: with a 5-minute schedule, silent after factor x 5 min + grace (an hour
later is past it); three runs whose quarantine rose by min_growth or more grow; each alert is
told once to every administrator — nobody else — and closes when the condition ends; the week's
alerts are in the weekly brief."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from graph import meetings as gm
from graph.access import AccessFilter
from graph.handle import Graph
from graph.identity import Principal
from graph.operations import connector_alerts_between
from hub import brief as hub_brief
from hub.jobs.connector_watch import run_connector_watch
from policies.operations import allowed_silence, load_operations_rules

RULES = load_operations_rules()
PARIS = ZoneInfo("Europe/Paris")


def post_run(client, pusher, *, status="ok", quarantine_size=0, every_s=300.0) -> None:
    run = {"connector": pusher.name, "agency": pusher.agency, "started_at": "2026-12-07T08:00:00+00:00",
           "finished_at": "2026-12-07T08:00:04+00:00", "status": status,
           "quarantine_size": quarantine_size, "expected_every_s": every_s}
    body = json.dumps(run).encode()
    path = f"/api/v1/connectors/{pusher.name}/runs"
    answer = client.post(path, content=body, headers=pusher.signed_headers(body, path))
    assert answer.status_code == 204, answer.text


def server_now(graph: Graph) -> datetime:
    return graph.query("RETURN datetime() AS now")[0]["now"].to_native()


def notices(client, headers) -> list[dict]:
    return [n for n in client.get("/api/v1/notifications", headers=headers).json()
            if n["kind"] == "connector_alert"]


def test_a_stalled_connector_and_a_growing_quarantine_raise_one_alert_each_until_they_end(
        clean_graph, client, make_user, make_connector, hub_settings):
    graph = Graph(clean_graph, hub_settings.neo4j_database)
    admin, analyst = make_user("police", "administrator"), make_user("police", "analyst")
    other_admin = make_user("gendarmerie", "administrator")
    police, customs = make_connector("police"), make_connector("douanes")
    post_run(client, police, every_s=300)  # delivers every 5 minutes
    growth = RULES.quarantine.min_growth
    sizes = [2, 2 + growth // 2, 2 + growth]  # risen by min_growth over window_runs runs
    assert len(sizes) >= RULES.quarantine.window_runs
    for size in sizes:
        post_run(client, customs, quarantine_size=size, every_s=86400)  # daily: never silent here
    t0 = server_now(graph)
    assert timedelta(hours=1) > allowed_silence(RULES, 300)  # so an hour later is silent
    t1 = t0 + timedelta(hours=1)

    assert run_connector_watch(client.app, t1) == {"opened": 2, "resolved": 0, "open": 2}
    for headers in (admin, other_admin):
        told = notices(client, headers)
        assert sorted(n["payload"]["connector"] for n in told) == sorted([police.name, customs.name])
        by = {n["payload"]["connector"]: n for n in told}
        assert "silencieux" in by[police.name]["message"]
        assert "Quarantaine" in by[customs.name]["message"] and f"à {2 + growth}" in by[customs.name]["message"]
    assert notices(client, analyst) == []

    # Still the same episodes a few minutes later: nothing new is told.
    assert run_connector_watch(client.app, t1 + timedelta(minutes=5)) == {"opened": 0, "resolved": 0, "open": 2}
    assert len(notices(client, admin)) == 2

    # The police connector delivers again, now scheduled hourly (the schedule it reports now
    # counts): its last delivery is within factor x 1 h + grace of t2, so its alert closes; the
    # quarantine's stays open.
    post_run(client, police, every_s=3600)
    t2 = t1 + timedelta(minutes=10)
    assert t2 - server_now(graph) < allowed_silence(RULES, 3600)
    assert run_connector_watch(client.app, t2) == {"opened": 0, "resolved": 1, "open": 1}
    week_alerts = connector_alerts_between(graph, t0 - timedelta(minutes=1), t2 + timedelta(minutes=1))
    assert {(a.connector, a.kind, a.resolved_at is None) for a in week_alerts} == {
        (police.name, "silent", False), (customs.name, "quarantine_growing", True)}

    # The weekly brief of the week of t1 lists both under « État des sources ».
    local = t1.astimezone(PARIS)
    week = f"{local.isocalendar().year}-W{local.isocalendar().week:02d}"
    meeting = gm.unsaved_meeting("25", week)
    brief_now = min(t2 + timedelta(minutes=1), meeting.ends_at - timedelta(seconds=1))
    reader = Principal(user_id="police:watch-test", name="analyste", agency="police", role="analyst")
    nothing = AccessFilter(case_expression="'none'", profiles={}, policy_id="test-none")
    html = hub_brief.render_html(hub_brief.build_brief(graph, meeting, reader, nothing, now=brief_now))
    section = html[html.index("État des sources"):]
    assert f"{customs.name} (douanes) — quarantaine en hausse" in section
    assert f"<td>{police.name}</td><td>police</td><td>silencieux</td>" in section
