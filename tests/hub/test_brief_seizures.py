"""The brief tells the week's seizures (issue 14, part 5), through the API with the packaged
policy: each seizure with its quantities per substance, cash, weapons and packaging; the week's
totals and the trend against the previous weeks; a map drawn offline; and a participant who
may only know of a seizure lead (hit) finds none of its quantities in their copy's bytes.

Expected values come from the seeded seizures and the rule (rules.yaml: an analyst reads their
own agency's leads in full, another agency's H0/H1 redacted, H2 only as a hit; ADR 0016: a hit
adds nothing to the seizure section), never from the output.
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
from collections import defaultdict
from datetime import date, timedelta

import pypdfium2
import pytest
from PIL import Image
from pydantic import ValidationError

from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from graph.leads import write_leads
from hub.contract.lead import Lead
from hub.contract.validation import item_errors
from tests.factories import canary_tag, lead

WEEK = "2025-W47"  # Monday 17 → Sunday 23 November 2025 (Paris)
MID = f"25-{WEEK}"
BASELINE = 8  # graph.meetings.seizures.SEIZURE_BASELINE_WEEKS: the rule under test
WHY = "justification=comite CROSS 25"
BESANCON = {"insee_code": "25056", "commune": "Besançon"}
PONTARLIER = {"insee_code": "25462", "commune": "Pontarlier"}
MONTBELIARD = {"insee_code": "25388", "commune": "Montbéliard"}
PT_BESANCON = {"lat": 47.2205, "lon": 5.9710}
PT_PONTARLIER = {"lat": 46.9035, "lon": 6.3554}
PT_MONTBELIARD = {"lat": 47.5096, "lon": 6.7985}
NBSP = "\u00a0"

# (name, agency, handling code, ISO week, weekday, place, point, seizure)
SEIZURES = [
    # The week's multi-substance seizure: police, H2 (another agency's analyst only gets a hit).
    ("S1", "police", "H2", WEEK, 3, BESANCON, PT_BESANCON, {
        "substances": [{"substance": "cannabis_resin", "quantity": "1.2", "unit": "kg"},
                       {"substance": "cocaine", "quantity": "300", "unit": "g"},
                       {"substance": "mdma", "quantity": "45", "unit": "comprimés"}],
        "cash_eur": "12500", "weapons": [{"kind": "handgun", "count": 2}],
        "packaging": [{"kind": "pouch", "count": 12, "substance": "cannabis_resin"},
                      {"kind": "brick", "count": 3, "substance": "cannabis_resin"}]}),
    # Gendarmerie H1: the police reads it redacted, and it counts in the police's totals.
    ("S2", "gendarmerie", "H1", WEEK, 5, PONTARLIER, PT_PONTARLIER, {
        "substances": [{"substance": "cannabis_herb", "quantity": "250", "unit": "g"},
                       {"substance": "crack"}],  # seized, not weighed: listed, not summed
        "cash_eur": "800", "packaging": [{"kind": "pouch", "count": 5}]}),
    # Customs H2: a hit for both analysts.
    ("S3", "douanes", "H2", WEEK, 4, MONTBELIARD, PT_MONTBELIARD, {
        "substances": [{"substance": "cocaine", "quantity": "4.75", "unit": "kg"}],
        "cash_eur": "98760", "weapons": [{"kind": "long_gun", "count": 1}]}),
    # Earlier weeks: the trend.
    ("T1", "police", "H1", "2025-W45", 2, BESANCON, PT_BESANCON, {
        "substances": [{"substance": "cannabis_resin", "quantity": "500", "unit": "g"}], "cash_eur": "1000"}),
    ("T2", "gendarmerie", "H0", "2025-W44", 6, PONTARLIER, PT_PONTARLIER, {
        "substances": [{"substance": "cocaine", "quantity": "200", "unit": "g"}], "cash_eur": "2500",
        "weapons": [{"kind": "blade", "count": 1}]}),
    ("T3", "douanes", "H2", "2025-W43", 1, MONTBELIARD, PT_MONTBELIARD, {
        "substances": [{"substance": "cannabis_herb", "quantity": "9", "unit": "kg"}]}),
    ("T4", "police", "H1", "2025-W39", 1, BESANCON, PT_BESANCON, {"cash_eur": "640"}),
    # Before the baseline: in no week of this brief.
    ("T5", "police", "H1", "2025-W38", 1, BESANCON, PT_BESANCON, {
        "substances": [{"substance": "cannabis_resin", "quantity": "777", "unit": "g"}]}),
]
# The policy as rules.yaml writes it, for an analyst: own agency full, others' H0/H1 redacted,
# H2 a hit (nothing here).
READS = {"full": lambda reader, agency, hc: agency == reader,
         "redacted": lambda reader, agency, hc: agency != reader and hc in ("H0", "H1")}


def readable(reader: str, agency: str, hc: str) -> bool:
    return any(rule(reader, agency, hc) for rule in READS.values())


def instant(week: str, weekday: int, hour: int) -> str:
    year, num = week.split("-W")
    day = date.fromisocalendar(int(year), int(num), weekday)
    return f"{day.isoformat()}T{hour:02d}:00:00+01:00"


def iso_week(offset: int) -> str:
    y, w = WEEK.split("-W")
    d = date.fromisocalendar(int(y), int(w), 1) + timedelta(weeks=offset)
    iy, iw, _ = d.isocalendar()
    return f"{iy}-W{iw:02d}"


def grams(q: dict) -> float:
    factor = {"kg": 1000, "g": 1}.get(q["unit"])
    return float(q["quantity"]) * factor if factor else float(q["quantity"])


def expected_totals(reader: str, week: str) -> dict:
    """The week's totals for ``reader``, from the seeded seizures and the rule."""
    out = {"seizures": 0, "cash": 0.0, "weapons": 0, "q": defaultdict(float)}
    for _, agency, hc, wk, _, _, _, s in SEIZURES:
        if wk != week or not readable(reader, agency, hc):
            continue
        out["seizures"] += 1
        out["cash"] += float(s.get("cash_eur", 0))
        out["weapons"] += sum(w["count"] for w in s.get("weapons", []))
        for q in s.get("substances", []):
            if "quantity" not in q:
                continue
            unit = "g" if q["unit"] in ("g", "kg") else "unit"
            out["q"][(q["substance"], unit)] += grams(q)
    return out


