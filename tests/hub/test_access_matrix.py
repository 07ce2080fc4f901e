"""The API access matrix, against an oracle of its own.

What each caller may learn of a lead is written out below from the *meaning* of the policy
(policies/data/rules.yaml, its comments; docs/decisions/0002), not computed by policies/engine.py:
a test that asked the engine what to expect could never catch the engine (or its compilation
into Cypher) being wrong.

Every read endpoint — derived from ``app.routes``: each GET under /api/v1 taking a lead id or an
entity kind/key, plus search; anything else must be in ``EXEMPT`` with its reason, so a new
endpoint joins the sweep by itself or fails ``test_every_read_route_is_swept_or_exempt`` — is
called through the app's own ``create_app`` wiring for every caller × handling code ×
restriction, and the **raw response bytes** are searched:

* each lead carries unique canaries (narrative, source_ref, a plate, a phone, a person, an
  address, a seizure cash amount only in that lead; channel and evaluation codes on values no
  other lead in the graph uses), looked for raw, JSON-escaped, URL-encoded, XML-escaped and, for
  the amount, in every usual number formatting (8300317, 8300317.0, "8 300 317"…); a withheld
  field's canary must appear nowhere (body, headers, zip members);
* ``none`` must answer with the same status, the same headers but ``Date`` and a byte-identical
  body (once the key is substituted) as a key that never existed: an entity known only through
  leads the caller may not know of answers exactly like an unknown one.

The leads are written once per module through the ingest API (lead ids are taken from
``results[i].lead_id``, never built), every request is made once (``Matrix``), and each cell is
a test of its own whose id names endpoint × caller × code × restriction × expected outcome.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import json
import re
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from fastapi.testclient import TestClient

from graph import identity
from graph.driver import reset_database
from graph.handle import Graph
from hub.app import create_app
from hub.contract.normalize import normalize_phone
from hub.contract.signing import generate_keypair, key_id_of, load_public_key_pem
from hub.settings import Settings
from tests.conftest import REPORT
from tests.factories import pseudonym
from tests.hub.conftest import ConnectorClient
from tests.second_factor import stepped_up

# --- the oracle: written from rules.yaml's meaning --------------------------------------------

ORIGIN = "police"  # every lead of the matrix is a police lead
CODES = ("H0", "H1", "H2", "H3")
RESTRICTIONS = ("open", "restricted", "embargo")  # restricted: restricted_to = [douanes]

# caller -> (agency, role). No caller belongs to douanes, so "restricted" excludes every caller
# of another agency than police.
CALLERS: dict[str, tuple[str, str]] = {
    "analyst-own": ("police", "analyst"),
    "analyst-other": ("gendarmerie", "analyst"),
    "coordinator-own": ("police", "coordinator"),
    "coordinator-other": ("gendarmerie", "coordinator"),
    "guest-granted": ("prefecture", "guest_referent"),  # an active guest grant names every lead
    "guest-ungranted": ("prefecture", "guest_referent"),
    "auditor": ("police", "auditor"),
    "administrator": ("police", "administrator"),
}

FULL, HIT, NONE = "full", "hit", "none"
RED_ANALYST = "redacted-analyst"  # analyst-other-redacted-h0-h1: narrative, evaluation hidden
RED_GUEST = "redacted-guest"  # guest-grant-redacted: narrative, evaluation, source detail hidden
_ALL_NONE = {r: (NONE,) * 4 for r in RESTRICTIONS}

# caller -> restriction -> outcome for H0, H1, H2, H3
EXPECTED: dict[str, dict[str, tuple[str, str, str, str]]] = {
    # Originator control starts at home: own leads in full, whatever code, restriction, embargo.
    "analyst-own": {r: (FULL,) * 4 for r in RESTRICTIONS},
    "coordinator-own": {r: (FULL,) * 4 for r in RESTRICTIONS},
    # Other agencies' analysts: H0/H1 redacted, H2 hit, H3 nothing; restricted_to not naming
    # them caps at hit (H3 stays nothing); an embargo gives them nothing.
    "analyst-other": {"open": (RED_ANALYST, RED_ANALYST, HIT, NONE),
                      "restricted": (HIT, HIT, HIT, NONE),
                      "embargo": (NONE,) * 4},
    # The CROSS chief: H0-H2 in full, H3 only the hit; restricted_to caps at hit; embargo: none.
    "coordinator-other": {"open": (FULL, FULL, FULL, HIT),
                          "restricted": (HIT,) * 4,
                          "embargo": (NONE,) * 4},
    # Guests only through an active grant: H0/H1 redacted (narrative, evaluation, source detail
    # hidden), H2 hit, H3 nothing; the same caps as any other agency.
    "guest-granted": {"open": (RED_GUEST, RED_GUEST, HIT, NONE),
                      "restricted": (HIT, HIT, HIT, NONE),
                      "embargo": (NONE,) * 4},
    "guest-ungranted": _ALL_NONE,
    # Auditors and administrators never read lead content, not even their own agency's.
    "auditor": _ALL_NONE,
    "administrator": _ALL_NONE,
}

# What each outcome withholds, as canary names (see ``Canaries``). A hit or none withholds all.
ALL_FIELDS = ("narrative", "evaluation", "channel", "source_ref", "plate", "phone", "person",
              "address", "cash")
WITHHELD: dict[str, tuple[str, ...]] = {
    FULL: (),
    RED_ANALYST: ("narrative", "evaluation"),
    RED_GUEST: ("narrative", "evaluation", "channel", "source_ref"),
    HIT: ALL_FIELDS,
    NONE: ALL_FIELDS,
}

# --- the sweep: every read route, from app.routes ---------------------------------------------

# GET routes under /api/v1 that take neither a lead id nor an entity kind/key, and why they are
# not swept. A route neither swept nor listed here fails the test below.
EXEMPT: dict[str, str] = {
    "/api/v1/second-factor": "the caller's own second-factor state: no lead content",
    "/api/v1/auth/oidc/providers": "the configured identity providers (public): no lead content",
    "/api/v1/auth/refresh/page": "renews the browser's session, then redirects: no lead content",
    "/api/v1/connectors": "connector run records for administrators: no lead content",
    "/api/v1/audit": "the audit trail, auditors only (its lead_id is a filter on entries, not a lead "
                     "read); covered by the audit tests",
    "/api/v1/audit/integrity": "hash-chain check of the audit trail: no lead content",
    "/api/v1/dpd/weekly": "the DPD's weekly report of the audit trail, auditors only (audit.read): "
                          "names entries, people and entity keys, no lead content "
                          "(tests/hub/test_dpd.py)",
    "/api/v1/guest-grants": "grant records of the chief / the guest themselves, keyed by nothing",
    "/api/v1/disclosure-requests": "the caller's own requests and those addressed to their agency",
    "/api/v1/disclosure-requests/{request_id}": "one request and its thread, for its parties only "
                                                "(another agency: an unknown request's 404, "
                                                "tests/hub/test_graded_disclosure.py); no lead content",
    "/api/v1/disclosure-groups": "the property groups a holder may release (policy data): no lead "
                                 "content",
    "/api/v1/notifications": "the caller's own notifications",
    "/api/v1/federation/tickets": "the agency's federation tickets (peer, desk, deadline); the lead "
                                  "ids named are only those the caller may read "
                                  "(tests/hub/federation/test_service.py); no lead content",
    "/api/v1/admin/users": "accounts for administrators (sessions.revoke): no lead content",
    "/api/v1/admin/accounts": "accounts with their last use, administrators (accounts.manage): no "
                              "lead content (tests/hub/test_accounts.py)",
    "/api/v1/account-reviews/current": "the access review, the CROSS coordinator (accounts.review): "
                                      "accounts, roles and last use, no lead content",
    "/api/v1/notifications/stream": "the caller's own notifications, streamed (same visibility as "
                                    "/api/v1/notifications; tests/hub/test_notification_stream.py "
                                    "checks another agency's stream holds none of their bytes)",
    "/api/v1/analysis/map-config": "the basemap's configuration: no lead content",
    "/api/v1/analysis/map": "GeoJSON of what the caller may read, keyed by nothing: not yet a "
                            "Variant of this sweep; tests/hub/test_map_api.py checks that places "
                            "only H2/H3 leads assert are absent from its raw bytes",
    "/api/v1/analysis/hotspots": "counts per commune and place (places with one lead left out), no key",
    "/api/v1/meetings": "meetings of the caller's CROSS, keyed by nothing",
    "/api/v1/meetings/{meeting_id}/agenda": "keyed by a meeting; per-participant copies are tests/hub/test_meetings.py",
    "/api/v1/meetings/{meeting_id}/brief.html": "keyed by a meeting; per-participant copies are tests/hub/test_meetings.py",
    "/api/v1/meetings/{meeting_id}/brief.pdf": "keyed by a meeting; per-participant copies are tests/hub/test_meetings.py",
    "/api/v1/triage/queue": "a list of what the caller may read, keyed by nothing (tests/hub/test_workflow.py)",
    "/api/v1/stats/hit-rates": "counts per channel and connector, keyed by nothing",
    "/api/v1/link-alerts": "alerts on the caller's own agency's leads, keyed by nothing",
    "/api/v1/operations": "the caller's agency's planned operations",
    "/api/v1/deconfliction/alerts": "the caller's agency's deconfliction alerts",
    "/api/v1/watches": "the caller's own watches, keyed by nothing; each hit listed is the "
                       "notification as it was told (tests/hub/test_watches.py checks a hit "
                       "carries no lead id, narrative or source_ref, raw bytes)",
    "/api/v1/watch-delivery": "the caller's own outbound settings (webhook, e-mail): no lead "
                                "content",
    "/api/v1/resolution/candidates": "candidate pairs around the caller's own readable leads, keyed "
                                     "by nothing; a hit side carries no key (tests/hub/"
                                     "test_resolution.py, raw bytes)",
    "/api/v1/resolution/merges": "merges the caller's agency asked for or must countersign, each "
                                 "side at the caller's level (graph/resolution/sides.py)",
    "/api/v1/deconfliction/lead-alerts": "the caller's agency's lead-vs-operation alerts, keyed by "
                                          "nothing; each lead through the caller's access filter "
                                          "(tests/hub/test_lead_clashes.py, raw bytes)",
    "/api/v1/dossiers": "the caller's own dossiers (member), keyed by nothing; a dossier's code "
                        "decides read or hit (tests/hub/test_dossiers.py)",
    "/api/v1/dossiers/{dossier_id}": "keyed by a dossier the caller is a member of; each linked lead "
                                     "through the caller's access filter, a hit without its id, "
                                     "narrative or plate (tests/hub/test_dossiers.py, raw bytes)",
    "/api/v1/dossiers/{dossier_id}/eligible-members": "accounts a dossier's manager may add: no "
                                                      "lead content",
}

# Which roles a route admits at all (the router's own role gate, from its docstring); a caller
# outside it gets 403 whether the key exists or not — "none" for this matrix. Routes not listed
# admit any authenticated caller and leave the decision to the policy.
READERS = ("analyst", "coordinator", "guest_referent")
WORKERS = ("analyst", "coordinator")
ROLE_GATES: dict[str, tuple[str, ...]] = {
    "/api/v1/leads/{lead_id}/triage": WORKERS,
    "/api/v1/leads/{lead_id}/history": WORKERS,
    "/api/v1/entities/{kind}/{key}/timeline": READERS,
    "/api/v1/search": READERS,
    "/api/v1/analysis/paths": READERS,
    "/api/v1/analysis/copresence": READERS,
    "/api/v1/analysis/central": READERS,
}

JUSTIFICATION = "PV-2025-0042 matrice"


def _route_contexts(app) -> list[Any]:
    try:  # FastAPI >= 0.165 keeps included routers as such in app.routes
        from fastapi.routing import iter_route_contexts
        return list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI: app.routes is flat
        return list(app.routes)


def _read_routes() -> list[tuple[str, set[str]]]:
    """(path, parameter names of the endpoint) of every GET route under /api/v1."""
    app = create_app(Settings())  # nothing connects before the lifespan
    out = []
    for route in _route_contexts(app):
        path, methods = getattr(route, "path", None), getattr(route, "methods", None) or set()
        if not path or not path.startswith("/api/v1/") or "GET" not in methods:
            continue
        params = set(inspect.signature(route.endpoint).parameters)
        out.append((path, params))
    return sorted(out)


def _shape(path: str, params: set[str]) -> str | None:
    """How a route is keyed, hence how the sweep calls it (None: neither a lead nor an entity)."""
    if "{lead_id}" in path:
        return "lead"
    if "{kind}" in path and "{key}" in path:
        return "entity-path"
    if path == "/api/v1/search":
        return "search"
    if {"from_kind", "from_key", "to_kind", "to_key"} <= params:
        return "entity-pair"
    if {"kind", "key"} <= params:
        return "entity-query"
    if "location_key" in params:
        return "location"
    if params & {"lead_id", "lead_ids", "entity_key", "entity_keys"}:
        return "unknown-keyed"  # keyed by a lead/entity in a way this sweep cannot call yet
    return None


READ_ROUTES = _read_routes()


@dataclass(frozen=True)
class Variant:
    """One way of calling a swept route: ``name`` for test ids, ``build(anchors)`` → URL."""

    route: str
    name: str
    anchors: tuple[str, ...]  # which canary values key the request (substituted in "none")
    query: tuple[tuple[str, str], ...] = ()

    def url(self, values: dict[str, str]) -> str:
        path = self.route
        if "{lead_id}" in path:
            path = path.replace("{lead_id}", quote(values["lead_id"], safe=":"))
        if "{kind}" in path:
            path = path.replace("{kind}", "vehicle").replace("{key}", quote(values["plate"], safe=""))
        query = [(k, v.format(**values)) for k, v in self.query]
        return f"{path}?{urlencode([*query, ('justification', JUSTIFICATION)])}"


def _variants(path: str, shape: str) -> list[Variant]:
    if shape == "lead":
        return [Variant(path, path, ("lead_id",))]
    if shape == "entity-path":
        if path.endswith("/export"):
            return [Variant(path, f"{path}?format={f}", ("plate",), (("format", f), ("depth", "2")))
                    for f in ("csv", "graphml", "anx", "ftm")]
        extra = (("depth", "2"),) if path.endswith("/network") else ()
        return [Variant(path, path, ("plate",), extra)]
    if shape == "search":
        return [Variant(path, f"{path}?kind=plate", ("plate",), (("kind", "plate"), ("q", "{plate}"))),
                Variant(path, f"{path}?kind=phone", ("phone",), (("kind", "phone"), ("q", "{phone}"))),
                Variant(path, f"{path}?kind=text", ("token",), (("kind", "text"), ("q", "{token}")))]
    if shape == "entity-pair":
        return [Variant(path, path, ("plate", "phone"), (
            ("from_kind", "vehicle"), ("from_key", "{plate}"), ("to_kind", "phone"),
            ("to_key", "{phone}"), ("max_hops", "2")))]
    if shape == "entity-query":
        return [Variant(path, path, ("plate",), (("kind", "vehicle"), ("key", "{plate}")))]
    if shape == "location":
        return [Variant(path, path, ("location_key",), (
            ("location_key", "{location_key}"), ("since", "2025-07-01T00:00:00+02:00"),
            ("until", "2025-08-01T00:00:00+02:00")))]
    raise AssertionError(f"{path}: keyed by a lead or entity, but the sweep has no way to call it")


VARIANTS: list[Variant] = [v for path, params in READ_ROUTES
                           if (shape := _shape(path, params)) not in (None, "unknown-keyed")
                           for v in _variants(path, shape)]


def test_every_read_route_is_swept_or_exempt():
    swept = {v.route for v in VARIANTS}
    problems = []
    for path, params in READ_ROUTES:
        shape = _shape(path, params)
        if shape == "unknown-keyed" and path not in EXEMPT:
            problems.append(f"{path}: keyed by a lead/entity, add a Variant for it")
        elif shape is None and path not in EXEMPT:
            problems.append(f"{path}: neither swept nor in EXEMPT (say why it is not a lead read)")
        elif shape not in (None, "unknown-keyed") and path in EXEMPT:
            problems.append(f"{path}: in EXEMPT but keyed by a lead or entity — sweep it")
    stale = set(EXEMPT) - {p for p, _ in READ_ROUTES}
    problems += [f"{p}: in EXEMPT but no longer a route" for p in sorted(stale)]
    assert not problems, "\n".join(problems)
    # The sweep covers at least the reads the README names.
    assert {"/api/v1/leads/{lead_id}", "/api/v1/entities/{kind}/{key}/network",
            "/api/v1/entities/{kind}/{key}/timeline", "/api/v1/entities/{kind}/{key}/export",
            "/api/v1/search"} <= swept, swept


# --- canaries ---------------------------------------------------------------------------------


def _cash(i: int) -> int:
    return 8_300_317 + 1_000 * i


@dataclass
class Canaries:
    """The unique values of lead number ``i``."""

    i: int
    lead_id: str = ""
    location_key: str = ""

    @property
    def tag(self) -> str:
        return f"{self.i:02d}"

    @property
    def token(self) -> str:
        return f"NARR{self.tag}Z"

    @property
    def narrative(self) -> str:
        return f"Récit canari {self.token} : guetteur « hall » rue Canari"

    @property
    def source_ref(self) -> str:
        return f"SRCREF{self.tag}Q"

    @property
    def plate(self) -> str:
        return f"CX-1{self.tag}-VZ"

    @property
    def phone(self) -> str:
        return normalize_phone(f"06 12 34 56 {self.tag}")

    @property
    def person(self) -> str:
        return pseudonym(f"Canari{self.tag}", "Matrice")

    @property
    def address(self) -> str:
        return f"{self.i + 1:02d} rue Canari ADDR{self.tag}W"

    def values(self) -> dict[str, str]:
        return {"lead_id": self.lead_id, "plate": self.plate, "phone": self.phone,
                "token": self.token, "location_key": self.location_key}

    def needles(self, name: str) -> list[bytes]:
        """Byte patterns whose presence means field ``name`` of this lead is in a response."""
        if name == "narrative":
            return _forms(self.narrative) + _forms(self.token)
        if name == "source_ref":
            return _forms(self.source_ref)
        if name == "plate":
            return _forms(self.plate) + _forms(self.plate.replace("-", ""))
        if name == "phone":
            national = "0" + self.phone.removeprefix("+33")
            return _forms(self.phone) + _forms(national) + _forms(" ".join(
                national[k:k + 2] for k in range(0, 10, 2)))
        if name == "person":
            return _forms(self.person) + _forms(self.person.split(":")[-1][:8])
        if name == "address":
            return _forms(f"ADDR{self.tag}W")
        if name == "cash":
            return _number_forms(_cash(self.i))
        if name == "channel":
            return _forms("informant")  # no other lead in the graph has this channel
        raise KeyError(name)


def _forms(s: str) -> list[bytes]:
    """``s`` raw, JSON-escaped (ASCII and not), URL-encoded, XML-escaped, all lowercased (the
    haystack is lowercased too: keys are folded in places)."""
    out = {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1], quote(s, safe=""),
           quote(s), quote_plus(s), html.escape(s), html.escape(s, quote=False)}
    return sorted({f.lower().encode() for f in out if f})


def _number_forms(n: int) -> list[bytes]:
    grouped = f"{n:,}"
    texts = {str(n), f"{n}.0", f"{n}.00", f"{n:.6e}", f"{n:.6E}", grouped,
             grouped.replace(",", "."), grouped.replace(",", " "), grouped.replace(",", "\u00a0"),
             grouped.replace(",", "\u202f"), f"{n},00", f"{n},0"}
    return sorted({b for t in texts for b in _forms(t)})


# Evaluation codes are A..X / 1..4: matched next to their field name, whatever the format
# (JSON, CSV-with-JSON, GraphML once key ids are named, ANX attributes). The matrix leads are
# the only ones rated A/1.
_EVALUATION = [
    re.compile(rb"source_reliability[^a-z0-9]{0,12}(?:value=[^a-z0-9]{0,3})?a(?![a-z0-9])"),
    re.compile(rb"information_credibility[^a-z0-9]{0,12}(?:value=[^a-z0-9]{0,3})?1(?![0-9])"),
]


def _haystack(resp) -> bytes:
    """Everything the response carries, lowercased: headers but Date, body, and the members of
    a zip; GraphML ``<data key="dN">`` named after its ``<key attr.name>``."""
    parts = [f"{k}: {v}".encode() for k, v in resp.headers.items() if k.lower() != "date"]
    body = resp.content
    parts.append(body)
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            parts += [z.read(n) for n in z.namelist()]
    text = b"\n".join(parts)
    for key_id, name in re.findall(rb'<key[^>]*\bid="([^"]+)"[^>]*\battr\.name="([^"]+)"', text):
        text = text.replace(b'key="' + key_id + b'"', b'key="' + name + b'"')
    return text.lower()


def _substitute(data: bytes, pairs: list[tuple[str, str]]) -> bytes:
    """Replace each ``old`` by ``new`` in every form ``_forms`` knows (case kept)."""
    for old, new in pairs:
        if old == new:
            continue
        variants = [(old, new), (json.dumps(old)[1:-1], json.dumps(new)[1:-1]),
                    (quote(old, safe=""), quote(new, safe="")), (quote(old), quote(new)),
                    (quote_plus(old), quote_plus(new)), (html.escape(old), html.escape(new)),
                    ("".join(c if c.isalnum() or c in "-_" else "_" for c in old),
                     "".join(c if c.isalnum() or c in "-_" else "_" for c in new))]
        for o, n in variants:
            data = data.replace(o.encode(), n.encode())
    return data


def _never_existing(value: str) -> str:
    """A key of the same shape and length that no lead carries: its last (up to 4) digits
    shifted by 5 (letters rotated when it has no digit)."""
    chars = list(value)
    digits = [k for k, c in enumerate(chars) if c.isdigit()][-4:]
    if digits:
        for k in digits:
            chars[k] = str((int(chars[k]) + 5) % 10)
    else:
        for k in [k for k, c in enumerate(chars) if c.isalpha()][-4:]:
            base = "a" if chars[k].islower() else "A"
            chars[k] = chr((ord(chars[k]) - ord(base) + 13) % 26 + ord(base))
    return "".join(chars)


# --- the world: leads through the ingest API, callers, a guest grant --------------------------

LEADS = [(code, restriction) for restriction in RESTRICTIONS for code in CODES]


def _payload(c: Canaries, code: str, restriction: str) -> dict[str, Any]:
    observed = datetime(2025, 7, 28, 19, 40, tzinfo=UTC) + timedelta(minutes=7 * c.i)
    out: dict[str, Any] = {
        "source_agency": ORIGIN, "source_ref": c.source_ref, "version": 1, "kind": "seizure",
        "channel": "informant", "observed_at": observed.isoformat(),
        "reported_at": (observed + timedelta(hours=10)).isoformat(),
        "location": {"insee_code": "25056", "commune": "Besançon", "address": c.address},
        "vehicles": [{"plate": c.plate, "make": "Peugeot"}],
        "phones": [c.phone],
        "persons": [{"pseudonym": c.person, "role": "seller"}],
        "seizure": {"cash_eur": str(_cash(c.i)), "substances": [
            {"substance": "cocaine", "quantity": "12", "unit": "g"}]},
        "narrative": c.narrative, "handling_code": code,
        "source_reliability": "A", "information_credibility": "1",
    }
    if restriction == "restricted":
        out["restricted_to"] = ["douanes"]
    if restriction == "embargo":
        out["embargo_until"] = "2099-01-01T00:00:00+00:00"
    return out


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    content: bytes
    url: str

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


@dataclass
class Matrix:
    client: TestClient
    canaries: list[Canaries]
    headers: dict[str, dict[str, str]]
    twin: Any  # _Twin: never-existing keys of the same shape
    responses: dict[tuple[str, str, int], Response] = field(default_factory=dict)
    unknown: dict[tuple[str, str], Response] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    def get(self, url: str, caller: str) -> Response:
        self.requests += 1
        try:
            r = self.client.get(url, headers=self.headers[caller])
        except Exception as exc:  # noqa: BLE001 - a server error: that cell fails, not the matrix
            return Response(500, {}, f"server exception: {type(exc).__name__}: {exc}".encode(), url)
        return Response(r.status_code, dict(r.headers), r.content, url)

    def response(self, variant: Variant, caller: str, i: int) -> Response:
        key = (variant.name, caller, i)
        if key not in self.responses:
            self.responses[key] = self.get(variant.url(self.canaries[i].values()), caller)
        return self.responses[key]

    def unknown_response(self, variant: Variant, caller: str) -> Response:
        key = (variant.name, caller)
        if key not in self.unknown:
            self.unknown[key] = self.get(variant.url(self.twin.values()), caller)
        return self.unknown[key]


def _wait_for_triage(driver, deadline_s: float = 30.0) -> None:
    stop = time.monotonic() + deadline_s
    while driver.execute_query("MATCH (l:TriagePending) RETURN count(l) AS n").records[0]["n"]:
        assert time.monotonic() < stop, "the triage worker did not drain"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def matrix(client, driver, hub_settings: Settings, tmp_path_factory) -> Matrix:
    db = hub_settings.neo4j_database
    reset_database(Graph(driver, db))
    run = uuid.uuid4().hex[:6]

    # A police connector, as tests/hub/conftest.py's make_connector builds one (module scope).
    name = f"police-matrix-{run}"
    conn_user = identity.upsert_user(Graph(driver, db), agency=ORIGIN, role="connector", name=name)
    key_path = Path(tmp_path_factory.mktemp("matrix-keys")) / f"{name}.pem"
    pem = generate_keypair(key_path)
    identity.register_connector_key(Graph(driver, db), identity.ConnectorKey(
        key_id=key_id_of(load_public_key_pem(pem)), connector=name, agency=ORIGIN,
        public_key_pem=pem))
    connector = ConnectorClient(client=client, token=identity.issue_token(
        Graph(driver, db), conn_user.user_id).token, key_path=key_path, agency=ORIGIN, name=name)

    canaries = [Canaries(i) for i in range(len(LEADS))]
    resp = connector.push([_payload(c, code, restriction)
                           for c, (code, restriction) in zip(canaries, LEADS, strict=True)])
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * len(LEADS), results
    for c, r in zip(canaries, results, strict=True):
        c.lead_id = r["lead_id"]
    _wait_for_triage(driver)
    keys = dict(driver.execute_query(
        "MATCH (l:Lead)-[:AT]->(loc:Location) RETURN l.lead_id AS id, loc.key AS key").records)
    for c in canaries:
        c.location_key = keys[c.lead_id]

    headers: dict[str, dict[str, str]] = {}
    for caller, (agency, role) in CALLERS.items():
        user = identity.upsert_user(Graph(driver, db), agency=agency, role=role,
                                    name=f"matrix-{caller}-{run}", contact=f"Permanence CROSS — {agency}")
        # A person's session with a fresh second factor (exports need one): tests/second_factor.py.
        headers[caller] = stepped_up(client, user.user_id)
        if caller == "guest-granted":
            guest_id = user.user_id
    # The guest grant, through the API, by the CROSS chief (police: may know of every lead).
    grant = client.post("/api/v1/guest-grants", headers=headers["coordinator-own"], json={
        "grantee_user_id": guest_id, "lead_ids": [c.lead_id for c in canaries],
        "valid_until": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "reason": "CROSS non permanente — matrice d'accès"})
    assert grant.status_code == 201, grant.text

    # Never-existing keys of the same shape and length as lead 0's, so a substituted body is
    # comparable byte for byte.
    first = canaries[0].values()
    twin = _Twin({k: _never_existing(v) for k, v in first.items()})
    real = {v for c in canaries for v in c.values().values()}
    assert not set(twin.values().values()) & real
    m = Matrix(client=client, canaries=canaries, headers=headers, twin=twin)
    # Every request once, up front (the cells only look their answers up).
    t0 = time.perf_counter()
    for variant, caller, i in CELLS:
        m.response(variant, caller, i)
        m.unknown_response(variant, caller)
    m.seconds = time.perf_counter() - t0
    return m


class _Twin:
    """The never-existing keys."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def values(self) -> dict[str, str]:
        return dict(self._values)


