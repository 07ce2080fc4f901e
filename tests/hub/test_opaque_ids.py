"""Issue 10, item 3 (ADR 0007): no withheld value rides inside another field.

- A guest whose rule withholds ``source_ref`` (group ``source-detail``) reads a lead and a
  network: the raw response bytes hold the source reference in no form (plain, JSON-escaped,
  URL-encoded), nor the id leads had before (``agency:source_ref``).
- A hit carries a handle; a disclosure request names the hit by it. The handle is the same for
  one agency across reads, another for another agency; forged, altered or another agency's, it
  is answered exactly like an unknown lead.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.factories import acked_ids, lead

pytestmark = pytest.mark.usefixtures("clean_graph")

REF = "PN-25/2025:000433"  # '/' and ':' have escaped and encoded forms
PLATE = "AB-123-CD"
J = "justification=PV%202025/118"


def _forms(text: str) -> set[str]:
    return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1],
            text.replace("/", "\\/"), quote(text), quote(text, safe=""), quote(quote(text, safe=""))}


def _leaks(content: bytes, secret: str) -> list[str]:
    return [f for f in _forms(secret) if f.encode() in content]


def test_a_guest_without_source_detail_finds_the_source_ref_nowhere(client, make_connector, make_user):
    police = make_connector("police")
    resp = police.push([lead(
        source_ref=REF, kind="seizure", handling_code="H1", vehicles=[{"plate": PLATE}],
        seizure={"substances": [{"substance": "cocaine", "quantity": "30", "unit": "g"}]})])
    [lead_id] = acked_ids(resp).values()
    assert acked_ids(resp) == {REF: lead_id}

    chief = make_user("gendarmerie", "coordinator")
    guest_id = f"prefecture:invite-{uuid.uuid4().hex[:6]}"
    guest = make_user("prefecture", "guest_referent", name=guest_id.split(":", 1)[1])
    grant = client.post("/api/v1/guest-grants", headers=chief, json={
        "grantee_user_id": guest_id, "lead_ids": [lead_id], "entity_keys": [f"vehicle:{PLATE}"],
        "valid_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "reason": "Comité CROSS : appui du bailleur social"})
    assert grant.status_code == 201, grant.text

    read = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=guest)
    assert read.status_code == 200, read.text
    body = read.json()
    # The rule's meaning: redacted, source detail withheld — and the id is still usable.
    assert body["access"] == "redacted" and "source_ref" in body["redacted"]
    assert body["lead_id"] == lead_id and body["seizure"]["substances"]
    network = client.get(f"/api/v1/entities/vehicle/{PLATE}/network?depth=2&{J}", headers=guest)
    assert network.status_code == 200
    assert f"lead:{lead_id}" in {n["id"] for n in network.json()["nodes"]}
    assert any(e["lead_id"] == lead_id for e in network.json()["edges"])
    for response in (read, network):
        assert _leaks(response.content, REF) == []
        assert _leaks(response.content, f"police:{REF}") == []
        assert b"000433" not in response.content

    # The coordinator, whose rule does show it, reads the source_ref as an ordinary property.
    full = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=chief).json()
    assert full["source_ref"] == REF and full["lead_id"] == lead_id


@pytest.fixture
def h2_world(make_connector):
    """A police H2 lead on a plate: gendarmerie and customs analysts get the hit only."""
    resp = make_connector("police").push([lead(source_ref="PN-H2-HANDLE", handling_code="H2",
                                              vehicles=[{"plate": PLATE}])])
    return next(iter(acked_ids(resp).values()))


def _request(client, headers, **body):
    return client.post("/api/v1/disclosure-requests", headers=headers,
                       json={"justification": "PV 2025/118 — trafic A36", **body})


def test_hit_handle_round_trip_from_a_lead_and_from_a_network(client, make_user, h2_world):
    lead_id = h2_world
    gendarme = make_user("gendarmerie", "analyst")
    hit = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=gendarme).json()
    assert hit["lead_count"] == 1 and hit["handle"].startswith("hit_")
    assert lead_id not in hit["handle"]
    # Deterministic for one agency: the same hit, the same handle.
    again = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=make_user("gendarmerie", "analyst")).json()
    assert again["handle"] == hit["handle"]

    created = _request(client, gendarme, hit=hit["handle"])
    assert created.status_code == 201, created.text
    assert created.json()["lead_id"] == lead_id and created.json()["owner_agency"] == "police"

    # From a network: the hit on the plate, counted, with its own handle.
    other = make_user("gendarmerie", "analyst")
    net = client.get(f"/api/v1/entities/vehicle/{PLATE}/network?{J}", headers=other).json()
    [net_hit] = net["hits"]
    assert net_hit["entity"] == f"vehicle:{PLATE}" and net_hit["agency"] == "police"
    assert net_hit["handle"].startswith("hit_") and net_hit["handle"] != hit["handle"]
    from_net = _request(client, other, hit=net_hit["handle"])
    assert from_net.status_code == 201, from_net.text
    assert from_net.json()["lead_id"] == lead_id


def test_a_handle_forged_altered_or_of_another_agency_is_an_unknown_lead(client, make_user, h2_world):
    lead_id = h2_world
    gendarme, douanier = make_user("gendarmerie", "analyst"), make_user("douanes", "analyst")
    handle = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=gendarme).json()["handle"]
    theirs = client.get(f"/api/v1/leads/{lead_id}?{J}", headers=douanier).json()["handle"]
    assert theirs != handle  # unlinkable across agencies

    unknown = _request(client, douanier, lead_id="L-00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404

    def same_as_unknown(resp, named: str) -> None:
        assert resp.status_code == 404
        assert resp.json() == {**unknown.json(), "message": f"piste inconnue : {named}"}

    # The gendarmerie's handle presented by customs.
    same_as_unknown(_request(client, douanier, hit=handle), handle)
    # Altered: one character of the sealed part changed, and truncated.
    flipped = handle[:-3] + ("A" if handle[-3] != "A" else "B") + handle[-2:]
    same_as_unknown(_request(client, gendarme, hit=flipped), flipped)
    same_as_unknown(_request(client, gendarme, hit=handle[:-4]), handle[:-4])
    # Forged.
    forged = "hit_" + "A" * 60
    same_as_unknown(_request(client, gendarme, hit=forged), forged)
    same_as_unknown(_request(client, gendarme, hit="hit_!!!"), "hit_!!!")
    # Their own handle still works for them.
    assert _request(client, douanier, hit=theirs).status_code == 201


def test_a_disclosure_request_names_a_lead_id_or_a_hit_not_both(client, make_user, h2_world):
    gendarme = make_user("gendarmerie", "analyst")
    handle = client.get(f"/api/v1/leads/{h2_world}?{J}", headers=gendarme).json()["handle"]
    assert _request(client, gendarme).status_code == 422
    assert _request(client, gendarme, lead_id=h2_world, hit=handle).status_code == 422


def test_handle_key_file_is_private(hub_settings, client, make_user, h2_world):
    client.get(f"/api/v1/leads/{h2_world}?{J}", headers=make_user("gendarmerie", "analyst"))
    key = hub_settings.keys_dir / "hit_handles.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
