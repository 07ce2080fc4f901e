"""Watermarks (ADR 0026): a brief's PDF, an export and a chart image name their copy's
recipient, date, justification and strictest handling code; ``crosshub trace`` finds the
recipient back from the file (or from rows pasted elsewhere), refuses a forged or altered mark,
and records the trace in the trail.

The expected texts come from the rule: the recipient's name and agency label (hub/brief/labels),
the justification the test gave, today's date, and the handling code's French label for the
code the document declares (checked against the leads in tests/hub/test_exports.py)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import secrets
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime

import pypdfium2
import pytest
from typer.testing import CliRunner

from graph.handle import Graph
from graph.leads import write_leads
from hub.audit import AuditFilters, query
from hub.brief import render_pdf
from hub.brief.charts import _hbar
from hub.brief.labels import HANDLING_FR, agency_fr
from hub.cli import app
from hub.contract.lead import Lead
from hub.watermark import TOKEN_RE, Watermarker
from hub.watermark.images import mark_png, text_chunks
from hub.watermark.trace import texts_of, trace
from tests.factories import canary_tag, lead

GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def _dates(before: datetime) -> set[str]:
    # The mark's date is the request's (UTC): between ``before`` and now (a run across midnight).
    return {before.strftime("%d/%m/%Y"), datetime.now(UTC).strftime("%d/%m/%Y")}


def _pdf_pages(pdf: bytes) -> list[str]:
    doc = pypdfium2.PdfDocument(pdf)
    return [" ".join(page.get_textpage().get_text_range().split()) for page in doc]


def _letters(n: int = 2) -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTVWXYZ") for _ in range(n))


@pytest.fixture(scope="module")
def plate(driver, hub_settings) -> str:
    """One police lead (H1) on a plate of its own, for this module's exports."""
    value = f"{_letters()}-{secrets.randbelow(900) + 100}-{_letters()}"
    write_leads(Graph(driver, hub_settings.neo4j_database),
                [Lead(**lead(source_ref=f"wm-{canary_tag()}", vehicles=[{"plate": value}], handling_code="H1"))])
    return value


def _trace_cli(hub_settings, path, justification="enquête fuite 2026/4"):
    return CliRunner().invoke(app, ["trace", str(path), "-j", justification],
                              env={"CROSSHUB_DATA_DIR": str(hub_settings.data_dir), "COLUMNS": "200"})


def test_export_carries_the_mark_and_trace_names_the_recipient(client, make_user, hub_settings, plate, tmp_path):
    name = f"Élodie {canary_tag()}"
    headers = make_user("police", "analyst", name=name, second_factor=True)
    reason = f"enquête {canary_tag()} — réquisition"
    url = f"/api/v1/entities/vehicle/{plate}/export?justification={reason}&format="
    started = datetime.now(UTC)
    resp = client.get(url + "csv", headers=headers)
    assert resp.status_code == 200, resp.text
    code = resp.headers["x-handling-code"]
    assert code == "H1"  # the one lead's code
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    rows = list(csv.DictReader(io.StringIO(z.read("nodes.csv").decode("utf-8-sig"))))
    assert rows
    for row in rows:  # every row names its copy
        mark = row["marquage"]
        assert name in mark and agency_fr("police") in mark and reason in mark
        assert HANDLING_FR[code] in mark and any(d in mark for d in _dates(started))
    readme = z.read("LISEZMOI.txt").decode()
    assert name in readme and reason in readme and HANDLING_FR[code] in readme
    short = resp.headers["x-watermark-code"]
    assert short in rows[0]["marquage"]

    # The register: the export's disclosure entry holds the mark.
    entry = query(hub_settings.audit_dir, AuditFilters(entity_key=f"watermark:{short}"))[0]
    assert entry.action == "disclosure" and entry.justification == reason

    # crosshub trace on the zip: the recipient, in French, and the trace is itself in the trail.
    path = tmp_path / "export.zip"
    path.write_bytes(resp.content)
    result = _trace_cli(hub_settings, path)
    assert result.exit_code == 0, result.output
    assert "marque authentique" in result.output and name in result.output and reason in result.output
    traced = query(hub_settings.audit_dir, AuditFilters(action="consultation", entity_key=f"watermark:{short}"))
    assert traced and traced[0].justification == "enquête fuite 2026/4"
    assert traced[0].details["verdict"] == "authentic"

    # Two rows pasted elsewhere (no token, only the visible code) still name the copy.
    pasted = "\n".join(z.read("nodes.csv").decode("utf-8-sig").splitlines()[1:3]).encode()
    found = trace(pasted, hub_settings.keys_dir, hub_settings.audit_dir)
    assert found.verdict == "authentic" and found.authentic[0].issued.mark.name == name

    # GraphML: the graph's data carry the visible mark and the token.
    gm = client.get(url + "graphml", headers=headers)
    root = ET.fromstring(gm.content)
    keys = {k.get("id"): k.get("attr.name") for k in root.iter(f"{GRAPHML}key") if k.get("for") == "graph"}
    data = {keys[d.get("key")]: d.text for d in root.find(f"{GRAPHML}graph").findall(f"{GRAPHML}data")}
    assert name in data["marquage"] and reason in data["marquage"] and HANDLING_FR[code] in data["marquage"]
    found = trace(gm.content, hub_settings.keys_dir, hub_settings.audit_dir)
    assert found.verdict == "authentic" and found.authentic[0].issued.mark.name == name

    # The token altered to name someone else: refused as forged.
    token = TOKEN_RE.search(gm.content).group(0).decode()
    prefix, payload, mac = token.rsplit(".", 2)
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["name"] = "Quelqu'un d'autre"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    tampered = tmp_path / "altere.graphml"
    tampered.write_bytes(gm.content.replace(token.encode(), f"{prefix}.{forged}.{mac}".encode())
                         .replace(data["marquage"].split("code de traçage ")[1].encode(), b""))
    result = _trace_cli(hub_settings, tampered)
    assert result.exit_code == 1 and "FALSIFIÉE OU ALTÉRÉE" in result.output, result.output
    assert "Quelqu'un d'autre" not in result.output
    # A made-up visible code: unknown to the trail.
    made_up = trace("ligne copiée ; CRX-AAAA-BBBB-CCCC".encode(), hub_settings.keys_dir, hub_settings.audit_dir)
    assert made_up.verdict == "unknown_code"


