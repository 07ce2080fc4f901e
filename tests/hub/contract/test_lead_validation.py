"""Every validation error path of the canonical lead names its exact field and a French reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.contract.lead import Lead
from hub.contract.validation import item_errors
from tests.factories import lead, pseudonym

BAD = [
    ({"source_agency": "fbi"}, "x.source_agency", "vocabulaire"),
    ({"source_ref": ""}, "x.source_ref", "court"),
    ({"source_ref": "a b"}, "x.source_ref", "format"),
    ({"version": 0}, "x.version", "petite"),
    ({"kind": "rumour"}, "x.kind", "vocabulaire"),
    ({"reported_at": "2025-07-29T08:00:00"}, "x.reported_at", "fuseau"),
    ({"reported_at": "hier"}, "x.reported_at", "illisible"),
    ({"observed_at": "2025-07-30T08:00:00+02:00"}, "x", "postérieur"),
    ({"location": {"insee_code": "2505", "commune": "Besançon"}}, "x.location.insee_code", "INSEE"),
    ({"location": {"insee_code": "25056", "commune": "Besançon", "point": {"lat": 51.5, "lon": -0.12}}},
     "x.location.point", "hors du territoire"),
    ({"location": {"insee_code": "25056", "commune": "Besançon", "point": {"lat": 95, "lon": 0}}},
     "x.location.point.lat", "grande"),
    ({"vehicles": [{"plate": "AB-000-CD"}]}, "x.vehicles[0].plate", "000"),
    ({"vehicles": [{"colour": "rouge"}]}, "x.vehicles[0]", "au moins"),
    ({"phones": ["0612"]}, "x.phones[0]", "téléphone"),
    ({"phones": ["0612345678", "+33612345678"]}, "x", "double"),
    ({"persons": [{"pseudonym": "Jean Dupont"}]}, "x.persons[0].pseudonym", "pseudonyme"),
    ({"persons": [{"pseudonym": pseudonym("A"), "role": "boss"}]}, "x.persons[0].role", "vocabulaire"),
    ({"persons": [{"pseudonym": pseudonym("A"), "description": {"apparent_age_min": 40, "apparent_age_max": 20}}]},
     "x.persons[0].description", "âge"),
    ({"persons": [{"pseudonym": pseudonym("A"), "description": {"clothing": "tél 0612345678"}}]},
     "x.persons[0].description.clothing", "non assaini"),
    ({"substances": ["chocolate"]}, "x.substances[0]", "vocabulaire"),
    ({"kind": "seizure"}, "x", "seizure"),
    ({"kind": "citizen_report", "seizure": {"cash_eur": "10"}}, "x", "saisie"),
    ({"kind": "seizure", "seizure": {}}, "x.seizure", "au moins"),
    ({"kind": "seizure", "seizure": {"substances": [{"substance": "cocaine", "quantity": "-1"}]}},
     "x.seizure.substances[0]", "positive"),
    ({"kind": "seizure", "seizure": {"substances": [{"substance": "cocaine", "quantity": "3", "unit": "lb"}]}},
     "x.seizure.substances[0]", "unité"),
    ({"kind": "seizure", "seizure": {"cash_eur": "-5"}}, "x.seizure.cash_eur", "petite"),
    ({"narrative": "IBAN FR76 3000 6000 0112 3456 7890 189"}, "x.narrative", "IBAN"),
    ({"narrative": "depuis 192.168.1.20"}, "x.narrative", "IP"),
    ({"handling_code": "H9"}, "x.handling_code", "vocabulaire"),
    ({"source_reliability": "D"}, "x.source_reliability", "vocabulaire"),
    ({"restricted_to": ["cia"]}, "x.restricted_to[0]", "vocabulaire"),
    ({"reporter_phone": "0612345678"}, "x.reporter_phone", "non autorisé"),
    ({"deal_point": {"insee_code": "xx", "label": "hall"}}, "x.deal_point.insee_code", "INSEE"),
]


@pytest.mark.parametrize("override,field,reason", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_each_error_names_field_and_reason(override, field, reason):
    with pytest.raises(ValidationError) as info:
        Lead.model_validate(lead(**override))
    errors = item_errors(info.value, "x")
    assert any(e.field == field and reason.lower() in e.reason.lower() for e in errors), errors


def test_overseas_points_are_in_france():
    ok = lead(location={"insee_code": "97411", "commune": "Saint-Denis", "point": {"lat": -20.88, "lon": 55.45}})
    assert Lead.model_validate(ok).location.departement == "974"


def test_corsica_insee_codes():
    ok = lead(location={"insee_code": "2a004", "commune": "Ajaccio"})
    assert Lead.model_validate(ok).location.insee_code == "2A004"