# --- the cells ----------------------------------------------------------------------------------


def _outcome(variant: Variant, caller: str, code: str, restriction: str) -> str:
    """The oracle's outcome for this endpoint: the policy's, but "none" when the route's role
    gate refuses the caller (403 whether the key exists or not), and for a full-text search
    "none" unless the narrative may be read (searching a withheld text would reveal it)."""
    outcome = EXPECTED[caller][restriction][CODES.index(code)]
    gate = ROLE_GATES.get(variant.route)
    if gate is not None and CALLERS[caller][1] not in gate:
        return NONE
    if "token" in variant.anchors and "narrative" in WITHHELD[outcome]:
        return NONE
    return outcome


CELLS = [(v, caller, i) for v in VARIANTS for caller in CALLERS for i in range(len(LEADS))]


def _cell_id(cell) -> str:
    v, caller, i = cell
    code, restriction = LEADS[i]
    return f"{v.name} | {caller} | {code} | {restriction} -> {_outcome(v, caller, code, restriction)}"


@pytest.mark.parametrize("cell", CELLS, ids=[_cell_id(c) for c in CELLS])
def test_cell(matrix: Matrix, cell):
    variant, caller, i = cell
    code, restriction = LEADS[i]
    expected = _outcome(variant, caller, code, restriction)
    c = matrix.canaries[i]
    resp = matrix.response(variant, caller, i)
    assert resp.status < 500, (resp.status, resp.text[:500])
    # The request's own keys are what the caller typed: taken out before looking for leaks.
    anchors = [(c.values()[a], f"«ANCHOR-{a}»") for a in variant.anchors]
    hay = _substitute(_haystack(resp), [(o.lower(), n.lower()) for o, n in anchors])
    anchor_fields = {"plate" if "plate" in variant.anchors else None,
                     "phone" if "phone" in variant.anchors else None,
                     "address" if "location_key" in variant.anchors else None,
                     "narrative" if "token" in variant.anchors else None}
    leaks = []
    for name in WITHHELD[expected]:
        if name in anchor_fields:
            continue
        if name == "evaluation":
            found = [p.pattern for p in _EVALUATION if p.search(hay)]
        else:
            found = [n for n in c.needles(name) if n in hay]
        if found:
            leaks.append(f"{name}: {found[:3]}")
    assert not leaks, (f"withheld fields in the response ({resp.status} {resp.url}):\n  "
                       + "\n  ".join(leaks) + f"\n{resp.text[:800]}")

    unknown = matrix.unknown_response(variant, caller)
    pairs = [(matrix.twin.values()[a], c.values()[a]) for a in variant.anchors]
    if expected == NONE:
        # Exactly like a key that never existed: status, headers but Date, body.
        def headers_of(r: Response, subst: bool) -> dict[str, str]:
            out = {k.lower(): v for k, v in r.headers.items() if k.lower() not in ("date", "content-length")}
            if subst:
                out = {k: _substitute(v.encode(), pairs).decode() for k, v in out.items()}
            return out

        assert resp.status == unknown.status, (
            f"answers {resp.status} where a never-existing key answers {unknown.status}: "
            f"{resp.text[:400]}")
        assert headers_of(resp, False) == headers_of(unknown, True)
        assert resp.content == _substitute(unknown.content, pairs), (
            f"body differs from a never-existing key's:\n  got     {resp.text[:400]}\n"
            f"  unknown {_substitute(unknown.content, pairs).decode(errors='replace')[:400]}")
        return
    # Not "none": the caller learns at least that something exists, on the reads that show it.
    if variant.route in ("/api/v1/leads/{lead_id}", "/api/v1/entities/{kind}/{key}/network"):
        assert (resp.status, resp.content) != (unknown.status, _substitute(unknown.content, pairs))
        assert resp.status == 200, resp.text[:400]
    if variant.route == "/api/v1/leads/{lead_id}":
        body = json.loads(resp.content)
        if expected == HIT:
            assert set(body) == {"entity", "agency", "lead_count", "contact", "handle"}, body
            assert body["agency"] == ORIGIN and body["lead_count"] == 1 and body["contact"]
            _assert_handle_reveals_nothing(matrix, variant, caller, i, body["handle"])
        else:
            # The canaries are detectable: every field the outcome does not withhold is there.
            shown = [n for n in ALL_FIELDS if n not in WITHHELD[expected]]
            raw = _haystack(resp)
            missing = [n for n in shown if n != "evaluation" and not any(x in raw for x in c.needles(n))]
            if "evaluation" in shown and not all(p.search(raw) for p in _EVALUATION):
                missing.append("evaluation")
            assert not missing, f"fields the caller may read are missing: {missing}\n{resp.text[:600]}"
            assert body["access"] == ("full" if expected == FULL else "redacted")


