"""Lead-vs-operation deconfliction (issue 14 part 2, ADR 0017), end to end through the hub's
triage worker and the API.

Oracles, from the rule (policies/lead_clash.py, deconfliction.yaml) and the access rules
(rules.yaml), never from output:
- a lead of ANOTHER agency naming an operation's target, its time after the declaration (less
  72 h) and before the end (+30 min), alerts the owner agency — live: an agency notification,
  which the stream serves after its cursor; a lead of the owner's own agency never does;
- a lead in the place (within max(500 m, radius) of the operation's point, or the same commune
  when the lead has no point) during the window widened by 30 min alerts; outside the window or
  2 km away it does not;
- the owner reads the lead per rules.yaml: a police analyst gets a gendarmerie H2 lead as a hit
  (agency, contact, handle; no lead id), a police coordinator gets it in full;
- the author (gendarmerie) reads byte for byte what it read for the same lead without an
  operation: no operation id, title, unit, nor « surveillance »/« opération » wording;
- with ``tell_lead_author`` (allowed for arrests, never a surveillance) the author's agency gets
  one notification: « Piste <id> : contactez <police desk> (Police nationale) avant d'y donner
  suite. », nothing else;
- a batch of leads on one operation gives its owner one notice, counting them;
- acknowledging closes the alert (once; another agency's acknowledgement is a 404), audited;
  a replayed / retriaged lead raises no second alert and no second notification.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from graph.grants.notifications import notification_cursor, notifications_after
from graph.handle import Graph
from graph.leads import write_leads
from hub.app import create_app
from hub.audit import AuditFilters, query
from hub.contract.lead import Agency, Lead
from hub.jobs.triage import triage_pending_once
from hub.settings import Settings
from policies.audit import AuditAction
from tests.factories import BESANCON, canary_tag, lead

pytestmark = pytest.mark.usefixtures("clean_graph")

J = {"justification": "PV 2025/0815 déconfliction"}
HALL = (47.2205, 5.9710)  # the factory's Place Cassin point
FAR = (47.2385, 5.9710)  # 2 km north


@pytest.fixture(scope="module")
def api(hub_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = hub_settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("lead-clash-hub")})
    with TestClient(create_app(settings)) as client:
        yield client


def _plate() -> str:
    t = canary_tag(4)
    return f"{t[:2]}-{100 + int.from_bytes(t.encode()) % 900}-{t[2:]}"


def _push(api: TestClient, driver, *payloads: dict) -> list[str]:
    """Write leads as ingest does (queued for triage) and wait, bounded, until the hub's triage
    worker (or this direct call) has triaged them."""
    db = api.app.state.settings.neo4j_database
    ids = [w.lead_id for w in write_leads(Graph(driver, db), [Lead.model_validate(p) for p in payloads],
                                          mark_for_triage=True)]
    deadline = time.monotonic() + 120  # a loaded machine: bounded, not tight
    while True:
        triage_pending_once(api.app)
        records, _, _ = driver.execute_query(
            "UNWIND $ids AS id MATCH (l:Lead {lead_id: id}) WHERE l:TriagePending RETURN count(l) AS n",
            ids=ids, database_=db)
        if records[0]["n"] == 0:
            return ids
        assert time.monotonic() < deadline, "triage did not drain"
        time.sleep(0.1)


def _op(api, headers, *, kind="surveillance", targets=(), point=HALL, hours_before=1, hours_after=3,
        title=None, unit=None, tell=None, insee="25056") -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    place = {"insee_code": insee, "commune": "Besançon", "radius_m": 100}
    if point:
        place["point"] = {"lat": point[0], "lon": point[1]}
    body = {"kind": kind, "title": title or f"Dispositif {canary_tag()}", "unit": unit or f"BR {canary_tag()}",
            "starts_at": (now - timedelta(hours=hours_before)).isoformat(),
            "ends_at": (now + timedelta(hours=hours_after)).isoformat(), "place": place,
            "targets": list(targets)}
    if tell is not None:
        body["tell_lead_author"] = tell
    r = api.post("/api/v1/operations", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return r.json()["operation"]


def _stop(agency="gendarmerie", *, plate=None, at=None, point=HALL, code="H2", address="Place Cassin",
          **more) -> dict:
    at = at or datetime.now(UTC) - timedelta(minutes=5)
    location = {**BESANCON}
    if address:
        location["address"] = address
    if point:
        location["point"] = {"lat": point[0], "lon": point[1]}
    prefix = {"gendarmerie": "GN", "police": "PN", "douanes": "DZ"}[agency]
    return lead(source_agency=agency, source_ref=f"{prefix}-{canary_tag(8)}", kind="stop_check",
                channel="patrol", handling_code=code, observed_at=at.isoformat(),
                reported_at=(at + timedelta(minutes=2)).isoformat(), location=location,
                vehicles=[{"plate": plate}] if plate else [], narrative="Contrôle routier, véhicule fouillé.",
                **more)


def _alerts(api, headers, **params) -> list[dict]:
    r = api.get("/api/v1/deconfliction/lead-alerts", headers=headers, params={**J, **params})
    assert r.status_code == 200, r.text
    return r.json()


def _author_reads(api, headers, lead_id: str) -> dict[str, bytes]:
    """Every answer the author's agency gets that could carry a trace of the operation."""
    return {
        "notifications": api.get("/api/v1/notifications", headers=headers).content,
        "lead": api.get(f"/api/v1/leads/{lead_id}", headers=headers, params=J).content,
        "triage": api.get(f"/api/v1/leads/{lead_id}/triage", headers=headers, params=J).content,
        "history": api.get(f"/api/v1/leads/{lead_id}/history", headers=headers, params=J).content,
        "link_alerts": api.get("/api/v1/link-alerts", headers=headers, params=J).content,
        "deconfliction": api.get("/api/v1/deconfliction/alerts", headers=headers, params=J).content,
        "lead_alerts": api.get("/api/v1/deconfliction/lead-alerts", headers=headers, params=J).content,
    }


