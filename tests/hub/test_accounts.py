"""Accounts over time (issue 17 item 3): a mover loses the old agency's rights in the very next
request, a leaver's token is refused, the inactivity job disables exactly the accounts past
their role's period (policies/data/accounts.yaml, fixed clock), the access review lists the
accounts with their last use and a disable decision takes effect — each change in the trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from graph import identity
from graph import sessions as graph_sessions
from graph.handle import Graph
from graph.identity import reviews
from graph.leads import write_leads
from hub.audit import AuditFilters, query
from hub.jobs.accounts import disable_inactive, flag_overdue
from policies.accounts import load_account_rules
from hub.auth.refresh import open_session
from hub.contract.lead import Lead
from tests.factories import canary_tag, lead

J = "justification=PV 2026/0117"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _session(settings, db: Graph, user) -> tuple[str, str]:
    """(access token, refresh token) of a new session of ``user``, as a sign-in opens it (no
    password hashing: the sign-in itself is tests/hub/test_auth.py's)."""
    sid, now = graph_sessions.new_session_id(), datetime.now(UTC)
    opened = open_session(settings, session_id=sid, user_id=user.user_id, agency=user.agency,
                          role=user.role, now=now)
    graph_sessions.create_session(db, user_id=user.user_id, expires_at=opened.session_expires_at,
                                  client="testclient", session_id=sid,
                                  refresh_hash=opened.refresh_hash)
    return opened.access.token, opened.refresh_token


def _trail(settings, user_id: str) -> list:
    return list(reversed(query(settings.audit_dir, AuditFilters(entity_key=f"user:{user_id}"))))


@pytest.fixture
def db(hub_settings, driver) -> Graph:
    return Graph(driver, hub_settings.neo4j_database)


def test_a_mover_loses_the_old_agencys_rights_in_the_next_request(
        client, hub_settings, db, make_user) -> None:
    canary = canary_tag()
    (written,) = write_leads(db, [Lead.model_validate(lead(
        narrative=f"Guetteur {canary} devant le hall", handling_code="H1"))])
    lead_id = written.lead_id
    name = f"mover-{uuid.uuid4().hex[:6]}"
    user = identity.upsert_user(db, agency="police", role="analyst", name=name)
    session_token, refresh_token = _session(hub_settings, db, user)
    api_token = identity.issue_token(db, user.user_id).token
    # Before the move: the police analyst reads the police lead in full (own agency).
    for token in (session_token, api_token):
        before = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=_bearer(token))
        assert before.status_code == 200 and canary.encode() in before.content

    admin = make_user("police", "administrator")
    moved = client.post(f"/api/v1/admin/accounts/{user.user_id}/move", headers=admin,
                        json={"agency": "gendarmerie", "role": "analyst"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["new_user_id"] == f"gendarmerie:{name}"
    assert moved.json()["ended"]["sessions"] == 1 and moved.json()["ended"]["api_tokens"] == 1

    # The very next request with either old credential is refused, and shows nothing of the lead.
    for token in (session_token, api_token):
        after = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=_bearer(token))
        assert after.status_code == 401 and canary.encode() not in after.content
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 401
    # As a gendarmerie analyst the person reads a police H1 lead redacted, narrative withheld
    # (rules.yaml: analyst-other-redacted-h0-h1 hides narrative and evaluation).
    new_token = identity.issue_token(db, f"gendarmerie:{name}").token
    now_read = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=_bearer(new_token))
    assert now_read.status_code == 200 and canary.encode() not in now_read.content

    entry = next(e for e in _trail(hub_settings, user.user_id)
                 if e.details.get("event") == "account_moved")
    assert (entry.details["old_agency"], entry.details["old_role"], entry.details["new_agency"],
            entry.details["new_role"]) == ("police", "analyst", "gendarmerie", "analyst")
    assert entry.actor.role == "administrator" and entry.actor.agency == "police"