def _handle_bytes(handle: str) -> bytes:
    body = handle.removeprefix("hit_")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _assert_handle_reveals_nothing(matrix: Matrix, variant: Variant, caller: str, i: int,
                                   handle: str) -> None:
    """A hit's handle (ADR 0007) names the lead to its owner only: neither the lead id nor the
    source reference in it, in clear or once base64-decoded; the same handle for every caller of
    one agency, a different one for another agency's (handles never link across agencies)."""
    c = matrix.canaries[i]
    assert handle.startswith("hit_"), handle
    secrets_ = [c.lead_id, c.lead_id.removeprefix("L-"), c.source_ref]
    decoded = _handle_bytes(handle)
    for value in secrets_:
        assert value.lower() not in handle.lower(), (value, handle)
        assert value.encode().lower() not in decoded.lower(), (value, handle)
    code, restriction = LEADS[i]
    agency = CALLERS[caller][0]
    for other, (other_agency, _) in CALLERS.items():
        if other == caller or _outcome(variant, other, code, restriction) != HIT:
            continue
        theirs = json.loads(matrix.response(variant, other, i).content)["handle"]
        if other_agency == agency:
            assert theirs == handle, f"{caller} and {other} ({agency}) see different handles"
        else:
            assert theirs != handle, f"{caller} ({agency}) and {other} ({other_agency}) share a handle"


def test_matrix_size(matrix: Matrix, record_property):
    """Printed in the run's summary: how many cells and requests the sweep made (in this worker)."""
    line = (f"access matrix: {len(CELLS)} cells, {len(VARIANTS)} endpoint variants over "
            f"{len({v.route for v in VARIANTS})} routes, {len(CALLERS)} callers, {len(LEADS)} leads; "
            f"{matrix.requests} requests in {matrix.seconds:.0f} s")
    print(line)
    record_property(REPORT, line)
