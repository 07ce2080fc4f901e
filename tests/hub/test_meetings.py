"""The weekly CROSS meeting: agenda sections from a hand-built graph, decisions and their
follow-up (overdue actions come back), the French brief in HTML and PDF (a page rendered to PNG),
participant copies that differ by policy, the API and the CLI.

One world for the whole module (written once, read by every test); tests that add meetings or
actions use weeks of their own so they do not see each other's.
"""

from __future__ import annotations

import sys
import types
from datetime import UTC, date, datetime

import pypdfium2
import pytest
from typer import Typer
from typer.testing import CliRunner

from graph import meetings as gm
from graph.access import LEAD_PROPERTIES, AccessFilter
from graph.driver import reset_database
from graph.handle import Graph
from graph.identity import Principal
from graph.leads import write_leads
from hub import brief as hub_brief
from hub.audit import AuditFilters, query
from hub.contract.errors import InvalidInput
from hub.contract.lead import Lead
from tests.factories import lead, pseudonym

W47 = "2025-W47"  # Monday 17 → Sunday 23 November 2025
BESANCON = {"insee_code": "25056", "commune": "Besançon"}
MONTBELIARD = {"insee_code": "25388", "commune": "Montbéliard"}
PONTARLIER = {"insee_code": "25462", "commune": "Pontarlier"}
EPINAL = {"insee_code": "88160", "commune": "Épinal"}
SECRET = "Récit confidentiel de la source"
X = pseudonym("Leroy", "Yanis")

CONTACTS = {"police": "permanence CROSS police", "gendarmerie": "officier de renseignement du groupement",
            "douanes": "cellule de renseignement des douanes"}
# Public lead ids are opaque (ADR 0007): expectations name leads "agency:source_ref"; ``IDS``
# maps each name to the id the graph gave it (from the write results in the ``world`` fixture).
IDS: dict[str, str] = {}


def names(lead_ids) -> set[str]:
    """The names of public lead ids (an id of no world lead stays as it is)."""
    by_id = {v: k for k, v in IDS.items()}
    return {by_id.get(i, i) for i in lead_ids}


_REDACTED = tuple(p for p in LEAD_PROPERTIES if p not in ("narrative", "source_reliability", "information_credibility"))


def analyst_filter(agency: str) -> AccessFilter:
    """The policy of rules.yaml, by hand, for an analyst: own agency full; other agencies' H0/H1
    redacted, H2 hit only, H3 nothing."""
    return AccessFilter(
        case_expression=("CASE WHEN l.agency = $acc_agency THEN 'full' "
                         "WHEN l.handling_code = 'H3' THEN 'none' "
                         "WHEN l.handling_code IN ['H0', 'H1'] THEN 'redacted1' ELSE 'hit' END"),
        params={"acc_agency": agency}, profiles={"full": LEAD_PROPERTIES, "redacted1": _REDACTED},
        contacts=CONTACTS, policy_id=f"test-analyst-{agency}")


def coordinator_filter(agency: str) -> AccessFilter:
    return AccessFilter(
        case_expression=("CASE WHEN l.agency = $acc_agency OR l.handling_code <> 'H3' THEN 'full' "
                         "ELSE 'hit' END"),
        params={"acc_agency": agency}, profiles={"full": LEAD_PROPERTIES}, contacts=CONTACTS,
        policy_id=f"test-coordinator-{agency}")


def person(agency: str, role: str = "analyst") -> Principal:
    return Principal(user_id=f"{agency}:{role}-test", name=f"{role} {agency}", agency=agency, role=role)


def _lead(agency: str, ref: str, reported: str, **kw) -> Lead:
    kw.setdefault("narrative", SECRET)
    return Lead(**lead(source_agency=agency, source_ref=ref, reported_at=reported,
                       observed_at=None, **kw))


