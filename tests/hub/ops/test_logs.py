"""The hub's logs (hub/ops/logs.py): JSON lines with no plate, phone or pseudonym in them —
neither in what the hub's code logs while serving real traffic, nor in what a library or an
exception's text would carry. The identifiers come from the test's own traffic; each is looked
for in every spelling in the raw lines."""

from __future__ import annotations

import io
import json
import logging
import random
import uuid

import pytest

from hub.ops.logs import JsonFormatter, TextFormatter, scrub
from tests.factories import lead

J = {"justification": "Vérification journalisation PV 2026/78"}


@pytest.mark.parametrize(("text", "kept"), [
    # identifiers: masked whatever the writing
    ("véhicule AB-123-CD vu", ["véhicule", "vu"]),
    ("ab123cd", []),
    ("plaque FNI 1234 AB 25", ["plaque FNI"]),
    ("GET /api/v1/entities/vehicle/EF456GH/network", ["GET /api/v1/entities/vehicle/"]),
    ("clé phone:+33612345678 et plate:FR:AB123CD", ["clé", "et"]),
    ("joindre le 06 12 34 56 78 ou +33 6 12 34 56 78", ["joindre le", "ou"]),
    ("personne ps1:k2:" + "ab" * 32, ["personne"]),
    ("mail jean.dupont@gmail.com depuis 192.168.1.10", ["mail", "depuis"]),
])
def test_scrub_masks_identifiers(text, kept):
    out = scrub(text)
    for part in kept:
        assert part in out
    for secret in ("AB-123-CD", "ab123cd", "1234 AB 25", "EF456GH", "+33612345678", "AB123CD",
                   "06 12 34 56 78", "+33 6 12 34 56 78", "ab" * 32, "jean.dupont", "192.168.1.10"):
        assert secret not in out


@pytest.mark.parametrize("text", [
    "GET /api/v1/entities/{kind}/{key}/network 200 12.3 ms",
    "piste L-910912a6-d593-47aa-9997-4ad5167e061e triée à 2026-12-07T10:00:00+00:00",
    "commune 25056 Besançon, CROSS cross-25, 1,2 kg, 8 300 €, 21h30",
    "connecteur police-main : ok in=12 out=11 quarantined=1 pushed=11 pending=0",
])
def test_scrub_leaves_what_is_not_an_identifier(text):
    assert scrub(text) == text


def _siv() -> str:
    letters, rnd = "ABCDEFGHJKLMNPQRSTVWXYZ", random.Random(uuid.uuid4().int)
    return f"{''.join(rnd.choices(letters, k=2))}-{rnd.randint(100, 999)}-{''.join(rnd.choices(letters, k=2))}"


def test_no_log_line_of_real_traffic_holds_a_plate_phone_or_pseudonym(client, make_user, make_connector):
    plate, phone = _siv(), f"+3367{random.randint(1000000, 9999999)}"
    pseudonym = f"ps1:k1:{uuid.uuid4().hex}{uuid.uuid4().hex}"
    national = "0" + phone[3:]
    spellings = {plate, plate.replace("-", ""), plate.lower(), plate.replace("-", " "), phone,
                 national, " ".join(national[i:i + 2] for i in range(0, 10, 2)), pseudonym,
                 pseudonym.split(":")[2]}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        analyst = make_user("gendarmerie", "analyst")
        pusher = make_connector("gendarmerie")
        acked = pusher.push([lead(source_agency="gendarmerie", vehicles=[{"plate": plate}],
                                  phones=[phone], persons=[{"pseudonym": pseudonym}])])
        assert acked.status_code == 200 and acked.json()["accepted"] == 1
        assert client.get("/api/v1/search", params={"kind": "plate", "q": plate, **J},
                          headers=analyst).status_code == 200
        client.get(f"/api/v1/entities/vehicle/{plate.replace('-', '')}/network", params=J, headers=analyst)
        client.get(f"/api/v1/entities/phone/{phone}/network", params=J, headers=analyst)
        client.get(f"/api/v1/nulle-part/{plate}", headers=analyst)  # an unknown path naming it
        # What a library or a careless line could write: a message and an exception quoting them.
        noisy = logging.getLogger("crosshub.test-noise")
        noisy.warning("échec sur %s / %s / %s", plate, phone, pseudonym)
        try:
            raise ValueError(f"valeur refusée : {plate} {national}")
        except ValueError:
            noisy.exception("exception en traitant la piste")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = stream.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r["logger"] == "crosshub.access" and r.get("route") == "/api/v1/search" for r in records)
    assert any("[plaque]" in r["message"] for r in records if r["logger"] == "crosshub.test-noise")
    assert any("[plaque]" in r.get("exception", "") for r in records)
    raw = stream.getvalue()
    for spelling in spellings:
        assert spelling not in raw, spelling


def test_the_text_format_masks_too():
    record = logging.LogRecord("crosshub", logging.INFO, __file__, 1, "vu %s", ("AB-123-CD",), None)
    assert "AB-123-CD" not in TextFormatter().format(record) and "[plaque]" in TextFormatter().format(record)