@pytest.fixture(scope="module")
def world(driver, settings):
    g = Graph(driver, settings.neo4j_database)
    reset_database(g)
    leads, names = [], []
    for name, agency, hc, wk, day, place, point, seizure in SEIZURES:
        names.append(name)
        leads.append(Lead(**lead(
            source_agency=agency, source_ref=f"{name}-{canary_tag()}", kind="seizure", handling_code=hc,
            channel="investigation", observed_at=instant(wk, day, 15), reported_at=instant(wk, day, 18),
            location={**place, "place_label": f"Lieu {name}", "point": point}, seizure=seizure,
            narrative=f"Récit {canary_tag()}")))
    # The week's other police leads: a deal point and a hotspot (Besançon: 3 new leads this week).
    for i in range(3):
        names.append(f"P{i}")
        leads.append(Lead(**lead(
            source_agency="police", source_ref=f"P{i}-{canary_tag()}", handling_code="H1",
            observed_at=instant(WEEK, 2, 9 + i), reported_at=instant(WEEK, 2, 12 + i),
            location={**BESANCON, "address": f"{i + 1} rue de Dole",
                      "point": {"lat": PT_BESANCON["lat"] + 0.004 * (i + 1), "lon": PT_BESANCON["lon"]}},
            deal_point={"insee_code": "25056", "label": "Hall 3 Planoise"})))
    results = write_leads(g, leads)
    assert all(r.outcome == "created" for r in results)
    return {n: r.lead_id for n, r in zip(names, results, strict=True)}


def _user(driver, settings, agency: str, role: str) -> dict[str, str]:
    g = Graph(driver, settings.neo4j_database)
    user = identity.upsert_user(g, agency=agency, role=role, name=f"{role}-{canary_tag()}",
                                contact=f"Permanence CROSS — {agency}")
    return {"Authorization": f"Bearer {identity.issue_token(g, user.user_id).token}"}