def world_leads() -> list[Lead]:
    return [
        # Week 47, Doubs.
        _lead("police", "P1", "2025-11-18T10:00:00+01:00", handling_code="H1", location={**BESANCON, "address": "Rue de Dole"},
              vehicles=[{"plate": "AB-123-CD"}], persons=[{"pseudonym": X, "role": "seller"}]),
        _lead("gendarmerie", "G1", "2025-11-19T09:00:00+01:00", kind="stop_check", handling_code="H1",
              location={**BESANCON, "address": "Avenue du Parc"}, vehicles=[{"plate": "AB123CD"}],
              phones=["06 11 22 33 44"]),
        _lead("douanes", "D1", "2025-11-20T06:00:00+01:00", kind="seizure", channel="customs_control",
              handling_code="H2", location={**MONTBELIARD, "place_label": "A36 péage"},
              vehicles=[{"plate": "EF-456-GH"}],
              seizure={"substances": [{"substance": "cannabis_herb", "quantity": "12", "unit": "kg"}]}),
        _lead("police", "P2", "2025-11-21T18:00:00+01:00", kind="citizen_report", channel="citizen_platform",
              handling_code="H0", location={**BESANCON, "address": "Place Cassin"}, phones=["+33611223344"]),
        _lead("gendarmerie", "G2", "2025-11-21T20:00:00+01:00", handling_code="H3",
              location={**PONTARLIER, "address": "Rue de la Gare"}, persons=[{"pseudonym": X, "role": "supplier"}]),
        # Week 46: older police lead on the customs car (an old link the new seizure joins).
        _lead("police", "P3", "2025-11-12T08:00:00+01:00", handling_code="H0",
              location={**MONTBELIARD, "address": "Rue de Belfort"}, vehicles=[{"plate": "EF-456-GH"}]),
        # Week 47 but Orne: another CROSS.
        _lead("police", "O1", "2025-11-19T08:00:00+01:00", handling_code="H0",
              location={"insee_code": "61001", "commune": "Alençon"}, vehicles=[{"plate": "AB-123-CD"}]),
        # Vosges, weeks 46 and 47: for the catch-up of skipped meetings.
        _lead("police", "E1", "2025-11-12T08:00:00+01:00", handling_code="H0", location=EPINAL),
        _lead("police", "E2", "2025-11-19T08:00:00+01:00", handling_code="H0", location=EPINAL),
    ]


@pytest.fixture(scope="module")
def world(driver, settings, graph):
    db = settings.neo4j_database
    reset_database(Graph(driver, db))
    leads = world_leads()
    results = write_leads(Graph(driver, db), leads)
    assert all(r.outcome == "created" for r in results)
    IDS.clear()
    IDS.update({f"{x.source_agency}:{x.source_ref}": r.lead_id for x, r in zip(leads, results, strict=True)})
    # What graph/workflow/ and graph/grants/ write, in their shapes (written by hand here so
    # this module tests the agenda, not the workflow).
    driver.execute_query(
        "MATCH (l:Lead {lead_id: $p3}) SET l.status = 'under_assessment' "
        "CREATE (:DisclosureRequest {request_id: 'DR-1', lead_id: $d1, owner_agency: 'douanes', "
        "  requester_user_id: 'police:analyst-test', status: 'requested', requested_at: datetime('2025-11-20T12:00:00Z')}) "
        "CREATE (:DisclosureRequest {request_id: 'DR-2', lead_id: $g2, owner_agency: 'gendarmerie', "
        "  requester_user_id: 'douanes:x', status: 'requested', requested_at: datetime('2025-11-21T12:00:00Z')}) "
        "CREATE (:DisclosureRequest {request_id: 'DR-3', lead_id: $p1, owner_agency: 'police', "
        "  requester_user_id: 'douanes:x', status: 'approved', requested_at: datetime('2025-11-21T12:00:00Z')}) "
        "CREATE (:DeconflictionAlert {alert_id: 'DC-1', opened_at: datetime('2025-11-20T08:00:00Z'), status: 'open', "
        "  agencies: ['police', 'douanes'], operation_ids: ['op-1', 'op-2']}) "
        "CREATE (:DeconflictionAlert {alert_id: 'DC-2', opened_at: datetime('2025-11-20T08:00:00Z'), status: 'closed', "
        "  agencies: ['police', 'gendarmerie']}) "
        "CREATE (:LinkAlert {alert_id: 'LA-1', entity_kind: 'vehicle', entity_key: 'vehicle:AB-123-CD', "
        "  agencies: ['police', 'gendarmerie'], created_at: datetime('2025-11-19T10:00:00Z')})",
        p3=IDS["police:P3"], d1=IDS["douanes:D1"], g2=IDS["gendarmerie:G2"], p1=IDS["police:P1"],
        database_=db)
    # Last week's meeting: this week's agenda covers exactly week 47.
    gm.ensure_meeting(graph, "25", "2025-W46", created_by="test")
    return driver