_VOLATILE = re.compile(rb'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9:]{2}:?[0-9]{2})?"')
_VERSION = re.compile(rb'"version":[0-9]+')


def _masked(raw: bytes) -> bytes:
    """An answer with the instants and the version of the lead masked: a new version is
    written at another time, and says so."""
    return _VERSION.sub(b'"version":<v>', _VOLATILE.sub(b'"<t>"', raw))


def test_a_gendarmerie_stop_on_a_surveillance_target_alerts_the_police_and_tells_the_gendarmerie_nothing(
        api, driver, make_user):
    pn, chief = make_user("police", "analyst"), make_user("police", "coordinator")
    gn = make_user("gendarmerie", "analyst")
    policy = api.app.state.rulebook.policy
    target = _plate()
    stop_v1 = _stop(plate=target, point=FAR, address="Rue de Dole")
    # The same stop, without an operation on its plate: what the gendarmerie reads of it.
    [stop] = _push(api, driver, stop_v1)
    baseline = _author_reads(api, gn, stop)
    op = _op(api, pn, targets=[f"vehicle:{target}"], point=(47.2600, 6.0300))  # 4 km from the stop
    cursor = notification_cursor(api.app.state.graph)

    # Its next version comes after the declaration: triaged again, it meets the operation.
    assert _push(api, driver, {**stop_v1, "version": 2}) == [stop]

    # The police owner, live: one agency notification after the cursor (what the stream sends).
    live = [n for _, n in notifications_after(
        api.app.state.graph, user_id="police:nobody", agency="police", agency_wide=True, after=cursor)]
    assert [n.kind.value for n in live] == ["lead_operation_clash"]
    gendarmerie_desk = policy.agency(Agency.GENDARMERIE).contact_fr
    assert live[0].message.startswith(
        f"La Gendarmerie nationale détient une piste qui touche votre opération de surveillance « {op['title']} »")
    assert f"véhicule {target}" in live[0].message and gendarmerie_desk in live[0].message
    assert stop not in live[0].message and stop not in str(live[0].payload)  # H2: a hit, no id
    assert "lead_operation_clash" in api.get("/api/v1/notifications", headers=pn).text

    # The analyst reads the H2 lead as a hit (rules.yaml: analyst-other-hit-h2); the chief in full.
    raw = api.get("/api/v1/deconfliction/lead-alerts", headers=pn, params=J)
    [alert] = raw.json()
    assert stop.encode() not in raw.content
    assert alert["operation"]["operation_id"] == op["operation_id"] and alert["status"] == "open"
    assert alert["reasons"] == ["target"] and alert["shared_targets"] == [f"vehicle:{target}"]
    assert alert["lead"]["access"] == "hit" and alert["lead"]["lead_id"] is None
    assert alert["lead"]["hit"]["handle"] and alert["lead"]["contact"] == gendarmerie_desk
    assert alert["author_told"] is False
    [full] = _alerts(api, chief)
    assert full["lead"]["access"] == "full" and full["lead"]["lead_id"] == stop
    assert full["lead"]["kind"] == "stop_check"

    # The gendarmerie: the same bytes as before the operation (its lead's times and version
    # aside), and not a trace of the operation anywhere it looks.
    after = _author_reads(api, gn, stop)
    for name, body in after.items():
        for secret in (op["operation_id"], op["title"], op["unit"], alert["alert_id"]):
            assert secret.encode() not in body, (name, secret)
        assert _masked(body) == _masked(baseline[name]), name
    for name in ("notifications", "link_alerts", "deconfliction", "lead_alerts"):
        assert b"surveillance" not in after[name].lower() and "opération".encode() not in after[name].lower()

    # A replay and a new version (retriaged) raise nothing new.
    _push(api, driver, {**stop_v1, "version": 2})
    _push(api, driver, {**stop_v1, "version": 3, "narrative": "Contrôle routier, rien à signaler."})
    assert len(_alerts(api, pn)) == 1
    assert len(notifications_after(api.app.state.graph, user_id="x", agency="police",
                                                agency_wide=True, after=cursor)) == 1

    # Acknowledged by the police: closed, once; the gendarmerie cannot even find it.
    assert api.post(f"/api/v1/deconfliction/lead-alerts/{alert['alert_id']}/acknowledge", headers=gn,
                    json={}).status_code == 404
    ack = api.post(f"/api/v1/deconfliction/lead-alerts/{alert['alert_id']}/acknowledge", headers=pn,
                   json={"note": "appel à l'officier de renseignement"})
    assert ack.status_code == 200 and ack.json()["changed"] and ack.json()["alert"]["status"] == "closed"
    second = api.post(f"/api/v1/deconfliction/lead-alerts/{alert['alert_id']}/acknowledge", headers=chief, json={})
    assert second.json()["changed"] is False
    assert _alerts(api, pn) == [] and [a["status"] for a in _alerts(api, pn, open=False)] == ["closed"]
    trail = query(api.app.state.settings.audit_dir, AuditFilters())
    assert [e for e in trail if e.decision.rule_id == "deconfliction-lead-clash"
            and e.action == AuditAction.COMBINATION and stop in e.lead_ids and e.recipients == ["police"]]
    assert [e for e in trail if e.action == AuditAction.ALTERATION
            and f"deconfliction:{alert['alert_id']}" in e.entity_keys]