def test_brief_pdf_and_its_figures_carry_the_mark(client, make_user, hub_settings):
    chief = make_user("police", "coordinator")
    name = f"Gaëlle {canary_tag()}"
    analyst = make_user("gendarmerie", "analyst", name=name)
    week = "2024-W11"
    created = client.post("/api/v1/meetings", json={"departement": "25", "week": week}, headers=chief)
    assert created.status_code in (200, 201), created.text
    mid = created.json()["meeting_id"]
    reason = f"comité CROSS {canary_tag()}"
    started = datetime.now(UTC)
    # One copy, fetched once: the HTML the hub prints to PDF (hub.brief.render_pdf) — the PDF
    # route prints exactly this, and building a second copy would double the test's time.
    resp = client.get(f"/api/v1/meetings/{mid}/brief.html?justification={reason}", headers=analyst)
    assert resp.status_code == 200, resp.text
    label = HANDLING_FR[resp.headers["x-handling-code"]]
    pdf = render_pdf(resp.text)
    pages = _pdf_pages(pdf)
    for text in pages:  # header, footer and diagonal mark on every page
        assert name in text and agency_fr("gendarmerie") in text and reason in text, text[:300]
        assert label in text and any(d in text for d in _dates(started))
    found = trace(pdf, hub_settings.keys_dir, hub_settings.audit_dir)
    assert found.verdict == "authentic" and found.authentic[0].registered
    assert found.authentic[0].issued.mark.name == name

    # Each figure of the copy is marked: its text chunks name the copy, with a token that
    # verifies for this recipient.
    images = [base64.b64decode(src.split(",", 1)[1]) for src in
              re.findall(r'src="(data:image/png;base64,[^"]+)"', resp.text)]
    assert images
    for png in images:
        chunks = text_chunks(png)
        assert name in chunks["Author"] and reason in chunks["Description"]
        assert trace(png, hub_settings.keys_dir, hub_settings.audit_dir).verdict == "authentic"


def test_a_chart_image_is_marked_in_its_pixels():
    issued = Watermarker(b"k" * 32).issue(document="brief", user_id="police:x", name="Jean Test",
                                          agency="police", justification="comité", handling_code="H2")
    plain = _hbar("Nouvelles pistes", ["a", "b"], [1, 2])
    marked = mark_png(plain, issued)
    from matplotlib.image import imread

    before, after = imread(io.BytesIO(plain)), imread(io.BytesIO(marked))
    assert after.shape[0] > before.shape[0] and after.shape[1] == before.shape[1]
    band = after[before.shape[0]:, :, :3]  # the band below the figure holds drawn text
    assert (band < 0.6).any()
    figure = after[:before.shape[0], :, :3]  # and the figure itself carries the faint diagonal
    assert (abs(figure - before[:, :, :3]) > 0.02).any()
    chunks = text_chunks(marked)
    assert issued.token == chunks["Comment"] and "Jean Test" in chunks["Description"]
    assert issued.token.encode() in b"".join(texts_of(marked))


def test_anx_and_ftm_carry_the_mark(tmp_path):
    from graph.models import Network, NetworkNode
    from hub.exports import ExportFormat, export
    from hub.watermark import watermarker

    issued = watermarker(tmp_path / "keys").issue(
        document="export.anx", user_id="douanes:x", name="Inès Test", agency="douanes",
        justification="contrôle 2026/9", handling_code="H2")
    net = Network(anchor="vehicle:AB-123-CD", depth=1, nodes=[
        NetworkNode(id="vehicle:AB-123-CD", kind="vehicle", key="AB-123-CD", label="AB-123-CD", properties={})],
        edges=[])
    anx = ET.fromstring(export(net, ExportFormat.ANX, issued).content)
    props = {p.get("Name"): p.get("Value") for p in anx.iter("CustomProperty")}
    assert "Inès Test" in props["Destinataire"] and props["Justification"] == "contrôle 2026/9"
    assert props["Code de traçage"] == issued.code
    ftm = [json.loads(line) for line in export(net, ExportFormat.FTM, issued).content.decode().splitlines()]
    note = ftm[0]
    assert note["schema"] == "Note" and "Inès Test" in note["properties"]["description"][0]
    assert HANDLING_FR["H2"] in note["properties"]["description"][0]
    for fmt in (ExportFormat.ANX, ExportFormat.FTM):
        found = trace(export(net, fmt, issued).content, tmp_path / "keys", tmp_path / "audit")
        # Authentic, but no disclosure recorded it: this copy never left through the hub.
        assert found.verdict == "authentic" and found.authentic[0].registered is None