def agenda_for(graph, participant, access, week=W47, **kw):
    return gm.build_agenda(graph, gm.unsaved_meeting("25", week), participant, access,
                           now=datetime(2025, 11, 24, 8, tzinfo=UTC), **kw)


# --- weeks ---------------------------------------------------------------------------------------


def test_week_bounds_are_paris_calendar_weeks():
    start, end = gm.week_bounds(W47)
    assert start.isoformat() == "2025-11-17T00:00:00+01:00" and end.isoformat() == "2025-11-24T00:00:00+01:00"
    summer, _ = gm.week_bounds("2025-W27")
    assert summer.utcoffset().total_seconds() == 7200
    for bad in ("2025-47", "2025-W54", "", "2025-W4"):
        with pytest.raises(InvalidInput) as exc:
            gm.week_bounds(bad)
        assert exc.value.details[0]["field"] == "week"
    assert gm.iso_week_of(datetime(2025, 11, 23, 23, 30, tzinfo=UTC)) == "2025-W48"  # already Monday in Paris


# --- agenda sections -----------------------------------------------------------------------------


def test_new_leads_counts_respect_the_participant_policy(world, settings, graph):
    agenda, _ = agenda_for(graph, person("police"), analyst_filter("police"))
    s = agenda.new_leads
    # P1, P2 (own) + G1 (gendarmerie H1, redacted); D1 (H2) only a hit; G2 (H3) not even counted;
    # P3 is week 46; O1 is Orne.
    assert s.visible == 3
    assert s.by_agency == {"police": 2, "gendarmerie": 1}
    assert s.by_kind == {"field_intelligence": 1, "citizen_report": 1, "stop_check": 1}
    assert s.by_commune == {"25056": 3} and s.commune_names["25056"] == "Besançon"
    assert [(h.agency, h.lead_count, h.contact) for h in s.hits] == [("douanes", 1, CONTACTS["douanes"])]
    assert s.handling_code == "H2"  # strictest of what is counted (D1's hit included)


def test_cross_agency_links_show_hits_as_hits_and_hide_what_is_not_known(world, settings, graph):
    agenda, _ = agenda_for(graph, person("police"), analyst_filter("police"))
    links = {c.entity_id: c for c in agenda.cross_agency_links}
    assert set(links) == {"vehicle:AB-123-CD", "vehicle:EF-456-GH", "phone:+33611223344"}
    ab = links["vehicle:AB-123-CD"]
    assert names(r.lead_id for r in ab.leads) == {"police:P1", "gendarmerie:G1", "police:O1"}
    assert ab.agencies == ["gendarmerie", "police"] and ab.handling_code == "H1"
    assert ab.link_alert_id == "LA-1"
    ef = links["vehicle:EF-456-GH"]
    # The customs seizure is H2: a hit with whom to contact, the old police lead in full.
    assert [r.lead_id for r in ef.leads] == [IDS["police:P3"]]
    assert [(h.agency, h.lead_count) for h in ef.hits] == [("douanes", 1)]
    assert ef.handling_code == "H2" and ef.new_lead_count == 1
    # Person X: police P1 and gendarmerie G2 (H3) — for a police analyst G2 does not exist, so
    # there is no cross-agency link to show.
    assert f"person:{X}" not in links

    g_agenda, _ = agenda_for(graph, person("gendarmerie"), analyst_filter("gendarmerie"))
    g_links = {c.entity_id: c for c in g_agenda.cross_agency_links}
    assert g_links[f"person:{X}"].handling_code == "H3"
    assert names(r.lead_id for r in g_links[f"person:{X}"].leads) == {"police:P1", "gendarmerie:G2"}
    assert g_links[f"person:{X}"].label.startswith("Personne ") and X not in g_links[f"person:{X}"].label


