"""Answers that place things carry coordinates (issue 12, item 7): hotspots, co-presence and the
département map (GeoJSON), through the app and the packaged policy.

Oracles are the coordinates the connectors pushed: a place is drawn where its lead said it was, a
commune at the plain mean of its known places' points, a hotspot commune's recent and previous
centres at the mean of its ranked places' points weighted by their leads in each period. What a
caller may not know of is absent from the raw bytes: a place only a police H3 lead (no one else
may know it exists) or a police H2 lead (a gendarmerie analyst only gets a hit, with whom to call,
never the place) asserts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hub.settings import Settings
from tests.factories import lead as base_lead

WHY = {"justification": "PV 2026/0707 carte"}
AS_OF = "2025-09-01T00:00:00+00:00"
RECENT, PREVIOUS = "2025-08-20T21:00:00+02:00", "2025-07-20T21:00:00+02:00"

PONTARLIER = {"insee_code": "25462", "commune": "Pontarlier"}
MORTEAU = {"insee_code": "25411", "commune": "Morteau"}
ORNANS = {"insee_code": "25434", "commune": "Ornans"}  # police H3 only
BAUME = {"insee_code": "25047", "commune": "Baume-les-Dames"}  # police H2 only

GARE = (46.9040, 6.3540)  # Pontarlier, two leads in the previous period, a deal point
ARCON = (46.9075, 6.3620)  # Pontarlier, two leads in the recent period
SALINS = (46.8990, 6.3450)  # Pontarlier, one lead only: never weighs in a hotspot centre
MORTEAU_PT = (47.0580, 6.6070)
ORNANS_PT = (47.1065, 6.1432)
BAUME_PT = (47.3526, 6.3606)


def lead(**overrides) -> dict:
    # Reported the day before AS_OF, after every observation below.
    return base_lead(reported_at="2025-08-31T08:00:00+02:00", **overrides)


def at(place: dict, address: str, point: tuple[float, float]) -> dict:
    return {**place, "address": address, "point": {"lat": point[0], "lon": point[1]}}


def mean(points: list[tuple[float, float]], weights: list[int] | None = None) -> tuple[float, float]:
    weights = weights or [1] * len(points)
    total = sum(weights)
    return (sum(p[0] * w for p, w in zip(points, weights, strict=True)) / total,
            sum(p[1] * w for p, w in zip(points, weights, strict=True)) / total)


def close(point: dict | list | None, expected: tuple[float, float]) -> bool:
    """A PointView ({lat, lon}) or GeoJSON coordinates ([lon, lat]) at ``expected`` (lat, lon)."""
    assert point is not None
    lat, lon = (point["lat"], point["lon"]) if isinstance(point, dict) else (point[1], point[0])
    return abs(lat - expected[0]) < 1e-6 and abs(lon - expected[1]) < 1e-6


@pytest.fixture
def world(clean_graph, make_connector):
    police, gendarmerie = make_connector("police"), make_connector("gendarmerie")
    pushed = police.push([
        lead(source_ref="MAP-G1", observed_at=PREVIOUS, location=at(PONTARLIER, "Rue de la Gare", GARE),
             deal_point={"insee_code": "25462", "label": "Square des Cordeliers"}),
        lead(source_ref="MAP-G2", observed_at="2025-07-22T21:00:00+02:00",
             location=at(PONTARLIER, "Rue de la Gare", GARE)),
        lead(source_ref="MAP-A1", observed_at=RECENT, location=at(PONTARLIER, "Place d'Arçon", ARCON),
             vehicles=[{"plate": "GA-101-AA"}]),
        lead(source_ref="MAP-A2", observed_at="2025-08-20T21:10:00+02:00",
             location=at(PONTARLIER, "Place d'Arçon", ARCON), vehicles=[{"plate": "GB-202-BB"}]),
        lead(source_ref="MAP-S1", observed_at=RECENT, location=at(PONTARLIER, "Rue de Salins", SALINS)),
        lead(source_ref="MAP-O1", handling_code="H3", observed_at=RECENT,
             location=at(ORNANS, "Chemin des Tanneurs", ORNANS_PT)),
        lead(source_ref="MAP-O2", handling_code="H3", observed_at="2025-08-21T21:00:00+02:00",
             location=at(ORNANS, "Chemin des Tanneurs", ORNANS_PT)),
        lead(source_ref="MAP-B1", handling_code="H2", observed_at=RECENT,
             location=at(BAUME, "Quai du Canal", BAUME_PT)),
        lead(source_ref="MAP-B2", handling_code="H2", observed_at="2025-08-22T21:00:00+02:00",
             location=at(BAUME, "Quai du Canal", BAUME_PT)),
    ])
    also = gendarmerie.push([
        lead(source_agency="gendarmerie", source_ref="MAP-M1", observed_at=RECENT,
             location=at(MORTEAU, "Rue de l'Hôtel de Ville", MORTEAU_PT)),
        lead(source_agency="gendarmerie", source_ref="MAP-M2", observed_at=RECENT,
             location=MORTEAU),  # the commune only: placed at Morteau's centre
    ])
    for answer in (pushed, also):
        assert answer.status_code == 200 and answer.json()["rejected"] == 0, answer.text
    ids = {r["source_ref"]: r["lead_id"] for r in pushed.json()["results"]}
    return ids


SECRETS = (b"Ornans", b"25434", b"Tanneurs", b"47.1065", b"6.1432",
           b"Baume", b"25047", b"Quai du Canal", b"47.3526", b"6.3606")


def test_the_map_places_readable_leads_at_their_pushed_points_and_nothing_else(world, client, make_user):
    h = make_user("gendarmerie", "analyst")
    resp = client.get("/api/v1/analysis/map", params=WHY, headers=h)
    assert resp.status_code == 200, resp.text
    for secret in SECRETS:
        assert secret not in resp.content, secret
    body = resp.json()
    assert body["type"] == "FeatureCollection" and body["departement"] == "25"
    by_kind: dict[str, list[dict]] = {}
    for f in body["features"]:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)

    communes = {f["properties"]["insee_code"]: f for f in by_kind["commune"]}
    assert set(communes) == {"25462", "25411"}
    assert close(communes["25462"]["geometry"]["coordinates"], mean([GARE, ARCON, SALINS]))
    assert close(communes["25411"]["geometry"]["coordinates"], MORTEAU_PT)

    leads = {f["properties"]["key"]: f for f in by_kind["lead"]}
    expected = {world["MAP-G1"]: GARE, world["MAP-G2"]: GARE, world["MAP-A1"]: ARCON,
                world["MAP-A2"]: ARCON, world["MAP-S1"]: SALINS}
    police_leads = {k: v for k, v in leads.items() if v["properties"]["agency"] == "police"}
    assert set(police_leads) == set(expected)
    for key, point in expected.items():
        assert close(leads[key]["geometry"]["coordinates"], point)
        assert leads[key]["properties"]["placement"] == "point"
        assert leads[key]["properties"]["status"] == "redacted"  # H1 of another service
    morteau = sorted((f["properties"]["placement"], tuple(f["geometry"]["coordinates"]))
                     for f in leads.values() if f["properties"]["agency"] == "gendarmerie")
    assert [p for p, _ in morteau] == ["commune", "point"]
    assert all(close(list(c), MORTEAU_PT) for _, c in morteau)

    [deal] = by_kind["deal_point"]
    assert deal["properties"]["label"] == "Square des Cordeliers"
    assert close(deal["geometry"]["coordinates"], GARE)


def test_the_originator_sees_its_own_restricted_places(world, client, make_user):
    # Positive control: the places absent above are in the graph, and the police reads them.
    body = client.get("/api/v1/analysis/map", params=WHY, headers=make_user("police", "analyst"))
    assert body.status_code == 200, body.text
    assert b"Ornans" in body.content and b"Baume-les-Dames" in body.content
    communes = {f["properties"]["insee_code"]: f for f in body.json()["features"]
                if f["properties"]["kind"] == "commune"}
    assert close(communes["25434"]["geometry"]["coordinates"], ORNANS_PT)


def test_the_map_needs_a_motif_and_places_the_callers_active_operations(world, client, make_user):
    h = make_user("gendarmerie", "analyst")
    assert client.get("/api/v1/analysis/map", headers=h).status_code == 400
    now = datetime.now(UTC)
    op = client.post("/api/v1/operations", headers=h, json={
        "kind": "surveillance", "unit": "BR Morteau", "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=5)).isoformat(),
        "place": {"insee_code": "25411", "commune": "Morteau", "point": {"lat": 47.0601, "lon": 6.6102},
                  "radius_m": 300}})
    assert op.status_code == 201, op.text
    body = client.get("/api/v1/analysis/map", params=WHY, headers=h).json()
    [feature] = [f for f in body["features"] if f["properties"]["kind"] == "operation"]
    assert close(feature["geometry"]["coordinates"], (47.0601, 6.6102))
    assert feature["properties"]["radius_m"] == 300 and feature["properties"]["agency"] == "gendarmerie"
    # Another service's operations are not on this caller's map.
    police_map = client.get("/api/v1/analysis/map", params=WHY, headers=make_user("police", "analyst"))
    assert b"BR Morteau" not in police_map.content


def test_hotspots_carry_points_and_the_movement_of_a_commune(world, client, make_user):
    resp = client.get("/api/v1/analysis/hotspots", headers=make_user("gendarmerie", "analyst"),
                      params={"days": 30, "as_of": AS_OF})
    assert resp.status_code == 200, resp.text
    for secret in SECRETS:
        assert secret not in resp.content, secret
    body = resp.json()
    places = {p["label"].split(" — ")[0]: p for p in body["places"]}
    assert set(places) == {"Rue de la Gare", "Place d'Arçon"}  # Salins has one lead only
    assert close(places["Rue de la Gare"]["point"], GARE)
    assert places["Rue de la Gare"]["recent_centroid"] is None
    assert close(places["Rue de la Gare"]["previous_centroid"], GARE)
    assert close(places["Place d'Arçon"]["recent_centroid"], ARCON)
    pontarlier = next(c for c in body["communes"] if c["key"] == "25462")
    # Unchanged fields keep their meaning: 3 recent leads (Arçon ×2, Salins), 2 previous.
    assert (pontarlier["recent"], pontarlier["previous"]) == (3, 2)
    assert close(pontarlier["point"], mean([GARE, ARCON]))
    assert close(pontarlier["previous_centroid"], GARE)
    assert close(pontarlier["recent_centroid"], ARCON)  # Salins's single lead does not weigh in


def test_copresence_answers_carry_the_disc_and_the_places(world, client, make_user):
    h = make_user("police", "analyst")
    resp = client.get("/api/v1/analysis/copresence", headers=h, params={
        **WHY, "lat": ARCON[0], "lon": ARCON[1], "radius_m": 100,
        "since": "2025-08-20T00:00", "until": "2025-08-21T00:00"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert close(body["center"], ARCON) and body["radius_m"] == 100
    assert [(loc["lead_count"], close(loc["point"], ARCON)) for loc in body["locations"]] == [(2, True)]
    [pair] = body["pairs"]
    assert {pair["a"]["key"], pair["b"]["key"]} == {"GA-101-AA", "GB-202-BB"}
    evidence = pair["evidence"][0]
    assert close(evidence["point_a"], ARCON) and close(evidence["point_b"], ARCON)
    commune = client.get("/api/v1/analysis/copresence", headers=h, params={
        **WHY, "insee": "25462", "since": "2025-07-01T00:00", "until": "2025-09-01T00:00"}).json()
    assert close(commune["center"], mean([GARE, ARCON, SALINS]))
    assert commune["radius_m"] is None


def test_copresence_never_places_a_location_known_only_through_hits(world, client, make_user):
    resp = client.get("/api/v1/analysis/copresence", headers=make_user("gendarmerie", "analyst"),
                      params={**WHY, "lat": 47.3527, "lon": 6.3607, "radius_m": 500,
                              "since": "2025-08-01T00:00", "until": "2025-09-01T00:00"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["locations"] == [] and body["lead_count"] == 0
    assert [h["agency"] for h in body["hits"]] == ["police"]  # hit/no-hit, as before
    assert b"47.3526" not in resp.content and b"Quai du Canal" not in resp.content


def test_map_config_says_there_is_no_basemap_by_default(client, make_user):
    resp = client.get("/api/v1/analysis/map-config", headers=make_user("gendarmerie", "analyst"))
    assert resp.status_code == 200 and resp.json() == {"tiles_url": None, "attribution": None}
    assert client.get("/api/v1/analysis/map-config").status_code == 401


def test_the_basemap_setting_takes_an_xyz_raster_template_only():
    url = "https://tuiles.etat.example/plan/{z}/{x}/{y}.png"
    assert Settings(map_style_url=url).map_style_url == url
    assert Settings(map_style_url="").map_style_url is None
    for bad in ("https://tuiles.etat.example/style.json", "file:///tmp/{z}/{x}/{y}.png"):
        with pytest.raises(ValidationError):
            Settings(map_style_url=bad)
    assert json.dumps(Settings().map_style_url) == "null"