@pytest.fixture(scope="module")
def copies(world, client, driver, hub_settings):
    """Each analyst's agenda and brief (HTML, PDF text) for the week, through the API."""
    chief = _user(driver, hub_settings, "police", "coordinator")
    assert client.post("/api/v1/meetings", json={"departement": "25", "week": WEEK},
                       headers=chief).status_code in (200, 201)
    out = {}
    for agency in ("police", "gendarmerie"):
        who = _user(driver, hub_settings, agency, "analyst")
        agenda = client.get(f"/api/v1/meetings/{MID}/agenda?{WHY}", headers=who)
        html = client.get(f"/api/v1/meetings/{MID}/brief.html?{WHY}", headers=who)
        pdf = client.get(f"/api/v1/meetings/{MID}/brief.pdf?{WHY}", headers=who)
        assert agenda.status_code == html.status_code == pdf.status_code == 200, (agenda.text, html.text)
        doc = pypdfium2.PdfDocument(pdf.content)
        text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        out[agency] = {"agenda": agenda.json(), "html": html.content, "pdf": pdf.content,
                       "pdf_text": text.replace(NBSP, " ").replace("\r", "")}
    return out


def _text(raw: bytes) -> str:
    """The document's text as read: entities unescaped (« d'ecstasy » is d&#39;ecstasy)."""
    return html_lib.unescape(raw.decode("utf-8")).replace(NBSP, " ")


def test_the_multi_substance_seizure_shows_every_quantity_and_the_totals(world, copies):
    police = copies["police"]
    html = _text(police["html"])
    # Every quantity of S1 in its unit, its cash, weapons and packaging (HTML and PDF).
    shown = ["résine de cannabis : 1,2 kg", "cocaïne : 300 g", "MDMA : 45 comprimés d'ecstasy",
             "12 500 €", "2 armes de poing", "12 pochons (résine de cannabis)", "3 pains (résine de cannabis)",
             # S2, read redacted: it contributes, with its place.
             "herbe de cannabis : 250 g", "crack : quantité non précisée", "5 pochons", "Pontarlier"]
    for s in shown:
        assert s in html, s
        assert s in " ".join(police["pdf_text"].split()), s
    assert world["S1"] in html and world["S2"] in html
    # The totals, computed from the seeded seizures under the rule.
    exp = expected_totals("police", WEEK)
    totals = police["agenda"]["seizures"]["totals"]
    assert totals["seizures"] == exp["seizures"] == 2
    assert totals["cash_eur"] == exp["cash"] and totals["weapons"] == exp["weapons"]
    got = {(q["substance"], q["unit"]): q["quantity"] for q in totals["quantities"]}
    assert got == pytest.approx(dict(exp["q"]))
    assert f"<b>{exp['seizures']}</b>saisies consultables" in html
    assert f"<b>{exp['cash']:,.0f} €</b>numéraire".replace(",", " ") in html
    items = {i["lead_id"]: i for i in police["agenda"]["seizures"]["items"]}
    assert items[world["S1"]]["access"] == "full" and items[world["S2"]]["access"] == "redacted"
    assert items[world["S1"]]["seized_at"] and items[world["S2"]]["commune"] == "Pontarlier"


def test_the_trend_matches_the_previous_weeks_seizures(copies):
    trend = copies["police"]["agenda"]["seizures"]["trend"]
    weeks = [iso_week(-BASELINE + i) for i in range(BASELINE + 1)]
    assert [t["week"] for t in trend] == weeks
    for t in trend:
        exp = expected_totals("police", t["week"])
        assert (t["seizures"], t["cash_eur"], t["weapons"]) == (exp["seizures"], exp["cash"], exp["weapons"]), t
    deltas = {(d["measure"], d.get("substance")): d for d in copies["police"]["agenda"]["seizures"]["deltas"]}
    before = [expected_totals("police", w) for w in weeks[:-1]]
    mean_count = sum(b["seizures"] for b in before) / BASELINE
    assert deltas[("seizures", None)]["previous_mean"] == pytest.approx(mean_count)
    assert deltas[("seizures", None)]["delta"] == pytest.approx(2 - mean_count)
    mean_cash = sum(b["cash"] for b in before) / BASELINE
    assert deltas[("cash_eur", None)]["previous_mean"] == pytest.approx(mean_cash)
    mean_resin = sum(b["q"][("cannabis_resin", "g")] for b in before) / BASELINE
    assert deltas[("quantity", "cannabis_resin")]["previous_mean"] == pytest.approx(mean_resin)
    assert "Tendance : cette semaine contre les 8 semaines précédentes" in _text(copies["police"]["html"])