def test_other_departement_leads_count_in_links_but_not_in_the_agenda(world, settings, graph):
    agenda, _ = agenda_for(graph, person("police"), analyst_filter("police"))
    ab = next(c for c in agenda.cross_agency_links if c.entity_id == "vehicle:AB-123-CD")
    # O1 (Orne) mentions the same plate: shown on the link (cross-département links matter)...
    assert ab.visible_count == 3 and IDS["police:O1"] in {r.lead_id for r in ab.leads}
    # ...but it is not a new lead of the Doubs.
    assert agenda.new_leads.by_commune.get("61001") is None


def test_disclosures_deconfliction_triage_hotspots_and_trend(world, settings, graph):
    agenda, _ = agenda_for(graph, person("police"), analyst_filter("police"))
    # DR-1 (on D1, a hit for the police) is shown; DR-2 (on G2, H3) is not; DR-3 is not pending.
    assert [(d.request_id, d.lead_access, d.handling_code) for d in agenda.pending_disclosures] == [("DR-1", "hit", "H2")]
    assert [a.alert_id for a in agenda.deconfliction_alerts] == ["DC-1"]
    assert agenda.deconfliction_alerts[0].handling_code == "H2"
    g_agenda, _ = agenda_for(graph, person("gendarmerie"), analyst_filter("gendarmerie"))
    assert g_agenda.deconfliction_alerts == []  # not a party to DC-1
    assert [d.request_id for d in g_agenda.pending_disclosures] == ["DR-1", "DR-2"]
    # Triage: P3 is under assessment; the rest of the readable Doubs leads wait.
    assert names(r.lead_id for r in agenda.triage.leads) == {"police:P1", "gendarmerie:G1", "police:P2"}
    assert agenda.triage.visible == 3 and [(h.agency, h.lead_count) for h in agenda.triage.hits] == [("douanes", 1)]
    # Besançon: 3 readable leads this week, none in the four weeks before.
    hot = {h.insee_code: h for h in agenda.hotspots}
    assert hot["25056"].direction == "nouveau" and hot["25056"].count == 3 and hot["25056"].commune == "Besançon"
    assert "25388" not in hot  # Montbéliard: 1 this week (P3 was last week)
    assert [p.week for p in agenda.trend][-2:] == ["2025-W46", "2025-W47"]
    assert (agenda.trend[-1].visible, agenda.trend[-1].hits) == (3, 1)
    assert (agenda.trend[-2].visible, agenda.trend[-2].hits) == (1, 0)


def test_week_graph_has_only_readable_leads(world, settings, graph):
    _, week = agenda_for(graph, person("police"), analyst_filter("police"))
    leads = names(n.key for n in week.nodes if n.kind == "lead")
    assert leads == {"police:P1", "gendarmerie:G1", "police:P2"}
    ids = {n.id for n in week.nodes}
    assert all(e.source in ids and e.target in ids for e in week.edges)
    assert "vehicle:AB-123-CD" in ids and "phone:+33611223344" in ids
    assert not any(n.id.startswith("location:commune:") for n in week.nodes)


# --- meetings and actions ------------------------------------------------------------------------


