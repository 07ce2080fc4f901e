"""Reference data, random generators and the seeded demo world (connectors.demo)."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from pydantic import SecretStr

from connectors.pseudonym import LinkageKey, LinkageKeyring
from connectors.demo.story import (
    CITIZEN_REPORTS_PER_MONTH,
    DEMO_KEY_ID,
    MIN_DEMO_LEADS,
    build_demo_world,
    demo_keyring,
    generate_demo_leads,
)
from connectors.demo.world import (
    COMMUNES,
    NAME_POOL,
    PLACES,
    POLICE_ZONE,
    distance_m,
    jitter_point,
    random_fni_plate,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)
from hub.contract.lead import Agency, HandlingCode, Lead, LeadKind, SourceChannel
from hub.contract.normalize import normalize_phone, normalize_plate, territory_of

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def world():
    return build_demo_world()


@pytest.fixture(scope="module")
def leads(world):
    return world.leads


# --- Reference data -----------------------------------------------------------------------------


def test_communes_are_real_insee_codes_with_points_in_their_departement():
    for code, c in COMMUNES.items():
        assert code == c.insee and re.fullmatch(r"\d{5}", code)
        assert c.departement == code[:2] and c.departement in {"25", "61", "88"}
        assert territory_of(c.lat, c.lon) == "metropole"
    # the ones the seeds name
    assert COMMUNES["25056"].name == "Besançon"
    assert COMMUNES["25388"].name == "Montbéliard"
    assert COMMUNES["25462"].name == "Pontarlier"
    assert COMMUNES["25031"].name == "Audincourt"
    assert COMMUNES["61001"].name == "Alençon"
    assert COMMUNES["61006"].name == "Argentan"
    assert COMMUNES["61169"].name == "Flers"
    assert COMMUNES["88160"].name == "Épinal"
    assert COMMUNES["88413"].name == "Saint-Dié-des-Vosges"
    assert COMMUNES["88383"].name == "Remiremont"
    # Besançon's town hall is in the old town
    assert distance_m(COMMUNES["25056"].lat, COMMUNES["25056"].lon, 47.2378, 6.0241) < 1000


def test_places_lie_near_their_commune_and_cover_the_seed_cases():
    keys = [p.key for p in PLACES]
    assert len(keys) == len(set(keys))
    for p in PLACES:
        c = COMMUNES[p.insee]
        assert p.commune == c.name
        assert distance_m(p.lat, p.lon, c.lat, c.lon) < 15_000, p.key
    quartiers = {p.quartier for p in PLACES}
    assert {"Planoise", "Saint-Ferjeux", "Centre-ville", "Perseigne"} <= quartiers
    kinds = Counter(p.kind for p in PLACES)
    assert kinds["deal_point"] >= 5 and kinds["road"] >= 4 and kinds["border"] >= 2
    labels = " ".join(p.label for p in PLACES)
    for needle in ("rue de Cologne", "Place Pasteur", "Besançon-Viotte", "A36", "N57", "A28",
                   "Verrières", "tour Pascal", "Grande Rue"):
        assert needle in labels


# --- Generators ---------------------------------------------------------------------------------


def test_siv_plates_are_valid():
    rng = random.Random(7)
    for _ in range(3000):
        p = random_siv_plate(rng)
        assert re.fullmatch(r"[A-HJ-NP-TV-Z]{2}-\d{3}-[A-HJ-NP-TV-Z]{2}", p), p
        left, digits, right = p.split("-")
        assert "SS" not in (left, right) and digits != "000" and left != "WW"
        assert normalize_plate(p) == p
        assert normalize_plate(p.lower().replace("-", " ")) == p


def test_fni_plates_are_valid():
    rng = random.Random(8)
    for dept in ("25", "61", "88", "2A", "01", "95"):
        for _ in range(300):
            p = random_fni_plate(rng, dept)
            assert re.fullmatch(r"\d{1,4} [A-Z]{2,3} " + dept, p), p
            assert normalize_plate(p) == p.replace(" ", "-")
    with pytest.raises(ValueError):
        random_fni_plate(rng, "96")
    with pytest.raises(ValueError):
        random_fni_plate(rng, "00")


def test_mobiles_are_valid_french_mobiles_in_human_format():
    rng = random.Random(9)
    seen = set()
    for _ in range(1000):
        m = random_mobile(rng)
        assert re.fullmatch(r"0[67]( \d{2}){4}", m), m
        parsed = phonenumbers.parse(m, "FR")
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
        assert normalize_phone(m) == "+33" + m.replace(" ", "")[1:]
        seen.add(m[:2])
    assert seen == {"06", "07"}


def test_identities_vehicles_and_jitter():
    rng = random.Random(10)
    for _ in range(500):
        ident = random_identity(rng, min_age=16, max_age=52)
        assert ident.last_name in NAME_POOL and ident.first_name in NAME_POOL
        assert 16 <= ident.age_on(datetime(2025, 9, 1).date()) <= 52
        assert "|" in ident.normalized and ident.birth_date.isoformat() in ident.normalized
        v = random_vehicle(rng)
        assert v.make and v.model and v.colour and v.kind in {"car", "van"}
        lat, lon = jitter_point(rng, 47.2378, 6.0241, 250)
        assert distance_m(lat, lon, 47.2378, 6.0241) <= 251
    assert random_identity(random.Random(3)) == random_identity(random.Random(3))


# --- The demo world -----------------------------------------------------------------------------


def test_every_lead_validates_and_round_trips(leads):
    assert len(leads) == 600
    for lead in leads:
        assert isinstance(lead, Lead)
        again = Lead.model_validate_json(lead.model_dump_json())
        assert again == lead


def test_deterministic_for_a_seed():
    a = [x.model_dump(mode="json") for x in generate_demo_leads(seed=11, n=200)]
    b = [x.model_dump(mode="json") for x in generate_demo_leads(seed=11, n=200)]
    c = [x.model_dump(mode="json") for x in generate_demo_leads(seed=12, n=200)]
    assert a == b
    assert a != c


def test_n_is_the_number_of_lead_objects_and_has_a_floor():
    assert len(generate_demo_leads(n=MIN_DEMO_LEADS)) == MIN_DEMO_LEADS
    assert len(generate_demo_leads(n=1000)) == 1000
    with pytest.raises(ValueError):
        generate_demo_leads(n=MIN_DEMO_LEADS - 1)


def test_source_refs_are_unique_per_agency_in_its_own_style(leads):
    styles = {
        Agency.POLICE: r"PN-(25|61|88)-20\d\d-\d{6}",
        Agency.GENDARMERIE: r"GN-BDRIJ(25|61|88)-20\d\d-\d{5}",
        Agency.DOUANES: r"(DNRED-20\d\d-\d{5}|DR-(BES|CAE|NAN)-20\d\d-\d{5})",
    }
    versions: dict[tuple[Agency, str], list[int]] = {}
    for lead in leads:
        assert lead.source_agency in styles
        assert re.fullmatch(styles[lead.source_agency], lead.source_ref), lead.source_ref
        versions.setdefault((lead.source_agency, lead.source_ref), []).append(lead.version)
    assert all(v in ([1], [1, 2]) for v in versions.values())
    assert {a for a, _ in versions} == {Agency.POLICE, Agency.GENDARMERIE, Agency.DOUANES}


def test_a_handful_of_leads_come_as_version_2_after_version_1(world, leads):
    v2 = [x for x in leads if x.version == 2]
    assert 6 <= len(v2) <= 15
    assert sorted(x.source_key for x in v2) == sorted(world.updated_lead_ids)
    index = {(x.source_key, x.version): i for i, x in enumerate(leads)}
    for x in v2:
        first = leads[index[(x.source_key, 1)]]
        assert index[(x.source_key, 1)] < index[(x.source_key, 2)]
        assert first.reported_at < x.reported_at
        assert first.kind == x.kind and first.source_agency == x.source_agency
        assert first != x.model_copy(update={"version": 1, "reported_at": first.reported_at})


def test_times_are_aware_in_paris_and_within_the_window(world, leads):
    assert [x.reported_at for x in leads] == sorted(x.reported_at for x in leads)
    for lead in leads:
        for t in (lead.reported_at, lead.observed_at):
            if t is None:
                continue
            assert t.tzinfo is not None
            assert t.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
        assert world.start <= (lead.observed_at or lead.reported_at)
        assert lead.reported_at <= world.end + timedelta(days=12)


def test_other_window_and_naive_start():
    w = build_demo_world(seed=5, n=150, start=datetime(2025, 12, 1, 8, 0), weeks=4)
    start = datetime(2025, 12, 1, 8, 0, tzinfo=PARIS)
    assert w.start == start and w.end == start + timedelta(weeks=4)
    for lead in w.leads:
        assert start.date() <= (lead.observed_at or lead.reported_at).date()
        assert lead.reported_at <= w.end + timedelta(days=12)
        assert lead.reported_at.utcoffset() == timedelta(hours=1)  # winter time


def test_plates_and_phones_are_canonical_and_valid(leads):
    plates = phones = 0
    for lead in leads:
        for v in lead.vehicles:
            if v.plate:
                plates += 1
                assert normalize_plate(v.plate) == v.plate
        for p in lead.phones:
            phones += 1
            assert p.startswith("+33") and phonenumbers.is_valid_number(phonenumbers.parse(p))
    assert plates > 50 and phones > 30


def test_points_lie_in_france_near_their_commune(leads):
    located = 0
    for lead in leads:
        loc = lead.location
        if loc is None:
            continue
        assert loc.insee_code in COMMUNES, loc.insee_code
        assert loc.commune == COMMUNES[loc.insee_code].name
        if loc.point:
            located += 1
            c = COMMUNES[loc.insee_code]
            assert territory_of(loc.point.lat, loc.point.lon) == "metropole"
            assert distance_m(loc.point.lat, loc.point.lon, c.lat, c.lon) < 15_000
        if lead.deal_point:
            assert lead.deal_point.insee_code in COMMUNES
    assert located > 0.9 * len(leads)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def test_no_name_from_the_identity_pool_in_any_free_text(world, leads):
    pool = sorted({_fold(n) for n in NAME_POOL} | {_fold(i.last_name) for i in world.identities.values()})
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in pool) + r")\b")
    for lead in leads:
        texts = [lead.narrative]
        if lead.location:
            texts += [lead.location.place_label or "", lead.location.address or ""]
        if lead.deal_point:
            texts.append(lead.deal_point.label)
        for p in lead.persons:
            if p.description:
                texts += [p.description.clothing or "", p.description.distinctive_marks or ""]
        for t in texts:
            m = pattern.search(_fold(t))
            assert m is None, f"{lead.source_key}: « {m.group(0)} » dans « {t} »"
        assert "@" not in lead.narrative


def test_persons_are_demo_pseudonyms_of_known_fake_identities(world, leads):
    ring = demo_keyring()
    assert ring.current.key_id == DEMO_KEY_ID == "demo1"
    seen = set()
    for lead in leads:
        for p in lead.persons:
            assert p.pseudonym.startswith("ps1:demo1:")
            ident = world.identities[p.pseudonym]
            assert ring.pseudonymize(ident.normalized)[0] == p.pseudonym
            seen.add(p.pseudonym)
    assert len(seen) > 100


def test_another_keyring_changes_every_pseudonym_but_nothing_else():
    other = LinkageKeyring(current=LinkageKey("k2", SecretStr("another-secret")),
                           previous=(demo_keyring().current,))
    a = generate_demo_leads(seed=3, n=120)
    b = generate_demo_leads(seed=3, n=120, keyring=other)
    assert [x.source_ref for x in a] == [x.source_ref for x in b]
    pa = {p.pseudonym for x in a for p in x.persons}
    pb = [p for x in b for p in x.persons]
    assert all(p.pseudonym.startswith("ps1:k2:") and p.aliases and p.aliases[0] in pa for p in pb)


def test_planted_cross_agency_links_are_in_the_leads(world):
    found = world.agencies_by_entity()
    kinds = Counter(link.kind for link in world.links)
    assert kinds["plate"] >= 4 and kinds["phone"] >= 3 and kinds["person"] >= 4
    for link in world.links:
        if link.kind == "citizen_to_raid":
            continue
        agencies = set(found[link.kind].get(link.value, []))
        assert set(link.agencies) <= agencies, (link, agencies)
        assert len(agencies) >= 2
    plates = world.shared_across_agencies("plate")
    assert any({Agency.POLICE, Agency.DOUANES} <= set(a) for a in plates.values())
    phones = world.shared_across_agencies("phone")
    assert any(len(a) >= 2 for a in phones.values())
    persons = world.shared_across_agencies("person")
    assert any({Agency.POLICE, Agency.GENDARMERIE} <= set(a) for a in persons.values())


def test_deal_points_reported_by_citizens_are_then_raided(world, leads):
    raids = [link for link in world.links if link.kind == "citizen_to_raid"]
    assert len(raids) >= 2
    for link in raids:
        def on_point(x):
            return x.deal_point and f"{x.deal_point.insee_code}|{x.deal_point.label}" == link.value
        reports = [x for x in leads if on_point(x) and x.kind == LeadKind.CITIZEN_REPORT]
        actions = [x for x in leads if on_point(x) and x.kind in (LeadKind.ARREST, LeadKind.SEARCH)]
        assert len(reports) >= 2 and actions
        assert min(r.reported_at for r in reports) < min(a.observed_at for a in actions)


def test_citizen_reports_volume_routing_and_channel(world, leads):
    citizen = [x for x in leads if x.kind == LeadKind.CITIZEN_REPORT]
    months = (world.end - world.start).days / 30.44
    doubs = sum(1 for x in citizen if x.location.departement == "25")
    expected = CITIZEN_REPORTS_PER_MONTH["25"] * months
    assert 0.8 * expected <= doubs <= 1.2 * expected
    for x in citizen:
        assert x.channel == SourceChannel.CITIZEN_PLATFORM
        if x.location.insee_code in POLICE_ZONE:
            assert x.source_agency == Agency.POLICE
        else:
            assert x.source_agency == Agency.GENDARMERIE
    assert {x.source_agency for x in citizen} == {Agency.POLICE, Agency.GENDARMERIE}
    assert all(x.source_agency in (Agency.POLICE, Agency.GENDARMERIE, Agency.DOUANES) for x in leads)


def test_codes_are_varied_and_mostly_permissive(leads):
    handling = Counter(x.handling_code for x in leads)
    assert (handling[HandlingCode.H0] + handling[HandlingCode.H1]) / len(leads) > 0.7
    assert handling[HandlingCode.H2] > 0 and handling[HandlingCode.H3] > 0
    evaluations = {(x.source_reliability, x.information_credibility) for x in leads}
    assert len(evaluations) >= 6
    assert {x.kind for x in leads} == set(LeadKind)
    assert any(x.restricted_to for x in leads) and any(x.embargo_until for x in leads)


def test_the_seed_cases_are_reproduced(leads):
    searches = [x for x in leads if x.kind == LeadKind.SEARCH and x.version == 1 and x.seizure]
    perseigne = [x for x in searches if x.seizure.weapons]
    assert any(
        {(q.substance.value, str(q.quantity)) for q in x.seizure.substances} >= {
            ("cannabis_resin", "5400.000"), ("heroin", "720.000"), ("cannabis_herb", "900.000"),
            ("crack", "150.000")}
        and x.seizure.cash_eur == 8300 and x.seizure.weapons[0].count == 2
        and x.location.insee_code == "61001"
        for x in perseigne)
    kit = {"ketamine", "cocaine", "cannabis_resin", "mdma"}
    assert any(kit <= {q.substance.value for q in x.seizure.substances} and x.seizure.cash_eur
               and x.location.insee_code == "25056" for x in searches)
    assert any(x.location.place_label and "Dole" in x.location.place_label
               and any(q.substance.value == "cannabis_resin" and 900 <= q.quantity < 1000
                       for q in x.seizure.substances) and x.seizure.packaging_material
               for x in searches)
    scooter = [x for x in leads for v in x.vehicles if v.kind == "e_scooter"]
    assert {x.kind for x in scooter} >= {LeadKind.CITIZEN_REPORT, LeadKind.SURVEILLANCE,
                                         LeadKind.ARREST}
    customs = [x for x in leads if x.source_agency == Agency.DOUANES]
    assert any(x.location and "A36" in (x.location.place_label or "") and x.vehicles
               for x in customs)
    assert any(x.location and x.location.insee_code in ("25609", "25318") for x in customs)