def test_a_participant_who_may_only_hit_the_lead_sees_no_quantity(world, copies):
    gendarmerie = copies["gendarmerie"]
    html, pdf_text = _text(gendarmerie["html"]), " ".join(gendarmerie["pdf_text"].split())
    raw = gendarmerie["html"] + gendarmerie["pdf"]
    # S1 (police H2) and S3 (customs H2) are hits for the gendarmerie: nothing of them.
    for secret in ("1,2 kg", "1200", "45 comprimés", "12 500", "12500", "armes de poing", "12 pochons",
                   "3 pains", "4,75 kg", "4750", "98 760", "98760", "arme d'épaule", "Lieu S1", "Lieu S3"):
        assert secret not in html and secret not in pdf_text, secret
    for name in ("S1", "S3"):
        assert world[name].encode() not in raw
    # Its own seizure is there, and the totals are its own reads only.
    assert "herbe de cannabis : 250 g" in html and "5 pochons" in html
    totals = gendarmerie["agenda"]["seizures"]["totals"]
    exp = expected_totals("gendarmerie", WEEK)
    assert (totals["seizures"], totals["cash_eur"], totals["weapons"]) == (exp["seizures"], exp["cash"], exp["weapons"])
    assert {i["lead_id"] for i in gendarmerie["agenda"]["seizures"]["items"]} == {world["S2"]}
    assert all(p.get("lead_id") not in (world["S1"], world["S3"]) for p in gendarmerie["agenda"]["week_map"]["points"])


def test_the_map_is_drawn_offline(world, copies):
    police = copies["police"]
    html = police["html"].decode("utf-8")
    # No address of any host in the document: everything is embedded.
    assert not re.search(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", html)
    match = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="Carte de la semaine">', html)
    assert match, "map missing"
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1)))).convert("L")
    inked = sum(image.histogram()[:200])  # pixels darker than light grey
    assert inked > 0.01 * image.width * image.height, "blank map"
    points = police["agenda"]["week_map"]["points"]
    kinds = {p["kind"] for p in points}
    assert {"seizure", "lead", "deal_point", "hotspot", "commune"} <= kinds, kinds
    s1 = next(p for p in points if p.get("lead_id") == world["S1"])
    assert (s1["kind"], s1["lat"], s1["lon"]) == ("seizure", PT_BESANCON["lat"], PT_BESANCON["lon"])
    assert "Carte de la semaine" in police["pdf_text"]


# --- the contract's packaging ------------------------------------------------------------------

BAD_PACKAGING = [
    ([{"kind": "pouch", "count": 0}], "x.seizure.packaging[0].count", "petite"),
    ([{"kind": "crate", "count": 2}], "x.seizure.packaging[0].kind", "vocabulaire"),
    ([{"kind": "pouch", "count": 2, "substance": "sugar"}], "x.seizure.packaging[0].substance", "vocabulaire"),
    ([{"kind": "pouch", "count": 2}, {"kind": "pouch", "count": 3}], "x.seizure.packaging[1]", "double"),
    ([{"kind": "pouch", "count": 2, "colour": "bleu"}], "x.seizure.packaging[0].colour", "non autorisé"),
]


@pytest.mark.parametrize("packaging,field,reason", BAD_PACKAGING, ids=[b[1] + ":" + b[2] for b in BAD_PACKAGING])
def test_packaging_errors_name_the_field_in_french(packaging, field, reason):
    with pytest.raises(ValidationError) as info:
        Lead.model_validate(lead(kind="seizure", seizure={"packaging": packaging}))
    errors = item_errors(info.value, "x")
    assert any(e.field == field and reason in e.reason for e in errors), errors


def test_packaging_alone_is_a_seizure_and_implies_packaging_material():
    seized = Lead.model_validate(lead(kind="seizure", seizure={"packaging": [{"kind": "brick", "count": 3}]})).seizure
    assert seized.packaging_material and seized.packaging[0].count == 3