def test_actions_overdue_come_back_until_done(world, settings, graph):
    w45, created = gm.ensure_meeting(graph, "25", "2025-W46", created_by="test")
    assert not created and w45.meeting_id == "25-2025-W46"
    coordinator = coordinator_filter("police")
    late = gm.create_action(graph, w45.meeting_id, gm.NewAction(
        title="Surveillance du véhicule EF-456-GH", lead_agency="police", tasked="BAC de Montbéliard",
        deadline=date(2025, 11, 14), lead_ids=[IDS["police:P3"]]), coordinator, created_by="police:chef")
    due_now = gm.create_action(graph, w45.meeting_id, gm.NewAction(
        title="Point avec le bailleur", lead_agency="gendarmerie", tasked="BR de Besançon",
        deadline=date(2025, 11, 20)), coordinator, created_by="police:chef")
    later = gm.create_action(graph, w45.meeting_id, gm.NewAction(
        title="Bilan trimestriel", lead_agency="police", tasked="CROSS", deadline=date(2025, 12, 31)),
        coordinator, created_by="police:chef")
    secret = gm.create_action(graph, w45.meeting_id, gm.NewAction(
        title="Contrôle coordonné sur l'A36", lead_agency="douanes", tasked="brigade de Montbéliard",
        deadline=date(2025, 11, 13), lead_ids=[IDS["douanes:D1"]], handling_code="H0"), coordinator,
        created_by="police:chef")
    assert secret.handling_code == "H2"  # never less strict than its lead

    w47 = gm.ensure_meeting(graph, "25", "2025-W47", created_by="test")[0]
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    due = {a.action_id: a for a in agenda.actions_due}
    assert set(due) == {late.action_id, due_now.action_id, secret.action_id}
    assert later.action_id not in due
    assert due[late.action_id].overdue and not due[due_now.action_id].overdue
    assert due[late.action_id].title == "Surveillance du véhicule EF-456-GH" and due[late.action_id].week == "2025-W46"
    # About a lead the police analyst only knows as a hit: who, when and status, not what.
    assert due[secret.action_id].withheld and due[secret.action_id].title is None
    assert due[secret.action_id].lead_ids == [] and due[secret.action_id].overdue

    gm.update_action(graph, late.action_id, status="done")
    assert gm.get_action(graph, late.action_id).done_at is not None
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    assert late.action_id not in {a.action_id for a in agenda.actions_due}
    # Reopened: back on the agenda, done_at cleared.
    assert gm.update_action(graph, late.action_id, status="open").done_at is None
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    assert late.action_id in {a.action_id for a in agenda.actions_due}


def test_window_catches_up_skipped_meetings(world, settings, graph):
    w47 = gm.unsaved_meeting("88", W47)
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    assert agenda.window_start == gm.week_bounds(W47)[0] and agenda.new_leads.visible == 1
    created, _ = gm.ensure_meeting(graph, "88", "2025-W45", created_by="test")
    created = gm.get_meeting(graph, "88-2025-W45")
    assert created.week == "2025-W45" and created.created_by == "test"
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    # No week-46 meeting: new since the week-45 meeting's end, so E1 (week 46) is new too.
    assert agenda.window_start == gm.week_bounds("2025-W46")[0] and agenda.new_leads.visible == 2
    gm.ensure_meeting(graph, "88", "2025-W46", created_by="test")
    agenda, _ = gm.build_agenda(graph, w47, person("police"), analyst_filter("police"))
    assert agenda.new_leads.visible == 1


def test_create_action_refuses_what_its_author_cannot_read(world, settings, graph):
    db = settings.neo4j_database
    m, _ = gm.ensure_meeting(graph, "25", "2025-W40", created_by="test")
    with pytest.raises(InvalidInput) as exc:
        gm.create_action(graph, m.meeting_id, gm.NewAction(
            title="Exploiter la saisie", lead_agency="police", tasked="BAC", deadline=date(2025, 10, 3),
            lead_ids=[IDS["police:P1"], IDS["douanes:D1"]]), analyst_filter("police"), created_by="x")
    assert exc.value.details[0]["field"] == "lead_ids[1]"
    with pytest.raises(InvalidInput) as exc:
        gm.create_action(graph, m.meeting_id, gm.NewAction(
            title="x", lead_agency="police", tasked="BAC", deadline=date(2025, 9, 1)),
            analyst_filter("police"), created_by="x")
    assert exc.value.details[0]["field"] == "deadline"
    with pytest.raises(InvalidInput) as exc:
        gm.create_action(graph, m.meeting_id, gm.NewAction(
            title="x", lead_agency="police", tasked="BAC", deadline=date(2025, 10, 3),
            entity_ids=["vehicle:ZZ-999-ZZ"]), analyst_filter("police"), created_by="x")
    assert exc.value.details[0]["field"] == "entity_ids[0]"
    assert world.execute_query("MATCH (a:Action {meeting_id: $m}) RETURN count(a) AS n", m=m.meeting_id,
                               database_=db).records[0]["n"] == 0