# The place and the window: (what the lead is, whether it clashes, why).
PLACE_TABLE = [
    ("gendarmerie, 0 m, now", dict(point=HALL), True, ["place", "time"]),
    ("gendarmerie, 0 m, 5 h ago (window opened 1 h ago, +30 min margin)",
     dict(point=HALL, at_h=-5), False, None),
    ("gendarmerie, 2 km away, now", dict(point=FAR, address="Rue de Dole"), False, None),
    ("gendarmerie, no point, same commune, now", dict(point=None, address=None), True, ["place", "time"]),
    ("police (the owner's own), 0 m, now", dict(agency="police", point=HALL), False, None),
]


def test_a_lead_in_the_area_during_the_window_alerts_one_outside_does_not(api, driver, make_user):
    pn = make_user("police", "coordinator")
    op = _op(api, pn, point=HALL)
    now = datetime.now(UTC)
    payloads = []
    for _, spec, _, _ in PLACE_TABLE:
        spec = dict(spec)
        at = now + timedelta(hours=spec.pop("at_h", 0)) - timedelta(minutes=1)
        payloads.append(_stop(at=at, code="H1", **spec))
    ids = _push(api, driver, *payloads)
    got = {a["lead"]["lead_id"]: a for a in _alerts(api, pn)}
    for (name, _, clashes, reasons), lead_id in zip(PLACE_TABLE, ids, strict=True):
        assert (lead_id in got) is clashes, name
        if clashes:
            assert got[lead_id]["reasons"] == reasons and got[lead_id]["operation"]["operation_id"] == op["operation_id"]
    # One batch, one operation: one notice for the owner, counting the two leads.
    notes = [n for n in api.get("/api/v1/notifications", headers=pn).json() if n["kind"] == "lead_operation_clash"]
    assert [n["message"] for n in notes] == [
        f"2 pistes d'autres services (Gendarmerie nationale) touchent votre opération de surveillance "
        f"« {op['title']} » : voir les alertes de déconfliction pour qui contacter."]


def test_the_author_is_told_only_whom_to_call_when_the_owner_opted_in(api, driver, make_user):
    pn, gn = make_user("police", "analyst"), make_user("gendarmerie", "coordinator")
    target = _plate()
    # A surveillance may not tell (deconfliction.yaml: arrests and searches only).
    refused = api.post("/api/v1/operations", headers=pn, json={
        "kind": "surveillance", "unit": "BR", "place": {"insee_code": "25056"}, "tell_lead_author": True,
        "starts_at": datetime.now(UTC).isoformat(), "ends_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()})
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "tell_lead_author"
    op = _op(api, pn, kind="arrest", targets=[f"vehicle:{target}"], point=None, insee="25388", tell=True)
    [stop] = _push(api, driver, _stop(plate=target, point=FAR, address="Rue de Dole"))

    police_desk = api.app.state.rulebook.policy.agency(Agency.POLICE).contact_fr
    notes = api.get("/api/v1/notifications", headers=gn).json()
    assert [(n["kind"], n["message"], n["payload"]) for n in notes] == [
        ("contact_requested", f"Piste {stop} : contactez {police_desk} (Police nationale) avant d'y donner suite.",
         {"lead_id": stop})]
    raw = api.get("/api/v1/notifications", headers=gn).content
    for secret in (op["operation_id"], op["title"], op["unit"], target, "arrest", "interpellation"):
        assert secret.encode() not in raw
    [alert] = _alerts(api, pn)
    assert alert["author_told"] is True and alert["lead"]["access"] == "hit"