def test_a_role_change_refuses_tokens_issued_under_the_old_role(client, hub_settings, db,
                                                                make_user) -> None:
    user = identity.upsert_user(db, agency="douanes", role="coordinator",
                                name=f"chef-{uuid.uuid4().hex[:6]}")
    token, _ = _session(hub_settings, db, user)
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 200
    moved = client.post(f"/api/v1/admin/accounts/{user.user_id}/move",
                        headers=make_user("douanes", "administrator"), json={"agency": "douanes",
                                                                             "role": "analyst"})
    assert moved.status_code == 200 and moved.json()["new_user_id"] == user.user_id
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 401
    # A new session is the analyst's: the coordinator's review is no longer theirs.
    token, _ = _session(hub_settings, db, identity.get_user(db, user.user_id))
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 403


def test_a_leavers_token_is_refused(client, hub_settings, settings, db, tmp_path) -> None:
    from hub.cli.users import app

    user = identity.upsert_user(db, agency="gendarmerie", role="analyst",
                                name=f"leaver-{uuid.uuid4().hex[:6]}")
    token = identity.issue_token(db, user.user_id).token
    assert client.get("/api/v1/notifications", headers=_bearer(token)).status_code == 200
    env = {"NEO4J_URI": settings.neo4j_uri, "NEO4J_USER": settings.neo4j_user,
           "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
           "CROSSHUB_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["leave", user.user_id, "--by", "adm.martin"], env=env)
    assert result.exit_code == 0, result.output
    refused = client.get("/api/v1/notifications", headers=_bearer(token))
    assert refused.status_code == 401
    entry = _trail(hub_settings.model_copy(update={"data_dir": tmp_path}), user.user_id)[-1]
    assert entry.details["event"] == "account_left" and entry.details["api_tokens_revoked"] == 1
    assert entry.actor.kind == "operator" and entry.actor.name == "adm.martin"


def test_the_inactivity_job_disables_exactly_the_accounts_past_their_roles_period(
        client, hub_settings, db) -> None:
    rules = load_account_rules()
    # Fixed clock in the past: the session's other accounts (created now) are never due.
    now = datetime(2020, 6, 1, 12, tzinfo=UTC)
    tag = uuid.uuid4().hex[:6]
    table = []  # (user_id, role, last use, expected disabled)
    for rule in rules.inactivity:  # from accounts.yaml: each role's period
        for offset_days, due in ((rule.days - 1, False), (rule.days, True), (rule.days + 30, True)):
            table.append((f"police:idle-{tag}-{rule.role.value}-{offset_days}", rule.role.value,
                          now - timedelta(days=offset_days), due))
    for exempt in rules.exempt:  # connectors: never, however long silent
        table.append((f"police:idle-{tag}-{exempt.role.value}", exempt.role.value,
                      now - timedelta(days=3000), False))
    db.query("UNWIND $rows AS r CREATE (:User {user_id: r.uid, name: r.uid, agency: 'police', "
             "role: r.role, disabled: false, created_at: r.created, last_used_at: r.last})",
             rows=[{"uid": u, "role": role, "created": last - timedelta(days=1), "last": last}
                   for u, role, last, _ in table])
    disabled = disable_inactive(db, client.app.state.audit, rules, now)
    assert sorted(disabled) == sorted(u for u, _, _, due in table if due)
    states = {r["uid"]: r["d"] for r in db.query(
        "MATCH (u:User) WHERE u.user_id STARTS WITH $p RETURN u.user_id AS uid, u.disabled AS d",
        p=f"police:idle-{tag}")}
    assert states == {u: due for u, _, _, due in table}
    for uid in disabled[:2]:
        assert _trail(hub_settings, uid)[-1].details["event"] == "account_inactive"


def test_the_access_review_lists_last_use_and_a_disable_takes_effect(
        client, hub_settings, db, make_user) -> None:
    chief = make_user("police", "coordinator")
    used = identity.upsert_user(db, agency="douanes", role="analyst", name=f"used-{uuid.uuid4().hex[:6]}")
    used_token = identity.issue_token(db, used.user_id).token
    assert client.get("/api/v1/notifications", headers=_bearer(used_token)).status_code == 200
    unused = identity.upsert_user(db, agency="douanes", role="analyst",
                                  name=f"unused-{uuid.uuid4().hex[:6]}")
    unused_token = identity.issue_token(db, unused.user_id).token
    admin = identity.upsert_user(db, agency="police", role="administrator",
                                 name=f"adm-{uuid.uuid4().hex[:6]}")

    opened = client.post("/api/v1/account-reviews", headers=chief)
    assert opened.status_code == 201, opened.text
    review = opened.json()
    items = {i["user_id"]: i for i in review["items"]}
    assert items[used.user_id]["last_used_at"] is not None  # its request was recorded
    assert items[unused.user_id]["last_used_at"] is None
    assert (items[used.user_id]["agency"], items[used.user_id]["role"]) == ("douanes", "analyst")

    decided = client.post(f"/api/v1/account-reviews/{review['review_id']}/accounts/{unused.user_id}",
                          headers=chief, json={"decision": "disabled"})
    assert decided.status_code == 200 and decided.json()["decision"] == "disabled"
    assert client.get("/api/v1/notifications", headers=_bearer(unused_token)).status_code == 401
    again = client.post(f"/api/v1/account-reviews/{review['review_id']}/accounts/{unused.user_id}",
                        headers=chief, json={"decision": "confirmed"})
    assert again.status_code == 409
    assert _trail(hub_settings, unused.user_id)[-1].details["event"] == "account_review"

    # Past the deadline with accounts undecided, the review is flagged once to administrators.
    rules = load_account_rules()
    due = datetime.fromisoformat(review["due_at"])
    assert flag_overdue(db, client.app.state.audit, rules, due - timedelta(minutes=1)) == []
    flagged = flag_overdue(db, client.app.state.audit, rules, due + timedelta(hours=1))
    assert [r.review_id for r in flagged] == [review["review_id"]]
    assert flag_overdue(db, client.app.state.audit, rules, due + timedelta(hours=2)) == []
    notes = db.query("MATCH (n:Notification {user_id: $uid, kind: 'access_review_overdue'}) "
                     "RETURN n.payload_review_id AS rid", uid=admin.user_id)
    assert [n["rid"] for n in notes] == [review["review_id"]]
    assert reviews.get_review(db, review["review_id"]).flagged_at is not None


def test_a_role_the_agencys_provider_changes_ends_the_old_roles_rights(client, hub_settings,
                                                                        db) -> None:
    """OIDC (ADR 0021): the provider decides the role at each sign-in; a changed role is a
    mover's — the old role's sessions and tokens end in the sign-in's own transaction."""
    from graph import oidc_accounts

    name = f"oidc-{uuid.uuid4().hex[:6]}"
    who = {"link": f"https://sso.example/police#{name}", "issuer": "https://sso.example/police",
           "subject": name, "user_id": f"police:{name}", "name": name, "agency": "police"}
    user = oidc_accounts.sign_in_account(db, **who, role="coordinator")
    token, _ = _session(hub_settings, db, user)
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 200
    changes = []
    same = oidc_accounts.sign_in_account(db, **who, role="coordinator", on_role_change=changes.append)
    assert same.role == "coordinator" and changes == []  # same role: nothing ends
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 200
    moved = oidc_accounts.sign_in_account(db, **who, role="analyst", on_role_change=changes.append)
    assert moved.role == "analyst"
    assert [(c.old_role, c.new_role, c.ended.sessions) for c in changes] == [
        ("coordinator", "analyst", 1)]
    assert client.get("/api/v1/account-reviews/current", headers=_bearer(token)).status_code == 401