# --- the brief -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def briefs(world, settings, graph):
    out = {}
    for agency in ("police", "gendarmerie"):
        b = hub_brief.build_brief(graph, gm.unsaved_meeting("25", W47), person(agency),
                                  analyst_filter(agency), now=datetime(2025, 11, 24, 8, tzinfo=UTC))
        out[agency] = (b, hub_brief.render_html(b))
    return out


def test_brief_html_is_french_with_the_expected_counts(briefs):
    brief, html = briefs["police"]
    for heading in ("Note de séance — CROSS 25", "1. Synthèse de la période", "2. Saisies de la semaine",
                    "3. Carte de la semaine", "4. Nouveaux liens inter-services",
                    "5. Hits en attente de communication", "6. Alertes de déconfliction ouvertes",
                    "7. Pistes en attente de tri", "8. Points chauds en mouvement", "9. Actions",
                    "10. Graphe de liens de la semaine", "Codes de traitement"):
        assert heading in html, heading
    assert '<html lang="fr">' in html
    assert "<b>3</b>nouvelles pistes consultables" in html
    assert "<b>1</b>hits d'autres services" in html
    assert "<b>3</b>liens inter-services" in html
    assert "Police nationale" in html and "Renseignement de terrain" in html
    assert "Exemplaire nominatif de analyst police" in html
    assert brief.handling_code == "H2" and "Diffusion restreinte — H2" in html
    assert "nouveau point chaud" in html and "Besançon" in html
    # Four summary charts, the seizure trend and the map, then the link chart's clusters.
    assert html.count('src="data:image/png;base64,') == 6 + len(brief.clusters)
    assert len(brief.clusters) == 1 and brief.clusters[0].lead_count == 3
    assert SECRET not in html  # narratives never go into a brief


def test_brief_pdf_pages_render(briefs, tmp_path):
    _, html = briefs["police"]
    pdf = hub_brief.render_pdf(html)
    assert pdf.startswith(b"%PDF-")
    doc = pypdfium2.PdfDocument(pdf)
    assert len(doc) >= 2
    image = doc[0].render(scale=1).to_pil()
    png = tmp_path / "page1.png"
    image.save(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    grey = image.convert("L")
    dark = sum(1 for px in grey.getdata() if px < 128)
    assert dark > 0.005 * grey.width * grey.height, "page 1 is blank"
    text = doc[0].get_textpage().get_text_range()
    assert "Note de séance" in text and "CROSS 25" in text


def test_two_participants_get_different_policy_correct_briefs(briefs):
    (p_brief, p_html), (g_brief, g_html) = briefs["police"], briefs["gendarmerie"]
    assert p_html != g_html
    # G2 (gendarmerie, H3): in the gendarmerie's copy, nowhere in the police's — not even counted.
    assert IDS["gendarmerie:G2"] in g_html and IDS["gendarmerie:G2"] not in p_html
    assert p_brief.agenda.new_leads.by_agency == {"police": 2, "gendarmerie": 1}
    assert g_brief.agenda.new_leads.by_agency == {"gendarmerie": 2, "police": 2}
    # D1 (customs, H2) is a hit for both: counted per agency with a contact, never listed as a lead.
    for b in (p_brief, g_brief):
        listed = {r.lead_id for c in b.agenda.cross_agency_links for r in c.leads} | {r.lead_id for r in b.agenda.triage.leads}
        assert IDS["douanes:D1"] not in listed
        assert [(h.agency, h.lead_count) for h in b.agenda.new_leads.hits] == [("douanes", 1)]
        assert CONTACTS["douanes"] in (p_html if b is p_brief else g_html)
    assert "Exemplaire nominatif de analyst gendarmerie" in g_html
    assert g_brief.handling_code == "H3" and p_brief.handling_code == "H2"


def test_briefs_with_the_real_policy_show_each_lead_as_the_engine_decides(world, settings, graph):
    """Participant copies built with the packaged policy (hub/access.py → policies.engine):
    each lead the agenda lists, hits or omits is exactly what ``decide`` says."""
    from hub.access import access_filter_for
    from policies.engine import decide
    from policies.loader import load_policy
    from policies.models import Caller, LeadMarking, Outcome

    db = settings.neo4j_database
    now = datetime(2025, 11, 24, 8, tzinfo=UTC)
    leads = {f"{x.source_agency}:{x.source_ref}": x for x in world_leads()}
    doubs_w47 = {"police:P1", "gendarmerie:G1", "douanes:D1", "police:P2", "gendarmerie:G2"}
    for agency in ("police", "gendarmerie", "douanes"):
        who = person(agency)
        access = access_filter_for(Graph(world, db), who, now, grants=[], policy=load_policy())
        agenda, week = agenda_for(graph, who, access)
        caller = Caller(user_id=who.user_id, name=who.name, agency=agency, role="analyst")
        outcome = {i: decide(caller, LeadMarking.from_lead(leads[i], lead_id=IDS[i]), load_policy(),
                             now=now).outcome
                   for i in doubs_w47}
        readable = {i for i, o in outcome.items() if o in (Outcome.FULL, Outcome.REDACTED)}
        hits = [i for i, o in outcome.items() if o is Outcome.HIT]
        assert names(n.key for n in week.nodes if n.kind == "lead") == readable, agency
        assert agenda.new_leads.visible == len(readable), agency
        assert sum(h.lead_count for h in agenda.new_leads.hits) == len(hits), agency


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(world, settings, tmp_path_factory):
    """The hub with the meetings and exports routers (until hub/app.py includes them), on its
    own data dir: its audit trail is this module's alone."""
    from fastapi.testclient import TestClient

    from hub.app import create_app

    own = settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("meetings-hub")})
    with TestClient(create_app(own)) as c:
        yield c, own


def test_api_meeting_agenda_actions_and_brief(world, api, make_user):
    client, hub_settings = api
    chief = make_user("police", "coordinator", name="chef-mtg")
    analyst = make_user("gendarmerie", "analyst", name="analyste-mtg")

    assert client.post("/api/v1/meetings", json={"departement": "25", "week": "2025-W48"}, headers=analyst).status_code == 403
    bad = client.post("/api/v1/meetings", json={"departement": "25", "week": "2025-W99"}, headers=chief)
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "body.week"
    created = client.post("/api/v1/meetings", json={"departement": "25", "week": W47}, headers=chief)
    assert created.status_code in (200, 201), created.text
    again = client.post("/api/v1/meetings", json={"departement": "25", "week": W47}, headers=chief)
    assert again.status_code == 200 and again.json()["meeting_id"] == "25-2025-W47"

    mid = "25-2025-W47"
    assert client.get(f"/api/v1/meetings/{mid}/agenda", headers=analyst).status_code == 400
    agenda = client.get(f"/api/v1/meetings/{mid}/agenda?justification=comite CROSS 25", headers=analyst)
    assert agenda.status_code == 200, agenda.text
    assert agenda.json()["participant_agency"] == "gendarmerie"

    action = client.post(f"/api/v1/meetings/{mid}/actions", headers=chief, json={
        "title": "Identifier le conducteur du véhicule", "lead_agency": "gendarmerie", "tasked": "BR de Besançon",
        "deadline": "2025-11-28", "lead_ids": [IDS["gendarmerie:G1"]], "entity_ids": ["vehicle:AB-123-CD"]})
    assert action.status_code == 201, action.text
    body = action.json()
    assert body["handling_code"] == "H1" and body["entity_ids"] == ["vehicle:AB-123-CD"]
    bad_action = client.post(f"/api/v1/meetings/{mid}/actions", headers=chief, json={
        "title": "Appeler le 06 12 34 56 78", "lead_agency": "police", "tasked": "BAC", "deadline": "2025-11-28"})
    assert bad_action.status_code == 422 and bad_action.json()["details"][0]["field"] == "body.title"

    aid = body["action_id"]
    other = make_user("douanes", "analyst", name="douane-mtg")
    assert client.patch(f"/api/v1/meetings/actions/{aid}", json={"status": "done"}, headers=other).status_code == 403
    done = client.patch(f"/api/v1/meetings/actions/{aid}", json={"status": "done"}, headers=analyst)
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_at"]
    assert client.patch(f"/api/v1/meetings/actions/{aid}", json={}, headers=analyst).status_code == 422

    pdf = client.get(f"/api/v1/meetings/{mid}/brief.pdf?justification=comite CROSS 25", headers=analyst)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pypdfium2.PdfDocument(pdf.content)) >= 1
    html = client.get(f"/api/v1/meetings/{mid}/brief.html?justification=comite CROSS 25", headers=analyst)
    assert html.status_code == 200 and "Identifier le conducteur du véhicule" in html.text
    assert client.get(f"/api/v1/meetings/{mid}/brief.pdf", headers=analyst).status_code == 400

    entries = query(hub_settings.audit_dir, AuditFilters(user_id="gendarmerie:analyste-mtg", limit=20))
    actions = [e.action for e in entries]
    assert actions.count("disclosure") == 2 and "consultation" in actions and "alteration" in actions
    disclosure = next(e for e in entries if e.action == "disclosure")
    assert disclosure.recipients == ["gendarmerie:analyste-mtg"]
    assert disclosure.justification == "comite CROSS 25" and "meeting:25-2025-W47" in disclosure.entity_keys
    assert IDS["gendarmerie:G1"] in disclosure.lead_ids


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_brief_writes_html_and_pdf_per_participant(world, settings, tmp_path, monkeypatch):
    from graph import identity
    from hub.cli import meetings as cli

    db = settings.neo4j_database
    user = identity.upsert_user(Graph(world, db), agency="police", role="analyst", name="cli-brief")
    # The participant's policy: the hand-built filter (hub.access.access_filter_for is what runs
    # in production; replaced here so this test checks the command, not the policy).
    fake = types.ModuleType("hub.access")
    fake.access_filter_for = lambda graph, principal, now=None, **_: analyst_filter(principal.agency)
    monkeypatch.setitem(sys.modules, "hub.access", fake)
    monkeypatch.setenv("CROSSHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEO4J_URI", settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_USER", settings.neo4j_user)
    monkeypatch.setenv("NEO4J_PASSWORD", settings.neo4j_password.get_secret_value())
    app = Typer()
    app.command("brief")(cli.brief)
    app.command("noop")(lambda: None)  # two commands, so `brief` stays a subcommand
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["brief", "--cross", "25", "--week", W47, "--as", user.user_id,
                                      "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    assert [p.name for p in pdfs] == ["brief-25-2025-W47-police_cli-brief.pdf"]
    assert pdfs[0].read_bytes().startswith(b"%PDF-") and (pdfs[0].stat().st_mode & 0o077) == 0
    assert "Note de séance" in pdfs[0].with_suffix(".html").read_text(encoding="utf-8")
    entries = query(tmp_path / "data" / "audit", AuditFilters(action="disclosure"))
    assert len(entries) == 1 and entries[0].recipients == [user.user_id]
    assert entries[0].actor.kind == "system" and entries[0].client_address == "cli"
    bad = CliRunner().invoke(app, ["brief", "--cross", "25", "--week", "2025-W60", "--out", str(out)])
    assert bad.exit_code == 1 and "semaine" in bad.output
